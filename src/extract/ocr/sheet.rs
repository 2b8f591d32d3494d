//! Sheets that are not letters: separator sheets (Trennblätter) and eakte's own
//! return cover sheet (Deckblatt), recognised by their codes before OCR, so that
//! they cost a barcode scan instead of a recognition run.
//!
//! - A **separator** carries a Patch T ([`super::patch`]) or a Code 39, Code 128
//!   or QR code whose text is the configured separator (`PATCHT` by default, as
//!   paperless-ngx and most scan software use).
//! - A **Deckblatt** carries a QR code in eakte's format
//!   ([`crate::model::CoverCode`]); whether it can be trusted is decided later,
//!   with the deployment's key.
//!
//! A page whose codes are anything else is a letter (a parcel label, a bank's
//! barcode) and is read as one.

use crate::extract::ocr::engine::Image;
use crate::extract::ocr::patch;
use crate::extract::ocr::zbar::Reader;
use crate::model::CoverCode;

/// A page found to be a sheet, with the code that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sheet {
    Separator(String),
    CoverSheet(String),
}

impl Sheet {
    pub fn code(&self) -> &str {
        match self {
            Sheet::Separator(code) | Sheet::CoverSheet(code) => code,
        }
    }
}

/// What a Patch T is recorded as (it carries no text of its own).
pub const PATCH_T: &str = "Patch T";

/// Below this resolution a page is read a second time at twice the size when
/// the first reading found no code: a QR printed small and scanned at fax
/// resolution (100–150 dpi) has modules of one or two pixels, too few for the
/// finder. At 200 dpi and more a separator's QR (15 mm and up) has five or
/// more pixels per module and reads as it is, so letters pay no second scan.
const UPSCALE_BELOW_DPI: u32 = 200;
/// An image without a resolution narrower than this is taken as low
/// resolution (A4 at 170 dpi is 1400 pixels wide).
const UPSCALE_BELOW_WIDTH: u32 = 1400;

/// One worker's barcode reader.
pub struct SheetReader {
    reader: Reader,
    separator: String,
}

impl SheetReader {
    pub fn new(separator: String) -> Result<SheetReader, String> {
        let reader = Reader::new().ok_or("libzbar could not start a barcode scanner")?;
        Ok(SheetReader {
            reader,
            separator: separator.trim().to_string(),
        })
    }

    /// The sheet `image` is, if it is one.
    pub fn read(&mut self, image: &Image) -> Option<Sheet> {
        let grey = image.grey()?;
        let (width, height) = (image.width(), image.height());
        if let Some(sheet) = self.by_codes(&grey, width, height) {
            return Some(sheet);
        }
        if patch::has_patch_t(&grey, width as usize, height as usize, image.dpi()) {
            return Some(Sheet::Separator(PATCH_T.to_string()));
        }
        let dpi = image.dpi();
        let low_resolution =
            dpi == 0 && width < UPSCALE_BELOW_WIDTH || (1..UPSCALE_BELOW_DPI).contains(&dpi);
        if low_resolution {
            let larger = image.scaled(2.0)?;
            let grey = larger.grey()?;
            return self.by_codes(&grey, larger.width(), larger.height());
        }
        None
    }

    fn by_codes(&mut self, grey: &[u8], width: u32, height: u32) -> Option<Sheet> {
        let codes = self.reader.read(grey, width, height);
        if let Some(cover) = codes.iter().find(|c| CoverCode::parse(&c.text).is_some()) {
            return Some(Sheet::CoverSheet(cover.text.trim().to_string()));
        }
        let separator = !self.separator.is_empty()
            && codes
                .iter()
                .any(|c| c.text.trim().eq_ignore_ascii_case(&self.separator));
        separator.then(|| Sheet::Separator(self.separator.clone()))
    }
}
