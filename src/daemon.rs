//! `eakte serve`: the long-running daemon.
//!
//! Threads and tasks, and what each owns:
//! - the inbox loop (async task): notices scans (file events, a periodic rescan for
//!   network shares that send none, a scan at startup), waits until each has
//!   settled, claims it and hands it to a job;
//! - jobs (one async task per scan, at most `ocr.workers + 1` at once, each doing
//!   its blocking work on tokio's blocking pool): run the pipeline, then remove
//!   the scan from the inbox or set it aside with the reason;
//! - the OCR pool (plain threads, see [`crate::extract::ocr`]);
//! - the indexer thread: the one tantivy writer, woken after each stored document.
//!
//! On SIGINT/SIGTERM the daemon stops claiming, lets running jobs finish for up to
//! [`SHUTDOWN_GRACE`], commits the index and exits. A job still running then stays
//! claimed and is resumed at the next start, so nothing is lost either way.

use crate::config::Config;
use crate::failpoint;
use crate::inbox::settle::SettleTracker;
use crate::inbox::{Claimed, Found, Inbox, PROCESSING_DIR, QUARANTINE_DIR};
use crate::index::indexer::Indexer;
use crate::pipeline::{Extraction, OpenError, Outcome, Pipeline, PipelineError};
use crate::store::{NewArrival, Store, StoreError};
use std::collections::VecDeque;
use std::future::Future;
use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};

