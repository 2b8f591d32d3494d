//! Extraction: from the original bytes of a scan to the text of each page.
//!
//! The file type comes from the content ([`sniff`]). Images are probed from their
//! headers ([`image`]) before any decoder sees them, PDFs are read by the poppler
//! library in reader processes and its tools in subprocesses ([`pdf`],
//! [`pdf_reader`], [`tool`]), and pages without a usable text layer
//! are recognised by tesseract on the [`ocr`] pool. Every way a file can be unusable
//! is a [`Rejection`] with a plain-German reason for the scan office; problems of
//! eakte's own environment (a missing tool, a full temp disk) are
//! [`ExtractError::System`] instead, so that the scan stays in the inbox and is tried
//! again rather than being set aside for something that is not its fault.

pub mod image;
pub mod isolated;
pub mod ocr;
pub mod pdf;
pub mod pdf_reader;
mod poppler;
pub mod sniff;
pub mod tool;

use crate::config::{Config, Limits};
use ocr::{OcrJob, OcrPool, PageImage};
use serde::{Deserialize, Serialize};
pub use sniff::{sniff, FileKind, Sniffed};
use std::sync::Arc;

/// The text of one page and how it was obtained.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Page {
    /// 1-based page number.
    pub number: u32,
    pub text: String,
    /// Mean tesseract word confidence (0–100) for OCRed pages; `None` for text layers.
    pub confidence: Option<f32>,
    pub source: PageSource,
    /// Clockwise rotation in degrees that was applied to put the page upright.
    pub rotation: u16,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PageSource {
    /// The PDF's own text layer.
    TextLayer,
    /// Recognised by tesseract.
    Ocr,
    /// A text layer plus OCR of images on the same page (text in an embedded picture).
    Mixed,
}

/// All page texts, pages separated by a form feed (as `pdftotext` does).
pub fn pages_text(pages: &[Page]) -> String {
    let texts: Vec<&str> = pages.iter().map(|p| p.text.as_str()).collect();
    texts.join("\n\u{c}\n")
}

/// The result of extracting a file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extracted {
    pub kind: FileKind,
    pub pages: Vec<Page>,
}

/// Why a file cannot be taken: something about the file itself. Such files are
/// set aside (quarantined) with [`Rejection::reason_de`] next to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error("the file is empty")]
    Empty,
    #[error("the file cannot be read: {detail}")]
    Unreadable { detail: String },
    #[error("the file has {size} bytes, more than the limit of {max}")]
    TooLarge { size: u64, max: u64 },
    #[error("the file is {what}, not a supported scan format")]
    Unsupported { what: String },
    #[error("the file type is unknown (accepted: PDF, TIFF, PNG, JPEG)")]
    Unknown,
    #[error("the PDF is encrypted with a password")]
    Encrypted,
    #[error("the PDF cannot be read: {detail}")]
    CorruptPdf { detail: String },
    #[error("the image cannot be read: {detail}")]
    CorruptImage { detail: String },
    #[error("the file has no pages")]
    NoPages,
    #[error("the file has {pages} pages, more than the limit of {max}")]
    TooManyPages { pages: u64, max: u32 },
    #[error(
        "page {page} is {width}x{height} pixels, more than the limit of {max} pixels per page"
    )]
    PageTooLarge {
        page: u32,
        width: u64,
        height: u64,
        max: u64,
    },
    #[error("page {page} has an impossible size of {width:.1} x {height:.1} pt")]
    BadPageSize { page: u32, width: f64, height: f64 },
    #[error("{tool} did not finish within {secs} s")]
    ToolTimeout { tool: String, secs: u64 },
    #[error("OCR of page {page} did not finish within {secs} s")]
    OcrTimeout { page: u32, secs: u64 },
    #[error("OCR of page {page} failed: {detail}")]
    OcrFailed { page: u32, detail: String },
    /// Reading the file crashed the (isolated) extraction process.
    #[error("reading the file crashed the extraction process ({detail})")]
    CrashesReader { detail: String },
}

