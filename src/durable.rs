//! Making file system changes survive a power cut: a rename, a new file or a new
//! directory is only durable once the directory holding it has been fsynced.

use std::fs::{self, File};
use std::io;
use std::path::Path;

/// fsync a directory so that a rename, creation or removal inside it is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// `create_dir_all`, fsyncing the parent of every directory it creates, so that
/// a file put into the new directory cannot vanish with it after a power cut.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent {
        create_dir_all(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => parent.map_or(Ok(()), sync_dir),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn creates_nested_directories_once() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c");
        super::create_dir_all(&deep).unwrap();
        super::create_dir_all(&deep).unwrap();
        assert!(deep.is_dir());
    }
}
