//! Timestamps as they are stored and shown (RFC 3339 in UTC), and calendar days
//! as the jobcenter counts them (German local time).

use std::time::SystemTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, Month, OffsetDateTime, Weekday};

/// Format a system time as RFC 3339 (UTC, second precision is kept as given).
pub fn rfc3339(t: SystemTime) -> String {
    OffsetDateTime::from(t)
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

/// The current time as RFC 3339.
pub fn now() -> String {
    rfc3339(SystemTime::now())
}

/// Parse an RFC 3339 timestamp back into an `OffsetDateTime`.
pub fn parse(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// A calendar day written `YYYY-MM-DD` or `DD.MM.YYYY` (as German users and the
/// specialist software write it).
pub fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    Date::parse(s, format_description!("[year]-[month]-[day]"))
        .or_else(|_| Date::parse(s, format_description!("[day].[month].[year]")))
        .or_else(|_| {
            Date::parse(
                s,
                format_description!("[day padding:none].[month padding:none].[year]"),
            )
        })
        .ok()
}

/// Today in Germany (CET/CEST): absences and resubmission dates are German days.
pub fn today() -> Date {
    german_date(OffsetDateTime::now_utc())
}

/// The German calendar day of a UTC instant. Summer time (CEST, UTC+2) runs from
/// 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of
/// October; otherwise CET (UTC+1).
pub fn german_date(utc: OffsetDateTime) -> Date {
    let year = utc.year();
    let switch = |month: Month| {
        let last =
            Date::from_calendar_date(year, month, 31).expect("March and October have 31 days");
        let back = last.weekday().number_days_from_sunday() as i64;
        let sunday = last - Duration::days(back);
        debug_assert_eq!(sunday.weekday(), Weekday::Sunday);
        sunday.with_hms(1, 0, 0).expect("valid time").assume_utc()
    };
    let summer = utc >= switch(Month::March) && utc < switch(Month::October);
    (utc + Duration::hours(if summer { 2 } else { 1 })).date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn both_date_spellings() {
        assert_eq!(parse_date("2026-11-27"), Some(date!(2026 - 11 - 27)));
        assert_eq!(parse_date("27.11.2026"), Some(date!(2026 - 11 - 27)));
        assert_eq!(parse_date("4.3.1980"), Some(date!(1980 - 03 - 04)));
        assert_eq!(parse_date("31.02.2026"), None);
        assert_eq!(parse_date("morgen"), None);
    }

    #[test]
    fn german_days_change_at_german_midnight() {
        assert_eq!(
            german_date(datetime!(2026-11-26 23:30 UTC)),
            date!(2026 - 11 - 27)
        );
        assert_eq!(
            german_date(datetime!(2026-07-01 21:59 UTC)),
            date!(2026 - 07 - 01)
        );
        assert_eq!(
            german_date(datetime!(2026-07-01 22:00 UTC)),
            date!(2026 - 07 - 02)
        );
        // 2026-03-29 is the last Sunday of March.
        assert_eq!(
            german_date(datetime!(2026-03-29 00:30 UTC)),
            date!(2026 - 03 - 29)
        );
    }
}
