//! The full-text index: tantivy, derived entirely from the store.
//!
//! It can be deleted at any time and rebuilt with `eakte reindex`; when the schema
//! of this build differs from the one on disk, the daemon rebuilds it by itself.
//! There is one [`IndexWriter`](tantivy::IndexWriter) per process (owned by the
//! [`indexer::Indexer`]) and one reader; every search takes a fresh searcher.
//!
//! Text is analysed for German ([`analyzer`]) and the page text is stored, so that
//! snippets and `eakte search` need nothing but the index (the store's database is
//! locked by a running daemon; the index can be read alongside it).

pub mod analyzer;
pub mod indexer;
pub mod query;
pub mod search;
mod seekable;
mod stem;
pub mod thread;

use crate::model::{Document, DocumentId};
pub use search::{Month, SearchRequest, SearchResults};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::{DateTime, Index, IndexReader, ReloadPolicy, TantivyDocument};

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index error in {dir}: {source}")]
    Tantivy {
        dir: PathBuf,
        source: tantivy::TantivyError,
    },
    #[error("cannot prepare the index directory {dir}: {source}")]
    Io {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("{dir} is not empty and holds no eakte index; refusing to touch it (check index_dir)")]
    ForeignDirectory { dir: PathBuf },
    #[error("there is no search index at {dir} yet; start `eakte serve` or run `eakte reindex`")]
    Missing { dir: PathBuf },
    #[error(
        "the search index at {dir} was built by another version of eakte; run `eakte reindex`"
    )]
    OutdatedSchema { dir: PathBuf },
    #[error(transparent)]
    Query(#[from] query::QueryError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The indexer thread is gone: the daemon is stopping (or the thread died).
    #[error("the indexer has stopped (the daemon is shutting down)")]
    Stopped,
}

/// Handles of the schema's fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub doc_id: Field,
    pub text: Field,
    /// The page text unstemmed, for OCR-tolerant (fuzzy) matching.
    pub text_surface: Field,
    pub name: Field,
    pub site: Field,
    pub kind: Field,
    pub received_at: Field,
    /// The recipient's BG number, document type and Schlagwort (for filters).
    pub bg: Field,
    pub doc_type: Field,
    pub schlagwort: Field,
}

/// The fields searched by words and phrases, with their weight.
pub(crate) fn searched_fields(f: &Fields) -> [(Field, f32); 2] {
    [(f.text, 1.0), (f.name, 0.5)]
}

fn schema() -> (Schema, Fields) {
    let german = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer::GERMAN)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let surface = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer::SURFACE)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let mut b = Schema::builder();
    let fields = Fields {
        doc_id: b.add_u64_field("doc_id", INDEXED | FAST | STORED),
        text: b.add_text_field("text", german.clone() | STORED),
        text_surface: b.add_text_field("text_surface", surface),
        name: b.add_text_field("name", german | STORED),
        site: b.add_text_field("site", STRING | FAST | STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        received_at: b.add_date_field("received_at", INDEXED | FAST | STORED),
        bg: b.add_text_field("bg", STRING | FAST | STORED),
        doc_type: b.add_text_field("doc_type", STRING | FAST | STORED),
        schlagwort: b.add_text_field("schlagwort", STRING | FAST | STORED),
    };
    (b.build(), fields)
}

/// Whether [`SearchIndex::open`] found an index or had to start an empty one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    Existing,
    /// Newly created (none there, or an outdated one was removed): every stored
    /// document has to be indexed again.
    Created,
}

#[derive(Clone)]
pub struct SearchIndex {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
}

