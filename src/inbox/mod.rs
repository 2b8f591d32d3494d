//! The scan inbox (`scanner-inbox/`): what the scan office drops in, how eakte takes
//! it, and where it sets aside what it cannot take.
//!
//! ```text
//! scanner-inbox/<site>/<any/depth>/<file>     waiting (the site is the first folder)
//! scanner-inbox/.processing/<arrival>/<rel>   claimed: being processed
//! scanner-inbox/.quarantine/<rel>             set aside, with <file>.reason.txt
//! ```
//!
//! Claiming is a rename within the inbox, so at every moment a scan is in exactly one
//! place. The arrival id in the claimed path is the pipeline's idempotency key: after
//! a crash, `.processing` is resumed and a scan that was already recorded is simply
//! finished (removed), never stored twice. A claimed file is removed only after its
//! document is durable. Renames and removals are followed by an fsync of the
//! directories involved, so they survive a power cut in the order they were made.

pub mod intake;
pub mod settle;

use crate::durable::{self, sync_dir};
use crate::model::ArrivalId;
use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

pub const PROCESSING_DIR: &str = ".processing";
pub const QUARANTINE_DIR: &str = ".quarantine";
/// Appended to a quarantined file's name for the file that says why.
pub const REASON_SUFFIX: &str = ".reason.txt";
/// How deep below a site folder scans are looked for.
const MAX_DEPTH: usize = 16;

/// A file or other entry found in the inbox.
#[derive(Debug, Clone)]
pub struct Found {
    pub path: PathBuf,
    /// Path relative to the inbox root, e.g. `husum/brief.pdf`.
    pub rel: PathBuf,
    pub size: u64,
    pub mtime: Option<SystemTime>,
    /// `None` for a regular file; otherwise what it is instead (a symlink, a FIFO…),
    /// in German for the reason file.
    pub not_a_file: Option<&'static str>,
}

/// A scan taken for processing.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub arrival: ArrivalId,
    /// Where the file is now (inside `.processing`).
    pub path: PathBuf,
    /// Where it was in the inbox, relative to the root.
    pub rel: PathBuf,
}

impl Claimed {
    /// The site (Standort): the first folder of the inbox path, if any.
    pub fn site(&self) -> Option<String> {
        site_of(&self.rel)
    }

    pub fn name(&self) -> String {
        self.rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Where it came from, as the scan office sees it (`husum/brief.pdf`).
    pub fn source(&self) -> String {
        Inbox::display(&self.rel)
    }
}

pub fn site_of(rel: &Path) -> Option<String> {
    let mut parts = rel.components();
    let first = parts.next()?;
    parts.next()?; // a file directly in the root has no site
    Some(first.as_os_str().to_string_lossy().into_owned())
}

/// Names that are never scans: hidden files, Office lock files, partial uploads,
/// and the litter Windows and macOS leave on shares.
pub fn is_ignored(name: &str) -> bool {
    let lower = name.to_lowercase();
    name.starts_with('.')
        || name.starts_with("~$")
        || lower.ends_with(".tmp")
        || lower.ends_with(".part")
        || lower.ends_with(".crdownload")
        || lower == "thumbs.db"
        || lower == "desktop.ini"
}

#[derive(Debug, Clone)]
pub struct Inbox {
    root: PathBuf,
}

impl Inbox {
    pub fn open(root: &Path) -> io::Result<Inbox> {
        fs::create_dir_all(root.join(PROCESSING_DIR))?;
        fs::create_dir_all(root.join(QUARANTINE_DIR))?;
        Ok(Inbox {
            root: root.to_path_buf(),
        })
    }

