//! Postbox items: reading them by id, by postbox and by document, changing
//! them (with their document) in one transaction, and the change feed that
//! long-polls follow.

use super::codec::{be_u64, from_json, get_json, to_json};
use super::documents::reindex_akte;
use super::tx::{self, inconsistent, refuse, TxResult};
use super::{Durability, Store, StoreError, Trees, Tx, TxError};
use crate::model::{AuditEvent, Document, DocumentId, Item, ItemId, PostboxId};

/// The key prefix of a postbox in the postbox index: its name, 0.
fn prefix(postbox: &PostboxId) -> Vec<u8> {
    let mut key = postbox.to_string().into_bytes();
    key.push(0);
    key
}

/// The key of an item in the postbox index: postbox name, 0, item id.
fn index_key(item: &Item) -> Vec<u8> {
    let mut key = prefix(&item.postbox);
    key.extend_from_slice(&item.id.to_key());
    key
}

/// The item id at the end of a postbox index key.
fn item_of_key(key: &[u8]) -> Result<ItemId, StoreError> {
    key.len()
        .checked_sub(8)
        .and_then(|at| ItemId::from_key(&key[at..]))
        .ok_or_else(|| StoreError::Inconsistent {
            tree: "postbox_index",
            detail: "a key does not end in an item id".into(),
        })
}

/// Stamp the history events a change added with its number (see
/// [`crate::model::HistoryEvent::seq`]).
fn stamp(item: &mut Item, from_event: usize, seq: u64) {
    item.seq = seq;
    for event in item.history.iter_mut().skip(from_event) {
        event.seq = seq;
    }
}

/// Write a new document's item as change `seq`.
pub(super) fn insert_new<E>(tx: &Tx, mut item: Item, seq: u64) -> TxResult<(), E> {
    stamp(&mut item, 0, seq);
    tx.changes.insert(&seq.to_be_bytes(), &item.id.to_key())?;
    tx.items.insert(&item.id.to_key(), to_json(&item))?;
    tx.postbox_index
        .insert(index_key(&item), &item.document_id.to_key())?;
    tx.item_of_document
        .insert(&item.document_id.to_key(), &item.id.to_key())?;
    Ok(())
}

/// The highest change number in the `changes` tree.
pub(super) fn last_change(trees: &Trees) -> u64 {
    trees
        .changes
        .last()
        .ok()
        .flatten()
        .and_then(|(k, _)| be_u64(&k))
        .unwrap_or(0)
}

/// The store's postboxes.
pub struct Postboxes<'a> {
    pub(super) store: &'a Store,
}

