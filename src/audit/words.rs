//! Search words in the audit trail: recorded as keyed hashes, never in clear.
//!
//! A search for "Nowak Maren 13.09.2001" is social data in itself. The trail
//! keeps, for each word of a query, the first 64 bits of its HMAC-SHA256 under
//! a secret kept in the store ([`crate::store::audit::AuditTrail::word_key`]).
//! An auditor who suspects that someone looked for a particular person asks
//! eakte (`eakte audit list --searched "Nowak"`, or `searched=` on
//! `GET /api/v1/audit`): eakte hashes the words the same way and returns the
//! searches that contained all of them. Without the key the hashes cannot be
//! tried against a list of surnames, as plain hashes could be. The auditor's
//! checks are recorded too (by the hashes of their words), so trying a whole
//! list of names through eakte leaves a trace of its own.

use crate::store::{Store, StoreError};

/// Where the hashes stand in a search entry's detail.
const PREFIX: &str = "words=";

/// The words of `text` as a search finds them: lower-cased runs of letters
/// and digits (so query syntax, punctuation and the dots of a date do not
/// matter), each once, in order of appearance.
pub fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_lowercase();
        if !out.contains(&word) {
            out.push(word);
        }
    }
    out
}

/// The recorded form of one word.
fn hash(key: &[u8; 32], word: &str) -> String {
    crate::keyed::short_mac(key, word.as_bytes())
}

/// A search as the trail records it: the words of `query` as hashes, the
/// free-text filters `hidden` (a Schlagwort, a type, a site as typed) as one
/// keyed hash each, the others (`clear`: a BG, a day, the page) as given.
pub fn describe(
    store: &Store,
    query: &str,
    hidden: &[(&str, &str)],
    clear: &[(&str, String)],
) -> Result<String, StoreError> {
    let key = store.audit().word_key()?;
    let hashes: Vec<String> = words(query).iter().map(|w| hash(&key, w)).collect();
    let mut out = format!("{PREFIX}{}", hashes.join(" "));
    for (name, value) in hidden {
        out.push_str(&format!(
            "; {name}=hmac:{}",
            hash(&key, &value.to_lowercase())
        ));
    }
    for (name, value) in clear {
        out.push_str(&format!("; {name}={value}"));
    }
    Ok(out)
}

/// `text` (a note) as the trail names it: its keyed hash and length, so
/// that a short note cannot be guessed from the trail alone.
pub fn note_ref(store: &Store, text: &str) -> Result<String, StoreError> {
    let key = store.audit().word_key()?;
    Ok(format!(
        "note hmac:{} ({} characters, in the item's history)",
        hash(&key, text),
        text.chars().count()
    ))
}

/// What an auditor checks entries against: the hashes of the words of a
/// suspicion.
pub struct Suspicion(Vec<String>);

impl Suspicion {
    /// `None` when `text` has no words.
    pub fn of(store: &Store, text: &str) -> Result<Option<Suspicion>, StoreError> {
        let words = words(text);
        if words.is_empty() {
            return Ok(None);
        }
        let key = store.audit().word_key()?;
        Ok(Some(Suspicion(
            words.iter().map(|w| hash(&key, w)).collect(),
        )))
    }

    /// Whether a search entry's `detail` holds every word.
    pub fn found_in(&self, detail: Option<&str>) -> bool {
        let Some(recorded) = detail
            .and_then(|d| d.strip_prefix(PREFIX))
            .map(|d| d.split(';').next().unwrap_or_default())
        else {
            return false;
        };
        let recorded: Vec<&str> = recorded.split(' ').collect();
        self.0.iter().all(|h| recorded.contains(&h.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_ignore_case_punctuation_and_repeats() {
        assert_eq!(
            words("Nowak  maren~1 13.09.2001 NOWAK"),
            ["nowak", "maren", "1", "13", "09", "2001"]
        );
        assert!(words(" .,~ ").is_empty());
    }

    #[test]
    fn a_suspicion_is_found_only_with_all_its_words_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let query = "Nowak Maren 13.09.2001";
        let hidden = [("type", "Bescheid")];
        let clear = [("offset", "0".to_string())];
        let detail = describe(&store, query, &hidden, &clear).unwrap();
        assert!(!detail.to_lowercase().contains("nowak"), "{detail}");
        assert!(!detail.contains("2001"), "{detail}");
        assert!(
            !detail.contains("Bescheid") && detail.contains("type=hmac:"),
            "{detail}"
        );
        assert!(detail.contains("offset=0"), "{detail}");
        let found = |text: &str| {
            Suspicion::of(&store, text)
                .unwrap()
                .unwrap()
                .found_in(Some(&detail))
        };
        assert!(found("nowak"));
        assert!(found("MAREN Nowak"));
        assert!(found("13.09.2001"));
        assert!(!found("Nowak Petra"));
        assert!(!found("Bescheid"), "filters are not words of the query");
        // Another store has another key: the same words hash differently.
        let other_dir = tempfile::tempdir().unwrap();
        let other = Store::open(other_dir.path()).unwrap();
        assert_ne!(describe(&other, query, &hidden, &clear).unwrap(), detail);
    }
}
