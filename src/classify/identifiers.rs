//! BG numbers and Kundennummern as they appear in letters, OCR errors included.
//!
//! A BG number is written `07450BG0160367`, `07450 BG 0160367` or `07450//0160367`,
//! often after a label ("BG-Nr.", "Nummer der Bedarfsgemeinschaft", "Ihr Zeichen");
//! a Kundennummer `123D456789`. OCR confuses O/0, I/l/1, B/8 and S/5, so each
//! candidate is kept as a [`Pattern`]: per position, the characters it may stand
//! for. A pattern read without confusions is verbatim; one with confusions is
//! accepted by the caller only if exactly one registry entry fits it.

use regex::Regex;
use std::sync::OnceLock;

/// A number found in the text, with what each position may mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The text as it stood in the letter.
    pub raw: String,
    /// A label seen just before it, e.g. "BG-Nr.".
    pub label: Option<String>,
    positions: Vec<Vec<char>>,
    /// Positions where the character read is not what it stands for.
    confusions: usize,
}

impl Pattern {
    /// True when OCR confusions had to be undone to read it as a number.
    pub fn corrected(&self) -> bool {
        self.confusions > 0
    }

    /// The single reading when no position was ambiguous.
    pub fn reading(&self) -> Option<String> {
        self.positions
            .iter()
            .map(|p| (p.len() == 1).then(|| p[0]))
            .collect()
    }

    /// Whether the canonical registry value `value` is one reading of this pattern.
    pub fn fits(&self, value: &str) -> bool {
        value.chars().count() == self.positions.len()
            && value
                .chars()
                .zip(&self.positions)
                .all(|(c, allowed)| allowed.contains(&c))
    }
}

/// Most OCR confusions tolerated in one number: more, and it is no number.
const MAX_CONFUSIONS: usize = 2;

const LABELS: &[&str] = &[
    "bg-nr",
    "bg nr",
    "bg-nummer",
    "nummer der bedarfsgemeinschaft",
    "ihr zeichen",
    "ihr aktenzeichen",
    "aktenzeichen",
    "kundennummer",
    "kunden-nr",
    "kd.-nr",
    "kd-nr",
];

/// BG number candidates in `text`.
pub fn bg_numbers(text: &str) -> Vec<Pattern> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"\b([0-9OoIlSB]{5})[ \t]?(BG|bg|Bg|8G|B6|//)[ \t]?([0-9OoIlSB]{7})\b")
            .expect("valid regex")
    });
    re.captures_iter(text)
        .filter_map(|c| {
            let (office, number) = (c.get(1)?.as_str(), c.get(3)?.as_str());
            let mut read: Vec<(char, Vec<char>)> = office.chars().map(|c| (c, digit(c))).collect();
            read.extend("BG".chars().map(|c| (c, vec![c])));
            read.extend(number.chars().map(|c| (c, digit(c))));
            let whole = c.get(0)?;
            pattern(whole.as_str(), label_before(text, whole.start()), read)
        })
        .collect()
}

/// Kundennummer candidates in `text`.
pub fn kundennummern(text: &str) -> Vec<Pattern> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"\b([0-9OoIlSB]{3})[ \t]?([A-Za-z0-9])[ \t]?([0-9OoIlSB]{6})\b")
            .expect("valid regex")
    });
    re.captures_iter(text)
        .filter_map(|c| {
            let (head, letter, tail) = (c.get(1)?.as_str(), c.get(2)?.as_str(), c.get(3)?.as_str());
            let mut read: Vec<(char, Vec<char>)> = head.chars().map(|c| (c, digit(c))).collect();
            let letter = letter.chars().next()?;
            read.push((letter.to_ascii_uppercase(), letter_position(letter)));
            read.extend(tail.chars().map(|c| (c, digit(c))));
            let whole = c.get(0)?;
            pattern(whole.as_str(), label_before(text, whole.start()), read)
        })
        .collect()
}

/// `read`: per position, the character as read and what it may stand for.
fn pattern(raw: &str, label: Option<String>, read: Vec<(char, Vec<char>)>) -> Option<Pattern> {
    let confusions = read
        .iter()
        .filter(|(c, allowed)| allowed.as_slice() != [*c])
        .count();
    let positions = read.into_iter().map(|(_, allowed)| allowed).collect();
    (confusions <= MAX_CONFUSIONS).then(|| Pattern {
        raw: raw.to_string(),
        label,
        positions,
        confusions,
    })
}

/// What a character in a digit position may be.
fn digit(c: char) -> Vec<char> {
    match c {
        '0'..='9' => vec![c],
        'O' | 'o' => vec!['0'],
        'I' | 'l' => vec!['1'],
        'B' => vec!['8'],
        'S' => vec!['5'],
        _ => vec![],
    }
}

/// What a character in the letter position of a Kundennummer may be.
fn letter_position(c: char) -> Vec<char> {
    match c {
        'a'..='z' | 'A'..='Z' => vec![c.to_ascii_uppercase()],
        '0' => vec!['O', 'D', 'Q'],
        '1' => vec!['I', 'L', 'T'],
        '2' => vec!['Z'],
        '5' => vec!['S'],
        '6' => vec!['G'],
        '8' => vec!['B'],
        _ => vec![],
    }
}

/// A known label in the 60 characters before `at`.
fn label_before(text: &str, at: usize) -> Option<String> {
    let mut start = at.saturating_sub(60);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let before = text[start..at].to_lowercase();
    LABELS
        .iter()
        .filter(|l| before.contains(*l))
        .max_by_key(|l| l.len())
        .map(|l| l.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bg_numbers_in_all_written_forms() {
        for text in [
            "BG-Nr.: 07450BG0160367",
            "Nummer der Bedarfsgemeinschaft 07450 BG 0160367.",
            "Ihr Zeichen: 07450//0160367",
        ] {
            let found = bg_numbers(text);
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(
                found[0].reading().as_deref(),
                Some("07450BG0160367"),
                "{text}"
            );
            assert!(found[0].label.is_some(), "{text}");
        }
    }

    #[test]
    fn ocr_confusions_become_alternatives() {
        let found = bg_numbers("BG-Nr. O745OBGOl6O367");
        assert_eq!(found.len(), 0, "five confusions are too many");
        let found = bg_numbers("BG-Nr. 07450BG0l6O367");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].reading().as_deref(), Some("07450BG0160367"));
        assert!(found[0].fits("07450BG0160367"));
        assert!(!found[0].fits("07450BG0160368"));
        let found = kundennummern("Kundennummer 1230456789");
        assert_eq!(found[0].reading(), None, "the letter position is ambiguous");
        assert!(found[0].corrected());
        assert!(found[0].fits("123D456789"));
        assert!(found[0].fits("123O456789"));
    }

    #[test]
    fn ordinary_numbers_are_not_identifiers() {
        assert!(bg_numbers("Telefon 04841 123456, IBAN DE12 3456").is_empty());
        assert!(
            bg_numbers("Telefon 07451/1234567").is_empty(),
            "a single slash is a phone number"
        );
        assert!(kundennummern("am 14.11.2026 um 10:30").is_empty());
    }
}
