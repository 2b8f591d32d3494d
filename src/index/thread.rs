//! The indexer on a thread of its own (tantivy commits are blocking work), and
//! the handle through which the daemon's other parts ask it for work.
//!
//! It drains the store's index queue when woken (a stored scan, an upload, a
//! correction) and at least every few seconds, gathering documents for a
//! quarter of a second under a burst so that a commit holds many. On shutdown
//! it stops; [`IndexThread::finish`] then indexes what the last scans queued.

use super::indexer::Indexer;
use super::IndexError;
use crate::progress::Progress;
use crate::shutdown::Shutdown;
use crate::store::Store;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Even without a wake-up, look at the queue this often (e.g. after an error).
const RECHECK: Duration = Duration::from_secs(5);
/// At most one index commit per this interval: a document is searchable at most
/// this much later (its postbox item does not wait for the index).
const MIN_COMMIT_GAP: Duration = Duration::from_millis(250);

type Reply = mpsc::Sender<Result<usize, IndexError>>;

enum Request {
    /// Documents were queued: index them soon.
    Wake,
    /// Index the queue now and answer when it is committed.
    Commit(Reply),
    /// Rebuild the whole index from the store (`eakte reindex`).
    Rebuild(Arc<dyn Progress>, Reply),
}

/// Asks the indexer thread for work; cheap to clone.
#[derive(Clone)]
pub struct IndexHandle {
    requests: mpsc::Sender<Request>,
}

impl IndexHandle {
    /// Documents were queued in the store: index them soon.
    pub fn wake(&self) {
        let _ = self.requests.send(Request::Wake);
    }

    /// Index everything queued now; returns once it is committed. Blocking.
    pub fn commit(&self) -> Result<usize, IndexError> {
        self.ask(Request::Commit)
    }

    /// Rebuild the index from the store, reporting to `progress`. Blocking.
    pub fn rebuild(&self, progress: Arc<dyn Progress>) -> Result<usize, IndexError> {
        self.ask(|reply| Request::Rebuild(progress, reply))
    }

    fn ask(&self, request: impl FnOnce(Reply) -> Request) -> Result<usize, IndexError> {
        let (reply, answer) = mpsc::channel();
        self.requests
            .send(request(reply))
            .map_err(|_| IndexError::Stopped)?;
        answer.recv().map_err(|_| IndexError::Stopped)?
    }
}

/// The indexer thread.
pub struct IndexThread {
    handle: IndexHandle,
    thread: std::thread::JoinHandle<Indexer>,
    store: Store,
}

impl IndexThread {
    pub fn start(indexer: Indexer, store: Store, shutdown: Shutdown) -> IndexThread {
        let (requests, inbox) = mpsc::channel();
        let handle = IndexHandle { requests };
        let wake = handle.clone();
        shutdown.on_trigger(move || wake.wake());
        let thread_store = store.clone();
        let thread = std::thread::Builder::new()
            .name("indexer".into())
            .spawn(move || run(indexer, &thread_store, &inbox, &shutdown))
            .expect("can start the indexer thread");
        IndexThread {
            handle,
            thread,
            store,
        }
    }

    pub fn handle(&self) -> IndexHandle {
        self.handle.clone()
    }

    /// After the shutdown: wait for the thread, index what is still queued,
    /// and let background merges finish, so the process exits with a tidy
    /// index. Blocking.
    pub fn finish(self) -> Result<(), IndexError> {
        let mut indexer = self.thread.join().map_err(|_| IndexError::Stopped)?;
        indexer.drain_queue(&self.store)?;
        indexer.finish()
    }
}

fn run(
    mut indexer: Indexer,
    store: &Store,
    inbox: &mpsc::Receiver<Request>,
    shutdown: &Shutdown,
) -> Indexer {
    let mut last_drain = Instant::now();
    while !shutdown.is_triggered() {
        let request = match inbox.recv_timeout(RECHECK) {
            Ok(request) => Some(request),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        match request {
            Some(Request::Rebuild(progress, reply)) => {
                let _ = reply.send(indexer.rebuild(store, progress.as_ref()));
                continue;
            }
            Some(Request::Commit(reply)) => {
                let _ = reply.send(indexer.drain_queue(store));
                last_drain = Instant::now();
                continue;
            }
            Some(Request::Wake) | None => {}
        }
        // Under a burst, let documents gather for one commit instead of
        // committing (and creating a segment) per document.
        let gather = MIN_COMMIT_GAP.saturating_sub(last_drain.elapsed());
        if !gather.is_zero() && !shutdown.is_triggered() {
            std::thread::sleep(gather);
        }
        // Coalesce wake-ups that piled up meanwhile; answer other requests.
        for request in inbox.try_iter() {
            match request {
                Request::Wake => {}
                Request::Commit(reply) => {
                    let _ = reply.send(indexer.drain_queue(store));
                }
                Request::Rebuild(progress, reply) => {
                    let _ = reply.send(indexer.rebuild(store, progress.as_ref()));
                }
            }
        }
        last_drain = Instant::now();
        match indexer.drain_queue(store) {
            Ok(0) => {}
            Ok(n) => tracing::debug!(documents = n, "indexed"),
            Err(e) => tracing::error!(error = %e, "indexing failed; retrying"),
        }
    }
    indexer
}
