//! Documents, their pages and their arrivals.

use crate::model::classification::Classification;
use crate::model::ids::{ArrivalId, DocumentId, Sha256};
use serde::{Deserialize, Serialize};

/// The formats eakte keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Pdf,
    Tiff,
    Png,
    Jpeg,
    /// An e-mail as received (RFC 5322, `.eml`), filed through the API.
    Eml,
    /// A note (Vermerk) written in the E-Akte, UTF-8 text.
    Text,
    /// An e-mail attachment eakte cannot read (kept bit-exact, without text).
    Other,
}

impl FileKind {
    pub fn mime_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Tiff => "image/tiff",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Eml => "message/rfc822",
            FileKind::Text => "text/plain; charset=utf-8",
            FileKind::Other => "application/octet-stream",
        }
    }

    /// The serde name, e.g. `pdf` (for the index and logs).
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Tiff => "tiff",
            FileKind::Png => "png",
            FileKind::Jpeg => "jpeg",
            FileKind::Eml => "eml",
            FileKind::Text => "text",
            FileKind::Other => "other",
        }
    }
}

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
    /// What the barcode of a separator sheet or a Deckblatt said (`PATCHT`,
    /// or the Deckblatt's code); such pages are not OCRed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
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
    /// Found blank (an empty backside) before OCR and left out of the text; the
    /// original keeps the page.
    Blank,
    /// A separator sheet (Trennblatt: Patch T or the separator barcode): it ends
    /// one document of a batch and starts the next; not OCRed.
    Separator,
    /// eakte's own return cover sheet (Deckblatt): its code names the BG the
    /// pages behind it belong to; not OCRed.
    CoverSheet,
}

impl PageSource {
    /// Whether the page was left out of the text (nothing on it to read).
    pub fn left_out(self) -> bool {
        matches!(
            self,
            PageSource::Blank | PageSource::Separator | PageSource::CoverSheet
        )
    }
}

/// Where a document cut from a batch (a stack scanned in one go) came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchPart {
    /// The batch, stored whole as it was scanned.
    pub batch: DocumentId,
    /// This part's number in the batch (1-based) and how many parts it had.
    pub part: u32,
    pub parts: u32,
    /// The batch's page numbers this part's pages are, in order.
    pub pages: Vec<u32>,
}

/// All page texts, pages separated by a form feed (as `pdftotext` does).
pub fn pages_text(pages: &[Page]) -> String {
    let texts: Vec<&str> = pages.iter().map(|p| p.text.as_str()).collect();
    texts.join("\n\u{c}\n")
}

/// A stored document: one per distinct content (per Akte, for filings).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Document {
    pub id: DocumentId,
    pub sha256: Sha256,
    pub size: u64,
    pub kind: FileKind,
    /// File name of the first arrival, as the scanner wrote it.
    pub original_name: String,
    /// Site (Standort) of the first arrival; `None` for files at the inbox top level.
    pub site: Option<String>,
    /// Receipt time (Eingangsdatum) of the first arrival: the scan file's mtime.
    pub received_at: String,
    /// When the document became durable in the store.
    pub stored_at: String,
    pub pages: Vec<Page>,
    /// Recipient and type (absent in stores written before classification existed).
    #[serde(default)]
    pub classification: Option<Classification>,
    /// The deduplication key when it is not the SHA-256 (`SHA-256@BG` for
    /// documents filed straight into an Akte).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_key: Option<String>,
    /// For an e-mail: the documents of its attachments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<DocumentId>,
    /// Every arrival of these bytes, first one first.
    pub arrivals: Vec<ArrivalId>,
    /// For a document cut from a batch: which batch and pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchPart>,
    /// For a batch: the documents cut from it, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<DocumentId>,
    /// For a PDF that came encrypted: which entry (1-based) of `[limits]
    /// pdf_passwords_file` opened it. The original is stored as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_with: Option<u32>,
}

impl Document {
    /// All page texts, pages separated by a form feed.
    pub fn text(&self) -> String {
        pages_text(&self.pages)
    }

    /// Whether a person filed it straight into an Akte (an upload) rather than
    /// it arriving as post to be routed: only filings are keyed per BG.
    pub fn filed_into_akte(&self) -> bool {
        self.content_key.is_some()
    }
}

/// One arrival of a file (a scan in the inbox, a file given to `eakte ingest`,
/// an upload).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Arrival {
    pub id: ArrivalId,
    pub document_id: DocumentId,
    pub original_name: String,
    pub site: Option<String>,
    pub received_at: String,
    pub recorded_at: String,
    /// Where it came from: the path relative to the inbox, or the path given on the CLI.
    pub source: String,
    /// True when the bytes were already stored by an earlier arrival.
    pub duplicate: bool,
}
