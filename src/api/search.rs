//! `GET /api/v1/search`: German full-text search within what the caller may see.

use super::auth::Caller;
use super::error::ApiError;
use super::{blocking, AppState};
use crate::index::{SearchRequest, SearchResults};
use crate::model::BgNummer;
use crate::service::documents;
use crate::service::ServiceError;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;

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
    Caller(actor): Caller,
    Query(q): Query<SearchQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    actor.require(&[
        crate::model::Role::Caseworker,
        crate::model::Role::Clearing,
        crate::model::Role::Teamlead,
    ])?;
    let limit = q.limit.unwrap_or(20);
    let offset = q.offset.unwrap_or(0);
    // Receipt days are German days: from the German midnight that starts
    // `from` to the one that ends `to`.
    let day = |name: &str,
               value: &Option<String>,
               end: bool|
     -> Result<Option<jiff::Timestamp>, ApiError> {
        let Some(v) = value else { return Ok(None) };
        let date =
            crate::timefmt::day(v).map_err(|e| ApiError::bad_request(format!("{name}: {e}")))?;
        Ok(Some(crate::clock::receipt_bound(date, end)))
    };
    let (from, to) = (day("from", &q.from, false)?, day("to", &q.to, true)?);
    // A BG filter that is no BG number would silently match nothing.
    let bg = match &q.bg {
        Some(bg) => Some(BgNummer::parse(bg).ok_or_else(|| {
            ApiError::bad_request(format!("bg {bg:?} is not a BG number like 07450BG0160367"))
        })?),
        None => None,
    };
    let Some(index) = state.services.running().map(|r| r.index.clone()) else {
        return Err(ApiError::internal("the API runs without an index"));
    };
    blocking(move || {
        let request = SearchRequest {
            query: &q.q,
            bg: bg.as_ref().map(BgNummer::as_str),
            doc_type: q.doc_type.as_deref(),
            schlagwort: q.schlagwort.as_deref(),
            site: q.site.as_deref(),
            from,
            to,
            within: None,
            limit,
            offset,
            facets: true,
            months: &[],
        };
        Ok::<_, ServiceError>(Json(documents::search(
            &state.services,
            &index,
            &actor,
            request,
        )?))
    })
    .await
}
