//! Entries of the audit trail: who read or changed what, when, from where.

use crate::model::registry::BgNummer;
use serde::{Deserialize, Serialize};

/// What an entry records (everything but its place in the chain).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The user (name and id), or the operating-system user on the command line.
    pub who: String,
    pub role: Option<String>,
    /// The client's IP address, or `cli`.
    pub address: String,
    /// What was done, e.g. `read_document`, `search`, `postbox_forward`.
    pub action: String,
    /// What it was done to, e.g. `document 12`, `akte 07450BG0160367`.
    pub target: String,
    /// The BGs (normalised) whose social data the action touched or tried to:
    /// the document's, the Akte's, those of the search hits or postbox items
    /// shown. What `eakte audit who-read` answers from (§ 83 SGB X). Empty
    /// entries leave the field out, so entries written before it keep their
    /// hashes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bgs: Vec<BgNummer>,
    /// `ok`, `denied`, `refused` or `failed`.
    pub outcome: String,
    /// Anything else worth keeping, never social data in clear: ids of what
    /// was shown, search words as keyed hashes, notes by their hash.
    pub detail: Option<String>,
}

/// An event in its place in the hash chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: String,
    #[serde(flatten)]
    pub event: AuditEvent,
    /// Hash of the previous entry (zeros for the first).
    pub prev: String,
    pub hash: String,
}
