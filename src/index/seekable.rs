//! Query building blocks that stay cheap when something small leads the search.
//!
//! Every search by a caseworker is limited to the documents they may see: a few
//! hundred BGs out of a county's hundred thousand. tantivy intersects by letting
//! the smallest part lead and `seek`ing the others to its documents, so a search
//! should cost in proportion to those few thousand documents. Three of tantivy's
//! stock queries defeat that at a million documents, which is why these exist:
//!
//! - A `BooleanQuery` of `Should` clauses buffers 4,096 document ids ahead on
//!   every seek; a phrase among its clauses is then checked across the whole
//!   index (measured: 50 ms instead of 2 ms). [`AnyOf`] seeks its alternatives
//!   only to the documents asked for.
//! - `FuzzyTermQuery` collects every matching document of every close term into
//!   a bitset before the search starts. [`FuzzyTerms`] keeps the close terms'
//!   postings and seeks them like any term.
//! - `TermSetQuery` walks the term dictionary with an automaton. [`AnyTerm`] looks
//!   the few hundred terms up directly.

use levenshtein_automata::{Distance, LevenshteinAutomatonBuilder, DFA};
use std::sync::LazyLock;
use tantivy::query::{ConstScorer, EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, TantivyError, Term, TERMINATED};

/// Documents matching any of the alternatives, scored by the sum of the scores
/// of those that match (as `Should` clauses would be).
#[derive(Debug)]
pub struct AnyOf(pub Vec<Box<dyn Query>>);

impl Clone for AnyOf {
    fn clone(&self) -> AnyOf {
        AnyOf(self.0.iter().map(|q| q.box_clone()).collect())
    }
}

impl Query for AnyOf {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weights = self
            .0
            .iter()
            .map(|q| q.weight(scoring))
            .collect::<tantivy::Result<_>>()?;
        Ok(Box::new(AnyOfWeight(weights)))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for q in &self.0 {
            q.query_terms(visitor);
        }
    }
}

struct AnyOfWeight(Vec<Box<dyn Weight>>);

impl Weight for AnyOfWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let scorers = self
            .0
            .iter()
            .map(|w| w.scorer(reader, boost))
            .collect::<tantivy::Result<_>>()?;
        Ok(union(scorers))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )));
        }
        let mut explanation = Explanation::new("any of", scorer.score());
        for w in &self.0 {
            if let Ok(detail) = w.explain(reader, doc) {
                explanation.add_detail(detail);
            }
        }
        Ok(explanation)
    }
}

/// The union of `scorers`, without the ones that match nothing.
fn union(scorers: Vec<Box<dyn Scorer>>) -> Box<dyn Scorer> {
    let mut live: Vec<Box<dyn Scorer>> = scorers
        .into_iter()
        .filter(|s| s.doc() != TERMINATED)
        .collect();
    match live.len() {
        0 => Box::new(EmptyScorer),
        1 => live.pop().expect("one scorer"),
        _ => {
            let doc = live.iter().map(|s| s.doc()).min().unwrap_or(TERMINATED);
            Box::new(UnionScorer { scorers: live, doc })
        }
    }
}

/// A union that moves its parts only as far as it is asked to: `seek` seeks
/// each part once, nothing is read ahead. Linear in the parts, which are few
/// (the searched fields of a word, or the close terms of a fuzzy word).
struct UnionScorer {
    scorers: Vec<Box<dyn Scorer>>,
    doc: DocId,
}

impl UnionScorer {
    fn settle(&mut self) -> DocId {
        self.doc = self
            .scorers
            .iter()
            .map(|s| s.doc())
            .min()
            .unwrap_or(TERMINATED);
        self.doc
    }
}

impl DocSet for UnionScorer {
    fn advance(&mut self) -> DocId {
        let current = self.doc;
        for s in &mut self.scorers {
            if s.doc() == current {
                s.advance();
            }
        }
        self.settle()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        for s in &mut self.scorers {
            if s.doc() < target {
                s.seek(target);
            }
        }
        self.settle()
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.scorers
            .iter()
            .map(|s| s.size_hint())
            .fold(0u32, u32::saturating_add)
    }
}

impl Scorer for UnionScorer {
    fn score(&mut self) -> Score {
        let doc = self.doc;
        self.scorers
            .iter_mut()
            .filter(|s| s.doc() == doc)
            .map(|s| s.score())
            .sum()
    }
}

