//! Taking scans in: noticing them (file events, a periodic rescan for network
//! shares that send none, a scan at start-up), waiting until each has settled,
//! setting aside what is not a file at all, and claiming the next scan when the
//! daemon has room for it.
//!
//! Claiming only when there is room matters: rescanning a backlog of thousands
//! of files for every single claim would cost more than processing them, so a
//! pass remembers the settled scans it found and hands them out one by one.

use super::settle::SettleTracker;
use super::{Claimed, Found, Inbox, PROCESSING_DIR, QUARANTINE_DIR};
use crate::shutdown::Shutdown;
use crate::store::Store;
use std::collections::{HashSet, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// After a file event, wait this long for the burst of events to end.
const EVENT_DEBOUNCE: Duration = Duration::from_millis(50);

/// How scans are noticed (`[inbox]`).
#[derive(Debug, Clone)]
pub struct Watching {
    /// Unchanged size and mtime for this long: the scan is complete.
    pub settle: Duration,
    /// A full rescan at least this often.
    pub rescan: Duration,
    /// Whether file events wake the intake (off for SMB/NFS mounts).
    pub events: bool,
}

pub struct Intake {
    inbox: Inbox,
    store: Store,
    tracker: SettleTracker,
    rescan: Duration,
    changed: Arc<Notify>,
    _watcher: Option<notify::RecommendedWatcher>,
    /// Settled scans found by the last pass and not yet claimed.
    ready: VecDeque<Found>,
    /// Whether the inbox must be looked at again before handing out more.
    stale: bool,
}

impl Intake {
    pub fn new(inbox: Inbox, store: Store, watching: &Watching) -> Intake {
        let changed = Arc::new(Notify::new());
        let watcher = if watching.events {
            watch(inbox.root(), changed.clone())
        } else {
            tracing::info!(
                rescan_secs = watching.rescan.as_secs(),
                "file events are off ([inbox] watch = false): scans are found by rescans"
            );
            None
        };
        Intake {
            inbox,
            store,
            tracker: SettleTracker::new(watching.settle),
            rescan: watching.rescan,
            changed,
            _watcher: watcher,
            ready: VecDeque::new(),
            stale: true,
        }
    }

    /// Scans claimed before the last stop or crash, to be resumed first.
    pub async fn resumed(&self) -> Vec<Claimed> {
        let inbox = self.inbox.clone();
        match tokio::task::spawn_blocking(move || inbox.claimed()).await {
            Ok(Ok(claimed)) => {
                if !claimed.is_empty() {
                    tracing::info!(
                        scans = claimed.len(),
                        "resuming scans claimed before the last stop"
                    );
                }
                claimed
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot list {PROCESSING_DIR}");
                Vec::new()
            }
            Err(e) => {
                tracing::error!(error = %e, "listing {PROCESSING_DIR} failed");
                Vec::new()
            }
        }
    }

    /// The next settled scan, claimed; waits until there is one. `None` once
    /// the daemon shuts down.
    pub async fn next(&mut self, shutdown: &Shutdown) -> Option<Claimed> {
        loop {
            if shutdown.is_triggered() {
                return None;
            }
            let now = Instant::now();
            if self.stale {
                self.ready = self.settled_scans(now, shutdown).await;
                self.stale = false;
            }
            while let Some(found) = self.ready.pop_front() {
                if shutdown.is_triggered() {
                    return None;
                }
                self.tracker.forget(&found.path);
                if let Some(claimed) = self.claim(found).await {
                    crate::failpoint::hit("after-claim");
                    return Some(claimed);
                }
            }
            let wait = self
                .tracker
                .next_due(now)
                .map_or(self.rescan, |due| due.min(self.rescan));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.changed.notified() => tokio::time::sleep(EVENT_DEBOUNCE).await,
                _ = shutdown.triggered() => return None,
            }
            self.stale = true;
        }
    }

    /// One pass over the inbox: observe every file, set aside what is not a
    /// file at all; returns the scans that have settled.
    async fn settled_scans(&mut self, now: Instant, shutdown: &Shutdown) -> VecDeque<Found> {
        let inbox = self.inbox.clone();
        let found = match tokio::task::spawn_blocking(move || inbox.scan()).await {
            Ok(Ok(found)) => found,
            Ok(Err(e)) => {
                tracing::error!(error = %e, inbox = %self.inbox.root().display(), "cannot read the inbox");
                return VecDeque::new();
            }
            Err(e) => {
                tracing::error!(error = %e, "inbox scan failed");
                return VecDeque::new();
            }
        };
        let present: HashSet<_> = found.iter().map(|f| f.path.clone()).collect();
        self.tracker.retain(|p| present.contains(p));
        let mut settled = VecDeque::new();
        for f in found {
            if shutdown.is_triggered() {
                break;
            }
            if let Some(what) = f.not_a_file {
                self.set_aside_special(f, what).await;
            } else if self.tracker.observe(&f.path, f.size, f.mtime, now) {
                settled.push_back(f);
            }
        }
        settled
    }

    async fn claim(&self, found: Found) -> Option<Claimed> {
        let (inbox, store) = (self.inbox.clone(), self.store.clone());
        match tokio::task::spawn_blocking(move || claim_unchanged(&inbox, &store, &found)).await {
            Ok(Ok(claimed)) => claimed,
            // Typically the file vanished or was renamed meanwhile; the next pass sees.
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "scan not taken");
                None
            }
            Err(e) => {
                tracing::error!(error = %e, "claiming failed");
                None
            }
        }
    }

    async fn set_aside_special(&self, found: Found, what: &'static str) {
        let inbox = self.inbox.clone();
        let rel = Inbox::display(&found.rel);
        let reason = format!("Der Eintrag ist {what}. Bitte die eigentliche Datei ablegen.");
        let set_aside = move || inbox.set_aside_found(&found, &reason, "not a regular file");
        match tokio::task::spawn_blocking(set_aside).await {
            Ok(Ok(to)) => {
                tracing::warn!(scan = %rel, to = %to.display(), "not a regular file; set aside")
            }
            Ok(Err(e)) => tracing::error!(scan = %rel, error = %e, "cannot set aside"),
            Err(e) => tracing::error!(error = %e, "set-aside task failed"),
        }
    }
}

