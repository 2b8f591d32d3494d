//! eakte: an electronic file (E-Akte) store for jobcenters.
//!
//! Data flows in one direction:
//! `inbox` (watch, settle, claim) -> `extract` (PDF text layer or OCR) ->
//! `classify` (recipient, type) -> `route` (postbox) -> `store` (content-addressed
//! blobs + sled metadata and postbox items, the source of truth) -> `index`
//! (tantivy, derived data). `pipeline` ties one scan through these steps,
//! `daemon` runs them continuously, `check` verifies the result.
//!
//! Crate map:
//! - [`config`]    TOML configuration, defaults and validation
//! - [`inbox`]     the watched scan folder: settle detection, claiming, quarantine
//! - [`extract`]   file type sniffing, PDF text layer, rasterising, tesseract OCR
//! - [`store`]     sled trees, blob store, ids, documents and arrivals
//! - [`index`]     tantivy schema, German analyzer, indexing and search
//! - [`classify`]  recipient (BG) recognition and document types, with evidence
//! - [`registry`]  recipients, caseworkers and absences from the specialist software
//! - [`route`]     which postbox a document goes to, and why
//! - [`postbox`]   postbox items and their states
//! - [`metrics`]   counters and histograms for Prometheus
//! - [`pipeline`]  one scan from bytes to a durable, indexed, routed document
//! - [`daemon`]    `eakte serve`: threads, watcher, shutdown
//! - [`ingest`]    `eakte ingest`: the pipeline for files named on the command line
//! - [`api`]       the HTTP API: postboxes, search, Akten, documents, uploads, admin
//! - [`access`]    who may see which documents
//! - [`audit`]     the append-only, hash-chained audit trail
//! - [`check`]     `eakte check`: blobs against hashes, index against store
//! - [`durable`]   fsync helpers: renames and new directories that survive a power cut
//! - [`failpoint`] crash injection for the crash-safety tests
//! - [`timefmt`]   timestamps as stored (RFC 3339, UTC), German calendar days
//! - [`upload`]    filing e-mails, PDFs and notes into an Akte through the API
//! - [`users`]     API users, roles and tokens

pub mod access;
pub mod api;
pub mod audit;
pub mod check;
pub mod classify;
pub mod config;
pub mod daemon;
pub mod derived;
pub mod durable;
pub mod extract;
pub mod failpoint;
#[doc(hidden)]
pub mod fuzzing;
pub mod health;
pub mod inbox;
pub mod index;
pub mod ingest;
pub mod metrics;
pub mod pipeline;
pub mod postbox;
pub mod registry;
pub mod route;
pub mod store;
pub mod timefmt;
pub mod upload;
pub mod users;
