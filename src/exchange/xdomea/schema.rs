//! The official xdomea 3.0.0 schemas, built into eakte, and the check of a
//! message against them by `xmllint` (Debian's libxml2-utils). Every message
//! eakte writes is checked before it leaves, and every message it takes is
//! checked before anything of it is stored: a receiver that takes what the
//! schema forbids guesses at what the sender meant.

use crate::extract::tool::{self, ToolError};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// The schema files, by their path below `schemas/` (the XSDs include each
/// other by relative paths, so they are laid out on disk as in the source).
macro_rules! schema {
    ($path:literal) => {
        ($path, include_bytes!(concat!("../../../schemas/", $path)))
    };
}
const FILES: &[(&str, &[u8])] = &[
    schema!("xdomea_3.0.0/xdomea-Baukasten.xsd"),
    schema!("xdomea_3.0.0/xdomea-Datentypen.xsd"),
    schema!("xdomea_3.0.0/xdomea-Nachrichten-AbgabeDurchfuehren.xsd"),
    schema!("xdomea_3.0.0/xdomea-Nachrichten-AktenplanAustauschen.xsd"),
    schema!("xdomea_3.0.0/xdomea-Nachrichten-Archivsystem.xsd"),
    schema!("xdomea_3.0.0/xdomea-Nachrichten-AussonderungDurchfuehren.xsd"),
    schema!("xdomea_3.0.0/xdomea-Nachrichten-DMS.xsd"),
    schema!("xdomea_3.0.0/xdomea-Nachrichten-Fachverfahren.xsd"),
    schema!("xdomea_3.0.0/xdomea-Nachrichten-FachverfahrensdatenAustauschen.xsd"),
    schema!("xdomea_3.0.0/xdomea-Nachrichten-GeschaeftsgangDurchfuehren.xsd"),
    schema!("xdomea_3.0.0/xdomea-Nachrichten-InformationAustauschen.xsd"),
    schema!("xdomea_3.0.0/xdomea-Nachrichten-VBS.xsd"),
    schema!("xdomea_3.0.0/xdomea-Nachrichten-ZwischenarchivierungDurchfuehren.xsd"),
    schema!("xdomea_3.0.0/xdomea-Nachrichten-Zwischenarchivsystem.xsd"),
    schema!("xdomea_3.0.0/xdomea-Typen-AbgabeDurchfuehren.xsd"),
    schema!("xdomea_3.0.0/xdomea-Typen-AussonderungDurchfuehren.xsd"),
    schema!("xdomea_3.0.0/xdomea-Typen-FachverfahrensdatenAustauschen.xsd"),
    schema!("xdomea_3.0.0/xdomea-Typen-GeschaeftsgangDurchfuehren.xsd"),
    schema!("xdomea_3.0.0/xdomea-Typen-ZwischenarchivierungDurchfuehren.xsd"),
    schema!("xdomea_3.0.0/xdomea.xsd"),
    schema!("xoev/code/1_0/xoev-code.xsd"),
    schema!("xoev/latinchars/1_1/datatypes/latinchars.xsd"),
];

/// A large Akte's message is some megabytes; xmllint checks such a file in
/// well under a second.
const TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The message breaks the schema: xmllint's first lines (line number
    /// and element).
    #[error("the message does not validate against the xdomea 3.0.0 schema: {0}")]
    Invalid(String),
    #[error("the xdomea schema check could not run: {0}")]
    Tool(String),
}

/// Check the message at `xml` against the schemas; `scratch` is a directory
/// for xmllint's output.
pub fn validate(xml: &Path, scratch: &Path) -> Result<(), SchemaError> {
    let dir = unpacked().map_err(|e| SchemaError::Tool(e.clone()))?;
    let schema = dir.join("xdomea_3.0.0/xdomea.xsd");
    let out = scratch.join("xmllint.out");
    let args = [
        std::ffi::OsStr::new("--noout"),
        std::ffi::OsStr::new("--nonet"),
        std::ffi::OsStr::new("--schema"),
        schema.as_os_str(),
        xml.as_os_str(),
    ];
    let result = tool::run("xmllint", &args, &out, TIMEOUT);
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(out.with_extension("stderr"));
    match result {
        Ok(_) => Ok(()),
        Err(ToolError::Failed { message, .. }) => {
            // xmllint names the file it read: a temporary path, of no use
            // to whoever reads the error.
            let file = xml.display().to_string();
            let said: Vec<String> = message
                .split(" / ")
                .filter(|line| !line.ends_with("fails to validate"))
                .map(|line| line.replace(&format!("{file}:"), "line "))
                .collect();
            Err(SchemaError::Invalid(said.join(" / ")))
        }
        Err(e) => Err(SchemaError::Tool(e.to_string())),
    }
}

/// The schemas written out once per process, into a private directory that
/// lives as long as the process.
fn unpacked() -> Result<&'static PathBuf, &'static String> {
    static DIR: OnceLock<Result<(tempfile::TempDir, PathBuf), String>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("eakte-xdomea-")
            .tempdir()
            .map_err(|e| format!("cannot write the schemas to a temporary directory: {e}"))?;
        for (name, bytes) in FILES {
            let path = dir.path().join(name);
            let written = std::fs::create_dir_all(path.parent().unwrap_or(dir.path()))
                .and_then(|()| std::fs::write(&path, bytes));
            written.map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        let path = dir.path().to_path_buf();
        Ok((dir, path))
    })
    .as_ref()
    .map(|(_, path)| path)
}
