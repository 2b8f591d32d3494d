//! The one place where eakte calls libtesseract and leptonica through FFI.
//!
//! The safe `tesseract` crate covers neither orientation detection nor a recognition
//! deadline, so this module uses the C API it re-exports (`tesseract-sys`,
//! `leptonica-sys`) directly, wrapped in two owning types:
//!
//! - [`Image`]: one leptonica `PIX`, destroyed on drop.
//! - [`Engine`]: one tesseract handle for recognition plus one for orientation
//!   detection (OSD needs the legacy `osd` model, recognition uses the LSTM model).
//!
//! Safety argument, for every `unsafe` block below: each handle and `PIX` is created
//! here, checked for null, owned by exactly one Rust value (so used by one thread at a
//! time; `Send` but not `Sync`) and freed exactly once in `Drop`. Strings returned by
//! tesseract are copied and freed with `TessDeleteText` at once. Byte slices passed in
//! outlive the call that reads them (leptonica copies decoded pixels into its own
//! `PIX`). Nothing here keeps a pointer into Rust memory after a call returns.

use std::ffi::{CStr, CString};
use std::path::Path;
use std::ptr;
use std::time::{Duration, Instant};
use tesseract::plumbing::leptonica_sys as lept;
use tesseract::plumbing::tesseract_sys as tess;

/// A decoded page image.
pub struct Image(*mut lept::Pix);

// SAFETY: a PIX is plain heap data with no thread affinity; `Image` owns it alone.
unsafe impl Send for Image {}

impl Image {
    /// Decode a PNG, JPEG or TIFF from memory; `tiff_frame` selects a TIFF page.
    pub fn decode(bytes: &[u8], tiff_frame: Option<u32>) -> Option<Image> {
        // SAFETY: leptonica reads `bytes.len()` bytes from a live slice and returns
        // a new PIX or null.
        let pix = unsafe {
            match tiff_frame {
                Some(n) => lept::pixReadMemTiff(bytes.as_ptr(), bytes.len(), n as i32),
                None => lept::pixReadMem(bytes.as_ptr(), bytes.len()),
            }
        };
        Image::own(pix)
    }

    /// Read an image file (the PGM pages `pdftoppm` renders).
    pub fn read_file(path: &Path) -> Option<Image> {
        let c = CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
        // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
        Image::own(unsafe { lept::pixRead(c.as_ptr()) })
    }

    fn own(pix: *mut lept::Pix) -> Option<Image> {
        (!pix.is_null()).then_some(Image(pix))
    }

    /// A copy rotated clockwise by `quarter_turns` × 90°.
    pub fn rotated(&self, quarter_turns: u8) -> Option<Image> {
        // SAFETY: pixRotateOrth reads the valid PIX and returns a new one or null.
        Image::own(unsafe { lept::pixRotateOrth(self.0, quarter_turns as i32 % 4) })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        // SAFETY: reads a field of the valid PIX.
        unsafe { lept::pixGetWidth(self.0) }.max(0) as u32
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        // SAFETY: reads a field of the valid PIX.
        unsafe { lept::pixGetHeight(self.0) }.max(0) as u32
    }

    /// Horizontal resolution in dots per inch, if the image says (0 otherwise).
    pub fn dpi(&self) -> u32 {
        // SAFETY: reads a field of the valid PIX.
        unsafe { lept::pixGetXRes(self.0) }.max(0) as u32
    }

    /// The page in 8-bit grey, row by row without padding (what barcode readers
    /// take). `None` when leptonica cannot convert the image.
    pub fn grey(&self) -> Option<Vec<u8>> {
        // SAFETY: pixConvertTo8 reads the valid PIX and returns a new 8 bpp PIX
        // (or null), destroyed below. Its raster is `height` rows of `wpl` 32-bit
        // words; each row is read within those bounds. leptonica keeps the bytes
        // of a word in big-endian order whatever the machine's order.
        unsafe {
            let mut grey = lept::pixConvertTo8(self.0, 0);
            if grey.is_null() {
                return None;
            }
            let (w, h) = (
                lept::pixGetWidth(grey).max(0) as usize,
                lept::pixGetHeight(grey).max(0) as usize,
            );
            let wpl = lept::pixGetWpl(grey).max(0) as usize;
            let data = lept::pixGetData(grey);
            let mut out = Vec::with_capacity(w * h);
            if !data.is_null() && wpl * 4 >= w {
                for y in 0..h {
                    let row = std::slice::from_raw_parts(data.add(y * wpl), wpl);
                    out.extend(row.iter().flat_map(|word| word.to_be_bytes()).take(w));
                }
            }
            lept::pixDestroy(&mut grey);
            (out.len() == w * h).then_some(out)
        }
    }

