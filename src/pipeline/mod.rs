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
pub mod batch;
pub mod check;
pub mod coversheet;
pub mod ingest;
pub mod scans;
pub mod transfer;
pub mod upload;

use crate::classify::doctype::{Rules, RulesError};
use crate::config::{BatchConfig, Config};
use crate::derived::Derived;
use crate::extract::{EnvironmentError, ExtractError, Extractor, Rejection};
use crate::failpoint;
use crate::index::indexer::Indexer;
use crate::index::IndexError;
use crate::model::{
    AuditEvent, BatchPart, Classification, DocumentId, FileKind, Item, ItemId, Method, Page,
    PageSource, PostboxId, Recognition, Route, Sha256,
};
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
    /// A stack with separator sheets, stored whole and cut into letters.
    Split {
        /// The stack.
        document_id: DocumentId,
        sha256: Sha256,
        kind: FileKind,
        pages: usize,
        /// The letters cut from it, in order.
        parts: Vec<DocumentId>,
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
            | Outcome::Split { document_id, .. }
            | Outcome::Duplicate { document_id, .. }
            | Outcome::AlreadyRecorded { document_id } => Some(*document_id),
            Outcome::Rejected { .. } => None,
        }
    }

    /// The `status` as in the serialised form (`stored`, `duplicate`, …).
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Stored { .. } => "stored",
            Outcome::Split { .. } => "split",
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
const BATCH: Failpoints = Failpoints {
    after_blobs: "after-batch-blobs",
    after_record: "after-batch-store",
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
    /// Where stacks are cut at their separator sheets.
    batch: Arc<BatchConfig>,
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
    pub fn new(store: Store, extractor: Extractor, rules: Rules, batch: BatchConfig) -> Pipeline {
        Pipeline {
            store,
            extractor,
            in_flight: Arc::default(),
            rules: Arc::new(rules),
            registry: Arc::default(),
            batch: Arc::new(batch),
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
        Ok((
            Pipeline::new(store, extractor, rules, config.batch.clone()),
            indexer,
        ))
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
        let registry = self.registry()?;
        if self.batch.splits_at(arrival.site.as_deref()) {
            if let Some(letters) = batch::cut(&extracted.pages) {
                return self.record_batch(arrival, bytes, sha, extracted, &letters, &registry);
            }
        }
        let (kind, pages) = (extracted.kind, extracted.pages.len());
        let recognised = self.recognise(&extracted.pages, arrival.site.as_deref(), &registry)?;
        let postbox_kind = recognised.postbox_kind();
        // The item is made once the original is durable: its routing is
        // dated when it reaches the postbox, not before the blob's fsync.
        let make = || -> Result<Vec<Recording>, PipelineError> {
            let id = self.store.documents().new_id()?;
            let item = recognised.item(self.store.generate_id()?, id, &arrival.received_at);
            Ok(vec![Recording {
                arrival,
                key: sha.to_string(),
                document: Some(NewDocument {
                    id,
                    sha256: sha.clone(),
                    size: bytes.len() as u64,
                    kind,
                    pages: extracted.pages,
                    classification: Some(recognised.classification),
                    item: Some(item),
                    attachments_in_batch: Vec::new(),
                    batch: None,
                    parts_in_batch: Vec::new(),
                    opened_with: extracted.opened_with,
                }),
            }])
        };
        let recorded = self.record(&[(&sha, bytes)], make, &[], SCAN)?;
        if matches!(recorded[0], Recorded::New(_)) {
            crate::metrics::metrics().routed(postbox_kind);
        }
        Ok(outcome(recorded[0], sha, Some((kind, pages))))
    }

    /// Recipient, type and route of a document of `pages` that came in at
    /// `site`: by its Deckblatt if its first page is one (certain when the
    /// check value matches, clearing when not), else by what its text says.
    fn recognise(
        &self,
        pages: &[Page],
        site: Option<&str>,
        registry: &Registry,
    ) -> Result<Recognised, StoreError> {
        let text = crate::model::pages_text(pages);
        let mut classification = crate::classify::classify(&text, registry, &self.rules);
        let today = crate::clock::today();
        let cover = pages
            .first()
            .filter(|p| p.source == PageSource::CoverSheet)
            .and_then(|p| p.code.as_deref());
        let mut answers = None;
        match cover
            .map(|code| coversheet::check(&self.store, code))
            .transpose()?
        {
            None => {}
            Some(coversheet::Verdict::Trusted { bg, item }) => {
                // The item it answers, if it is still there and of this BG.
                if let Some(id) = item {
                    answers = self
                        .store
                        .postboxes()
                        .item(id)?
                        .filter(|i| i.bg.as_ref() == Some(&bg))
                        .map(|i| i.id);
                }
                classification.recipient = Recognition::Identified {
                    bg: bg.clone(),
                    kundennummer: None,
                    method: Method::CoverSheet,
                    matched: match answers {
                        Some(ItemId(n)) => format!(
                            "Deckblatt für BG {bg}, Antwort auf Vorgang {n}, Prüfwert gültig"
                        ),
                        None => format!("Deckblatt für BG {bg}, Prüfwert gültig"),
                    },
                    confidence: 1.0,
                };
            }
            Some(coversheet::Verdict::Untrusted { printed }) => {
                classification.recipient = Recognition::NotFound {
                    evidence: vec![format!(
                        "Deckblatt mit ungültigem Prüfwert (BG laut Blatt: {printed}); der Text des Schreibens entscheidet nicht"
                    )],
                };
                return Ok(Recognised {
                    classification,
                    route: crate::route::untrusted_cover_sheet(site, &printed),
                    answers: None,
                });
            }
        }
        let route = crate::route::route(&classification.recipient, site, registry, today);
        Ok(Recognised {
            classification,
            route,
            answers,
        })
    }

    /// Store a stack whole and each of its `letters` (page indices) as a
    /// document of its own, with its own recipient, route and item, all in one
    /// transaction: after a crash there are all of them or none, and the
    /// stack's arrival says whether it was recorded.
    fn record_batch(
        &self,
        arrival: NewArrival,
        bytes: &[u8],
        sha: Sha256,
        extracted: crate::extract::Extracted,
        letters: &[Vec<usize>],
        registry: &Registry,
    ) -> Result<Outcome, PipelineError> {
        let (kind, pages) = (extracted.kind, extracted.pages.len());
        let numbers: Vec<Vec<u32>> = letters
            .iter()
            .map(|l| l.iter().map(|&i| i as u32 + 1).collect())
            .collect();
        let password = extracted
            .opened_with
            .and_then(|n| self.extractor.limits().pdf_passwords.0.get(n as usize - 1));
        let cut = self.cut(bytes, kind, pages, &numbers, password.map(String::as_str))?;
        let mut parts = Vec::with_capacity(letters.len());
        for (letter, file) in letters.iter().zip(cut) {
            let pages = batch::pages_of(&extracted.pages, letter);
            let recognised = self.recognise(&pages, arrival.site.as_deref(), registry)?;
            parts.push((Sha256::of(&file), file, pages, recognised));
        }
        let n = parts.len() as u32;
        let stem = std::path::Path::new(&arrival.original_name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "stapel".into());
        let make = || -> Result<Vec<Recording>, PipelineError> {
            let documents = self.store.documents();
            let stack_id = documents.new_id()?;
            let mut recordings = Vec::with_capacity(parts.len() + 1);
            for (k, ((sha, file, pages, recognised), numbers)) in
                parts.iter().zip(&numbers).enumerate()
            {
                let k = k as u32 + 1;
                let id = documents.new_id()?;
                let item = recognised.item(self.store.generate_id()?, id, &arrival.received_at);
                recordings.push(Recording {
                    arrival: NewArrival {
                        id: documents.new_arrival_id()?,
                        original_name: format!("{stem}-teil-{k}.pdf"),
                        site: arrival.site.clone(),
                        received_at: arrival.received_at.clone(),
                        source: format!(
                            "{} (Teil {k} von {n}, Seiten {})",
                            arrival.source,
                            batch::page_list(numbers)
                        ),
                    },
                    key: sha.to_string(),
                    document: Some(NewDocument {
                        id,
                        sha256: sha.clone(),
                        size: file.len() as u64,
                        kind: FileKind::Pdf,
                        pages: pages.clone(),
                        classification: Some(recognised.classification.clone()),
                        item: Some(item),
                        attachments_in_batch: Vec::new(),
                        batch: Some(BatchPart {
                            batch: stack_id,
                            part: k,
                            parts: n,
                            pages: numbers.clone(),
                        }),
                        parts_in_batch: Vec::new(),
                        // Cut from the decrypted stack: a letter opens by itself.
                        opened_with: None,
                    }),
                });
            }
            recordings.push(Recording {
                arrival,
                key: sha.to_string(),
                document: Some(NewDocument {
                    id: stack_id,
                    sha256: sha.clone(),
                    size: bytes.len() as u64,
                    kind,
                    pages: batch::stack_pages(&extracted.pages),
                    classification: None,
                    item: None,
                    attachments_in_batch: Vec::new(),
                    batch: None,
                    parts_in_batch: (0..parts.len()).collect(),
                    opened_with: extracted.opened_with,
                }),
            });
            Ok(recordings)
        };
        let mut originals: Vec<(&Sha256, &[u8])> = vec![(&sha, bytes)];
        originals.extend(parts.iter().map(|(sha, file, _, _)| (sha, file.as_slice())));
        let recorded = self.record(&originals, make, &[], BATCH)?;
        let (stack, letters) = recorded.split_last().expect("the stack is recorded last");
        match stack {
            Recorded::New(document_id) => {
                for (part, (_, _, _, recognised)) in letters.iter().zip(&parts) {
                    if matches!(part, Recorded::New(_)) {
                        crate::metrics::metrics().routed(recognised.postbox_kind());
                    }
                }
                Ok(Outcome::Split {
                    document_id: *document_id,
                    sha256: sha,
                    kind,
                    pages,
                    parts: letters.iter().map(|r| r.document_id()).collect(),
                })
            }
            other => Ok(outcome(*other, sha, None)),
        }
    }

    /// The letters' own PDFs, cut from the stack's bytes.
    fn cut(
        &self,
        bytes: &[u8],
        kind: FileKind,
        pages: usize,
        numbers: &[Vec<u32>],
        password: Option<&str>,
    ) -> Result<Vec<Vec<u8>>, PipelineError> {
        let failed = |doing: &str, e: &dyn std::fmt::Display| {
            PipelineError::Environment(EnvironmentError::new(doing, e))
        };
        let scratch = tempfile::tempdir()
            .map_err(|e| failed("cannot make a scratch folder to cut a stack", &e))?;
        let original = scratch.path().join("stapel");
        std::fs::write(&original, bytes)
            .map_err(|e| failed("cannot write the stack to cut it", &e))?;
        let timeout = self.extractor.limits().tool_timeout;
        let files = crate::exchange::pdf::cut::cut(
            &original,
            kind,
            pages,
            numbers,
            password,
            scratch.path(),
            timeout,
        )
        .map_err(|e| failed("cannot cut the stack into letters", &e))?;
        let mut out = Vec::with_capacity(files.len());
        for (i, file) in files.iter().enumerate() {
            out.push(
                std::fs::read(file)
                    .map_err(|e| failed("cannot read a letter cut from the stack", &e))?,
            );
            if i == 0 {
                failpoint::hit("during-batch-cut");
            }
        }
        Ok(out)
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

/// What [`Pipeline::recognise`] decided for one document.
struct Recognised {
    classification: Classification,
    route: Route,
    /// The item a trusted Deckblatt said this answers.
    answers: Option<ItemId>,
}

impl Recognised {
    fn postbox_kind(&self) -> &'static str {
        match &self.route.postbox {
            PostboxId::Caseworker(_) => "caseworker",
            PostboxId::Clearing { .. } => "clearing",
        }
    }

    /// Its postbox item, for document `document` received at `received_at`.
    fn item(&self, id: u64, document: DocumentId, received_at: &str) -> Item {
        let mut item = Item::routed(
            ItemId(id),
            document,
            received_at,
            Some(&self.classification),
            self.route.clone(),
        );
        item.answers = self.answers;
        item
    }
}
