//! PDF pages: the text layer where there is one, OCR where there is not.
//!
//! poppler's command-line tools do the reading (see [`super::tool`] for why they run
//! as subprocesses): `pdfinfo` for page count, sizes and encryption, `pdftotext` for
//! the text layer, `pdfimages -list` to see whether a page with text also carries
//! pictures that may contain text, and `pdftoppm` to rasterise pages for OCR.
//!
//! A page is OCRed when its text layer is missing or trivial (scanners' PDFs, and
//! "tagged" PDFs with an empty layer), or when a short text layer sits next to
//! pictures covering a noticeable part of the page (text inside an image). A page
//! with a long text layer over a full-page picture is a searchable scan that was
//! already OCRed by the scanner; it is not recognised a second time.

use super::ocr::{OcrJob, PageImage};
use super::tool::{self, ToolError};
use super::{ExtractError, Extractor, Page, PageSource, Rejection};
use crate::config::Limits;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A text layer with fewer letters and digits than this is no text layer (a form
/// feed, a page number, a stray header on a scanned page).
const MIN_TEXT_CHARS: usize = 16;
/// A text layer this long is taken as the whole page even over a full-page image.
const SEARCHABLE_SCAN_MIN_CHARS: usize = 200;
/// Pictures covering at least this share of a page with a short text layer get OCRed.
const MIN_IMAGE_COVERAGE: f64 = 0.03;
/// Below this resolution OCR quality collapses; a page that would need less to stay
/// under the pixel limit is rejected instead of being recognised badly.
const MIN_OCR_DPI: u32 = 150;
/// At most this much of a tool's text output is read (500 pages of dense text are
/// a few MB; more is a hostile file repeating itself).
const MAX_TOOL_OUTPUT: u64 = 32 * 1024 * 1024;
/// Pages smaller than this (in points, 1/72 inch) on either side are broken files.
const MIN_PAGE_SIDE_PT: f64 = 10.0;

/// A PDF page to be rasterised by an OCR worker.
pub struct RenderRequest {
    work: Arc<WorkDir>,
    page: u32,
    dpi: u32,
    timeout: Duration,
}

impl RenderRequest {
    /// Rasterise the page to an 8-bit grey PGM file; returns its path.
    pub fn render(&self) -> Result<PathBuf, ExtractError> {
        let prefix = self.work.dir.path().join(format!("page-{}", self.page));
        let page = self.page.to_string();
        let dpi = self.dpi.to_string();
        let args: [&OsStr; 10] = [
            "-r".as_ref(),
            dpi.as_ref(),
            "-f".as_ref(),
            page.as_ref(),
            "-l".as_ref(),
            page.as_ref(),
            "-gray".as_ref(),
            "-singlefile".as_ref(),
            self.work.input.as_os_str(),
            prefix.as_os_str(),
        ];
        let log = self
            .work
            .dir
            .path()
            .join(format!("pdftoppm-{}.out", self.page));
        tool::run("pdftoppm", &args, &log, self.timeout).map_err(tool_error)?;
        Ok(prefix.with_extension("pgm"))
    }
}

/// The scratch directory of one PDF: the input copy and rendered pages.
struct WorkDir {
    dir: tempfile::TempDir,
    input: PathBuf,
}

/// What `pdfinfo` says about a file.
#[derive(Debug, Clone, PartialEq)]
pub struct PdfInfo {
    pub pages: u64,
    /// Width and height in points of the first `min(pages, max_pages)` pages.
    pub sizes: Vec<(f64, f64)>,
}

pub(super) fn extract(ex: &Extractor, bytes: &[u8]) -> Result<Vec<Page>, ExtractError> {
    let limits = ex.limits();
    let dir = tempfile::Builder::new()
        .prefix("eakte-pdf-")
        .tempdir()
        .map_err(|e| ExtractError::system("cannot create a temporary directory", e))?;
    let input = dir.path().join("input.pdf");
    std::fs::write(&input, bytes)
        .map_err(|e| ExtractError::system("cannot write a temporary file", e))?;
    let work = Arc::new(WorkDir { dir, input });

    let info = info(&work, limits)?;
    if info.pages == 0 {
        return Err(Rejection::NoPages.into());
    }
    if info.pages > limits.max_pages as u64 {
        return Err(Rejection::TooManyPages {
            pages: info.pages,
            max: limits.max_pages,
        }
        .into());
    }
    if info.pages as usize != info.sizes.len() {
        return Err(Rejection::CorruptPdf {
            detail: format!("{} pages, but sizes for {}", info.pages, info.sizes.len()),
        }
        .into());
    }
    for (i, &(width, height)) in info.sizes.iter().enumerate() {
        if !(width >= MIN_PAGE_SIDE_PT && height >= MIN_PAGE_SIDE_PT) {
            return Err(Rejection::BadPageSize {
                page: i as u32 + 1,
                width,
                height,
            }
            .into());
        }
    }
    let texts = text_layer(&work, info.pages as u32, limits)?;
    let chars: Vec<usize> = texts
        .iter()
        .map(|t| t.chars().filter(|c| c.is_alphanumeric()).count())
        .collect();
    let coverage = if chars
        .iter()
        .any(|c| (MIN_TEXT_CHARS..SEARCHABLE_SCAN_MIN_CHARS).contains(c))
    {
        image_coverage(&work, &info, limits)?
    } else {
        vec![0.0; info.sizes.len()]
    };

    let mut pages = Vec::with_capacity(info.sizes.len());
    let mut jobs = Vec::new();
    for (i, text) in texts.into_iter().enumerate() {
        let number = i as u32 + 1;
        let has_text = chars[i] >= MIN_TEXT_CHARS;
        let pictures_may_hold_text =
            chars[i] < SEARCHABLE_SCAN_MIN_CHARS && coverage[i] >= MIN_IMAGE_COVERAGE;
        let source = match (has_text, pictures_may_hold_text) {
            (true, false) => PageSource::TextLayer,
            (true, true) => PageSource::Mixed,
            (false, _) => PageSource::Ocr,
        };
        if source != PageSource::TextLayer {
            let (width, height) = info.sizes[i];
            let dpi = choose_dpi(
                number,
                width,
                height,
                ex.render_dpi,
                limits.max_pixels_per_page,
            )?;
            jobs.push(OcrJob {
                page: number,
                image: PageImage::Pdf(RenderRequest {
                    work: work.clone(),
                    page: number,
                    dpi,
                    timeout: limits.tool_timeout,
                }),
            });
        }
        let text = if has_text {
            text.trim().to_string()
        } else {
            String::new()
        };
        pages.push(Page {
            number,
            text,
            confidence: None,
            source,
            rotation: 0,
        });
    }
    for ocr in ex.ocr_pages(jobs)? {
        let page = &mut pages[ocr.number as usize - 1];
        page.text = match page.source {
            PageSource::Mixed => format!("{}\n\n{}", page.text, ocr.text),
            _ => ocr.text,
        };
        page.confidence = ocr.confidence;
        page.rotation = ocr.rotation;
    }
    Ok(pages)
}

/// The rendering resolution for a page: the configured one, lowered if needed to
/// stay within the pixel limit, but never below [`MIN_OCR_DPI`].
fn choose_dpi(
    page: u32,
    width_pt: f64,
    height_pt: f64,
    wanted: u32,
    max_pixels: u64,
) -> Result<u32, Rejection> {
    let square_inches = (width_pt / 72.0) * (height_pt / 72.0);
    let fitting = (max_pixels as f64 / square_inches).sqrt().floor();
    let dpi = (wanted as f64).min(fitting) as u32;
    if dpi < MIN_OCR_DPI {
        let px = |pt: f64| (pt / 72.0 * MIN_OCR_DPI as f64).round() as u64;
        return Err(Rejection::PageTooLarge {
            page,
            width: px(width_pt),
            height: px(height_pt),
            max: max_pixels,
        });
    }
    Ok(dpi)
}

fn info(work: &WorkDir, limits: &Limits) -> Result<PdfInfo, ExtractError> {
    let out = work.dir.path().join("pdfinfo.txt");
    let last = limits.max_pages.to_string();
    let args: [&OsStr; 5] = [
        "-f".as_ref(),
        "1".as_ref(),
        "-l".as_ref(),
        last.as_ref(),
        work.input.as_os_str(),
    ];
    tool::run("pdfinfo", &args, &out, limits.tool_timeout).map_err(tool_error)?;
    let text = tool::read_capped(&out, MAX_TOOL_OUTPUT)
        .map_err(|e| ExtractError::system("cannot read pdfinfo output", e))?;
    parse_info(&String::from_utf8_lossy(&text)).ok_or_else(|| {
        Rejection::CorruptPdf {
            detail: "pdfinfo reports no page count".into(),
        }
        .into()
    })
}

/// Parse `pdfinfo -f 1 -l N` output: `Pages:` and one `Page    N size: W x H pts` line
/// per page.
fn parse_info(text: &str) -> Option<PdfInfo> {
    let mut pages = None;
    let mut sizes = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Pages:") {
            pages = rest.trim().parse().ok();
        } else if let Some(rest) = line.strip_prefix("Page ") {
            let Some((_, size)) = rest.split_once("size:") else {
                continue;
            };
            let mut numbers = size.split_whitespace();
            let width = numbers.next().and_then(|w| w.parse().ok());
            let height = numbers.nth(1).and_then(|h| h.parse().ok());
            if let (Some(w), Some(h)) = (width, height) {
                sizes.push((w, h));
            }
        }
    }
    Some(PdfInfo {
        pages: pages?,
        sizes,
    })
}

