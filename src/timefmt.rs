//! Timestamps as they are stored and shown (RFC 3339 in UTC) and calendar days
//! as people write them.

use jiff::civil::Date;
use jiff::Timestamp;
use std::time::SystemTime;

/// A system time (a file's mtime, say) as RFC 3339 in UTC, to the nanosecond.
pub fn rfc3339(t: SystemTime) -> String {
    Timestamp::try_from(t)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

/// Parse an RFC 3339 timestamp (any offset).
pub fn parse(s: &str) -> Option<Timestamp> {
    s.trim().parse().ok()
}

/// A text that is no calendar day, said so with how a day is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a date like 2026-12-01 or 01.12.2026")]
pub struct NotADay(pub String);

/// [`parse_date`], saying what is wrong.
pub fn day(s: &str) -> Result<Date, NotADay> {
    parse_date(s).ok_or_else(|| NotADay(s.to_string()))
}

/// A calendar day written `YYYY-MM-DD` or `DD.MM.YYYY` (`D.M.YYYY` too), as
/// German users and the specialist software write it.
pub fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let number = |part: &str, min: usize, max: usize| {
        (part.len() >= min && part.len() <= max && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<i16>().ok())
            .flatten()
    };
    let (year, month, day) = if let Some((y, rest)) = s.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        (number(y, 4, 4)?, number(m, 2, 2)?, number(d, 2, 2)?)
    } else {
        let (d, rest) = s.split_once('.')?;
        let (m, y) = rest.split_once('.')?;
        (number(y, 4, 4)?, number(m, 1, 2)?, number(d, 1, 2)?)
    };
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// A day as German users read it: `01.12.2026`.
pub fn german_day(day: Date) -> String {
    format!("{:02}.{:02}.{:04}", day.day(), day.month(), day.year())
}

/// An instant as German users read it, in German local time:
/// `01.12.2026, 09:05 Uhr`.
pub fn german_time(at: Timestamp) -> String {
    let local = at.to_zoned(crate::clock::german_zone().clone());
    format!(
        "{}, {:02}:{:02} Uhr",
        german_day(local.date()),
        local.hour(),
        local.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn both_date_spellings() {
        assert_eq!(parse_date("2026-11-27"), Some(date(2026, 11, 27)));
        assert_eq!(parse_date("27.11.2026"), Some(date(2026, 11, 27)));
        assert_eq!(parse_date("4.3.1980"), Some(date(1980, 3, 4)));
        assert_eq!(parse_date("31.02.2026"), None);
        assert_eq!(parse_date("morgen"), None);
        assert_eq!(parse_date("2026-1-2"), None);
        assert_eq!(parse_date("+2026-11-27"), None);
        assert_eq!(
            day("morgen").unwrap_err().to_string(),
            "\"morgen\" is not a date like 2026-12-01 or 01.12.2026"
        );
        assert_eq!(german_day(date(2026, 12, 1)), "01.12.2026");
        let winter = parse("2026-12-01T08:05:00Z").unwrap();
        assert_eq!(german_time(winter), "01.12.2026, 09:05 Uhr");
        let summer = parse("2026-07-01T22:30:00Z").unwrap();
        assert_eq!(german_time(summer), "02.07.2026, 00:30 Uhr");
    }

    #[test]
    fn stored_timestamps_keep_nanoseconds_and_read_any_offset() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::new(1_796_000_000, 276_757_960);
        assert_eq!(rfc3339(t), "2026-11-30T00:53:20.27675796Z");
        assert_eq!(
            parse("2026-11-27T06:00:00+01:00"),
            parse("2026-11-27T05:00:00Z")
        );
        assert_eq!(parse("gestern"), None);
    }
}