    /// An inbox that must already exist (for read-only commands).
    pub fn open_existing(root: &Path) -> io::Result<Inbox> {
        fs::metadata(root.join(PROCESSING_DIR))?;
        Ok(Inbox {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every waiting entry, walking site folders recursively. Hidden folders
    /// (`.processing`, `.quarantine`, others' temp folders) are skipped; symlinks
    /// are reported, never followed.
    pub fn scan(&self) -> io::Result<Vec<Found>> {
        let mut found = Vec::new();
        self.walk(&self.root, Path::new(""), 0, &mut found)?;
        Ok(found)
    }

    fn walk(&self, dir: &Path, rel: &Path, depth: usize, out: &mut Vec<Found>) -> io::Result<()> {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if depth == 0 => return Err(e),
            // A folder removed meanwhile, or one eakte may not read (a share's
            // `$RECYCLE.BIN`, a site folder with wrong permissions), must not stop
            // the whole inbox.
            Err(e) => {
                if e.kind() != io::ErrorKind::NotFound {
                    tracing::warn!(folder = %dir.display(), error = %e, "inbox folder skipped");
                }
                return Ok(());
            }
        };
        for entry in entries {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name();
            if is_ignored(&name.to_string_lossy()) {
                continue;
            }
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            let rel = rel.join(&name);
            let kind = meta.file_type();
            if kind.is_dir() {
                if depth < MAX_DEPTH {
                    self.walk(&entry.path(), &rel, depth + 1, out)?;
                }
                continue;
            }
            out.push(Found {
                path: entry.path(),
                rel,
                size: meta.len(),
                mtime: meta.modified().ok(),
                not_a_file: describe_special(&kind),
            });
        }
        Ok(())
    }

    /// Move a settled scan into `.processing/<arrival>/`; from now on nobody else
    /// takes it, and a crash leaves it there to be resumed.
    pub fn claim(&self, found: &Found, arrival: ArrivalId) -> io::Result<Claimed> {
        let target = self
            .root
            .join(PROCESSING_DIR)
            .join(arrival.to_string())
            .join(&found.rel);
        let dir = target.parent().expect("claimed path has a parent");
        durable::create_dir_all(dir)?;
        fs::rename(&found.path, &target)?;
        sync_dir(dir)?;
        if let Some(from) = found.path.parent() {
            sync_dir(from)?;
        }
        Ok(Claimed {
            arrival,
            path: target,
            rel: found.rel.clone(),
        })
    }

    /// Scans claimed before a crash or restart, to be resumed.
    pub fn claimed(&self) -> io::Result<Vec<Claimed>> {
        let processing = self.root.join(PROCESSING_DIR);
        let mut out = Vec::new();
        for entry in fs::read_dir(&processing)? {
            let entry = entry?;
            let Some(arrival) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            let mut files = Vec::new();
            self.walk(&entry.path(), Path::new(""), 0, &mut files)?;
            if files.is_empty() {
                // The scan was finished but the crash came before the folder went.
                let _ = fs::remove_dir_all(entry.path());
            }
            out.extend(files.into_iter().map(|f| Claimed {
                arrival: ArrivalId(arrival),
                path: f.path,
                rel: f.rel,
            }));
        }
        Ok(out)
    }

    /// The scan is durably stored: remove it from the inbox.
    pub fn finish(&self, claimed: &Claimed) -> io::Result<()> {
        match fs::remove_file(&claimed.path) {
            // Already removed by an attempt that failed just after (at the fsync).
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            other => other?,
        }
        sync_dir(claimed.path.parent().expect("claimed path has a parent"))?;
        self.remove_processing_dir(claimed);
        Ok(())
    }

    /// Put a claimed scan back where it was (it changed while being claimed: it
    /// was still being written). Fails if something else took its place meanwhile.
    pub fn unclaim(&self, claimed: &Claimed) -> io::Result<()> {
        let back = self.root.join(&claimed.rel);
        if back.symlink_metadata().is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a new file has taken its place",
            ));
        }
        fs::rename(&claimed.path, &back)?;
        sync_dir(back.parent().expect("inbox path has a parent"))?;
        self.remove_processing_dir(claimed);
        Ok(())
    }

    /// Set a claimed scan aside, with a reason file saying in German what is
    /// wrong (`reason_de`, for the scan office) and the technical cause.
    pub fn set_aside(
        &self,
        claimed: &Claimed,
        reason_de: &str,
        technical: &str,
    ) -> io::Result<PathBuf> {
        let text = reason_text(&Inbox::display(&claimed.rel), reason_de, technical);
        let target = self.quarantine_file(&claimed.path, &claimed.rel, &text)?;
        self.remove_processing_dir(claimed);
        Ok(target)
    }

    /// Set aside an entry straight from the inbox (symlinks, FIFOs: never opened).
    pub fn set_aside_found(
        &self,
        found: &Found,
        reason_de: &str,
        technical: &str,
    ) -> io::Result<PathBuf> {
        let text = reason_text(&Inbox::display(&found.rel), reason_de, technical);
        self.quarantine_file(&found.path, &found.rel, &text)
    }

