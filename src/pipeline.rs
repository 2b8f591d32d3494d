//! One arrival from bytes to a durable document: hash, deduplicate, extract, store
//! the blob, record the metadata. Indexing follows asynchronously from the store's
//! queue (see [`crate::index::indexer`]).
//!
//! Every step may be repeated after a crash: the arrival id decides whether this
//! arrival was already recorded, the SHA-256 whether its bytes were, and writing a
//! blob that exists is a no-op. The blob is durable before the metadata that points
//! to it, and the caller removes the scan from the inbox only after `process`
//! returned, when the metadata is flushed.

use crate::classify::doctype::{Rules, RulesError};
use crate::config::Config;
use crate::derived::Derived;
use crate::extract::{ExtractError, Extractor, FileKind, Rejection};
use crate::failpoint;
use crate::index::indexer::Indexer;
use crate::index::IndexError;
use crate::registry::Registry;
use crate::store::{DocumentId, NewArrival, NewDocument, Recorded, Sha256, Store, StoreError};
use serde::Serialize;
use std::collections::HashSet;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// eakte's own environment failed; the arrival must be tried again later.
    #[error("{0}")]
    System(String),
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

    pub fn extractor(&self) -> &Extractor {
        &self.extractor
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The current registry: reloaded from the store whenever an import or an
    /// absence changed it (one cheap read of a counter per call).
    pub fn registry(&self) -> Result<Arc<Registry>, StoreError> {
        let generation = self.store.registry_trees().generation()?;
        self.registry.get(
            |r| r.generation() == generation,
            || Registry::load(&self.store),
        )
    }

    /// Open the store, bring the index up to date with it and start OCR: all a
    /// process that ingests needs. Blocking (index rebuilds, engine start-up).
    pub fn open(config: &Config) -> Result<(Pipeline, Indexer), OpenError> {
        let store = Store::open(&config.store_dir)?;
        store.set_min_free_bytes(config.limits.min_free_disk_bytes);
        let indexer = Indexer::open(&config.index_dir, &store)?;
        let rules = Rules::load(config.classify.rules_file.as_deref())?;
        let extractor = Extractor::start(config)?;
        Ok((Pipeline::new(store, extractor, rules), indexer))
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Read `path` (refusing files over the size limit before reading them) and
    /// process its bytes. Blocking.
    pub fn process_file(
        &self,
        path: &Path,
        arrival: NewArrival,
        mode: Extraction,
    ) -> Result<Outcome, PipelineError> {
        if let Some(id) = self.already_recorded(&arrival)? {
            return Ok(Outcome::AlreadyRecorded { document_id: id });
        }
        let max = self.extractor.limits().max_bytes;
        let read_error = |e: std::io::Error| {
            PipelineError::System(format!("cannot read {}: {e}", path.display()))
        };
        // Never follow a symlink: a share user could swap a settled scan for a
        // link to any file the daemon may read.
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path);
        let file = match opened {
            Ok(file) => file,
            // The scan's own permissions, not eakte's environment: set it aside
            // rather than retrying it forever.
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Ok(Outcome::rejected(Rejection::Unreadable {
                    detail: e.to_string(),
                }));
            }
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Ok(Outcome::rejected(Rejection::Unsupported {
                    what: "eine Verknüpfung (Symlink), keine Datei".into(),
                }));
            }
            Err(e) => return Err(read_error(e)),
        };
        let meta = file.metadata().map_err(read_error)?;
        if !meta.is_file() {
            return Ok(Outcome::rejected(Rejection::Unsupported {
                what: "keine normale Datei".into(),
            }));
        }
        let size = meta.len();
        if size > max {
            return Ok(Outcome::rejected(Rejection::TooLarge { size, max }));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        file.take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        self.process(arrival, &bytes, mode)
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
        if let Some(id) = self.already_recorded(&arrival)? {
            return Ok(Outcome::AlreadyRecorded { document_id: id });
        }
        let sha = Sha256::of(bytes);
        let _only_one_at_a_time = self.in_flight.enter(&sha);
        if self.store.document_by_sha256(&sha)?.is_some() {
            let recorded = self.store.record(arrival, None, sha.as_str())?;
            failpoint::hit("after-store");
            return Ok(outcome(recorded, sha, None));
        }
        let extracted = match mode {
            Extraction::InProcess => self.extractor.extract(bytes),
            Extraction::Isolated => self.extractor.extract_isolated(bytes),
        };
        let extracted = match extracted {
            Ok(extracted) => extracted,
            Err(ExtractError::Rejected(rejection)) => return Ok(Outcome::rejected(rejection)),
            Err(ExtractError::System(message)) => return Err(PipelineError::System(message)),
        };
        self.store.blobs().put(&sha, bytes).map_err(|e| {
            PipelineError::System(format!("cannot write the original to the blob store: {e}"))
        })?;
        failpoint::hit("after-blob");
        let kind = extracted.kind;
        let pages = extracted.pages.len();
        let registry = self.registry()?;
        let text = crate::extract::pages_text(&extracted.pages);
        let classification = crate::classify::classify(&text, &registry, &self.rules);
        let route = crate::route::route(
            &classification.recipient,
            arrival.site.as_deref(),
            &registry,
            crate::timefmt::today(),
        );
        let document = NewDocument {
            sha256: sha.clone(),
            size: bytes.len() as u64,
            kind,
            pages: extracted.pages,
            classification: Some(classification),
            route: Some(route),
            attachments: Vec::new(),
        };
        let postbox_kind = match document.route.as_ref().map(|r| &r.postbox) {
            Some(crate::postbox::PostboxId::Caseworker(_)) => "caseworker",
            _ => "clearing",
        };
        let recorded = self.store.record(arrival, Some(document), sha.as_str())?;
        failpoint::hit("after-store");
        if matches!(recorded, Recorded::New(_)) {
            crate::metrics::metrics().routed(postbox_kind);
        }
        Ok(outcome(recorded, sha, Some((kind, pages))))
    }

    fn already_recorded(&self, arrival: &NewArrival) -> Result<Option<DocumentId>, StoreError> {
        Ok(self.store.arrival(arrival.id)?.map(|a| a.document_id))
    }
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
