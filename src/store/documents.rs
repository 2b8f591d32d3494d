//! Documents, their arrivals, the index queue, the Akten and processing
//! attempts.

use super::codec::{be_u32, be_u64, from_json, get_json, to_json};
use super::tx::{self, inconsistent, TxResult};
use super::{postboxes, Durability, Store, StoreError, Trees, Tx};
use crate::model::{
    ArrivalId, AuditEntry, AuditEvent, BgNummer, Classification, Document, DocumentId, FileKind,
    Item, Page, Sha256,
};
use std::sync::atomic::Ordering;

/// The key of the document count in `counts`.
const DOCUMENTS_COUNT: &str = "documents";

/// What is known about an arrival before it is recorded.
#[derive(Debug, Clone)]
pub struct NewArrival {
    pub id: ArrivalId,
    pub original_name: String,
    pub site: Option<String>,
    pub received_at: String,
    /// Where it came from: the path relative to the inbox, the path given on
    /// the command line, or who filed it into which Akte.
    pub source: String,
}

/// A document to store, unless its bytes are stored already.
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// Drawn with [`Documents::new_id`] before recording; unused if the bytes
    /// turn out to be stored already.
    pub id: DocumentId,
    pub sha256: Sha256,
    pub size: u64,
    pub kind: FileKind,
    pub pages: Vec<Page>,
    pub classification: Option<Classification>,
    /// Its postbox item (built by the postbox layer for this document id);
    /// `None` records the document without one.
    pub item: Option<Item>,
    /// Its attachments: the documents of earlier recordings in the same batch,
    /// by their position there.
    pub attachments_in_batch: Vec<usize>,
    /// For a document cut from a batch: which batch and pages.
    pub batch: Option<crate::model::BatchPart>,
    /// For a batch: the documents cut from it, by their position in the batch
    /// of recordings (before this one).
    pub parts_in_batch: Vec<usize>,
    /// For an encrypted PDF: the entry of the passwords file that opened it.
    pub opened_with: Option<u32>,
}

/// One arrival to record.
#[derive(Debug, Clone)]
pub struct Recording {
    pub arrival: NewArrival,
    /// The deduplication key: the SHA-256, or `SHA-256@BG` for a filing.
    pub key: String,
    /// The extraction result when the caller found no stored document under
    /// `key`; `None` announces a duplicate, whose bytes must be stored already.
    pub document: Option<NewDocument>,
}

/// The outcome of recording one arrival.
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

/// The stored document count; a store from before the counter is counted once
/// (a walk over every document) and the count kept from then on.
pub(super) fn total(trees: &Trees) -> Result<u64, StoreError> {
    if let Some(v) = trees.counts.get(DOCUMENTS_COUNT)? {
        return Ok(be_u64(&v).unwrap_or(0));
    }
    let total = trees.documents.len() as u64;
    trees.counts.insert(DOCUMENTS_COUNT, &total.to_be_bytes())?;
    Ok(total)
}

/// The key of a document in the Akte index, if it belongs to a BG.
pub(super) fn akte_key(doc: &Document) -> Option<Vec<u8>> {
    let bg = doc.classification.as_ref()?.bg()?;
    Some(akte_entry(bg, doc.id))
}

fn akte_prefix(bg: &BgNummer) -> Vec<u8> {
    let mut key = bg.as_str().as_bytes().to_vec();
    key.push(0);
    key
}

fn akte_entry(bg: &BgNummer, id: DocumentId) -> Vec<u8> {
    let mut key = akte_prefix(bg);
    key.extend_from_slice(&id.to_key());
    key
}

/// Move a document in the Akte index after its classification changed.
pub(super) fn reindex_akte<E>(tx: &Tx, old: &Document, new: &Document) -> TxResult<(), E> {
    let (old_key, new_key) = (akte_key(old), akte_key(new));
    if old_key != new_key {
        if let Some(key) = old_key {
            tx.akte_index.remove(key)?;
        }
        if let Some(key) = new_key {
            tx.akte_index.insert(key, &[])?;
        }
    }
    Ok(())
}

/// The store's documents.
pub struct Documents<'a> {
    pub(super) store: &'a Store,
}

