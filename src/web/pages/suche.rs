//! `/suche`: the API's search syntax with facets and snippets; the words go
//! in the POST body, never in an address a proxy logs. A BG number jumps to
//! its Akte.

use super::super::error::WebError;
use super::super::view::{german_time, Me, SignedIn};
use super::super::WebState;
use super::page;
use crate::index::SearchRequest;
use crate::model::BgNummer;
use crate::service::documents;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

/// Hits per page.
const PAGE_SIZE: usize = 20;

#[derive(Template)]
#[template(path = "suche.html")]
struct SearchPage {
    me: Me,
    nav: &'static str,
    q: String,
    doc_type: String,
    schlagwort: String,
    from: String,
    to: String,
    searched: bool,
    total: usize,
    page: usize,
    more: bool,
    hits: Vec<HitView>,
    facets: Vec<FacetView>,
}

struct HitView {
    id: u64,
    name: String,
    doc_type: String,
    received: String,
    bg: Option<String>,
    snippet: String,
}

struct FacetView {
    title: &'static str,
    values: Vec<(String, u64)>,
}

impl SearchPage {
    fn empty(me: Me) -> SearchPage {
        SearchPage {
            me,
            nav: "suche",
            q: String::new(),
            doc_type: String::new(),
            schlagwort: String::new(),
            from: String::new(),
            to: String::new(),
            searched: false,
            total: 0,
            page: 1,
            more: false,
            hits: Vec::new(),
            facets: Vec::new(),
        }
    }
}

pub async fn suche_form(signed_in: SignedIn) -> Result<Html<String>, WebError> {
    page(&SearchPage::empty(signed_in.me))
}

#[derive(Deserialize)]
pub struct SearchForm {
    csrf: String,
    q: String,
    art: Option<String>,
    schlagwort: Option<String>,
    von: Option<String>,
    bis: Option<String>,
    seite: Option<usize>,
}

pub async fn suche(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Form(form): Form<SearchForm>,
) -> Result<Response, WebError> {
    signed_in.check_csrf(&form.csrf)?;
    let q = form.q.trim().to_string();
    if let Some(bg) = BgNummer::parse(&q) {
        return Ok(Redirect::to(&format!("/akten/{bg}")).into_response());
    }
    let filled = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
    let (doc_type, schlagwort) = (filled(&form.art), filled(&form.schlagwort));
    let (from_text, to_text) = (filled(&form.von), filled(&form.bis));
    let day = |text: &str, end: bool| -> Result<Option<jiff::Timestamp>, WebError> {
        if text.is_empty() {
            return Ok(None);
        }
        let date = crate::timefmt::parse_date(text).ok_or_else(|| {
            WebError::input(format!(
                "„{text}“ ist kein Datum. Bitte geben Sie es als TT.MM.JJJJ an, zum Beispiel 01.12.2026."
            ))
        })?;
        Ok(Some(crate::clock::receipt_bound(date, end)))
    };
    let (from, to) = (day(&from_text, false)?, day(&to_text, true)?);
    // Within the pages a search may show (the API's deepest offset).
    let last_page = documents::MAX_OFFSET / PAGE_SIZE + 1;
    let page_number = form.seite.unwrap_or(1).clamp(1, last_page);
    let Some(index) = web.api.services.running().map(|r| r.index.clone()) else {
        return Err(WebError::internal("the web UI runs without an index"));
    };
    let services = web.api.services.clone();
    let actor = signed_in.actor.clone();
    let (query, dt, sw) = (q.clone(), doc_type.clone(), schlagwort.clone());
    let results = crate::api::blocking(move || {
        let request = SearchRequest {
            query: &query,
            bg: None,
            doc_type: (!dt.is_empty()).then_some(dt.as_str()),
            schlagwort: (!sw.is_empty()).then_some(sw.as_str()),
            site: None,
            from,
            to,
            within: None,
            limit: PAGE_SIZE,
            offset: (page_number - 1) * PAGE_SIZE,
            facets: true,
        };
        documents::search(&services, &index, &actor, request)
    })
    .await?;
    let facets = results
        .facets
        .map(|f| {
            [
                ("Art", f.doc_type),
                ("Schlagwort", f.schlagwort),
                ("Standort", f.site),
            ]
            .into_iter()
            .filter(|(_, values)| !values.is_empty())
            .map(|(title, values)| FacetView {
                title,
                values: values.into_iter().collect(),
            })
            .collect()
        })
        .unwrap_or_default();
    let hits = results
        .hits
        .into_iter()
        .map(|h| HitView {
            id: h.id.0,
            name: h.name,
            doc_type: h.doc_type.unwrap_or_else(|| "Dokument".into()),
            received: german_time(&h.received_at),
            bg: h.bg,
            snippet: h.snippet,
        })
        .collect();
    Ok(page(&SearchPage {
        q,
        doc_type,
        schlagwort,
        from: from_text,
        to: to_text,
        searched: true,
        total: results.total,
        page: page_number,
        more: results.total > page_number * PAGE_SIZE && page_number < last_page,
        hits,
        facets,
        ..SearchPage::empty(signed_in.me)
    })?
    .into_response())
}
