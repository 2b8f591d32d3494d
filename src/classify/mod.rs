//! Classification: which Bedarfsgemeinschaft a letter belongs to and what kind of
//! document it is, each with the evidence a caseworker can check.
//!
//! Precision comes before recall: a letter assigned to the wrong BG lands with the
//! wrong caseworker, a data protection breach, while an unassigned letter only
//! costs the clearing office (Klärungsstelle) a minute. So every doubt (two BGs
//! named, a number the registry does not know, a name without birth date or
//! address, OCR-garbled numbers that fit more than one entry) ends in "not
//! recognised", never in a guess.

pub mod akte;
pub mod doctype;
pub mod identifiers;
pub mod person;

use crate::model::{BgNummer, Classification, Kundennummer, Method, Recognition};
use crate::registry::Registry;
use doctype::Rules;
use identifiers::Pattern;
use std::collections::BTreeMap;

/// How sure each way of recognising a recipient is.
fn confidence(method: Method) -> f32 {
    match method {
        Method::BgNummer | Method::Kundennummer => 0.99,
        Method::BgNummerOcrCorrected | Method::KundennummerOcrCorrected => 0.9,
        Method::NameAndBirthDate => 0.9,
        Method::NameAndAddress => 0.85,
        Method::CoverSheet => 1.0,
    }
}

/// Classify a document's text.
pub fn classify(text: &str, registry: &Registry, rules: &Rules) -> Classification {
    let typed = rules.classify(text);
    let mut classification = unclassified();
    classification.recipient = recognise(text, registry);
    typed
        .doc_type
        .assign_to(&mut classification, typed.evidence);
    classification
}

/// A classification that knows nothing yet: no recipient, no type (for
/// documents stored before classification existed, before a correction).
pub fn unclassified() -> Classification {
    Classification {
        recipient: Recognition::NotFound {
            evidence: Vec::new(),
        },
        doc_type: String::new(),
        schlagwort: String::new(),
        urgent: false,
        urgent_reason: None,
        type_evidence: Vec::new(),
    }
}

/// The classification of a document a person filed straight into an Akte:
/// the BG and Schlagwort they chose, the type they chose or the rules found.
/// Not urgent: nobody's postbox is waiting for it.
pub fn filed(
    bg: BgNummer,
    by: &str,
    at: &str,
    doc_type: &doctype::DocType,
    schlagwort: &str,
) -> Classification {
    let mut classification = unclassified();
    doc_type.assign_to(&mut classification, vec![format!("filed by {by}")]);
    classification.recipient = Recognition::Assigned {
        bg,
        by: by.to_string(),
        at: at.to_string(),
    };
    classification.schlagwort = schlagwort.to_string();
    classification.urgent = false;
    classification.urgent_reason = None;
    classification
}

/// One BG found by one rule.
struct Hit {
    method: Method,
    matched: String,
    kundennummer: Option<Kundennummer>,
}