/// How long running jobs may finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
/// Waits between retries of a scan that failed for a reason of eakte's own
/// (disk full, a missing tool), doubling up to the maximum.
const RETRY_FIRST: Duration = Duration::from_secs(5);
const RETRY_MAX: Duration = Duration::from_secs(300);
/// After a file event, wait this long for the burst of events to end.
const EVENT_DEBOUNCE: Duration = Duration::from_millis(50);

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot use the inbox {path}: {source}")]
    Inbox {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("a startup task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Every API connection is a file descriptor, and so are sled's and tantivy's
/// files: the common default soft limit of 1,024 would refuse connections
/// long before `limits.max_connections`. The hard limit is the admin's word.
pub fn raise_open_file_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: both calls only read or write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// Run the daemon until `shutdown` completes.
pub async fn serve(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), DaemonError> {
    let inbox = Inbox::open(&config.inbox_dir).map_err(|source| DaemonError::Inbox {
        path: config.inbox_dir.clone(),
        source,
    })?;
    let open_config = config.clone();
    let (pipeline, indexer) =
        tokio::task::spawn_blocking(move || Pipeline::open(&open_config)).await??;
    let store = pipeline.store().clone();
    let (stop_tx, stop_rx) = watch::channel(false);
    let api_state = crate::api::Inner::new(
        pipeline.clone(),
        indexer.index().clone(),
        &config.limits,
        stop_rx.clone(),
    );
    let index_thread = IndexThread::start(indexer, store.clone());
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| DaemonError::Listen {
            address: config.listen,
            source,
        })?;
    let api_address = listener
        .local_addr()
        .map_err(|source| DaemonError::Listen {
            address: config.listen,
            source,
        })?;

    let mut api_stop = stop_rx.clone();
    let api = tokio::spawn(crate::api::serve(listener, api_state.clone(), async move {
        let _ = api_stop.wait_for(|stop| *stop).await;
    }));
    let concurrency = config.ocr.workers + 1;
    let shared = Arc::new(Shared {
        pipeline,
        inbox,
        index_wake: index_thread.waker(),
        permits: Arc::new(Semaphore::new(concurrency)),
        job_done: Notify::new(),
        inbox_changed: Arc::new(Notify::new()),
        stopping: stop_rx,
    });
    let _watcher = watch_inbox(&config.inbox_dir, shared.inbox_changed.clone());
    tracing::info!(
        inbox = %config.inbox_dir.display(),
        store = %config.store_dir.display(),
        index = %config.index_dir.display(),
        ocr_workers = config.ocr.workers,
        documents = store.document_count(),
        api = %api_address,
        "eakte is running"
    );
    log_audit_head(&api_state);

    let inbox_loop = tokio::spawn(inbox_loop(
        shared.clone(),
        SettleTracker::new(config.inbox.settle),
        config.inbox.rescan,
    ));
    shutdown.await;
    tracing::info!("shutting down: no new scans are taken");
    let _ = stop_tx.send(true);
    let _ = inbox_loop.await;
    let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
    match tokio::time::timeout(SHUTDOWN_GRACE, shared.permits.acquire_many(all)).await {
        Ok(_) => {}
        Err(_) => {
            tracing::warn!("scans still in progress stay claimed and are resumed at the next start")
        }
    }
    // Long-polls end with the listener; give running requests a moment.
    if tokio::time::timeout(API_GRACE, api).await.is_err() {
        tracing::warn!("API requests still running at shutdown were cut off");
    }
    tokio::task::spawn_blocking(move || index_thread.stop()).await?;
    store.flush()?;
    log_audit_head(&api_state);
    tracing::info!("stopped");
    Ok(())
}

/// How long running API requests may finish after a shutdown signal.
const API_GRACE: Duration = Duration::from_secs(5);

/// Log the audit trail's head, so that it can be compared from outside the store
/// (a rewritten trail would need a rewritten log too).
fn log_audit_head(state: &crate::api::AppState) {
    match state.audit.head() {
        Ok(Some((seq, hash))) => tracing::info!(entries = seq, head = %hash, "audit trail"),
        Ok(None) => tracing::info!("audit trail is empty"),
        Err(e) => tracing::error!(error = %e, "cannot read the audit trail's head"),
    }
}

/// What the inbox loop and the jobs share.
struct Shared {
    pipeline: Pipeline,
    inbox: Inbox,
    index_wake: mpsc::Sender<IndexMsg>,
    /// One permit per scan in progress.
    permits: Arc<Semaphore>,
    /// A job finished: a permit is free for a waiting scan.
    job_done: Notify,
    inbox_changed: Arc<Notify>,
    stopping: watch::Receiver<bool>,
}

impl Shared {
    fn stopping(&self) -> bool {
        *self.stopping.borrow()
    }
}

async fn inbox_loop(shared: Arc<Shared>, mut tracker: SettleTracker, rescan: Duration) {
    // Scans claimed before the last stop or crash go first.
    let inbox = shared.inbox.clone();
    match tokio::task::spawn_blocking(move || inbox.claimed()).await {
        Ok(Ok(claimed)) => {
            if !claimed.is_empty() {
                tracing::info!(
                    scans = claimed.len(),
                    "resuming scans claimed before the last stop"
                );
            }
            for c in claimed {
                let Ok(permit) = shared.permits.clone().acquire_owned().await else {
                    return;
                };
                tokio::spawn(job(shared.clone(), c, permit));
            }
        }
        Ok(Err(e)) => tracing::error!(error = %e, "cannot list {PROCESSING_DIR}"),
        Err(e) => tracing::error!(error = %e, "listing {PROCESSING_DIR} failed"),
    }
    let mut stopping = shared.stopping.clone();
    // Settled scans found by the last pass and not yet claimed. A finished job
    // takes the next one from here: rescanning a backlog of thousands of files
    // for every single claim would cost more than processing them.
    let mut ready = VecDeque::new();
    let mut rescan_now = true;
    while !shared.stopping() {
        let now = Instant::now();
        if rescan_now || ready.is_empty() {
            ready = settled_scans(&shared, &mut tracker, now).await;
        }
        claim_ready(&shared, &mut tracker, &mut ready).await;
        let wait = tracker.next_due(now).map_or(rescan, |due| due.min(rescan));
        rescan_now = tokio::select! {
            _ = tokio::time::sleep(wait) => true,
            _ = shared.inbox_changed.notified() => {
                tokio::time::sleep(EVENT_DEBOUNCE).await;
                true
            }
            _ = shared.job_done.notified() => false,
            _ = stopping.changed() => true,
        };
    }
}

/// One pass over the inbox: observe every file, set aside what is not a file at
/// all; returns the scans that have settled.
async fn settled_scans(
    shared: &Arc<Shared>,
    tracker: &mut SettleTracker,
    now: Instant,
) -> VecDeque<Found> {
    let inbox = shared.inbox.clone();
    let found = match tokio::task::spawn_blocking(move || inbox.scan()).await {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            tracing::error!(error = %e, inbox = %shared.inbox.root().display(), "cannot read the inbox");
            return VecDeque::new();
        }
        Err(e) => {
            tracing::error!(error = %e, "inbox scan failed");
            return VecDeque::new();
        }
    };
    let present: std::collections::HashSet<_> = found.iter().map(|f| f.path.clone()).collect();
    tracker.retain(|p| present.contains(p));
    let mut settled = VecDeque::new();
    for f in found {
        if shared.stopping() {
            break;
        }
        if let Some(what) = f.not_a_file {
            set_aside_special(shared, f, what).await;
        } else if tracker.observe(&f.path, f.size, f.mtime, now) {
            settled.push_back(f);
        }
    }
    settled
}

