//! Settle detection: a scan is taken only after its size and modification time
//! have stayed the same for the settle window.
//!
//! A scanner or a copy over SMB writes a file in pieces, and a network share sends
//! no change events, so "the file exists" says nothing about "the file is complete".
//! The file's mtime alone cannot tell either (a Windows copy keeps the source's old
//! mtime while the bytes are still arriving), hence two observations a window apart.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Observation {
    size: u64,
    mtime: Option<SystemTime>,
    since: Instant,
}

/// How many settle windows an empty file must stay empty.
const EMPTY_FILE_WINDOWS: u32 = 10;

#[derive(Debug)]
pub struct SettleTracker {
    window: Duration,
    seen: HashMap<PathBuf, Observation>,
}

impl SettleTracker {
    pub fn new(window: Duration) -> SettleTracker {
        SettleTracker {
            window,
            seen: HashMap::new(),
        }
    }

    /// Record the current size and mtime of `path`; true once both have been
    /// unchanged for the whole window.
    pub fn observe(
        &mut self,
        path: &Path,
        size: u64,
        mtime: Option<SystemTime>,
        now: Instant,
    ) -> bool {
        let current = self.seen.entry(path.to_path_buf()).or_insert(Observation {
            size,
            mtime,
            since: now,
        });
        if current.size != size || current.mtime != mtime {
            *current = Observation {
                size,
                mtime,
                since: now,
            };
        }
        now.duration_since(current.since) >= self.window_for(size)
    }

    fn window_for(&self, size: u64) -> Duration {
        if size == 0 {
            self.window * EMPTY_FILE_WINDOWS
        } else {
            self.window
        }
    }

    /// Stop tracking `path` (taken, or gone).
    pub fn forget(&mut self, path: &Path) {
        self.seen.remove(path);
    }

    /// Drop every path for which `keep` is false (files that disappeared).
    pub fn retain(&mut self, mut keep: impl FnMut(&Path) -> bool) {
        self.seen.retain(|p, _| keep(p));
    }

    /// How long until the next tracked file settles. Files already settled are
    /// not counted: they wait for capacity, not for time.
    pub fn next_due(&self, now: Instant) -> Option<Duration> {
        self.seen
            .values()
            .map(|o| (o.since + self.window_for(o.size)).saturating_duration_since(now))
            .filter(|d| !d.is_zero())
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settles_only_after_a_quiet_window() {
        let mut t = SettleTracker::new(Duration::from_secs(2));
        let p = Path::new("husum/a.pdf");
        let t0 = Instant::now();
        let m = Some(SystemTime::UNIX_EPOCH);
        assert!(!t.observe(p, 10, m, t0));
        assert!(!t.observe(p, 20, m, t0 + Duration::from_secs(1))); // still growing
        assert!(!t.observe(p, 20, m, t0 + Duration::from_secs(2)));
        assert_eq!(
            t.next_due(t0 + Duration::from_secs(2)),
            Some(Duration::from_secs(1))
        );
        assert!(t.observe(p, 20, m, t0 + Duration::from_secs(3)));
    }

    #[test]
    fn a_changed_mtime_restarts_the_window() {
        let mut t = SettleTracker::new(Duration::from_secs(1));
        let p = Path::new("a.pdf");
        let t0 = Instant::now();
        assert!(!t.observe(p, 5, Some(SystemTime::UNIX_EPOCH), t0));
        let later = SystemTime::UNIX_EPOCH + Duration::from_secs(9);
        assert!(!t.observe(p, 5, Some(later), t0 + Duration::from_secs(1)));
        assert!(t.observe(p, 5, Some(later), t0 + Duration::from_secs(2)));
    }

    #[test]
    fn an_empty_file_waits_longer() {
        let mut t = SettleTracker::new(Duration::from_secs(1));
        let p = Path::new("leer.pdf");
        let t0 = Instant::now();
        assert!(!t.observe(p, 0, None, t0));
        assert!(!t.observe(p, 0, None, t0 + Duration::from_secs(5)));
        assert!(t.observe(p, 0, None, t0 + Duration::from_secs(10)));
    }

    #[test]
    fn zero_window_settles_at_once() {
        let mut t = SettleTracker::new(Duration::ZERO);
        assert!(t.observe(Path::new("x"), 1, None, Instant::now()));
    }
}
