//! `GET /api/v1/search`: German full-text search within what the caller may see.

use super::auth::Caller;
use super::error::ApiError;
use super::{blocking, AppState};
use crate::index::{SearchRequest, SearchResults};
use crate::registry::BgNummer;
use crate::store::DocumentId;
use crate::users::Role;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;

pub const MAX_LIMIT: usize = 100;
pub const MAX_OFFSET: usize = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    pub q: String,
    pub bg: Option<String>,
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    pub schlagwort: Option<String>,
    pub site: Option<String>,
    /// Received on or after this day (YYYY-MM-DD).
    pub from: Option<String>,
    /// Received on or before this day.
    pub to: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SearchQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    caller.require(&[Role::Caseworker, Role::Clearing, Role::Teamlead])?;
    let limit = q.limit.unwrap_or(20);
    let offset = q.offset.unwrap_or(0);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    if offset > MAX_OFFSET {
        return Err(ApiError::bad_request(format!(
            "offset must be at most {MAX_OFFSET}; narrow the search instead"
        )));
    }
    let day = |name: &str,
               value: &Option<String>,
               end: bool|
     -> Result<Option<time::OffsetDateTime>, ApiError> {
        let Some(v) = value else { return Ok(None) };
        let date = crate::timefmt::parse_date(v).ok_or_else(|| {
            ApiError::bad_request(format!("{name} {v:?} is not a date like 2026-11-27"))
        })?;
        let date = if end {
            date.next_day().unwrap_or(date)
        } else {
            date
        };
        Ok(Some(date.midnight().assume_utc()))
    };
    let (from, to) = (day("from", &q.from, false)?, day("to", &q.to, true)?);
    // A BG filter that is no BG number would silently match nothing.
    let bg = match &q.bg {
        Some(bg) => Some(BgNummer::parse(bg).ok_or_else(|| {
            ApiError::bad_request(format!("bg {bg:?} is not a BG number like 07450BG0160367"))
        })?),
        None => None,
    };
    blocking(move || {
        let scope = state.scope(&caller)?.ok_or_else(ApiError::not_found)?;
        let bgs: Vec<_> = scope.bgs.iter().cloned().collect();
        let mut ids: Vec<DocumentId> = Vec::new();
        for postbox in &scope.postboxes {
            ids.extend(state.store.document_ids_in(postbox)?);
        }
        let request = SearchRequest {
            query: &q.q,
            bg: bg.as_ref().map(BgNummer::as_str),
            doc_type: q.doc_type.as_deref(),
            schlagwort: q.schlagwort.as_deref(),
            site: q.site.as_deref(),
            from,
            to,
            within: Some((&bgs, &ids)),
            limit,
            offset,
            facets: true,
        };
        let mut results = state.index.search_with(&request)?;
        // The index may lag behind a correction that moved a document out of
        // scope: every hit shown is checked against the store.
        let mut shown = Vec::with_capacity(results.hits.len());
        for mut hit in std::mem::take(&mut results.hits) {
            let visible = match state.store.document(hit.id)? {
                Some(doc) => scope.sees_document(&state.store, &doc)?,
                None => false,
            };
            if visible {
                hit.score = None;
                shown.push(hit);
            }
        }
        results.hits = shown;
        let ids: Vec<String> = results.hits.iter().map(|h| h.id.to_string()).collect();
        let filters = format!(
            "q={:?} bg={:?} type={:?} schlagwort={:?} site={:?} from={:?} to={:?} offset={offset}; shown: {}",
            q.q, q.bg, q.doc_type, q.schlagwort, q.site, q.from, q.to, ids.join(",")
        );
        state.audit(&caller, "search", format!("{} hit(s)", results.total), "ok", Some(filters))?;
        Ok(Json(results))
    })
    .await
}