/// Claim settled scans from `ready` while there is capacity; the rest wait for
/// `job_done`.
async fn claim_ready(
    shared: &Arc<Shared>,
    tracker: &mut SettleTracker,
    ready: &mut VecDeque<Found>,
) {
    while !shared.stopping() {
        let Ok(permit) = shared.permits.clone().try_acquire_owned() else {
            return;
        };
        let Some(f) = ready.pop_front() else {
            return;
        };
        tracker.forget(&f.path);
        let s = shared.clone();
        let claim = tokio::task::spawn_blocking(move || claim_unchanged(&s, &f));
        match claim.await {
            Ok(Ok(Some(claimed))) => {
                failpoint::hit("after-claim");
                tokio::spawn(job(shared.clone(), claimed, permit));
            }
            Ok(Ok(None)) => {}
            // Typically the file vanished or was renamed meanwhile; the next pass sees.
            Ok(Err(e)) => tracing::warn!(error = %e, "scan not taken"),
            Err(e) => tracing::error!(error = %e, "claiming failed"),
        }
    }
}

/// Claim a settled scan, unless it changed between the last look and the claim
/// (a writer that paused longer than the settle window): then it goes back to
/// the inbox and settles again. Blocking.
fn claim_unchanged(shared: &Shared, found: &Found) -> Result<Option<Claimed>, String> {
    let rel = Inbox::display(&found.rel);
    if std::fs::symlink_metadata(&found.path).is_err() {
        // Gone since the pass that found it (taken away by the scan office).
        return Ok(None);
    }
    let arrival = shared
        .pipeline
        .store()
        .new_arrival_id()
        .map_err(|e| e.to_string())?;
    let claimed = shared
        .inbox
        .claim(found, arrival)
        .map_err(|e| format!("cannot claim {rel}: {e}"))?;
    let now = std::fs::symlink_metadata(&claimed.path).ok();
    if now
        .as_ref()
        .is_some_and(|m| m.len() == found.size && m.modified().ok() == found.mtime)
    {
        return Ok(Some(claimed));
    }
    tracing::info!(scan = %rel, "scan changed while being taken; it waits to settle again");
    match shared.inbox.unclaim(&claimed) {
        Ok(()) => Ok(None),
        // It cannot go back: process what is there rather than leave it hidden.
        Err(e) => {
            tracing::warn!(scan = %rel, error = %e, "cannot put the scan back; processing it as it is");
            Ok(Some(claimed))
        }
    }
}

