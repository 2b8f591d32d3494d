//! Finding a recipient in the registry by name, birth date, BG number or
//! Kundennummer: for the clearing office within its site (to assign a
//! letter), for caseworkers and team leads within their BGs (to open the
//! Akte of someone on the phone).

use super::{Actor, ServiceError, Services};
use crate::model::{BgNummer, Person, Role};
use crate::registry::names::fold;

/// Most persons one search shows.
pub const MAX_FOUND: usize = 50;
/// A search is a name and a date or two, not a letter pasted whole.
pub const MAX_QUERY_BYTES: usize = 200;
pub const MAX_WORDS: usize = 6;

/// The persons the caller may look for (a clearing office: those of its site,
/// all sites for a central one; caseworkers and team leads: the members of
/// the BGs they see) that match every word of `query`: a word matches the start of a surname or
/// first name (folded: `muller` finds Müller), a whole Kundennummer or BG
/// number, or a birth date (01.02.1980 or 1980-02-01). Recorded as a search,
/// the words as keyed hashes, with the BGs shown. Blocking.
pub fn find(services: &Services, actor: &Actor, query: &str) -> Result<Vec<Person>, ServiceError> {
    actor.require(&[Role::Clearing, Role::Caseworker, Role::Teamlead])?;
    let clearing = actor.user().is_some_and(|u| u.role == Role::Clearing);
    let site = actor.user().and_then(|u| u.site.clone());
    let visibility = services.visibility(actor)?;
    let may_find = |p: &Person| {
        if clearing {
            site.as_ref().is_none_or(|s| *s == p.standort)
        } else {
            visibility.sees_bg(&p.bg)
        }
    };
    let typed: Vec<&str> = query.split_whitespace().collect();
    if typed.is_empty() {
        return Err(ServiceError::BadRequest("the search is empty".into()));
    }
    if query.len() > MAX_QUERY_BYTES || typed.len() > MAX_WORDS {
        return Err(ServiceError::BadRequest(format!(
            "a registry search has at most {MAX_WORDS} words and {MAX_QUERY_BYTES} bytes"
        )));
    }
    let words: Vec<Word> = typed.iter().map(|w| Word::read(w)).collect();
    let registry = services.registry()?;
    let found: Vec<Person> = registry
        .persons()
        .iter()
        .filter(|p| words.iter().all(|w| matches(p, w)))
        .filter(|p| may_find(p))
        .take(MAX_FOUND)
        .cloned()
        .collect();
    let mut bgs: Vec<BgNummer> = found.iter().map(|p| p.bg.clone()).collect();
    bgs.sort();
    bgs.dedup();
    let detail = crate::audit::words::describe(services.store(), query, &[], &[])?;
    services.record(
        actor,
        "search_registry",
        format!("{} person(s)", found.len()),
        Some(detail),
        bgs,
    )?;
    Ok(found)
}

/// A word of the search, read once (not once per person of the registry).
enum Word {
    Bg(BgNummer),
    Born(jiff::civil::Date),
    /// A Kundennummer as typed, or the start of a name, folded.
    Text {
        typed: String,
        folded: String,
    },
}

impl Word {
    fn read(word: &str) -> Word {
        if let Some(bg) = BgNummer::parse(word) {
            return Word::Bg(bg);
        }
        if let Some(day) = crate::timefmt::parse_date(word) {
            return Word::Born(day);
        }
        Word::Text {
            typed: word.to_string(),
            folded: fold(word),
        }
    }
}

fn matches(person: &Person, word: &Word) -> bool {
    match word {
        Word::Bg(bg) => person.bg == *bg,
        Word::Born(day) => person.geburtsdatum == *day,
        Word::Text { typed, folded } => {
            person.kundennummer.as_str().eq_ignore_ascii_case(typed)
                || (!folded.is_empty()
                    && (fold(&person.nachname).starts_with(folded.as_str())
                        || fold(&person.vorname).starts_with(folded.as_str())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{matches, Word};
    use crate::model::Person;

    fn person() -> Person {
        Person {
            kundennummer: "102B000001".parse().unwrap(),
            bg: "07450BG0000102".parse().unwrap(),
            nachname: "Müller-Lüdenscheidt".into(),
            vorname: "Maria".into(),
            geburtsdatum: jiff::civil::date(1975, 5, 20),
            strasse: String::new(),
            plz: String::new(),
            ort: String::new(),
            standort: "husum".into(),
            sachbearbeiter: None,
            antragsteller: true,
            position: 0,
        }
    }

    #[test]
    fn words_match_names_numbers_and_birth_dates() {
        let p = person();
        for hit in [
            "muller",
            "MÜLLER",
            "Mari",
            "102b000001",
            "07450BG0000102",
            "20.05.1975",
            "1975-05-20",
        ] {
            assert!(matches(&p, &Word::read(hit)), "{hit}");
        }
        for miss in ["Lüden", "Hans", "07450BG0000101", "21.05.1975", "102B00000"] {
            assert!(!matches(&p, &Word::read(miss)), "{miss}");
        }
    }
}
