//! The value rules every request field is held to, in one place for both
//! services: which characters an identifier or a name may hold, which dates
//! a request may ask about, and the range of a number. Each check answers
//! with the description of what is wrong (the caller names the field).
//!
//! | Rule | Accepted |
//! |------|----------|
//! | identifier (request id, SKU, line id, entry id, license reference, regime) | no control character (C0, DEL, C1), no bidi control (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), no zero-width character (U+200B–U+200D, U+2060, U+FEFF) |
//! | name (party names and aliases, addresses, manufacturer, model) | no control character, no bidi control; zero-width characters may stay (screening's normaliser drops them) |
//! | description (free text) | as a name, but line feed, carriage return and tab may stay |
//! | date | `YYYY-MM-DD` from [`EARLIEST_DATE`] (1900-01-01) to [`LATEST_DATE`] (2100-12-31) |
//! | number | finite, from its minimum (0 unless stated) to a stated maximum |

use time::{Date, Month};

/// The earliest date a request may name: before any export-control list.
pub const EARLIEST_DATE: Date = match Date::from_calendar_date(1900, Month::January, 1) {
    Ok(d) => d,
    Err(_) => panic!("valid date"),
};

/// The latest date a request may name: far enough ahead for any planned
/// shipment, near enough that no pack pretends to know the rules then.
pub const LATEST_DATE: Date = match Date::from_calendar_date(2100, Month::December, 31) {
    Ok(d) => d,
    Err(_) => panic!("valid date"),
};

/// Whether `c` is a bidirectional-text control: the Arabic letter mark
/// (U+061C), left-to-right and right-to-left marks (U+200E, U+200F), the
/// embeddings and overrides (U+202A–U+202E) and the isolates (U+2066–U+2069).
/// They reorder how text is shown, so a logged or displayed value can read
/// differently from what it is.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` is a zero-width character: zero-width space, non-joiner and
/// joiner (U+200B–U+200D), word joiner (U+2060), byte-order mark (U+FEFF).
pub fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Whether `c` must be escaped or refused wherever text is shown or logged:
/// a control character (C0, DEL, C1) or a bidi control.
pub fn is_hostile(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

fn describe(c: char) -> String {
    let what = if c.is_control() {
        "a control character"
    } else if is_bidi_control(c) {
        "a bidirectional-text control"
    } else {
        "a zero-width character"
    };
    format!("contains {what} (U+{:04X})", u32::from(c))
}

/// An identifier: no control, bidi control or zero-width character.
pub fn identifier(value: &str) -> Result<(), String> {
    match value.chars().find(|&c| is_hostile(c) || is_zero_width(c)) {
        Some(c) => Err(describe(c)),
        None => Ok(()),
    }
}

/// A name (of a party, a manufacturer): no control or bidi control
/// character; zero-width characters may stay.
pub fn name(value: &str) -> Result<(), String> {
    match value.chars().find(|&c| is_hostile(c)) {
        Some(c) => Err(describe(c)),
        None => Ok(()),
    }
}

/// Free text (a description): as [`name`], but line breaks and tabs may stay.
pub fn free_text(value: &str) -> Result<(), String> {
    match value
        .chars()
        .find(|&c| is_hostile(c) && !matches!(c, '\n' | '\r' | '\t'))
    {
        Some(c) => Err(describe(c)),
        None => Ok(()),
    }
}

/// A date within [`EARLIEST_DATE`]..=[`LATEST_DATE`].
pub fn date(value: Date) -> Result<Date, String> {
    if value < EARLIEST_DATE || value > LATEST_DATE {
        return Err(format!(
            "{} is outside {}..{}, the dates a request may name",
            crate::dates::format(value),
            crate::dates::format(EARLIEST_DATE),
            crate::dates::format(LATEST_DATE)
        ));
    }
    Ok(value)
}

/// A request's date: `YYYY-MM-DD` within the window; empty means today.
pub fn date_or_today(text: &str) -> Result<Date, String> {
    crate::dates::parse_or_today(text).and_then(date)
}

/// A request's date: `YYYY-MM-DD` within the window.
pub fn date_text(text: &str) -> Result<Date, String> {
    crate::dates::parse(text).and_then(date)
}

/// The accepted range of a number, and its unit for messages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
    pub unit: &'static str,
}

impl Range {
    /// From 0 to `max` `unit`.
    pub const fn up_to(max: f64, unit: &'static str) -> Self {
        Self {
            min: 0.0,
            max,
            unit,
        }
    }
}

/// A share in percent: 0 to 100.
pub const PERCENT: Range = Range::up_to(100.0, "%");

/// A number: finite, within `min..=max` (`unit` names what it counts).
pub fn number(value: f64, min: f64, max: f64, unit: &str) -> Result<f64, String> {
    if !value.is_finite() {
        return Err(format!("must be a finite number, got {value}"));
    }
    if value < min || value > max {
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        return Err(format!(
            "must be between {min} and {max}{unit}, got {value}"
        ));
    }
    Ok(value)
}

/// A number within a [`Range`].
pub fn in_range(value: f64, range: Range) -> Result<f64, String> {
    number(value, range.min, range.max, range.unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_refuse_controls_bidi_and_zero_width() {
        assert!(identifier("order-2024/17 ü 注文").is_ok());
        for bad in [
            "a\nb",
            "a\rb",
            "a\u{0}b",
            "a\u{7F}b",
            "a\u{85}b",
            "a\u{9B}b",
            "a\u{202E}b",
            "a\u{202A}b",
            "a\u{2066}b",
            "a\u{2069}b",
            "a\u{200E}b",
            "a\u{200F}b",
            "a\u{061C}b",
            "a\u{200B}b",
            "a\u{FEFF}b",
        ] {
            let e = identifier(bad).unwrap_err();
            assert!(e.contains("U+"), "{e}");
        }
        assert!(identifier("a\u{202E}b").unwrap_err().contains("U+202E"));
    }

    #[test]
    fn names_keep_zero_width_but_not_controls() {
        assert!(name("Acme\u{200B} Corp").is_ok());
        assert!(name("Acme\u{202E} Corp").is_err());
        assert!(name("Acme\n Corp").is_err());
        assert!(free_text("line one\nline two\tend").is_ok());
        assert!(free_text("line\u{202E}").is_err());
        assert!(free_text("bell\u{7}").is_err());
    }

    #[test]
    fn dates_stay_within_the_window() {
        for ok in ["1900-01-01", "2024-02-29", "2100-12-31"] {
            assert!(date_text(ok).is_ok(), "{ok}");
        }
        for bad in ["9999-12-31", "2101-01-01", "1899-12-31", "0001-01-01"] {
            let e = date_text(bad).unwrap_err();
            assert!(e.contains("1900-01-01..2100-12-31"), "{e}");
        }
        assert!(date_or_today("").is_ok());
    }

    #[test]
    fn numbers_are_finite_and_bounded() {
        assert_eq!(in_range(5.0, PERCENT), Ok(5.0));
        assert!(in_range(100.0, PERCENT).is_ok());
        for bad in [f64::NAN, f64::INFINITY, -1.0, 100.5, 1e308] {
            assert!(in_range(bad, PERCENT).is_err(), "{bad}");
        }
        assert!(number(-0.0, 0.0, 1.0, "").is_ok());
    }
}
