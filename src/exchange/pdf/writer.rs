//! A small PDF writer for the pages eakte makes itself: the cover, the table
//! of contents, text documents (e-mails, notes), the list of checksums, and
//! the transparent pages laid over (header, Blatt number) and under (the
//! invisible OCR text) the pages of the originals. Pages are written to the
//! file as they come; only their offsets stay in memory.
//!
//! Text is set in the standard fonts Helvetica and Helvetica-Bold with
//! WinAnsiEncoding, which every viewer has and which carries German
//! (äöüß, €); a character outside it is written as `?`.

use std::io::{self, BufWriter, Seek, Write};

/// A4 in points.
pub const A4: (f32, f32) = (595.28, 841.89);

/// A page's content being drawn.
#[derive(Default)]
pub struct Canvas {
    ops: Vec<u8>,
}

/// The fonts every page may use.
#[derive(Clone, Copy)]
pub enum Font {
    Regular,
    Bold,
}

impl Canvas {
    /// One line of text at (`x`, `y`) from the bottom left.
    pub fn text(&mut self, font: Font, size: f32, x: f32, y: f32, text: &str) {
        let name = match font {
            Font::Regular => "F1",
            Font::Bold => "F2",
        };
        let _ = write!(self.ops, "BT /{name} {size:.1} Tf {x:.2} {y:.2} Td (");
        self.ops.extend(win_ansi_escaped(text));
        self.ops.extend_from_slice(b") Tj ET\n");
    }

    /// Lines of text that a reader does not see but search and copy find
    /// (render mode 3), from the top of a `width` × `height` page down.
    pub fn invisible(&mut self, width: f32, height: f32, text: &str) {
        let size = (height / 80.0).clamp(6.0, 12.0);
        let _ = write!(
            self.ops,
            "BT 3 Tr /F1 {size:.1} Tf {:.1} TL 20 {:.2} Td\n",
            size * 1.2,
            height - 30.0
        );
        for line in wrap(text, width - 40.0, size) {
            self.ops.extend_from_slice(b"(");
            self.ops.extend(win_ansi_escaped(&line));
            self.ops.extend_from_slice(b") Tj T*\n");
        }
        self.ops.extend_from_slice(b"ET\n");
    }

    /// A filled black rectangle, `w` × `h` from (`x`, `y`) at its bottom left.
    pub fn fill(&mut self, x: f32, y: f32, w: f32, h: f32) {
        let _ = writeln!(self.ops, "{x:.2} {y:.2} {w:.2} {h:.2} re f");
    }

    /// A thin horizontal line.
    pub fn rule(&mut self, x1: f32, x2: f32, y: f32) {
        let _ = writeln!(self.ops, "0.5 w {x1:.2} {y:.2} m {x2:.2} {y:.2} l S");
    }
}

/// `text` broken into lines that fit `width` at `size` (Helvetica's
/// average letter is about half its size wide), at spaces where it can.
pub fn wrap(text: &str, width: f32, size: f32) -> Vec<String> {
    let max = ((width / (size * 0.5)) as usize).max(10);
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            // A word longer than a line is cut into lines of its own.
            let chars: Vec<char> = word.chars().collect();
            let mut pieces = chars.chunks(max).peekable();
            while let Some(piece) = pieces.next() {
                let piece: String = piece.iter().collect();
                let last = pieces.peek().is_none();
                if !line.is_empty()
                    && (!last || line.chars().count() + 1 + piece.chars().count() > max)
                {
                    lines.push(std::mem::take(&mut line));
                }
                if last {
                    if !line.is_empty() {
                        line.push(' ');
                    }
                    line.push_str(&piece);
                } else {
                    lines.push(piece);
                }
            }
        }
        lines.push(line);
    }
    lines
}

/// `text` as a PDF string's bytes in WinAnsiEncoding, `(`, `)` and `\` escaped.
fn win_ansi_escaped(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let b = match c {
            '(' | ')' | '\\' => {
                out.push(b'\\');
                c as u8
            }
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '\t' => b' ',
            _ => b'?',
        };
        out.push(b);
    }
    out
}

/// A PDF file being written page by page.
pub struct Writer<W: Write + Seek> {
    out: BufWriter<W>,
    offsets: Vec<u64>,
    pages: Vec<u32>,
    written: u64,
}

/// Objects 1 and 2 are the catalog and the page tree, 3 and 4 the fonts;
/// they are written last (the tree lists every page) or first.
const CATALOG: u32 = 1;
const PAGES: u32 = 2;

