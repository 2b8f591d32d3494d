//! The PDF reader: long-lived child processes (`eakte pdf-reader`) that read a
//! PDF's page sizes, text layer and picture coverage with poppler's library.
//!
//! Why a child process: poppler is C++ and a hostile PDF can crash it, loop in it or
//! make it allocate without end; in a child, with an address-space limit and a
//! deadline, that costs the child, never the daemon. Why long-lived: starting the
//! poppler tools for every PDF (`pdfinfo`, then `pdftotext`) cost far more than
//! reading a born-digital letter, and capped born-digital ingest far below what
//! the store and index can take (see BENCHMARKS.md). A reader serves requests one
//! at a time, one JSON line each way, and is replaced after [`RECYCLE_AFTER`]
//! documents or at the first failure.

use super::poppler::{self, PdfLayout, PdfProblem};
use super::{tool, ExtractError, Rejection};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wait_timeout::ChildExt;

/// The hidden subcommand a reader process runs.
pub const SUBCOMMAND: &str = "pdf-reader";
/// A reader is replaced after this many documents, so that whatever poppler
/// leaks or caches stays bounded.
const RECYCLE_AFTER: u32 = 500;

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    path: PathBuf,
    max_pages: u32,
}

#[derive(Debug, Serialize, Deserialize)]
enum Response {
    Read(Result<PdfLayout, PdfProblem>),
    /// The reader could not read the request's file (eakte's environment).
    CannotRead(String),
}

/// Why the reader process stopped answering.
#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    #[error("reading a request: {0}")]
    Request(std::io::Error),
    #[error("a malformed request: {0}")]
    Malformed(serde_json::Error),
    #[error("writing a response: {0}")]
    Response(std::io::Error),
}

/// The reader process's side: answer requests from stdin until it closes.
pub fn serve_requests(
    max_text: usize,
    needs_coverage: poppler::NeedsCoverage,
) -> Result<(), ReaderError> {
    let mut stdout = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(ReaderError::Request)?;
        let request: Request = serde_json::from_str(&line).map_err(ReaderError::Malformed)?;
        let response = match std::fs::read(&request.path) {
            Ok(mut bytes) => Response::Read(poppler::read(
                &mut bytes,
                request.max_pages,
                max_text,
                needs_coverage,
            )),
            Err(e) => Response::CannotRead(format!("{}: {e}", request.path.display())),
        };
        let mut json = serde_json::to_vec(&response).expect("responses serialise");
        json.push(b'\n');
        stdout
            .write_all(&json)
            .and_then(|()| stdout.flush())
            .map_err(ReaderError::Response)?;
    }
    Ok(())
}

/// The daemon's side: a pool of idle readers, started on demand.
pub struct PdfReaders {
    idle: Mutex<Vec<Reader>>,
    /// The longest response accepted (JSON of the capped text, plus slack).
    max_response: usize,
}

impl PdfReaders {
    pub fn new(max_text: usize) -> PdfReaders {
        PdfReaders {
            idle: Mutex::default(),
            max_response: max_text * 4 + 1024 * 1024,
        }
    }

    /// Read the PDF at `path` (at most `max_pages` pages) within `timeout`.
    pub fn read(
        &self,
        path: &Path,
        max_pages: u32,
        timeout: Duration,
    ) -> Result<PdfLayout, ExtractError> {
        let request = Request {
            path: path.to_path_buf(),
            max_pages,
        };
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut reader = match idle {
            Some(reader) => reader,
            None => Reader::start()?,
        };
        // An idle reader may have died meanwhile (killed from outside): a request
        // it never received says nothing about the file, so a fresh one gets it.
        if reader.send(&request).is_err() {
            reader = Reader::start()?;
            reader
                .send(&request)
                .map_err(|e| ExtractError::environment("cannot send a PDF to the reader", e))?;
        }
        let answer = reader.answer(timeout, self.max_response);
        match answer {
            Ok(response) => {
                reader.served += 1;
                if reader.served < RECYCLE_AFTER {
                    self.idle
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(reader);
                }
                match response {
                    Response::Read(Ok(layout)) => Ok(layout),
                    Response::Read(Err(PdfProblem::Encrypted)) => Err(Rejection::Encrypted.into()),
                    Response::Read(Err(PdfProblem::Damaged(detail))) => {
                        Err(Rejection::CorruptPdf { detail }.into())
                    }
                    Response::CannotRead(detail) => Err(ExtractError::environment(
                        "the PDF reader cannot read its input",
                        detail,
                    )),
                }
            }
            Err(failure) => Err(reader.fail(failure, timeout)),
        }
    }
}

