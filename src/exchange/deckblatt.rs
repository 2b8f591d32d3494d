//! The return cover sheet (Deckblatt) as a one-page PDF: what a caseworker
//! sends with a letter so that the answer routes itself. The recipient puts it
//! on top of their answer; the scan office scans it with the rest; eakte reads
//! its QR code ([`crate::model::CoverCode`]) and files the answer to the BG
//! with certainty, whatever OCR makes of the letter.
//!
//! The layout follows a window envelope (DIN 5008 form B): the address in the
//! window, the QR code large (48 mm, error correction level Q) at the top right
//! where no address, fold or staple reaches it, and the code once more in
//! plain text for a person to check. The words are the recipient's.

use super::pdf::writer::{Canvas, Font, Writer, A4};
use qrcode::{Color, EcLevel, QrCode};

/// What the sheet says.
pub struct Deckblatt {
    /// The issuing jobcenter's name.
    pub jobcenter: String,
    /// Name, street, postcode and town: the address block, line by line.
    pub address: Vec<String>,
    pub bg: String,
    /// The item the answer continues, as its number.
    pub item: Option<u64>,
    /// The day it was made, as people read it (TT.MM.JJJJ).
    pub day: String,
    /// The QR code's text.
    pub code: String,
}

const MM: f32 = 72.0 / 25.4;

/// The sheet as PDF bytes.
pub fn pdf(sheet: &Deckblatt) -> std::io::Result<Vec<u8>> {
    let mut c = Canvas::default();
    let top = A4.1;
    c.text(
        Font::Regular,
        10.0,
        25.0 * MM,
        top - 20.0 * MM,
        &sheet.jobcenter,
    );
    // The address window of a DIN 5008 form B letter: 20 mm from the left,
    // 45 mm from the top.
    let mut y = top - 50.0 * MM;
    for line in &sheet.address {
        c.text(Font::Regular, 11.0, 25.0 * MM, y, line);
        y -= 5.0 * MM;
    }
    qr(&mut c, &sheet.code, 140.0 * MM, top - 45.0 * MM, 48.0 * MM)?;

    let mut y = top - 110.0 * MM;
    c.text(Font::Bold, 20.0, 25.0 * MM, y, "Deckblatt für Ihre Antwort");
    y -= 14.0 * MM;
    for line in [
        "Bitte legen Sie dieses Blatt Ihrer Antwort oben auf.",
        "So erreicht Ihre Post sofort die richtige Stelle.",
        "Bitte das Blatt nicht beschreiben und den Code nicht knicken.",
    ] {
        c.text(Font::Regular, 13.0, 25.0 * MM, y, line);
        y -= 7.0 * MM;
    }
    y -= 8.0 * MM;
    let mut row = |label: &str, value: &str, y: &mut f32| {
        c.text(Font::Bold, 12.0, 25.0 * MM, *y, label);
        c.text(Font::Regular, 12.0, 75.0 * MM, *y, value);
        *y -= 7.0 * MM;
    };
    row("BG-Nummer", &sheet.bg, &mut y);
    if let Some(item) = sheet.item {
        row("Vorgang", &item.to_string(), &mut y);
    }
    row("Ausgestellt am", &sheet.day, &mut y);
    c.rule(25.0 * MM, A4.0 - 25.0 * MM, 30.0 * MM);
    c.text(Font::Regular, 7.0, 25.0 * MM, 25.0 * MM, &sheet.code);
    c.text(
        Font::Regular,
        7.0,
        25.0 * MM,
        21.0 * MM,
        "Nur echt mit gültigem Prüfwert. Ein verändertes Blatt wird von Hand zugeordnet.",
    );

    let mut w = Writer::new(std::io::Cursor::new(Vec::new()))?;
    w.page(A4, c)?;
    Ok(w.finish()?.into_inner())
}

/// Draw the QR code of `text`, `size` wide, its top left at (`x`, `top`).
fn qr(c: &mut Canvas, text: &str, x: f32, top: f32, size: f32) -> std::io::Result<()> {
    // Level Q: a quarter of the code may be smudged, stamped or torn.
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q)
        .map_err(|e| std::io::Error::other(format!("QR code: {e}")))?;
    let modules = code.width();
    let colors = code.to_colors();
    let module = size / modules as f32;
    // One rectangle per run of dark modules in a row: no seams between
    // neighbours when the page is rasterised.
    for (row, line) in colors.chunks(modules).enumerate() {
        let mut col = 0;
        while col < modules {
            if line[col] != Color::Dark {
                col += 1;
                continue;
            }
            let start = col;
            while col < modules && line[col] == Color::Dark {
                col += 1;
            }
            let y = top - (row as f32 + 1.0) * module;
            c.fill(
                x + start as f32 * module,
                y,
                (col - start) as f32 * module,
                module,
            );
        }
    }
    Ok(())
}
