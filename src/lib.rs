//! eakte: an electronic file (E-Akte) store for jobcenters.
//!
//! A scan's way, top to bottom: [`inbox`] (watch, settle, claim) ->
//! [`pipeline`] ([`extract`] the text, [`classify`] recipient and type,
//! [`route`] to a [`postbox`], record it in the [`store`]) -> [`index`]
//! (tantivy, derived from the store's queue). Front ends ([`api`], the command
//! line through [`control`]) work on the audited operations of [`service`].
//! ARCHITECTURE.md says which module may use which.
//!
//! Crate map, from the ground floor up:
//! - [`model`]     the records eakte keeps: ids, documents, items, registry, users (types only)
//! - [`clock`]     what time it is and which German calendar day (and the tests' clock)
//! - [`timefmt`]   timestamps and days as stored and as people write them
//! - [`durable`]   fsync helpers: renames and new directories that survive a power cut
//! - [`failpoint`] crash injection for the crash-safety tests
//! - [`health`]    whether the store can be written, for `/healthz`
//! - [`metrics`]   counters and histograms for Prometheus
//! - [`progress`]  how long work reports how far it is
//! - [`shutdown`]  the one signal every task stops on
//! - [`os_user`]   operating-system accounts: a uid's name, the login behind `sudo`
//! - [`untrusted`] names and text from outside, cleaned to store and escaped to print
//! - [`keyed`]     keyed hashes (HMAC-SHA256) under the store's secrets
//! - [`derived`]   values kept until the registry changes
//! - [`store`]     sled trees and blobs, one face per relation: the source of truth
//! - [`extract`]   file types, PDF text layer, rasterising, tesseract OCR (pure: bytes in, text out)
//! - [`registry`]  recipients, caseworkers and absences from the specialist software
//! - [`classify`]  recipient (BG) recognition and document types, with evidence
//! - [`route`]     which postbox a document goes to, and why
//! - [`postbox`]   postbox items, their states and transitions
//! - [`access`]    who may see which documents
//! - [`users`]     API users and their tokens
//! - [`audit`]     the hash-chained audit trail: group commit, filters, verification
//! - [`index`]     tantivy schema, German analyzer, the one writer and its thread, search
//! - [`inbox`]     the watched scan folder: intake, settle detection, claiming, setting aside
//! - [`pipeline`]  arrival to durable document: scans, ingest, uploads, check
//! - [`exchange`]  xdomea 3.0.0 export and import of an Akte, its PDF: formats and packages
//! - [`config`]    TOML configuration, defaults and validation
//! - [`service`]   the audited operations every front end shares
//! - [`api`]       the HTTP API: router, authentication, problems, one file per resource
//! - [`control`]   the command line's work, in its own process or through the daemon
//! - [`daemon`]    `eakte serve`: the parts wired together

mod access;
mod api;
mod audit;
mod classify;
pub mod clock;
pub mod config;
pub mod control;
pub mod daemon;
mod derived;
mod durable;
mod exchange;
pub mod extract;
pub mod failpoint;
#[doc(hidden)]
pub mod fuzzing;
mod health;
mod inbox;
mod index;
pub mod keyed;
mod metrics;
pub mod model;
mod os_user;
mod pipeline;
mod postbox;
pub mod progress;
pub mod registry;
mod route;
mod service;
pub mod shutdown;
pub mod store;
pub mod timefmt;
pub mod untrusted;
pub mod users;
mod web;
