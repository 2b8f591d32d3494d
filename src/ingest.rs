//! `eakte ingest FILE...`: the daemon's pipeline for files named on the command
//! line, without the inbox. The files are read, never moved or deleted; each one
//! gets one result line, in the order given, and the index is committed before the
//! command returns.

use crate::config::Config;
use crate::pipeline::{Extraction, OpenError, Outcome, Pipeline};
use crate::store::NewArrival;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

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

/// Ingest `files` (several at a time, so a short document does not leave cores
/// idle) and call `emit` with each result in the order of `files`.
pub fn ingest(
    config: &Config,
    files: &[PathBuf],
    site: Option<&str>,
    mut emit: impl FnMut(&IngestLine),
) -> Result<(), OpenError> {
    let (pipeline, mut indexer) = Pipeline::open(config)?;
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..config.ocr.workers + 1 {
            let (tx, next, pipeline) = (tx.clone(), &next, &pipeline);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                let _ = tx.send((i, ingest_one(pipeline, path, site)));
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
    indexer.drain_queue(pipeline.store())?;
    indexer.finish()?;
    Ok(())
}

fn ingest_one(pipeline: &Pipeline, path: &PathBuf, site: Option<&str>) -> IngestLine {
    let file = path.display().to_string();
    let result = (|| {
        // Files named on the command line may be symlinks on purpose; resolve
        // them here (the pipeline itself never follows one).
        let resolved =
            std::fs::canonicalize(path).map_err(|e| format!("cannot read {file}: {e}"))?;
        let meta = std::fs::metadata(&resolved).map_err(|e| format!("cannot read {file}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("{file} is not a regular file"));
        }
        let arrival = NewArrival {
            id: pipeline
                .store()
                .new_arrival_id()
                .map_err(|e| e.to_string())?,
            original_name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            site: site.map(str::to_string),
            received_at: crate::timefmt::rfc3339(
                meta.modified()
                    .unwrap_or_else(|_| std::time::SystemTime::now()),
            ),
            source: file.clone(),
        };
        pipeline
            .process_file(&resolved, arrival, Extraction::InProcess)
            .map_err(|e| e.to_string())
    })();
    let result = match result {
        Ok(outcome) => IngestResult::Done(outcome),
        Err(error) => IngestResult::Failed {
            status: "error",
            error,
        },
    };
    IngestLine { file, result }
}
