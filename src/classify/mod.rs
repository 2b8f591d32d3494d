//! Classification: which Bedarfsgemeinschaft a letter belongs to and what kind of
//! document it is, each with the evidence a caseworker can check.
//!
//! Precision comes before recall: a letter assigned to the wrong BG lands with the
//! wrong caseworker, a data protection breach, while an unassigned letter only
//! costs the clearing office (Klärungsstelle) a minute. So every doubt (two BGs
//! named, a number the registry does not know, a name without birth date or
//! address, OCR-garbled numbers that fit more than one entry) ends in "not
//! recognised", never in a guess.

pub mod doctype;
pub mod identifiers;
pub mod person;

use crate::registry::{BgNummer, Kennung, Kundennummer, Registry};
use doctype::Rules;
use identifiers::Pattern;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a recipient was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    BgNummer,
    BgNummerOcrCorrected,
    Kundennummer,
    KundennummerOcrCorrected,
    NameAndBirthDate,
    NameAndAddress,
}

impl Method {
    fn confidence(self) -> f32 {
        match self {
            Method::BgNummer | Method::Kundennummer => 0.99,
            Method::BgNummerOcrCorrected | Method::KundennummerOcrCorrected => 0.9,
            Method::NameAndBirthDate => 0.9,
            Method::NameAndAddress => 0.85,
        }
    }
}

/// Which BG a document belongs to, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Recognition {
    /// Exactly one BG.
    Identified {
        bg: BgNummer,
        kundennummer: Option<Kundennummer>,
        method: Method,
        /// The text that decided it, as it stood in the letter.
        matched: String,
        confidence: f32,
    },
    /// Several BGs fit; nobody guesses.
    Ambiguous {
        candidates: Vec<BgNummer>,
        evidence: Vec<String>,
    },
    /// No BG fits (evidence says what was looked at).
    NotFound { evidence: Vec<String> },
    /// Assigned by a person (a correction in clearing).
    Assigned {
        bg: BgNummer,
        by: Kennung,
        at: String,
    },
}

impl Recognition {
    /// The BG, if the document has one.
    pub fn bg(&self) -> Option<&BgNummer> {
        match self {
            Recognition::Identified { bg, .. } | Recognition::Assigned { bg, .. } => Some(bg),
            _ => None,
        }
    }
}

/// Everything classification decides about a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub recipient: Recognition,
    pub doc_type: String,
    pub schlagwort: String,
    pub urgent: bool,
    pub urgent_reason: Option<String>,
    /// Patterns that decided the type, or who corrected it.
    pub type_evidence: Vec<String>,
}

/// Classify a document's text.
pub fn classify(text: &str, registry: &Registry, rules: &Rules) -> Classification {
    let typed = rules.classify(text);
    Classification {
        recipient: recognise(text, registry),
        doc_type: typed.doc_type.name.clone(),
        schlagwort: typed.doc_type.schlagwort.clone(),
        urgent: typed.doc_type.urgent,
        urgent_reason: typed.doc_type.urgent_reason.clone(),
        type_evidence: typed.evidence,
    }
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
            .is_none_or(|h| hit.method.confidence() > h.method.confidence());
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
        let known: Vec<&Kundennummer> = registry
            .kundennummern()
            .filter(|k| pattern.fits(k.as_str()))
            .collect();
        match (pattern.corrected(), known.as_slice()) {
            (corrected, [k]) => {
                numbers_seen = true;
                let method = if corrected {
                    Method::KundennummerOcrCorrected
                } else {
                    Method::Kundennummer
                };
                let bg = registry.person(k).expect("registry key").bg.clone();
                add(bg, hit(method, &pattern, Some((*k).clone())));
            }
            // Only a labelled unknown number counts as a number: ten digits are
            // often a phone number.
            (_, []) if pattern.label.as_deref().is_some_and(|l| l.starts_with('k')) => {
                numbers_seen = true;
                evidence.push(format!(
                    "Kundennummer {:?} is not in the registry",
                    pattern.raw
                ));
            }
            (_, []) => {}
            (_, many) => {
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
        confidence: hit.method.confidence(),
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
            identified(bg, hit)
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