impl Documents<'_> {
    fn trees(&self) -> &Trees {
        &self.store.trees
    }

    /// A fresh document id for a [`NewDocument`].
    pub fn new_id(&self) -> Result<DocumentId, StoreError> {
        Ok(DocumentId(self.store.generate_id()?))
    }

    /// A fresh arrival id, unique across restarts.
    pub fn new_arrival_id(&self) -> Result<ArrivalId, StoreError> {
        Ok(ArrivalId(self.store.generate_id()?))
    }

    pub fn get(&self, id: DocumentId) -> Result<Option<Document>, StoreError> {
        get_json(&self.trees().documents, "documents", &id.to_key())
    }

    pub fn arrival(&self, id: ArrivalId) -> Result<Option<crate::model::Arrival>, StoreError> {
        get_json(&self.trees().arrivals, "arrivals", &id.to_key())
    }

    /// The document stored under a content key (the SHA-256, or `SHA-256@BG`).
    pub fn by_key(&self, key: &str) -> Result<Option<DocumentId>, StoreError> {
        Ok(self
            .trees()
            .by_sha256
            .get(key)?
            .and_then(|v| DocumentId::from_key(&v)))
    }

    /// How many documents are stored (from a counter: no walk over them).
    pub fn count(&self) -> usize {
        self.store.documents_total.load(Ordering::Acquire) as usize
    }

    /// Every document, in id order.
    pub fn all(&self) -> impl Iterator<Item = Result<Document, StoreError>> + '_ {
        self.trees()
            .documents
            .iter()
            .values()
            .map(|v| from_json("documents", &v?))
    }

    /// Every arrival, in id order.
    pub fn arrivals(&self) -> impl Iterator<Item = Result<crate::model::Arrival, StoreError>> + '_ {
        self.trees()
            .arrivals
            .iter()
            .values()
            .map(|v| from_json("arrivals", &v?))
    }

    /// The documents of a BG's Akte, in id order.
    pub fn of_bg(&self, bg: &BgNummer) -> Result<Vec<Document>, StoreError> {
        let prefix = akte_prefix(bg);
        let mut out = Vec::new();
        for key in self.trees().akte_index.scan_prefix(&prefix).keys() {
            let key = key?;
            let id = DocumentId::from_key(&key[prefix.len()..]).ok_or_else(|| {
                StoreError::Inconsistent {
                    tree: "akte_index",
                    detail: "a key does not end in a document id".into(),
                }
            })?;
            out.extend(self.get(id)?);
        }
        Ok(out)
    }

    /// Record a batch of arrivals (a scan, or an e-mail with its attachments)
    /// and `audit` in one transaction. Blobs must already be durable.
    pub fn record(
        &self,
        batch: &[Recording],
        audit: &[AuditEvent],
        durability: Durability,
    ) -> Result<(Vec<Recorded>, Vec<AuditEntry>), StoreError> {
        let store = self.store;
        let _in_order = store.change_lock.lock().unwrap_or_else(|e| e.into_inner());
        // Change numbers are drawn outside the transaction (sled may retry the
        // closure); one that ends up unused is simply skipped.
        let mut changes = Vec::new();
        for _ in batch
            .iter()
            .filter(|r| r.document.as_ref().is_some_and(|d| d.item.is_some()))
        {
            changes.push(store.generate_id()?);
        }
        let now = crate::clock::now_rfc3339();
        let ((outcomes, routed), entries) = store
            .transact(audit, durability, |tx| {
                let mut outcomes: Vec<Recorded> = Vec::with_capacity(batch.len());
                let mut routed = Vec::new();
                let mut changes = changes.iter().copied();
                for recording in batch {
                    let (outcome, item) = record_one(tx, recording, &outcomes, &mut changes, &now)?;
                    outcomes.push(outcome);
                    routed.extend(item);
                }
                Ok((outcomes, routed))
            })
            .map_err(StoreError::from)?;
        let new = outcomes
            .iter()
            .filter(|o| matches!(o, Recorded::New(_)))
            .count();
        store
            .documents_total
            .fetch_add(new as u64, Ordering::AcqRel);
        for (seq, postbox) in routed {
            store.hub.publish(seq, &[&postbox]);
        }
        Ok((outcomes, entries))
    }

    /// Up to `limit` documents that are stored but not yet in the index.
    pub fn pending_index(&self, limit: usize) -> Result<Vec<DocumentId>, StoreError> {
        self.trees()
            .index_queue
            .iter()
            .keys()
            .take(limit)
            .map(|k| {
                DocumentId::from_key(&k?).ok_or_else(|| StoreError::Inconsistent {
                    tree: "index_queue",
                    detail: "a key is not a document id".into(),
                })
            })
            .collect()
    }

    /// How many documents wait to be indexed.
    pub fn pending_index_len(&self) -> usize {
        self.trees().index_queue.len()
    }

    pub fn is_pending_index(&self, id: DocumentId) -> Result<bool, StoreError> {
        Ok(self.trees().index_queue.contains_key(id.to_key())?)
    }

    /// Called after an index commit that contains `ids`. Not flushed on purpose:
    /// if this is lost in a crash the documents are indexed again, which is harmless.
    pub fn mark_indexed(&self, ids: &[DocumentId]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for id in ids {
            batch.remove(&id.to_key());
        }
        self.trees().index_queue.apply_batch(batch)?;
        Ok(())
    }

    /// Forget the whole index queue (after a full rebuild of the index).
    pub fn clear_index_queue(&self) -> Result<(), StoreError> {
        self.trees().index_queue.clear()?;
        Ok(())
    }

    /// Count one more attempt at processing `arrival`, durably, before the attempt
    /// starts; returns the count including this one. A scan that crashes the whole
    /// process (a bug in a C library, say) would otherwise be resumed and crash it
    /// again on every start.
    pub fn begin_attempt(&self, arrival: ArrivalId) -> Result<u32, StoreError> {
        let count = self
            .trees()
            .attempts
            .update_and_fetch(arrival.to_key(), |old| {
                let n = old.and_then(be_u32).unwrap_or(0);
                Some((n + 1).to_be_bytes().to_vec())
            })?
            .and_then(|b| be_u32(&b))
            .unwrap_or(1);
        self.store.flush()?;
        Ok(count)
    }

    /// The arrival is finished (stored or set aside): forget its attempts. Not
    /// flushed: a stale counter only matters for an arrival that is never seen again.
    pub fn end_attempts(&self, arrival: ArrivalId) -> Result<(), StoreError> {
        self.trees().attempts.remove(arrival.to_key())?;
        Ok(())
    }
}

