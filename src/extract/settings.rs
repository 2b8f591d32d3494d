//! What extraction is configured with: the `[ocr]` section and the limits on
//! files of `[limits]` (the configuration builds these; extraction knows
//! nothing of the configuration file).

use std::path::PathBuf;
use std::time::Duration;

/// Everything extraction is configured with (from `[ocr]` and `[limits]`).
#[derive(Debug, Clone)]
pub struct Settings {
    pub limits: Limits,
    pub ocr: OcrSettings,
    /// The configuration file, passed on to isolated extraction (see
    /// [`isolated`]), which reads it again in the child process.
    pub config_file: Option<PathBuf>,
}

/// Limits that protect the daemon from hostile or broken files.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_pixels_per_page: u64,
    pub max_pages: u32,
    /// Wall-clock limit for reading one PDF and for rendering one page of it.
    pub tool_timeout: Duration,
    /// Passwords to try on an encrypted PDF (`[limits] pdf_passwords_file`).
    pub pdf_passwords: Passwords,
}

/// The passwords of `[limits] pdf_passwords_file`, in the file's order (the
/// document records which entry opened it, never the password). Printed as
/// their number only, so that no log or debug output shows one.
#[derive(Clone, Default)]
pub struct Passwords(pub Vec<String>);

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Passwords({} entries)", self.0.len())
    }
}

#[derive(Debug, Clone)]
pub struct OcrSettings {
    /// tesseract language string, e.g. `deu` or `deu+eng`.
    pub languages: String,
    /// OCR engines (threads); one page at a time each. Default: number of cores.
    pub workers: usize,
    /// Where the `*.traineddata` files live; `None` uses libtesseract's default.
    pub tessdata_dir: Option<PathBuf>,
    /// Resolution at which scanned PDF pages are rasterised for OCR.
    pub render_dpi: u32,
    /// Upper bound for recognising one page; a slower page fails with a reason.
    pub page_timeout: Duration,
    /// The text of a separator sheet's barcode (`[batch] separator`), e.g.
    /// `PATCHT`; compared ignoring case and surrounding space.
    pub separator: String,
}
