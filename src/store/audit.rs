//! The audit trail as stored: entries by sequence number in `audit`, the head
//! (last sequence number and hash) in `audit_meta`, and the hash chain that
//! links them. Entry `n` stores the SHA-256 of entry `n-1` and its own hash
//! over its content and that link; the chain's rules are here because they are
//! how the relation is written. Reading, filtering and verifying the trail is
//! [`crate::audit`]'s.

use super::codec::{be_u64, from_json, to_json};
use super::tx::{self, TxResult};
use super::{Durability, Store, StoreError, Trees, Tx};
use crate::model::{AuditEntry, AuditEvent, Sha256};
use serde::Serialize;

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const HEAD_KEY: &[u8] = b"head";
/// The secret that search words are hashed with in the trail.
const WORD_KEY: &[u8] = b"search_word_key";
/// The secret a Deckblatt's check value is made with.
const COVER_SHEET_KEY: &[u8] = b"cover_sheet_key";

/// The part of an entry its hash covers, in a fixed field order.
#[derive(Serialize)]
struct Hashed<'a> {
    seq: u64,
    at: &'a str,
    event: &'a AuditEvent,
    prev: &'a str,
}

/// The hash an entry with this content and link must carry.
pub fn hash_of(seq: u64, at: &str, event: &AuditEvent, prev: &str) -> String {
    let bytes = serde_json::to_vec(&Hashed {
        seq,
        at,
        event,
        prev,
    })
    .expect("audit entries serialise");
    Sha256::of(&bytes).to_string()
}

/// Append `events` in order at the head of the chain, inside `tx`.
pub(super) fn append_in<E>(tx: &Tx, events: &[AuditEvent]) -> TxResult<Vec<AuditEntry>, E> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let head: Option<(u64, String)> = tx::get_json(&tx.audit_meta, "audit_meta", HEAD_KEY)?;
    let (mut seq, mut prev) = head.unwrap_or_else(|| (0, GENESIS.to_string()));
    let at = crate::clock::now_rfc3339();
    let mut chained = Vec::with_capacity(events.len());
    for event in events {
        seq += 1;
        let hash = hash_of(seq, &at, event, &prev);
        let entry = AuditEntry {
            seq,
            at: at.clone(),
            event: event.clone(),
            prev: std::mem::replace(&mut prev, hash.clone()),
            hash,
        };
        tx.audit.insert(&entry.seq.to_be_bytes(), to_json(&entry))?;
        chained.push(entry);
    }
    let last = chained.last().expect("events are not empty");
    tx.audit_meta
        .insert(HEAD_KEY, to_json(&(last.seq, &last.hash)))?;
    Ok(chained)
}

/// The store's audit trail.
pub struct AuditTrail<'a> {
    pub(super) store: &'a Store,
}

impl AuditTrail<'_> {
    fn trees(&self) -> &Trees {
        &self.store.trees
    }

    /// Append `events` on their own (reads, refusals: nothing else changes),
    /// in one transaction; flushed.
    pub fn append(&self, events: &[AuditEvent]) -> Result<Vec<AuditEntry>, StoreError> {
        let ((), entries) = self
            .store
            .transact(events, Durability::Flushed, |_| Ok(()))?;
        Ok(entries)
    }

    /// The head of the chain: last sequence number and hash.
    pub fn head(&self) -> Result<Option<(u64, String)>, StoreError> {
        match self.trees().audit_meta.get(HEAD_KEY)? {
            Some(raw) => Ok(Some(from_json("audit_meta", &raw)?)),
            None => Ok(None),
        }
    }

    /// The store's secret for hashing search words (32 bytes), made from the
    /// system's randomness the first time it is needed and kept for good:
    /// the same word gives the same hash in every entry, but only with this
    /// key, so a copy of the trail alone does not reveal what was searched.
    pub fn word_key(&self) -> Result<[u8; 32], StoreError> {
        self.secret(WORD_KEY, &self.store.word_key)
    }

    /// The deployment's secret for the check value of a Deckblatt: only
    /// sheets eakte printed with it route a scan by themselves. Kept in the
    /// store (and its backups), so a restored store still trusts its sheets.
    pub fn cover_sheet_key(&self) -> Result<[u8; 32], StoreError> {
        self.secret(COVER_SHEET_KEY, &self.store.cover_sheet_key)
    }

    fn secret(
        &self,
        name: &'static [u8],
        cache: &std::sync::OnceLock<[u8; 32]>,
    ) -> Result<[u8; 32], StoreError> {
        if let Some(key) = cache.get() {
            return Ok(*key);
        }
        let tree = &self.trees().audit_meta;
        if let Some(key) = tree.get(name)? {
            let key: [u8; 32] = key
                .as_ref()
                .try_into()
                .map_err(|_| StoreError::Inconsistent {
                    tree: "audit_meta",
                    detail: format!(
                        "the secret {} is not 32 bytes",
                        String::from_utf8_lossy(name)
                    ),
                })?;
            return Ok(*cache.get_or_init(|| key));
        }
        let mut fresh = [0u8; 32];
        let random = "/dev/urandom";
        std::fs::File::open(random)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut fresh))
            .map_err(|source| StoreError::Io {
                path: random.into(),
                source,
            })?;
        // Two first uses at once: whichever key landed first is the key.
        let _ = tree.compare_and_swap(name, None::<&[u8]>, Some(&fresh[..]))?;
        self.store.flush()?;
        self.secret(name, cache)
    }

    /// Entries from sequence number `first` on, in order.
    pub fn from(&self, first: u64) -> impl Iterator<Item = Result<AuditEntry, StoreError>> + '_ {
        self.trees()
            .audit
            .range(first.to_be_bytes()..)
            .values()
            .map(|raw| from_json("audit", &raw?))
    }

    /// Every stored entry as its key's sequence number and raw bytes, in key
    /// order, for verification (which must also report what cannot be read).
    pub fn raw(&self) -> impl Iterator<Item = Result<(u64, sled::IVec), StoreError>> + '_ {
        self.trees().audit.iter().map(|item| {
            let (key, raw) = item?;
            Ok((be_u64(&key).unwrap_or(0), raw))
        })
    }

    /// The tree of entries itself. Public for the tests that prove that
    /// tampering with it is found; eakte never writes it but through a
    /// transaction that appends.
    #[doc(hidden)]
    pub fn tree_for_tamper_tests(&self) -> &sled::Tree {
        &self.trees().audit
    }
}
