//! Scans as PDF pages, for the printed Akte: each page of a TIFF, PNG or
//! JPEG original decoded, turned upright as eakte turned it for OCR, and
//! written as a one-page PDF by leptonica. Like page images for the web UI,
//! this runs in a child process under the tools' limits: the original may be
//! hostile, and a decoder that crashes takes only the child with it.

use super::ocr::engine::Image;
use super::tool::{self, ToolError};
use serde::{Deserialize, Serialize};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The hidden subcommand the child runs.
pub const SUBCOMMAND: &str = "images-pdf";

/// One original to convert.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub input: PathBuf,
    /// Whether its pages are TIFF frames (else one PNG or JPEG page).
    pub tiff: bool,
    /// Clockwise degrees per page, as eakte turned it upright.
    pub rotations: Vec<u16>,
    /// Page `n` (1-based) is written to `<output>-<n>.pdf`.
    pub output: PathBuf,
}

impl Job {
    pub fn page(&self, n: usize) -> PathBuf {
        let mut name = self.output.as_os_str().to_owned();
        name.push(format!("-{n}.pdf"));
        PathBuf::from(name)
    }
}

/// Convert every job in a child process (one for all: starting one per
/// page would cost more than the conversion).
pub fn convert(jobs: &[Job], scratch: &Path, timeout: Duration) -> Result<(), ToolError> {
    if jobs.is_empty() {
        return Ok(());
    }
    let list = scratch.join("images.json");
    std::fs::write(
        &list,
        serde_json::to_vec(jobs).map_err(std::io::Error::other)?,
    )?;
    let exe = tool::this_executable();
    let args: [&OsStr; 2] = [SUBCOMMAND.as_ref(), list.as_os_str()];
    tool::run_program(
        "eakte images-pdf",
        &exe,
        &args,
        &scratch.join("images.out"),
        timeout,
    )?;
    Ok(())
}

/// The child's side.
pub fn child(list: &Path) -> Result<(), String> {
    super::ocr::engine::quiet_leptonica();
    let jobs: Vec<Job> = serde_json::from_slice(&std::fs::read(list).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    for job in &jobs {
        let bytes =
            std::fs::read(&job.input).map_err(|e| format!("{}: {e}", job.input.display()))?;
        for (i, rotation) in job.rotations.iter().enumerate() {
            let frame = job.tiff.then_some(i as u32);
            let image = Image::decode(&bytes, frame).ok_or_else(|| {
                format!("{}: page {} cannot be decoded", job.input.display(), i + 1)
            })?;
            let upright = image
                .rotated(((rotation / 90) % 4) as u8)
                .ok_or("cannot rotate")?;
            let pdf = upright.pdf().ok_or("leptonica wrote no PDF")?;
            std::fs::write(job.page(i + 1), pdf).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
