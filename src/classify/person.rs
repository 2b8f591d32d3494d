//! Recognising the sender of a letter without a number: a registry person whose
//! first name and surname stand next to each other in the text, together with
//! their birth date or their address (street with house number and postcode).
//! A name alone is never enough: namesakes are common, and a letter routed to
//! the wrong caseworker is a data protection breach.

use crate::registry::names::fold;
use crate::registry::{Person, Registry};
use regex::Regex;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use time::{Date, Month};

/// Words between first name and surname ("Jens Peter Petersen", "Petersen, Jens").
const NAME_WINDOW: usize = 3;

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

/// Every registry person whose name appears in `text`, with the strongest proof.
pub fn find<'r>(text: &str, registry: &'r Registry) -> Vec<NameMatch<'r>> {
    let tokens: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(fold)
        .filter(|t| !t.is_empty())
        .collect();
    let mut positions: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, t) in tokens.iter().enumerate() {
        positions.entry(t.as_str()).or_default().push(i);
    }
    let dates = dates_in(text);
    let token_set: HashSet<&str> = tokens.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    for person in registry.persons() {
        if !name_appears(person, &tokens, &positions) {
            continue;
        }
        let proof = if dates.contains(&person.geburtsdatum) {
            Some(Proof::BirthDate)
        } else if address_appears(person, &tokens, &token_set) {
            Some(Proof::Address)
        } else {
            None
        };
        out.push(NameMatch { person, proof });
    }
    out
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .map(fold)
        .filter(|w| !w.is_empty())
        .collect()
}

/// The surname (all its words, in order) with the first given name within a few
/// words before or after it.
fn name_appears(person: &Person, tokens: &[String], positions: &HashMap<&str, Vec<usize>>) -> bool {
    let surname = words(&person.nachname);
    let Some(first_name) = words(&person.vorname).into_iter().next() else {
        return false;
    };
    let Some(first) = surname.first() else {
        return false;
    };
    let Some(starts) = positions.get(first.as_str()) else {
        return false;
    };
    starts.iter().any(|&at| {
        let end = at + surname.len();
        if tokens
            .get(at..end)
            .is_none_or(|run| run != surname.as_slice())
        {
            return false;
        }
        let lo = at.saturating_sub(NAME_WINDOW + 1);
        let hi = (end + NAME_WINDOW + 1).min(tokens.len());
        tokens[lo..at].contains(&first_name) || tokens[end..hi].contains(&first_name)
    })
}

/// Street words with house number in order, and the postcode anywhere.
fn address_appears(person: &Person, tokens: &[String], token_set: &HashSet<&str>) -> bool {
    let street = street_words(&person.strasse);
    if street.len() < 2 || !token_set.contains(person.plz.as_str()) {
        return false; // a street without a house number proves little
    }
    let tokens: Vec<String> = tokens.iter().map(|t| street_word(t)).collect();
    tokens.windows(street.len()).any(|w| w == street.as_slice())
}

fn street_words(street: &str) -> Vec<String> {
    words(street).iter().map(|w| street_word(w)).collect()
}

/// "Norderstraße", "Norderstrasse" and "Norderstr." are one street.
fn street_word(w: &str) -> String {
    match w.strip_suffix("strasse") {
        Some(stem) => format!("{stem}str"),
        None => w.to_string(),
    }
}

/// Dates written `14.11.2026`, `4.3.1980`, `14. November 1980` or `1980-11-14`.
fn dates_in(text: &str) -> HashSet<Date> {
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
    let mut out = HashSet::new();
    let num = |s: &str| s.parse::<i32>().ok();
    for c in numeric.captures_iter(text) {
        out.extend(date(num(&c[3]), num(&c[2]), num(&c[1])));
    }
    for c in iso.captures_iter(text) {
        out.extend(date(num(&c[1]), num(&c[2]), num(&c[3])));
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
        out.extend(date(num(&c[3]), Some(month), num(&c[1])));
    }
    out
}

fn date(year: Option<i32>, month: Option<i32>, day: Option<i32>) -> Option<Date> {
    let month = Month::try_from(u8::try_from(month?).ok()?).ok()?;
    Date::from_calendar_date(year?, month, u8::try_from(day?).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_german_letters() {
        let d = |y, m, day| Date::from_calendar_date(y, Month::try_from(m).unwrap(), day).unwrap();
        let found = dates_in(
            "geb. am 04.03.1980, Schreiben vom 14. November 2026 und 2026-11-02; 31.02.2020",
        );
        assert!(found.contains(&d(1980, 3, 4)));
        assert!(found.contains(&d(2026, 11, 14)));
        assert!(found.contains(&d(2026, 11, 2)));
        assert_eq!(found.len(), 3, "31 February is no date: {found:?}");
    }

    #[test]
    fn streets_in_any_spelling() {
        assert_eq!(
            street_words("Norderstraße 12"),
            street_words("Norderstr. 12")
        );
        assert_eq!(street_words("Norderstrasse 12"), vec!["norderstr", "12"]);
    }
}
