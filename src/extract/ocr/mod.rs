//! The OCR pool: one tesseract [`Engine`] per worker thread, pages of all documents
//! on one queue.
//!
//! libtesseract runs single-threaded here (OMP_THREAD_LIMIT=1, see main.rs): on
//! this hardware one engine per core recognising different pages is ~3x faster than
//! OpenMP inside one page. The pages of one document are queued together, so a
//! multi-page scan uses every core; the queue is FIFO, so documents finish in the
//! order they came. Workers are plain threads, never async tasks: a page takes
//! seconds of CPU.

pub mod blank;
pub mod engine;
mod patch;
pub mod sheet;
mod zbar;

use super::error::{ExtractError, Rejection};
use super::render::RenderRequest;
use super::settings::OcrSettings;
use crate::model::PageSource;
use engine::{Engine, Image, RecogniseError};
use sheet::{Sheet, SheetReader};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a page's pixels come from.
pub enum PageImage {
    /// An encoded PNG, JPEG or TIFF (`tiff_frame` selects the TIFF page).
    Encoded {
        bytes: Arc<[u8]>,
        tiff_frame: Option<u32>,
    },
    /// A PDF page still to be rasterised (the worker runs `pdftoppm` itself, so
    /// rendering is spread over the cores as well).
    Pdf(RenderRequest),
}

/// One page to recognise.
pub struct OcrJob {
    /// 1-based page number within its document.
    pub page: u32,
    pub image: PageImage,
}

/// The recognised page.
#[derive(Debug, Clone)]
pub struct OcrPage {
    pub page: u32,
    pub text: String,
    pub confidence: f32,
    /// Clockwise degrees applied to put the page upright.
    pub rotation: u16,
    /// `Ocr`, or what the page was found to be before OCR and therefore not
    /// recognised: `Blank` ([`blank`]), `Separator` or `CoverSheet` ([`sheet`]).
    pub source: PageSource,
    /// The barcode that made it a separator or cover sheet.
    pub code: Option<String>,
}

type Reply = Sender<(usize, Result<OcrPage, ExtractError>)>;

struct Task {
    job: OcrJob,
    slot: usize,
    timeout: Duration,
    /// Set when another page of the same document failed: skip the rest.
    cancelled: Arc<AtomicBool>,
    reply: Reply,
}

pub struct OcrPool {
    queue: Option<Sender<Task>>,
}

impl OcrPool {
    /// Start `config.workers` engines. Fails when tesseract cannot load the
    /// language data, so that a misconfigured daemon stops at once, not per scan.
    pub fn start(config: &OcrSettings) -> Result<OcrPool, ExtractError> {
        engine::quiet_leptonica();
        let (queue, tasks) = mpsc::channel::<Task>();
        let tasks = Arc::new(Mutex::new(tasks));
        let (ready_tx, ready_rx) = mpsc::channel();
        for n in 0..config.workers {
            let tasks = tasks.clone();
            let ready = ready_tx.clone();
            let datapath = config.tessdata_dir.clone();
            let languages = config.languages.clone();
            let separator = config.separator.clone();
            std::thread::Builder::new()
                .name(format!("ocr-{n}"))
                .spawn(move || {
                    let started = Engine::new(datapath.as_deref(), &languages)
                        .and_then(|engine| Ok((engine, SheetReader::new(separator)?)));
                    match started {
                        Ok((engine, sheets)) => {
                            let _ = ready.send(Ok(engine.detects_orientation()));
                            drop(ready);
                            work(engine, sheets, &tasks);
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e));
                        }
                    }
                })
                .map_err(|e| ExtractError::environment("cannot start OCR thread", e))?;
        }
        drop(ready_tx);
        let mut orientation = true;
        for _ in 0..config.workers {
            match ready_rx.recv() {
                Ok(Ok(osd)) => orientation &= osd,
                Ok(Err(message)) => {
                    return Err(ExtractError::environment("cannot start OCR", message))
                }
                Err(_) => {
                    return Err(ExtractError::environment(
                        "cannot start OCR",
                        "an OCR thread died while starting",
                    ))
                }
            }
        }
        if !orientation {
            tracing::warn!("tesseract's `osd` data is missing: pages scanned sideways or upside down will not be turned (install tesseract-ocr-osd)");
        }
        Ok(OcrPool { queue: Some(queue) })
    }

    /// Recognise all `jobs` in parallel; results come back in the order of `jobs`.
    /// Stops early at the first failed page: the document is rejected anyway.
    pub fn recognise_all(
        &self,
        jobs: Vec<OcrJob>,
        page_timeout_secs: u64,
    ) -> Vec<Result<OcrPage, ExtractError>> {
        let queue = self.queue.as_ref().expect("pool is running");
        let cancelled = Arc::new(AtomicBool::new(false));
        let (reply, results) = mpsc::channel();
        let n = jobs.len();
        for (slot, job) in jobs.into_iter().enumerate() {
            let task = Task {
                job,
                slot,
                timeout: Duration::from_secs(page_timeout_secs),
                cancelled: cancelled.clone(),
                reply: reply.clone(),
            };
            if queue.send(task).is_err() {
                return vec![Err(ExtractError::environment(
                    "OCR",
                    "the OCR pool has stopped",
                ))];
            }
        }
        drop(reply);
        let mut out: Vec<Option<Result<OcrPage, ExtractError>>> = (0..n).map(|_| None).collect();
        for (slot, result) in results.iter() {
            if result.is_err() {
                cancelled.store(true, Ordering::Relaxed);
                return vec![result];
            }
            out[slot] = Some(result);
        }
        out.into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(ExtractError::environment(
                        "OCR",
                        "an OCR worker stopped unexpectedly",
                    ))
                })
            })
            .collect()
    }
}

