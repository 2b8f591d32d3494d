//! API users and the audit trail in the store.

use super::{from_json, to_json, Sha256, Store, StoreError};
use crate::users::User;
use sled::Transactional;

impl Store {
    /// Write a user and the index from its token's hash, durably.
    pub fn put_user(&self, user: &User) -> Result<(), StoreError> {
        (&self.users, &self.tokens)
            .transaction(|(users, tokens)| {
                users.insert(&user.id.to_be_bytes(), to_json(user))?;
                tokens.insert(user.token_sha256.as_bytes(), &user.id.to_be_bytes())?;
                Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(crate::store::never_aborted)?;
        self.db.flush()?;
        Ok(())
    }

    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        self.users
            .iter()
            .values()
            .map(|v| from_json("users", &v?))
            .collect()
    }

    pub fn user_by_token_sha256(&self, sha: &Sha256) -> Result<Option<User>, StoreError> {
        let Some(id) = self.tokens.get(sha.as_str().as_bytes())? else {
            return Ok(None);
        };
        match self.users.get(id)? {
            Some(raw) => Ok(Some(from_json("users", &raw)?)),
            None => Ok(None),
        }
    }

    /// The audit trail's trees: entries by sequence number, and its head.
    /// (Public for `eakte audit verify` and for tests that prove tampering is found.)
    pub fn audit_trees(&self) -> (&sled::Tree, &sled::Tree) {
        (&self.audit, &self.audit_meta)
    }
}
