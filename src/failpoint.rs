//! Crash injection for the crash-safety tests.
//!
//! Setting `EAKTE_CRASH_AT=<name>` makes the process abort (like `kill -9`: no
//! destructors, no flushes) the first time it passes the failpoint of that name.
//! Names are listed in [`POINTS`] with the way in that passes them. This is
//! compiled into release builds on purpose: the tests exercise the real binary,
//! and an unset variable costs one cached lookup.

use std::sync::OnceLock;

/// Which way a document comes in when it passes a failpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// A new scan through the inbox.
    Scan,
    /// A scan whose bytes are stored already.
    Duplicate,
    /// An e-mail with an attachment filed over the API.
    Upload,
    /// An Akte taken over from another authority (an xdomea package).
    Import,
    /// A stack with separator sheets, cut into letters.
    Batch,
}

/// Every failpoint, in the order a document passes them on its way.
pub const POINTS: &[(&str, Way)] = &[
    ("after-claim", Way::Scan),
    ("during-extract", Way::Scan),
    ("after-blob", Way::Scan),
    ("after-store", Way::Scan),
    ("after-index-commit", Way::Scan),
    ("before-finish", Way::Scan),
    ("after-finish", Way::Scan),
    ("before-duplicate-store", Way::Duplicate),
    ("after-duplicate-store", Way::Duplicate),
    ("after-upload-blobs", Way::Upload),
    ("after-upload-store", Way::Upload),
    ("after-import-blobs", Way::Import),
    ("after-import-store", Way::Import),
    ("during-batch-cut", Way::Batch),
    ("after-batch-blobs", Way::Batch),
    ("after-batch-store", Way::Batch),
];

fn armed() -> Option<&'static str> {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    ARMED
        .get_or_init(|| std::env::var("EAKTE_CRASH_AT").ok())
        .as_deref()
}

/// Abort the process here if the failpoint `name` is armed.
pub fn hit(name: &str) {
    debug_assert!(
        POINTS.iter().any(|(point, _)| *point == name),
        "unknown failpoint {name}"
    );
    if armed() == Some(name) {
        eprintln!("eakte: failpoint {name} hit, aborting");
        std::process::abort();
    }
}
