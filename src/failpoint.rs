//! Crash injection for the crash-safety tests.
//!
//! Setting `EAKTE_CRASH_AT=<name>` makes the process abort (like `kill -9`: no
//! destructors, no flushes) the first time it passes the failpoint of that name.
//! Names are listed in [`POINTS`]. This is compiled into release builds on purpose:
//! the tests exercise the real binary, and an unset variable costs one cached lookup.

use std::sync::OnceLock;

/// Every failpoint the pipeline passes, in pipeline order.
pub const POINTS: &[&str] = &[
    "after-claim",
    "during-extract",
    "after-blob",
    "after-store",
    "after-index-commit",
    "before-finish",
    "after-finish",
];

fn armed() -> Option<&'static str> {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    ARMED
        .get_or_init(|| std::env::var("EAKTE_CRASH_AT").ok())
        .as_deref()
}

/// Abort the process here if the failpoint `name` is armed.
pub fn hit(name: &str) {
    debug_assert!(POINTS.contains(&name), "unknown failpoint {name}");
    if armed() == Some(name) {
        eprintln!("eakte: failpoint {name} hit, aborting");
        std::process::abort();
    }
}
