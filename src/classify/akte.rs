//! Whose Akte arrived: an Akte handed over by another authority names its
//! people (Kundennummern, the BG number as its Kennzeichen, names with birth
//! dates), and the BG it belongs to here is found from them the way a letter's
//! is: numbers first, names with birth dates only when no number fits. Doubt
//! goes to clearing: several BGs, or none.

use crate::model::{BgNummer, Kundennummer, Method, Recognition};
use crate::registry::names::fold;
use crate::registry::Registry;
use jiff::civil::Date;
use std::collections::BTreeSet;

/// A person as the handing-over authority names them.
pub struct Named<'a> {
    pub kundennummer: Option<&'a str>,
    pub nachname: &'a str,
    pub vorname: &'a str,
    pub geburtsdatum: Option<Date>,
}

/// The BG here of the Akte with `kennzeichen` and `people`.
pub fn recognise(kennzeichen: &str, people: &[Named<'_>], registry: &Registry) -> Recognition {
    let mut evidence = Vec::new();
    // Kundennummern are the BA's, the same in every jobcenter; a BG number
    // is only this jobcenter's own when the Akte comes back.
    let numbers: Vec<Kundennummer> = people
        .iter()
        .filter_map(|p| Kundennummer::parse(p.kundennummer?))
        .collect();
    let by_number: BTreeSet<(BgNummer, Kundennummer)> = numbers
        .iter()
        .filter_map(|k| Some((registry.person(k)?.bg.clone(), k.clone())))
        .collect();
    if !numbers.is_empty() {
        evidence.push(format!(
            "Kundennummern {}: {}",
            numbers
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if by_number.is_empty() {
                "nicht im Bestand"
            } else {
                "im Bestand"
            }
        ));
    }
    let bgs: BTreeSet<BgNummer> = by_number.iter().map(|(bg, _)| bg.clone()).collect();
    match bgs.len() {
        0 => {}
        1 => {
            let (bg, k) = by_number.iter().next().expect("one BG");
            return Recognition::Identified {
                bg: bg.clone(),
                kundennummer: Some(k.clone()),
                method: Method::Kundennummer,
                matched: k.to_string(),
                confidence: 1.0,
            };
        }
        _ => return ambiguous(bgs, evidence),
    }
    if let Some(bg) = BgNummer::parse(kennzeichen).filter(|bg| registry.has_bg(bg)) {
        return Recognition::Identified {
            bg,
            kundennummer: None,
            method: Method::BgNummer,
            matched: kennzeichen.to_string(),
            confidence: 1.0,
        };
    }
    evidence.push(format!("Kennzeichen {kennzeichen:?}: keine BG im Bestand"));
    let mut by_name = BTreeSet::new();
    for p in people {
        let Some(born) = p.geburtsdatum else {
            continue;
        };
        let (nachname, vorname) = (fold(p.nachname), fold(p.vorname));
        if nachname.is_empty() {
            continue;
        }
        for person in registry.persons() {
            if person.geburtsdatum == born
                && fold(&person.nachname) == nachname
                && fold(&person.vorname) == vorname
            {
                by_name.insert(person.bg.clone());
            }
        }
    }
    evidence.push(format!(
        "Name und Geburtsdatum: {} BG(s) im Bestand",
        by_name.len()
    ));
    match by_name.len() {
        0 => Recognition::NotFound { evidence },
        1 => Recognition::Identified {
            bg: by_name.into_iter().next().expect("one BG"),
            kundennummer: None,
            method: Method::NameAndBirthDate,
            matched: people
                .iter()
                .map(|p| format!("{}, {}", p.nachname, p.vorname))
                .collect::<Vec<_>>()
                .join("; "),
            confidence: 0.9,
        },
        _ => ambiguous(by_name, evidence),
    }
}

fn ambiguous(bgs: BTreeSet<BgNummer>, evidence: Vec<String>) -> Recognition {
    Recognition::Ambiguous {
        candidates: bgs.into_iter().collect(),
        evidence,
    }
}
