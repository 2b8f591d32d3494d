//! The records eakte keeps and hands between its parts: ids, documents with
//! their pages and arrivals, classifications, routes, postbox items, the
//! registry's people and caseworkers, users and audit entries.
//!
//! Types and their serde form only. The serde form is the on-disk format of the
//! store (JSON in sled): change it only compatibly (new fields with defaults),
//! and `tests/compat.rs` holds it against a store written by release 0.1.0.
//! What the records do lives with the domain that owns it, in `impl` blocks and
//! functions there (postbox transitions in `postbox/`, routing in `route/`, …),
//! so that this module depends on nothing of eakte and everything may depend on
//! it.

pub mod access;
pub mod audit;
pub mod classification;
pub mod coversheet;
pub mod document;
pub mod ids;
pub mod postbox;
pub mod registry;
pub mod route;
pub mod user;

pub use access::{AccessChange, PendingChange, RegistryTable};
pub use audit::{AuditEntry, AuditEvent};
pub use classification::{Classification, Method, Recognition};
pub use coversheet::CoverCode;
pub use document::{pages_text, Arrival, BatchPart, Document, FileKind, Page, PageSource};
pub use ids::{ArrivalId, DocumentId, ItemId, PostboxId, Sha256, CLEARING};
pub use postbox::{Action, HistoryEvent, Item, ItemState};
pub use registry::{Absence, Assignment, BgNummer, Caseworker, Kennung, Kundennummer, Person};
pub use route::{ClearingReason, DeputyHop, Responsibility, Route};
pub use user::{NewUser, Role, User};
