//! The control socket's frames: a one-byte kind, a big-endian `u32` length,
//! then the payload: JSON for messages, raw bytes for file contents.
//!
//! The command line sends a [`Request`](super::Request), then for each file
//! the command reads a [`FileHeader`] (and, for a file that was read, its
//! bytes). The daemon answers with [`Reply`] frames: lines for standard output
//! and error, progress, and finally the exit status.

use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};

const JSON: u8 = 1;
const BYTES: u8 = 2;

/// The largest message the daemon takes (a request, a file's header).
/// Above Linux's 2 MiB for a command line's arguments: the file names of an
/// `eakte ingest archive/*.pdf` that the shell accepted fit.
pub const MAX_REQUEST: u32 = 4 * 1024 * 1024;
/// The largest reply line: `show --json` of a document with the most text
/// layer a PDF may have (32 MiB), escaped.
pub const MAX_REPLY: u32 = 128 * 1024 * 1024;

/// What the daemon sends back.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Out(String),
    Err(String),
    Progress {
        what: String,
        done: u64,
        total: u64,
    },
    /// A piece of the file the command makes, in hex (a few MiB at a time).
    Chunk(String),
    Exit(u8),
}

/// A file the command line read for the command.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileHeader {
    /// Its bytes follow in the next frame.
    Read {
        name: String,
        /// Its mtime (RFC 3339): the Eingangsdatum of an ingested file.
        received_at: String,
    },
    /// Refused before reading (too large, unreadable): the reason.
    Rejected(crate::extract::Rejection),
    /// Not read: why, in words.
    Failed(String),
}

pub fn write_json(w: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    let bytes = serde_json::to_vec(value).map_err(io::Error::other)?;
    write_frame(w, JSON, &bytes)
}

pub fn write_bytes(w: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    write_frame(w, BYTES, bytes)
}

fn write_frame(w: &mut impl Write, kind: u8, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a frame over 4 GiB"))?;
    w.write_all(&[kind])?;
    w.write_all(&len.to_be_bytes())?;
    w.write_all(payload)?;
    w.flush()
}

/// A frame over the limit of where it was read; skipped, the stream goes on.
#[derive(Debug, thiserror::Error)]
#[error("a frame of {len} bytes, over the {max} allowed here")]
pub struct Oversized {
    pub len: u32,
    pub max: u32,
}

impl Oversized {
    /// The oversized frame behind `e`, if that is what it was.
    pub fn of(e: &io::Error) -> Option<&Oversized> {
        e.get_ref()?.downcast_ref::<Oversized>()
    }
}

/// Read a JSON frame of at most `max` bytes; `None` at the end of the stream.
pub fn read_json<T: for<'de> Deserialize<'de>>(
    r: &mut impl Read,
    max: u32,
) -> io::Result<Option<T>> {
    let Some(payload) = read_frame(r, JSON, max)? else {
        return Ok(None);
    };
    serde_json::from_slice(&payload)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Read a frame of at most `max` raw bytes.
pub fn read_bytes(r: &mut impl Read, max: u32) -> io::Result<Vec<u8>> {
    read_frame(r, BYTES, max)?.ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))
}

/// A frame's payload. Its memory grows with the bytes that arrive, not with
/// the length a header claims.
fn read_frame(r: &mut impl Read, expected: u8, max: u32) -> io::Result<Option<Vec<u8>>> {
    let mut head = [0u8; 5];
    match r.read_exact(&mut head[..1]) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    r.read_exact(&mut head[1..])?;
    if head[0] != expected {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of kind {} where {expected} was expected", head[0]),
        ));
    }
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]);
    if len > max {
        // Skipped, so that the next frame is read from its start.
        io::copy(&mut r.take(u64::from(len)), &mut io::sink())?;
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            Oversized { len, max },
        ));
    }
    let mut payload = Vec::new();
    r.take(u64::from(len)).read_to_end(&mut payload)?;
    if payload.len() != len as usize {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
    }
    Ok(Some(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_header_goes_over_the_wire() {
        let headers = [
            FileHeader::Read {
                name: "brief.pdf".into(),
                received_at: "2026-12-01T08:00:00Z".into(),
            },
            FileHeader::Rejected(crate::extract::Rejection::TooLarge { size: 9, max: 1 }),
            FileHeader::Failed("cannot read fehlt.pdf".into()),
        ];
        let mut wire = Vec::new();
        for header in &headers {
            write_json(&mut wire, header).unwrap();
        }
        let mut r = &wire[..];
        for header in &headers {
            let read: FileHeader = read_json(&mut r, MAX_REQUEST).unwrap().unwrap();
            assert_eq!(format!("{read:?}"), format!("{header:?}"));
        }
    }

    #[test]
    fn frames_round_trip_and_a_wrong_kind_is_an_error() {
        let mut wire = Vec::new();
        write_json(&mut wire, &Reply::Out("zwei Zeilen\nmit ü".into())).unwrap();
        write_bytes(&mut wire, b"%PDF-1.4").unwrap();
        write_json(&mut wire, &Reply::Exit(1)).unwrap();
        let mut r = &wire[..];
        assert!(
            matches!(read_json::<Reply>(&mut r, MAX_REPLY).unwrap(), Some(Reply::Out(s)) if s == "zwei Zeilen\nmit ü")
        );
        assert_eq!(read_bytes(&mut r, MAX_REQUEST).unwrap(), b"%PDF-1.4");
        assert!(
            read_bytes(&mut r, MAX_REQUEST).is_err(),
            "a JSON frame is no bytes frame"
        );
        let mut r = &wire[..0];
        assert!(
            read_json::<Reply>(&mut r, MAX_REPLY).unwrap().is_none(),
            "the end of the stream"
        );
    }

    #[test]
    fn a_frame_over_the_limit_or_cut_short_is_refused() {
        let mut wire = Vec::new();
        write_bytes(&mut wire, &[7u8; 100]).unwrap();
        write_json(&mut wire, &Reply::Exit(0)).unwrap();
        let mut r = &wire[..];
        let over = read_bytes(&mut r, 99).unwrap_err();
        assert_eq!(Oversized::of(&over).map(|o| o.len), Some(100));
        assert!(
            matches!(
                read_json::<Reply>(&mut r, MAX_REPLY),
                Ok(Some(Reply::Exit(0)))
            ),
            "the frame after an oversized one is read whole"
        );
        assert_eq!(read_bytes(&mut &wire[..], 100).unwrap().len(), 100);
        assert!(
            read_bytes(&mut &wire[..50], 100).is_err(),
            "a frame cut short"
        );
        // A header claiming 4 GiB ends in an error, not an allocation of 4 GiB.
        let claim = [BYTES, 0xff, 0xff, 0xff, 0xff];
        assert!(read_bytes(&mut &claim[..], u32::MAX).is_err());
    }
}
