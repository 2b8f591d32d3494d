//! The ZIP container an xdomea message travels in: written entry by entry
//! from files on disk (an Akte is never held in memory whole), and read with
//! limits, because a message from another authority is input from outside
//! like any scan: its names may point anywhere, its sizes may lie, and a
//! small file may unpack to gigabytes.

use super::ExchangeError;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::Path;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

/// How much of a package is read at most.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Entries in the archive.
    pub max_entries: usize,
    /// Bytes of one unpacked entry.
    pub max_entry_bytes: u64,
    /// Bytes of all unpacked entries together.
    pub max_total_bytes: u64,
}

/// A package being written.
pub struct Writer<W: Write + Seek> {
    zip: zip::ZipWriter<W>,
}

impl<W: Write + Seek> Writer<W> {
    pub fn new(out: W) -> Writer<W> {
        Writer {
            zip: zip::ZipWriter::new(out),
        }
    }

    /// Start entry `name`; what is written next is its content. Compressed
    /// formats (PDF, images) are stored as they are: deflating them again
    /// costs time and gains nothing.
    pub fn entry(
        &mut self,
        name: &str,
        compress: bool,
        size_hint: u64,
    ) -> io::Result<&mut impl Write> {
        let method = if compress {
            CompressionMethod::Deflated
        } else {
            CompressionMethod::Stored
        };
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .large_file(size_hint >= u64::from(u32::MAX))
            .unix_permissions(0o644);
        self.zip
            .start_file(name, options)
            .map_err(io::Error::other)?;
        Ok(&mut self.zip)
    }

    /// Copy the file at `path` into entry `name`.
    pub fn entry_from_file(&mut self, name: &str, compress: bool, path: &Path) -> io::Result<u64> {
        let mut file = File::open(path)?;
        let size = file.metadata()?.len();
        let entry = self.entry(name, compress, size)?;
        io::copy(&mut file, entry)
    }

    pub fn finish(self) -> io::Result<W> {
        self.zip.finish().map_err(io::Error::other)
    }
}

/// A package being read.
pub struct Package<R: Read + Seek> {
    zip: zip::ZipArchive<R>,
    limits: Limits,
    /// Bytes unpacked so far, against `max_total_bytes`.
    unpacked: u64,
}

impl<R: Read + Seek> Package<R> {
    /// Open `reader` as a ZIP archive and check its directory.
    pub fn open(mut reader: R, limits: Limits) -> Result<Package<R>, ExchangeError> {
        // The directory is read into memory whole: its size is checked
        // from its end record first.
        if let Some(found) = declared_entries(&mut reader) {
            if found > limits.max_entries as u64 {
                return Err(ExchangeError::TooManyEntries {
                    found: usize::try_from(found).unwrap_or(usize::MAX),
                    max: limits.max_entries,
                });
            }
        }
        let zip = zip::ZipArchive::new(reader).map_err(|e| ExchangeError::NotZip(e.to_string()))?;
        if zip.len() > limits.max_entries {
            return Err(ExchangeError::TooManyEntries {
                found: zip.len(),
                max: limits.max_entries,
            });
        }
        for name in zip.file_names() {
            check_name(name)?;
        }
        Ok(Package {
            zip,
            limits,
            unpacked: 0,
        })
    }

    /// The names of the archive's files (not its folders).
    pub fn names(&self) -> Vec<String> {
        self.zip
            .file_names()
            .filter(|n| !n.ends_with('/'))
            .map(str::to_string)
            .collect()
    }

    /// The content of entry `name`, checked against the archive's CRC and
    /// the limits (whatever size the directory claims).
    pub fn read(&mut self, name: &str) -> Result<Vec<u8>, ExchangeError> {
        let mut entry = self.zip.by_name(name).map_err(|e| match e {
            zip::result::ZipError::FileNotFound => ExchangeError::MissingFile(name.to_string()),
            other => ExchangeError::Damaged {
                name: name.to_string(),
                detail: other.to_string(),
            },
        })?;
        let max = self
            .limits
            .max_entry_bytes
            .min(self.limits.max_total_bytes - self.unpacked);
        let mut bytes = Vec::with_capacity(entry.size().min(max) as usize);
        (&mut entry)
            .take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| ExchangeError::Damaged {
                name: name.to_string(),
                detail: e.to_string(),
            })?;
        if bytes.len() as u64 > max {
            return Err(ExchangeError::TooLarge {
                name: name.to_string(),
                max,
            });
        }
        self.unpacked += bytes.len() as u64;
        Ok(bytes)
    }
}

