//! Document types by weighted patterns, from a TOML rules file (the shipped
//! defaults are `default_rules.toml`; its comments explain the format).

use serde::Deserialize;
use std::path::Path;

const DEFAULT_RULES: &str = include_str!("default_rules.toml");

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read the rules file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid rules file {path}: {message}")]
    Invalid { path: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    min_score: u32,
    fallback: RawFallback,
    types: Vec<RawType>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFallback {
    name: String,
    schlagwort: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawType {
    name: String,
    schlagwort: String,
    #[serde(default)]
    urgent: bool,
    urgent_reason: Option<String>,
    patterns: Vec<RawPattern>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPattern {
    regex: String,
    weight: u32,
}

/// A document type and where it is filed.
#[derive(Debug, Clone)]
pub struct DocType {
    pub name: String,
    pub schlagwort: String,
    pub urgent: bool,
    pub urgent_reason: Option<String>,
    patterns: Vec<(regex::Regex, u32)>,
}

/// The type decided for a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Typed<'r> {
    pub doc_type: &'r DocType,
    /// The patterns that matched, with their weights (`widerspruch (+3)`).
    pub evidence: Vec<String>,
}

#[derive(Debug)]
pub struct Rules {
    min_score: u32,
    types: Vec<DocType>,
    fallback: DocType,
}

impl DocType {
    /// Give `classification` this type, its Schlagwort and urgency, with the
    /// evidence that decided it.
    pub fn assign_to(
        &self,
        classification: &mut crate::model::Classification,
        evidence: Vec<String>,
    ) {
        classification.doc_type = self.name.clone();
        classification.schlagwort = self.schlagwort.clone();
        classification.urgent = self.urgent;
        classification.urgent_reason = self.urgent_reason.clone();
        classification.type_evidence = evidence;
    }
}

impl PartialEq for DocType {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Rules {
    /// The shipped rules.
    pub fn defaults() -> Rules {
        Rules::parse(DEFAULT_RULES, "built-in rules").expect("the built-in rules are valid")
    }

    /// Rules from `path`, or the shipped ones.
    pub fn load(path: Option<&Path>) -> Result<Rules, RulesError> {
        let Some(path) = path else {
            return Ok(Rules::defaults());
        };
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Rules::parse(&text, &path.display().to_string())
    }

    fn parse(text: &str, path: &str) -> Result<Rules, RulesError> {
        let invalid = |message: String| RulesError::Invalid {
            path: path.to_string(),
            message,
        };
        let raw: RawRules = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut types = Vec::new();
        for t in raw.types {
            if types.iter().any(|d: &DocType| d.name == t.name) || t.name == raw.fallback.name {
                return Err(invalid(format!("type {:?} is defined twice", t.name)));
            }
            let mut patterns = Vec::new();
            for p in t.patterns {
                let re = regex::Regex::new(&p.regex).map_err(|e| {
                    invalid(format!("type {:?}, pattern {:?}: {e}", t.name, p.regex))
                })?;
                patterns.push((re, p.weight));
            }
            types.push(DocType {
                name: t.name,
                schlagwort: t.schlagwort,
                urgent: t.urgent,
                urgent_reason: t.urgent_reason,
                patterns,
            });
        }
        let fallback = DocType {
            name: raw.fallback.name,
            schlagwort: raw.fallback.schlagwort,
            urgent: false,
            urgent_reason: None,
            patterns: Vec::new(),
        };
        Ok(Rules {
            min_score: raw.min_score,
            types,
            fallback,
        })
    }

    /// Every type, the fallback last.
    pub fn types(&self) -> impl Iterator<Item = &DocType> {
        self.types.iter().chain(std::iter::once(&self.fallback))
    }

    /// A type by its name (for corrections).
    pub fn by_name(&self, name: &str) -> Option<&DocType> {
        self.types().find(|t| t.name.eq_ignore_ascii_case(name))
    }

    /// The best-scoring type for `text`.
    pub fn classify(&self, text: &str) -> Typed<'_> {
        let mut best: Option<(u32, &DocType, Vec<String>)> = None;
        for t in &self.types {
            let mut score = 0;
            let mut evidence = Vec::new();
            for (re, weight) in &t.patterns {
                if let Some(m) = re.find(text) {
                    score += weight;
                    evidence.push(format!("{:?} (+{weight})", m.as_str()));
                }
            }
            if score >= self.min_score && best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                best = Some((score, t, evidence));
            }
        }
        match best {
            Some((_, doc_type, evidence)) => Typed { doc_type, evidence },
            None => Typed {
                doc_type: &self.fallback,
                evidence: Vec::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobcenter_letters_get_their_type() {
        let rules = Rules::defaults();
        let cases = [
            (
                "Hiermit lege ich Widerspruch gegen den Bescheid vom 02.11.2026 ein.",
                "Widerspruch",
            ),
            (
                "anbei meine Arbeitsunfähigkeitsbescheinigung, ich bin bis 20.11. krankgeschrieben",
                "Arbeitsunfähigkeitsbescheinigung",
            ),
            (
                "Antrag auf Weiterbewilligung der Leistungen",
                "Weiterbewilligungsantrag",
            ),
            (
                "Veränderungsmitteilung: neue Bankverbindung",
                "Veränderungsmitteilung",
            ),
            (
                "Ich bitte um Zusicherung für den Umzug in eine neue Wohnung",
                "Umzug / Zusicherung",
            ),
            (
                "Mietbescheinigung des Vermieters, Grundmiete 420 EUR",
                "Mietbescheinigung / Mietvertrag",
            ),
            (
                "Betriebskostenabrechnung für den Abrechnungszeitraum 2025, Nachzahlung",
                "Betriebs- und Heizkostenabrechnung",
            ),
            (
                "Entgeltabrechnung November, Gesamtbrutto 1.200,00, Auszahlungsbetrag",
                "Lohn- / Entgeltabrechnung",
            ),
            (
                "Kontoauszug Nr. 11, alter Kontostand, Buchungstag",
                "Kontoauszug",
            ),
            ("Sehr geehrte Damen und Herren, vielen Dank.", "Sonstiges"),
        ];
        for (text, expected) in cases {
            assert_eq!(rules.classify(text).doc_type.name, expected, "{text}");
        }
        assert!(rules.classify(cases[0].0).doc_type.urgent);
        assert!(!rules.classify(cases[0].0).evidence.is_empty());
    }

    #[test]
    fn a_broken_rules_file_names_the_problem() {
        let err = Rules::parse("min_score = 1\nfallback = { name = \"S\", schlagwort = \"S\" }\n[[types]]\nname = \"X\"\nschlagwort = \"X\"\npatterns = [{ regex = \"(\", weight = 1 }]\n", "r.toml").unwrap_err();
        assert!(err.to_string().contains("type \"X\""), "{err}");
    }
}