/// Recognise the BG: numbers first; names only when the letter has no number.
pub fn recognise(text: &str, registry: &Registry) -> Recognition {
    let mut hits: BTreeMap<BgNummer, Hit> = BTreeMap::new();
    let mut evidence = Vec::new();
    let mut numbers_seen = false;
    let mut add = |bg: BgNummer, hit: Hit| {
        let better = hits
            .get(&bg)
            .is_none_or(|h| confidence(hit.method) > confidence(h.method));
        if better {
            let kundennummer = hit
                .kundennummer
                .clone()
                .or_else(|| hits.get(&bg).and_then(|h| h.kundennummer.clone()));
            hits.insert(
                bg,
                Hit {
                    kundennummer,
                    ..hit
                },
            );
        }
    };

    for pattern in identifiers::bg_numbers(text) {
        numbers_seen = true;
        let known: Vec<&BgNummer> = registry
            .bg_numbers()
            .filter(|bg| pattern.fits(bg.as_str()))
            .collect();
        match (pattern.corrected(), known.as_slice()) {
            (false, [bg]) => add((*bg).clone(), hit(Method::BgNummer, &pattern, None)),
            (true, [bg]) => add(
                (*bg).clone(),
                hit(Method::BgNummerOcrCorrected, &pattern, None),
            ),
            (_, []) => evidence.push(format!(
                "BG number {:?} is not in the registry",
                pattern.raw
            )),
            (_, many) => evidence.push(format!(
                "{:?} could be any of {} BG numbers (OCR)",
                pattern.raw,
                many.len()
            )),
        }
    }
    for pattern in identifiers::kundennummern(text) {
        // Ten digits without a label are usually an account, reference or phone
        // number: only a number read verbatim (with its letter) or one labelled as
        // Kundennummer counts.
        let labelled = pattern.label.as_deref().is_some_and(|l| l.starts_with('k'));
        if pattern.corrected() && !labelled {
            continue;
        }
        let known: Vec<&Kundennummer> = registry
            .kundennummern()
            .filter(|k| pattern.fits(k.as_str()))
            .collect();
        match known.as_slice() {
            [k] => {
                numbers_seen = true;
                let method = if pattern.corrected() {
                    Method::KundennummerOcrCorrected
                } else {
                    Method::Kundennummer
                };
                let bg = registry.person(k).expect("registry key").bg.clone();
                add(bg, hit(method, &pattern, Some((*k).clone())));
            }
            [] if labelled => {
                numbers_seen = true;
                evidence.push(format!(
                    "Kundennummer {:?} is not in the registry",
                    pattern.raw
                ));
            }
            [] => {}
            many => {
                numbers_seen = true;
                evidence.push(format!(
                    "{:?} could be any of {} Kundennummern (OCR)",
                    pattern.raw,
                    many.len()
                ));
            }
        }
    }

    if hits.len() > 1 {
        evidence.extend(
            hits.iter()
                .map(|(bg, h)| format!("{bg} by {:?}: {:?}", h.method, h.matched)),
        );
        return Recognition::Ambiguous {
            candidates: hits.into_keys().collect(),
            evidence,
        };
    }
    if let Some((bg, hit)) = hits.into_iter().next() {
        if !evidence.is_empty() {
            // Another number in the letter contradicts this one.
            evidence.push(format!("{bg} by {:?}: {:?}", hit.method, hit.matched));
            return Recognition::Ambiguous {
                candidates: vec![bg],
                evidence,
            };
        }
        return identified(bg, hit);
    }
    if numbers_seen {
        // A number the registry does not know: an old or mistyped one. A name in
        // the same letter must not overrule it.
        return Recognition::NotFound { evidence };
    }
    recognise_by_name(text, registry, evidence)
}

fn hit(method: Method, pattern: &Pattern, kundennummer: Option<Kundennummer>) -> Hit {
    let matched = match &pattern.label {
        Some(label) => format!("{label}: {}", pattern.raw),
        None => pattern.raw.clone(),
    };
    Hit {
        method,
        matched,
        kundennummer,
    }
}

fn identified(bg: BgNummer, hit: Hit) -> Recognition {
    Recognition::Identified {
        bg,
        kundennummer: hit.kundennummer,
        confidence: confidence(hit.method),
        method: hit.method,
        matched: hit.matched,
    }
}

