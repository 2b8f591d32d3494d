//! What the daemon knows about its own condition, for `/healthz` and the logs.
//!
//! The one condition tracked so far: whether the store can be written. When the
//! disk is (nearly) full or the file system went read-only, eakte stops writing
//! before sled meets the error: sled 0.34 keeps a write error for good, and only
//! a restart would bring it back. Scans then stay in the inbox and are retried,
//! and `/healthz` says why until a write check passes again.

use std::sync::Mutex;

/// Why the store cannot be written, and since when (RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoreBlocked {
    pub reason: String,
    pub since: String,
}

static STORE: Mutex<Option<StoreBlocked>> = Mutex::new(None);

/// Record the outcome of a write check: `None` if the store can be written,
/// else why not. Logs when the condition changes.
pub fn store_checked(blocked_because: Option<&str>) {
    let mut state = STORE.lock().unwrap_or_else(|e| e.into_inner());
    match (blocked_because, state.as_ref()) {
        (None, Some(blocked)) => {
            tracing::info!(since = %blocked.since, "the store can be written again");
            *state = None;
        }
        (Some(reason), current) if current.is_none_or(|b| b.reason != reason) => {
            tracing::error!(%reason, "the store cannot be written; ingest waits");
            *state = Some(StoreBlocked {
                reason: reason.to_string(),
                since: current.map_or_else(crate::clock::now_rfc3339, |b| b.since.clone()),
            });
        }
        _ => {}
    }
}

/// Why the store cannot be written, if it cannot.
pub fn store_blocked() -> Option<StoreBlocked> {
    STORE.lock().unwrap_or_else(|e| e.into_inner()).clone()
}
