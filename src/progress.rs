//! How long work tells how far it is: a 100,000-person import, `reindex` or
//! `check` over a million documents. The work reports; whoever started it
//! decides what to show (a bar on a terminal, nothing in a script or a log).

/// Receives progress reports. Reports may come often; implementations keep
/// them cheap.
pub trait Progress: Send + Sync {
    /// `done` of `total` units of the step `what` ("rows checked",
    /// "documents indexed") are finished.
    fn update(&self, what: &str, done: u64, total: u64);
}

/// Shows nothing.
pub struct Silent;

impl Progress for Silent {
    fn update(&self, _what: &str, _done: u64, _total: u64) {}
}

/// Report at most every `every` units (and at the end), so that a loop over a
/// million records costs a thousand reports, not a million.
pub fn every(progress: &dyn Progress, what: &str, done: u64, total: u64, every: u64) {
    if done == total || done % every.max(1) == 0 {
        progress.update(what, done, total);
    }
}
