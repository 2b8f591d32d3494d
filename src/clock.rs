//! What time it is, and which German calendar day.
//!
//! Every "now" and "today" of eakte comes from here: stored timestamps
//! (RFC 3339, UTC), and the German calendar day (Europe/Berlin, from the IANA
//! time zone database: the system's, or the copy built into eakte) that
//! absences, resubmissions (Wiedervorlage) and receipt days are counted in.
//!
//! For tests of date-driven behaviour (a Wiedervorlage reappearing on its day,
//! an absence ending) the clock can be set with `EAKTE_TEST_CLOCK=<RFC 3339
//! time>`: the process then starts at that time and runs on from there. Only
//! debug builds (the ones `cargo test` runs) honour it, and `eakte serve` says
//! so loudly in its log; a release build, as installed, ignores it (and warns),
//! so that nobody can backdate the audit trail with an environment variable.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::sync::OnceLock;

/// The environment variable that sets the clock (tests only).
pub const TEST_CLOCK_VAR: &str = "EAKTE_TEST_CLOCK";

/// How far the test clock is ahead of the real one (zero without it).
fn offset() -> SignedDuration {
    static OFFSET: OnceLock<SignedDuration> = OnceLock::new();
    *OFFSET.get_or_init(|| {
        if !cfg!(debug_assertions) {
            return SignedDuration::ZERO;
        }
        std::env::var(TEST_CLOCK_VAR)
            .ok()
            .and_then(|set| set.trim().parse::<Timestamp>().ok())
            .map_or(SignedDuration::ZERO, |set| {
                set.duration_since(Timestamp::now())
            })
    })
}

/// Whether the clock was set for a test (see the module comment).
pub fn is_set_for_test() -> bool {
    !offset().is_zero()
}

/// Whether the test clock was asked for but is ignored (a release build).
pub fn is_ignored_setting() -> bool {
    !cfg!(debug_assertions) && std::env::var_os(TEST_CLOCK_VAR).is_some()
}

/// The current time.
pub fn now() -> Timestamp {
    Timestamp::now()
        .checked_add(offset())
        .unwrap_or_else(|_| Timestamp::now())
}

/// The current time as stored: RFC 3339 in UTC.
pub fn now_rfc3339() -> String {
    now().to_string()
}

/// Today in Germany.
pub fn today() -> Date {
    german_date(now())
}

/// The jobcenter's time zone.
pub fn german_zone() -> &'static TimeZone {
    static ZONE: OnceLock<TimeZone> = OnceLock::new();
    ZONE.get_or_init(|| {
        TimeZone::get("Europe/Berlin")
            .expect("the time zone database built into eakte has Europe/Berlin")
    })
}

/// The German calendar day of an instant.
pub fn german_date(at: Timestamp) -> Date {
    at.to_zoned(german_zone().clone()).date()
}

/// A bound of a search by receipt day: the German midnight that starts
/// `day`, or with `end` the one that ends it.
pub fn receipt_bound(day: Date, end: bool) -> Timestamp {
    let day = if end {
        day.tomorrow().unwrap_or(day)
    } else {
        day
    };
    german_midnight(day)
}

/// The first instant of a German calendar day.
pub fn german_midnight(day: Date) -> Timestamp {
    day.to_zoned(german_zone().clone())
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn german_days_change_at_german_midnight() {
        assert_eq!(german_date(at("2026-11-26T23:30:00Z")), date(2026, 11, 27));
        assert_eq!(german_date(at("2026-07-01T21:59:00Z")), date(2026, 7, 1));
        assert_eq!(german_date(at("2026-07-01T22:00:00Z")), date(2026, 7, 2));
        // 2026-03-29 is the last Sunday of March: summer time from 01:00 UTC.
        assert_eq!(german_date(at("2026-03-29T00:30:00Z")), date(2026, 3, 29));
        assert_eq!(german_date(at("2026-03-28T23:30:00Z")), date(2026, 3, 29));
        assert_eq!(german_date(at("2026-03-29T22:30:00Z")), date(2026, 3, 30));
        assert_eq!(
            german_midnight(date(2026, 12, 1)),
            at("2026-11-30T23:00:00Z")
        );
        assert_eq!(
            german_midnight(date(2026, 7, 1)),
            at("2026-06-30T22:00:00Z")
        );
    }

    #[test]
    fn days_far_from_today_follow_the_rules_of_their_time() {
        // Before 1980 West Germany kept no summer time: midnight was 23:00 UTC.
        assert_eq!(german_date(at("1979-07-01T22:30:00Z")), date(1979, 7, 1));
        assert_eq!(german_date(at("1979-07-01T23:30:00Z")), date(1979, 7, 2));
        // Far ahead, the rule in force continues.
        assert_eq!(german_date(at("2090-07-01T22:00:00Z")), date(2090, 7, 2));
    }
}