impl SearchIndex {
    /// Open the index for the process that will write it. A missing index is
    /// created; an index of another schema is removed and created anew.
    pub fn open(dir: &Path) -> Result<(SearchIndex, Opened), IndexError> {
        let (schema, fields) = schema();
        let io = |source| IndexError::Io {
            dir: dir.to_path_buf(),
            source,
        };
        let tantivy = |source| IndexError::Tantivy {
            dir: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut opened = Opened::Existing;
        if dir.join("meta.json").exists() {
            let current = Index::open_in_dir(dir)
                .map(|i| i.schema() == schema)
                .unwrap_or(false);
            if !current {
                tracing::warn!(dir = %dir.display(), "search index is outdated or unreadable; rebuilding it from the store");
                empty_dir(dir).map_err(io)?;
            }
        } else if dir.join(TANTIVY_FILE_LIST).exists() {
            // A crash while the index was first created: tantivy's files, no meta.
            empty_dir(dir).map_err(io)?;
        } else if std::fs::read_dir(dir)
            .map_err(io)?
            .flatten()
            .any(|e| e.file_name() != KEEP_FILE)
        {
            return Err(IndexError::ForeignDirectory {
                dir: dir.to_path_buf(),
            });
        }
        let index = if dir.join("meta.json").exists() {
            Index::open_in_dir(dir).map_err(tantivy)?
        } else {
            opened = Opened::Created;
            Index::create_in_dir(dir, schema).map_err(tantivy)?
        };
        Ok((Self::with_index(dir, index, fields)?, opened))
    }

    /// Open an existing index for searching only (e.g. `eakte search` next to a
    /// running daemon); never creates or changes anything.
    pub fn open_read_only(dir: &Path) -> Result<SearchIndex, IndexError> {
        if !dir.join("meta.json").exists() {
            return Err(IndexError::Missing {
                dir: dir.to_path_buf(),
            });
        }
        let (schema, fields) = schema();
        let index = Index::open_in_dir(dir).map_err(|source| IndexError::Tantivy {
            dir: dir.to_path_buf(),
            source,
        })?;
        if index.schema() != schema {
            return Err(IndexError::OutdatedSchema {
                dir: dir.to_path_buf(),
            });
        }
        Self::with_index(dir, index, fields)
    }

    fn with_index(dir: &Path, index: Index, fields: Fields) -> Result<SearchIndex, IndexError> {
        analyzer::register(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|source| IndexError::Tantivy {
                dir: dir.to_path_buf(),
                source,
            })?;
        Ok(SearchIndex {
            dir: dir.to_path_buf(),
            index,
            reader,
            fields,
        })
    }

    fn err(&self, source: tantivy::TantivyError) -> IndexError {
        IndexError::Tantivy {
            dir: self.dir.clone(),
            source,
        }
    }

    /// Make the latest commit visible to searches.
    pub fn reload(&self) -> Result<(), IndexError> {
        self.reader.reload().map_err(|e| self.err(e))
    }

    /// The tantivy document for a stored document.
    pub(crate) fn to_tantivy(&self, doc: &Document) -> TantivyDocument {
        let f = &self.fields;
        let mut t = TantivyDocument::default();
        t.add_u64(f.doc_id, doc.id.0);
        let text = doc.text();
        t.add_text(f.text_surface, &text);
        t.add_text(f.text, text);
        t.add_text(f.name, &doc.original_name);
        if let Some(site) = &doc.site {
            t.add_text(f.site, site);
        }
        t.add_text(f.kind, doc.kind.name());
        if let Some(at) = crate::timefmt::parse(&doc.received_at) {
            t.add_date(f.received_at, tantivy_date(at));
        }
        if let Some(c) = &doc.classification {
            if let Some(bg) = c.bg() {
                t.add_text(f.bg, bg.as_str());
            }
            t.add_text(f.doc_type, &c.doc_type);
            t.add_text(f.schlagwort, &c.schlagwort);
        }
        t
    }

    /// How many times each document id occurs in the index (for `eakte check`).
    pub fn document_ids(&self) -> Result<BTreeMap<DocumentId, usize>, IndexError> {
        let searcher = self.reader.searcher();
        let mut ids = BTreeMap::new();
        for segment in searcher.segment_readers() {
            let column = segment
                .fast_fields()
                .u64("doc_id")
                .map_err(|e| self.err(e))?;
            for doc in segment.doc_ids_alive() {
                if let Some(id) = column.first(doc) {
                    *ids.entry(DocumentId(id)).or_insert(0) += 1;
                }
            }
        }
        Ok(ids)
    }
}

/// A placeholder that keeps an empty `index/` folder in a git checkout.
const KEEP_FILE: &str = ".gitkeep";
/// The list of files tantivy manages, written before `meta.json`.
const TANTIVY_FILE_LIST: &str = ".managed.json";

/// Remove everything in an index directory except the placeholder.
fn empty_dir(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name() == KEEP_FILE {
            continue;
        }
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// An instant as tantivy keeps it.
pub(crate) fn tantivy_date(at: jiff::Timestamp) -> DateTime {
    DateTime::from_timestamp_nanos(i64::try_from(at.as_nanosecond()).unwrap_or(i64::MAX))
}

/// An instant tantivy kept.
pub(crate) fn timestamp_of(date: DateTime) -> jiff::Timestamp {
    jiff::Timestamp::from_nanosecond(i128::from(date.into_timestamp_nanos()))
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}
