//! Separator sheets and codes drawn as PDF content, for the batch tests and
//! benchmark: a Patch T, Code 39 and QR codes, on A4 pages of
//! [`super::scanmaker::drawn_pdf`].

/// PDF points per millimetre.
const MM: f64 = 72.0 / 25.4;

/// Code 39: per character, its nine elements (bar, space, bar, … bar), 1 = wide.
const CODE39: &[(char, &str)] = &[
    ('0', "000110100"),
    ('1', "100100001"),
    ('2', "001100001"),
    ('3', "101100000"),
    ('4', "000110001"),
    ('5', "100110000"),
    ('6', "001110000"),
    ('7', "000100101"),
    ('8', "100100100"),
    ('9', "001100100"),
    ('A', "100001001"),
    ('B', "001001001"),
    ('C', "101001000"),
    ('D', "000011001"),
    ('E', "100011000"),
    ('F', "001011000"),
    ('G', "000001101"),
    ('H', "100001100"),
    ('I', "001001100"),
    ('J', "000011100"),
    ('K', "100000011"),
    ('L', "001000011"),
    ('M', "101000010"),
    ('N', "000010011"),
    ('O', "100010010"),
    ('P', "001010010"),
    ('Q', "000000111"),
    ('R', "100000110"),
    ('S', "001000110"),
    ('T', "000010110"),
    ('U', "110000001"),
    ('V', "011000001"),
    ('W', "111000000"),
    ('X', "010010001"),
    ('Y', "110010000"),
    ('Z', "011010000"),
    ('-', "010000101"),
    ('.', "110000100"),
    (' ', "011000100"),
    ('*', "010010100"),
];

/// A Code 39 barcode of `text` (upper case, digits), `narrow` mm per narrow
/// element (wide = 2.5 narrow), `height` mm high, from (`x`, `y`) mm (bottom left).
pub fn code39(text: &str, x: f64, y: f64, narrow: f64, height: f64) -> String {
    let mut out = String::from("0 g\n");
    let mut at = x * MM;
    let (narrow, wide) = (narrow * MM, narrow * 2.5 * MM);
    for ch in format!("*{text}*").chars() {
        let pattern = CODE39
            .iter()
            .find(|(c, _)| *c == ch)
            .unwrap_or_else(|| panic!("{ch:?} is not in Code 39"))
            .1;
        for (i, element) in pattern.chars().enumerate() {
            let width = if element == '1' { wide } else { narrow };
            if i % 2 == 0 {
                out.push_str(&format!(
                    "{at:.2} {:.2} {width:.2} {:.2} re f\n",
                    y * MM,
                    height * MM
                ));
            }
            at += width;
        }
        at += narrow; // the gap between characters
    }
    out
}

/// A Patch T along the left edge: bars wide, narrow, wide, narrow (5 and 2 mm,
/// 2 mm apart) from 20 mm in, `length` mm long, as on Kodak's sheets.
pub fn patch_t(length: f64) -> String {
    bars(&[5.0, 2.0, 5.0, 2.0], length)
}

/// A Patch 2 (wide, narrow, narrow, wide): a patch code, but not a separator
/// for eakte.
pub fn patch_2(length: f64) -> String {
    bars(&[5.0, 2.0, 2.0, 5.0], length)
}

fn bars(widths: &[f64], length: f64) -> String {
    let mut out = String::from("0 g\n");
    let mut x = 20.0;
    let y = (297.0 - length) / 2.0;
    for w in widths {
        out.push_str(&format!(
            "{:.2} {:.2} {:.2} {:.2} re f\n",
            x * MM,
            y * MM,
            w * MM,
            length * MM
        ));
        x += w + 2.0;
    }
    out
}

/// A QR code of `text`, `size` mm wide, its bottom left at (`x`, `y`) mm.
pub fn qr(text: &str, x: f64, y: f64, size: f64) -> String {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let n = code.width();
    let module = size * MM / n as f64;
    let mut out = String::from("0 g\n");
    for (row, line) in code.to_colors().chunks(n).enumerate() {
        for (col, colour) in line.iter().enumerate() {
            if *colour == qrcode::Color::Dark {
                let top = (y + size) * MM - (row as f64 + 1.0) * module;
                out.push_str(&format!(
                    "{:.2} {top:.2} {module:.2} {module:.2} re f\n",
                    x * MM + col as f64 * module
                ));
            }
        }
    }
    out
}

/// The words a separator sheet carries for the people who handle it.
pub fn sheet_text(title: &str) -> String {
    format!(
        "0 g BT /F1 28 Tf {:.1} {:.1} Td ({title}) Tj ET\n",
        60.0 * MM,
        200.0 * MM
    )
}