async fn set_aside_special(shared: &Arc<Shared>, found: Found, what: &'static str) {
    let s = shared.clone();
    let rel = Inbox::display(&found.rel);
    let reason = reason_text(
        &rel,
        &format!("Der Eintrag ist {what}. Bitte die eigentliche Datei ablegen."),
        "not a regular file",
    );
    match tokio::task::spawn_blocking(move || s.inbox.quarantine_found(&found, &reason)).await {
        Ok(Ok(to)) => {
            tracing::warn!(scan = %rel, to = %to.display(), "not a regular file; set aside")
        }
        Ok(Err(e)) => tracing::error!(scan = %rel, error = %e, "cannot set aside"),
        Err(e) => tracing::error!(error = %e, "set-aside task failed"),
    }
}

/// Process one claimed scan to the end, retrying failures of eakte's own.
async fn job(shared: Arc<Shared>, claimed: Claimed, permit: OwnedSemaphorePermit) {
    let mut retry = RETRY_FIRST;
    let mut stopping = shared.stopping.clone();
    loop {
        let (s, c) = (shared.clone(), claimed.clone());
        match tokio::task::spawn_blocking(move || s.handle(&c)).await {
            Ok(Ok(())) => break,
            Ok(Err(e)) => {
                tracing::error!(scan = %Inbox::display(&claimed.rel), error = %e, retry_in_secs = retry.as_secs(), "scan could not be processed; it stays in the inbox");
            }
            Err(panic) => {
                tracing::error!(scan = %Inbox::display(&claimed.rel), error = %panic, "processing the scan crashed");
                let (s, c) = (shared.clone(), claimed.clone());
                let reason = "Beim Verarbeiten dieser Datei ist ein interner Fehler aufgetreten. Bitte die IT informieren; die Datei bleibt hier erhalten.";
                let _ =
                    tokio::task::spawn_blocking(move || s.set_aside(&c, reason, "internal error"))
                        .await;
                break;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(retry) => {}
            _ = stopping.changed() => {}
        }
        if shared.stopping() {
            break;
        }
        retry = (retry * 2).min(RETRY_MAX);
    }
    drop(permit);
    shared.job_done.notify_one();
}

impl Shared {
    /// Blocking: run the pipeline for `claimed`, then finish or set it aside.
    fn handle(&self, claimed: &Claimed) -> Result<(), PipelineError> {
        let store = self.pipeline.store();
        // A full or read-only disk: the scan waits, claimed, for the next try.
        store.ensure_writable()?;
        // An earlier attempt that never finished means the process died meanwhile,
        // maybe because of this very file: read it in a child process this time.
        let mode = match store.begin_attempt(claimed.arrival)? {
            1 => Extraction::InProcess,
            _ => Extraction::Isolated,
        };
        let result = self.attempt(claimed, mode);
        if result.is_err() {
            // The attempt ended with an error, not with the process: not suspect.
            let _ = store.end_attempts(claimed.arrival);
        }
        result
    }

    fn attempt(&self, claimed: &Claimed, mode: Extraction) -> Result<(), PipelineError> {
        let store = self.pipeline.store();
        let rel = Inbox::display(&claimed.rel);
        let arrival = NewArrival {
            id: claimed.arrival,
            original_name: claimed.name(),
            site: claimed.site(),
            received_at: receipt_time(&claimed.path),
            source: rel.clone(),
        };
        let started = Instant::now();
        let outcome = self.pipeline.process_file(&claimed.path, arrival, mode)?;
        if let Outcome::Rejected {
            rejection, error, ..
        } = &outcome
        {
            return self.set_aside(claimed, &rejection.reason_de(), error);
        }
        failpoint::hit("before-finish");
        self.inbox.finish(claimed).map_err(|e| {
            PipelineError::System(format!("cannot remove {rel} from the inbox: {e}"))
        })?;
        failpoint::hit("after-finish");
        store.end_attempts(claimed.arrival)?;
        let _ = self.index_wake.send(IndexMsg::Wake);
        tracing::info!(
            scan = %rel,
            status = outcome.status(),
            document = outcome.document_id().map(|id| id.0),
            seconds = started.elapsed().as_secs_f32(),
            "scan filed"
        );
        Ok(())
    }

    fn set_aside(
        &self,
        claimed: &Claimed,
        reason_de: &str,
        technical: &str,
    ) -> Result<(), PipelineError> {
        let rel = Inbox::display(&claimed.rel);
        let text = reason_text(&rel, reason_de, technical);
        let to = self.inbox.quarantine(claimed, &text).map_err(|e| {
            PipelineError::System(format!("cannot move {rel} to {QUARANTINE_DIR}: {e}"))
        })?;
        self.pipeline.store().end_attempts(claimed.arrival)?;
        tracing::warn!(scan = %rel, to = %to.display(), reason = technical, "scan set aside");
        Ok(())
    }
}

/// The reason file's text, for the scan office.
fn reason_text(rel: &str, reason_de: &str, technical: &str) -> String {
    format!(
        "Die Datei „{rel}“ wurde nicht in die E-Akte übernommen.\n\n\
         Grund: {reason_de}\n\n\
         Beiseitegelegt am: {}\n\
         Technische Angabe: {technical}\n",
        crate::timefmt::now()
    )
}

/// The receipt time (Eingangsdatum): when the scan was written, i.e. its mtime
/// (a rename into `.processing` keeps it).
fn receipt_time(path: &Path) -> String {
    let mtime = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| std::time::SystemTime::now());
    crate::timefmt::rfc3339(mtime)
}

