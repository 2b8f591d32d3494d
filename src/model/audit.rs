//! Entries of the audit trail: who read or changed what, when, from where.

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
    /// `ok`, `denied`, `refused` or `failed`.
    pub outcome: String,
    /// Anything else worth keeping (the search query, the note of a forward).
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
