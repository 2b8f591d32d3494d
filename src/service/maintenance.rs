//! Work on the store as a whole, for operators: checking it against itself and
//! the index, and rebuilding the index.

use super::{Actor, ServiceError, Services};
use crate::index::indexer::Indexer;
use crate::index::SearchIndex;
use crate::model::Role;
use crate::pipeline::check::{self, CheckReport};
use crate::progress::Progress;
use std::sync::Arc;

/// `eakte check`: blobs against their hashes, records against each other, the
/// index against the store. Blocking.
pub fn check(
    services: &Services,
    actor: &Actor,
    progress: &dyn Progress,
) -> Result<CheckReport, ServiceError> {
    let summary = |r: Option<&CheckReport>| {
        r.map(|r| {
            format!(
                "{} documents, {} problem(s), {} note(s)",
                r.documents,
                r.problems.len(),
                r.notes.len()
            )
        })
    };
    services.audited(actor, "check", "store".into(), summary, |_| {
        actor.require(&[Role::Admin])?;
        let index = match services.running() {
            Some(running) => Some(running.index.clone()),
            None => match SearchIndex::open_read_only(&services.index_dir) {
                Ok(index) => Some(index),
                Err(crate::index::IndexError::Missing { .. }) => None,
                Err(e) => return Err(e.into()),
            },
        };
        Ok(check::check(
            services.store(),
            index.as_ref(),
            &services.inbox_dir,
            progress,
        )?)
    })
}

/// `eakte reindex`: rebuild the search index from the store; returns how many
/// documents it holds. The daemon's indexer does it while the daemon runs.
/// Blocking.
pub fn reindex(
    services: &Services,
    actor: &Actor,
    progress: Arc<dyn Progress>,
) -> Result<usize, ServiceError> {
    let detail = |n: Option<&usize>| n.map(|n| format!("{n} documents"));
    services.audited(actor, "reindex", "index".into(), detail, |_| {
        actor.require(&[Role::Admin])?;
        if let Some(running) = services.running() {
            return Ok(running.indexing.rebuild(progress)?);
        }
        let (index, _) = SearchIndex::open(&services.index_dir)?;
        let mut indexer = Indexer::new(index)?;
        let n = indexer.rebuild(services.store(), progress.as_ref())?;
        indexer.finish()?;
        Ok(n)
    })
}