    /// The bounding boxes `(x, y, width, height)` of the connected dark marks on
    /// the page: pixels darker than `threshold` (0–255 grey), 8-connected. `None`
    /// when leptonica cannot convert the image.
    pub fn dark_marks(&self, threshold: u8) -> Option<Vec<(u32, u32, u32, u32)>> {
        // SAFETY: pixConvertTo1 reads the valid PIX and returns a new 1 bpp PIX
        // (or null), destroyed below; pixConnCompBB returns a new BOXA (or null)
        // read by index within its count and destroyed below; the out-pointers
        // are live locals.
        unsafe {
            let mut bits = lept::pixConvertTo1(self.0, threshold as i32);
            if bits.is_null() {
                return None;
            }
            let mut boxes = lept::pixConnCompBB(bits, 8);
            lept::pixDestroy(&mut bits);
            if boxes.is_null() {
                return None;
            }
            let n = lept::boxaGetCount(boxes).max(0);
            let mut marks = Vec::with_capacity(n as usize);
            for i in 0..n {
                let (mut x, mut y, mut w, mut h) = (0, 0, 0, 0);
                if lept::boxaGetBoxGeometry(boxes, i, &mut x, &mut y, &mut w, &mut h) == 0 {
                    marks.push((
                        x.max(0) as u32,
                        y.max(0) as u32,
                        w.max(0) as u32,
                        h.max(0) as u32,
                    ));
                }
            }
            lept::boxaDestroy(&mut boxes);
            Some(marks)
        }
    }

    /// A copy scaled by `factor` (both directions).
    pub fn scaled(&self, factor: f32) -> Option<Image> {
        // SAFETY: pixScale reads the valid PIX and returns a new one or null.
        Image::own(unsafe { lept::pixScale(self.0, factor, factor) })
    }

    /// The image as a one-page PDF (G4 for black and white, JPEG for
    /// photos, Flate otherwise, as leptonica chooses), the page sized by the
    /// image's resolution (300 dpi when it has none).
    pub fn pdf(&self) -> Option<Vec<u8>> {
        let mut data: *mut u8 = ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: leptonica allocates `data` (of `size` bytes) on success; it is
        // copied out and freed with leptonica's own free below. The title is
        // null and no multi-page state is kept (`plpd` null).
        unsafe {
            let failed = lept::pixConvertToPdfData(
                self.0,
                lept::L_DEFAULT_ENCODE as i32,
                75,
                &mut data,
                &mut size,
                0,
                0,
                0,
                ptr::null(),
                ptr::null_mut(),
                0,
            ) != 0;
            if failed || data.is_null() {
                return None;
            }
            let pdf = std::slice::from_raw_parts(data, size).to_vec();
            lept::lept_free(data.cast());
            Some(pdf)
        }
    }

