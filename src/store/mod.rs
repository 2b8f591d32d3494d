//! The store: the source of truth. Original bytes live in the content-addressed
//! [`blob::BlobStore`]; records live in sled, one tree per relation, each
//! relation behind a small face of its own:
//!
//! - [`documents`]: `documents` (DocumentId -> [`Document`](crate::model::Document)),
//!   `by_sha256` (content key -> DocumentId: the SHA-256, or `SHA-256@BG` for
//!   documents filed into an Akte, so that the same file in two Akten is two
//!   documents and nobody learns of the other one), `arrivals`, `index_queue`
//!   (stored but not yet committed to the index), `attempts` (how often an
//!   arrival's processing was started), `akte_index` (BG, 0, DocumentId) and
//!   `counts` (the document count, kept in the recording transaction);
//! - [`postboxes`]: `items`, `postbox_index` (postbox, 0, ItemId -> DocumentId),
//!   `item_of_document` and `changes` (change number -> ItemId, the latest
//!   change of each item, for long-polling), with the wake-ups of long-polls;
//! - [`registry`]: `persons`, `caseworkers`, `absences`, `registry_meta`;
//! - [`accounts`]: `users`, `tokens` (token SHA-256 -> user id);
//! - [`pending`]: `pending`, access changes waiting for a second admin;
//! - [`audit`]: `audit`, `audit_meta`, the hash-chained trail.
//!
//! The store knows the records of [`crate::model`] and nothing of what they
//! mean: postbox items are built by the postbox layer and handed in whole.
//!
//! Every write is one sled transaction over the trees it needs plus the audit
//! trail, followed by `flush()` (sled 0.34 is durable only after a flush): a
//! change and the audit entries that record it commit together or not at all
//! (see [`Store::transact`]). Recording a document writes the document, its
//! arrival, its SHA-256 entry, its place in the index queue and its postbox item
//! in one such transaction; because the arrival id is its idempotency key,
//! repeating the step after a crash is harmless.

pub mod accounts;
pub mod audit;
pub mod blob;
mod codec;
pub mod documents;
mod hub;
pub mod pending;
pub mod postboxes;
pub mod registry;
mod tx;

pub use documents::{NewArrival, NewDocument, Recorded, Recording};
pub(crate) use tx::TxResult;
pub use tx::{Durability, TxError};

use crate::model::{AuditEntry, AuditEvent};
use blob::BlobStore;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store at {path} is in use by another eakte process (is `eakte serve` running?)")]
    Locked { path: PathBuf },
    #[error(
        "the store at {path} belongs to {owner}: run the command as {owner} \
         (sudo -u {owner} eakte …), so that no file of the store becomes root's"
    )]
    NotOurs { path: PathBuf, owner: String },
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
    /// Records that should agree do not (a bug, or a store edited by hand).
    #[error("inconsistent records in tree {tree}: {detail}")]
    Inconsistent { tree: &'static str, detail: String },
}

/// sled's own cache: enough for the hot trees (queues, items, indexes).
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Declares the store's trees once: their sled names, the handles, and the
/// same trees inside a transaction.
macro_rules! trees {
    ($($name:ident),* $(,)?) => {
        /// Every tree of the store, by relation.
        #[derive(Clone)]
        pub(crate) struct Trees {
            $(pub(crate) $name: sled::Tree,)*
        }

        impl Trees {
            fn open(db: &sled::Db) -> sled::Result<Trees> {
                Ok(Trees { $($name: db.open_tree(stringify!($name))?,)* })
            }

            /// All trees, in declaration order (a transaction spans them all).
            fn all(&self) -> Vec<&sled::Tree> {
                vec![$(&self.$name),*]
            }
        }

        /// The store's trees inside one transaction. A transaction spans
        /// every tree (sled serialises transactions anyway), though not every
        /// relation is written in one.
        #[allow(dead_code)]
        pub(crate) struct Tx {
            $(pub(crate) $name: sled::transaction::TransactionalTree,)*
        }

        impl Tx {
            fn from_views(views: &[sled::transaction::TransactionalTree]) -> Tx {
                let mut views = views.iter().cloned();
                Tx { $($name: views.next().expect("one view per tree"),)* }
            }
        }
    };
}

trees!(
    documents,
    by_sha256,
    arrivals,
    index_queue,
    attempts,
    akte_index,
    counts,
    items,
    postbox_index,
    item_of_document,
    changes,
    persons,
    caseworkers,
    absences,
    registry_meta,
    users,
    tokens,
    pending,
    audit,
    audit_meta,
);

