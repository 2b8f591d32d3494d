//! The indexer: the process's one tantivy writer, fed from the store's index queue.
//!
//! The store queues every new document in the same transaction that records it.
//! The indexer takes queued documents in batches, replaces them in the index
//! (delete by id, then add, so repeating a batch after a crash leaves one copy),
//! commits, and only then removes them from the queue. Batching keeps commits, and
//! with them tantivy segments, few under a burst of scans.

use super::{IndexError, Opened, SearchIndex};
use crate::failpoint;
use crate::model::DocumentId;
use crate::progress::{self, Progress};
use crate::store::{Store, StoreError};
use tantivy::{IndexWriter, TantivyDocument, Term};

/// Documents per commit while draining the queue.
const BATCH: usize = 1000;
/// Memory for the writer's in-RAM segment before it flushes to disk.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

pub struct Indexer {
    index: SearchIndex,
    writer: IndexWriter<TantivyDocument>,
}

impl Indexer {
    /// Take the index's writer lock; fails if another process writes this index.
    pub fn new(index: SearchIndex) -> Result<Indexer, IndexError> {
        let writer = index
            .index
            .writer_with_num_threads(1, WRITER_MEMORY)
            .map_err(|e| index.err(e))?;
        Ok(Indexer { index, writer })
    }

    /// Open the index in `dir` for `store`: rebuild it if it was just created and
    /// the store already holds documents, then index whatever is still queued.
    pub fn open(dir: &std::path::Path, store: &Store) -> Result<Indexer, IndexError> {
        let (index, opened) = SearchIndex::open(dir)?;
        let mut indexer = Indexer::new(index)?;
        if opened == Opened::Created && store.documents().count() > 0 {
            let n = indexer.rebuild(store, &progress::Silent)?;
            tracing::info!(documents = n, "search index rebuilt from the store");
        }
        indexer.drain_queue(store)?;
        Ok(indexer)
    }

    /// The index this indexer writes (clones share its reader).
    pub fn index(&self) -> &SearchIndex {
        &self.index
    }

    /// Index every queued document; returns how many were indexed.
    pub fn drain_queue(&mut self, store: &Store) -> Result<usize, IndexError> {
        let mut total = 0;
        loop {
            let ids = store.documents().pending_index(BATCH)?;
            if ids.is_empty() {
                return Ok(total);
            }
            // Taking them off the queue writes the store: not onto a full disk.
            store.ensure_writable()?;
            for &id in &ids {
                self.replace(store, id)?;
            }
            self.writer.commit().map_err(|e| self.index.err(e))?;
            failpoint::hit("after-index-commit");
            store.documents().mark_indexed(&ids)?;
            self.index.reload()?;
            total += ids.len();
        }
    }

    /// Rebuild the whole index from the store (`eakte reindex`).
    pub fn rebuild(&mut self, store: &Store, progress: &dyn Progress) -> Result<usize, IndexError> {
        self.writer
            .delete_all_documents()
            .map_err(|e| self.index.err(e))?;
        let total = store.documents().count() as u64;
        let mut n: u64 = 0;
        for doc in store.documents().all() {
            self.writer
                .add_document(self.index.to_tantivy(&doc?))
                .map_err(|e| self.index.err(e))?;
            n += 1;
            progress::every(progress, "documents indexed", n, total.max(n), 10_000);
        }
        progress.update("documents indexed", n, n);
        self.writer.commit().map_err(|e| self.index.err(e))?;
        store.documents().clear_index_queue()?;
        self.index.reload()?;
        Ok(n as usize)
    }

    fn replace(&mut self, store: &Store, id: DocumentId) -> Result<(), IndexError> {
        self.writer
            .delete_term(Term::from_field_u64(self.index.fields.doc_id, id.0));
        match store.documents().get(id) {
            Ok(Some(doc)) => {
                self.writer
                    .add_document(self.index.to_tantivy(&doc))
                    .map_err(|e| self.index.err(e))?;
            }
            Ok(None) => {}
            // One unreadable record must not stop indexing of all others;
            // `eakte check` reports it.
            Err(e @ StoreError::Corrupt { .. }) => {
                tracing::error!(document = id.0, error = %e, "document cannot be indexed");
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// Wait for background merges so the process can exit with a tidy index.
    pub fn finish(self) -> Result<(), IndexError> {
        let Indexer { index, writer } = self;
        writer.wait_merging_threads().map_err(|e| index.err(e))
    }
}
