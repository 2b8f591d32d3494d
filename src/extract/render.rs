//! Rasterising PDF pages for OCR: `pdftoppm` under the tools' limits, one
//! page at a time, run by the OCR worker that recognises the page (so that
//! rendering is spread over the cores as well).

use super::error::{ExtractError, Rejection};
use super::tool::{self, ToolError};
use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A PDF page to be rasterised by an OCR worker.
pub struct RenderRequest {
    work: Arc<WorkDir>,
    page: u32,
    dpi: u32,
    timeout: Duration,
}

impl RenderRequest {
    pub(super) fn new(work: Arc<WorkDir>, page: u32, dpi: u32, timeout: Duration) -> RenderRequest {
        RenderRequest {
            work,
            page,
            dpi,
            timeout,
        }
    }

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
pub(super) struct WorkDir {
    dir: tempfile::TempDir,
    input: PathBuf,
}

impl WorkDir {
    /// A scratch directory holding a copy of the PDF `bytes`.
    pub(super) fn with(bytes: &[u8]) -> Result<WorkDir, ExtractError> {
        let dir = tempfile::Builder::new()
            .prefix("eakte-pdf-")
            .tempdir()
            .map_err(|e| ExtractError::environment("cannot create a temporary directory", e))?;
        let input = dir.path().join("input.pdf");
        std::fs::write(&input, bytes)
            .map_err(|e| ExtractError::environment("cannot write a temporary file", e))?;
        Ok(WorkDir { dir, input })
    }

    pub(super) fn input(&self) -> &std::path::Path {
        &self.input
    }

    /// Try `passwords` on the encrypted input, in order; the first that opens
    /// it replaces the input by its decrypted copy (for reading and rendering;
    /// the original is stored as received). Its entry number (1-based), or
    /// `None` when none opens it.
    pub(super) fn unlock(
        &self,
        passwords: &super::Passwords,
        timeout: Duration,
    ) -> Result<Option<u32>, ExtractError> {
        let decrypted = self.dir.path().join("decrypted.pdf");
        for (i, password) in passwords.0.iter().enumerate() {
            let opened = super::decrypt::decrypt(
                &self.input,
                password,
                &decrypted,
                self.dir.path(),
                timeout,
            )
            .map_err(|e| ExtractError::environment("cannot decrypt a PDF", e))?;
            if opened {
                std::fs::rename(&decrypted, &self.input)
                    .map_err(|e| ExtractError::environment("cannot write a temporary file", e))?;
                return Ok(Some(i as u32 + 1));
            }
        }
        Ok(None)
    }
}

fn tool_error(err: ToolError) -> ExtractError {
    match err {
        ToolError::Missing { .. }
        | ToolError::Io(_)
        | ToolError::Interrupted { .. }
        | ToolError::NoSpace { .. } => ExtractError::environment("running a PDF tool", err),
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