impl Postboxes<'_> {
    fn trees(&self) -> &Trees {
        &self.store.trees
    }

    pub fn item(&self, id: ItemId) -> Result<Option<Item>, StoreError> {
        get_json(&self.trees().items, "items", &id.to_key())
    }

    /// The item of a document (documents recorded as duplicates have none).
    pub fn item_of_document(&self, id: DocumentId) -> Result<Option<Item>, StoreError> {
        match self
            .trees()
            .item_of_document
            .get(id.to_key())?
            .and_then(|v| ItemId::from_key(&v))
        {
            Some(item) => self.item(item),
            None => Ok(None),
        }
    }

    /// Every item, in id order.
    pub fn all(&self) -> impl Iterator<Item = Result<Item, StoreError>> + '_ {
        self.trees()
            .items
            .iter()
            .values()
            .map(|v| from_json("items", &v?))
    }

    /// The number of entries in the postbox index (for `eakte check`).
    pub fn index_len(&self) -> usize {
        self.trees().postbox_index.len()
    }

    /// Whether the postbox index lists `item` under its postbox.
    pub fn is_indexed(&self, item: &Item) -> Result<bool, StoreError> {
        Ok(self.trees().postbox_index.contains_key(index_key(item))?)
    }

    /// The documents of every item in `postbox`, in any state: read from the
    /// postbox index alone (a search's scope needs them, not the items).
    pub fn document_ids_in(&self, postbox: &PostboxId) -> Result<Vec<DocumentId>, StoreError> {
        let mut ids = Vec::new();
        for entry in self.trees().postbox_index.scan_prefix(prefix(postbox)) {
            let (key, value) = entry?;
            match DocumentId::from_key(&value) {
                Some(id) => ids.push(id),
                // An entry written before the index held document ids.
                None => ids.extend(self.item(item_of_key(&key)?)?.map(|i| i.document_id)),
            }
        }
        Ok(ids)
    }

    /// Every item in `postbox`, oldest first, in any state.
    pub fn items_in(&self, postbox: &PostboxId) -> Result<Vec<Item>, StoreError> {
        self.trees()
            .postbox_index
            .scan_prefix(prefix(postbox))
            .keys()
            .map(|key| {
                let id = item_of_key(&key?)?;
                self.item(id)?.ok_or_else(|| StoreError::Inconsistent {
                    tree: "postbox_index",
                    detail: format!("item {id} is indexed but missing"),
                })
            })
            .collect()
    }

    /// Apply `change` to item `id` and its document, and append `audit`, in
    /// one transaction: the postbox index follows a move, a changed document is
    /// indexed again, and the history events the change adds get its number.
    /// `change` may run more than once (sled retries conflicting transactions),
    /// each time on fresh copies. Returns the item as changed.
    pub fn change_item<E>(
        &self,
        id: ItemId,
        audit: &[AuditEvent],
        change: impl Fn(&mut Item, &mut Document) -> Result<(), E>,
    ) -> Result<Item, TxError<E>> {
        let store = self.store;
        let _in_order = store.change_lock.lock().unwrap_or_else(|e| e.into_inner());
        let seq = store.generate_id()?;
        let ((item, left), _) = store.transact(audit, Durability::Flushed, |tx| {
            change_in(tx, id, seq, &change)
        })?;
        // The postbox it left learns of the move, too (as `removed`).
        store.hub.publish(seq, &[&left, &item.postbox]);
        Ok(item)
    }

    /// Items changed after change `seq` (their latest change), in change order,
    /// and the last change number looked at (`seq` if none).
    pub fn changed_after(&self, seq: u64, limit: usize) -> Result<(Vec<Item>, u64), StoreError> {
        let (mut out, mut last) = (Vec::new(), seq);
        for entry in self
            .trees()
            .changes
            .range(seq.saturating_add(1).to_be_bytes()..)
            .take(limit)
        {
            let (key, id) = entry?;
            last = be_u64(&key).unwrap_or(last);
            let id = ItemId::from_key(&id).ok_or_else(|| StoreError::Inconsistent {
                tree: "changes",
                detail: "a value is not an item id".into(),
            })?;
            out.extend(self.item(id)?);
        }
        Ok((out, last))
    }

    /// The latest change number.
    pub fn last_change(&self) -> u64 {
        self.store.hub.last()
    }

    /// Whether more than `limit` items changed after change `seq` (counted
    /// on the keys alone, at most `limit + 1` of them).
    pub fn more_changed_after(&self, seq: u64, limit: usize) -> Result<bool, StoreError> {
        let mut keys = self
            .trees()
            .changes
            .range(seq.saturating_add(1).to_be_bytes()..)
            .keys();
        for _ in 0..=limit {
            if keys.next().transpose()?.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The latest change number committed, whether or not it was published
    /// to long-polls yet (a cursor can be ahead of [`Self::last_change`]).
    pub fn last_committed_change(&self) -> u64 {
        last_change(self.trees()).max(self.store.hub.last())
    }

    /// When change `seq` was published to long-polls, if it was recently.
    pub fn published_at(&self, seq: u64) -> Option<std::time::Instant> {
        self.store.hub.published_at(seq)
    }

    /// A wake-up for every change to one of `postboxes` from now on (see
    /// [`super::hub::ChangeHub::subscribe`]).
    pub fn subscribe(&self, postboxes: &[PostboxId]) -> std::sync::Arc<tokio::sync::Notify> {
        self.store.hub.subscribe(postboxes)
    }
}

/// The work of [`Postboxes::change_item`] inside its transaction; returns the
/// item as changed and the postbox it was in before.
/// What came with a document (an e-mail's attachments, the documents of an
/// Akte taken over) belongs to the same BG: a correction of its recipient
/// carries them along, in the same transaction.
fn follow_recipient<E>(tx: &Tx, doc: &Document) -> TxResult<(), E> {
    let Some(recipient) = doc.classification.as_ref().map(|c| c.recipient.clone()) else {
        return Ok(());
    };
    // An Akte's e-mails have attachments of their own: all of them follow.
    let mut todo: Vec<crate::model::DocumentId> = doc.attachments.clone();
    let mut seen = std::collections::HashSet::from([doc.id]);
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        let Some(mut attachment) =
            tx::get_json::<Document, E>(&tx.documents, "documents", &id.to_key())?
        else {
            continue;
        };
        todo.extend(attachment.attachments.iter().copied());
        let before = attachment.clone();
        if let Some(c) = attachment.classification.as_mut() {
            c.recipient = recipient.clone();
        }
        if attachment != before {
            tx.documents.insert(&id.to_key(), to_json(&attachment))?;
            tx.index_queue.insert(&id.to_key(), &[])?;
            reindex_akte(tx, &before, &attachment)?;
        }
    }
    Ok(())
}

fn change_in<E>(
    tx: &Tx,
    id: ItemId,
    seq: u64,
    change: &impl Fn(&mut Item, &mut Document) -> Result<(), E>,
) -> TxResult<(Item, PostboxId), E> {
    let Some(mut item) = tx::get_json::<Item, E>(&tx.items, "items", &id.to_key())? else {
        return inconsistent("items", format!("item {id} is missing"));
    };
    let Some(mut doc) =
        tx::get_json::<Document, E>(&tx.documents, "documents", &item.document_id.to_key())?
    else {
        return inconsistent("documents", format!("the document of item {id} is missing"));
    };
    let (old_key, old_doc, old_events) = (index_key(&item), doc.clone(), item.history.len());
    let left = item.postbox.clone();
    if let Err(e) = change(&mut item, &mut doc) {
        return refuse(e);
    }
    let new_key = index_key(&item);
    if new_key != old_key {
        tx.postbox_index.remove(old_key)?;
        tx.postbox_index
            .insert(new_key, &item.document_id.to_key())?;
    }
    if doc != old_doc {
        tx.documents.insert(&doc.id.to_key(), to_json(&doc))?;
        tx.index_queue.insert(&doc.id.to_key(), &[])?;
        reindex_akte(tx, &old_doc, &doc)?;
        let recipient = |d: &Document| d.classification.as_ref().map(|c| c.recipient.clone());
        if recipient(&doc) != recipient(&old_doc) {
            follow_recipient(tx, &doc)?;
        }
    }
    tx.changes.remove(&item.seq.to_be_bytes())?;
    stamp(&mut item, old_events, seq);
    tx.changes.insert(&seq.to_be_bytes(), &id.to_key())?;
    tx.items.insert(&id.to_key(), to_json(&item))?;
    Ok((item, left))
}
