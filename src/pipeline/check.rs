//! `eakte check`: prove that the store holds what it claims and that the index
//! matches the store.
//!
//! Problems (the command fails): a blob missing or not matching its SHA-256, a
//! document and its arrivals or its SHA-256 entry disagreeing, a routed document
//! without its one postbox item (or an item its postbox does not list), a
//! document missing from the index or indexed twice, an index entry without a
//! document.
//! Notes (the command still passes): documents queued for indexing, scans claimed
//! but not finished, blobs no document refers to (left by a crash between writing
//! a blob and recording it; harmless). `eakte serve` indexes the queue and
//! resumes claimed scans when it starts; unreferenced blobs stay (harmless).

use crate::inbox::{Inbox, PROCESSING_DIR};
use crate::index::{IndexError, SearchIndex};
use crate::model::{DocumentId, Sha256};
use crate::progress::{self, Progress};
use crate::store::{Store, StoreError};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

#[derive(Debug, Default, Serialize)]
pub struct CheckReport {
    pub documents: usize,
    pub arrivals: usize,
    pub items: usize,
    pub blobs_verified: usize,
    pub problems: Vec<String>,
    pub notes: Vec<String>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
}

pub fn check(
    store: &Store,
    index: Option<&SearchIndex>,
    inbox_root: &Path,
    progress: &dyn Progress,
) -> Result<CheckReport, CheckError> {
    let mut r = CheckReport::default();
    let mut referenced = HashSet::new();
    let mut document_ids = Vec::new();
    let documents = store.documents();
    let total = documents.count() as u64;
    for doc in documents.all() {
        let doc = doc?;
        r.documents += 1;
        progress::every(
            progress,
            "documents verified",
            r.documents as u64,
            total.max(r.documents as u64),
            1000,
        );
        document_ids.push(doc.id);
        referenced.insert(doc.sha256.clone());
        match Sha256::of_file(&store.blobs().path(&doc.sha256)) {
            Ok((sha, size)) if sha == doc.sha256 && size == doc.size => r.blobs_verified += 1,
            Ok((sha, size)) => r.problems.push(format!(
                "document {}: blob {} is altered (sha256 {sha}, {size} bytes; expected {} bytes)",
                doc.id, doc.sha256, doc.size
            )),
            Err(e) => r.problems.push(format!(
                "document {}: blob {} cannot be read: {e}",
                doc.id, doc.sha256
            )),
        }
        let key = doc.content_key.as_deref().unwrap_or(doc.sha256.as_str());
        if documents.by_key(key)? != Some(doc.id) {
            r.problems.push(format!(
                "document {}: the sha256 lookup does not point back to it",
                doc.id
            ));
        }
        for &a in &doc.arrivals {
            match documents.arrival(a)? {
                Some(arrival) if arrival.document_id == doc.id => {}
                Some(arrival) => r.problems.push(format!(
                    "document {}: arrival {a} belongs to document {}",
                    doc.id, arrival.document_id
                )),
                None => r
                    .problems
                    .push(format!("document {}: arrival {a} is missing", doc.id)),
            }
        }
    }
    if documents.count() != r.documents {
        r.problems.push(format!(
            "the document counter says {} but the store holds {} documents",
            documents.count(),
            r.documents
        ));
    }
    for arrival in documents.arrivals() {
        let arrival = arrival?;
        r.arrivals += 1;
        if documents.get(arrival.document_id)?.is_none() {
            r.problems.push(format!(
                "arrival {} points to missing document {}",
                arrival.id, arrival.document_id
            ));
        }
    }
    check_items(store, &mut r)?;
    check_index(store, index, &document_ids, &mut r)?;

    let orphans = orphan_blobs(store, &referenced);
    if orphans > 0 {
        r.notes.push(format!(
            "{orphans} blob(s) belong to no document (left by an interrupted ingest; harmless)"
        ));
    }
    if let Ok(inbox) = Inbox::open_existing(inbox_root) {
        if let Ok(claimed) = inbox.claimed() {
            if !claimed.is_empty() {
                r.notes.push(format!(
                    "{} scan(s) in {PROCESSING_DIR} are claimed but not finished; `eakte serve` resumes them",
                    claimed.len()
                ));
            }
        }
    }
    Ok(r)
}

/// Every routed document (post that was classified; not an upload filed
/// straight into an Akte) has exactly one item, which its postbox lists.
fn check_items(store: &Store, r: &mut CheckReport) -> Result<(), CheckError> {
    let (documents, postboxes) = (store.documents(), store.postboxes());
    for item in postboxes.all() {
        let item = item?;
        r.items += 1;
        match documents.get(item.document_id)? {
            None => r.problems.push(format!(
                "item {} belongs to missing document {}",
                item.id, item.document_id
            )),
            Some(_)
                if postboxes.item_of_document(item.document_id)?.map(|i| i.id) != Some(item.id) =>
            {
                r.problems.push(format!(
                    "document {} does not point to its item {}",
                    item.document_id, item.id
                ))
            }
            Some(_) => {}
        }
        if !postboxes.is_indexed(&item)? {
            r.problems.push(format!(
                "item {} is not listed in postbox {}",
                item.id, item.postbox
            ));
        }
    }
    if postboxes.index_len() != r.items {
        r.problems.push(format!(
            "the postbox index lists {} entries for {} items",
            postboxes.index_len(),
            r.items
        ));
    }
    for doc in documents.all() {
        let doc = doc?;
        let routed = doc.classification.is_some() && !doc.filed_into_akte();
        if routed && postboxes.item_of_document(doc.id)?.is_none() {
            r.problems.push(format!(
                "document {} was routed but has no postbox item",
                doc.id
            ));
        }
    }
    Ok(())
}

fn check_index(
    store: &Store,
    index: Option<&SearchIndex>,
    documents: &[DocumentId],
    r: &mut CheckReport,
) -> Result<(), CheckError> {
    let Some(index) = index else {
        if !documents.is_empty() {
            r.problems
                .push("there is no search index; run `eakte reindex`".into());
        }
        return Ok(());
    };
    let mut indexed: BTreeMap<DocumentId, usize> = index.document_ids()?;
    let mut pending = 0;
    for &id in documents {
        match indexed.remove(&id) {
            Some(1) => {}
            Some(n) => r
                .problems
                .push(format!("document {id} is in the search index {n} times")),
            None if store.documents().is_pending_index(id)? => pending += 1,
            None => r.problems.push(format!(
                "document {id} is missing from the search index; run `eakte reindex`"
            )),
        }
    }
    for id in indexed.keys() {
        r.problems.push(format!(
            "the search index has document {id}, which the store does not"
        ));
    }
    if pending > 0 {
        r.notes.push(format!(
            "{pending} document(s) are queued for indexing; `eakte serve` indexes them"
        ));
    }
    Ok(())
}

/// Count blob files that no document refers to.
fn orphan_blobs(store: &Store, referenced: &HashSet<Sha256>) -> usize {
    let root = store.blobs().root();
    let mut n = 0;
    let dirs = |p: &Path| {
        std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
    };
    for a in dirs(root).filter(|p| p.file_name().is_some_and(|n| n.len() == 2)) {
        for b in dirs(&a) {
            for blob in dirs(&b) {
                let name = blob
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if Sha256::parse(&name).is_none_or(|sha| !referenced.contains(&sha)) {
                    n += 1;
                }
            }
        }
    }
    n
}
