//! The store: the source of truth. Original bytes live in the content-addressed
//! [`blob::BlobStore`]; metadata lives in sled, one tree per relation:
//!
//! - `documents`:   DocumentId -> [`Document`] (JSON)
//! - `by_sha256`:   content key -> DocumentId (deduplication; the key is the
//!   SHA-256, or `SHA-256@BG` for documents filed into an Akte, so that the same
//!   file in two Akten is two documents and nobody learns of the other one)
//! - `arrivals`:    ArrivalId -> [`Arrival`] (every scan or upload that came in)
//! - `index_queue`: DocumentId -> () (stored but not yet committed to the index)
//! - `attempts`:    ArrivalId -> u32 (how often processing an arrival was started)
//! - `items`:       ItemId -> postbox [`Item`] (JSON), see [`postboxes`]
//! - `postbox_index`: postbox name, 0, ItemId -> DocumentId (the items of each
//!   postbox; stores written before 0.1 hold empty values)
//! - `item_of_document`: DocumentId -> ItemId
//! - `changes`:     change sequence number -> ItemId (the latest change of each
//!   item, for long-polling postboxes)
//! - `akte_index`:  BG number, 0, DocumentId -> () (the documents of each Akte)
//! - `counts`:      "documents" -> u64 (kept in the recording transaction, so
//!   counting never walks the millions of documents)
//! - `persons`, `caseworkers`, `absences`, `registry_meta`: the [registry](crate::registry)
//! - `users`, `tokens`: API [users](crate::users), see [`accounts`]
//! - `audit`, `audit_meta`: the hash-chained [audit trail](crate::audit)
//!
//! Recording a new document writes the document, its arrival, its SHA-256 entry,
//! its place in the index queue and its postbox item in one sled transaction
//! followed by `flush()` (sled 0.34 is durable only after a flush): a document is
//! either fully recorded, queued and routed, or not at all. Because the arrival id
//! is the transaction's idempotency key, repeating the step after a crash is
//! harmless.

pub mod accounts;
pub mod blob;
pub mod hub;
pub mod ids;
pub mod postboxes;

use crate::classify::Classification;
use crate::extract::{FileKind, Page};
use crate::postbox::Item;
use crate::registry::RegistryTrees;
use crate::route::Route;
use blob::BlobStore;
pub use ids::{ArrivalId, DocumentId, ItemId, Sha256};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store at {path} is in use by another eakte process (is `eakte serve` running?)")]
    Locked { path: PathBuf },
    #[error("store database error: {0}")]
    Sled(#[from] sled::Error),
    /// Refused before writing: the disk is (nearly) full or read-only.
    #[error("the store at {path} cannot be written: {reason}")]
    NotWritable { path: PathBuf, reason: String },
    #[error("store I/O error at {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("corrupt record in tree {tree}: {source}")]
    Corrupt {
        tree: &'static str,
        source: serde_json::Error,
    },
}

/// A stored document: one per distinct content.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Document {
    pub id: DocumentId,
    pub sha256: Sha256,
    pub size: u64,
    pub kind: FileKind,
    /// File name of the first arrival, as the scanner wrote it.
    pub original_name: String,
    /// Site (Standort) of the first arrival; `None` for files at the inbox top level.
    pub site: Option<String>,
    /// Receipt time (Eingangsdatum) of the first arrival: the scan file's mtime.
    pub received_at: String,
    /// When the document became durable in the store.
    pub stored_at: String,
    pub pages: Vec<Page>,
    /// Recipient and type (absent in stores written before classification existed).
    #[serde(default)]
    pub classification: Option<Classification>,
    /// The deduplication key when it is not the SHA-256 (see `by_sha256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_key: Option<String>,
    /// For an e-mail: the documents of its attachments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<DocumentId>,
    /// Every arrival of these bytes, first one first.
    pub arrivals: Vec<ArrivalId>,
}

impl Document {
    /// All page texts, pages separated by a form feed (as `pdftotext` does).
    pub fn text(&self) -> String {
        crate::extract::pages_text(&self.pages)
    }

