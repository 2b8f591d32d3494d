//! Access changes waiting for a second admin, by id (tree `pending`). An
//! approved change is carried out by the write it asks for (a user, a
//! registry change), which removes its pending record in the same
//! transaction ([`settle_in`]): approved exactly once, never half.

use super::codec::{all_json, get_json, to_json};
use super::tx::{self, TxResult};
use super::{Durability, Store, StoreError, Trees, Tx};
use crate::model::{AuditEntry, AuditEvent, PendingChange};

/// The store's pending access changes.
pub struct PendingChanges<'a> {
    pub(super) store: &'a Store,
}

impl PendingChanges<'_> {
    fn trees(&self) -> &Trees {
        &self.store.trees
    }

    /// Record `change` and append `audit`, in one transaction; flushed.
    pub fn put(
        &self,
        change: &PendingChange,
        audit: &[AuditEvent],
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let ((), entries) = self.store.transact(audit, Durability::Flushed, |tx| {
            tx.pending
                .insert(&change.id.to_be_bytes(), to_json(change))?;
            Ok(())
        })?;
        Ok(entries)
    }

    pub fn all(&self) -> Result<Vec<PendingChange>, StoreError> {
        all_json(&self.trees().pending, "pending")
    }

    pub fn get(&self, id: u64) -> Result<Option<PendingChange>, StoreError> {
        get_json(&self.trees().pending, "pending", &id.to_be_bytes())
    }

    /// Drop change `id` without carrying it out (rejected or withdrawn),
    /// appending `audit`; flushed.
    pub fn remove(&self, id: u64, audit: &[AuditEvent]) -> Result<Vec<AuditEntry>, StoreError> {
        let ((), entries) = self
            .store
            .transact(audit, Durability::Flushed, |tx| settle_in(tx, Some(id)))?;
        Ok(entries)
    }
}

/// Inside a write that carries out pending change `id`: remove its record,
/// and abort if another write settled it first (two approvals at once).
pub(super) fn settle_in<E>(tx: &Tx, id: Option<u64>) -> TxResult<(), E> {
    let Some(id) = id else { return Ok(()) };
    if tx.pending.remove(&id.to_be_bytes())?.is_none() {
        return tx::inconsistent(
            "pending",
            format!("pending change {id} was settled meanwhile"),
        );
    }
    Ok(())
}