    /// Write `<name>.reason.txt` first, then move the file next to it: after a crash
    /// in between, the scan is still in place and is simply judged again.
    fn quarantine_file(&self, from: &Path, rel: &Path, reason: &str) -> io::Result<PathBuf> {
        let dir = self
            .root
            .join(QUARANTINE_DIR)
            .join(rel.parent().unwrap_or(Path::new("")));
        durable::create_dir_all(&dir)?;
        let name = rel
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| "unbenannt".into());
        let target = free_name(&dir, &name);
        let mut reason_path = target.clone().into_os_string();
        reason_path.push(REASON_SUFFIX);
        let mut file = fs::File::create(&reason_path)?;
        file.write_all(reason.as_bytes())?;
        file.sync_all()?;
        fs::rename(from, &target)?;
        sync_dir(&dir)?;
        if let Some(parent) = from.parent() {
            sync_dir(parent)?;
        }
        Ok(target)
    }

    /// Remove the now empty `.processing/<arrival>/…` folders (best effort: a
    /// leftover empty folder is cleaned up on the next start).
    fn remove_processing_dir(&self, claimed: &Claimed) {
        let top = self
            .root
            .join(PROCESSING_DIR)
            .join(claimed.arrival.to_string());
        let _ = fs::remove_dir_all(top);
    }

    /// The inbox-relative path as people see it (`husum/brief.pdf`).
    pub fn display(rel: &Path) -> String {
        rel.components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// The reason file's text, for the scan office.
fn reason_text(rel: &str, reason_de: &str, technical: &str) -> String {
    format!(
        "Die Datei „{rel}“ wurde nicht in die E-Akte übernommen.\n\n\
         Grund: {reason_de}\n\n\
         Beiseitegelegt am: {}\n\
         Technische Angabe: {technical}\n",
        crate::timefmt::german_time(crate::clock::now())
    )
}

/// Whether another process holds `path` open for writing: a scanner or a
/// Samba server (`smbd`) still writing a scan that paused for longer than the
/// settle window. Asked with a read lease, which the kernel refuses while the
/// file is open for writing anywhere on this host. `None` when it cannot tell
/// (not our file and no `CAP_LEASE`, a file system without leases, a writer on
/// another machine of a network share): then only the settle window decides.
pub fn open_for_writing(path: &Path) -> Option<bool> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    // A writer opening the file in the instant the lease is held breaks it, and
    // the kernel tells the holder with SIGIO, whose default is to end the
    // process. The lease is dropped at once anyway: the signal is not needed.
    static IGNORE_LEASE_BREAKS: std::sync::Once = std::sync::Once::new();
    // SAFETY: SIG_IGN for a signal nothing else in eakte uses.
    IGNORE_LEASE_BREAKS.call_once(|| unsafe {
        libc::signal(libc::SIGIO, libc::SIG_IGN);
    });
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this function owns; a lease taken is
    // released before the descriptor closes.
    let taken = unsafe { libc::fcntl(fd, libc::F_SETLEASE, libc::F_RDLCK) };
    if taken == 0 {
        unsafe { libc::fcntl(fd, libc::F_SETLEASE, libc::F_UNLCK) };
        return Some(false);
    }
    match io::Error::last_os_error().raw_os_error() {
        Some(libc::EAGAIN) => Some(true),
        _ => None,
    }
}

fn describe_special(kind: &fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_file() {
        None
    } else if kind.is_symlink() {
        Some("eine Verknüpfung (Symlink), keine Datei")
    } else if kind.is_fifo() {
        Some("eine Pipe (FIFO), keine Datei")
    } else if kind.is_socket() {
        Some("ein Socket, keine Datei")
    } else {
        Some("ein Gerät oder Sonderobjekt, keine Datei")
    }
}

