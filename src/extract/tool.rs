//! Running the poppler tools (`pdfinfo`, `pdftotext`, `pdfimages`, `pdftoppm`) as
//! subprocesses, so that a hostile PDF can at worst kill a child process, never the
//! daemon. Each run has a wall-clock timeout and an address-space limit, its own
//! process group (killed as a whole on timeout), and writes its output to files
//! rather than pipes (no pipe-buffer deadlocks, no unbounded memory in the daemon).

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use wait_timeout::ChildExt;

/// Address-space limit of a tool process. Generous for a 300 dpi A3 page, far below
/// what a decompression bomb would need.
const TOOL_MEMORY_LIMIT: u64 = 2 * 1024 * 1024 * 1024;

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
    #[error("temporary file error: {0}")]
    Io(#[from] std::io::Error),
}

/// Run `tool args...`; stdout goes to `stdout_to`. Returns the exit status' success
/// together with the first lines of stderr (what poppler says about a broken file).
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
            let limit = libc::rlimit {
                rlim_cur: TOOL_MEMORY_LIMIT,
                rlim_max: TOOL_MEMORY_LIMIT,
            };
            libc::setrlimit(libc::RLIMIT_AS, &limit);
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
    let stderr = std::fs::read(&stderr_path).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr[..stderr.len().min(4096)])
        .trim()
        .to_string();
    if status.success() {
        Ok(stderr)
    } else {
        let message = if stderr.is_empty() {
            format!("exit status {status}")
        } else {
            stderr.lines().take(3).collect::<Vec<_>>().join(" / ")
        };
        Err(ToolError::Failed { tool, message })
    }
}