    /// Whether a person filed it straight into an Akte (an upload) rather than
    /// it arriving as post to be routed: only filings are keyed per BG.
    pub fn filed_into_akte(&self) -> bool {
        self.content_key.is_some()
    }

    /// Mean OCR confidence over the OCRed pages, `None` if no page was OCRed.
    pub fn mean_confidence(&self) -> Option<f32> {
        let confs: Vec<f32> = self.pages.iter().filter_map(|p| p.confidence).collect();
        (!confs.is_empty()).then(|| confs.iter().sum::<f32>() / confs.len() as f32)
    }
}

/// One arrival of a file (a scan in the inbox or a file given to `eakte ingest`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Arrival {
    pub id: ArrivalId,
    pub document_id: DocumentId,
    pub original_name: String,
    pub site: Option<String>,
    pub received_at: String,
    pub recorded_at: String,
    /// Where it came from: the path relative to the inbox, or the path given on the CLI.
    pub source: String,
    /// True when the bytes were already stored by an earlier arrival.
    pub duplicate: bool,
}

/// What is known about an arrival before it is recorded.
#[derive(Debug, Clone)]
pub struct NewArrival {
    pub id: ArrivalId,
    pub original_name: String,
    pub site: Option<String>,
    pub received_at: String,
    pub source: String,
}

/// The outcome of [`Store::record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new document was stored.
    New(DocumentId),
    /// The bytes were already stored; this arrival was added to that document.
    Duplicate(DocumentId),
    /// This very arrival had been recorded before (a repeat after a crash).
    AlreadyRecorded(DocumentId),
}

impl Recorded {
    pub fn document_id(self) -> DocumentId {
        match self {
            Recorded::New(id) | Recorded::Duplicate(id) | Recorded::AlreadyRecorded(id) => id,
        }
    }
}

/// What [`Store::record`] stores for a new document.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub sha256: Sha256,
    pub size: u64,
    pub kind: FileKind,
    pub pages: Vec<Page>,
    pub classification: Option<Classification>,
    /// Where its postbox item goes; `None` records the document without an item.
    pub route: Option<Route>,
    pub attachments: Vec<DocumentId>,
}

/// The default of `[limits] min_free_disk_mb`.
pub const DEFAULT_MIN_FREE_BYTES: u64 = 256 * 1024 * 1024;

/// Whether `dir`'s file system is writable with `min_free` bytes to spare.
fn writability(dir: &Path, min_free: u64) -> Result<(), String> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| "the store path contains a NUL byte".to_string())?;
    // SAFETY: statvfs fills the zeroed struct; the path is a valid C string.
    let mut fs: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut fs) } != 0 {
        return Err(format!(
            "cannot examine its file system: {}",
            std::io::Error::last_os_error()
        ));
    }
    if fs.f_flag & libc::ST_RDONLY != 0 {
        return Err("the file system is read-only".to_string());
    }
    let free = fs.f_bavail as u64 * fs.f_frsize as u64;
    if free <= min_free {
        return Err(format!(
            "only {} MB free, {} MB are kept in reserve",
            free / 1_000_000,
            min_free / 1_000_000
        ));
    }
    Ok(())
}

/// The key of the document count in `counts`.
const DOCUMENTS_COUNT: &str = "documents";

fn count_of(value: &[u8]) -> u64 {
    value.try_into().map(u64::from_be_bytes).unwrap_or(0)
}

/// The stored document count; a store from before the counter is counted once
/// (a walk over every document) and the count kept from then on.
fn documents_total(documents: &sled::Tree, counts: &sled::Tree) -> Result<u64, StoreError> {
    if let Some(v) = counts.get(DOCUMENTS_COUNT)? {
        return Ok(count_of(&v));
    }
    let total = documents.len() as u64;
    counts.insert(DOCUMENTS_COUNT, &total.to_be_bytes())?;
    Ok(total)
}