fn recognise_by_name(text: &str, registry: &Registry, mut evidence: Vec<String>) -> Recognition {
    let mut strong: BTreeMap<BgNummer, Hit> = BTreeMap::new();
    for m in person::find(text, registry) {
        let who = format!(
            "{} {} (born {})",
            m.person.vorname, m.person.nachname, m.person.geburtsdatum
        );
        let method = match m.proof {
            Some(person::Proof::BirthDate) => Method::NameAndBirthDate,
            Some(person::Proof::Address) => Method::NameAndAddress,
            None => {
                evidence.push(format!("name of {who} without birth date or address"));
                continue;
            }
        };
        let matched = match method {
            Method::NameAndBirthDate => who.clone(),
            _ => format!("{who}, {} {}", m.person.strasse, m.person.plz),
        };
        strong.entry(m.person.bg.clone()).or_insert(Hit {
            method,
            matched,
            kundennummer: Some(m.person.kundennummer.clone()),
        });
    }
    match strong.len() {
        0 => {
            if evidence.is_empty() {
                evidence.push("no BG number, Kundennummer or known name in the text".into());
            }
            Recognition::NotFound { evidence }
        }
        1 => {
            let (bg, hit) = strong.into_iter().next().expect("one");
            // A birth date declared for someone outside this BG means the letter
            // is (also) about another person: not ours to decide.
            let members: Vec<_> = registry.members(&bg).map(|p| p.geburtsdatum).collect();
            let strangers: Vec<String> = person::declared_birth_dates(text)
                .into_iter()
                .filter(|d| !members.contains(d))
                .map(|d| format!("the letter names someone born {d} who is not in BG {bg}"))
                .collect();
            if strangers.is_empty() {
                identified(bg, hit)
            } else {
                evidence.extend(strangers);
                evidence.push(format!("{bg} by {:?}: {}", hit.method, hit.matched));
                Recognition::Ambiguous {
                    candidates: vec![bg],
                    evidence,
                }
            }
        }
        _ => {
            evidence.extend(
                strong
                    .values()
                    .map(|h| format!("{:?}: {}", h.method, h.matched)),
            );
            Recognition::Ambiguous {
                candidates: strong.into_keys().collect(),
                evidence,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::testing::{person, registry};
    use jiff::civil::date;

    fn world() -> (tempfile::TempDir, Registry) {
        registry(
            &[
                person(
                    "07450BG0000101",
                    "101A000001",
                    "Jens",
                    "Petersen",
                    date(1980, 3, 4),
                    "Norderstraße 12",
                ),
                person(
                    "07450BG0000104",
                    "104D000001",
                    "Jens",
                    "Petersen",
                    date(1965, 1, 15),
                    "Schlossgang 2",
                ),
                person(
                    "07450BG0000108",
                    "108D000001",
                    "Hilde",
                    "Hinrichsen",
                    date(1968, 12, 24),
                    "Wasserreihe 5",
                ),
                person(
                    "07450BG0000109",
                    "109A000001",
                    "Anke",
                    "Petersen",
                    date(1982, 7, 1),
                    "Markt 1",
                ),
            ],
            &[],
            &[],
        )
    }

    fn bg_of(r: &Recognition) -> Option<&str> {
        r.bg().map(BgNummer::as_str)
    }

    #[test]
    fn a_sender_block_identifies_by_address_or_birth_date() {
        let (_d, r) = world();
        let by_address = recognise(
            "Petersen, Jens\nNorderstraße 12\n25813 Husum\n\nSehr geehrte Damen und Herren,",
            &r,
        );
        assert_eq!(bg_of(&by_address), Some("07450BG0000101"), "{by_address:?}");
        let by_birth = recognise(
            "Jens Petersen, geb. 15.01.1965\nIch bitte um einen Termin.",
            &r,
        );
        assert_eq!(bg_of(&by_birth), Some("07450BG0000104"), "{by_birth:?}");
    }

    #[test]
    fn an_unlabelled_ten_digit_number_is_no_kundennummer() {
        let (_d, r) = world();
        // A statement reference that OCR-fits Hinrichsen's 108D000001.
        let statement = recognise(
            "Kontoauszug, Verwendungszweck 1080000001, Miete November",
            &r,
        );
        assert!(
            matches!(statement, Recognition::NotFound { .. }),
            "{statement:?}"
        );
        let labelled = recognise("Kundennummer: 1080000001", &r);
        assert_eq!(bg_of(&labelled), Some("07450BG0000108"), "{labelled:?}");
        assert!(matches!(
            labelled,
            Recognition::Identified {
                method: Method::KundennummerOcrCorrected,
                ..
            }
        ));
    }

    #[test]
    fn another_persons_proof_does_not_identify_a_relative() {
        let (_d, r) = world();
        let son = recognise("Ich, Lars Petersen, geb. 01.01.2000, Sohn von Jens Petersen, Norderstr. 12, 25813 Husum", &r);
        assert_eq!(bg_of(&son), None, "{son:?}");
        let far = recognise(
            "Jens Petersen hat angerufen und gesagt, dass er morgen wieder kommt und dann noch etwas mitbringt. \
             Unsere Anschrift lautet Norderstraße 12, 25813 Husum",
            &r,
        );
        assert_eq!(
            bg_of(&far),
            None,
            "the address is not his sender block: {far:?}"
        );
    }

    #[test]
    fn double_barrelled_and_partial_names_do_not_match() {
        let (_d, r) = world();
        let other = recognise("Anke Petersen-Hansen\nMarkt 1\n25813 Husum", &r);
        assert_eq!(bg_of(&other), None, "{other:?}");
        let namesake = recognise("Jens Petersen\nBitte rufen Sie mich an.", &r);
        assert!(
            matches!(namesake, Recognition::NotFound { .. }),
            "{namesake:?}"
        );
    }
}
