//! Why extraction did not give text: the file's fault ([`Rejection`], set
//! aside with a reason for the scan office) or eakte's environment's
//! ([`EnvironmentError`], tried again later).

use serde::{Deserialize, Serialize};

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

#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
pub enum ExtractError {
    /// The file is unusable; set it aside with the reason.
    #[error("{0}")]
    Rejected(#[from] Rejection),
    /// eakte's environment failed; the file is not at fault and must be tried
    /// again later.
    #[error(transparent)]
    Environment(#[from] EnvironmentError),
}

/// A failure of eakte's own environment while extracting: a tool missing, the
/// temporary disk full, the OCR engine or a reader process gone. Serialisable,
/// because isolated extraction reports it from a child process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{doing}: {detail}")]
pub struct EnvironmentError {
    /// What eakte was doing, e.g. "cannot start the PDF reader".
    pub doing: String,
    pub detail: String,
}

impl EnvironmentError {
    pub fn new(doing: &str, err: impl std::fmt::Display) -> EnvironmentError {
        EnvironmentError {
            doing: doing.to_string(),
            detail: err.to_string(),
        }
    }
}

impl ExtractError {
    pub(crate) fn environment(doing: &str, err: impl std::fmt::Display) -> ExtractError {
        ExtractError::Environment(EnvironmentError::new(doing, err))
    }
}
