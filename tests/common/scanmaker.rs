//! Scans of German letters, made at test time.
//!
//! A letter is written as a small born-digital PDF (Helvetica, WinAnsi encoding, so
//! umlauts and ß are real characters in its text layer). For "scans", poppler's
//! `pdftoppm` (already a runtime dependency of eakte) rasterises it; a pose drawn
//! into the PDF makes the page skewed, upside down or sideways before rasterising,
//! exactly as a crooked sheet on a scanner glass would be. Rasters become PNG,
//! JPEG, multi-page bilevel TIFF (with salt-and-pepper noise) or an image-only PDF.

use std::path::Path;
use std::process::Command;

const A4: (f64, f64) = (595.0, 842.0);

/// How the sheet lay on the scanner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pose {
    Upright,
    /// Rotated by this many degrees counter-clockwise (a crooked sheet).
    Skewed(f64),
    UpsideDown,
    /// Portrait letter scanned as a landscape page, turned a quarter.
    Sideways,
}

/// A raster format the scan office's scanners produce.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Raster {
    Png,
    Jpeg,
}

/// A born-digital PDF with one page per entry of `pages` (lines of text).
pub fn text_pdf(pages: &[Vec<String>], pose: Pose) -> Vec<u8> {
    let landscape = pose == Pose::Sideways;
    let (w, h) = if landscape { (A4.1, A4.0) } else { A4 };
    let mut pdf = PdfWriter::new();
    let font = pdf.add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    for lines in pages {
        let mut content = format!("q {} cm ", pose_matrix(pose)).into_bytes();
        content.extend(text_content(lines));
        content.extend_from_slice(b"Q");
        let resources = format!("/Font << /F1 {font} 0 R >>");
        pdf.add_page(w, h, &resources, content);
    }
    pdf.finish()
}

/// A born-digital A4 page set in two columns, `left` and `right` (lines of up to
/// ~38 characters), as two-column Bescheide and forms are: the columns' lines sit
/// side by side, so a reader going straight across would interleave them.
pub fn two_column_pdf(left: &[String], right: &[String]) -> Vec<u8> {
    let mut content = text_at(60, 760, 11, left);
    content.extend(text_at(320, 760, 11, right));
    drawn_pdf(&[content])
}