impl Rejection {
    /// A stable machine-readable code (for JSON output, logs and metrics).
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Empty => "empty",
            Rejection::Unreadable { .. } => "unreadable",
            Rejection::TooLarge { .. } => "too_large",
            Rejection::Unsupported { .. } => "unsupported_type",
            Rejection::Unknown => "unknown_type",
            Rejection::Encrypted => "encrypted",
            Rejection::CorruptPdf { .. } => "corrupt_pdf",
            Rejection::CorruptImage { .. } => "corrupt_image",
            Rejection::NoPages => "no_pages",
            Rejection::TooManyPages { .. } => "too_many_pages",
            Rejection::PageTooLarge { .. } => "page_too_large",
            Rejection::BadPageSize { .. } => "bad_page_size",
            Rejection::ToolTimeout { .. } => "timeout",
            Rejection::OcrTimeout { .. } => "ocr_timeout",
            Rejection::OcrFailed { .. } => "ocr_failed",
            Rejection::CrashesReader { .. } => "crashes_reader",
        }
    }

    /// The reason in plain German, for the scan office (Scanstelle).
    pub fn reason_de(&self) -> String {
        const FORMATS: &str = "Angenommen werden PDF, TIFF, PNG und JPEG";
        match self {
            Rejection::Empty => "Die Datei ist leer (0 Byte). Bitte das Dokument neu scannen.".into(),
            Rejection::Unreadable { .. } => "Die Datei darf nicht gelesen werden (fehlende Leserechte). Bitte mit Leserechten für die E-Akte neu ablegen.".into(),
            Rejection::TooLarge { size, max } => format!(
                "Die Datei ist zu groß ({}); erlaubt sind höchstens {}. Bitte in kleinere Teile aufteilen oder mit geringerer Auflösung scannen.",
                megabytes(*size),
                megabytes(*max)
            ),
            Rejection::Unsupported { what } => {
                format!("Die Datei ist {what}, kein Scan. {FORMATS}.")
            }
            Rejection::Unknown => format!(
                "Das Dateiformat ist unbekannt. {FORMATS}; es zählt der Inhalt, nicht die Dateiendung."
            ),
            Rejection::Encrypted => "Das PDF ist mit einem Kennwort geschützt und kann nicht gelesen werden. Bitte ohne Kennwortschutz neu erzeugen oder das Papier neu scannen.".into(),
            Rejection::CorruptPdf { detail } => format!(
                "Das PDF ist beschädigt und kann nicht gelesen werden. Bitte neu scannen. (Technisch: {detail})"
            ),
            Rejection::CorruptImage { detail } => format!(
                "Das Bild ist beschädigt und kann nicht gelesen werden. Bitte neu scannen. (Technisch: {detail})"
            ),
            Rejection::NoPages => "Die Datei enthält keine Seiten.".into(),
            Rejection::TooManyPages { pages, max } => format!(
                "Die Datei hat {pages} Seiten; erlaubt sind höchstens {max}. Bitte in kleinere Dateien aufteilen."
            ),
            Rejection::PageTooLarge { page, width, height, max } => format!(
                "Seite {page} ist zu groß ({width} × {height} Bildpunkte); erlaubt sind höchstens {} Megapixel pro Seite. Bitte mit geringerer Auflösung (z. B. 300 dpi) neu scannen.",
                max / 1_000_000
            ),
            Rejection::BadPageSize { page, width, height } => format!(
                "Seite {page} hat unmögliche Abmessungen ({width:.1} × {height:.1} Punkt); die Datei ist vermutlich beschädigt. Bitte neu scannen."
            ),
            Rejection::ToolTimeout { secs, .. } => format!(
                "Das Lesen der Datei hat länger als {secs} Sekunden gedauert und wurde abgebrochen; die Datei ist vermutlich beschädigt. Bitte neu scannen."
            ),
            Rejection::OcrTimeout { page, secs } => format!(
                "Die Texterkennung für Seite {page} hat länger als {secs} Sekunden gedauert und wurde abgebrochen. Bitte die Seite sauberer oder mit 300 dpi neu scannen."
            ),
            Rejection::OcrFailed { page, .. } => format!(
                "Die Texterkennung für Seite {page} ist fehlgeschlagen. Bitte neu scannen."
            ),
            Rejection::CrashesReader { .. } => "Die Datei bringt das Leseprogramm zum Absturz und wurde deshalb beiseitegelegt. Bitte neu scannen; passiert es wieder, bitte die IT informieren.".into(),
        }
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

#[derive(Debug, Serialize, Deserialize, thiserror::Error)]
pub enum ExtractError {
    /// The file is unusable; set it aside with the reason.
    #[error("{0}")]
    Rejected(#[from] Rejection),
    /// eakte's environment failed (tool missing, temp disk full, OCR engine);
    /// the file is not at fault and must be tried again later.
    #[error("{0}")]
    System(String),
}

impl ExtractError {
    pub(crate) fn system(context: &str, err: impl std::fmt::Display) -> ExtractError {
        ExtractError::System(format!("{context}: {err}"))
    }
}

/// Turns bytes into pages. Cheap to share: the OCR pool lives behind an `Arc`.
#[derive(Clone)]
pub struct Extractor {
    limits: Limits,
    /// The configuration file, passed on to isolated extraction (see [`isolated`]).
    config_source: Option<std::path::PathBuf>,
    render_dpi: u32,
    page_timeout_secs: u64,
    ocr: Arc<OcrPool>,
    pdf_readers: Arc<pdf_reader::PdfReaders>,
}

impl Extractor {
    /// Start the OCR pool. Fails if tesseract or its language data is missing.
    pub fn start(config: &Config) -> Result<Extractor, ExtractError> {
        let ocr = OcrPool::start(&config.ocr)?;
        Ok(Extractor {
            limits: config.limits.clone(),
            config_source: config.source.clone(),
            render_dpi: config.ocr.render_dpi,
            page_timeout_secs: config.ocr.page_timeout.as_secs(),
            ocr: Arc::new(ocr),
            pdf_readers: Arc::new(pdf_reader::PdfReaders::new(pdf::MAX_TEXT_BYTES)),
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Detect the type of `bytes` and extract the text of every page. Blocking:
    /// call it from a blocking thread, never from the async runtime.
    pub fn extract(&self, bytes: &[u8]) -> Result<Extracted, ExtractError> {
        crate::failpoint::hit("during-extract");
        if bytes.len() as u64 > self.limits.max_bytes {
            return Err(Rejection::TooLarge {
                size: bytes.len() as u64,
                max: self.limits.max_bytes,
            }
            .into());
        }
        let kind = match sniff(bytes) {
            Sniffed::Accepted(kind) => kind,
            Sniffed::Empty => return Err(Rejection::Empty.into()),
            Sniffed::Other(what) => return Err(Rejection::Unsupported { what: what.into() }.into()),
            Sniffed::Unknown => return Err(Rejection::Unknown.into()),
        };
        let pages = match kind {
            FileKind::Pdf => pdf::extract(self, bytes)?,
            FileKind::Png | FileKind::Jpeg | FileKind::Tiff => self.extract_image(kind, bytes)?,
            FileKind::Eml | FileKind::Text | FileKind::Other => {
                unreachable!("sniff accepts only scans")
            }
        };
        Ok(Extracted { kind, pages })
    }

    fn extract_image(&self, kind: FileKind, bytes: &[u8]) -> Result<Vec<Page>, ExtractError> {
        let info = image::probe(kind, bytes, self.limits.max_pages).map_err(|e| match e {
            image::ProbeError::TooManyPages(max) => Rejection::TooManyPages {
                pages: max as u64 + 1,
                max,
            },
            other => Rejection::CorruptImage {
                detail: other.to_string(),
            },
        })?;
        for (i, &(w, h)) in info.pages.iter().enumerate() {
            if w as u64 * h as u64 > self.limits.max_pixels_per_page {
                return Err(Rejection::PageTooLarge {
                    page: i as u32 + 1,
                    width: w as u64,
                    height: h as u64,
                    max: self.limits.max_pixels_per_page,
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
        let results = self.ocr.recognise_all(jobs, self.page_timeout_secs);
        results
            .into_iter()
            .map(|r| {
                r.map(|p| Page {
                    number: p.page,
                    text: p.text,
                    confidence: Some(p.confidence),
                    source: PageSource::Ocr,
                    rotation: p.rotation,
                })
            })
            .collect()
    }
}
