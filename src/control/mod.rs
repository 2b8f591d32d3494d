//! The command line's work, wherever it runs: in the command's own process
//! when no daemon holds the store, or carried out by the running daemon
//! through its control socket (a Unix socket in the store directory, mode
//! 0600, open only to the daemon's own system user and root).
//!
//! Both ways run the same [`commands`] with the same audited operations of
//! [`crate::service`], writing to a [`Console`]: the command's own terminal,
//! or frames back over the socket. So the output and the exit status are the
//! same either way, and the operating-system user is the actor in the audit
//! trail either way (from the socket's peer credentials, or from `getuid`).

pub use crate::postbox::ops::Command;

pub mod client;
pub mod commands;
mod protocol;
pub mod server;

use crate::model::{DocumentId, ItemId, Kennung, PostboxId, Role};
use crate::progress::Progress;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The name of the control socket in the store directory.
pub const SOCKET: &str = "control.sock";

/// Where the control socket of the store in `store_dir` is.
pub fn socket_path(store_dir: &Path) -> PathBuf {
    store_dir.join(SOCKET)
}

/// What a command prints, wherever it runs.
pub trait Console: Send {
    /// A line on standard output.
    fn out(&mut self, line: &str);
    /// A line on standard error.
    fn err(&mut self, line: &str);
    /// Where long work reports how far it is.
    fn progress(&self) -> Arc<dyn Progress>;
    /// The next piece of the file the command makes (`eakte export`),
    /// written where the command line said (`--out`), kept there only if
    /// the command succeeds.
    fn file(&mut self, piece: &[u8]) -> std::io::Result<()>;
}

/// A command-line command that works on the store (all but `serve` and the
/// hidden helpers). Files the command reads (CSV imports, files to ingest)
/// are read by the command-line process and handed over as bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Request {
    Ingest {
        files: Vec<String>,
        site: Option<String>,
    },
    Search {
        query: Vec<String>,
        limit: usize,
        offset: usize,
        json: bool,
    },
    Show {
        id: DocumentId,
        json: bool,
    },
    Reindex,
    Check {
        json: bool,
    },
    /// Hand an Akte over: the file goes to `out` on the command line's side.
    Export {
        bg: String,
        /// The export's parameters as the API takes them (a query string).
        query: String,
        out: PathBuf,
    },
    /// A Deckblatt: the PDF goes to `out` on the command line's side.
    Deckblatt {
        bg: String,
        item: Option<u64>,
        out: PathBuf,
    },
    /// Take an Akte handed over (the package is sent as a file).
    ImportAkte {
        file: String,
        /// Where the command line writes the receipt (0402).
        receipt: Option<PathBuf>,
        json: bool,
    },
    Import {
        table: Table,
        /// The file as given (for messages).
        file: String,
        dry_run: bool,
        json: bool,
    },
    ListCaseworkers,
    AddAbsence {
        kennung: Kennung,
        from: String,
        to: String,
        deputy: Kennung,
    },
    ListAbsences,
    RemoveAbsence {
        id: u64,
    },
    ListPostbox {
        postbox: PostboxId,
        all: bool,
        json: bool,
    },
    ChangeItem {
        item: ItemId,
        by: Kennung,
        change: Command,
    },
    ExplainRoute {
        document: DocumentId,
        json: bool,
    },
    AddUser {
        name: String,
        role: Role,
        caseworker: Option<Kennung>,
        site: Option<String>,
        team: Option<String>,
    },
    ListUsers,
    RevokeUser {
        user: String,
    },
    VerifyAudit {
        json: bool,
        /// An anchor file to check the trail against.
        anchor: Option<String>,
    },
    /// Entries that touched a BG (`audit who-read`) or searches that held
    /// words (`audit searched-for`).
    AuditEntries {
        bg: Option<String>,
        searched: Option<String>,
        json: bool,
    },
}

/// A registry table to import.
pub use crate::model::RegistryTable as Table;

impl Request {
    /// The command as typed, for the log.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Ingest { .. } => "ingest",
            Request::Search { .. } => "search",
            Request::Show { .. } => "show",
            Request::Reindex => "reindex",
            Request::Check { .. } => "check",
            Request::Export { .. } => "export",
            Request::Deckblatt { .. } => "deckblatt",
            Request::ImportAkte { .. } => "import-akte",
            Request::Import {
                table: Table::Recipients,
                ..
            } => "recipients import",
            Request::Import {
                table: Table::Caseworkers,
                ..
            } => "caseworkers import",
            Request::ListCaseworkers => "caseworkers list",
            Request::AddAbsence { .. } => "absence add",
            Request::ListAbsences => "absence list",
            Request::RemoveAbsence { .. } => "absence remove",
            Request::ListPostbox { .. } => "postbox list",
            Request::ChangeItem { change, .. } => change.action(),
            Request::ExplainRoute { .. } => "route explain",
            Request::AddUser { .. } => "users add",
            Request::ListUsers => "users list",
            Request::RevokeUser { .. } => "users revoke",
            Request::VerifyAudit { .. } => "audit verify",
            Request::AuditEntries { bg: Some(_), .. } => "audit who-read",
            Request::AuditEntries { .. } => "audit searched-for",
        }
    }

    /// The files the command reads, in the order it reads them.
    /// The file the command line writes what the command makes to.
    pub fn output(&self) -> Option<&Path> {
        match self {
            Request::Export { out, .. } | Request::Deckblatt { out, .. } => Some(out),
            Request::ImportAkte {
                receipt: Some(receipt),
                ..
            } => Some(receipt),
            _ => None,
        }
    }

    pub fn files(&self) -> Vec<&str> {
        match self {
            Request::Ingest { files, .. } => files.iter().map(String::as_str).collect(),
            Request::Import { file, .. } | Request::ImportAkte { file, .. } => vec![file.as_str()],
            Request::VerifyAudit {
                anchor: Some(file), ..
            } => vec![file.as_str()],
            _ => Vec::new(),
        }
    }
}
