//! Running the poppler tools (`pdfinfo`, `pdftotext`, `pdfimages`, `pdftoppm`) as
//! subprocesses, so that a hostile PDF can at worst kill a child process, never the
//! daemon. Each run has a wall-clock timeout and an address-space limit, its own
//! process group (killed as a whole on timeout), and writes its output to files
//! rather than pipes (no pipe-buffer deadlocks, no unbounded memory in the daemon).

use std::fs::File;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
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
    let stderr_path = stdout_to.with_extension("stderr");
    let mut cmd = Command::new(tool);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(File::create(stdout_to)?)
        .stderr(File::create(&stderr_path)?)
        .process_group(0);
    // SAFETY: pre_exec runs in the forked child before exec; setrlimit is
    // async-signal-safe and touches no memory shared with the parent.
    unsafe {
        cmd.pre_exec(|| {
            for (resource, limit) in [
                (libc::RLIMIT_AS, TOOL_MEMORY_LIMIT),
                (libc::RLIMIT_FSIZE, TOOL_FILE_LIMIT),
            ] {
                let limit = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                libc::setrlimit(resource, &limit);
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|source| ToolError::Missing { tool, source })?;
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