/// The text layer of the first `pages` pages (pdftotext ends each page with a form feed).
fn text_layer(work: &WorkDir, pages: u32, limits: &Limits) -> Result<Vec<String>, ExtractError> {
    let out = work.dir.path().join("text.txt");
    let last = pages.to_string();
    let args: [&OsStr; 8] = [
        "-enc".as_ref(),
        "UTF-8".as_ref(),
        "-f".as_ref(),
        "1".as_ref(),
        "-l".as_ref(),
        last.as_ref(),
        work.input.as_os_str(),
        out.as_os_str(),
    ];
    tool::run(
        "pdftotext",
        &args,
        &work.dir.path().join("pdftotext.out"),
        limits.tool_timeout,
    )
    .map_err(tool_error)?;
    let text = tool::read_capped(&out, MAX_TOOL_OUTPUT)
        .map_err(|e| ExtractError::system("cannot read pdftotext output", e))?;
    let mut texts: Vec<String> = String::from_utf8_lossy(&text)
        .split('\u{c}')
        .map(str::to_string)
        .collect();
    texts.resize(pages as usize, String::new());
    Ok(texts)
}

/// Per page, the share of its area covered by pictures (`pdfimages -list`).
fn image_coverage(
    work: &WorkDir,
    info: &PdfInfo,
    limits: &Limits,
) -> Result<Vec<f64>, ExtractError> {
    let out = work.dir.path().join("images.txt");
    let last = info.sizes.len().to_string();
    let args: [&OsStr; 6] = [
        "-list".as_ref(),
        "-f".as_ref(),
        "1".as_ref(),
        "-l".as_ref(),
        last.as_ref(),
        work.input.as_os_str(),
    ];
    tool::run("pdfimages", &args, &out, limits.tool_timeout).map_err(tool_error)?;
    let text = tool::read_capped(&out, MAX_TOOL_OUTPUT)
        .map_err(|e| ExtractError::system("cannot read pdfimages output", e))?;
    Ok(parse_coverage(&String::from_utf8_lossy(&text), &info.sizes))
}