/// Most close terms a fuzzy word stands for; the most frequent are kept, since
/// a rare neighbour is more likely another word than a misread of this one.
const MAX_FUZZY_TERMS: usize = 32;

static LEVENSHTEIN: LazyLock<[LevenshteinAutomatonBuilder; 3]> =
    LazyLock::new(|| [0, 1, 2].map(|distance| LevenshteinAutomatonBuilder::new(distance, true)));

/// Documents containing a term within `distance` edits (a transposition counts
/// as one) of `term`, all scored `boost` like `FuzzyTermQuery`.
#[derive(Clone, Debug)]
pub struct FuzzyTerms {
    pub term: Term,
    pub distance: u8,
}

impl Query for FuzzyTerms {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let value = self.term.value();
        let text = value.as_str().ok_or_else(|| {
            TantivyError::InvalidArgument("a fuzzy term must be text".to_string())
        })?;
        let builder = LEVENSHTEIN
            .get(self.distance as usize)
            .ok_or_else(|| TantivyError::InvalidArgument("at most 2 edits".to_string()))?;
        Ok(Box::new(FuzzyTermsWeight {
            field: self.term.field(),
            dfa: builder.build_dfa(text),
        }))
    }
}

struct FuzzyTermsWeight {
    field: Field,
    dfa: DFA,
}

impl Weight for FuzzyTermsWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let inverted = reader.inverted_index(self.field)?;
        let mut close = Vec::new();
        let mut stream = inverted
            .terms()
            .search(Levenshtein(&self.dfa))
            .into_stream()?;
        while stream.advance() {
            close.push(stream.value().clone());
        }
        close.sort_by_key(|info| std::cmp::Reverse(info.doc_freq));
        close.truncate(MAX_FUZZY_TERMS);
        let scorers = close
            .iter()
            .map(|info| {
                let postings =
                    inverted.read_postings_from_terminfo(info, IndexRecordOption::Basic)?;
                Ok(Box::new(ConstScorer::new(postings, boost)) as Box<dyn Scorer>)
            })
            .collect::<tantivy::Result<_>>()?;
        // One score however many close terms a document holds, as before.
        Ok(Box::new(ConstScorer::new(union(scorers), boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )));
        }
        Ok(Explanation::new("a close term", scorer.score()))
    }
}

/// The DFA as the term dictionary's automaton.
struct Levenshtein<'a>(&'a DFA);

impl tantivy_fst::Automaton for Levenshtein<'_> {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != levenshtein_automata::SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

/// Documents containing any of `terms` exactly, all scored 0: a filter. Each
/// term is looked up on its own, so a few hundred terms cost a few hundred
/// lookups whatever the size of the dictionary.
#[derive(Clone, Debug)]
pub struct AnyTerm(pub Vec<Term>);

impl Query for AnyTerm {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl AnyTerm {
    fn docs(&self, reader: &SegmentReader) -> tantivy::Result<Vec<DocId>> {
        let mut docs = Vec::new();
        for term in &self.0 {
            let inverted = reader.inverted_index(term.field())?;
            if let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::Basic)? {
                while postings.doc() != TERMINATED {
                    docs.push(postings.doc());
                    postings.advance();
                }
            }
        }
        docs.sort_unstable();
        docs.dedup();
        Ok(docs)
    }
}

impl Weight for AnyTerm {
    fn scorer(&self, reader: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let docs = SortedDocs {
            docs: self.docs(reader)?,
            at: 0,
        };
        Ok(Box::new(ConstScorer::new(docs, 0.0)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.docs(reader)?.binary_search(&doc).is_err() {
            return Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )));
        }
        Ok(Explanation::new("permitted", 0.0))
    }
}

/// Sorted, distinct document ids as a `DocSet`.
struct SortedDocs {
    docs: Vec<DocId>,
    at: usize,
}