/// A two-column Bescheid (the amount on the left, the legal remedy on the
/// right) and its ground truth, left column first.
pub fn two_column_bescheid() -> (Vec<u8>, String) {
    let lines = |text: &str| -> Vec<String> {
        let mut out = vec![String::new()];
        for word in text.split_whitespace() {
            if out.last().unwrap().len() + word.len() > 34 {
                out.push(String::new());
            }
            let line = out.last_mut().unwrap();
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out
    };
    let left = "Für den Bewilligungszeitraum vom 01.12.2026 bis zum 30.11.2027 \
                werden Ihnen Leistungen zur Sicherung des Lebensunterhalts in \
                Höhe von monatlich 1.234,56 Euro bewilligt. Der Regelbedarf ist \
                nach der Anlage berechnet, die Kosten der Unterkunft nach der \
                Mietbescheinigung Ihres Vermieters vom Oktober.";
    let right = "Gegen diesen Bescheid kann innerhalb eines Monats nach seiner \
                 Bekanntgabe Widerspruch erhoben werden. Der Widerspruch ist \
                 schriftlich oder zur Niederschrift beim Jobcenter Kreis \
                 Nordfriesland in Husum einzulegen. Bitte geben Sie dabei Ihre \
                 Nummer der Bedarfsgemeinschaft an.";
    (
        two_column_pdf(&lines(left), &lines(right)),
        format!("{left} {right}"),
    )
}

/// A born-digital A4 PDF with one page per entry of `contents`, each a raw PDF
/// content stream (Helvetica is `/F1`): for pages a test draws itself, such as
/// punch holes, bleed-through or a handwritten line.
pub fn drawn_pdf(contents: &[Vec<u8>]) -> Vec<u8> {
    let mut pdf = PdfWriter::new();
    let font = pdf.add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    for content in contents {
        let resources = format!("/Font << /F1 {font} 0 R >>");
        pdf.add_page(A4.0, A4.1, &resources, content.clone());
    }
    pdf.finish()
}

/// PDF content that writes `lines` from the top left, 13 pt Helvetica (`/F1`).
pub fn text_content(lines: &[String]) -> Vec<u8> {
    text_at(60, 780, 13, lines)
}

/// PDF content that writes `lines` in `size` pt Helvetica (`/F1`) from `(x, y)`.
fn text_at(x: u32, y: u32, size: u32, lines: &[String]) -> Vec<u8> {
    let leading = size * 18 / 13;
    let mut content = format!("BT /F1 {size} Tf {leading} TL {x} {y} Td\n").into_bytes();
    for line in lines {
        content.extend_from_slice(b"(");
        content.extend(pdf_string(line));
        content.extend_from_slice(b") Tj T*\n");
    }
    content.extend_from_slice(b"ET\n");
    content
}

/// An image-only PDF (what a scanner that "scans to PDF" writes): each page one
/// JPEG filling an A4 page.
pub fn scanned_pdf(jpegs: &[Vec<u8>]) -> Vec<u8> {
    scanned_pdf_turned(jpegs, 0.0)
}

/// Like [`scanned_pdf`], each image turned by `degrees` counter-clockwise
/// about the page's centre: a sheet that went through the feeder crooked.
pub fn scanned_pdf_turned(jpegs: &[Vec<u8>], degrees: f64) -> Vec<u8> {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (A4.0 / 2.0, A4.1 / 2.0);
    // Translate to the centre, turn, translate back.
    let turn = format!(
        "{cos:.5} {sin:.5} {:.5} {cos:.5} {:.3} {:.3} cm",
        -sin,
        cx - cos * cx + sin * cy,
        cy - sin * cx - cos * cy
    );
    let mut pdf = PdfWriter::new();
    for jpeg in jpegs {
        let (w, h) = jpeg_size(jpeg);
        let colours = if jpeg_components(jpeg) == 1 {
            "/DeviceGray"
        } else {
            "/DeviceRGB"
        };
        let mut image = format!(
            "<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace {colours} \
             /BitsPerComponent 8 /Filter /DCTDecode /Length {} >>\nstream\n",
            jpeg.len()
        )
        .into_bytes();
        image.extend_from_slice(jpeg);
        image.extend_from_slice(b"\nendstream");
        let im = pdf.add(image);
        let content = format!("q {turn} {} 0 0 {} 0 0 cm /Im1 Do Q", A4.0, A4.1).into_bytes();
        pdf.add_page(
            A4.0,
            A4.1,
            &format!("/XObject << /Im1 {im} 0 R >>"),
            content,
        );
    }
    pdf.finish()
}

/// Rasterise every page of `pdf` at `dpi` in shades of grey.
pub fn rasterise(pdf: &[u8], dpi: u32, format: Raster) -> Vec<Vec<u8>> {
    let flag = match format {
        Raster::Png => "-png",
        Raster::Jpeg => "-jpeg",
    };
    render(pdf, &["-r", &dpi.to_string(), "-gray", flag])
}

/// Rasterise every page of `pdf` at `dpi` to black and white (PBM).
fn rasterise_mono(pdf: &[u8], dpi: u32) -> Vec<Vec<u8>> {
    render(pdf, &["-r", &dpi.to_string(), "-mono"])
}

fn render(pdf: &[u8], args: &[&str]) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.pdf");
    std::fs::write(&input, pdf).unwrap();
    let status = Command::new("pdftoppm")
        .args(args)
        .arg(&input)
        .arg(dir.path().join("page"))
        .status()
        .unwrap();
    assert!(status.success(), "pdftoppm failed");
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("page"))
        .collect();
    pages.sort();
    pages.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// A multi-page, uncompressed, bilevel TIFF of the pages of `pdf` at `dpi`, with
