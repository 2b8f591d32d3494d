//! Extraction: from the original bytes of a scan to the text of each page.
//!
//! The file type comes from the content ([`sniff`]). Images are probed from their
//! headers ([`image`]) before any decoder sees them, PDFs are read by the poppler
//! library in reader processes and its tools in subprocesses ([`pdf`],
//! [`pdf_reader`], [`tool`]), and pages without a usable text layer
//! are recognised by tesseract on the [`ocr`] pool. Every way a file can be unusable
//! is a [`Rejection`] with a plain-German reason for the scan office; problems of
//! eakte's own environment (a missing tool, a full temp disk) are
//! [`ExtractError::Environment`] instead, so that the scan stays in the inbox and is tried
//! again rather than being set aside for something that is not its fault.

pub mod decrypt;
mod error;
pub mod image;
pub mod image_pdf;
pub mod isolated;
pub mod ocr;
pub mod page_image;
pub mod pdf;
pub mod pdf_reader;
mod poppler;
mod render;
mod settings;
pub mod sniff;
pub mod tool;

pub use error::{EnvironmentError, ExtractError, Rejection};
pub use settings::{Limits, OcrSettings, Passwords, Settings};
pub use sniff::{sniff, Sniffed};

use crate::model::{FileKind, Page, PageSource};
use ocr::{OcrJob, OcrPool, PageImage};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The result of extracting a file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extracted {
    pub kind: FileKind,
    pub pages: Vec<Page>,
    /// For an encrypted PDF: which entry (1-based) of the passwords file opened it.
    #[serde(default)]
    pub opened_with: Option<u32>,
}

/// Turns bytes into pages. Cheap to share: the OCR pool lives behind an `Arc`.
#[derive(Clone)]
pub struct Extractor {
    settings: Settings,
    ocr: Arc<OcrPool>,
    pdf_readers: Arc<pdf_reader::PdfReaders>,
}

impl Extractor {
    /// Start the OCR pool. Fails if tesseract or its language data is missing.
    pub fn start(settings: &Settings) -> Result<Extractor, ExtractError> {
        let ocr = OcrPool::start(&settings.ocr)?;
        Ok(Extractor {
            settings: settings.clone(),
            ocr: Arc::new(ocr),
            pdf_readers: Arc::new(pdf_reader::PdfReaders::new(pdf::MAX_TEXT_BYTES)),
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.settings.limits
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Detect the type of `bytes` and extract the text of every page. Blocking:
    /// call it from a blocking thread, never from the async runtime.
    pub fn extract(&self, bytes: &[u8]) -> Result<Extracted, ExtractError> {
        crate::failpoint::hit("during-extract");
        if bytes.len() as u64 > self.limits().max_bytes {
            return Err(Rejection::TooLarge {
                size: bytes.len() as u64,
                max: self.limits().max_bytes,
            }
            .into());
        }
        let kind = match sniff(bytes) {
            Sniffed::Accepted(kind) => kind,
            Sniffed::Empty => return Err(Rejection::Empty.into()),
            Sniffed::Other(what) => return Err(Rejection::Unsupported { what: what.into() }.into()),
            Sniffed::Unknown => return Err(Rejection::Unknown.into()),
        };
        let (pages, opened_with) = match kind {
            FileKind::Pdf => pdf::extract(self, bytes)?,
            FileKind::Png | FileKind::Jpeg | FileKind::Tiff => {
                (self.extract_image(kind, bytes)?, None)
            }
            FileKind::Eml | FileKind::Text | FileKind::Other => {
                unreachable!("sniff accepts only scans")
            }
        };
        Ok(Extracted {
            kind,
            pages,
            opened_with,
        })
    }

    fn extract_image(&self, kind: FileKind, bytes: &[u8]) -> Result<Vec<Page>, ExtractError> {
        let info = image::probe(kind, bytes, self.limits().max_pages).map_err(|e| match e {
            image::ProbeError::TooManyPages(max) => Rejection::TooManyPages {
                pages: max as u64 + 1,
                max,
            },
            other => Rejection::CorruptImage {
                detail: other.to_string(),
            },
        })?;
        for (i, &(w, h)) in info.pages.iter().enumerate() {
            if w as u64 * h as u64 > self.limits().max_pixels_per_page {
                return Err(Rejection::PageTooLarge {
                    page: i as u32 + 1,
                    width: w as u64,
                    height: h as u64,
                    max: self.limits().max_pixels_per_page,
                }
                .into());
            }
        }
        let bytes: Arc<[u8]> = Arc::from(bytes);
        let is_tiff = kind == FileKind::Tiff;
        let jobs = (0..info.pages.len() as u32)
            .map(|i| OcrJob {
                page: i + 1,
                image: PageImage::Encoded {
                    bytes: bytes.clone(),
                    tiff_frame: is_tiff.then_some(i),
                },
            })
            .collect();
        self.ocr_pages(jobs)
    }

    /// OCR `jobs` in parallel on the pool; pages come back in page order.
    fn ocr_pages(&self, jobs: Vec<OcrJob>) -> Result<Vec<Page>, ExtractError> {
        let results = self
            .ocr
            .recognise_all(jobs, self.settings.ocr.page_timeout.as_secs());
        results
            .into_iter()
            .map(|r| {
                r.map(|p| Page {
                    number: p.page,
                    text: p.text,
                    confidence: (p.source == PageSource::Ocr).then_some(p.confidence),
                    source: p.source,
                    rotation: p.rotation,
                    code: p.code,
                })
            })
            .collect()
    }
}
