//! Searching: the user's query, filters, the caller's scope, one page of hits
//! with snippets (generated only for that page), the total and facet counts.

use super::seekable::AnyTerm;
use super::{query, IndexError, SearchIndex};
use crate::model::{BgNummer, DocumentId};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::Bound;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::agg_result::AggregationResults;
use tantivy::aggregation::{AggregationCollector, AggregationLimitsGuard};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{Bm25StatisticsProvider, BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{TantivyDocument, Term};

/// Characters of text around the matches in a snippet.
const SNIPPET_CHARS: usize = 240;
/// Facet values returned per facet.
const FACET_SIZE: u32 = 50;

/// Term statistics that are the same whatever the index holds, for searches
/// within a scope: BM25 then ranks a hit by its own term frequencies and
/// length alone, and snippets weigh every searched word alike. With the whole
/// index's statistics, which of a caller's own notes ranks first for "R T"
/// would tell whether R or T is the more common word in documents the caller
/// may not see. (Within the caller's own documents the statistics could be
/// counted too, at a cost per search that grows with the scope; fixed ones
/// cost nothing and leak nothing.)
struct ScopeBlind;

/// The collection BM25 is told of: large enough that every word counts as
/// rare, with documents of an ordinary letter's length.
const BLIND_DOCS: u64 = 1_000_000;
const BLIND_TOKENS_PER_DOC: u64 = 200;

impl Bm25StatisticsProvider for ScopeBlind {
    fn total_num_tokens(&self, _: Field) -> tantivy::Result<u64> {
        Ok(BLIND_DOCS * BLIND_TOKENS_PER_DOC)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(BLIND_DOCS)
    }

    fn doc_freq(&self, _: &Term) -> tantivy::Result<u64> {
        Ok(1)
    }
}

/// Snippets of `field` for `query`: weighted by the index's statistics for
/// an unscoped search, every word alike for a scoped one (see [`ScopeBlind`]).
fn snippet_generator(
    searcher: &tantivy::Searcher,
    query: &dyn Query,
    field: Field,
    scoped: bool,
) -> tantivy::Result<SnippetGenerator> {
    if !scoped {
        return SnippetGenerator::create(searcher, query, field);
    }
    let mut terms = BTreeMap::new();
    query.query_terms(&mut |term, _| {
        if let (true, Some(text)) = (term.field() == field, term.value().as_str()) {
            terms.insert(text.to_string(), 1.0);
        }
    });
    let tokenizer = searcher.index().tokenizer_for_field(field)?;
    Ok(SnippetGenerator::new(
        terms,
        tokenizer,
        field,
        SNIPPET_CHARS,
    ))
}

/// A search.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest<'a> {
    pub query: &'a str,
    pub bg: Option<&'a str>,
    pub doc_type: Option<&'a str>,
    pub schlagwort: Option<&'a str>,
    pub site: Option<&'a str>,
    /// Received on or after / before (Eingangsdatum).
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Only documents of these BGs or with these ids (a user's scope); `None`
    /// searches everything (the command line, for admins of the server).
    pub within: Option<(&'a [BgNummer], &'a [DocumentId])>,
    pub limit: usize,
    pub offset: usize,
    pub facets: bool,
    /// With `facets`: also count the matches received in each of these
    /// months (the web UI's month facet; the API asks for none).
    pub months: &'a [Month],
}

/// A month for the month facet: its key (`2026-11`) and the instants that
/// bound it (German midnights: the first is in it, the second is not).
#[derive(Debug, Clone)]
pub struct Month {
    pub key: String,
    pub from: Timestamp,
    pub to: Timestamp,
}

/// One search result.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: DocumentId,
    /// Relevance (BM25). `None` where it must not be shown: over the API, scores
    /// computed on the whole index would tell how common a word is outside the
    /// caller's scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    pub name: String,
    pub site: Option<String>,
    pub received_at: String,
    pub bg: Option<String>,
    pub doc_type: Option<String>,
    pub schlagwort: Option<String>,
    /// A passage of the text with the matched words wrapped in `<b>…</b>`
    /// (HTML-escaped otherwise).
    pub snippet: String,
}

/// Counts of all matching documents by value.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facets {
    pub doc_type: BTreeMap<String, u64>,
    pub schlagwort: BTreeMap<String, u64>,
    pub site: BTreeMap<String, u64>,
    /// By month of receipt, for the months asked for (none over the API).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub month: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// All matching documents, not only the returned page.
    pub total: usize,
    pub hits: Vec<Hit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<Facets>,
}

impl SearchIndex {
    /// Search with the user query syntax of [`query`]: words (OCR-tolerant),
    /// "phrases" and -excluded words. Hits `offset..offset+limit` by score.
    pub fn search(
        &self,
        user_query: &str,
        limit: usize,
        offset: usize,
    ) -> Result<SearchResults, IndexError> {
        self.search_with(&SearchRequest {
            query: user_query,
            limit,
            offset,
            ..SearchRequest::default()
        })
    }

