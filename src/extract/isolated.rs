//! Extraction in a child process, for scans suspected of crashing the daemon.
//!
//! poppler already runs in subprocesses, but image decoding (leptonica, libtiff,
//! libjpeg) and tesseract run inside the daemon. If a file makes one of them crash,
//! the whole daemon dies, restarts, resumes the same claimed scan and would die
//! again, forever. So a scan whose previous attempt did not finish (the daemon died
//! meanwhile, for whatever reason) is extracted by `eakte extract-isolated` in a
//! child process. If the child crashes, that proves the file is the cause and it
//! is set aside; a daemon killed for other reasons never gets a file rejected.

use super::{ExtractError, Extracted, Extractor, Rejection, Settings};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use wait_timeout::ChildExt;

/// The hidden subcommand the child runs.
pub const SUBCOMMAND: &str = "extract-isolated";
/// The exit status of a Rust program that panicked.
const PANIC_EXIT_CODE: i32 = 101;
/// Upper bound for one isolated extraction (a long document, OCRed page by page).
const TIMEOUT: Duration = Duration::from_secs(30 * 60);

impl Extractor {
    /// Like [`Extractor::extract`], but in a child process of this executable.
    pub fn extract_isolated(&self, bytes: &[u8]) -> Result<Extracted, ExtractError> {
        let dir = tempfile::Builder::new()
            .prefix("eakte-isolated-")
            .tempdir()
            .map_err(|e| ExtractError::environment("cannot create a temporary directory", e))?;
        let (input, output) = (dir.path().join("input"), dir.path().join("output.json"));
        std::fs::write(&input, bytes)
            .map_err(|e| ExtractError::environment("cannot write a temporary file", e))?;
        let mut command = Command::new(super::tool::this_executable());
        command
            .arg(SUBCOMMAND)
            .arg(&input)
            .arg(&output)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        // The child reads the daemon's configuration, never one it would find
        // by itself (the daemon may run on the built-in defaults).
        match &self.settings.config_file {
            Some(config) => command.arg("--config").arg(config),
            None => command.arg("--no-config-file"),
        };
        let mut child = command
            .spawn()
            .map_err(|e| ExtractError::environment("cannot start isolated extraction", e))?;
        let status = match child
            .wait_timeout(TIMEOUT)
            .map_err(|e| ExtractError::environment("isolated extraction", e))?
        {
            Some(status) => status,
            None => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Rejection::ToolTimeout {
                    tool: SUBCOMMAND.into(),
                    secs: TIMEOUT.as_secs(),
                }
                .into());
            }
        };
        match (status.signal(), status.code()) {
            // Stopped from outside (service stop, kill, out of memory): not the file.
            (Some(signal @ (libc::SIGTERM | libc::SIGINT | libc::SIGKILL | libc::SIGHUP)), _) => {
                return Err(ExtractError::environment(
                    "isolated extraction",
                    format!("stopped by signal {signal}"),
                ));
            }
            (Some(signal), _) => {
                return Err(Rejection::CrashesReader {
                    detail: format!("the child process died of signal {signal}"),
                }
                .into());
            }
            // A Rust panic while reading this file.
            (None, Some(PANIC_EXIT_CODE)) => {
                return Err(Rejection::CrashesReader {
                    detail: "the child process panicked".into(),
                }
                .into());
            }
            _ => {}
        }
        let result = std::fs::read(&output)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok());
        result.unwrap_or_else(|| {
            Err(ExtractError::environment(
                "isolated extraction",
                format!("no result ({status})"),
            ))
        })
    }
}

/// Why the child could not even report a result.
#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// The child's side: extract `input` and write the result as JSON to `output`.
pub fn run_child(settings: &Settings, input: &Path, output: &Path) -> Result<(), ChildError> {
    let bytes = std::fs::read(input).map_err(|source| ChildError::Read {
        path: input.to_path_buf(),
        source,
    })?;
    let result = Extractor::start(settings).and_then(|extractor| extractor.extract(&bytes));
    let json = serde_json::to_vec(&result).expect("extraction results serialise");
    std::fs::write(output, json).map_err(|source| ChildError::Write {
        path: output.to_path_buf(),
        source,
    })
}
