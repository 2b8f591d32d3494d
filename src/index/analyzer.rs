//! The German analyzer used for page text and file names, at index and query time:
//! split on non-alphanumerics, drop overlong tokens (OCR garbage), lower-case,
//! stem with Snowball German (which also folds ä/ö/ü and ß), then fold any
//! remaining accents to ASCII (é in "Café", names from other languages).

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};
use tantivy::Index;

/// The tokenizer name in the schema.
pub const GERMAN: &str = "de";

/// Tokens longer than this are not words but OCR noise or base64.
const MAX_TOKEN_BYTES: usize = 48;

pub fn german() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::German))
        .filter(AsciiFoldingFilter)
        .build()
}

pub fn register(index: &Index) {
    index.tokenizers().register(GERMAN, german());
}

/// The index terms `text` is analysed into.
pub fn terms(text: &str) -> Vec<String> {
    let mut analyzer = german();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::terms;

    #[test]
    fn inflections_umlauts_and_sharp_s_meet() {
        assert_eq!(terms("Widersprüche"), terms("Widerspruch"));
        assert_eq!(terms("Bescheides"), terms("Bescheid"));
        assert_eq!(terms("Straße"), terms("strasse"));
        assert_eq!(terms("Müller"), terms("MÜLLER"));
        assert_eq!(terms("Müller"), terms("muller"));
    }

    #[test]
    fn splits_on_punctuation_and_keeps_numbers() {
        assert_eq!(terms("BG-Nr. 07450BG0160367").len(), 3);
        assert!(terms("07450BG0160367")[0].contains("07450"));
    }
}
