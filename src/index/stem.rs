//! German stemming with a memory of recent words.
//!
//! Snippets re-analyse the whole text of every hit on a page, and Snowball
//! stemming was a quarter of the daemon's CPU time in the 1M search benchmark
//! (perf, BENCHMARKS.md). Letters repeat their words, within one letter and
//! across letters ("Bescheid", "Leistungen", "Sie"), so each search thread
//! keeps the stems of the words it last saw. The stem of a word never
//! changes, so the filter gives exactly what Snowball gives: the index built
//! with it is the index built without it.

use rust_stemmers::{Algorithm, Stemmer};
use std::cell::RefCell;
use std::collections::HashMap;
use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Words remembered per thread. At a few dozen bytes each, 32 blocking threads
/// hold at most a few MB; a full memory is simply forgotten and refilled.
const REMEMBERED: usize = 8192;

thread_local! {
    static STEMS: RefCell<Memory> = RefCell::new(Memory {
        stemmer: Stemmer::create(Algorithm::German),
        stems: HashMap::with_capacity(REMEMBERED),
    });
}

struct Memory {
    stemmer: Stemmer,
    stems: HashMap<Box<str>, Box<str>>,
}

impl Memory {
    /// Replaces `word` by its stem.
    fn stem(&mut self, word: &mut String) {
        if let Some(stem) = self.stems.get(word.as_str()) {
            word.clear();
            word.push_str(stem);
            return;
        }
        let stem: Box<str> = self.stemmer.stem(word).into();
        if self.stems.len() >= REMEMBERED {
            self.stems.clear();
        }
        self.stems
            .insert(std::mem::take(word).into_boxed_str(), stem.clone());
        word.push_str(&stem);
    }
}

/// Snowball German, remembering (the filter for [`super::analyzer`]).
#[derive(Clone, Copy, Default)]
pub struct GermanStemmer;

impl TokenFilter for GermanStemmer {
    type Tokenizer<T: Tokenizer> = GermanStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> GermanStemmerFilter<T> {
        GermanStemmerFilter(tokenizer)
    }
}

#[derive(Clone)]
pub struct GermanStemmerFilter<T>(T);

impl<T: Tokenizer> Tokenizer for GermanStemmerFilter<T> {
    type TokenStream<'a> = GermanStemmerStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        GermanStemmerStream(self.0.token_stream(text))
    }
}

pub struct GermanStemmerStream<T>(T);

impl<T: TokenStream> TokenStream for GermanStemmerStream<T> {
    fn advance(&mut self) -> bool {
        if !self.0.advance() {
            return false;
        }
        let token = self.0.token_mut();
        STEMS.with(|memory| memory.borrow_mut().stem(&mut token.text));
        true
    }

    fn token(&self) -> &Token {
        self.0.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::{Memory, REMEMBERED};
    use rust_stemmers::{Algorithm, Stemmer};
    use std::collections::HashMap;

    #[test]
    fn remembered_stems_are_snowballs_and_memory_stays_bounded() {
        let snowball = Stemmer::create(Algorithm::German);
        let mut memory = Memory {
            stemmer: Stemmer::create(Algorithm::German),
            stems: HashMap::new(),
        };
        let words = [
            "bescheide",
            "widersprüche",
            "straße",
            "leistungen",
            "häuser",
        ];
        // Twice: once stemmed, once remembered.
        for _ in 0..2 {
            for w in words {
                let mut word = w.to_string();
                memory.stem(&mut word);
                assert_eq!(word, snowball.stem(w), "{w}");
            }
        }
        for i in 0..REMEMBERED * 2 {
            let mut word = format!("wort{i}en");
            memory.stem(&mut word);
            assert_eq!(word, snowball.stem(&format!("wort{i}en")));
            assert!(memory.stems.len() <= REMEMBERED);
        }
    }
}
