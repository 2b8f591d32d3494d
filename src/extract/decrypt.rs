//! Opening an encrypted PDF with a password, by qpdf in a child process. The
//! password reaches qpdf in a file of its own (mode 0600, removed right after),
//! never on a command line that `ps` shows.

use super::tool::{self, ToolError};
use std::ffi::OsString;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

/// Write the decrypted `input` to `output` if `password` opens it: `Ok(true)`
/// then, `Ok(false)` when it does not (a wrong password, a file qpdf cannot
/// read). `scratch` holds the password file and qpdf's output while it runs.
pub fn decrypt(
    input: &Path,
    password: &str,
    output: &Path,
    scratch: &Path,
    timeout: Duration,
) -> Result<bool, ToolError> {
    let secret = scratch.join("password");
    let _ = std::fs::remove_file(&secret);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&secret)?;
    std::io::Write::write_all(&mut file, password.as_bytes())?;
    drop(file);
    let mut flag = OsString::from("--password-file=");
    flag.push(&secret);
    let args = [
        flag.as_os_str(),
        "--decrypt".as_ref(),
        input.as_os_str(),
        output.as_os_str(),
    ];
    let result = tool::run("qpdf", &args, &scratch.join("qpdf-decrypt.out"), timeout);
    let _ = std::fs::remove_file(&secret);
    match result {
        Ok(_) => Ok(output.exists()),
        // qpdf exits 3 when it succeeded with warnings.
        Err(ToolError::Failed { message, .. })
            if message.contains("operation succeeded with warnings") =>
        {
            Ok(output.exists())
        }
        Err(ToolError::Failed { .. } | ToolError::Timeout { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}
