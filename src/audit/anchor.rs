//! The chain's head outside the store: what makes a rolled-back trail
//! evident.
//!
//! The hash chain shows an entry changed, removed or cut off from the end, but
//! not a store replaced as a whole by an older copy: that copy's chain is
//! intact, only shorter. So every few entries or minutes, and at every stop,
//! the daemon appends the head (sequence number and hash) as one JSON line to
//! an anchor file that should live where the store's administrators cannot
//! rewrite it (another machine's mount, a WORM share, a file the log
//! collector ships), and logs it too. `eakte audit verify --anchor FILE`
//! checks the trail against every line: an anchored entry the trail no
//! longer has means it was rolled back or cut off; one with another hash
//! means it was rewritten.
//!
//! An anchor names only entries that are durable: the store is flushed after
//! the head is read and before the line is written, so a crash never leaves
//! an anchor ahead of the trail.

use crate::model::AuditEntry;
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where and how often the head is anchored (`[audit]` in the configuration).
#[derive(Debug, Clone)]
pub struct Anchoring {
    pub file: PathBuf,
    /// Anchor once this many entries were added since the last anchor…
    pub every_entries: u64,
    /// …or this long after it, if any was added.
    pub every: Duration,
}

/// One line of the anchor file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anchor {
    /// When it was written (RFC 3339).
    pub at: String,
    pub seq: u64,
    pub hash: String,
}

/// Append the store's current head to `file` (created 0640 if missing),
/// synced; returns it, or `None` for an empty trail. Blocking.
pub fn anchor_head(store: &Store, file: &Path) -> Result<Option<Anchor>, AnchorError> {
    let Some((seq, hash)) = store.audit().head()? else {
        return Ok(None);
    };
    // Whatever the head names is durable before the line says so.
    store.flush()?;
    let anchor = Anchor {
        at: crate::clock::now_rfc3339(),
        seq,
        hash,
    };
    let mut line = serde_json::to_vec(&anchor).expect("anchors serialise");
    line.push(b'\n');
    let io = |source| AnchorError::Write {
        path: file.to_path_buf(),
        source,
    };
    let mut out = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o640)
        .open(file)
        .map_err(io)?;
    // A line torn by a crash stays a line of its own, and this one starts
    // afresh after it.
    if ends_torn(&mut out).map_err(io)? {
        line.insert(0, b'\n');
    }
    // One write of a short line to a file opened for appending: whole or,
    // after a crash mid-write, a torn last line that reading reports.
    out.write_all(&line).map_err(io)?;
    out.sync_data().map_err(io)?;
    tracing::info!(entries = anchor.seq, head = %anchor.hash, file = %file.display(), "audit trail anchored");
    Ok(Some(anchor))
}

/// Whether `file` ends without a newline (a write cut off by a crash).
fn ends_torn(file: &mut std::fs::File) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the audit anchor {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Keep anchoring the head while the daemon runs: checked every second,
/// written when `every_entries` were added or `every` passed with any added.
/// A failed write is logged and tried again at the next check. Blocking;
/// returns when `stopping` says so (the last anchor is written at the stop,
/// after everything else, by the caller).
pub fn keep(store: &Store, anchoring: &Anchoring, stopping: impl Fn(Duration) -> bool) {
    let mut anchored: Option<u64> = None;
    let mut since = Instant::now();
    while !stopping(Duration::from_secs(1)) {
        let head = match store.audit().head() {
            Ok(head) => head.map_or(0, |(seq, _)| seq),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the audit trail's head to anchor it");
                continue;
            }
        };
        let added = head.saturating_sub(anchored.unwrap_or(0));
        let due = anchored.is_none()
            || added >= anchoring.every_entries
            || (added > 0 && since.elapsed() >= anchoring.every);
        if !due || head == 0 {
            continue;
        }
        match anchor_head(store, &anchoring.file) {
            Ok(anchor) => {
                anchored = anchor.map(|a| a.seq);
                since = Instant::now();
            }
            Err(e) => tracing::error!(error = %e, "the audit trail could not be anchored"),
        }
    }
}

