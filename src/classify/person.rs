//! Recognising the sender of a letter without a number: a registry person whose
//! first name and surname stand together in the text, followed closely by their
//! birth date or their address (street with house number, and postcode), as in a
//! sender block. A name alone is never enough (namesakes are common), and the
//! proof must belong to that mention of the name, not to someone else named in
//! the same letter.

use crate::model::Person;
use crate::registry::names::{fold, spellings};
use crate::registry::Registry;
use jiff::civil::Date;
use regex::Regex;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Given names allowed between first name and surname ("Jens Peter Petersen").
const MIDDLE_NAMES: usize = 1;
/// How many words after a name its birth date or address may start.
const PROOF_WINDOW: usize = 12;

/// What made a person match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    BirthDate,
    Address,
}

/// A registry person found in the text.
#[derive(Debug, Clone)]
pub struct NameMatch<'r> {
    pub person: &'r Person,
    /// `None`: the name only, which is not enough to assign the letter.
    pub proof: Option<Proof>,
}

/// A letter split into folded words, with where each starts in the text.
struct Words {
    folded: Vec<String>,
    starts: Vec<usize>,
    at: HashMap<String, Vec<usize>>,
}

impl Words {
    /// Words are letters and digits, with hyphens inside (`Petersen-Hansen`).
    fn new(text: &str) -> Words {
        let (mut folded, mut starts) = (Vec::new(), Vec::new());
        let mut current: Option<usize> = None;
        let is_word = |c: char| c.is_alphanumeric() || c == '-';
        for (i, c) in text
            .char_indices()
            .chain(std::iter::once((text.len(), ' ')))
        {
            match (current, is_word(c)) {
                (None, true) => current = Some(i),
                (Some(start), false) => {
                    let word = fold(&text[start..i]);
                    if !word.is_empty() {
                        folded.push(word);
                        starts.push(start);
                    }
                    current = None;
                }
                _ => {}
            }
        }
        let mut at: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, w) in folded.iter().enumerate() {
            at.entry(w.clone()).or_default().push(i);
        }
        Words { folded, starts, at }
    }

    /// The index of the word that contains byte offset `offset` (or follows it).
    fn index_at(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s < offset)
    }

    fn matches(&self, i: usize, spellings: &[String]) -> bool {
        self.folded.get(i).is_some_and(|w| spellings.contains(w))
    }
}

/// Every registry person whose name appears in `text`, with proof if the
/// birth date or address follows that name.
pub fn find<'r>(text: &str, registry: &'r Registry) -> Vec<NameMatch<'r>> {
    let words = Words::new(text);
    let dates: Vec<(usize, Date)> = dates_in(text)
        .into_iter()
        .map(|(offset, date)| (words.index_at(offset), date))
        .collect();
    let mut out = Vec::new();
    for person in registry.persons() {
        let mentions = name_mentions(person, &words);
        if mentions.is_empty() {
            continue;
        }
        let near = |end: usize, at: usize| at >= end && at < end + PROOF_WINDOW;
        let born = mentions.iter().any(|&end| {
            dates
                .iter()
                .any(|&(at, d)| near(end, at) && d == person.geburtsdatum)
        });
        let lives = || {
            mentions
                .iter()
                .any(|&end| address_follows(person, &words, end))
        };
        let proof = if born {
            Some(Proof::BirthDate)
        } else if lives() {
            Some(Proof::Address)
        } else {
            None
        };
        out.push(NameMatch { person, proof });
    }
    out
}

/// Where the mentions of a person's name end (index of the next word): the
/// surname (all its words) with the first given name just before it ("Jens
/// Petersen", "Jens Peter Petersen") or just after it ("Petersen, Jens").
fn name_mentions(person: &Person, words: &Words) -> Vec<usize> {
    let surname: Vec<Vec<String>> = person.nachname.split_whitespace().map(spellings).collect();
    let Some(first_name) = person.vorname.split_whitespace().next().map(spellings) else {
        return Vec::new();
    };
    let Some(first_word) = surname.first() else {
        return Vec::new();
    };
    let starts = first_word
        .iter()
        .flat_map(|s| words.at.get(s).into_iter().flatten().copied());
    starts
        .filter(|&at| {
            surname
                .iter()
                .enumerate()
                .all(|(k, spelling)| words.matches(at + k, spelling))
        })
        .filter_map(|at| {
            let end = at + surname.len();
            let before =
                (at.saturating_sub(MIDDLE_NAMES + 1)..at).any(|i| words.matches(i, &first_name));
            let after = words.matches(end, &first_name);
            match (before, after) {
                (_, true) => Some(end + 1),
                (true, false) => Some(end),
                (false, false) => None,
            }
        })
        .collect()
}

