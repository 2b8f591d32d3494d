//! Documents cut from a batch: some pages of a scanned stack as a PDF of their
//! own, so that each letter of the stack can be shown, exported and handed over
//! without the other recipients' letters. A PDF stack keeps its pages as they
//! are (qpdf copies them, no re-rendering); a TIFF stack's frames become PDF
//! pages first, losslessly (leptonica: G4 for black and white, Flate or JPEG as
//! the frame was), in a child process, as for the Akte's PDF. Pages keep the
//! turn they were scanned with: the document's page records say how eakte
//! turned them for reading, as for any scan.

use super::{qpdf, PdfError};
use crate::extract::image_pdf::{self, Job};
use crate::model::FileKind;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Write one PDF per entry of `parts` (the batch's page numbers, 1-based, in
/// order) from the stack at `original`; returns their paths in `scratch`. An
/// encrypted PDF stack is opened with `password` first: its letters are not
/// encrypted (they are eakte's own copies; the stack keeps the original).
pub fn cut(
    original: &Path,
    kind: FileKind,
    total_pages: usize,
    parts: &[Vec<u32>],
    password: Option<&str>,
    scratch: &Path,
    timeout: Duration,
) -> Result<Vec<PathBuf>, PdfError> {
    let pages: Box<dyn Fn(u32) -> PathBuf> = match kind {
        FileKind::Pdf => {
            let original = match password {
                Some(password) => decrypted(original, password, scratch, timeout)?,
                None => original.to_path_buf(),
            };
            Box::new(move |_| original.clone())
        }
        FileKind::Tiff => {
            let job = Job {
                input: original.to_path_buf(),
                tiff: true,
                rotations: vec![0; total_pages],
                output: scratch.join("frame"),
            };
            image_pdf::convert(std::slice::from_ref(&job), scratch, timeout)?;
            Box::new(move |n| job.page(n as usize))
        }
        other => {
            return Err(PdfError::Unexpected(format!(
                "a {} holds one page and cannot be cut",
                other.name()
            )))
        }
    };
    let mut out = Vec::with_capacity(parts.len());
    for (i, numbers) in parts.iter().enumerate() {
        let path = scratch.join(format!("part-{}.pdf", i + 1));
        // --deterministic-id: the same pages give the same bytes, so a part
        // cut again after a crash is the same original.
        let mut args: Vec<OsString> = vec![
            "--empty".into(),
            "--deterministic-id".into(),
            "--pages".into(),
        ];
        for &n in numbers {
            args.push(pages(n).into_os_string());
            // A TIFF frame is a one-page PDF of its own.
            args.push(
                if kind == FileKind::Pdf {
                    n.to_string()
                } else {
                    "1".into()
                }
                .into(),
            );
        }
        args.push("--".into());
        args.push(path.clone().into_os_string());
        qpdf(&args, scratch, timeout)?;
        out.push(path);
    }
    Ok(out)
}

/// A decrypted copy of the PDF at `original` in `scratch`.
fn decrypted(
    original: &Path,
    password: &str,
    scratch: &Path,
    timeout: Duration,
) -> Result<PathBuf, PdfError> {
    let out = scratch.join("decrypted.pdf");
    match crate::extract::decrypt::decrypt(original, password, &out, scratch, timeout)? {
        true => Ok(out),
        false => Err(PdfError::Unexpected(
            "the password that opened the stack no longer opens it".into(),
        )),
    }
}