/// The number of entries the archive's end record declares (ZIP64's too),
/// if it can be found; the reader is left at the start.
fn declared_entries<R: Read + Seek>(reader: &mut R) -> Option<u64> {
    let len = reader.seek(io::SeekFrom::End(0)).ok()?;
    // The end record is 22 bytes plus a comment of at most 65,535.
    let tail = len.min(22 + 65_535);
    reader.seek(io::SeekFrom::Start(len - tail)).ok()?;
    let mut bytes = vec![0u8; tail as usize];
    reader.read_exact(&mut bytes).ok()?;
    let _ = reader.seek(io::SeekFrom::Start(0));
    let at = bytes.windows(4).rposition(|w| w == b"PK\x05\x06")?;
    let record = bytes.get(at..at + 22)?;
    let entries = u16::from_le_bytes([record[10], record[11]]);
    if entries != u16::MAX {
        return Some(u64::from(entries));
    }
    // ZIP64: a locator right before the end record points to its own record.
    let locator = bytes.get(at.checked_sub(20)?..at)?;
    if &locator[..4] != b"PK\x06\x07" {
        return None;
    }
    let offset = u64::from_le_bytes(locator[8..16].try_into().ok()?);
    let mut zip64 = [0u8; 56];
    reader.seek(io::SeekFrom::Start(offset)).ok()?;
    let read = reader.read_exact(&mut zip64);
    let _ = reader.seek(io::SeekFrom::Start(0));
    read.ok()?;
    (&zip64[..4] == b"PK\x06\x06")
        .then(|| u64::from_le_bytes(zip64[32..40].try_into().unwrap_or_default()))
}

/// A file name as a package may hold it: a plain name, no path that could
/// leave a folder it is unpacked into, no control characters.
fn check_name(name: &str) -> Result<(), ExchangeError> {
    let bad = name.is_empty()
        || name.starts_with('/')
        || name.contains('\\')
        || name.chars().any(char::is_control)
        || name.split('/').any(|part| part == "..");
    if bad {
        return Err(ExchangeError::UnsafeName(crate::untrusted::escaped(name)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    const LIMITS: Limits = Limits {
        max_entries: 10,
        max_entry_bytes: 1000,
        max_total_bytes: 1500,
    };

    fn package(entries: &[(&str, &[u8])]) -> Vec<u8> {
        packed(entries, true)
    }

    fn packed(entries: &[(&str, &[u8])], compress: bool) -> Vec<u8> {
        let mut writer = Writer::new(Cursor::new(Vec::new()));
        for (name, content) in entries {
            writer
                .entry(name, compress, content.len() as u64)
                .unwrap()
                .write_all(content)
                .unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn entries_come_back_as_written() {
        let zip = package(&[("a.xml", b"<a/>"), ("b.pdf", b"%PDF-1.4")]);
        let mut read = Package::open(Cursor::new(zip), LIMITS).unwrap();
        assert_eq!(read.names(), ["a.xml", "b.pdf"]);
        assert_eq!(read.read("b.pdf").unwrap(), b"%PDF-1.4");
        assert!(matches!(read.read("c.pdf"), Err(ExchangeError::MissingFile(n)) if n == "c.pdf"));
    }

    #[test]
    fn too_many_entries_are_refused_before_the_directory_is_read() {
        let names: Vec<String> = (0..11).map(|i| format!("f{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
        let zip = package(&entries);
        let mut cursor = Cursor::new(zip);
        assert_eq!(declared_entries(&mut cursor), Some(11));
        assert!(matches!(
            Package::open(cursor, LIMITS),
            Err(ExchangeError::TooManyEntries { found: 11, max: 10 })
        ));
    }

    #[test]
    fn a_name_leaving_the_folder_is_refused() {
        for name in ["../etc/passwd", "/etc/passwd", "a/../../b", "a\\b"] {
            let zip = package(&[(name, b"x")]);
            assert!(
                matches!(
                    Package::open(Cursor::new(zip), LIMITS),
                    Err(ExchangeError::UnsafeName(_))
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn unpacking_stops_at_the_limits_whatever_the_directory_says() {
        let big = vec![b'x'; 1001];
        let zip = package(&[("big", &big)]);
        let mut read = Package::open(Cursor::new(zip), LIMITS).unwrap();
        assert!(matches!(
            read.read("big"),
            Err(ExchangeError::TooLarge { .. })
        ));
        // Each under the entry limit, together over the total.
        let part = vec![b'y'; 800];
        let zip = package(&[("one", &part), ("two", &part)]);
        let mut read = Package::open(Cursor::new(zip), LIMITS).unwrap();
        read.read("one").unwrap();
        assert!(matches!(
            read.read("two"),
            Err(ExchangeError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_damaged_archive_is_named_as_such() {
        assert!(matches!(
            Package::open(Cursor::new(b"PK\x03\x04 not really".to_vec()), LIMITS),
            Err(ExchangeError::NotZip(_))
        ));
        // A flipped byte inside an entry's data fails its CRC.
        let mut zip = packed(&[("a.txt", &[b'a'; 200])], false);
        let at = zip.windows(3).position(|w| w == b"a.t").unwrap() + 40;
        zip[at] ^= 0xff;
        let mut read = Package::open(Cursor::new(zip), LIMITS).unwrap();
        assert!(read.read("a.txt").is_err());
    }
}