#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    trees: Arc<Trees>,
    /// Held while a change number is drawn and committed: change numbers must
    /// commit in the order they are drawn, or a long-poll that already moved
    /// past a number would never see its change.
    change_lock: Arc<std::sync::Mutex<()>>,
    /// Where sled writes, and the free space to leave there (see `ensure_writable`).
    db_dir: PathBuf,
    min_free_bytes: Arc<AtomicU64>,
    /// The documents stored, as `counts` holds it after the last commit.
    documents_total: Arc<AtomicU64>,
    /// Wakes long-polls when their postboxes change.
    hub: Arc<hub::ChangeHub>,
    blobs: BlobStore,
    /// The search word key once read (see [`audit::AuditTrail::word_key`]):
    /// it never changes, and every search needs it.
    word_key: Arc<std::sync::OnceLock<[u8; 32]>>,
    /// The Deckblatt key once read (see [`audit::AuditTrail::cover_sheet_key`]).
    cover_sheet_key: Arc<std::sync::OnceLock<[u8; 32]>>,
}

impl Store {
    /// Open (or create) the store in `dir`: `dir/db` for sled, `dir/blobs` for
    /// blobs. `min_free_bytes` is the free space writes leave on its disk.
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
        let trees = Trees::open(&db)?;
        let documents_total = documents::total(&trees)?;
        let blobs = BlobStore::open(dir.join("blobs")).map_err(io)?;
        Ok(Store {
            hub: Arc::new(hub::ChangeHub::new(postboxes::last_change(&trees))),
            trees: Arc::new(trees),
            db,
            change_lock: Arc::default(),
            db_dir: dir.join("db"),
            min_free_bytes: Arc::new(AtomicU64::new(0)),
            documents_total: Arc::new(AtomicU64::new(documents_total)),
            blobs,
            word_key: Arc::default(),
            cover_sheet_key: Arc::default(),
        })
    }

    /// The originals.
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// Documents, their arrivals, the index queue and the Akten.
    pub fn documents(&self) -> documents::Documents<'_> {
        documents::Documents { store: self }
    }

    /// Postbox items, their changes and the wake-ups of long-polls.
    pub fn postboxes(&self) -> postboxes::Postboxes<'_> {
        postboxes::Postboxes { store: self }
    }

    /// Recipients, caseworkers and absences.
    pub fn registry(&self) -> registry::RegistryRecords<'_> {
        registry::RegistryRecords { store: self }
    }

    /// API users and their tokens.
    pub fn accounts(&self) -> accounts::Accounts<'_> {
        accounts::Accounts { store: self }
    }

    /// Access changes waiting for a second admin.
    pub fn pending(&self) -> pending::PendingChanges<'_> {
        pending::PendingChanges { store: self }
    }

    /// The hash-chained audit trail.
    pub fn audit(&self) -> audit::AuditTrail<'_> {
        audit::AuditTrail { store: self }
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

    /// A fresh id, unique across restarts (sled persists the counter), for
    /// anything the store numbers.
    pub fn generate_id(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()?)
    }

    /// Make every write so far durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Run `work` and append `audit` to the trail in one transaction over all
    /// trees, then flush (unless `durability` says not to): the change and the
    /// entries that record it are durable together, or neither is. `work` may
    /// run more than once (sled retries conflicting transactions), each time on
    /// a fresh view, so it must only read and write through `tx`.
    pub(crate) fn transact<R, E>(
        &self,
        audit: &[AuditEvent],
        durability: Durability,
        work: impl Fn(&Tx) -> TxResult<R, E>,
    ) -> Result<(R, Vec<AuditEntry>), TxError<E>> {
        use sled::Transactional;
        let trees = self.trees.all();
        let result = trees[..].transaction(|views| {
            let tx = Tx::from_views(views);
            let out = work(&tx)?;
            let entries = audit::append_in(&tx, audit)?;
            Ok((out, entries))
        });
        let committed = result.map_err(tx::into_error)?;
        if durability == Durability::Flushed {
            self.db.flush().map_err(StoreError::from)?;
        }
        Ok(committed)
    }
}

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

/// Open the store again once this process's last handle let go of its lock
/// (for unit tests that reopen a store).
#[cfg(test)]
pub(crate) fn reopen(dir: &Path) -> Store {
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
