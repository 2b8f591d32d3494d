//! Running programs that read hostile files (the poppler tools, the PDF reader
//! process) so that such a file can at worst kill a child process, never the
//! daemon. Each run has a wall-clock timeout and an address-space limit, its own
//! process group (killed as a whole on timeout), and writes its output to files
//! rather than pipes (no pipe-buffer deadlocks, no unbounded memory in the daemon).
//!
//! The limits are set by util-linux's `prlimit`, which then execs the program,
//! rather than by a `pre_exec` hook in the daemon: with a hook, std must `fork` the
//! daemon, copying the page tables of hundreds of MB of OCR models for every run
//! (on born-digital PDFs that cost more than the tools themselves, see
//! BENCHMARKS.md). Without one, std uses `posix_spawn`, which shares the address
//! space until the exec.

use std::fs::File;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use wait_timeout::ChildExt;

/// Address-space limit of a tool process. Generous for a 300 dpi A3 page, far below
/// what a decompression bomb would need.
const TOOL_MEMORY_LIMIT: u64 = 2 * 1024 * 1024 * 1024;
/// Largest file a tool may write (a rendered 40 Mpx grey page is 40 MB); a PDF
/// whose text repeats itself into gigabytes is stopped here (SIGXFSZ).
const TOOL_FILE_LIMIT: u64 = 256 * 1024 * 1024;
/// With less free space than this in the temporary directory, a failing tool is
/// taken to have failed for lack of space, not because of the file.
const MIN_FREE_TEMP_SPACE: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("{tool} is not installed or cannot be started: {source}")]
    Missing {
        tool: &'static str,
        source: std::io::Error,
    },
    #[error("{tool} did not finish within {secs} s")]
    Timeout { tool: &'static str, secs: u64 },
    #[error("{tool} failed: {message}")]
    Failed { tool: &'static str, message: String },
    /// Stopped from outside (a service manager stopping everything, a kill):
    /// says nothing about the file.
    #[error("{tool} was stopped by signal {signal}")]
    Interrupted { tool: &'static str, signal: i32 },
    #[error("{tool} failed and the temporary directory is (nearly) full")]
    NoSpace { tool: &'static str },
    #[error("temporary file error: {0}")]
    Io(#[from] std::io::Error),
}

/// Run `tool args...`; stdout goes to `stdout_to`. Returns the first lines of
/// stderr (what poppler says about a broken file).
pub fn run(
    tool: &'static str,
    args: &[&std::ffi::OsStr],
    stdout_to: &Path,
    timeout: Duration,
) -> Result<String, ToolError> {
    // Resolved here, so that a missing tool is told apart from a failing one
    // (prlimit would report both as a failure).
    let program = locate(tool).ok_or_else(|| ToolError::Missing {
        tool,
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "not found in PATH"),
    })?;
    run_program(tool, &program, args, stdout_to, timeout)
}

/// [`run`] for a program given by its path (eakte's own helpers); `tool`
/// names it in errors.
pub fn run_program(
    tool: &'static str,
    program: &Path,
    args: &[&std::ffi::OsStr],
    stdout_to: &Path,
    timeout: Duration,
) -> Result<String, ToolError> {
    run_limited(tool, program, args, stdout_to, timeout, TOOL_FILE_LIMIT)
}

/// [`run`] for a tool that writes a file as large as a whole Akte (`qpdf`
/// putting its PDF together): files up to `file_limit` bytes.
pub fn run_writing(
    tool: &'static str,
    args: &[&std::ffi::OsStr],
    stdout_to: &Path,
    timeout: Duration,
    file_limit: u64,
) -> Result<String, ToolError> {
    let program = locate(tool).ok_or_else(|| ToolError::Missing {
        tool,
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "not found in PATH"),
    })?;
    run_limited(tool, &program, args, stdout_to, timeout, file_limit)
}

fn run_limited(
    tool: &'static str,
    program: &Path,
    args: &[&std::ffi::OsStr],
    stdout_to: &Path,
    timeout: Duration,
    file_limit: u64,
) -> Result<String, ToolError> {
    let stderr_path = stdout_to.with_extension("stderr");
    let mut child = limited_to(program, file_limit)
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(stdout_to)?)
        .stderr(File::create(&stderr_path)?)
        .spawn()
        .map_err(|source| ToolError::Missing {
            tool: PRLIMIT,
            source,
        })?;
    let status = match child.wait_timeout(timeout)? {
        Some(status) => status,
        None => {
            // SAFETY: plain syscall; the negative pid addresses the child's own group.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            return Err(ToolError::Timeout {
                tool,
                secs: timeout.as_secs(),
            });
        }
    };
    let stderr = read_capped(&stderr_path, 4096).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr).trim().to_string();
    if status.success() {
        return Ok(stderr);
    }
    if let Some(signal @ (libc::SIGTERM | libc::SIGINT | libc::SIGKILL | libc::SIGHUP)) =
        status.signal()
    {
        return Err(ToolError::Interrupted { tool, signal });
    }
    if free_space(stdout_to.parent().unwrap_or(Path::new("/"))) < Some(MIN_FREE_TEMP_SPACE) {
        return Err(ToolError::NoSpace { tool });
    }
    let message = if stderr.is_empty() {
        format!("exit status {status}")
    } else {
        stderr.lines().take(3).collect::<Vec<_>>().join(" / ")
    };
    Err(ToolError::Failed { tool, message })
}

/// util-linux's `prlimit`: sets the limits, then execs the tool in the same process.
const PRLIMIT: &str = "prlimit";

/// A command that runs `program` under the tools' memory and file-size limits, in
/// its own process group (so that a kill of `-pid` reaches all it started).
pub fn limited(program: &Path) -> Command {
    limited_to(program, TOOL_FILE_LIMIT)
}

fn limited_to(program: &Path, file_limit: u64) -> Command {
    let mut cmd = Command::new(PRLIMIT);
    cmd.arg(format!("--as={TOOL_MEMORY_LIMIT}"))
        .arg(format!("--fsize={file_limit}"))
        .arg("--")
        .arg(program)
        .process_group(0);
    cmd
}

/// This very executable, for the helpers eakte starts from itself. Not the
/// path it was started from: a package upgrade replaces that file under a
/// running daemon, and the helper must be the daemon's own version. Named by
/// this process's id, so that it also holds in a child that `prlimit` execs.
pub fn this_executable() -> PathBuf {
    PathBuf::from(format!("/proc/{}/exe", std::process::id()))
}

/// The tool's executable in `PATH`.
fn locate(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| {
            std::fs::metadata(candidate).is_ok_and(|m| {
                m.is_file()
                    && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
            })
        })
}

/// Read at most `max` bytes of a file (tool output can be hostile-sized).
pub fn read_capped(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)?.take(max).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Free bytes on the filesystem holding `dir`, if it can be told.
fn free_space(dir: &Path) -> Option<u64> {
    let path = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).ok()?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is NUL-terminated and `stat` is a live, writable struct.
    let rc = unsafe { libc::statvfs(path.as_ptr(), &mut stat) };
    (rc == 0).then(|| stat.f_bavail as u64 * stat.f_frsize as u64)
}
