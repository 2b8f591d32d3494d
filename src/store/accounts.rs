//! API users by id, and the index from their token's SHA-256.

use super::codec::{all_json, get_json, to_json};
use super::{Durability, Store, StoreError, Trees};
use crate::model::{AuditEntry, AuditEvent, Sha256, User};

/// The store's users.
pub struct Accounts<'a> {
    pub(super) store: &'a Store,
}

impl Accounts<'_> {
    fn trees(&self) -> &Trees {
        &self.store.trees
    }

    /// Write a user and the index from its token's hash, and append `audit`,
    /// in one transaction; flushed. `settles`: the pending access change
    /// this carries out (removed with it).
    pub fn put(
        &self,
        user: &User,
        settles: Option<u64>,
        audit: &[AuditEvent],
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let ((), entries) = self.store.transact(audit, Durability::Flushed, |tx| {
            super::pending::settle_in(tx, settles)?;
            tx.users.insert(&user.id.to_be_bytes(), to_json(user))?;
            tx.tokens
                .insert(user.token_sha256.as_bytes(), &user.id.to_be_bytes())?;
            Ok(())
        })?;
        self.store.hub.accounts_changed();
        Ok(entries)
    }

    /// Wakes whenever a user is written (a token revoked, say).
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.store.hub.accounts()
    }

    pub fn all(&self) -> Result<Vec<User>, StoreError> {
        all_json(&self.trees().users, "users")
    }

    pub fn get(&self, id: u64) -> Result<Option<User>, StoreError> {
        get_json(&self.trees().users, "users", &id.to_be_bytes())
    }

    pub fn by_token_sha256(&self, sha: &Sha256) -> Result<Option<User>, StoreError> {
        let Some(id) = self.trees().tokens.get(sha.as_str().as_bytes())? else {
            return Ok(None);
        };
        get_json(&self.trees().users, "users", &id)
    }
}
