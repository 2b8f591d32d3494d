//! The pipeline wing: how a document comes in and becomes durable. A scan's
//! way reads top to bottom: [`scans`] takes it from the inbox, [`Pipeline::process`]
//! extracts, classifies and routes it, and [`Pipeline::record`] makes it
//! durable, the one step every way in uses (scans, [`ingest`] on the command
//! line, [`upload`]s over the API): originals first, then the records that
//! point to them, with their audit entry, in one transaction. Indexing follows
//! asynchronously from the store's queue ([`crate::index::thread`]);
//! [`check`] proves the result.
//!
//! Every step may be repeated after a crash: the arrival id decides whether this
//! arrival was already recorded, the SHA-256 whether its bytes were, and writing a
//! blob that exists is a no-op. The blob is durable before the metadata that points
//! to it, and the caller removes the scan from the inbox only after `process`
//! returned, when the metadata is flushed.

pub mod arrival;
pub mod check;
pub mod ingest;
pub mod scans;
pub mod transfer;
pub mod upload;

use crate::classify::doctype::{Rules, RulesError};
use crate::config::Config;
use crate::derived::Derived;
use crate::extract::{EnvironmentError, ExtractError, Extractor, Rejection};
use crate::failpoint;
use crate::index::indexer::Indexer;
use crate::index::IndexError;
use crate::model::{AuditEvent, DocumentId, FileKind, Item, PostboxId, Sha256};
use crate::registry::Registry;
use crate::store::{Durability, NewArrival, NewDocument, Recorded, Recording, Store, StoreError};
use arrival::{Origin, Unread};
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the original to the blob store: {0}")]
    Blob(std::io::Error),
    /// eakte's own environment failed while extracting.
    #[error(transparent)]
    Environment(#[from] EnvironmentError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What happened to an arrival.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// New content, now stored.
    Stored {
        document_id: DocumentId,
        sha256: Sha256,
        kind: FileKind,
        pages: usize,
    },
    /// The same bytes were stored before; this arrival was added to that document.
    Duplicate {
        document_id: DocumentId,
        sha256: Sha256,
    },
    /// This arrival had been recorded before a crash; nothing more to do.
    AlreadyRecorded { document_id: DocumentId },
    /// The file is unusable; it must be set aside with the reason.
    Rejected {
        code: &'static str,
        error: String,
        #[serde(skip)]
        rejection: Rejection,
    },
}

impl Outcome {
    pub fn document_id(&self) -> Option<DocumentId> {
        match self {
            Outcome::Stored { document_id, .. }
            | Outcome::Duplicate { document_id, .. }
            | Outcome::AlreadyRecorded { document_id } => Some(*document_id),
            Outcome::Rejected { .. } => None,
        }
    }

    /// The `status` as in the serialised form (`stored`, `duplicate`, …).
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Stored { .. } => "stored",
            Outcome::Duplicate { .. } => "duplicate",
            Outcome::AlreadyRecorded { .. } => "already_recorded",
            Outcome::Rejected { .. } => "rejected",
        }
    }

    fn rejected(rejection: Rejection) -> Outcome {
        Outcome::Rejected {
            code: rejection.code(),
            error: rejection.to_string(),
            rejection,
        }
    }
}

/// Why the pipeline's parts could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error(transparent)]
    Rules(#[from] RulesError),
}

/// Where the text is extracted (see [`crate::extract::isolated`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extraction {
    InProcess,
    /// In a child process: for a scan whose previous attempt died with the process.
    Isolated,
}

/// The failpoints around [`Pipeline::record`] on one way in.
struct Failpoints {
    after_blobs: &'static str,
    after_record: &'static str,
}

const SCAN: Failpoints = Failpoints {
    after_blobs: "after-blob",
    after_record: "after-store",
};
const DUPLICATE: Failpoints = Failpoints {
    after_blobs: "before-duplicate-store",
    after_record: "after-duplicate-store",
};
const UPLOAD: Failpoints = Failpoints {
    after_blobs: "after-upload-blobs",
    after_record: "after-upload-store",
};

#[derive(Clone)]
pub struct Pipeline {
    store: Store,
    extractor: Extractor,
    in_flight: Arc<InFlight>,
    rules: Arc<Rules>,
    /// The registry as of its last change (see [`Pipeline::registry`]).
    registry: Arc<Derived<Registry>>,
}

/// Contents being processed right now. Two arrivals of the same bytes at once (the
/// same letter dropped at two sites) are extracted once: the second waits for the
/// first and is then recorded as its duplicate.
#[derive(Default)]
struct InFlight {
    contents: Mutex<HashSet<Sha256>>,
    finished: Condvar,
}

struct InFlightGuard<'a> {
    in_flight: &'a InFlight,
    sha: Sha256,
}