/// sled's own cache: enough for the hot trees (queues, items, indexes).
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    documents: sled::Tree,
    by_sha256: sled::Tree,
    arrivals: sled::Tree,
    index_queue: sled::Tree,
    attempts: sled::Tree,
    items: sled::Tree,
    postbox_index: sled::Tree,
    item_of_document: sled::Tree,
    persons: sled::Tree,
    caseworkers: sled::Tree,
    absences: sled::Tree,
    registry_meta: sled::Tree,
    users: sled::Tree,
    tokens: sled::Tree,
    audit: sled::Tree,
    audit_meta: sled::Tree,
    changes: sled::Tree,
    /// Held while a change number is drawn and committed (see [`Store::record`]).
    change_lock: Arc<std::sync::Mutex<()>>,
    akte_index: sled::Tree,
    counts: sled::Tree,
    /// Where sled writes, and the free space to leave there (see `ensure_writable`).
    db_dir: PathBuf,
    min_free_bytes: Arc<AtomicU64>,
    /// The documents stored, as `counts` holds it after the last commit.
    documents_total: Arc<AtomicU64>,
    /// Wakes long-polls when their postboxes change.
    hub: Arc<hub::ChangeHub>,
    blobs: BlobStore,
}

impl Store {
    /// Open (or create) the store in `dir`: `dir/db` for sled, `dir/blobs` for blobs.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let io = |source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let db = sled::Config::new()
            .path(dir.join("db"))
            // sled caches up to 1 GiB by default; the OS page cache does the rest.
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| match e {
                sled::Error::Io(ref io) if io.to_string().contains("could not acquire lock") => {
                    StoreError::Locked {
                        path: dir.to_path_buf(),
                    }
                }
                other => StoreError::Sled(other),
            })?;
        let changes = db.open_tree("changes")?;
        let documents = db.open_tree("documents")?;
        let counts = db.open_tree("counts")?;
        let documents_total = documents_total(&documents, &counts)?;
        let blobs = BlobStore::open(dir.join("blobs")).map_err(io)?;
        Ok(Store {
            documents,
            counts,
            db_dir: dir.join("db"),
            min_free_bytes: Arc::new(AtomicU64::new(DEFAULT_MIN_FREE_BYTES)),
            documents_total: Arc::new(AtomicU64::new(documents_total)),
            by_sha256: db.open_tree("by_sha256")?,
            arrivals: db.open_tree("arrivals")?,
            index_queue: db.open_tree("index_queue")?,
            attempts: db.open_tree("attempts")?,
            items: db.open_tree("items")?,
            postbox_index: db.open_tree("postbox_index")?,
            item_of_document: db.open_tree("item_of_document")?,
            persons: db.open_tree("persons")?,
            caseworkers: db.open_tree("caseworkers")?,
            absences: db.open_tree("absences")?,
            registry_meta: db.open_tree("registry_meta")?,
            users: db.open_tree("users")?,
            tokens: db.open_tree("tokens")?,
            audit: db.open_tree("audit")?,
            audit_meta: db.open_tree("audit_meta")?,
            hub: Arc::new(hub::ChangeHub::new(last_change(&changes))),
            changes,
            akte_index: db.open_tree("akte_index")?,
            change_lock: Arc::default(),
            db,
            blobs,
        })
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// The free space writes leave on the store's file system (`[limits]
    /// min_free_disk_mb`); shared by all clones of this store.
    pub fn set_min_free_bytes(&self, bytes: u64) {
        self.min_free_bytes.store(bytes, Ordering::Relaxed);
    }

    /// Check before writing that the file system takes writes and keeps its
    /// reserve free. sled 0.34 keeps a failed write's error for good (only a
    /// restart clears it), so a full or read-only disk must be met here, with a
    /// clear error and work that waits, not inside sled. `/healthz` follows.
    /// Called where writing work starts (a scan's attempt, an audited API
    /// call, an audit entry, the index queue), not in each write beneath.
    pub fn ensure_writable(&self) -> Result<(), StoreError> {
        let outcome = writability(&self.db_dir, self.min_free_bytes.load(Ordering::Relaxed));
        crate::health::store_checked(outcome.as_ref().err().map(String::as_str));
        outcome.map_err(|reason| StoreError::NotWritable {
            path: self.db_dir.clone(),
            reason,
        })
    }

    /// The registry's trees.
    pub fn registry_trees(&self) -> RegistryTrees<'_> {
        RegistryTrees {
            persons: &self.persons,
            caseworkers: &self.caseworkers,
            absences: &self.absences,
            meta: &self.registry_meta,
        }
    }

    pub(crate) fn db(&self) -> &sled::Db {
        &self.db
    }

    /// A fresh id, unique across restarts, for anything the store numbers.
    pub(crate) fn generate_id(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()?)
    }

    /// A fresh arrival id, unique across restarts (sled persists the counter).
    pub fn new_arrival_id(&self) -> Result<ArrivalId, StoreError> {
        Ok(ArrivalId(self.db.generate_id()?))
    }

    pub fn document(&self, id: DocumentId) -> Result<Option<Document>, StoreError> {
        get_json(&self.documents, "documents", &id.to_key())
    }

    pub fn arrival(&self, id: ArrivalId) -> Result<Option<Arrival>, StoreError> {
        get_json(&self.arrivals, "arrivals", &id.to_key())
    }

    pub fn document_by_sha256(&self, sha: &Sha256) -> Result<Option<DocumentId>, StoreError> {
        self.document_by_key(sha.as_str())
    }

    /// The document stored under a content key (the SHA-256, or `SHA-256@BG`).
    pub fn document_by_key(&self, key: &str) -> Result<Option<DocumentId>, StoreError> {
        Ok(self
            .by_sha256
            .get(key)?
            .and_then(|v| DocumentId::from_key(&v)))
    }

    /// How many documents are stored (from a counter: no walk over them).
    pub fn document_count(&self) -> usize {
        self.documents_total.load(Ordering::Acquire) as usize
    }

    /// Every document, in id order.
    pub fn documents(&self) -> impl Iterator<Item = Result<Document, StoreError>> + '_ {
        self.documents.iter().values().map(|v| {
            let v = v?;
            serde_json::from_slice(&v).map_err(|source| StoreError::Corrupt {
                tree: "documents",
                source,
            })
        })
    }

    /// Every arrival, in id order.
    pub fn arrivals(&self) -> impl Iterator<Item = Result<Arrival, StoreError>> + '_ {
        self.arrivals.iter().values().map(|v| {
            let v = v?;
            serde_json::from_slice(&v).map_err(|source| StoreError::Corrupt {
                tree: "arrivals",
                source,
            })
        })
    }

    /// Record an arrival durably. `document` is the extraction result when the
    /// caller found no stored document with these bytes; when it is `None` the bytes
    /// must already be stored (a duplicate). The blob must already be durable.
    pub fn record(
        &self,
        arrival: NewArrival,
        document: Option<NewDocument>,
        key: &str,
    ) -> Result<Recorded, StoreError> {
        self.record_with(arrival, document, key, true)
    }

    /// Like [`Store::record`], but without making it durable: for loading many
    /// documents at once (benchmark corpora, migrations), followed by one
    /// [`Store::flush`]. A crash before that flush may lose any of them.
    pub fn record_unflushed(
        &self,
        arrival: NewArrival,
        document: Option<NewDocument>,
        key: &str,
    ) -> Result<Recorded, StoreError> {
        self.record_with(arrival, document, key, false)
    }

    fn record_with(
        &self,
        arrival: NewArrival,
        document: Option<NewDocument>,
        key: &str,
        durable: bool,
    ) -> Result<Recorded, StoreError> {
        // Change numbers must commit in the order they are drawn, or a long-poll
        // that already moved past a number would never see its change.
        let _in_order = self.change_lock.lock().unwrap_or_else(|e| e.into_inner());
        // Ids are drawn outside the transaction (sled may retry the closure); an id
        // that ends up unused is simply skipped.
        let fresh_id = DocumentId(self.db.generate_id()?);
        let item_id = ItemId(self.db.generate_id()?);
        let change = self.db.generate_id()?;
        let now = crate::timefmt::now();
        let trees = (
            &self.documents,
            &self.by_sha256,
            &self.arrivals,
            &self.index_queue,
            &self.items,
            &self.postbox_index,
            &self.item_of_document,
            &self.changes,
            &self.akte_index,
            &self.counts,
        );
        let outcome = trees
            .transaction(
                |(
                    documents,
                    by_sha256,
                    arrivals,
                    index_queue,
                    items,
                    postbox_index,
                    item_of_document,
                    changes,
                    akte_index,
                    counts,
                )| {
                    if let Some(existing) = arrivals.get(arrival.id.to_key())? {
                        let a: Arrival = serde_json::from_slice(&existing)
                            .map_err(ConflictableTransactionError::Abort)?;
                        return Ok(Recorded::AlreadyRecorded(a.document_id));
                    }
                    let (outcome, doc) = match by_sha256
                        .get(key)?
                        .and_then(|v| DocumentId::from_key(&v))
                    {
                        Some(id) => {
                            let raw = documents.get(id.to_key())?.ok_or_else(|| {
                                ConflictableTransactionError::Abort(serde_json::Error::io(
                                    std::io::Error::other("by_sha256 points to a missing document"),
                                ))
                            })?;
                            let mut doc: Document = serde_json::from_slice(&raw)
                                .map_err(ConflictableTransactionError::Abort)?;
                            doc.arrivals.push(arrival.id);
                            (Recorded::Duplicate(id), doc)
                        }
                        None => {
                            let Some(new) = document.as_ref() else {
                                return Err(ConflictableTransactionError::Abort(
                                    serde_json::Error::io(std::io::Error::other(
                                        "a duplicate was announced but its document is not stored",
                                    )),
                                ));
                            };
                            by_sha256.insert(key, &fresh_id.to_key())?;
                            index_queue.insert(&fresh_id.to_key(), &[])?;
                            let total = counts.get(DOCUMENTS_COUNT)?.map_or(0, |v| count_of(&v));
                            counts.insert(DOCUMENTS_COUNT, &(total + 1).to_be_bytes())?;
                            let doc = Document {
                                id: fresh_id,
                                sha256: new.sha256.clone(),
                                size: new.size,
                                kind: new.kind,
                                original_name: arrival.original_name.clone(),
                                site: arrival.site.clone(),
                                received_at: arrival.received_at.clone(),
                                stored_at: now.clone(),
                                pages: new.pages.clone(),
                                classification: new.classification.clone(),
                                content_key: (key != new.sha256.as_str()).then(|| key.to_string()),
                                attachments: new.attachments.clone(),
                                arrivals: vec![arrival.id],
                            };
                            if let Some(route) = &new.route {
                                let mut item = Item::new(&doc, route.clone());
                                item.id = item_id;
                                item.seq = change;
                                changes.insert(&change.to_be_bytes(), &item_id.to_key())?;
                                items.insert(&item_id.to_key(), to_json(&item))?;
                                postbox_index.insert(
                                    postboxes::index_key(&item),
                                    &item.document_id.to_key(),
                                )?;
                                item_of_document.insert(&fresh_id.to_key(), &item_id.to_key())?;
                            }
                            if let Some(key) = akte_key(&doc) {
                                akte_index.insert(key, &[])?;
                            }
                            (Recorded::New(fresh_id), doc)
                        }
                    };
                    let record = Arrival {
                        id: arrival.id,
                        document_id: doc.id,
                        original_name: arrival.original_name.clone(),
                        site: arrival.site.clone(),
                        received_at: arrival.received_at.clone(),
                        recorded_at: now.clone(),
                        source: arrival.source.clone(),
                        duplicate: matches!(outcome, Recorded::Duplicate(_)),
                    };
                    documents.insert(&doc.id.to_key(), to_json(&doc))?;
                    arrivals.insert(&arrival.id.to_key(), to_json(&record))?;
                    Ok(outcome)
                },
            )
            .map_err(|e| match e {
                TransactionError::Abort(source) => StoreError::Corrupt {
                    tree: "documents",
                    source,
                },
                TransactionError::Storage(e) => StoreError::Sled(e),
            })?;
        if matches!(outcome, Recorded::New(_)) {
            self.documents_total.fetch_add(1, Ordering::AcqRel);
        }
        if durable {
            self.db.flush()?;
        }
        if let (Recorded::New(_), Some(route)) =
            (&outcome, document.as_ref().and_then(|d| d.route.as_ref()))
        {
            self.hub.publish(change, &[&route.postbox]);
        }
        Ok(outcome)
    }

    /// Up to `limit` documents that are stored but not yet in the index.
    pub fn pending_index(&self, limit: usize) -> Result<Vec<DocumentId>, StoreError> {
        self.index_queue
            .iter()
            .keys()
            .take(limit)
            .map(|k| Ok(DocumentId::from_key(&k?).expect("index_queue keys are document ids")))
            .collect()
    }

    /// How many documents wait to be indexed.
    pub fn pending_index_len(&self) -> usize {
        self.index_queue.len()
    }

    pub fn is_pending_index(&self, id: DocumentId) -> Result<bool, StoreError> {
        Ok(self.index_queue.contains_key(id.to_key())?)
    }

    /// Called after an index commit that contains `ids`. Not flushed on purpose:
    /// if this is lost in a crash the documents are indexed again, which is harmless.
    pub fn mark_indexed(&self, ids: &[DocumentId]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for id in ids {
            batch.remove(&id.to_key());
        }
        self.index_queue.apply_batch(batch)?;
        Ok(())
    }

    /// Forget the whole index queue (after a full rebuild of the index).
    pub fn clear_index_queue(&self) -> Result<(), StoreError> {
        self.index_queue.clear()?;
        Ok(())
    }

    /// Count one more attempt at processing `arrival`, durably, before the attempt
    /// starts; returns the count including this one. A scan that crashes the whole
    /// process (a bug in a C library, say) would otherwise be resumed and crash it
    /// again on every start.
    pub fn begin_attempt(&self, arrival: ArrivalId) -> Result<u32, StoreError> {
        let count = self
            .attempts
            .update_and_fetch(arrival.to_key(), |old| {
                let n = old
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map_or(0, u32::from_be_bytes);
                Some((n + 1).to_be_bytes().to_vec())
            })?
            .and_then(|b| <[u8; 4]>::try_from(&b[..]).ok())
            .map_or(1, u32::from_be_bytes);
        self.db.flush()?;
        Ok(count)
    }

    /// The arrival is finished (stored or set aside): forget its attempts. Not
    /// flushed: a stale counter only matters for an arrival that is never seen again.
    pub fn end_attempts(&self, arrival: ArrivalId) -> Result<(), StoreError> {
        self.attempts.remove(arrival.to_key())?;
        Ok(())
    }

    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