/// The person's street with house number, then their postcode, right after a
/// mention of their name.
fn address_follows(person: &Person, words: &Words, end: usize) -> bool {
    let street: Vec<String> = person
        .strasse
        .split_whitespace()
        .map(|w| street_word(&fold(w)))
        .collect();
    let has_number = street.iter().any(|w| w.chars().any(|c| c.is_ascii_digit()));
    if street.is_empty() || !has_number || person.plz.is_empty() {
        return false; // a street without a house number proves little
    }
    let folded: Vec<String> = words.folded.iter().map(|w| street_word(w)).collect();
    (end..(end + PROOF_WINDOW).min(folded.len())).any(|at| {
        let after_street = at + street.len();
        folded
            .get(at..after_street)
            .is_some_and(|run| run == street.as_slice())
            && folded
                .get(after_street..(after_street + 4).min(folded.len()))
                .is_some_and(|rest| rest.contains(&person.plz))
    })
}

/// "Norderstraße", "Norderstrasse" and "Norderstr." are one street.
fn street_word(w: &str) -> String {
    match w.strip_suffix("strasse") {
        Some(stem) => format!("{stem}str"),
        None => w.to_string(),
    }
}

/// Birth dates the letter declares ("geb. 04.03.1980", "geboren am 4.3.1980").
pub fn declared_birth_dates(text: &str) -> Vec<Date> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"(?i)\b(geb\.|geboren(\s+am)?|geburtsdatum:?)\s*(\d{1,2}\.\s?\d{1,2}\.\s?\d{4})",
        )
        .expect("valid")
    });
    re.captures_iter(text)
        .filter_map(|c| dates_in(&c[3]).into_iter().next().map(|(_, d)| d))
        .collect()
}

/// Dates written `14.11.2026`, `4.3.1980`, `14. November 1980` or `1980-11-14`,
/// with the byte offset where each starts.
fn dates_in(text: &str) -> Vec<(usize, Date)> {
    static NUMERIC: OnceLock<Regex> = OnceLock::new();
    static ISO: OnceLock<Regex> = OnceLock::new();
    static WORDS: OnceLock<Regex> = OnceLock::new();
    let numeric = NUMERIC
        .get_or_init(|| Regex::new(r"\b(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})\b").expect("valid"));
    let iso = ISO.get_or_init(|| Regex::new(r"\b(\d{4})-(\d{2})-(\d{2})\b").expect("valid"));
    let words = WORDS.get_or_init(|| {
        Regex::new(r"(?i)\b(\d{1,2})\.\s?(januar|februar|märz|maerz|april|mai|juni|juli|august|september|oktober|november|dezember)\s(\d{4})\b")
            .expect("valid")
    });
    let mut out = Vec::new();
    let num = |s: &str| s.parse::<i32>().ok();
    for c in numeric.captures_iter(text) {
        out.extend(
            date(num(&c[3]), num(&c[2]), num(&c[1]))
                .map(|d| (c.get(0).map_or(0, |m| m.start()), d)),
        );
    }
    for c in iso.captures_iter(text) {
        out.extend(
            date(num(&c[1]), num(&c[2]), num(&c[3]))
                .map(|d| (c.get(0).map_or(0, |m| m.start()), d)),
        );
    }
    for c in words.captures_iter(text) {
        let month = match &c[2].to_lowercase()[..3] {
            "jan" => 1,
            "feb" => 2,
            "mär" | "mae" => 3,
            "apr" => 4,
            "mai" => 5,
            "jun" => 6,
            "jul" => 7,
            "aug" => 8,
            "sep" => 9,
            "okt" => 10,
            "nov" => 11,
            _ => 12,
        };
        out.extend(
            date(num(&c[3]), Some(month), num(&c[1]))
                .map(|d| (c.get(0).map_or(0, |m| m.start()), d)),
        );
    }
    out
}

fn date(year: Option<i32>, month: Option<i32>, day: Option<i32>) -> Option<Date> {
    let narrow = |n: Option<i32>| n.and_then(|n| i8::try_from(n).ok());
    Date::new(i16::try_from(year?).ok()?, narrow(month)?, narrow(day)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_german_letters() {
        let d = jiff::civil::date;
        let found: Vec<Date> = dates_in(
            "geb. am 04.03.1980, Schreiben vom 14. November 2026 und 2026-11-02; 31.02.2020",
        )
        .into_iter()
        .map(|(_, d)| d)
        .collect();
        assert!(found.contains(&d(1980, 3, 4)));
        assert!(found.contains(&d(2026, 11, 14)));
        assert!(found.contains(&d(2026, 11, 2)));
        assert_eq!(found.len(), 3, "31 February is no date: {found:?}");
        assert_eq!(
            declared_birth_dates("Lars, geb. 01.01.2000, und Jens"),
            vec![d(2000, 1, 1)]
        );
        assert!(declared_birth_dates("Schreiben vom 01.01.2000").is_empty());
    }

    #[test]
    fn streets_in_any_spelling() {
        assert_eq!(
            street_word(&fold("Norderstraße")),
            street_word(&fold("Norderstr"))
        );
        assert_eq!(street_word(&fold("Norderstrasse")), "norderstr");
    }

    #[test]
    fn words_keep_hyphenated_names_whole() {
        let w = Words::new("Anke Petersen-Hansen, Norderstr. 12");
        assert_eq!(w.folded, vec!["anke", "petersenhansen", "norderstr", "12"]);
        assert_eq!(w.index_at(w.starts[2]), 2);
    }
}
