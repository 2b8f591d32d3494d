//! Text from outside (file names of scans and attachments, titles, page text)
//! made safe to store and to print.
//!
//! A file name is whatever a scanner, an e-mail or a caller made of it: CR/LF
//! that split a log line or a header, `../` that points elsewhere, escape
//! sequences that rewrite a terminal, right-to-left overrides that turn
//! `rechnung<U+202E>fdp.exe` into `rechnungexe.pdf` on screen, 5,000 characters. What eakte stores
//! as a document's name is the cleaned form ([`file_name`]); the name as it
//! came is kept escaped in the arrival's record ([`escaped`]).

use std::borrow::Cow;
use std::fmt::Write;

/// Longest stored name, in bytes (what file systems allow for one name).
pub const MAX_NAME_BYTES: usize = 255;
/// Longest escaped original kept for the record, in characters.
const MAX_ESCAPED_CHARS: usize = 1024;
/// The name of a document whose name was nothing but what was removed.
pub const NO_NAME: &str = "ohne Namen";

/// Characters that control a terminal or the direction of text rather than
/// being text: C0 and C1 controls, DEL, and the bidirectional overrides and
/// isolates.
fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `raw` as a document's name: its last path part (after `/` or `\`), without
/// control characters, trimmed, at most [`MAX_NAME_BYTES`] bytes (cut at a
/// character, keeping a short extension), and never empty, `.` or `..`.
pub fn file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !is_control(*c)).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return NO_NAME.to_string();
    }
    if cleaned.len() <= MAX_NAME_BYTES {
        return cleaned.to_string();
    }
    let extension = cleaned
        .rfind('.')
        .map(|dot| &cleaned[dot..])
        .filter(|ext| ext.len() <= 10);
    let room = MAX_NAME_BYTES - extension.map_or(0, str::len);
    let mut cut = room;
    while !cleaned.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}{}",
        cleaned[..cut].trim_end(),
        extension.unwrap_or_default()
    )
}

/// `raw` with every control character written as an escape (`\n`,
/// `\u{1b}`), cut after [`MAX_ESCAPED_CHARS`] characters: for the record of
/// what arrived, readable and harmless wherever it is shown.
pub fn escaped(raw: &str) -> String {
    let mut out = String::new();
    for (n, c) in raw.chars().enumerate() {
        if n == MAX_ESCAPED_CHARS {
            out.push('…');
            break;
        }
        if is_control(c) || c == '\\' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `line` as the command line prints it: control characters other than
/// line breaks and tabs (which page texts have) escaped, so that a name or a
/// page's text cannot move the cursor, change colours or the window title.
pub fn printable(line: &str) -> Cow<'_, str> {
    let harmful = |c: char| is_control(c) && c != '\n' && c != '\t';
    if !line.chars().any(harmful) {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 8);
    for c in line.chars() {
        if harmful(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_controls_and_length() {
        assert_eq!(file_name("../../etc/passwd"), "passwd");
        assert_eq!(file_name("C:\\Scans\\brief.pdf"), "brief.pdf");
        assert_eq!(
            file_name("Brief\r\nX-Injected: 1.pdf"),
            "BriefX-Injected: 1.pdf"
        );
        assert_eq!(file_name("\u{1b}]0;pwned\u{7}a.png"), "]0;pwneda.png");
        assert_eq!(file_name("rechnung\u{202e}fdp.exe"), "rechnungfdp.exe");
        assert_eq!(file_name(".."), NO_NAME);
        assert_eq!(file_name("a/"), NO_NAME);
        assert_eq!(file_name("  \u{0}  "), NO_NAME);
        assert_eq!(file_name("Bescheid Müller.pdf"), "Bescheid Müller.pdf");
        let long = format!("{}.pdf", "ä".repeat(3000));
        let name = file_name(&long);
        assert!(name.len() <= MAX_NAME_BYTES, "{}", name.len());
        assert!(name.ends_with("ää.pdf"), "{name}");
    }

    #[test]
    fn the_original_is_kept_escaped() {
        assert_eq!(escaped("a\r\nb\\c\u{1b}"), "a\\r\\nb\\\\c\\u{1b}");
        assert_eq!(
            escaped(&"x".repeat(5000)).chars().count(),
            MAX_ESCAPED_CHARS + 1
        );
    }

    #[test]
    fn printing_escapes_terminal_controls_but_keeps_lines() {
        assert!(matches!(printable("Seite 1\n\tText"), Cow::Borrowed(_)));
        assert_eq!(
            printable("\u{1b}[2J\u{1b}]0;x\u{7}"),
            "\\u{1b}[2J\\u{1b}]0;x\\u{7}"
        );
        assert_eq!(printable("a\rb\u{9b}c"), "a\\u{d}b\\u{9b}c");
    }
}
