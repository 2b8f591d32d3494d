//! Blank pages: the empty backsides of a duplex batch, found before OCR so that
//! they cost milliseconds instead of a recognition run.
//!
//! A page is blank when, after binarising, nothing on it looks like writing:
//!
//! - **Specks** are ignored: marks whose longer side is under 1.5 mm. Scanner noise
//!   and dust are single pixels or clusters of a few (≤ 0.5 mm at 300 dpi); the
//!   smallest stroke of writing that matters, a handwritten word, is longer.
//! - **The margin** is ignored: marks lying wholly within 15 mm of an edge. Punch
//!   holes (5.5 mm wide, centred 12 mm from the edge), the shadow of a sheet's edge
//!   and staple marks sit there; DIN 5008 keeps writing out of it (20–25 mm).
//! - **A page number** is tolerated: what is left is a few marks (at most 8
//!   glyphs) in one short line (at most 20 mm wide and 4.5 mm high: "- 2 -" or
//!   "Seite 2" in 10 pt is 5–12 × 2.6 mm) in the top or bottom fifth of the page.
//!   A longer line there ("Seite 2 von 3", or a one-line note "This is a test."
//!   at the top, as a real sample has it) is read.
//! - **Bleed-through** (the other side's writing shining through thin paper) is
//!   light grey, above the binarisation threshold, so it never becomes a mark.
//!
//! Everything else is not blank: one short handwritten line in the body ("Siehe
//! Anlage", a signature) is wider or taller than a page number, or not in its
//! place. When unsure the page is read: a blank page OCRed costs a second, a page
//! with writing left out loses what it said. tests/blank.rs measures the rule's
//! precision on generated and real pages (BENCHMARKS.md).

/// Grey below this (0 = black, 255 = white) is ink. Bleed-through on 80 g/m²
/// paper scans at 190–235, pencil and faint ballpoint at 60–140.
pub const INK_THRESHOLD: u8 = 150;
const SPECK_MM: f64 = 1.5;
const MARGIN_MM: f64 = 15.0;
const PAGE_NUMBER_MAX_WIDTH_MM: f64 = 20.0;
const PAGE_NUMBER_MAX_MARKS: usize = 8;
const PAGE_NUMBER_MAX_HEIGHT_MM: f64 = 4.5;
/// The share of the page's height at top and bottom where a page number may be.
const PAGE_NUMBER_BAND: f64 = 0.2;

/// A page's size and its dark marks, as [`super::engine::Image::dark_marks`] gives them.
pub struct Marks<'a> {
    pub width: u32,
    pub height: u32,
    /// Dots per inch, 0 if unknown (then the page is taken to be A4 wide).
    pub dpi: u32,
    pub boxes: &'a [(u32, u32, u32, u32)],
}

/// Whether the page carries nothing worth reading.
pub fn is_blank(marks: &Marks) -> bool {
    if marks.width == 0 || marks.height == 0 {
        return false;
    }
    // A scanner's resolution is 100–1200 dpi; anything else is a missing or bogus
    // header, and the page is taken to be A4 (210 mm) wide.
    let dpi = if (100..=1200).contains(&marks.dpi) {
        marks.dpi as f64
    } else {
        marks.width as f64 / (210.0 / 25.4)
    };
    let mm = |px: u32| px as f64 * 25.4 / dpi;
    let (width_mm, height_mm) = (mm(marks.width), mm(marks.height));
    let mut writing: Option<(f64, f64, f64, f64)> = None; // left, top, right, bottom in mm
    let mut marks_of_writing = 0;
    for &(x, y, w, h) in marks.boxes {
        let (left, top, right, bottom) = (mm(x), mm(y), mm(x + w), mm(y + h));
        if mm(w).max(mm(h)) < SPECK_MM {
            continue;
        }
        let in_margin = right <= MARGIN_MM
            || left >= width_mm - MARGIN_MM
            || bottom <= MARGIN_MM
            || top >= height_mm - MARGIN_MM;
        if in_margin {
            continue;
        }
        marks_of_writing += 1;
        writing = Some(match writing {
            None => (left, top, right, bottom),
            Some((l, t, r, b)) => (l.min(left), t.min(top), r.max(right), b.max(bottom)),
        });
    }
    let Some((left, top, right, bottom)) = writing else {
        return true;
    };
    let one_short_line = marks_of_writing <= PAGE_NUMBER_MAX_MARKS
        && right - left <= PAGE_NUMBER_MAX_WIDTH_MM
        && bottom - top <= PAGE_NUMBER_MAX_HEIGHT_MM;
    let band = height_mm * PAGE_NUMBER_BAND;
    let where_page_numbers_are = bottom <= band || top >= height_mm - band;
    one_short_line && where_page_numbers_are
}

#[cfg(test)]
mod tests {
    use crate::extract::ocr::blank::{is_blank, Marks};

    /// An A4 page at 300 dpi: 2480 × 3508 pixels, 11.81 px per mm.
    fn page(boxes: &[(u32, u32, u32, u32)]) -> bool {
        is_blank(&Marks {
            width: 2480,
            height: 3508,
            dpi: 300,
            boxes,
        })
    }

    fn px(mm: f64) -> u32 {
        (mm * 300.0 / 25.4).round() as u32
    }

    #[test]
    fn nothing_specks_and_margin_marks_are_blank() {
        assert!(page(&[]));
        let specks: Vec<_> = (0..500).map(|i| (100 + i * 4, 200 + i * 6, 3, 2)).collect();
        assert!(page(&specks));
        // Two punch holes 12 mm from the left edge, 6 mm wide.
        assert!(page(&[
            (px(9.0), px(100.0), px(6.0), px(6.0)),
            (px(9.0), px(180.0), px(6.0), px(6.0))
        ]));
    }

    #[test]
    fn a_page_number_is_tolerated_where_page_numbers_are() {
        // "Seite 2": 7 glyphs, 12 mm, at the foot.
        let number: Vec<_> = (0..7)
            .map(|i| (px(95.0 + i as f64 * 1.7), px(282.0), px(1.5), px(2.6)))
            .collect();
        assert!(page(&number));
        let same_in_the_middle: Vec<_> = number
            .iter()
            .map(|&(x, _, w, h)| (x, px(150.0), w, h))
            .collect();
        assert!(!page(&same_in_the_middle));
        // "This is a test." at the top: 13 glyphs, 28 mm.
        let note: Vec<_> = (0..13)
            .map(|i| (px(20.0 + i as f64 * 2.1), px(20.0), px(1.8), px(3.0)))
            .collect();
        assert!(!page(&note));
    }

    #[test]
    fn a_short_handwritten_line_is_not_blank() {
        // "Siehe Anlage", written: 45 mm wide, 7 mm high, in the body.
        assert!(!page(&[(px(40.0), px(120.0), px(45.0), px(7.0))]));
        // A signature near the bottom is taller than a page number.
        assert!(!page(&[(px(120.0), px(250.0), px(35.0), px(9.0))]));
        // One stroke is enough if it is not a speck.
        assert!(!page(&[(px(100.0), px(100.0), px(2.0), px(0.5))]));
    }

    #[test]
    fn an_image_of_unknown_resolution_is_taken_as_a4_wide() {
        let at_150 = |boxes: &[(u32, u32, u32, u32)]| {
            is_blank(&Marks {
                width: 1240,
                height: 1754,
                dpi: 1,
                boxes,
            })
        };
        assert!(at_150(&[(600, 800, 3, 3)]));
        assert!(!at_150(&[(300, 600, 300, 40)]));
    }
}