    pub fn search_with(&self, req: &SearchRequest<'_>) -> Result<SearchResults, IndexError> {
        let f = &self.fields;
        let text_query = query::parse(f, req.query)?;
        if let Some((bgs, ids)) = req.within {
            if bgs.is_empty() && ids.is_empty() {
                return Ok(SearchResults {
                    total: 0,
                    hits: Vec::new(),
                    facets: req.facets.then(Facets::default),
                });
            }
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text_query.box_clone())];
        let exact = |field: Field, value: &str| -> (Occur, Box<dyn Query>) {
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(field, value),
                    IndexRecordOption::Basic,
                )),
            )
        };
        for (field, value) in [
            (f.bg, req.bg),
            (f.doc_type, req.doc_type),
            (f.schlagwort, req.schlagwort),
            (f.site, req.site),
        ] {
            if let Some(value) = value {
                clauses.push(exact(field, value));
            }
        }
        if req.from.is_some() || req.to.is_some() {
            let bound = |t: Option<Timestamp>, inclusive: bool| match t {
                Some(t) if inclusive => {
                    Bound::Included(Term::from_field_date(f.received_at, super::tantivy_date(t)))
                }
                Some(t) => {
                    Bound::Excluded(Term::from_field_date(f.received_at, super::tantivy_date(t)))
                }
                None => Bound::Unbounded,
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(bound(req.from, true), bound(req.to, false))),
            ));
        }
        if let Some((bgs, ids)) = req.within {
            let terms = bgs
                .iter()
                .map(|bg| Term::from_field_text(f.bg, bg.as_str()))
                .chain(ids.iter().map(|id| Term::from_field_u64(f.doc_id, id.0)));
            clauses.push((Occur::Must, Box::new(AnyTerm(terms.collect()))));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let scoped = req.within.is_some();
        let statistics: &dyn Bm25StatisticsProvider = if scoped { &ScopeBlind } else { &searcher };
        let top = TopDocs::with_limit(req.limit.max(1)).and_offset(req.offset);
        let (top, total, facets) = if req.facets {
            let mut request = serde_json::json!({
                "doc_type": { "terms": { "field": "doc_type", "size": FACET_SIZE } },
                "schlagwort": { "terms": { "field": "schlagwort", "size": FACET_SIZE } },
                "site": { "terms": { "field": "site", "size": FACET_SIZE } },
            });
            if !req.months.is_empty() {
                // Dates are counted in nanoseconds (as f64: to within a
                // quarter of a microsecond of midnight).
                let nanos = |t: Timestamp| t.as_nanosecond() as f64;
                let ranges: Vec<serde_json::Value> = req
                    .months
                    .iter()
                    .map(|m| serde_json::json!({ "key": m.key, "from": nanos(m.from), "to": nanos(m.to) }))
                    .collect();
                request["month"] =
                    serde_json::json!({ "range": { "field": "received_at", "ranges": ranges } });
            }
            let aggs: Aggregations =
                serde_json::from_value(request).expect("valid aggregation request");
            let collector = (
                top,
                Count,
                AggregationCollector::from_aggs(aggs, AggregationLimitsGuard::default()),
            );
            let (top, total, aggs) = searcher
                .search_with_statistics_provider(&query, &collector, statistics)
                .map_err(|e| self.err(e))?;
            (top, total, Some(facets_of(&aggs)))
        } else {
            let (top, total) = searcher
                .search_with_statistics_provider(&query, &(top, Count), statistics)
                .map_err(|e| self.err(e))?;
            (top, total, None)
        };

        // Snippets only for the page returned, highlighting only the words searched.
        let mut snippets =
            snippet_generator(&searcher, &*text_query, f.text, scoped).map_err(|e| self.err(e))?;
        snippets.set_max_num_chars(SNIPPET_CHARS);
        let name_snippets =
            snippet_generator(&searcher, &*text_query, f.name, scoped).map_err(|e| self.err(e))?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top.into_iter().take(req.limit) {
            let doc: TantivyDocument = searcher.doc(address).map_err(|e| self.err(e))?;
            let text_of = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            let text = text_of(f.text).unwrap_or_default();
            let mut snippet = snippets.snippet(&text);
            if snippet.is_empty() {
                // Matched by the file name, or only fuzzily: show the name's match,
                // else the beginning of the text.
                snippet = name_snippets.snippet(&text_of(f.name).unwrap_or_default());
            }
            let snippet = if snippet.is_empty() {
                escape_html(&preview(&text, SNIPPET_CHARS))
            } else {
                snippet.to_html()
            };
            hits.push(Hit {
                id: DocumentId(
                    doc.get_first(f.doc_id)
                        .and_then(|v| v.as_u64())
                        .unwrap_or_default(),
                ),
                score: Some(score),
                name: text_of(f.name).unwrap_or_default(),
                site: text_of(f.site),
                received_at: doc
                    .get_first(f.received_at)
                    .and_then(|v| v.as_datetime())
                    .map(|d| super::timestamp_of(d).to_string())
                    .unwrap_or_default(),
                bg: text_of(f.bg),
                doc_type: text_of(f.doc_type),
                schlagwort: text_of(f.schlagwort),
                snippet,
            });
        }
        Ok(SearchResults {
            total,
            hits,
            facets,
        })
    }
}

fn facets_of(aggs: &AggregationResults) -> Facets {
    let json = serde_json::to_value(aggs).unwrap_or_default();
    let counts = |name: &str| -> BTreeMap<String, u64> {
        json[name]["buckets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| Some((b["key"].as_str()?.to_string(), b["doc_count"].as_u64()?)))
            .collect()
    };
    Facets {
        doc_type: counts("doc_type"),
        schlagwort: counts("schlagwort"),
        site: counts("site"),
        // The range aggregation adds buckets before and after the months
        // (keys like `*-2025-12-01T…`); those are not months asked for.
        month: counts("month")
            .into_iter()
            .filter(|(key, count)| *count > 0 && !key.contains('*'))
            .collect(),
    }
}

/// The first `max` characters of `text`, whitespace collapsed.
fn preview(text: &str, max: usize) -> String {
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match collapsed.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &collapsed[..cut]),
        None => collapsed,
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
