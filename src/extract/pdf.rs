//! PDF pages: the text layer where there is one, OCR where there is not.
//!
//! poppler does the reading, always outside the daemon: a long-lived PDF reader
//! process ([`super::pdf_reader`]) gives page count, sizes, encryption, the text
//! layer and, for pages with a short text layer, how much of the page pictures
//! cover; `pdftoppm` ([`super::tool`]) rasterises the pages that need OCR.
//!
//! A page is OCRed when its text layer is missing or trivial (scanners' PDFs, and
//! "tagged" PDFs with an empty layer), or when a short text layer sits next to
//! pictures covering a noticeable part of the page (text inside an image). A page
//! with a long text layer over a full-page picture is a searchable scan that was
//! already OCRed by the scanner; it is not recognised a second time.

use super::error::{ExtractError, Rejection};
use super::ocr::{OcrJob, PageImage};
use super::render::{RenderRequest, WorkDir};
use super::Extractor;
use crate::model::{Page, PageSource};
use std::sync::Arc;

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
/// At most this much text layer is read from one PDF (500 pages of dense text are
/// a few MB; more is a hostile file repeating itself).
pub(super) const MAX_TEXT_BYTES: usize = 32 * 1024 * 1024;
/// Pages smaller than this (in points, 1/72 inch) on either side are broken files.
const MIN_PAGE_SIDE_PT: f64 = 10.0;

/// The pages of a PDF, and which entry of the passwords file opened it if it
/// was encrypted.
pub(super) fn extract(
    ex: &Extractor,
    bytes: &[u8],
) -> Result<(Vec<Page>, Option<u32>), ExtractError> {
    let limits = ex.limits();
    let work = Arc::new(WorkDir::with(bytes)?);

    let read = || {
        ex.pdf_readers
            .read(work.input(), limits.max_pages, limits.tool_timeout)
    };
    let (info, opened_with) = match read() {
        Err(ExtractError::Rejected(Rejection::Encrypted)) if !limits.pdf_passwords.0.is_empty() => {
            let entry = work
                .unlock(&limits.pdf_passwords, limits.tool_timeout)?
                .ok_or(Rejection::Encrypted)?;
            (read()?, Some(entry))
        }
        other => (other?, None),
    };
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
    let read = info.sizes.len();
    if info.pages as usize != read || info.texts.len() != read || info.coverage.len() != read {
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
    let chars: Vec<usize> = info.texts.iter().map(|t| text_chars(t)).collect();

    let mut pages = Vec::with_capacity(info.sizes.len());
    let mut jobs = Vec::new();
    for (i, text) in info.texts.into_iter().enumerate() {
        let number = i as u32 + 1;
        let has_text = chars[i] >= MIN_TEXT_CHARS;
        let pictures_may_hold_text =
            chars[i] < SEARCHABLE_SCAN_MIN_CHARS && info.coverage[i] >= MIN_IMAGE_COVERAGE;
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
                ex.settings.ocr.render_dpi,
                limits.max_pixels_per_page,
            )?;
            jobs.push(OcrJob {
                page: number,
                image: PageImage::Pdf(RenderRequest::new(
                    work.clone(),
                    number,
                    dpi,
                    limits.tool_timeout,
                )),
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
            code: None,
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
        // A page found blank or a sheet before OCR is that, not "OCRed".
        if ocr.source.left_out() && page.source == PageSource::Ocr {
            page.source = ocr.source;
            page.code = ocr.code;
        }
    }
    Ok((pages, opened_with))
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

/// Letters and digits in a page's text layer.
fn text_chars(text: &str) -> usize {
    text.chars().filter(|c| c.is_alphanumeric()).count()
}

/// Whether the pictures on a page with this text layer may hold its text: the
/// text layer is there but too short to stand for the page (a scan with a header
/// stamped on it). Pages with less text are OCRed whole anyway.
fn needs_coverage(text: &str) -> bool {
    (MIN_TEXT_CHARS..SEARCHABLE_SCAN_MIN_CHARS).contains(&text_chars(text))
}

/// The PDF reader process's main loop (`eakte pdf-reader`, see [`super::pdf_reader`]).
pub fn serve_reader_requests() -> Result<(), super::pdf_reader::ReaderError> {
    super::pdf_reader::serve_requests(MAX_TEXT_BYTES, needs_coverage)
}

#[cfg(test)]
mod tests {
    use super::*;

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
