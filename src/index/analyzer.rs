//! Analyzers, used alike at index and query time.
//!
//! [`GERMAN`], for page text and file names: split on non-alphanumerics, drop
//! overlong tokens (OCR garbage), lower-case, stem with Snowball German (which also
//! folds ä/ö/ü and ß), then fold remaining accents to ASCII (é in "Café").
//!
//! [`SURFACE`], for OCR-tolerant matching: the same without stemming. OCR errors
//! are errors in the letters on the page; after stemming, a misread suffix
//! ("Stiftumg" for "Stiftung") changes which suffix the stemmer strips and puts
//! the word out of fuzzy reach, so fuzzy matching compares surface forms.

use super::stem::GermanStemmer;
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::Index;

/// The tokenizer names in the schema.
pub const GERMAN: &str = "de";
pub const SURFACE: &str = "de_surface";

/// Tokens longer than this are not words but OCR noise or base64.
const MAX_TOKEN_BYTES: usize = 48;

pub fn german() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(GermanStemmer)
        .filter(AsciiFoldingFilter)
        .build()
}

pub fn surface() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

pub fn register(index: &Index) {
    index.tokenizers().register(GERMAN, german());
    index.tokenizers().register(SURFACE, surface());
}

/// The stemmed index terms `text` is analysed into.
pub fn terms(text: &str) -> Vec<String> {
    analyse(german(), text)
}

/// The unstemmed (surface) terms of `text`.
pub fn surface_terms(text: &str) -> Vec<String> {
    analyse(surface(), text)
}

fn analyse(mut analyzer: TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{surface_terms, terms};

    #[test]
    fn inflections_umlauts_and_sharp_s_meet() {
        assert_eq!(terms("Widersprüche"), terms("Widerspruch"));
        assert_eq!(terms("Bescheides"), terms("Bescheid"));
        assert_eq!(terms("Straße"), terms("strasse"));
        assert_eq!(terms("Müller"), terms("MÜLLER"));
        assert_eq!(terms("Müller"), terms("muller"));
    }

    #[test]
    fn surface_terms_fold_but_keep_suffixes() {
        assert_eq!(surface_terms("Stiftung Müller"), vec!["stiftung", "muller"]);
    }

    #[test]
    fn splits_on_punctuation_and_keeps_numbers() {
        assert_eq!(terms("BG-Nr. 07450BG0160367").len(), 3);
        assert!(terms("07450BG0160367")[0].contains("07450"));
    }
}