/// File events wake the inbox loop early; events inside `.processing` and
/// `.quarantine` (our own moves) are ignored. Without a watcher (e.g. the inotify
/// limit is reached) the periodic rescan still finds everything.
fn watch_inbox(root: &Path, changed: Arc<Notify>) -> Option<notify::RecommendedWatcher> {
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

enum IndexMsg {
    Wake,
    Stop,
}

/// The indexer on its own thread: tantivy commits are blocking work.
struct IndexThread {
    tx: mpsc::Sender<IndexMsg>,
    handle: std::thread::JoinHandle<()>,
}

/// Even without a wake-up, look at the queue this often (e.g. after an error).
const INDEX_RECHECK: Duration = Duration::from_secs(5);
/// At most one index commit per this interval: a document is searchable at most
/// this much later (its postbox item does not wait for the index).
const MIN_COMMIT_GAP: Duration = Duration::from_millis(250);

impl IndexThread {
    fn start(mut indexer: Indexer, store: Store) -> IndexThread {
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("indexer".into())
            .spawn(move || {
                let mut last_drain = Instant::now();
                loop {
                    let msg = rx.recv_timeout(INDEX_RECHECK);
                    let mut stop = matches!(
                        msg,
                        Ok(IndexMsg::Stop) | Err(mpsc::RecvTimeoutError::Disconnected)
                    );
                    // Under a burst, let documents gather for one commit instead of
                    // committing (and creating a segment) per document.
                    let gather = MIN_COMMIT_GAP.saturating_sub(last_drain.elapsed());
                    if !stop && !gather.is_zero() {
                        std::thread::sleep(gather);
                    }
                    // Coalesce wake-ups that piled up meanwhile.
                    stop |= rx.try_iter().any(|m| matches!(m, IndexMsg::Stop));
                    last_drain = Instant::now();
                    match indexer.drain_queue(&store) {
                        Ok(0) => {}
                        Ok(n) => tracing::debug!(documents = n, "indexed"),
                        Err(e) => tracing::error!(error = %e, "indexing failed; retrying"),
                    }
                    if stop {
                        break;
                    }
                }
                if let Err(e) = indexer.finish() {
                    tracing::warn!(error = %e, "index merges did not finish");
                }
            })
            .expect("can start the indexer thread");
        IndexThread { tx, handle }
    }

    fn waker(&self) -> mpsc::Sender<IndexMsg> {
        self.tx.clone()
    }

    fn stop(self) {
        let _ = self.tx.send(IndexMsg::Stop);
        let _ = self.handle.join();
    }
}