/// The error of a transaction whose closure never aborts: only storage can fail.
pub(crate) fn never_aborted(e: TransactionError<()>) -> StoreError {
    match e {
        TransactionError::Storage(e) => StoreError::Sled(e),
        TransactionError::Abort(()) => unreachable!("the closure never aborts"),
    }
}

/// The key of a document in the Akte index, if it belongs to a BG.
pub(crate) fn akte_key(doc: &Document) -> Option<Vec<u8>> {
    let bg = doc.classification.as_ref()?.recipient.bg()?;
    let mut key = bg.as_str().as_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(&doc.id.to_key());
    Some(key)
}

/// The highest change sequence number in the `changes` tree.
fn last_change(changes: &sled::Tree) -> u64 {
    changes
        .last()
        .ok()
        .flatten()
        .and_then(|(k, _)| <[u8; 8]>::try_from(&k[..]).ok())
        .map_or(0, u64::from_be_bytes)
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("store records serialise")
}

pub(crate) fn from_json<T: for<'de> Deserialize<'de>>(
    tree: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt { tree, source })
}

pub(crate) fn get_json<T: for<'de> Deserialize<'de>>(
    tree: &sled::Tree,
    name: &'static str,
    key: &[u8],
) -> Result<Option<T>, StoreError> {
    match tree.get(key)? {
        None => Ok(None),
        Some(v) => serde_json::from_slice(&v)
            .map(Some)
            .map_err(|source| StoreError::Corrupt { tree: name, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::PageSource;

    fn arrival(store: &Store, name: &str) -> NewArrival {
        NewArrival {
            id: store.new_arrival_id().unwrap(),
            original_name: name.into(),
            site: Some("husum".into()),
            received_at: "2026-11-24T08:00:00Z".into(),
            source: format!("husum/{name}"),
        }
    }

    fn new_doc(bytes: &[u8]) -> NewDocument {
        NewDocument {
            sha256: Sha256::of(bytes),
            size: bytes.len() as u64,
            kind: FileKind::Png,
            pages: vec![Page {
                number: 1,
                text: "Antrag".into(),
                confidence: Some(91.0),
                source: PageSource::Ocr,
                rotation: 0,
            }],
            classification: None,
            route: None,
            attachments: Vec::new(),
        }
    }

    #[test]
    fn same_bytes_twice_is_one_document_with_two_arrivals() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let sha = Sha256::of(b"x");
        let first = store
            .record(arrival(&store, "a.png"), Some(new_doc(b"x")), sha.as_str())
            .unwrap();
        let second = store
            .record(arrival(&store, "b.png"), None, sha.as_str())
            .unwrap();
        let Recorded::New(id) = first else {
            panic!("{first:?}")
        };
        assert_eq!(second, Recorded::Duplicate(id));
        assert_eq!(store.document_count(), 1);
        let doc = store.document(id).unwrap().unwrap();
        assert_eq!(doc.arrivals.len(), 2);
        assert_eq!(doc.original_name, "a.png");
        assert_eq!(store.arrivals().count(), 2);
    }

    #[test]
    fn the_document_count_is_kept_across_restarts_and_counted_once_for_old_stores() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for bytes in [&b"a"[..], b"b", b"c"] {
            let sha = Sha256::of(bytes);
            store
                .record(arrival(&store, "x.png"), Some(new_doc(bytes)), sha.as_str())
                .unwrap();
        }
        assert_eq!(store.document_count(), 3);
        // A store written before the counter existed: counted when opened.
        store.counts.remove(DOCUMENTS_COUNT).unwrap();
        drop(store);
        let store = reopen(dir.path());
        assert_eq!(store.document_count(), 3);
        let sha = Sha256::of(b"d");
        store
            .record(arrival(&store, "d.png"), Some(new_doc(b"d")), sha.as_str())
            .unwrap();
        drop(store);
        assert_eq!(reopen(dir.path()).document_count(), 4);
    }

    /// Open the store again once this process's last handle let go of its lock.
    fn reopen(dir: &Path) -> Store {
        for _ in 0..100 {
            match Store::open(dir) {
                Err(StoreError::Locked { .. }) => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                other => return other.unwrap(),
            }
        }
        panic!("the store stayed locked");
    }

    #[test]
    fn repeating_an_arrival_after_a_crash_records_nothing_new() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let sha = Sha256::of(b"y");
        let a = arrival(&store, "a.png");
        let first = store
            .record(a.clone(), Some(new_doc(b"y")), sha.as_str())
            .unwrap();
        let again = store.record(a, Some(new_doc(b"y")), sha.as_str()).unwrap();
        assert_eq!(again, Recorded::AlreadyRecorded(first.document_id()));
        assert_eq!(store.arrivals().count(), 1);
        assert_eq!(
            store
                .document(first.document_id())
                .unwrap()
                .unwrap()
                .arrivals
                .len(),
            1
        );
    }
}
