//! Postbox items in the store: reading them by id, by postbox and by document,
//! and changing them (with their document) in one transaction.

use super::{
    akte_key, from_json, get_json, to_json, Document, DocumentId, ItemId, Store, StoreError,
};
use crate::postbox::{Item, PostboxId};
use crate::registry::BgNummer;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

/// The key of an item in the postbox index: postbox name, 0, item id.
pub(crate) fn index_key(item: &Item) -> Vec<u8> {
    let mut key = item.postbox.index_prefix();
    key.extend_from_slice(&item.id.to_key());
    key
}

/// Why a change to an item did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError<E> {
    /// The change itself refused (an invalid transition, say).
    #[error(transparent)]
    Refused(E),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    pub fn item(&self, id: ItemId) -> Result<Option<Item>, StoreError> {
        get_json(&self.items, "items", &id.to_key())
    }

    /// The item of a document (documents recorded as duplicates have none).
    pub fn item_of_document(&self, id: DocumentId) -> Result<Option<Item>, StoreError> {
        match self
            .item_of_document
            .get(id.to_key())?
            .and_then(|v| ItemId::from_key(&v))
        {
            Some(item) => self.item(item),
            None => Ok(None),
        }
    }

    /// Every item, in id order.
    pub fn items(&self) -> impl Iterator<Item = Result<Item, StoreError>> + '_ {
        self.items.iter().values().map(|v| from_json("items", &v?))
    }

    /// The number of entries in the postbox index (for `eakte check`).
    pub fn postbox_index_len(&self) -> usize {
        self.postbox_index.len()
    }

    /// Whether the postbox index lists `item` under its postbox.
    pub fn is_in_postbox_index(&self, item: &Item) -> Result<bool, StoreError> {
        Ok(self.postbox_index.contains_key(index_key(item))?)
    }

    /// The documents of every item in `postbox`, in any state: read from the
    /// postbox index alone (a search's scope needs them, not the items).
    pub fn document_ids_in(&self, postbox: &PostboxId) -> Result<Vec<DocumentId>, StoreError> {
        let mut ids = Vec::new();
        for entry in self.postbox_index.scan_prefix(postbox.index_prefix()) {
            let (key, value) = entry?;
            match DocumentId::from_key(&value) {
                Some(id) => ids.push(id),
                // An entry written before the index held document ids.
                None => {
                    let item = ItemId::from_key(&key[key.len() - 8..])
                        .expect("index keys end in an item id");
                    ids.extend(self.item(item)?.map(|i| i.document_id));
                }
            }
        }
        Ok(ids)
    }

    /// Every item in `postbox`, oldest first, in any state.
    pub fn items_in(&self, postbox: &PostboxId) -> Result<Vec<Item>, StoreError> {
        self.postbox_index
            .scan_prefix(postbox.index_prefix())
            .keys()
            .map(|key| {
                let key = key?;
                let id =
                    ItemId::from_key(&key[key.len() - 8..]).expect("index keys end in an item id");
                let raw = self
                    .items
                    .get(id.to_key())?
                    .ok_or_else(|| StoreError::Corrupt {
                        tree: "postbox_index",
                        source: serde_json::Error::io(std::io::Error::other(format!(
                            "item {id} is indexed but missing"
                        ))),
                    })?;
                from_json("items", &raw)
            })
            .collect()
    }

    /// Apply `change` to item `id` and its document, durably and atomically: the
    /// postbox index follows a move, and a changed document is indexed again.
    /// `change` may run more than once (sled retries conflicting transactions),
    /// each time on fresh copies.
    pub fn change_item<E: Clone>(
        &self,
        id: ItemId,
        change: impl Fn(&mut Item, &mut Document) -> Result<(), E>,
    ) -> Result<Item, ChangeError<E>> {
        enum Abort<E> {
            Refused(E),
            Corrupt(&'static str, serde_json::Error),
            Missing(&'static str),
        }
        let _in_order = self.change_lock.lock().unwrap_or_else(|e| e.into_inner());
        let seq = self.generate_id()?;
        let trees = (
            &self.items,
            &self.postbox_index,
            &self.documents,
            &self.index_queue,
            &self.changes,
            &self.akte_index,
        );
        let result = trees.transaction(|(items, index, documents, queue, changes, aktes)| {
            let abort = ConflictableTransactionError::Abort;
            let raw = items
                .get(id.to_key())?
                .ok_or(abort(Abort::Missing("items")))?;
            let mut item: Item =
                serde_json::from_slice(&raw).map_err(|e| abort(Abort::Corrupt("items", e)))?;
            let raw_doc = documents
                .get(item.document_id.to_key())?
                .ok_or(abort(Abort::Missing("documents")))?;
            let mut doc: Document = serde_json::from_slice(&raw_doc)
                .map_err(|e| abort(Abort::Corrupt("documents", e)))?;
            let (old_key, old_doc) = (index_key(&item), doc.clone());
            let left_postbox = item.postbox.clone();
            change(&mut item, &mut doc).map_err(|e| abort(Abort::Refused(e)))?;
            let new_key = index_key(&item);
            if new_key != old_key {
                index.remove(old_key)?;
                index.insert(new_key, &item.document_id.to_key())?;
            }
            if doc != old_doc {
                documents.insert(&doc.id.to_key(), to_json(&doc))?;
                queue.insert(&doc.id.to_key(), &[])?;
                let (old_akte, new_akte) = (akte_key(&old_doc), akte_key(&doc));
                if old_akte != new_akte {
                    if let Some(key) = old_akte {
                        aktes.remove(key)?;
                    }
                    if let Some(key) = new_akte {
                        aktes.insert(key, &[])?;
                    }
                }
            }
            changes.remove(&item.seq.to_be_bytes())?;
            item.seq = seq;
            changes.insert(&seq.to_be_bytes(), &id.to_key())?;
            items.insert(&id.to_key(), to_json(&item))?;
            Ok((item, left_postbox))
        });
        let (item, left_postbox) = result.map_err(|e| match e {
            TransactionError::Abort(Abort::Refused(e)) => ChangeError::Refused(e),
            TransactionError::Abort(Abort::Corrupt(tree, source)) => {
                ChangeError::Store(StoreError::Corrupt { tree, source })
            }
            TransactionError::Abort(Abort::Missing(tree)) => {
                ChangeError::Store(StoreError::Corrupt {
                    tree,
                    source: serde_json::Error::io(std::io::Error::other(format!(
                        "item {id} or its document is missing"
                    ))),
                })
            }
            TransactionError::Storage(e) => ChangeError::Store(StoreError::Sled(e)),
        })?;
        self.db.flush().map_err(StoreError::from)?;
        // The postbox it left learns of the move, too (as `removed`).
        self.hub.publish(seq, &[&left_postbox, &item.postbox]);
        Ok(item)
    }

    /// Items changed after change `seq` (their latest change), in change order,
    /// and the last change sequence number looked at (`seq` if none).
    pub fn items_changed_after(
        &self,
        seq: u64,
        limit: usize,
    ) -> Result<(Vec<Item>, u64), StoreError> {
        let (mut out, mut last) = (Vec::new(), seq);
        for entry in self
            .changes
            .range(seq.saturating_add(1).to_be_bytes()..)
            .take(limit)
        {
            let (key, id) = entry?;
            last = <[u8; 8]>::try_from(&key[..])
                .map(u64::from_be_bytes)
                .unwrap_or(last);
            if let Some(item) = self.item(ItemId::from_key(&id).expect("changes hold item ids"))? {
                out.push(item);
            }
        }
        Ok((out, last))
    }

    /// The latest change sequence number.
    pub fn last_change(&self) -> u64 {
        self.hub.last()
    }

    /// The documents of a BG's Akte, in id order.
    pub fn documents_of_bg(&self, bg: &BgNummer) -> Result<Vec<Document>, StoreError> {
        let mut prefix = bg.as_str().as_bytes().to_vec();
        prefix.push(0);
        let mut out = Vec::new();
        for key in self.akte_index.scan_prefix(&prefix).keys() {
            let key = key?;
            let id =
                DocumentId::from_key(&key[prefix.len()..]).expect("akte keys end in a document id");
            out.extend(self.document(id)?);
        }
        Ok(out)
    }

    /// When change `seq` was published to long-polls, if it was recently.
    pub fn change_published_at(&self, seq: u64) -> Option<std::time::Instant> {
        self.hub.published_at(seq)
    }

    /// A wake-up for every change to one of `postboxes` from now on (see
    /// [`hub::ChangeHub::subscribe`]).
    pub fn subscribe_postboxes(
        &self,
        postboxes: &[PostboxId],
    ) -> std::sync::Arc<tokio::sync::Notify> {
        self.hub.subscribe(postboxes)
    }
}