/// How a request went wrong on the reader's side.
enum Failure {
    Timeout,
    /// It closed its output: it died.
    Died,
    /// An answer longer than any honest one.
    Oversized,
    /// Not a response at all.
    Garbled(String),
    Io(std::io::Error),
}

struct Reader {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    served: u32,
}

impl Reader {
    fn start() -> Result<Reader, ExtractError> {
        let mut child = tool::limited(&tool::this_executable())
            .arg(SUBCOMMAND)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| ExtractError::environment("cannot start the PDF reader", e))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            unreachable!("both are piped");
        };
        Ok(Reader {
            child,
            stdin,
            stdout,
            served: 0,
        })
    }

    fn send(&mut self, request: &Request) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(request)?;
        line.push(b'\n');
        self.stdin.write_all(&line)?;
        self.stdin.flush()
    }

    /// Wait for one response line, at most `timeout`.
    fn answer(&mut self, timeout: Duration, max: usize) -> Result<Response, Failure> {
        let deadline = Instant::now() + timeout;
        let mut line = Vec::new();
        let mut chunk = [0u8; 64 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !readable_within(&self.stdout, left).map_err(Failure::Io)? {
                return Err(Failure::Timeout);
            }
            let n = match self.stdout.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Failure::Io(e)),
            };
            if n == 0 {
                return Err(Failure::Died);
            }
            line.extend_from_slice(&chunk[..n]);
            if line.len() > max {
                return Err(Failure::Oversized);
            }
            if line.last() == Some(&b'\n') {
                return serde_json::from_slice(&line).map_err(|e| Failure::Garbled(e.to_string()));
            }
        }
    }

    /// Stop this reader after `failure` and say what it means for the file.
    fn fail(mut self, failure: Failure, timeout: Duration) -> ExtractError {
        let status = match failure {
            // It died by itself: collect how (it has exited, or is about to).
            Failure::Died => self
                .child
                .wait_timeout(Duration::from_secs(5))
                .ok()
                .flatten(),
            _ => None,
        };
        self.kill();
        match failure {
            Failure::Timeout => Rejection::ToolTimeout {
                tool: SUBCOMMAND.into(),
                secs: timeout.as_secs(),
            }
            .into(),
            Failure::Died => match status.and_then(|s| s.signal()) {
                // Stopped from outside (service stop, OOM killer): not the file.
                Some(signal @ (libc::SIGTERM | libc::SIGINT | libc::SIGKILL | libc::SIGHUP)) => {
                    ExtractError::environment(
                        "the PDF reader",
                        format!("stopped by signal {signal}"),
                    )
                }
                Some(signal) => Rejection::CrashesReader {
                    detail: format!("the PDF reader died of signal {signal}"),
                }
                .into(),
                None => Rejection::CrashesReader {
                    detail: format!("the PDF reader ended ({status:?})"),
                }
                .into(),
            },
            Failure::Oversized => Rejection::CorruptPdf {
                detail: "the PDF reader's answer exceeds every limit".into(),
            }
            .into(),
            Failure::Garbled(e) => ExtractError::environment("the PDF reader's answer", e),
            Failure::Io(e) => ExtractError::environment("talking to the PDF reader", e),
        }
    }

    fn kill(&mut self) {
        // SAFETY: plain syscall; the negative pid addresses the reader's own group.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        // Closing stdin ends an idle reader by itself; a busy one is killed.
        if self.child.try_wait().ok().flatten().is_none() {
            self.kill();
        }
    }
}

/// Whether `stdout` has something to read (or was closed) within `timeout`.
fn readable_within(stdout: &ChildStdout, timeout: Duration) -> std::io::Result<bool> {
    let mut fd = libc::pollfd {
        fd: stdout.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = timeout.as_millis().clamp(1, i32::MAX as u128) as i32;
    loop {
        // SAFETY: one valid pollfd for the duration of the call.
        let rc = unsafe { libc::poll(&mut fd, 1, ms) };
        if rc >= 0 {
            return Ok(rc > 0);
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}
