//! Content-addressed blob store: the original bytes of every document, bit-exact,
//! at `blobs/<aa>/<bb>/<sha256>`. A blob is written to a temporary file, fsynced,
//! renamed into place and its directory fsynced, so after `put` returns the bytes
//! survive a power cut; a crash before that leaves at most a stray temp file.

use crate::model::Sha256;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    pub fn open(root: PathBuf) -> io::Result<BlobStore> {
        fs::create_dir_all(root.join("tmp"))?;
        // Temp files and scratch folders left by a crash are garbage by
        // construction.
        for entry in fs::read_dir(root.join("tmp"))? {
            let path = entry?.path();
            if path.is_dir() {
                let _ = fs::remove_dir_all(&path);
            } else {
                let _ = fs::remove_file(&path);
            }
        }
        Ok(BlobStore { root })
    }

    /// A private folder on the store's disk for work too large for memory
    /// (a package being written or read), removed when dropped or, after a
    /// crash, when the store is next opened.
    pub fn scratch(&self) -> io::Result<tempfile::TempDir> {
        tempfile::Builder::new()
            .prefix("scratch-")
            .tempdir_in(self.root.join("tmp"))
    }

    /// A folder on the store's disk kept between requests (a package an
    /// admin looks at before taking it), named by `token`; it goes when the
    /// caller removes it or, at the latest, when the store is next opened.
    pub fn pending(&self, token: &str) -> PathBuf {
        self.root.join("tmp").join(format!("pending-{token}"))
    }

    /// Remove pending folders older than `age` (sent, never taken).
    pub fn forget_pending(&self, age: std::time::Duration) {
        let Ok(entries) = fs::read_dir(self.root.join("tmp")) else {
            return;
        };
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|a| a > age);
            if old && entry.file_name().to_string_lossy().starts_with("pending-") {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self, sha: &Sha256) -> PathBuf {
        let s = sha.as_str();
        self.root.join(&s[0..2]).join(&s[2..4]).join(s)
    }

    /// Store `bytes` under `sha` durably. Idempotent: an existing blob of the right
    /// size is kept (a torn blob cannot exist, see the module comment).
    pub fn put(&self, sha: &Sha256, bytes: &[u8]) -> io::Result<()> {
        let target = self.path(sha);
        if fs::metadata(&target)
            .map(|m| m.len() == bytes.len() as u64)
            .unwrap_or(false)
        {
            return Ok(());
        }
        let dir = target.parent().expect("blob path has a parent");
        crate::durable::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(self.root.join("tmp"))?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&target).map_err(|e| e.error)?;
        crate::durable::sync_dir(dir)?;
        Ok(())
    }

    pub fn get(&self, sha: &Sha256) -> io::Result<Vec<u8>> {
        fs::read(self.path(sha))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_is_idempotent_and_bit_exact() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path().join("blobs")).unwrap();
        let bytes = b"%PDF-1.4 original bytes \x00\xff";
        let sha = Sha256::of(bytes);
        blobs.put(&sha, bytes).unwrap();
        blobs.put(&sha, bytes).unwrap();
        assert_eq!(blobs.get(&sha).unwrap(), bytes);
        assert!(blobs.path(&sha).ends_with(format!(
            "{}/{}/{}",
            &sha.as_str()[..2],
            &sha.as_str()[2..4],
            sha
        )));
    }
}
