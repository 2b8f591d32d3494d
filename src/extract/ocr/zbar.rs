//! The one place where eakte calls libzbar (Debian's `libzbar0`) through FFI: it
//! reads the barcodes of a page, Code 39, Code 128 and QR, the codes separator
//! sheets and eakte's own Deckblatt carry.
//!
//! Safety argument, for every `unsafe` block below: the scanner and the image are
//! created here, checked for null, owned by one [`Reader`] (used by one thread at a
//! time: `Send`, not `Sync`) and destroyed exactly once. The image's pixels are
//! borrowed from a slice that outlives the scan (no cleanup handler: zbar never
//! frees them) and are detached again before the slice may go away. Decoded data
//! are copied out while the image still owns the results.

use std::os::raw::{c_char, c_int, c_uint, c_ulong, c_void};

#[repr(C)]
struct ZbarScanner {
    _private: [u8; 0],
}
#[repr(C)]
struct ZbarImage {
    _private: [u8; 0],
}
#[repr(C)]
struct ZbarSymbol {
    _private: [u8; 0],
}

const ZBAR_NONE: c_int = 0;
const ZBAR_CODE39: c_int = 39;
const ZBAR_QRCODE: c_int = 64;
const ZBAR_CODE128: c_int = 128;
const ZBAR_CFG_ENABLE: c_int = 0;
// Every row and column is scanned (zbar's default density, 1): at every
// third line a QR code scanned crooked and noisy at 200 dpi was missed
// (tests/batch.rs), and reading real scans matters more than the ~0.1 s
// a page it costs (BENCHMARKS.md, section 1).

#[link(name = "zbar")]
extern "C" {
    fn zbar_image_scanner_create() -> *mut ZbarScanner;
    fn zbar_image_scanner_destroy(scanner: *mut ZbarScanner);
    fn zbar_image_scanner_set_config(
        scanner: *mut ZbarScanner,
        symbology: c_int,
        config: c_int,
        value: c_int,
    ) -> c_int;
    fn zbar_image_create() -> *mut ZbarImage;
    fn zbar_image_destroy(image: *mut ZbarImage);
    fn zbar_image_set_format(image: *mut ZbarImage, format: c_ulong);
    fn zbar_image_set_size(image: *mut ZbarImage, width: c_uint, height: c_uint);
    fn zbar_image_set_data(
        image: *mut ZbarImage,
        data: *const c_void,
        length: c_ulong,
        cleanup: *const c_void,
    );
    fn zbar_scan_image(scanner: *mut ZbarScanner, image: *mut ZbarImage) -> c_int;
    fn zbar_image_first_symbol(image: *const ZbarImage) -> *const ZbarSymbol;
    fn zbar_symbol_next(symbol: *const ZbarSymbol) -> *const ZbarSymbol;
    fn zbar_symbol_get_type(symbol: *const ZbarSymbol) -> c_int;
    fn zbar_symbol_get_data(symbol: *const ZbarSymbol) -> *const c_char;
    fn zbar_symbol_get_data_length(symbol: *const ZbarSymbol) -> c_uint;
}

/// Which kind of barcode was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbology {
    Code39,
    Code128,
    Qr,
}

/// One barcode read from a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Barcode {
    pub symbology: Symbology,
    /// Its data as text (invalid UTF-8 replaced).
    pub text: String,
}

/// A barcode reader for one worker thread.
pub struct Reader {
    scanner: *mut ZbarScanner,
}

// SAFETY: the scanner is plain heap state with no thread affinity; `&mut self`
// on `read` keeps it to one thread at a time.
unsafe impl Send for Reader {}

impl Reader {
    pub fn new() -> Option<Reader> {
        // SAFETY: see the module comment; the scanner is checked for null.
        unsafe {
            let scanner = zbar_image_scanner_create();
            if scanner.is_null() {
                return None;
            }
            // Only the symbologies separator sheets use: fewer decoders, fewer
            // false reads in the texture of a letter.
            zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
            for symbology in [ZBAR_CODE39, ZBAR_CODE128, ZBAR_QRCODE] {
                zbar_image_scanner_set_config(scanner, symbology, ZBAR_CFG_ENABLE, 1);
            }
            Some(Reader { scanner })
        }
    }

    /// The barcodes in an 8-bit grey image of `width` × `height`, row by row.
    pub fn read(&mut self, grey: &[u8], width: u32, height: u32) -> Vec<Barcode> {
        if grey.len() != width as usize * height as usize || grey.is_empty() {
            return Vec::new();
        }
        let y800 = u32::from_le_bytes(*b"Y800") as c_ulong;
        let mut found = Vec::new();
        // SAFETY: see the module comment. `grey` outlives the scan; the data is
        // detached (set to null) before the image is destroyed.
        unsafe {
            let image = zbar_image_create();
            if image.is_null() {
                return found;
            }
            zbar_image_set_format(image, y800);
            zbar_image_set_size(image, width, height);
            zbar_image_set_data(
                image,
                grey.as_ptr().cast(),
                grey.len() as c_ulong,
                std::ptr::null(),
            );
            if zbar_scan_image(self.scanner, image) > 0 {
                let mut symbol = zbar_image_first_symbol(image);
                while !symbol.is_null() {
                    let symbology = match zbar_symbol_get_type(symbol) {
                        ZBAR_CODE39 => Some(Symbology::Code39),
                        ZBAR_CODE128 => Some(Symbology::Code128),
                        ZBAR_QRCODE => Some(Symbology::Qr),
                        _ => None,
                    };
                    let data = zbar_symbol_get_data(symbol);
                    if let (Some(symbology), false) = (symbology, data.is_null()) {
                        let len = zbar_symbol_get_data_length(symbol) as usize;
                        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), len);
                        found.push(Barcode {
                            symbology,
                            text: String::from_utf8_lossy(bytes).into_owned(),
                        });
                    }
                    symbol = zbar_symbol_next(symbol);
                }
            }
            zbar_image_set_data(image, std::ptr::null(), 0, std::ptr::null());
            zbar_image_destroy(image);
        }
        found
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        // SAFETY: created in `new`, destroyed only here.
        unsafe { zbar_image_scanner_destroy(self.scanner) }
    }
}
