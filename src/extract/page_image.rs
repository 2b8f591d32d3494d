//! Page images for the web UI: one page of an original, upright, at screen
//! size, as PNG. Rendered from the original (PDF pages by `pdftoppm`, scans
//! decoded by leptonica) in a child process under the tools' limits, because
//! the original may be hostile: a file that crashes a decoder kills the child,
//! never the daemon. The result is derived data: whoever keeps it may throw
//! it away.

use super::ocr::engine::Image;
use super::tool::{self, ToolError};
use crate::model::FileKind;
use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

/// The hidden subcommand the child runs.
pub const SUBCOMMAND: &str = "render-page";
/// Resolution PDF pages are rendered at: an A4 page is ~910 px wide.
const PDF_DPI: u32 = 110;
/// Wider pages (scans at 300 dpi) are scaled down to this.
const MAX_WIDTH: u32 = 1000;
/// Largest PNG read back from the child.
const MAX_PNG_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PageImageError {
    #[error("the original has no page {0} that can be shown as an image")]
    NoSuchPage(u32),
    #[error("rendering the page failed: {0}")]
    Failed(String),
    #[error(transparent)]
    Tool(#[from] ToolError),
}

/// Page `page` (1-based) of an original of `kind`, turned clockwise by
/// `rotation` degrees (as eakte put it upright for OCR), as PNG.
pub fn render(
    kind: FileKind,
    bytes: &[u8],
    page: u32,
    rotation: u16,
    timeout: Duration,
) -> Result<Vec<u8>, PageImageError> {
    let kind_name = match kind {
        FileKind::Pdf => "pdf",
        FileKind::Png | FileKind::Jpeg => "image",
        FileKind::Tiff => "tiff",
        _ => return Err(PageImageError::NoSuchPage(page)),
    };
    let dir = tempfile::Builder::new()
        .prefix("eakte-page-")
        .tempdir()
        .map_err(ToolError::Io)?;
    let (input, output) = (dir.path().join("input"), dir.path().join("page.png"));
    std::fs::write(&input, bytes).map_err(ToolError::Io)?;
    let (page_text, rotation_text) = (page.to_string(), rotation.to_string());
    let exe = tool::this_executable();
    let args: [&OsStr; 6] = [
        SUBCOMMAND.as_ref(),
        kind_name.as_ref(),
        page_text.as_ref(),
        rotation_text.as_ref(),
        input.as_os_str(),
        output.as_os_str(),
    ];
    tool::run_program(
        "eakte render-page",
        &exe,
        &args,
        &dir.path().join("child.out"),
        timeout,
    )?;
    let png = tool::read_capped(&output, MAX_PNG_BYTES).map_err(ToolError::Io)?;
    if png.is_empty() {
        return Err(PageImageError::NoSuchPage(page));
    }
    Ok(png)
}

/// The child's side: render and write the PNG to `output` (nothing written:
/// no such page).
pub fn render_child(
    kind: &str,
    page: u32,
    rotation: u16,
    input: &Path,
    output: &Path,
) -> Result<(), PageImageError> {
    super::ocr::engine::quiet_leptonica();
    let image = match kind {
        "pdf" => {
            let prefix = input.with_file_name("rendered");
            let (dpi, page_text) = (PDF_DPI.to_string(), page.to_string());
            let args: [&OsStr; 9] = [
                "-r".as_ref(),
                dpi.as_ref(),
                "-f".as_ref(),
                page_text.as_ref(),
                "-l".as_ref(),
                page_text.as_ref(),
                "-png".as_ref(),
                "-singlefile".as_ref(),
                input.as_os_str(),
            ];
            let mut with_prefix = args.to_vec();
            with_prefix.push(prefix.as_os_str());
            let log = input.with_file_name("pdftoppm.out");
            tool::run("pdftoppm", &with_prefix, &log, Duration::from_secs(60))?;
            Image::read_file(&prefix.with_extension("png"))
        }
        "image" if page == 1 => Image::decode(&read(input)?, None),
        "tiff" if page >= 1 => Image::decode(&read(input)?, Some(page - 1)),
        _ => None,
    };
    let Some(image) = image else {
        return Ok(());
    };
    let turned = image
        .rotated(((rotation / 90) % 4) as u8)
        .ok_or_else(|| PageImageError::Failed("cannot rotate".into()))?;
    let fitted = if turned.width() > MAX_WIDTH {
        turned
            .scaled(MAX_WIDTH as f32 / turned.width() as f32)
            .ok_or_else(|| PageImageError::Failed("cannot scale".into()))?
    } else {
        turned
    };
    let png = fitted
        .png()
        .ok_or_else(|| PageImageError::Failed("cannot write PNG".into()))?;
    std::fs::write(output, png).map_err(|e| PageImageError::Tool(ToolError::Io(e)))
}

fn read(input: &Path) -> Result<Vec<u8>, PageImageError> {
    std::fs::read(input).map_err(|e| PageImageError::Tool(ToolError::Io(e)))
}