impl<W: Write + Seek> Writer<W> {
    pub fn new(out: W) -> io::Result<Writer<W>> {
        let mut w = Writer {
            out: BufWriter::new(out),
            offsets: vec![0; 4],
            pages: Vec::new(),
            written: 0,
        };
        w.raw(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")?;
        w.object(
            3,
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        )?;
        w.object(4, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")?;
        Ok(w)
    }

    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn object(&mut self, number: u32, body: &[u8]) -> io::Result<()> {
        let n = number as usize;
        if self.offsets.len() <= n {
            self.offsets.resize(n + 1, 0);
        }
        self.offsets[n] = self.written;
        self.raw(format!("{number} 0 obj\n").as_bytes())?;
        self.raw(body)?;
        self.raw(b"\nendobj\n")
    }

    fn next_number(&self) -> u32 {
        self.offsets.len() as u32
    }

    /// A page of `size` with `canvas` drawn on it.
    pub fn page(&mut self, size: (f32, f32), canvas: Canvas) -> io::Result<()> {
        let content = self.next_number();
        let mut stream = format!("<< /Length {} >>\nstream\n", canvas.ops.len()).into_bytes();
        stream.extend_from_slice(&canvas.ops);
        stream.extend_from_slice(b"\nendstream");
        self.object(content, &stream)?;
        let page = self.next_number();
        let body = format!(
            "<< /Type /Page /Parent {PAGES} 0 R /MediaBox [0 0 {:.2} {:.2}] \
             /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {content} 0 R >>",
            size.0, size.1
        );
        self.object(page, body.as_bytes())?;
        self.pages.push(page);
        Ok(())
    }

    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Write the page tree, the catalog and the cross-reference table.
    pub fn finish(mut self) -> io::Result<W> {
        let kids: Vec<String> = self.pages.iter().map(|p| format!("{p} 0 R")).collect();
        let tree = format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            self.pages.len()
        );
        self.object(PAGES, tree.as_bytes())?;
        self.object(
            CATALOG,
            format!("<< /Type /Catalog /Pages {PAGES} 0 R >>").as_bytes(),
        )?;
        let xref = self.written;
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", self.offsets.len());
        for offset in &self.offsets[1..] {
            table.push_str(&format!("{offset:010} 00000 n \n"));
        }
        table.push_str(&format!(
            "trailer\n<< /Size {} /Root {CATALOG} 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            self.offsets.len()
        ));
        self.raw(table.as_bytes())?;
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_text_is_written_in_win_ansi_and_strings_are_escaped() {
        assert_eq!(
            win_ansi_escaped("Grüße (ß) \\ €"),
            b"Gr\xfc\xdfe \\(\xdf\\) \\\\ \x80"
        );
        assert_eq!(win_ansi_escaped("日本"), b"??");
    }

    #[test]
    fn long_lines_wrap_at_spaces_and_long_words_are_cut() {
        let lines = wrap("eins zwei drei vier fünf", 60.0, 10.0);
        assert!(lines.iter().all(|l| l.chars().count() <= 12), "{lines:?}");
        assert_eq!(lines.join(" "), "eins zwei drei vier fünf");
        let long = "x".repeat(50);
        assert!(wrap(&long, 60.0, 10.0).iter().all(|l| l.len() <= 12));
    }

    #[test]
    fn a_written_file_opens_in_poppler_with_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.pdf");
        let mut w = Writer::new(std::fs::File::create(&path).unwrap()).unwrap();
        let mut c = Canvas::default();
        c.text(Font::Bold, 14.0, 50.0, 780.0, "Aktenauszug für Müller");
        c.invisible(A4.0, A4.1, "unsichtbarer Text Deichgraf");
        w.page(A4, c).unwrap();
        w.page((300.0, 400.0), Canvas::default()).unwrap();
        w.finish().unwrap();
        let info = std::process::Command::new("pdfinfo")
            .arg(&path)
            .output()
            .unwrap();
        let info = String::from_utf8_lossy(&info.stdout);
        assert!(
            info.lines()
                .any(|l| l.starts_with("Pages:") && l.trim_end().ends_with(" 2")),
            "{info}"
        );
        let text = std::process::Command::new("pdftotext")
            .arg(&path)
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(
            text.contains("Aktenauszug für Müller") && text.contains("Deichgraf"),
            "{text}"
        );
    }
}
