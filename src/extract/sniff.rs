//! File type detection from the content, never from the file name: scanners and
//! people name files freely, and a `.pdf` may be anything.

use crate::model::FileKind;

/// What a file is when it is not one of the accepted formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Accepted(FileKind),
    Empty,
    /// A recognised but unsupported format, with a description for people.
    Other(&'static str),
    Unknown,
}

/// PDF readers accept junk before the header (seen in real files), within the
/// first kilobyte; so do we.
const PDF_HEADER_WINDOW: usize = 1024;

pub fn sniff(bytes: &[u8]) -> Sniffed {
    if bytes.is_empty() {
        return Sniffed::Empty;
    }
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    // Image signatures at offset 0 first: an image whose metadata happens to
    // contain "%PDF-" is still an image.
    if starts(b"II*\0") || starts(b"MM\0*") || starts(b"II+\0") || starts(b"MM\0+") {
        return Sniffed::Accepted(FileKind::Tiff);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Sniffed::Accepted(FileKind::Png);
    }
    if starts(b"\xff\xd8\xff") {
        return Sniffed::Accepted(FileKind::Jpeg);
    }
    if find(&bytes[..bytes.len().min(PDF_HEADER_WINDOW)], b"%PDF-") {
        return Sniffed::Accepted(FileKind::Pdf);
    }
    let other = if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        "ein ZIP-Archiv (z. B. .zip, .docx, .xlsx)"
    } else if starts(b"\x7fELF") {
        "ein Linux-Programm (ausführbare Datei)"
    } else if starts(b"MZ") {
        "ein Windows-Programm (ausführbare Datei)"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "ein GIF-Bild"
    } else if starts(b"BM") && bytes.len() > 14 {
        "ein BMP-Bild"
    } else if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        "ein WebP-Bild"
    } else if starts(b"\xd0\xcf\x11\xe0") {
        "ein altes Office-Dokument (.doc/.xls)"
    } else if starts(b"\x1f\x8b") {
        "ein gzip-Archiv"
    } else {
        return Sniffed::Unknown;
    };
    Sniffed::Other(other)
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content_not_name() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Sniffed::Accepted(FileKind::Pdf));
        assert_eq!(
            sniff(b"\x0a\xa0\xa4\x03%PDF-1.5\n"),
            Sniffed::Accepted(FileKind::Pdf)
        );
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), Sniffed::Accepted(FileKind::Tiff));
        assert_eq!(sniff(b"MM\0*\0\0\0\x08"), Sniffed::Accepted(FileKind::Tiff));
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0"),
            Sniffed::Accepted(FileKind::Png)
        );
        assert_eq!(
            sniff(b"\xff\xd8\xff\xe0"),
            Sniffed::Accepted(FileKind::Jpeg)
        );
        assert_eq!(
            sniff(b"\xff\xd8\xff\xe1Exif %PDF-1.4"),
            Sniffed::Accepted(FileKind::Jpeg)
        );
        assert_eq!(sniff(b""), Sniffed::Empty);
        assert_eq!(sniff(b"oops\n"), Sniffed::Unknown);
        assert!(matches!(sniff(b"PK\x03\x04rest"), Sniffed::Other(_)));
        assert!(matches!(sniff(b"\x7fELF\x02\x01"), Sniffed::Other(_)));
    }
}