/// `noise` (share of pixels flipped, e.g. 0.001) as a dusty scanner would add.
pub fn noisy_tiff(pdf: &[u8], dpi: u32, noise: f64) -> Vec<u8> {
    let mut rng = 0x2545F4914F6CDD1Du64;
    let pages: Vec<(u32, u32, Vec<u8>)> = rasterise_mono(pdf, dpi)
        .into_iter()
        .map(|pbm| {
            let (w, h, mut bits) = parse_pbm(&pbm);
            let flips = (w as f64 * h as f64 * noise) as usize;
            let row_bytes = (w as usize).div_ceil(8);
            for _ in 0..flips {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let (x, y) = ((rng % w as u64) as usize, ((rng >> 32) % h as u64) as usize);
                bits[y * row_bytes + x / 8] ^= 0x80 >> (x % 8);
            }
            (w, h, bits)
        })
        .collect();
    tiff_bilevel(&pages, dpi)
}

/// Parse a binary PBM (P4): width, height, packed rows (1 = black).
fn parse_pbm(pbm: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 3 {
        while pbm[i].is_ascii_whitespace() {
            i += 1;
        }
        if pbm[i] == b'#' {
            while pbm[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        while !pbm[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&pbm[start..i]).to_string());
    }
    assert_eq!(fields[0], "P4");
    (
        fields[1].parse().unwrap(),
        fields[2].parse().unwrap(),
        pbm[i + 1..].to_vec(),
    )
}

/// Little-endian TIFF, one uncompressed strip per page, WhiteIsZero (as PBM).
fn tiff_bilevel(pages: &[(u32, u32, Vec<u8>)], dpi: u32) -> Vec<u8> {
    let mut out = b"II*\0".to_vec();
    let first_ifd_at = out.len();
    out.extend_from_slice(&0u32.to_le_bytes());
    let mut link_at = first_ifd_at;
    for (w, h, bits) in pages {
        let strip = out.len() as u32;
        out.extend_from_slice(bits);
        let resolution = out.len() as u32;
        out.extend_from_slice(&dpi.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        if out.len() % 2 == 1 {
            out.push(0);
        }
        let ifd = out.len() as u32;
        out[link_at..link_at + 4].copy_from_slice(&ifd.to_le_bytes());
        let entries: [(u16, u16, u32); 12] = [
            (256, 4, *w),
            (257, 4, *h),
            (258, 3, 1),
            (259, 3, 1),
            (262, 3, 0),
            (273, 4, strip),
            (277, 3, 1),
            (278, 4, *h),
            (279, 4, bits.len() as u32),
            (282, 5, resolution),
            (283, 5, resolution),
            (296, 3, 2),
        ];
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for (tag, typ, value) in entries {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&typ.to_le_bytes());
            out.extend_from_slice(&1u32.to_le_bytes());
            out.extend_from_slice(&value.to_le_bytes());
        }
        link_at = out.len();
        out.extend_from_slice(&0u32.to_le_bytes());
    }
    out
}

fn jpeg_size(jpeg: &[u8]) -> (u32, u32) {
    let info = eakte::extract::image::probe(eakte::model::FileKind::Jpeg, jpeg, 1).unwrap();
    info.pages[0]
}

/// Colour components of a baseline JPEG (pdftoppm writes RGB even for `-gray`).
fn jpeg_components(jpeg: &[u8]) -> u8 {
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline JPEG");
    jpeg[sof + 9]
}

/// The transformation that puts the page content in `pose`.
fn pose_matrix(pose: Pose) -> String {
    let around_centre = |degrees: f64| {
        let (s, c) = degrees.to_radians().sin_cos();
        let (cx, cy) = (A4.0 / 2.0, A4.1 / 2.0);
        format!(
            "{c:.5} {s:.5} {:.5} {c:.5} {:.3} {:.3}",
            -s,
            cx - c * cx + s * cy,
            cy - s * cx - c * cy
        )
    };
    match pose {
        Pose::Upright => "1 0 0 1 0 0".into(),
        Pose::Skewed(degrees) => around_centre(degrees),
        Pose::UpsideDown => around_centre(180.0),
        // (x, y) -> (842 - y, x): the portrait page turned onto a landscape one.
        Pose::Sideways => format!("0 1 -1 0 {} 0", A4.1),
    }
}

/// Text as a PDF literal string body in WinAnsiEncoding.
fn pdf_string(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for ch in text.chars() {
        let byte = match ch {
            '€' => 0x80,
            '„' => 0x84,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            c if (c as u32) < 0x100 => c as u32 as u8,
            _ => b'?',
        };
        if matches!(byte, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        out.push(byte);
    }
    out
}

/// Just enough of a PDF writer: numbered objects, a page tree, an xref table.
struct PdfWriter {
    objects: Vec<Vec<u8>>,
    kids: Vec<usize>,
}

impl PdfWriter {
    /// Objects 1 and 2 are the catalog and the page tree, written at the end.
    fn new() -> PdfWriter {
        PdfWriter {
            objects: vec![Vec::new(), Vec::new()],
            kids: Vec::new(),
        }
    }

    fn add(&mut self, body: Vec<u8>) -> usize {
        self.objects.push(body);
        self.objects.len()
    }

    fn add_page(&mut self, w: f64, h: f64, resources: &str, content: Vec<u8>) {
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend(content);
        stream.extend_from_slice(b"\nendstream");
        let content = self.add(stream);
        let page = self.add(
            format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] /Resources << {resources} >> /Contents {content} 0 R >>")
                .into_bytes(),
        );
        self.kids.push(page);
    }

    fn finish(mut self) -> Vec<u8> {
        self.objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>".to_vec();
        let kids: Vec<String> = self.kids.iter().map(|k| format!("{k} 0 R")).collect();
        self.objects[1] = format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            kids.len()
        )
        .into_bytes();
        let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in self.objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend(format!("{} 0 obj\n", i + 1).into_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend(
            format!("xref\n0 {}\n0000000000 65535 f \n", self.objects.len() + 1).into_bytes(),
        );
        for o in offsets {
            out.extend(format!("{o:010} 00000 n \n").into_bytes());
        }
        out.extend(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                self.objects.len() + 1
            )
            .into_bytes(),
        );
        out
    }
}