impl DocSet for SortedDocs {
    fn advance(&mut self) -> DocId {
        self.at = (self.at + 1).min(self.docs.len());
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let rest = &self.docs[self.at..];
        self.at += rest.partition_point(|&d| d < target);
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        (self.docs.len() - self.at) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::TopDocs;
    use tantivy::query::{
        BooleanQuery, FuzzyTermQuery, Occur, PhraseQuery, TermQuery, TermSetQuery,
    };
    use tantivy::schema::{Schema, STRING, TEXT};
    use tantivy::{doc, Index, Searcher};

    /// Three segments of letters made from a small vocabulary, so that terms,
    /// close terms and phrases all occur in many documents.
    fn searcher() -> (Searcher, Field, Field) {
        let mut schema = Schema::builder();
        let text = schema.add_text_field("text", TEXT);
        let bg = schema.add_text_field("bg", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        let words = [
            "kosten",
            "der",
            "unterkunft",
            "bescheid",
            "bescheld",
            "beschied",
            "antrag",
            "miete",
            "widerspruch",
        ];
        let mut x: u64 = 7;
        for d in 0..3000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let body: Vec<&str> = (0..12)
                .map(|i| words[((x >> (i * 4)) % 9) as usize])
                .collect();
            writer
                .add_document(doc!(text => body.join(" "), bg => format!("bg{}", d % 50)))
                .unwrap();
            if d % 1000 == 999 {
                writer.commit().unwrap();
            }
        }
        (index.reader().unwrap().searcher(), text, bg)
    }

    fn hits(searcher: &Searcher, query: &dyn Query) -> Vec<(u32, u32, i64)> {
        let mut hits: Vec<_> = searcher
            .search(query, &TopDocs::with_limit(10_000))
            .unwrap()
            .into_iter()
            .map(|(score, a)| (a.segment_ord, a.doc_id, (score * 1000.0).round() as i64))
            .collect();
        hits.sort();
        hits
    }

    fn term(field: Field, text: &str) -> Term {
        Term::from_field_text(field, text)
    }

    #[test]
    fn any_of_finds_and_scores_what_should_clauses_do() {
        let (searcher, text, _) = searcher();
        let phrase = || -> Box<dyn Query> {
            Box::new(PhraseQuery::new(vec![
                term(text, "kosten"),
                term(text, "der"),
            ]))
        };
        let word = || -> Box<dyn Query> {
            Box::new(TermQuery::new(
                term(text, "miete"),
                IndexRecordOption::WithFreqs,
            ))
        };
        let stock = BooleanQuery::new(vec![(Occur::Should, phrase()), (Occur::Should, word())]);
        let ours = AnyOf(vec![phrase(), word()]);
        let expected = hits(&searcher, &stock);
        assert!(expected.len() > 100);
        assert!(hits(&searcher, &ours) == expected, "same hits and scores");
    }

    #[test]
    fn fuzzy_terms_match_what_the_fuzzy_query_matches() {
        let (searcher, text, _) = searcher();
        let stock = FuzzyTermQuery::new(term(text, "bescheid"), 1, true);
        let ours = FuzzyTerms {
            term: term(text, "bescheid"),
            distance: 1,
        };
        let expected = hits(&searcher, &stock);
        assert!(expected.len() > 100);
        assert!(hits(&searcher, &ours) == expected, "same hits and scores");
    }

    #[test]
    fn any_term_filters_like_a_term_set_and_leads_an_intersection() {
        let (searcher, text, bg) = searcher();
        let bgs: Vec<Term> = ["bg3", "bg17", "bg49", "bg-none"]
            .iter()
            .map(|b| term(bg, b))
            .collect();
        let docs = |q: &dyn Query| -> Vec<(u32, u32)> {
            hits(&searcher, q)
                .into_iter()
                .map(|(s, d, _)| (s, d))
                .collect()
        };
        assert!(docs(&AnyTerm(bgs.clone())) == docs(&TermSetQuery::new(bgs.clone())));
        let within = |filter: Box<dyn Query>| {
            BooleanQuery::new(vec![
                (
                    Occur::Must,
                    Box::new(AnyOf(vec![Box::new(PhraseQuery::new(vec![
                        term(text, "der"),
                        term(text, "unterkunft"),
                    ]))])) as Box<dyn Query>,
                ),
                (Occur::Must, filter),
            ])
        };
        let expected = docs(&within(Box::new(TermSetQuery::new(bgs.clone()))));
        assert!(!expected.is_empty());
        assert!(docs(&within(Box::new(AnyTerm(bgs)))) == expected);
    }
}