impl InFlight {
    fn enter(&self, sha: &Sha256) -> InFlightGuard<'_> {
        let mut contents = self.contents.lock().unwrap_or_else(|e| e.into_inner());
        while contents.contains(sha) {
            contents = self
                .finished
                .wait(contents)
                .unwrap_or_else(|e| e.into_inner());
        }
        contents.insert(sha.clone());
        InFlightGuard {
            in_flight: self,
            sha: sha.clone(),
        }
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        let mut contents = self
            .in_flight
            .contents
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        contents.remove(&self.sha);
        self.in_flight.finished.notify_all();
    }
}

impl Pipeline {
    pub fn new(store: Store, extractor: Extractor, rules: Rules) -> Pipeline {
        Pipeline {
            store,
            extractor,
            in_flight: Arc::default(),
            rules: Arc::new(rules),
            registry: Arc::default(),
        }
    }

    /// Open the store, bring the index up to date with it and start OCR: all a
    /// process that ingests needs. Blocking (index rebuilds, engine start-up).
    pub fn open(config: &Config) -> Result<(Pipeline, Indexer), OpenError> {
        Pipeline::with_store(config, open_store_patiently(config)?)
    }

    /// Like [`Pipeline::open`], on a store this process holds already.
    pub fn with_store(config: &Config, store: Store) -> Result<(Pipeline, Indexer), OpenError> {
        let indexer = Indexer::open(&config.index_dir, &store)?;
        let rules = Rules::load(config.classify.rules_file.as_deref())?;
        let extractor = Extractor::start(&config.extract)?;
        Ok((Pipeline::new(store, extractor, rules), indexer))
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn extractor(&self) -> &Extractor {
        &self.extractor
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The current registry: reloaded from the store whenever an import or an
    /// absence changed it (one cheap read of a counter per call).
    pub fn registry(&self) -> Result<Arc<Registry>, StoreError> {
        current_registry(&self.store, &self.registry)
    }

    /// The rules and the registry cache, to share with the rest of the daemon
    /// (one copy of a county's registry in memory, not one per part).
    pub fn shared(&self) -> (Arc<Rules>, Arc<Derived<Registry>>) {
        (self.rules.clone(), self.registry.clone())
    }

    /// Read `path` (refusing files over the size limit before reading them) and
    /// process it as the arrival `origin`. Blocking.
    pub fn process_file(
        &self,
        path: &Path,
        origin: Origin,
        mode: Extraction,
    ) -> Result<Outcome, PipelineError> {
        if let Some(id) = self.already_recorded(origin.id)? {
            return Ok(Outcome::AlreadyRecorded { document_id: id });
        }
        match arrival::read(path, self.extractor.limits().max_bytes) {
            Ok(file) => self.process(origin.arrived(file.received_at), &file.bytes, mode),
            Err(Unread::Rejected(rejection)) => Ok(Outcome::rejected(rejection)),
            Err(Unread::Failed(source)) => Err(PipelineError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Process one arrival of `bytes`. Blocking (hashing, OCR, fsync).
    pub fn process(
        &self,
        arrival: NewArrival,
        bytes: &[u8],
        mode: Extraction,
    ) -> Result<Outcome, PipelineError> {
        let result = self.process_counted(arrival, bytes, mode);
        if let Ok(outcome) = &result {
            crate::metrics::metrics().document(outcome.status());
        }
        result
    }

    fn process_counted(
        &self,
        arrival: NewArrival,
        bytes: &[u8],
        mode: Extraction,
    ) -> Result<Outcome, PipelineError> {
        if let Some(id) = self.already_recorded(arrival.id)? {
            return Ok(Outcome::AlreadyRecorded { document_id: id });
        }
        let sha = Sha256::of(bytes);
        let _only_one_at_a_time = self.in_flight.enter(&sha);
        if self.store.documents().by_key(sha.as_str())?.is_some() {
            let duplicate = Recording {
                arrival,
                key: sha.to_string(),
                document: None,
            };
            let recorded = self.record(&[], || Ok(vec![duplicate]), &[], DUPLICATE)?;
            return Ok(outcome(recorded[0], sha, None));
        }
        let extracted = match mode {
            Extraction::InProcess => self.extractor.extract(bytes),
            Extraction::Isolated => self.extractor.extract_isolated(bytes),
        };
        let extracted = match extracted {
            Ok(extracted) => extracted,
            Err(ExtractError::Rejected(rejection)) => return Ok(Outcome::rejected(rejection)),
            Err(ExtractError::Environment(e)) => return Err(e.into()),
        };
        let (kind, pages) = (extracted.kind, extracted.pages.len());
        let registry = self.registry()?;
        let text = crate::model::pages_text(&extracted.pages);
        let classification = crate::classify::classify(&text, &registry, &self.rules);
        let route = crate::route::route(
            &classification.recipient,
            arrival.site.as_deref(),
            &registry,
            crate::clock::today(),
        );
        let postbox_kind = match &route.postbox {
            PostboxId::Caseworker(_) => "caseworker",
            PostboxId::Clearing { .. } => "clearing",
        };
        // The item is made once the original is durable: its routing is
        // dated when it reaches the postbox, not before the blob's fsync.
        let make = || -> Result<Vec<Recording>, PipelineError> {
            let id = self.store.documents().new_id()?;
            let item = Item::routed(
                crate::model::ItemId(self.store.generate_id()?),
                id,
                &arrival.received_at,
                Some(&classification),
                route,
            );
            Ok(vec![Recording {
                arrival,
                key: sha.to_string(),
                document: Some(NewDocument {
                    id,
                    sha256: sha.clone(),
                    size: bytes.len() as u64,
                    kind,
                    pages: extracted.pages,
                    classification: Some(classification),
                    item: Some(item),
                    attachments_in_batch: Vec::new(),
                }),
            }])
        };
        let recorded = self.record(&[(&sha, bytes)], make, &[], SCAN)?;
        if matches!(recorded[0], Recorded::New(_)) {
            crate::metrics::metrics().routed(postbox_kind);
        }
        Ok(outcome(recorded[0], sha, Some((kind, pages))))
    }

    /// The one way documents become durable: their originals first (fsynced),
    /// then the records that point to them (made by `batch` once the originals
    /// are durable), with `audit`, in one transaction.
    fn record(
        &self,
        originals: &[(&Sha256, &[u8])],
        batch: impl FnOnce() -> Result<Vec<Recording>, PipelineError>,
        audit: &[AuditEvent],
        failpoints: Failpoints,
    ) -> Result<Vec<Recorded>, PipelineError> {
        for (sha, bytes) in originals {
            self.store
                .blobs()
                .put(sha, bytes)
                .map_err(PipelineError::Blob)?;
        }
        failpoint::hit(failpoints.after_blobs);
        let batch = batch()?;
        let (recorded, _) = self
            .store
            .documents()
            .record(&batch, audit, Durability::Flushed)?;
        failpoint::hit(failpoints.after_record);
        Ok(recorded)
    }

    fn already_recorded(
        &self,
        arrival: crate::model::ArrivalId,
    ) -> Result<Option<DocumentId>, StoreError> {
        Ok(self
            .store
            .documents()
            .arrival(arrival)?
            .map(|a| a.document_id))
    }
}

/// Open the store with the configuration's reserve of free disk space.
pub fn open_store(config: &Config) -> Result<Store, StoreError> {
    refuse_root_on_foreign_store(&config.store_dir)?;
    let store = Store::open(&config.store_dir)?;
    store.set_min_free_bytes(config.limits.min_free_disk_bytes);
    Ok(store)
}

/// Root may not open another user's store (a daemon, or a command without
/// one): a file it wrote as root could not be written by the store's own user
/// (the eakte system user of a packaged install) afterwards. Through the
/// running daemon root may do everything.
fn refuse_root_on_foreign_store(dir: &std::path::Path) -> Result<(), StoreError> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    match std::fs::metadata(dir) {
        Ok(meta) if meta.uid() != 0 => Err(StoreError::NotOurs {
            path: dir.to_path_buf(),
            owner: crate::os_user::user_name(meta.uid()),
        }),
        // A new store, or root's own: whoever creates it owns it.
        _ => Ok(()),
    }
}

/// How long opening the store waits for a command-line process that holds it
/// (a command run while the daemon was still starting, say).
const STORE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// Like [`open_store`], waiting for a short-lived holder of the store's lock
/// to let go rather than failing at once.
pub fn open_store_patiently(config: &Config) -> Result<Store, StoreError> {
    let deadline = std::time::Instant::now() + STORE_PATIENCE;
    let mut said = false;
    loop {
        match open_store(config) {
            Err(StoreError::Locked { path }) if std::time::Instant::now() < deadline => {
                if !said {
                    tracing::info!(store = %path.display(), "the store is in use by another eakte process; waiting");
                    said = true;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

/// The registry of `store`, from `cache` unless an import or an absence
/// changed it since (one cheap read of a counter per call).
pub fn current_registry(
    store: &Store,
    cache: &Derived<Registry>,
) -> Result<Arc<Registry>, StoreError> {
    let generation = store.registry().generation()?;
    cache.get(|r| r.generation() == generation, || Registry::load(store))
}

fn outcome(recorded: Recorded, sha256: Sha256, new: Option<(FileKind, usize)>) -> Outcome {
    match (recorded, new) {
        (Recorded::New(document_id), Some((kind, pages))) => Outcome::Stored {
            document_id,
            sha256,
            kind,
            pages,
        },
        // Another arrival of the same bytes won the race to record them.
        (Recorded::New(document_id) | Recorded::Duplicate(document_id), _) => Outcome::Duplicate {
            document_id,
            sha256,
        },
        (Recorded::AlreadyRecorded(document_id), _) => Outcome::AlreadyRecorded { document_id },
    }
}