/// Why a settled scan could not be claimed.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error("no arrival id for {scan}: {source}")]
    Id {
        scan: String,
        source: crate::store::StoreError,
    },
    #[error("cannot claim {scan}: {source}")]
    Move {
        scan: String,
        source: std::io::Error,
    },
}

/// Claim a settled scan, unless it changed between the last look and the claim
/// (a writer that paused longer than the settle window): then it goes back to
/// the inbox and settles again. Blocking.
fn claim_unchanged(
    inbox: &Inbox,
    store: &Store,
    found: &Found,
) -> Result<Option<Claimed>, ClaimError> {
    let rel = Inbox::display(&found.rel);
    if std::fs::symlink_metadata(&found.path).is_err() {
        // Gone since the pass that found it (taken away by the scan office).
        return Ok(None);
    }
    if super::open_for_writing(&found.path) == Some(true) {
        // A writer that paused: it settles again once the writer lets go.
        tracing::debug!(scan = %rel, "still open for writing; it waits");
        return Ok(None);
    }
    let arrival = store
        .documents()
        .new_arrival_id()
        .map_err(|source| ClaimError::Id {
            scan: rel.clone(),
            source,
        })?;
    let claimed = inbox
        .claim(found, arrival)
        .map_err(|source| ClaimError::Move {
            scan: rel.clone(),
            source,
        })?;
    let now = std::fs::symlink_metadata(&claimed.path).ok();
    if now
        .as_ref()
        .is_some_and(|m| m.len() == found.size && m.modified().ok() == found.mtime)
    {
        return Ok(Some(claimed));
    }
    tracing::info!(scan = %rel, "scan changed while being taken; it waits to settle again");
    match inbox.unclaim(&claimed) {
        Ok(()) => Ok(None),
        // It cannot go back: process what is there rather than leave it hidden.
        Err(e) => {
            tracing::warn!(scan = %rel, error = %e, "cannot put the scan back; processing it as it is");
            Ok(Some(claimed))
        }
    }
}

/// File events wake the intake early; events inside `.processing` and
/// `.quarantine` (our own moves) are ignored. Without a watcher (the inotify
/// limit is reached, say) the periodic rescan still finds everything.
fn watch(root: &Path, changed: Arc<Notify>) -> Option<notify::RecommendedWatcher> {
    use notify::event::{ModifyKind, RenameMode};
    use notify::{EventKind, RecursiveMode, Watcher};
    let root_owned = root.to_path_buf();
    let handler = move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        let ours = |p: &Path| {
            p.strip_prefix(&root_owned)
                .ok()
                .and_then(|rel| rel.components().next())
                .is_some_and(|c| c.as_os_str() == PROCESSING_DIR || c.as_os_str() == QUARANTINE_DIR)
        };
        // Only paths where a scan may have appeared matter: a file leaving (our
        // own claims, or the scan office tidying up) brings nothing new, and
        // reacting to our own claims would rescan the whole inbox per scan taken.
        let arrived: &[std::path::PathBuf] = match event.kind {
            EventKind::Remove(_)
            | EventKind::Access(_)
            | EventKind::Modify(ModifyKind::Name(RenameMode::From)) => &[],
            // [from, to]
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
                event.paths.get(1..).unwrap_or_default()
            }
            _ => &event.paths,
        };
        if arrived.iter().any(|p| !ours(p)) {
            changed.notify_one();
        }
    };
    let watcher = notify::recommended_watcher(handler).and_then(|mut w| {
        w.watch(root, RecursiveMode::Recursive)?;
        Ok(w)
    });
    match watcher {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(error = %e, "no file events for the inbox; relying on the periodic rescan");
            None
        }
    }
}
