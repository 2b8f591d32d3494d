//! Scans from the inbox through the pipeline, as `eakte serve` runs them: the
//! intake hands out claimed scans while there is room (one job per OCR worker,
//! plus one that hashes and files while the others read), each job runs the
//! pipeline on the blocking pool and then removes the scan from the inbox or
//! sets it aside with the reason. Failures of eakte's own (a full disk, a
//! missing tool) leave the scan claimed and are retried with back-off.

use super::arrival::Origin;
use super::{Extraction, Outcome, Pipeline, PipelineError};
use crate::failpoint;
use crate::inbox::intake::Intake;
use crate::inbox::{Claimed, Inbox, QUARANTINE_DIR};
use crate::index::thread::IndexHandle;
use crate::shutdown::Shutdown;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Waits between retries of a scan that failed for a reason of eakte's own
/// (disk full, a missing tool), doubling up to the maximum.
const RETRY_FIRST: Duration = Duration::from_secs(5);
const RETRY_MAX: Duration = Duration::from_secs(300);

/// Why a scan's job could not finish it.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error("cannot remove {scan} from the inbox: {source}")]
    Finish {
        scan: String,
        source: std::io::Error,
    },
    #[error("cannot move {scan} to {QUARANTINE_DIR}: {source}")]
    SetAside {
        scan: String,
        source: std::io::Error,
    },
}

impl From<crate::store::StoreError> for ScanError {
    fn from(e: crate::store::StoreError) -> ScanError {
        ScanError::Pipeline(e.into())
    }
}

/// What the intake loop and the jobs share.
pub struct Scans {
    pipeline: Pipeline,
    inbox: Inbox,
    index: IndexHandle,
    /// One permit per scan in progress.
    permits: Arc<Semaphore>,
    concurrency: u32,
    shutdown: Shutdown,
}

impl Scans {
    pub fn new(
        pipeline: Pipeline,
        inbox: Inbox,
        index: IndexHandle,
        shutdown: Shutdown,
    ) -> Arc<Scans> {
        let concurrency = pipeline.extractor().settings().ocr.workers + 1;
        Arc::new(Scans {
            pipeline,
            inbox,
            index,
            permits: Arc::new(Semaphore::new(concurrency)),
            concurrency: u32::try_from(concurrency).unwrap_or(u32::MAX),
            shutdown,
        })
    }

    /// Take scans from `intake` until the shutdown: first those claimed
    /// before the last stop or crash, then each new one as a job has room.
    pub async fn run(self: Arc<Scans>, mut intake: Intake) {
        for claimed in intake.resumed().await {
            let Some(permit) = self.permit().await else {
                return;
            };
            tokio::spawn(self.clone().job(claimed, permit));
        }
        loop {
            let Some(permit) = self.permit().await else {
                return;
            };
            let Some(claimed) = intake.next(&self.shutdown).await else {
                return;
            };
            tokio::spawn(self.clone().job(claimed, permit));
        }
    }

    async fn permit(&self) -> Option<OwnedSemaphorePermit> {
        tokio::select! {
            permit = self.permits.clone().acquire_owned() => permit.ok(),
            _ = self.shutdown.triggered() => None,
        }
    }

    /// After the shutdown: wait up to `grace` for running jobs. Whatever still
    /// runs then stays claimed and is resumed at the next start.
    pub async fn wait_idle(&self, grace: Duration) -> bool {
        tokio::time::timeout(grace, self.permits.acquire_many(self.concurrency))
            .await
            .is_ok()
    }

    /// Process one claimed scan to the end, retrying failures of eakte's own.
    async fn job(self: Arc<Scans>, claimed: Claimed, permit: OwnedSemaphorePermit) {
        let mut retry = RETRY_FIRST;
        loop {
            let (s, c) = (self.clone(), claimed.clone());
            match tokio::task::spawn_blocking(move || s.handle(&c)).await {
                Ok(Ok(())) => break,
                Ok(Err(e)) => {
                    tracing::error!(scan = %claimed.source(), error = %e, retry_in_secs = retry.as_secs(), "scan could not be processed; it stays in the inbox");
                }
                Err(panic) => {
                    tracing::error!(scan = %claimed.source(), error = %panic, "processing the scan crashed");
                    let (s, c) = (self.clone(), claimed.clone());
                    let reason = "Beim Verarbeiten dieser Datei ist ein interner Fehler aufgetreten. Bitte die IT informieren; die Datei bleibt hier erhalten.";
                    let _ = tokio::task::spawn_blocking(move || {
                        s.set_aside(&c, reason, "internal error")
                    })
                    .await;
                    break;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(retry) => {}
                _ = self.shutdown.triggered() => break,
            }
            retry = (retry * 2).min(RETRY_MAX);
        }
        drop(permit);
    }

    /// Blocking: run the pipeline for `claimed`, then finish or set it aside.
    fn handle(&self, claimed: &Claimed) -> Result<(), ScanError> {
        let store = self.pipeline.store();
        // A full or read-only disk: the scan waits, claimed, for the next try.
        store.ensure_writable()?;
        // An earlier attempt that never finished means the process died meanwhile,
        // maybe because of this very file: read it in a child process this time.
        let mode = match store.documents().begin_attempt(claimed.arrival)? {
            1 => Extraction::InProcess,
            _ => Extraction::Isolated,
        };
        let result = self.attempt(claimed, mode);
        if result.is_err() {
            // The attempt ended with an error, not with the process: not suspect.
            let _ = store.documents().end_attempts(claimed.arrival);
        }
        result
    }

    fn attempt(&self, claimed: &Claimed, mode: Extraction) -> Result<(), ScanError> {
        let origin = Origin {
            id: claimed.arrival,
            name: claimed.name(),
            site: claimed.site(),
            source: claimed.source(),
        };
        let started = Instant::now();
        let outcome = self.pipeline.process_file(&claimed.path, origin, mode)?;
        if let Outcome::Rejected {
            rejection, error, ..
        } = &outcome
        {
            return self.set_aside(claimed, &rejection.reason_de(), error);
        }
        failpoint::hit("before-finish");
        self.inbox
            .finish(claimed)
            .map_err(|source| ScanError::Finish {
                scan: claimed.source(),
                source,
            })?;
        failpoint::hit("after-finish");
        self.pipeline
            .store()
            .documents()
            .end_attempts(claimed.arrival)?;
        self.index.wake();
        tracing::info!(
            scan = %claimed.source(),
            status = outcome.status(),
            document = outcome.document_id().map(|id| id.0),
            seconds = started.elapsed().as_secs_f32(),
            "scan filed"
        );
        Ok(())
    }

    fn set_aside(
        &self,
        claimed: &Claimed,
        reason_de: &str,
        technical: &str,
    ) -> Result<(), ScanError> {
        let to = self
            .inbox
            .set_aside(claimed, reason_de, technical)
            .map_err(|source| ScanError::SetAside {
                scan: claimed.source(),
                source,
            })?;
        self.pipeline
            .store()
            .documents()
            .end_attempts(claimed.arrival)?;
        tracing::warn!(scan = %claimed.source(), to = %to.display(), reason = technical, "scan set aside");
        Ok(())
    }
}