/// `dir/name`, or `dir/name (2)`, `(3)`… before the extension if taken: a second
/// broken `scan.pdf` must never overwrite the first one in quarantine.
fn free_name(dir: &Path, name: &std::ffi::OsStr) -> PathBuf {
    let first = dir.join(name);
    if first.symlink_metadata().is_err() {
        return first;
    }
    let path = Path::new(name);
    let stem = path.file_stem().unwrap_or(name).to_string_lossy();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (2..)
        .map(|n| dir.join(format!("{stem} ({n}){ext}")))
        .find(|p| p.symlink_metadata().is_err())
        .expect("some number is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_folder_is_the_site() {
        assert_eq!(
            site_of(Path::new("husum/brief.pdf")).as_deref(),
            Some("husum")
        );
        assert_eq!(
            site_of(Path::new("Föhr/2026/brief.pdf")).as_deref(),
            Some("Föhr")
        );
        assert_eq!(site_of(Path::new("brief.pdf")), None);
    }

    #[test]
    fn temporary_and_hidden_files_are_ignored() {
        for name in [
            ".hidden.pdf",
            "~$brief.docx",
            "scan.TMP",
            "upload.part",
            "Thumbs.db",
        ] {
            assert!(is_ignored(name), "{name}");
        }
        for name in ["brief.pdf", "Antrag Müller.tiff", "a.partial.pdf"] {
            assert!(!is_ignored(name), "{name}");
        }
    }

    #[test]
    fn claim_finish_and_quarantine_move_files_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::open(dir.path()).unwrap();
        fs::create_dir_all(dir.path().join("Tönning")).unwrap();
        fs::write(dir.path().join("Tönning/a.pdf"), b"a").unwrap();
        fs::write(dir.path().join("Tönning/b.pdf"), b"b").unwrap();
        fs::write(dir.path().join("Tönning/.hidden"), b"h").unwrap();
        let mut found = inbox.scan().unwrap();
        found.sort_by(|a, b| a.rel.cmp(&b.rel));
        assert_eq!(found.len(), 2);

        let a = inbox.claim(&found[0], ArrivalId(7)).unwrap();
        assert_eq!(a.site().as_deref(), Some("Tönning"));
        assert_eq!(
            inbox.scan().unwrap().len(),
            1,
            "a claimed scan is no longer waiting"
        );
        assert_eq!(inbox.claimed().unwrap().len(), 1);
        inbox.finish(&a).unwrap();
        assert!(inbox.claimed().unwrap().is_empty());

        let b = inbox.claim(&found[1], ArrivalId(8)).unwrap();
        let q = inbox.set_aside(&b, "Die Datei ist leer.", "empty").unwrap();
        assert_eq!(q, dir.path().join(".quarantine/Tönning/b.pdf"));
        let reason =
            fs::read_to_string(dir.path().join(".quarantine/Tönning/b.pdf.reason.txt")).unwrap();
        assert!(
            reason.starts_with("Die Datei „Tönning/b.pdf“ wurde nicht"),
            "{reason}"
        );
        assert!(reason.contains("Grund: Die Datei ist leer."), "{reason}");
        assert!(inbox.scan().unwrap().is_empty());
        assert!(inbox.claimed().unwrap().is_empty());
    }

    #[test]
    fn a_scan_that_changed_while_claimed_goes_back() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::open(dir.path()).unwrap();
        fs::create_dir_all(dir.path().join("husum")).unwrap();
        fs::write(dir.path().join("husum/a.pdf"), b"a").unwrap();
        let found = inbox.scan().unwrap().remove(0);
        let claimed = inbox.claim(&found, ArrivalId(3)).unwrap();
        inbox.unclaim(&claimed).unwrap();
        assert_eq!(inbox.scan().unwrap().len(), 1);
        assert!(inbox.claimed().unwrap().is_empty());
        // Finishing twice (a retry after a failed fsync) is harmless.
        let claimed = inbox.claim(&found, ArrivalId(4)).unwrap();
        inbox.finish(&claimed).unwrap();
        fs::create_dir_all(claimed.path.parent().unwrap()).unwrap();
        inbox.finish(&claimed).unwrap();
    }

    #[test]
    fn a_file_open_for_writing_is_seen_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scan.pdf");
        let mut writer = fs::File::create(&path).unwrap();
        writer.write_all(b"%PDF-1.4 halb").unwrap();
        assert_eq!(open_for_writing(&path), Some(true));
        drop(writer);
        assert_eq!(open_for_writing(&path), Some(false));
        let _reader = fs::File::open(&path).unwrap();
        assert_eq!(open_for_writing(&path), Some(false), "readers do not count");
    }

    #[test]
    fn quarantine_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("scan.pdf"), b"x").unwrap();
        assert_eq!(
            free_name(dir.path(), "scan.pdf".as_ref()),
            dir.path().join("scan (2).pdf")
        );
        assert_eq!(
            free_name(dir.path(), "neu.pdf".as_ref()),
            dir.path().join("neu.pdf")
        );
    }
}
