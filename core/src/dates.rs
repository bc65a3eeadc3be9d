//! Calendar dates as the contracts carry them: ISO `YYYY-MM-DD`, UTC.

use time::{
    Date, OffsetDateTime, format_description::BorrowedFormatItem, macros::format_description,
};

const ISO_DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// Parses a strict `YYYY-MM-DD` date.
pub fn parse(text: &str) -> Result<Date, String> {
    if text.len() != 10 {
        return Err(format!(
            "`{}` is not a date in YYYY-MM-DD form",
            truncate(text)
        ));
    }
    Date::parse(text, ISO_DATE)
        .map_err(|_| format!("`{text}` is not a valid calendar date in YYYY-MM-DD form"))
}

/// Today in UTC: the meaning of an empty `as_of`.
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// Parses an optional date where empty means today (UTC).
pub fn parse_or_today(text: &str) -> Result<Date, String> {
    if text.is_empty() {
        Ok(today())
    } else {
        parse(text)
    }
}

/// Formats a date as `YYYY-MM-DD` (on every response, so without the
/// general formatting machinery for years 0..=9999).
pub fn format(date: Date) -> String {
    let year = date.year();
    if !(0..=9999).contains(&year) {
        return date.format(ISO_DATE).unwrap_or_else(|_| date.to_string());
    }
    let (y, m, d) = (year as u32, u8::from(date.month()), date.day());
    let digit = |n: u32| char::from(b'0' + (n % 10) as u8);
    let mut s = String::with_capacity(10);
    s.extend([digit(y / 1000), digit(y / 100), digit(y / 10), digit(y)]);
    s.push('-');
    s.extend([digit(u32::from(m) / 10), digit(u32::from(m))]);
    s.push('-');
    s.extend([digit(u32::from(d) / 10), digit(u32::from(d))]);
    s
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_what_it_parses() {
        for text in [
            "2019-07-04",
            "2023-10-17",
            "0001-01-01",
            "9999-12-31",
            "2024-02-29",
        ] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
        let mut d = parse("1999-12-25").unwrap();
        for _ in 0..800 {
            assert_eq!(format(d), d.format(ISO_DATE).unwrap());
            d = d.next_day().unwrap();
        }
    }

    #[test]
    fn parses_iso_dates_and_rejects_others() {
        assert_eq!(format(parse("2023-07-21").unwrap()), "2023-07-21");
        for bad in [
            "2023-7-21",
            "2023-02-30",
            "21-07-2023",
            "2023-07-21T00:00",
            "",
            "yesterday",
        ] {
            assert!(parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn empty_means_today() {
        assert_eq!(parse_or_today("").unwrap(), today());
    }
}