/// Parse `pdfimages -list` rows (`page num type width height ... x-ppi y-ppi ...`).
fn parse_coverage(text: &str, sizes: &[(f64, f64)]) -> Vec<f64> {
    let mut covered = vec![0.0f64; sizes.len()];
    for line in text.lines().skip(2) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 14 {
            continue;
        }
        let num = |i: usize| cols[i].parse::<f64>().ok();
        let (Some(page), Some(w), Some(h), Some(xppi), Some(yppi)) =
            (num(0), num(3), num(4), num(12), num(13))
        else {
            continue;
        };
        let Some(slot) = (page as usize).checked_sub(1).filter(|&p| p < sizes.len()) else {
            continue;
        };
        if xppi > 0.0 && yppi > 0.0 {
            covered[slot] += (w / xppi * 72.0) * (h / yppi * 72.0);
        }
    }
    covered
        .iter()
        .zip(sizes)
        .map(|(area, (w, h))| (area / (w * h)).min(1.0))
        .collect()
}

fn tool_error(err: ToolError) -> ExtractError {
    match err {
        ToolError::Missing { .. }
        | ToolError::Io(_)
        | ToolError::Interrupted { .. }
        | ToolError::NoSpace { .. } => ExtractError::System(err.to_string()),
        ToolError::Timeout { tool, secs } => Rejection::ToolTimeout {
            tool: tool.into(),
            secs,
        }
        .into(),
        ToolError::Failed { message, .. } if message.contains("Incorrect password") => {
            Rejection::Encrypted.into()
        }
        ToolError::Failed { message, .. } => Rejection::CorruptPdf { detail: message }.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdfinfo_output_is_parsed() {
        let text = "Producer:        pdfTeX\nPages:           2\nEncrypted:       no\n\
                    Page    1 size: 595.276 x 841.89 pts (A4)\nPage    1 rot:  0\n\
                    Page    2 size: 612 x 792 pts (letter)\nPage    2 rot:  90\n";
        let info = parse_info(text).unwrap();
        assert_eq!(info.pages, 2);
        assert_eq!(info.sizes, vec![(595.276, 841.89), (612.0, 792.0)]);
        assert_eq!(parse_info("Syntax Error\n"), None);
    }

    #[test]
    fn image_coverage_sums_pictures_per_page() {
        let list = "page   num  type   width height color comp bpc  enc interp  object ID x-ppi y-ppi size ratio\n\
            --------------------------------------------------------------------------------------------\n\
               1     0 image     530    65  rgb     3   8  image  no         5  0    96    96 4037B 3.9%\n\
               2     1 image    2550  3300  gray    1   1  jbig2  no         8  0   300   300 69.4K 6.8%\n";
        let cov = parse_coverage(list, &[(612.0, 792.0), (612.0, 792.0)]);
        assert!((cov[0] - 0.040).abs() < 0.001, "{cov:?}");
        assert!((cov[1] - 1.0).abs() < 0.001, "{cov:?}");
    }

    #[test]
    fn dpi_is_lowered_for_big_pages_and_bombs_are_refused() {
        assert_eq!(choose_dpi(1, 595.0, 842.0, 300, 40_000_000), Ok(300));
        // A0 poster: lowered to fit 40 Mpx.
        let dpi = choose_dpi(1, 2384.0, 3370.0, 300, 40_000_000).unwrap();
        assert!((150..300).contains(&dpi), "{dpi}");
        // hugemono.pdf: 8400 x 8400 pt.
        assert!(matches!(
            choose_dpi(1, 8400.0, 8400.0, 300, 40_000_000),
            Err(Rejection::PageTooLarge { .. })
        ));
    }
}
