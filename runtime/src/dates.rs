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

/// Formats a date as `YYYY-MM-DD`.
pub fn format(date: Date) -> String {
    date.format(ISO_DATE).unwrap_or_else(|_| date.to_string())
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