/// A German letter to a jobcenter with `marker`, a word found nowhere else, so a
/// test can tell its document from all others by searching for it.
pub fn letter(marker: &str, subject: &str) -> Vec<String> {
    [
        "Jens Petersen",
        "Norderstraße 12, 25813 Husum",
        "",
        "Jobcenter Kreis Nordfriesland",
        "Sozialzentrum Husum",
        "",
        "Husum, den 14.11.2026",
        "",
        subject,
        "",
        "Sehr geehrte Damen und Herren,",
        "hiermit lege ich Widerspruch gegen den Bescheid vom 02.11.2026 ein.",
        "Die Kosten der Unterkunft wurden nicht vollständig berücksichtigt.",
        &format!("Als Nachweis füge ich die Bescheinigung der {marker} bei."),
        "Bitte prüfen Sie die Heizkostenabrechnung für das Jahr 2025 erneut.",
        "",
        "Mit freundlichen Grüßen",
        "Jens Petersen",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// A born-digital letter to the jobcenter with `lines` under the address.
pub fn jobcenter_letter(lines: &[&str]) -> Vec<u8> {
    let mut text = vec![
        "An das Jobcenter Kreis Nordfriesland".to_string(),
        String::new(),
    ];
    text.extend(lines.iter().map(|l| l.to_string()));
    text_pdf(&[text], Pose::Upright)
}

/// Write `bytes` to `path`, creating parent folders.
pub fn put(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// An e-mail (RFC 5322) with a PDF attachment whose text holds `marker`.
pub fn email_with_pdf(marker: &str) -> Vec<u8> {
    let pdf = text_pdf(
        &[vec![format!("Mietbescheinigung mit dem Kennwort {marker}")]],
        Pose::Upright,
    );
    let encoded = base64(&pdf);
    format!(
        "From: Jens Petersen <jens@example.org>\r\nTo: jobcenter@kreis-nf.invalid\r\nSubject: Unterlagen Miete\r\n\
         Date: Thu, 26 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n\
         --XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAnbei die Mietbescheinigung, freundliche Grüße.\r\n\
         --XYZ\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"miete.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--XYZ--\r\n"
    )
    .into_bytes()
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out.as_bytes()
        .chunks(76)
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n")
}
