//! The search syntax people type, turned into a tantivy query.
//!
//! - `Widerspruch Bescheid`: every word must occur (in any inflection). A word
//!   also matches terms within a small edit distance, because scans are read by
//!   OCR and "Bescheid" may be stored as "Bescheld"; exact matches rank higher.
//! - `"Kosten der Unterkunft"`: a phrase, matched exactly (word order, no fuzz).
//! - `-Mahnung`: documents with this word are excluded.
//!
//! Unbalanced quotes are forgiven (the phrase runs to the end). There is no other
//! syntax on purpose: caseworkers paste text from letters, and characters such as
//! `:` `(` `+` must never turn into an error.

use super::seekable::{AnyOf, FuzzyTerms};
use super::{analyzer, searched_fields, Fields};
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::Term;

/// Longest accepted query, in bytes.
pub const MAX_QUERY_BYTES: usize = 1024;
/// Most words and phrases in one query.
pub const MAX_CLAUSES: usize = 32;
/// Most words of one query that also match within an edit distance: each
/// walks the term dictionary with an automaton, so 32 long random words cost
/// ten times a normal search. Words past these match exactly.
pub const MAX_FUZZY_WORDS: usize = 8;
/// Weight of a fuzzy (OCR-tolerant) match relative to an exact one.
const FUZZY_WEIGHT: f32 = 0.3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the query is empty (it needs at least one word)")]
    Empty,
    #[error("the query is longer than {MAX_QUERY_BYTES} bytes")]
    TooLong,
    #[error("the query has more than {MAX_CLAUSES} words or phrases")]
    TooManyClauses,
    #[error("the query only excludes words; add at least one word to search for")]
    OnlyExcluded,
}

#[derive(Debug, PartialEq, Eq)]
struct Clause {
    text: String,
    phrase: bool,
    excluded: bool,
}

pub fn parse(fields: &Fields, input: &str) -> Result<Box<dyn Query>, QueryError> {
    if input.len() > MAX_QUERY_BYTES {
        return Err(QueryError::TooLong);
    }
    let clauses = lex(input);
    if clauses.len() > MAX_CLAUSES {
        return Err(QueryError::TooManyClauses);
    }
    let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut positive = 0;
    let mut fuzzy_left = MAX_FUZZY_WORDS;
    for clause in clauses {
        let terms = analyzer::terms(&clause.text);
        if terms.is_empty() {
            continue; // punctuation only
        }
        let surface = analyzer::surface_terms(&clause.text);
        let fuzzy = (!clause.phrase
            && !clause.excluded
            && terms.len() == 1
            && surface.len() == 1
            && fuzzy_distance(&surface[0]).is_some()
            && fuzzy_left > 0)
            .then(|| surface[0].as_str());
        fuzzy_left -= usize::from(fuzzy.is_some());
        let query = any_field(fields, &terms, fuzzy);
        if clause.excluded {
            parts.push((Occur::MustNot, query));
        } else {
            positive += 1;
            parts.push((Occur::Must, query));
        }
    }
    match (positive, parts.is_empty()) {
        (0, true) => Err(QueryError::Empty),
        (0, false) => Err(QueryError::OnlyExcluded),
        _ => Ok(Box::new(BooleanQuery::new(parts))),
    }
}

/// The analysed `terms` in any searched field: one term as a term query, several
/// as a phrase; plus, for a `fuzzy` surface word, a fuzzy match on the page text.
fn any_field(fields: &Fields, terms: &[String], fuzzy: Option<&str>) -> Box<dyn Query> {
    let mut alternatives: Vec<Box<dyn Query>> = Vec::new();
    if let Some((word, distance)) = fuzzy.and_then(|w| Some((w, fuzzy_distance(w)?))) {
        let f = FuzzyTerms {
            term: Term::from_field_text(fields.text_surface, word),
            distance,
        };
        alternatives.push(Box::new(BoostQuery::new(Box::new(f), FUZZY_WEIGHT)));
    }
    for (field, weight) in searched_fields(fields) {
        let exact: Box<dyn Query> = if let [term] = terms {
            Box::new(TermQuery::new(
                Term::from_field_text(field, term),
                IndexRecordOption::WithFreqs,
            ))
        } else {
            Box::new(PhraseQuery::new(
                terms
                    .iter()
                    .map(|t| Term::from_field_text(field, t))
                    .collect(),
            ))
        };
        alternatives.push(Box::new(BoostQuery::new(exact, weight)));
    }
    Box::new(AnyOf(alternatives))
}

/// Edits tolerated for a word of this length: none for short terms (too many
/// false friends: "Amt" ~ "Art"), one for ordinary words, two for long ones.
fn fuzzy_distance(term: &str) -> Option<u8> {
    match term.chars().count() {
        0..=4 => None,
        5..=8 => Some(1),
        _ => Some(2),
    }
}

/// Split the input into words and "phrases", each possibly prefixed with `-`.
fn lex(input: &str) -> Vec<Clause> {
    let mut clauses = Vec::new();
    let mut rest = input.trim_start();
    while !rest.is_empty() {
        let (excluded, body) = match rest.strip_prefix('-') {
            Some(after) if !after.starts_with(char::is_whitespace) && !after.is_empty() => {
                (true, after)
            }
            _ => (false, rest),
        };
        let (text, phrase, next) = if let Some(quoted) = body.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], true, &quoted[end + 1..]),
                None => (quoted, true, ""),
            }
        } else {
            let end = body.find(char::is_whitespace).unwrap_or(body.len());
            (&body[..end], false, &body[end..])
        };
        if !text.trim().is_empty() {
            clauses.push(Clause {
                text: text.to_string(),
                phrase,
                excluded,
            });
        }
        rest = next.trim_start();
    }
    clauses
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(text: &str, phrase: bool, excluded: bool) -> Clause {
        Clause {
            text: text.into(),
            phrase,
            excluded,
        }
    }

    #[test]
    fn words_phrases_and_exclusions() {
        assert_eq!(
            lex(r#"Widerspruch "Kosten der Unterkunft" -Mahnung"#),
            vec![
                clause("Widerspruch", false, false),
                clause("Kosten der Unterkunft", true, false),
                clause("Mahnung", false, true),
            ]
        );
    }

    #[test]
    fn unbalanced_quotes_and_stray_syntax_are_forgiven() {
        assert_eq!(
            lex(r#""offen bis zum Ende"#),
            vec![clause("offen bis zum Ende", true, false)]
        );
        assert_eq!(
            lex("a - b"),
            vec![
                clause("a", false, false),
                clause("-", false, false),
                clause("b", false, false)
            ]
        );
        assert!(lex("   ").is_empty());
    }

    #[test]
    fn only_the_first_words_of_a_long_query_are_fuzzy() {
        let (_, fields) = super::super::schema();
        let words: Vec<String> = (0..32).map(|n| format!("zufallswort{n:02}x")).collect();
        let query = parse(&fields, &words.join(" ")).unwrap();
        let fuzzy = format!("{query:?}").matches("FuzzyTerms").count();
        assert_eq!(fuzzy, MAX_FUZZY_WORDS, "{query:?}");
        let short = parse(&fields, "Bescheid Widerspruch Amt").unwrap();
        assert_eq!(format!("{short:?}").matches("FuzzyTerms").count(), 2);
    }

    #[test]
    fn fuzziness_grows_with_length() {
        assert_eq!(fuzzy_distance("amt"), None);
        assert_eq!(fuzzy_distance("bescheid"), Some(1));
        assert_eq!(fuzzy_distance("bedarfsgemeinschaft"), Some(2));
    }
}