    /// The image as a PNG file.
    pub fn png(&self) -> Option<Vec<u8>> {
        let mut data: *mut u8 = ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: leptonica allocates `data` (of `size` bytes) on success; it is
        // copied out and freed with leptonica's own free below.
        unsafe {
            if lept::pixWriteMemPng(&mut data, &mut size, self.0, 0.0) != 0 || data.is_null() {
                return None;
            }
            let png = std::slice::from_raw_parts(data, size).to_vec();
            lept::lept_free(data.cast());
            Some(png)
        }
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        // SAFETY: self.0 came from leptonica and is destroyed only here.
        unsafe { lept::pixDestroy(&mut self.0) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecogniseError {
    #[error("recognition did not finish before its deadline")]
    Deadline,
    #[error("tesseract could not recognise the page")]
    Failed,
}

/// One tesseract engine for one worker thread.
pub struct Engine {
    ocr: *mut tess::TessBaseAPI,
    /// `None` when the `osd` model is not installed: pages are then taken as they are.
    osd: Option<*mut tess::TessBaseAPI>,
}

// SAFETY: a TessBaseAPI may move between threads as long as only one uses it at a
// time, which `&mut self` on every method guarantees.
unsafe impl Send for Engine {}

/// An orientation guess below this OSD confidence is ignored (blank pages, photos,
/// a few words): turning a page wrongly is worse than not turning it.
const MIN_ORIENTATION_CONFIDENCE: f32 = 2.0;

impl Engine {
    /// Load `languages` (e.g. `deu`) from `datapath` (or libtesseract's default).
    pub fn new(datapath: Option<&Path>, languages: &str) -> Result<Engine, String> {
        let ocr = init(datapath, languages, tess::TessOcrEngineMode_OEM_DEFAULT).ok_or_else(|| {
            format!(
                "tesseract cannot load the language data {languages:?} from {}; install the matching \
                 tesseract-ocr-<lang> package or set ocr.tessdata_dir",
                datapath.map(|p| p.display().to_string()).unwrap_or_else(|| "its default directory".into())
            )
        })?;
        // Automatic layout analysis (PSM 3, the CLI's default), not the C API's
        // default of one uniform block (PSM 6): that reads each line straight
        // across all columns — the address window into the reference block of a
        // letter, the two columns of a Bescheid into each other.
        // SAFETY: valid handle, owned here.
        unsafe { tess::TessBaseAPISetPageSegMode(ocr, tess::TessPageSegMode_PSM_AUTO) };
        let osd = init(datapath, "osd", tess::TessOcrEngineMode_OEM_TESSERACT_ONLY);
        if let Some(osd) = osd {
            // SAFETY: valid handle, owned here.
            unsafe { tess::TessBaseAPISetPageSegMode(osd, tess::TessPageSegMode_PSM_OSD_ONLY) };
        }
        Ok(Engine { ocr, osd })
    }

    pub fn detects_orientation(&self) -> bool {
        self.osd.is_some()
    }

    /// How many clockwise quarter turns put `image` upright, by tesseract's
    /// orientation detection (OSD); 0 if unsure.
    pub fn upright_turns(&mut self, image: &Image) -> u8 {
        let Some(osd) = self.osd else { return 0 };
        let (mut degrees, mut confidence, mut script_confidence) = (0i32, 0f32, 0f32);
        // SAFETY: valid handle and PIX; tesseract takes its own reference to the
        // PIX for the duration of the analysis; the out-pointers are live locals
        // and a null script name is allowed.
        let ok = unsafe {
            tess::TessBaseAPISetImage2(osd, image.0);
            let ok = tess::TessBaseAPIDetectOrientationScript(
                osd,
                &mut degrees,
                &mut confidence,
                ptr::null_mut(),
                &mut script_confidence,
            );
            tess::TessBaseAPIClear(osd);
            ok != 0
        };
        if !ok || confidence < MIN_ORIENTATION_CONFIDENCE {
            return 0;
        }
        // OSD reports the page's clockwise rotation; undo it.
        ((4 - (degrees / 90).rem_euclid(4)) % 4) as u8
    }

    /// Recognise `image` as it is. tesseract's layout analysis reads pages turned
    /// by a quarter itself (and says so), but not pages upside down.
    pub fn recognise(
        &mut self,
        image: &Image,
        deadline: Duration,
    ) -> Result<Recognised, RecogniseError> {
        let millis = deadline.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: valid handle and PIX; the monitor is created and deleted here and
        // outlives the Recognize call that uses it; the text pointer is copied and
        // freed at once; the result iterator is deleted after its one use, and
        // the page iterator is the same object viewed as its base class.
        unsafe {
            tess::TessBaseAPISetImage2(self.ocr, image.0);
            let monitor = tess::TessMonitorCreate();
            tess::TessMonitorSetDeadlineMSecs(monitor, millis);
            let started = Instant::now();
            let status = tess::TessBaseAPIRecognize(self.ocr, monitor);
            // The C API does not say why Recognize failed; a failure once the
            // deadline has passed is taken as the deadline.
            let deadline_passed = status != 0 && started.elapsed() >= deadline;
            tess::TessMonitorDelete(monitor);
            if status != 0 {
                tess::TessBaseAPIClear(self.ocr);
                return Err(if deadline_passed {
                    RecogniseError::Deadline
                } else {
                    RecogniseError::Failed
                });
            }
            let raw = tess::TessBaseAPIGetUTF8Text(self.ocr);
            let text = if raw.is_null() {
                String::new()
            } else {
                let text = CStr::from_ptr(raw).to_string_lossy().into_owned();
                tess::TessDeleteText(raw);
                text
            };
            let confidence = tess::TessBaseAPIMeanTextConf(self.ocr).clamp(0, 100) as f32;
            let mut turns = 0;
            // Only with text: older tesseracts dereference a missing first block.
            let results = if text.trim().is_empty() {
                ptr::null_mut()
            } else {
                tess::TessBaseAPIGetIterator(self.ocr)
            };
            if !results.is_null() {
                let page = tess::TessResultIteratorGetPageIterator(results);
                turns = upright_by_baselines(page);
                tess::TessResultIteratorDelete(results);
            }
            tess::TessBaseAPIClear(self.ocr);
            Ok(Recognised {
                text,
                confidence,
                turns,
            })
        }
    }
}

/// How many clockwise quarter turns put the page upright, by the direction its
/// text lines run in the image (their baselines, weighted by length). With
/// automatic layout analysis tesseract reads a page turned by a quarter as it
/// is, and reports its blocks as upright relative to that reading; the
/// baselines, given in the image's own coordinates, still say which way the
/// lines run: to the right upright, downwards on a page turned clockwise.
///
/// # Safety
/// `page` must be a valid page iterator of a finished recognition; it is
/// rewound and walked by text line here.
unsafe fn upright_by_baselines(page: *mut tess::TessPageIterator) -> u8 {
    // Length of baseline running right, down, left, up (image coordinates,
    // y grows downwards).
    let mut along = [0i64; 4];
    tess::TessPageIteratorBegin(page);
    loop {
        let (mut x1, mut y1, mut x2, mut y2) = (0, 0, 0, 0);
        if tess::TessPageIteratorBaseline(
            page,
            tess::TessPageIteratorLevel_RIL_TEXTLINE,
            &mut x1,
            &mut y1,
            &mut x2,
            &mut y2,
        ) != 0
        {
            let (dx, dy) = ((x2 - x1) as i64, (y2 - y1) as i64);
            let way = if dx.abs() >= dy.abs() {
                if dx >= 0 {
                    0
                } else {
                    2
                }
            } else if dy > 0 {
                1
            } else {
                3
            };
            along[way] += dx.abs().max(dy.abs());
        }
        if tess::TessPageIteratorNext(page, tess::TessPageIteratorLevel_RIL_TEXTLINE) == 0 {
            break;
        }
    }
    let (way, _) = along
        .iter()
        .enumerate()
        .max_by_key(|(_, n)| **n)
        .expect("four directions");
    // Lines running down: the page lies turned a quarter clockwise, so three
    // more quarter turns clockwise put it upright; running up: one.
    [0, 3, 2, 1][way]
}

/// What [`Engine::recognise`] read.
pub struct Recognised {
    pub text: String,
    /// Mean word confidence, 0–100.
    pub confidence: f32,
    /// Clockwise quarter turns that would put the page upright, as the layout
    /// analysis saw it.
    pub turns: u8,
}

fn init(
    datapath: Option<&Path>,
    language: &str,
    mode: tess::TessOcrEngineMode,
) -> Option<*mut tess::TessBaseAPI> {
    let datapath = match datapath {
        Some(p) => Some(CString::new(p.as_os_str().as_encoded_bytes()).ok()?),
        None => None,
    };
    let language = CString::new(language).ok()?;
    // SAFETY: the handle is checked for null and deleted on every failure path;
    // the strings live across the calls that read them.
    unsafe {
        let handle = tess::TessBaseAPICreate();
        if handle.is_null() {
            return None;
        }
        let rc = tess::TessBaseAPIInit2(
            handle,
            datapath.as_ref().map_or(ptr::null(), |d| d.as_ptr()),
            language.as_ptr(),
            mode,
        );
        if rc != 0 {
            tess::TessBaseAPIDelete(handle);
            return None;
        }
        // tesseract's diagnostics ("Estimating resolution as ...") would otherwise
        // interleave with the daemon's structured logs on stderr.
        tess::TessBaseAPISetVariable(handle, c"debug_file".as_ptr(), c"/dev/null".as_ptr());
        Some(handle)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: each handle was created in `init` and is deleted only here.
        unsafe {
            tess::TessBaseAPIEnd(self.ocr);
            tess::TessBaseAPIDelete(self.ocr);
            if let Some(osd) = self.osd {
                tess::TessBaseAPIEnd(osd);
                tess::TessBaseAPIDelete(osd);
            }
        }
    }
}

/// Silence leptonica's own error printing: a corrupt scan is reported through our
/// [`Rejection`](crate::extract::Rejection), not as noise on stderr.
pub fn quiet_leptonica() {
    // SAFETY: sets a process-global integer; called once before any worker starts.
    unsafe {
        lept::setMsgSeverity(lept::L_SEVERITY_NONE as i32);
    }
}