/// Read an anchor file's lines; a line that cannot be read is a problem of
/// its own (a torn last line after a crash, or an edited file).
pub fn read(bytes: &[u8]) -> (Vec<Anchor>, Vec<String>) {
    let (mut anchors, mut problems) = (Vec::new(), Vec::new());
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Anchor>(line) {
            Ok(anchor) => anchors.push(anchor),
            Err(e) => problems.push(format!("anchor line {} cannot be read: {e}", n + 1)),
        }
    }
    (anchors, problems)
}

/// What the trail of `store` lacks or has altered against `anchors`.
pub fn check(store: &Store, anchors: &[Anchor]) -> Result<Vec<String>, StoreError> {
    let head = store.audit().head()?.map_or(0, |(seq, _)| seq);
    let mut problems = Vec::new();
    let newest = anchors.iter().max_by_key(|a| a.seq);
    if let Some(newest) = newest.filter(|a| a.seq > head) {
        problems.push(format!(
            "the trail ends at entry {head}, but entry {} was anchored at {}: \
             entries were removed (the store rolled back to an older copy, or cut off)",
            newest.seq, newest.at
        ));
    }
    for anchor in anchors.iter().filter(|a| a.seq <= head) {
        let entry: Option<AuditEntry> = store.audit().from(anchor.seq).next().transpose()?;
        match entry.filter(|e| e.seq == anchor.seq) {
            None => problems.push(format!(
                "entry {}, anchored at {}, is missing",
                anchor.seq, anchor.at
            )),
            Some(entry) if entry.hash != anchor.hash => problems.push(format!(
                "entry {} is not the one anchored at {}: the trail was rewritten from there on",
                anchor.seq, anchor.at
            )),
            Some(_) => {}
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::tests::event;
    use crate::audit::Audit;

    #[test]
    fn a_rolled_back_or_rewritten_trail_fails_against_its_anchors() {
        let anchors_dir = tempfile::tempdir().unwrap();
        let file = anchors_dir.path().join("anchor.jsonl");
        let dir = tempfile::tempdir().unwrap();
        let record = |store: &Store, events: std::ops::RangeInclusive<u32>| {
            let audit = Audit::new(store.clone());
            for n in events {
                audit.record(event(n)).unwrap();
            }
        };
        let store = Store::open(dir.path()).unwrap();
        record(&store, 1..=3);
        anchor_head(&store, &file).unwrap().unwrap();
        drop(store);
        // The copy an attacker keeps from this stop: three entries.
        let snapshot = tempfile::tempdir().unwrap();
        copy_dir(dir.path(), snapshot.path());

        let store = Store::open(dir.path()).unwrap();
        record(&store, 4..=6);
        let last = anchor_head(&store, &file).unwrap().unwrap();
        assert_eq!(last.seq, 6);
        let (anchors, unread) = read(&std::fs::read(&file).unwrap());
        assert!(unread.is_empty());
        assert_eq!(anchors.len(), 2);
        assert!(check(&store, &anchors).unwrap().is_empty());
        drop(store);

        // Rolled back: the copy's chain is intact, the anchor is not met.
        std::fs::remove_dir_all(dir.path()).unwrap();
        copy_dir(snapshot.path(), dir.path());
        let store = Store::open(dir.path()).unwrap();
        assert!(crate::audit::verify(&store).unwrap().problems.is_empty());
        let problems = check(&store, &anchors).unwrap();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("trail ends at entry 3") && p.contains("entry 6 was anchored")),
            "{problems:?}"
        );

        // Rewritten: another history of the same length.
        record(&store, 14..=16);
        let problems = check(&store, &anchors).unwrap();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("entry 6 is not the one anchored")),
            "{problems:?}"
        );

        // After a torn line, the next anchor is a line of its own.
        std::fs::write(&file, b"{\"at\":\"x\",\"seq\":1,\"hash\":\"h\"}\n{\"at\":").unwrap();
        anchor_head(&store, &file).unwrap().unwrap();
        let (anchors, unread) = read(&std::fs::read(&file).unwrap());
        assert_eq!((anchors.len(), unread.len()), (2, 1), "{unread:?}");

        // A torn last line is reported, the lines before it still count.
        let (anchors, unread) = read(b"{\"at\":\"x\",\"seq\":1,\"hash\":\"h\"}\n{\"at\":");
        assert_eq!(anchors.len(), 1);
        assert!(unread[0].contains("anchor line 2"), "{unread:?}");
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
}
