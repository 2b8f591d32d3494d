//! Where an arrival comes from, and how its file is read: the one place that
//! turns a file (a claimed scan, a file named on the command line) or a filing
//! into the [`NewArrival`] the store records.

use crate::extract::Rejection;
use crate::model::{ArrivalId, BgNummer};
use crate::store::NewArrival;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// What is known of an arrival before its file is read.
#[derive(Debug, Clone)]
pub struct Origin {
    pub id: ArrivalId,
    /// The file name as the scanner or the user wrote it.
    pub name: String,
    pub site: Option<String>,
    /// Where it came from: the path relative to the inbox, the path given on
    /// the command line, or who filed it into which Akte.
    pub source: String,
}

impl Origin {
    /// The arrival of a file received at `received_at` (RFC 3339). Its name
    /// is stored cleaned; when cleaning changed it, the record of where it
    /// came from keeps the name as it was, escaped.
    pub fn arrived(self, received_at: String) -> NewArrival {
        let original_name = crate::untrusted::file_name(&self.name);
        let mut source = crate::untrusted::escaped(&self.source);
        if original_name != self.name {
            source.push_str(&format!(
                " (named \"{}\")",
                crate::untrusted::escaped(&self.name)
            ));
        }
        NewArrival {
            id: self.id,
            original_name,
            site: self.site,
            received_at,
            source,
        }
    }

    /// A document a person files into an Akte: received now.
    pub fn filing(id: ArrivalId, name: String, by: &str, bg: &BgNummer) -> NewArrival {
        Origin {
            id,
            name,
            site: None,
            source: format!("filed by {by} into {bg}"),
        }
        .arrived(crate::clock::now_rfc3339())
    }
}

/// A file as read for the pipeline: its bytes and its receipt time
/// (Eingangsdatum): when it was written, i.e. its mtime, kept exactly (a
/// rename into `.processing` keeps it).
#[derive(Debug)]
pub struct ReadFile {
    pub bytes: Vec<u8>,
    pub received_at: String,
}

/// Why a file was not read.
#[derive(Debug)]
pub enum Unread {
    /// Something about the file itself: it is set aside with this reason.
    Rejected(Rejection),
    /// eakte's own trouble (the file vanished, an I/O error): try again later.
    Failed(std::io::Error),
}

/// Read `path` without following a symlink, refusing files over `max_bytes`
/// before reading them. Blocking.
pub fn read(path: &Path, max_bytes: u64) -> Result<ReadFile, Unread> {
    // Never follow a symlink: a share user could swap a settled scan for a
    // link to any file the daemon may read.
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path);
    let file = match opened {
        Ok(file) => file,
        // The scan's own permissions, not eakte's environment: set it aside
        // rather than retrying it forever.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(Unread::Rejected(Rejection::Unreadable {
                detail: e.to_string(),
            }));
        }
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(Unread::Rejected(Rejection::Unsupported {
                what: "eine Verknüpfung (Symlink), keine Datei".into(),
            }));
        }
        Err(e) => return Err(Unread::Failed(e)),
    };
    let meta = file.metadata().map_err(Unread::Failed)?;
    if !meta.is_file() {
        return Err(Unread::Rejected(Rejection::Unsupported {
            what: "keine normale Datei".into(),
        }));
    }
    let size = meta.len();
    if size > max_bytes {
        return Err(Unread::Rejected(Rejection::TooLarge {
            size,
            max: max_bytes,
        }));
    }
    let received_at = crate::timefmt::rfc3339(
        meta.modified()
            .unwrap_or_else(|_| std::time::SystemTime::now()),
    );
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(Unread::Failed)?;
    // A file still growing while it was read (the size above was smaller).
    if bytes.len() as u64 > max_bytes {
        return Err(Unread::Rejected(Rejection::TooLarge {
            size: bytes.len() as u64,
            max: max_bytes,
        }));
    }
    Ok(ReadFile { bytes, received_at })
}