/// Record one arrival inside the batch's transaction; with the change number
/// and postbox of the item it routed, if any.
fn record_one(
    tx: &Tx,
    recording: &Recording,
    earlier: &[Recorded],
    changes: &mut impl Iterator<Item = u64>,
    now: &str,
) -> TxResult<(Recorded, Option<(u64, crate::model::PostboxId)>)> {
    let Recording {
        arrival,
        key,
        document,
    } = recording;
    if let Some(existing) =
        tx::get_json::<crate::model::Arrival, _>(&tx.arrivals, "arrivals", &arrival.id.to_key())?
    {
        return Ok((Recorded::AlreadyRecorded(existing.document_id), None));
    }
    let stored = tx
        .by_sha256
        .get(key.as_bytes())?
        .and_then(|v| DocumentId::from_key(&v));
    let mut routed = None;
    let (outcome, doc) = match stored {
        Some(id) => {
            let Some(mut doc) =
                tx::get_json::<Document, _>(&tx.documents, "documents", &id.to_key())?
            else {
                return inconsistent(
                    "by_sha256",
                    format!("{key} points to missing document {id}"),
                );
            };
            doc.arrivals.push(arrival.id);
            (Recorded::Duplicate(id), doc)
        }
        None => {
            let Some(new) = document else {
                return inconsistent(
                    "by_sha256",
                    format!("a duplicate of {key} was announced but its document is not stored"),
                );
            };
            tx.by_sha256.insert(key.as_bytes(), &new.id.to_key())?;
            tx.index_queue.insert(&new.id.to_key(), &[])?;
            let total = tx
                .counts
                .get(DOCUMENTS_COUNT)?
                .and_then(|v| be_u64(&v))
                .unwrap_or(0);
            tx.counts
                .insert(DOCUMENTS_COUNT, &(total + 1).to_be_bytes())?;
            let attachments = new
                .attachments_in_batch
                .iter()
                .filter_map(|&i| earlier.get(i).map(|r| r.document_id()))
                .collect();
            let doc = Document {
                id: new.id,
                sha256: new.sha256.clone(),
                size: new.size,
                kind: new.kind,
                original_name: arrival.original_name.clone(),
                site: arrival.site.clone(),
                received_at: arrival.received_at.clone(),
                stored_at: now.to_string(),
                pages: new.pages.clone(),
                classification: new.classification.clone(),
                content_key: (key != new.sha256.as_str()).then(|| key.clone()),
                attachments,
                arrivals: vec![arrival.id],
                batch: new.batch.clone(),
                opened_with: new.opened_with,
                parts: new
                    .parts_in_batch
                    .iter()
                    .filter_map(|&i| earlier.get(i).map(|r| r.document_id()))
                    .collect(),
            };
            if let Some(item) = &new.item {
                let seq = changes.next().expect("a change number per item");
                postboxes::insert_new(tx, item.clone(), seq)?;
                routed = Some((seq, item.postbox.clone()));
            }
            if let Some(akte) = akte_key(&doc) {
                tx.akte_index.insert(akte, &[])?;
            }
            (Recorded::New(new.id), doc)
        }
    };
    let record = crate::model::Arrival {
        id: arrival.id,
        document_id: doc.id,
        original_name: arrival.original_name.clone(),
        site: arrival.site.clone(),
        received_at: arrival.received_at.clone(),
        recorded_at: now.to_string(),
        source: arrival.source.clone(),
        duplicate: matches!(outcome, Recorded::Duplicate(_)),
    };
    tx.documents.insert(&doc.id.to_key(), to_json(&doc))?;
    tx.arrivals.insert(&arrival.id.to_key(), to_json(&record))?;
    Ok((outcome, routed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PageSource;

    fn arrival(store: &Store, name: &str) -> NewArrival {
        NewArrival {
            id: store.documents().new_arrival_id().unwrap(),
            original_name: name.into(),
            site: Some("husum".into()),
            received_at: "2026-11-24T08:00:00Z".into(),
            source: format!("husum/{name}"),
        }
    }

    fn recording(store: &Store, name: &str, bytes: &[u8], new: bool) -> Recording {
        let sha = Sha256::of(bytes);
        Recording {
            arrival: arrival(store, name),
            key: sha.to_string(),
            document: new.then(|| NewDocument {
                id: store.documents().new_id().unwrap(),
                sha256: sha,
                size: bytes.len() as u64,
                kind: FileKind::Png,
                pages: vec![Page {
                    number: 1,
                    text: "Antrag".into(),
                    confidence: Some(91.0),
                    source: PageSource::Ocr,
                    rotation: 0,
                    code: None,
                }],
                classification: None,
                item: None,
                attachments_in_batch: Vec::new(),
                batch: None,
                parts_in_batch: Vec::new(),
                opened_with: None,
            }),
        }
    }

    fn record(store: &Store, r: Recording) -> Recorded {
        store
            .documents()
            .record(&[r], &[], Durability::Flushed)
            .unwrap()
            .0[0]
    }

    #[test]
    fn same_bytes_twice_is_one_document_with_two_arrivals() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let first = record(&store, recording(&store, "a.png", b"x", true));
        let second = record(&store, recording(&store, "b.png", b"x", false));
        let Recorded::New(id) = first else {
            panic!("{first:?}")
        };
        assert_eq!(second, Recorded::Duplicate(id));
        assert_eq!(store.documents().count(), 1);
        let doc = store.documents().get(id).unwrap().unwrap();
        assert_eq!(doc.arrivals.len(), 2);
        assert_eq!(doc.original_name, "a.png");
        assert_eq!(store.documents().arrivals().count(), 2);
    }

    #[test]
    fn the_document_count_is_kept_across_restarts_and_counted_once_for_old_stores() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for bytes in [&b"a"[..], b"b", b"c"] {
            record(&store, recording(&store, "x.png", bytes, true));
        }
        assert_eq!(store.documents().count(), 3);
        // A store written before the counter existed: counted when opened.
        store.trees.counts.remove(DOCUMENTS_COUNT).unwrap();
        drop(store);
        let store = super::super::reopen(dir.path());
        assert_eq!(store.documents().count(), 3);
        record(&store, recording(&store, "d.png", b"d", true));
        drop(store);
        assert_eq!(super::super::reopen(dir.path()).documents().count(), 4);
    }

    #[test]
    fn repeating_an_arrival_after_a_crash_records_nothing_new() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let r = recording(&store, "a.png", b"y", true);
        let first = record(&store, r.clone());
        let again = record(&store, r);
        assert_eq!(again, Recorded::AlreadyRecorded(first.document_id()));
        assert_eq!(store.documents().arrivals().count(), 1);
        let doc = store.documents().get(first.document_id()).unwrap().unwrap();
        assert_eq!(doc.arrivals.len(), 1);
    }

    #[test]
    fn a_batch_records_attachments_with_their_mail_and_the_audit_entry_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let attachment = recording(&store, "anhang.pdf", b"pdf", true);
        let mut mail = recording(&store, "mail.eml", b"eml", true);
        mail.document.as_mut().unwrap().attachments_in_batch = vec![0];
        let event = AuditEvent {
            who: "anna (1)".into(),
            role: Some("caseworker".into()),
            address: "127.0.0.1".into(),
            action: "file_document".into(),
            target: "akte 07450BG0000101".into(),
            bgs: Vec::new(),
            outcome: "ok".into(),
            detail: None,
        };
        let (outcomes, entries) = store
            .documents()
            .record(&[attachment, mail], &[event], Durability::Flushed)
            .unwrap();
        let mail = store
            .documents()
            .get(outcomes[1].document_id())
            .unwrap()
            .unwrap();
        assert_eq!(mail.attachments, vec![outcomes[0].document_id()]);
        assert_eq!(entries.len(), 1);
        assert_eq!(store.audit().head().unwrap().map(|(seq, _)| seq), Some(1));
    }
}
