//! The few calls of poppler's C API (poppler-glib) that reading a PDF's layout
//! and text layer needs. Only ever called inside the PDF reader process (see
//! [`super::pdf_reader`]): a hostile PDF that crashes or exhausts poppler takes
//! that process down, never the daemon.

use serde::{Deserialize, Serialize};
use std::ffi::{c_char, c_double, c_int, c_uint, c_void, CStr};

#[repr(C)]
struct GError {
    domain: c_uint,
    code: c_int,
    message: *mut c_char,
}

#[repr(C)]
struct GList {
    data: *mut c_void,
    next: *mut GList,
    prev: *mut GList,
}

#[repr(C)]
struct PopplerRectangle {
    x1: c_double,
    y1: c_double,
    x2: c_double,
    y2: c_double,
}

#[repr(C)]
struct PopplerImageMapping {
    area: PopplerRectangle,
    image_id: c_int,
}

/// `POPPLER_ERROR_ENCRYPTED` in `PopplerError`.
const POPPLER_ERROR_ENCRYPTED: c_int = 1;

#[link(name = "poppler-glib")]
#[link(name = "gobject-2.0")]
#[link(name = "glib-2.0")]
extern "C" {
    fn poppler_document_new_from_data(
        data: *mut c_char,
        length: c_int,
        password: *const c_char,
        error: *mut *mut GError,
    ) -> *mut c_void;
    fn poppler_document_get_n_pages(document: *mut c_void) -> c_int;
    fn poppler_document_get_page(document: *mut c_void, index: c_int) -> *mut c_void;
    fn poppler_page_get_size(page: *mut c_void, width: *mut c_double, height: *mut c_double);
    fn poppler_page_get_text(page: *mut c_void) -> *mut c_char;
    fn poppler_page_get_image_mapping(page: *mut c_void) -> *mut GList;
    fn poppler_page_free_image_mapping(list: *mut GList);
    fn poppler_error_quark() -> c_uint;
    fn g_object_unref(object: *mut c_void);
    fn g_free(memory: *mut c_void);
    fn g_error_free(error: *mut GError);
}

/// What the reader learned about a PDF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PdfLayout {
    /// Pages in the document.
    pub pages: u64,
    /// Per page read (the first `min(pages, max_pages)`; none if there are more):
    /// width and height in points, as displayed (page rotation applied).
    pub sizes: Vec<(f64, f64)>,
    /// The text layer of each page read.
    pub texts: Vec<String>,
    /// The share of each page read covered by pictures; computed only for pages
    /// whose text layer is too short to stand for the page (else 0).
    pub coverage: Vec<f64>,
}

/// Why poppler could not read a PDF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PdfProblem {
    Encrypted,
    Damaged(String),
}

/// Which pages get their picture coverage measured, by their text layer.
pub type NeedsCoverage = fn(&str) -> bool;

/// Read the layout and text layer of the PDF in `bytes`: at most `max_pages`
/// pages and `max_text` bytes of text in all (a hostile file repeating itself is
/// cut off there).
pub fn read(
    bytes: &mut [u8],
    max_pages: u32,
    max_text: usize,
    needs_coverage: NeedsCoverage,
) -> Result<PdfLayout, PdfProblem> {
    let length =
        c_int::try_from(bytes.len()).map_err(|_| PdfProblem::Damaged("larger than 2 GB".into()))?;
    let mut error: *mut GError = std::ptr::null_mut();
    // SAFETY: `bytes` outlives the document (unreferenced before returning);
    // poppler reads it without taking ownership.
    let document = unsafe {
        poppler_document_new_from_data(
            bytes.as_mut_ptr().cast(),
            length,
            std::ptr::null(),
            &mut error,
        )
    };
    if document.is_null() {
        return Err(take_error(error));
    }
    let document = Object(document);
    // SAFETY: a live document.
    let pages = unsafe { poppler_document_get_n_pages(document.0) }.max(0) as u64;
    let mut layout = PdfLayout {
        pages,
        sizes: Vec::new(),
        texts: Vec::new(),
        coverage: Vec::new(),
    };
    if pages > max_pages as u64 {
        return Ok(layout);
    }
    let mut text_budget = max_text;
    for index in 0..pages as c_int {
        // SAFETY: a live document and an index below its page count.
        let page = unsafe { poppler_document_get_page(document.0, index) };
        if page.is_null() {
            return Err(PdfProblem::Damaged(format!(
                "page {} cannot be read",
                index + 1
            )));
        }
        let page = Object(page);
        let (mut width, mut height) = (0.0, 0.0);
        // SAFETY: a live page; poppler writes two doubles.
        unsafe { poppler_page_get_size(page.0, &mut width, &mut height) };
        let mut text = page_text(&page);
        if text.len() > text_budget {
            let mut cut = text_budget;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        text_budget -= text.len();
        let coverage = if needs_coverage(&text) {
            picture_area(&page) / (width * height)
        } else {
            0.0
        };
        layout.sizes.push((width, height));
        layout.coverage.push(coverage.clamp(0.0, 1.0));
        layout.texts.push(text);
    }
    Ok(layout)
}

/// A GObject reference, released when dropped.
struct Object(*mut c_void);

impl Drop for Object {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe { g_object_unref(self.0) }
    }
}

fn page_text(page: &Object) -> String {
    // SAFETY: a live page; the returned string is ours to free.
    let raw = unsafe { poppler_page_get_text(page.0) };
    if raw.is_null() {
        return String::new();
    }
    // SAFETY: NUL-terminated UTF-8 from glib, freed right after copying.
    let text = unsafe { CStr::from_ptr(raw) }
        .to_string_lossy()
        .into_owned();
    unsafe { g_free(raw.cast()) };
    text
}

/// The area (in square points) of the page covered by pictures.
fn picture_area(page: &Object) -> f64 {
    // SAFETY: a live page; the list and its elements are freed together below.
    let list = unsafe { poppler_page_get_image_mapping(page.0) };
    let mut area = 0.0;
    let mut node = list;
    while !node.is_null() {
        // SAFETY: a GList node of PopplerImageMapping elements.
        let mapping = unsafe { &*((*node).data as *const PopplerImageMapping) };
        let r = &mapping.area;
        area += ((r.x2 - r.x1) * (r.y2 - r.y1)).abs();
        node = unsafe { (*node).next };
    }
    if !list.is_null() {
        unsafe { poppler_page_free_image_mapping(list) };
    }
    area
}

fn take_error(error: *mut GError) -> PdfProblem {
    if error.is_null() {
        return PdfProblem::Damaged("poppler cannot open it".into());
    }
    // SAFETY: a GError set by poppler, freed after reading.
    let (domain, code, message) = unsafe {
        let e = &*error;
        let message = if e.message.is_null() {
            String::new()
        } else {
            CStr::from_ptr(e.message).to_string_lossy().into_owned()
        };
        (e.domain, e.code, message)
    };
    unsafe { g_error_free(error) };
    // SAFETY: a plain function returning the quark.
    if domain == unsafe { poppler_error_quark() } && code == POPPLER_ERROR_ENCRYPTED {
        PdfProblem::Encrypted
    } else {
        PdfProblem::Damaged(message)
    }
}
