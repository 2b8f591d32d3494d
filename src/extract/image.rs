//! Image header probing: page count and pixel dimensions of PNG, JPEG and TIFF
//! files, read from the headers alone. This runs before any decoder touches the
//! bytes, so that a decompression bomb (a tiny file declaring billions of pixels)
//! is refused without allocating its pixels.

use crate::model::FileKind;

/// Width and height in pixels of each page (frame) of an image file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    pub pages: Vec<(u32, u32)>,
}

/// Why the header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("truncated header")]
    Truncated,
    #[error("{0}")]
    Malformed(&'static str),
    #[error("more than {0} pages")]
    TooManyPages(u32),
}

/// Probe an image file. `max_pages` bounds the work spent on TIFF page chains.
pub fn probe(kind: FileKind, bytes: &[u8], max_pages: u32) -> Result<ImageInfo, ProbeError> {
    match kind {
        FileKind::Png => png(bytes).map(|d| ImageInfo { pages: vec![d] }),
        FileKind::Jpeg => jpeg(bytes).map(|d| ImageInfo { pages: vec![d] }),
        FileKind::Tiff => tiff(bytes, max_pages),
        _ => Err(ProbeError::Malformed("not an image")),
    }
}

fn be16(b: &[u8], at: usize) -> Result<u16, ProbeError> {
    b.get(at..at + 2)
        .map(|s| u16::from_be_bytes([s[0], s[1]]))
        .ok_or(ProbeError::Truncated)
}

fn png(b: &[u8]) -> Result<(u32, u32), ProbeError> {
    if b.get(12..16) != Some(b"IHDR") {
        return Err(if b.len() < 16 {
            ProbeError::Truncated
        } else {
            ProbeError::Malformed("first chunk is not IHDR")
        });
    }
    let w = b.get(16..20).ok_or(ProbeError::Truncated)?;
    let h = b.get(20..24).ok_or(ProbeError::Truncated)?;
    nonzero(
        u32::from_be_bytes(w.try_into().unwrap()),
        u32::from_be_bytes(h.try_into().unwrap()),
    )
}

fn jpeg(b: &[u8]) -> Result<(u32, u32), ProbeError> {
    let mut i = 2;
    loop {
        // Skip to the next marker (0xFF, possibly padded with more 0xFF).
        while *b.get(i).ok_or(ProbeError::Truncated)? != 0xFF {
            i += 1;
        }
        while *b.get(i).ok_or(ProbeError::Truncated)? == 0xFF {
            i += 1;
        }
        let marker = b[i];
        i += 1;
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => continue,
            0xD9 => return Err(ProbeError::Malformed("no frame header before end of image")),
            _ => {}
        }
        let len = be16(b, i)? as usize;
        if len < 2 {
            return Err(ProbeError::Malformed("bad segment length"));
        }
        let is_sof = matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF);
        if is_sof {
            let h = be16(b, i + 3)?;
            let w = be16(b, i + 5)?;
            return nonzero(w as u32, h as u32);
        }
        i += len;
    }
}

fn nonzero(w: u32, h: u32) -> Result<(u32, u32), ProbeError> {
    if w == 0 || h == 0 {
        return Err(ProbeError::Malformed("zero width or height"));
    }
    Ok((w, h))
}

/// Walk the IFD chain of a classic or BigTIFF file.
fn tiff(b: &[u8], max_pages: u32) -> Result<ImageInfo, ProbeError> {
    let little = match b.get(0..2) {
        Some(b"II") => true,
        Some(b"MM") => false,
        _ => return Err(ProbeError::Truncated),
    };
    let rd = |at: usize, n: usize| -> Result<u64, ProbeError> {
        let s = b
            .get(at..at.checked_add(n).ok_or(ProbeError::Truncated)?)
            .ok_or(ProbeError::Truncated)?;
        let mut v = 0u64;
        for k in 0..n {
            let byte = if little { s[n - 1 - k] } else { s[k] };
            v = (v << 8) | byte as u64;
        }
        Ok(v)
    };
    let big = match rd(2, 2)? {
        42 => false,
        43 => true,
        _ => return Err(ProbeError::Malformed("bad TIFF magic number")),
    };
    let (off_size, count_size, entry_size) = if big { (8, 8, 20) } else { (4, 2, 12) };
    let mut next = if big { rd(8, 8)? } else { rd(4, 4)? };
    let mut pages = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while next != 0 {
        if pages.len() as u32 >= max_pages {
            return Err(ProbeError::TooManyPages(max_pages));
        }
        if !seen.insert(next) {
            return Err(ProbeError::Malformed("TIFF page chain loops"));
        }
        let ifd = usize::try_from(next).map_err(|_| ProbeError::Truncated)?;
        let count = rd(ifd, count_size)? as usize;
        let (mut w, mut h) = (0u32, 0u32);
        for e in 0..count {
            let at = ifd + count_size + e * entry_size;
            let tag = rd(at, 2)?;
            let typ = rd(at + 2, 2)?;
            let value_at = at + 4 + off_size;
            let value = match typ {
                3 => rd(value_at, 2)?,
                4 => rd(value_at, 4)?,
                16 => rd(value_at, 8)?,
                _ => continue,
            };
            let value = u32::try_from(value).unwrap_or(u32::MAX);
            match tag {
                256 => w = value,
                257 => h = value,
                _ => {}
            }
        }
        pages.push(nonzero(w, h)?);
        next = rd(ifd + count_size + count * entry_size, off_size)?;
    }
    if pages.is_empty() {
        return Err(ProbeError::Malformed("TIFF without pages"));
    }
    Ok(ImageInfo { pages })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_bomb_declares_its_size() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&50_000u32.to_be_bytes());
        png.extend_from_slice(&50_000u32.to_be_bytes());
        assert_eq!(
            probe(FileKind::Png, &png, 10).unwrap().pages,
            vec![(50_000, 50_000)]
        );
    }

    #[test]
    fn truncated_headers_are_errors_not_panics() {
        assert_eq!(
            probe(FileKind::Png, b"\x89PNG\r\n", 10),
            Err(ProbeError::Truncated)
        );
        assert_eq!(
            probe(FileKind::Jpeg, b"\xff\xd8\xff\xe0\x00", 10),
            Err(ProbeError::Truncated)
        );
        assert_eq!(
            probe(FileKind::Tiff, b"II*\0\xff\xff\xff\x7f", 10),
            Err(ProbeError::Truncated)
        );
    }

    #[test]
    fn tiff_loop_is_detected() {
        // One IFD at offset 8 with zero entries whose next pointer is itself.
        let mut t = b"II*\0\x08\0\0\0".to_vec();
        t.extend_from_slice(&0u16.to_le_bytes());
        t.extend_from_slice(&8u32.to_le_bytes());
        assert!(probe(FileKind::Tiff, &t, 10).is_err());
    }
}