impl Drop for OcrPool {
    fn drop(&mut self) {
        // Closing the queue ends every worker after its current page. They are not
        // joined: a shutdown must not wait for a long page to finish.
        self.queue.take();
    }
}

fn work(mut engine: Engine, mut sheets: SheetReader, tasks: &Mutex<Receiver<Task>>) {
    loop {
        let task = {
            let Ok(rx) = tasks.lock() else { return };
            match rx.recv() {
                Ok(task) => task,
                Err(_) => return,
            }
        };
        if task.cancelled.load(Ordering::Relaxed) {
            continue;
        }
        let result = recognise_page(&mut engine, &mut sheets, task.job, task.timeout);
        let _ = task.reply.send((task.slot, result));
    }
}

/// Below this mean confidence a page may be upside down: only then is the
/// (costly) orientation detection run. Upright pages read at 85–96 here, pages
/// upside down at 25–45.
const TRUST_CONFIDENCE: f32 = 60.0;

fn recognise_page(
    engine: &mut Engine,
    sheets: &mut SheetReader,
    job: OcrJob,
    timeout: Duration,
) -> Result<OcrPage, ExtractError> {
    let page = job.page;
    let image = load(job.image, page)?;
    let started = Instant::now();
    let left_out = |source, code| OcrPage {
        page,
        text: String::new(),
        confidence: 0.0,
        rotation: 0,
        source,
        code,
    };
    if is_blank(&image) {
        tracing::debug!(page, "blank page left out");
        return Ok(left_out(PageSource::Blank, None));
    }
    if let Some(found) = sheets.read(&image) {
        tracing::debug!(page, code = found.code(), "separator or cover sheet");
        return Ok(match found {
            Sheet::Separator(code) => left_out(PageSource::Separator, Some(code)),
            Sheet::CoverSheet(code) => left_out(PageSource::CoverSheet, Some(code)),
        });
    }
    let remaining = || {
        timeout
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(1))
    };
    let failed = |e: RecogniseError| -> ExtractError {
        match e {
            RecogniseError::Deadline => Rejection::OcrTimeout {
                page,
                secs: timeout.as_secs(),
            },
            RecogniseError::Failed => Rejection::OcrFailed {
                page,
                detail: e.to_string(),
            },
        }
        .into()
    };
    let mut best = engine.recognise(&image, remaining()).map_err(failed)?;
    let mut rotation = best.turns;
    if best.confidence < TRUST_CONFIDENCE {
        let turns = engine.upright_turns(&image);
        if turns != 0 {
            let upright = image.rotated(turns).ok_or_else(|| Rejection::OcrFailed {
                page,
                detail: "cannot rotate the page".into(),
            })?;
            let second = engine.recognise(&upright, remaining()).map_err(failed)?;
            if second.confidence > best.confidence {
                rotation = (turns + second.turns) % 4;
                best = second;
            }
        }
    }
    crate::metrics::metrics().ocr_page(started.elapsed());
    tracing::debug!(
        page,
        seconds = started.elapsed().as_secs_f32(),
        confidence = best.confidence,
        rotation = rotation as u16 * 90,
        "page recognised"
    );
    Ok(OcrPage {
        page,
        text: best.text.trim_end().to_string(),
        confidence: best.confidence,
        rotation: rotation as u16 * 90,
        source: PageSource::Ocr,
        code: None,
    })
}

fn is_blank(image: &Image) -> bool {
    let Some(boxes) = image.dark_marks(blank::INK_THRESHOLD) else {
        return false;
    };
    blank::is_blank(&blank::Marks {
        width: image.width(),
        height: image.height(),
        dpi: image.dpi(),
        boxes: &boxes,
    })
}

fn load(image: PageImage, page: u32) -> Result<Image, ExtractError> {
    match image {
        PageImage::Encoded { bytes, tiff_frame } => {
            Image::decode(&bytes, tiff_frame).ok_or_else(|| {
                Rejection::CorruptImage {
                    detail: format!("page {page} cannot be decoded"),
                }
                .into()
            })
        }
        PageImage::Pdf(request) => {
            let rendered: PathBuf = request.render()?;
            let image = Image::read_file(&rendered);
            let _ = std::fs::remove_file(&rendered);
            image.ok_or_else(|| {
                Rejection::CorruptPdf {
                    detail: format!("page {page} could not be rasterised"),
                }
                .into()
            })
        }
    }
}
