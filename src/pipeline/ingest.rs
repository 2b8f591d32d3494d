//! `eakte ingest FILE...`: the daemon's pipeline for files named on the command
//! line, without the inbox. The files are read, never moved or deleted; each one
//! gets one result line, in the order given. The command reads the files (a
//! running daemon gets their bytes over its control socket, so that it needs no
//! access to the caller's files) and commits the index before it returns.

use super::arrival::{self, Origin, Unread};
use super::{Extraction, Outcome, Pipeline};
use crate::extract::Rejection;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{mpsc, Mutex};

/// The result for one file, printed as one JSON line.
#[derive(Debug, Serialize)]
pub struct IngestLine {
    pub file: String,
    #[serde(flatten)]
    pub result: IngestResult,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum IngestResult {
    Done(Outcome),
    /// eakte could not process the file (unreadable, disk full…).
    Failed {
        status: &'static str,
        error: String,
    },
}

impl IngestLine {
    /// True when the file is stored (new or as a duplicate).
    pub fn is_stored(&self) -> bool {
        matches!(&self.result, IngestResult::Done(o) if o.document_id().is_some())
    }
}

/// A file named on the command line, as the command read it.
#[derive(Debug)]
pub struct Named {
    /// As given.
    pub file: String,
    pub content: Content,
}

#[derive(Debug)]
pub enum Content {
    Read {
        name: String,
        received_at: String,
        bytes: Vec<u8>,
    },
    /// Something about the file itself (too large, not a regular file).
    Rejected(Rejection),
    /// It could not be read at all.
    Failed(String),
}

/// Read a file named on the command line. Such files may be symlinks on
/// purpose: they are resolved here (the pipeline itself never follows one).
pub fn read_named(path: &Path, max_bytes: u64) -> Named {
    let file = path.display().to_string();
    let content = match std::fs::canonicalize(path) {
        Err(e) => Content::Failed(format!("cannot read {file}: {e}")),
        Ok(resolved) => match arrival::read(&resolved, max_bytes) {
            Ok(read) => Content::Read {
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                received_at: read.received_at,
                bytes: read.bytes,
            },
            Err(Unread::Rejected(Rejection::Unsupported { .. })) => {
                Content::Failed(format!("{file} is not a regular file"))
            }
            Err(Unread::Rejected(rejection)) => Content::Rejected(rejection),
            Err(Unread::Failed(e)) => Content::Failed(format!("cannot read {file}: {e}")),
        },
    };
    Named { file, content }
}

/// Ingest the files `next` hands out (several at a time, so a short document
/// does not leave cores idle) and call `emit` with each result in the order
/// they were handed out. `mode` says where files are read: the daemon reads
/// them in a child process (a file that crashes the reader must not take
/// the daemon down); a command in its own process may read them itself.
pub fn ingest(
    pipeline: &Pipeline,
    site: Option<&str>,
    workers: usize,
    mode: Extraction,
    next: impl FnMut() -> Option<Named> + Send,
    mut emit: impl FnMut(&IngestLine),
) {
    let next = Mutex::new((0usize, next));
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            let (tx, next) = (tx.clone(), &next);
            scope.spawn(move || loop {
                let (turn, named) = {
                    let mut next = next.lock().unwrap_or_else(|e| e.into_inner());
                    let turn = next.0;
                    let Some(named) = (next.1)() else { break };
                    next.0 += 1;
                    (turn, named)
                };
                let line = ingest_one(pipeline, named, site, mode);
                let _ = tx.send((turn, line));
            });
        }
        drop(tx);
        // Print in input order as soon as each line's turn comes.
        let mut waiting = BTreeMap::new();
        let mut turn = 0;
        for (i, line) in rx {
            waiting.insert(i, line);
            while let Some(line) = waiting.remove(&turn) {
                emit(&line);
                turn += 1;
            }
        }
    });
}

fn ingest_one(
    pipeline: &Pipeline,
    named: Named,
    site: Option<&str>,
    mode: Extraction,
) -> IngestLine {
    let Named { file, content } = named;
    let result = match content {
        Content::Failed(error) => Err(error),
        Content::Rejected(rejection) => Ok(Outcome::rejected(rejection)),
        Content::Read {
            name,
            received_at,
            bytes,
        } => pipeline
            .store()
            .documents()
            .new_arrival_id()
            .map_err(|e| e.to_string())
            .and_then(|id| {
                let origin = Origin {
                    id,
                    name,
                    site: site.map(str::to_string),
                    source: file.clone(),
                };
                pipeline
                    .process(origin.arrived(received_at), &bytes, mode)
                    .map_err(|e| e.to_string())
            }),
    };
    let result = match result {
        Ok(outcome) => IngestResult::Done(outcome),
        Err(error) => IngestResult::Failed {
            status: "error",
            error,
        },
    };
    IngestLine { file, result }
}
