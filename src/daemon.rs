//! `eakte serve`: the long-running daemon, wired together.
//!
//! What runs, and what each part owns:
//! - the scans ([`crate::pipeline::scans`]): the inbox's intake hands out
//!   settled scans while there is room, each becomes a job on the blocking pool;
//! - the OCR pool (plain threads, see [`crate::extract::ocr`]);
//! - the indexer thread ([`crate::index::thread`]): the one tantivy writer;
//! - the HTTP API ([`crate::api`]) and the control socket for the command line
//!   ([`crate::control::server`]), both on the same audited operations
//!   ([`crate::service`]).
//!
//! All of them hold the one [`Shutdown`]. On SIGINT/SIGTERM the daemon stops
//! taking scans and requests, lets running jobs finish for up to
//! [`SHUTDOWN_GRACE`], indexes what they stored, flushes the store and exits.
//! A job still running then stays claimed and is resumed at the next start,
//! so nothing is lost either way.

use crate::audit::anchor::Anchoring;
use crate::config::Config;
use crate::control::server::Control;
use crate::inbox::intake::{Intake, Watching};
use crate::inbox::Inbox;
use crate::index::thread::IndexThread;
use crate::pipeline::scans::Scans;
use crate::pipeline::{OpenError, Pipeline};
use crate::service::{Running, Services};
use crate::shutdown::Shutdown;
use crate::store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// How long running jobs may finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
/// How long running API requests may finish after a shutdown signal.
const API_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
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
    #[error("cannot open the control socket {path}: {source}")]
    Control {
        path: std::path::PathBuf,
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

/// Run the daemon until `shutdown` is triggered.
pub async fn serve(config: Config, shutdown: Shutdown) -> Result<(), DaemonError> {
    if crate::clock::is_set_for_test() {
        tracing::warn!(
            now = %crate::clock::now(),
            "the clock is set by {}: for tests only, never in production",
            crate::clock::TEST_CLOCK_VAR
        );
    }
    if crate::clock::is_ignored_setting() {
        tracing::warn!(
            "{} is set but ignored: only test builds let the clock be set",
            crate::clock::TEST_CLOCK_VAR
        );
    }
    let inbox = Inbox::open(&config.inbox_dir).map_err(|source| DaemonError::Inbox {
        path: config.inbox_dir.clone(),
        source,
    })?;
    let open_config = config.clone();
    let (pipeline, indexer) =
        tokio::task::spawn_blocking(move || Pipeline::open(&open_config)).await??;
    let store = pipeline.store().clone();
    let index = indexer.index().clone();
    let index_thread = IndexThread::start(indexer, store.clone(), shutdown.clone());
    let running = Running {
        pipeline: pipeline.clone(),
        index,
        indexing: index_thread.handle(),
    };
    let services = Arc::new(Services::of_daemon(&config, running));
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
    let socket = crate::control::socket_path(&config.store_dir);
    // Without the socket, commands would open the store beside the daemon
    // and fail on its lock: better not to start than to run deaf.
    let control = Control::bind(&socket).map_err(|source| DaemonError::Control {
        path: socket.clone(),
        source,
    })?;
    let api_state = crate::api::Inner::new(services.clone(), &config.limits, shutdown.clone());
    let app = crate::web::app(api_state.clone(), &config.web);
    let api = tokio::spawn(crate::api::serve(listener, api_state, app, API_GRACE));
    let control = tokio::spawn(control.serve(
        services.clone(),
        Arc::new(config.clone()),
        shutdown.clone(),
        SHUTDOWN_GRACE,
    ));
    let watching = Watching {
        settle: config.inbox.settle,
        rescan: config.inbox.rescan,
        events: config.inbox.watch,
    };
    let intake = Intake::new(inbox.clone(), store.clone(), &watching);
    let scans = Scans::new(pipeline, inbox, index_thread.handle(), shutdown.clone());
    tracing::info!(
        inbox = %config.inbox_dir.display(),
        store = %config.store_dir.display(),
        index = %config.index_dir.display(),
        ocr_workers = config.extract.ocr.workers,
        documents = store.documents().count(),
        api = %api_address,
        control = %socket.display(),
        "eakte is running"
    );
    log_audit_head(&store);
    if let Some(file) = config.audit.anchor_file.clone() {
        let store = store.clone();
        tokio::task::spawn_blocking(move || compare_with_anchor(&store, &file)).await?;
    }
    let anchoring = config.audit.anchor_file.clone().map(|file| Anchoring {
        file,
        every_entries: config.audit.anchor_every_entries,
        every: config.audit.anchor_every,
    });
    let anchored = anchoring.clone().map(|anchoring| {
        let (store, stop) = (store.clone(), shutdown.clone());
        std::thread::spawn(move || {
            crate::audit::anchor::keep(&store, &anchoring, |pause| {
                std::thread::sleep(pause);
                stop.is_triggered()
            })
        })
    });

    let taking = tokio::spawn(scans.clone().run(intake));
    shutdown.triggered().await;
    tracing::info!("shutting down: no new scans are taken");
    let _ = taking.await;
    if !scans.wait_idle(SHUTDOWN_GRACE).await {
        tracing::warn!("scans still in progress stay claimed and are resumed at the next start");
    }
    let _ = api.await;
    let _ = control.await;
    let _ = std::fs::remove_file(&socket);
    tokio::task::spawn_blocking(move || index_thread.finish()).await??;
    store.flush()?;
    log_audit_head(&store);
    if let Some(anchoring) = anchoring {
        // The keeper's last check, then the last word: the head as the
        // daemon leaves it.
        let anchored = tokio::task::spawn_blocking(move || {
            if let Some(keeper) = anchored {
                let _ = keeper.join();
            }
            crate::audit::anchor::anchor_head(&store, &anchoring.file)
        })
        .await?;
        if let Err(e) = anchored {
            tracing::error!(error = %e, "the audit trail could not be anchored at the stop");
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Say loudly, at the start, when the store's trail is behind or other than
/// what its anchor file recorded: the store was put back to an older copy
/// or rewritten. The daemon still starts (refusing would stop the
/// jobcenter's post); the auditor checks with `eakte audit verify`.
fn compare_with_anchor(store: &Store, file: &std::path::Path) {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            tracing::error!(file = %file.display(), error = %e, "cannot read the audit anchor file");
            return;
        }
    };
    let (anchors, unread) = crate::audit::anchor::read(&bytes);
    let checked = crate::audit::anchor::check(store, &anchors);
    let problems = unread
        .into_iter()
        .chain(checked.unwrap_or_else(|e| vec![e.to_string()]));
    for problem in problems {
        tracing::error!(file = %file.display(), problem, "the audit trail does not match its anchor");
    }
}

/// Log the audit trail's head, so that it can be compared from outside the store
/// (a rewritten trail would need a rewritten log too).
fn log_audit_head(store: &Store) {
    match store.audit().head() {
        Ok(Some((seq, hash))) => tracing::info!(entries = seq, head = %hash, "audit trail"),
        Ok(None) => tracing::info!("audit trail is empty"),
        Err(e) => tracing::error!(error = %e, "cannot read the audit trail's head"),
    }
}
