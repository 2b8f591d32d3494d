//! `/suche`: the API's search syntax with facets and snippets. The words go
//! in the POST body, and the session keeps them: the results are at
//! `/suche/{n}`, which names only the search's number, so that the browser's
//! back button works and no word stands in an address a proxy logs. A BG
//! number, or a name (a birth date, a Kundennummer) that is one of the
//! caller's recipients, opens the Akte at once.

use super::super::error::WebError;
use super::super::view::{german_time, month_in_german, receipt_day, recent_months, Me, SignedIn};
use super::super::WebState;
use super::page;
use crate::index::SearchRequest;
use crate::model::BgNummer;
use crate::service::{documents, recipients};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
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
    search: Search,
    /// The search's number in the session (0: none yet).
    number: u32,
    searched: bool,
    total: usize,
    page: usize,
    more: bool,
    hits: Vec<HitView>,
    facets: Vec<FacetView>,
    /// Recipients whose name (or number, or birth date) the words are.
    people: Vec<PersonView>,
    /// Newest first.
    months: Vec<MonthView>,
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
    /// The form field a value narrows the search by (`art`, `schlagwort`).
    field: Option<&'static str>,
    values: Vec<(String, u64)>,
}

/// A month of the month facet: narrows the search to its days.
struct MonthView {
    name: String,
    from: String,
    to: String,
    count: u64,
}

struct PersonView {
    name: String,
    born: String,
    bg: String,
}

/// A search as typed into the form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Search {
    q: String,
    #[serde(default)]
    art: String,
    #[serde(default)]
    schlagwort: String,
    #[serde(default)]
    von: String,
    #[serde(default)]
    bis: String,
    /// From an Akte's search box: only its documents.
    #[serde(default)]
    bg: String,
    /// Whether the words named several of the caller's recipients when the
    /// form was sent (the results page lists them; with none it need not
    /// look again).
    #[serde(skip)]
    people: bool,
}

impl Search {
    fn trimmed(self) -> Search {
        let t = |s: String| s.trim().to_string();
        Search {
            q: t(self.q),
            art: t(self.art),
            schlagwort: t(self.schlagwort),
            von: t(self.von),
            bis: t(self.bis),
            bg: t(self.bg),
            people: self.people,
        }
    }

    fn filtered(&self) -> bool {
        [&self.art, &self.schlagwort, &self.von, &self.bis, &self.bg]
            .iter()
            .any(|f| !f.is_empty())
    }

    fn remembered(&self) -> Vec<(String, String)> {
        [
            ("q", &self.q),
            ("art", &self.art),
            ("schlagwort", &self.schlagwort),
            ("von", &self.von),
            ("bis", &self.bis),
            ("bg", &self.bg),
            ("people", &self.people.to_string()),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn recalled(fields: &[(String, String)]) -> Search {
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        Search {
            q: field("q"),
            art: field("art"),
            schlagwort: field("schlagwort"),
            von: field("von"),
            bis: field("bis"),
            bg: field("bg"),
            people: field("people") == "true",
        }
    }

    /// Whether the words may be a person: a name, a birth date, a number,
    /// with no search syntax and no filter (the phone call: "Petersen Jens").
    fn may_be_a_person(&self) -> bool {
        let words = self.q.split_whitespace().count();
        !self.filtered()
            && !self.q.contains('"')
            && !self.q.split_whitespace().any(|w| w.starts_with('-'))
            && (1..=recipients::MAX_WORDS).contains(&words)
            && self.q.len() <= recipients::MAX_QUERY_BYTES
    }
}

fn nonempty(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

fn empty_page(me: Me) -> SearchPage {
    SearchPage {
        me,
        nav: "suche",
        search: Search::default(),
        number: 0,
        searched: false,
        total: 0,
        page: 1,
        more: false,
        hits: Vec::new(),
        facets: Vec::new(),
        people: Vec::new(),
        months: Vec::new(),
    }
}

pub async fn suche_form(signed_in: SignedIn) -> Result<Html<String>, WebError> {
    page(&empty_page(signed_in.me))
}

#[derive(Deserialize)]
pub struct SearchForm {
    csrf: String,
    #[serde(flatten)]
    search: Search,
}

/// A search sent: to the Akte it names, or kept in the session and shown at
/// `/suche/{n}`.
pub async fn suche(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Form(form): Form<SearchForm>,
) -> Result<Response, WebError> {
    signed_in.check_csrf(&form.csrf)?;
    let mut search = form.search.trimmed();
    if let Some(bg) = BgNummer::parse(&search.q) {
        return Ok(Redirect::to(&format!("/akten/{bg}")).into_response());
    }
    if search.may_be_a_person() {
        let people = people(&web, &signed_in, &search.q).await?;
        let mut bgs: Vec<&BgNummer> = people.iter().map(|p| &p.bg).collect();
        bgs.sort();
        bgs.dedup();
        if let [bg] = bgs.as_slice() {
            return Ok(Redirect::to(&format!("/akten/{bg}")).into_response());
        }
        search.people = !people.is_empty();
    }
    let number = web
        .sessions
        .remember(&signed_in.cookie, search.remembered())
        .ok_or_else(|| {
            WebError::new(
                StatusCode::UNAUTHORIZED,
                "Abgemeldet",
                "Bitte melden Sie sich neu an.",
            )
        })?;
    Ok(Redirect::to(&format!("/suche/{number}")).into_response())
}

async fn people(
    web: &WebState,
    signed_in: &SignedIn,
    q: &str,
) -> Result<Vec<crate::model::Person>, WebError> {
    let services = web.api.services.clone();
    let actor = signed_in.actor.clone();
    let query = q.to_string();
    Ok(crate::api::blocking(move || recipients::find(&services, &actor, &query)).await?)
}

#[derive(Deserialize)]
pub struct PageQuery {
    seite: Option<usize>,
}

/// The results of the session's search `number`.
pub async fn results(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Path(number): Path<u32>,
    Query(paging): Query<PageQuery>,
) -> Result<Response, WebError> {
    let Some(fields) = web.sessions.recall(&signed_in.cookie, number) else {
        // Forgotten (an old tab, a new login): the empty form.
        return Ok(Redirect::to("/suche").into_response());
    };
    let search = Search::recalled(&fields);
    let (from, to) = (
        receipt_day(&search.von, false)?,
        receipt_day(&search.bis, true)?,
    );
    let within = match search.bg.as_str() {
        "" => None,
        bg => Some(BgNummer::parse(bg).ok_or_else(WebError::not_found)?),
    };
    // Within the pages a search may show (the API's deepest offset).
    let last_page = documents::MAX_OFFSET / PAGE_SIZE + 1;
    let page_number = paging.seite.unwrap_or(1).clamp(1, last_page);
    let people = if search.people && page_number == 1 {
        people(&web, &signed_in, &search.q).await?
    } else {
        Vec::new()
    };
    let Some(index) = web.api.services.running().map(|r| r.index.clone()) else {
        return Err(WebError::internal("the web UI runs without an index"));
    };
    let services = web.api.services.clone();
    let actor = signed_in.actor.clone();
    let s = search.clone();
    let months = recent_months();
    let results = crate::api::blocking(move || {
        let request = SearchRequest {
            query: &s.q,
            bg: within.as_ref().map(BgNummer::as_str),
            doc_type: nonempty(&s.art),
            schlagwort: nonempty(&s.schlagwort),
            site: None,
            from,
            to,
            within: None,
            limit: PAGE_SIZE,
            offset: (page_number - 1) * PAGE_SIZE,
            facets: true,
            months: &months,
        };
        documents::search(&services, &index, &actor, request)
    })
    .await?;
    let months = results
        .facets
        .as_ref()
        .map(|f| {
            f.month
                .iter()
                .rev()
                .filter_map(|(key, count)| {
                    let (name, from, to) = month_in_german(key)?;
                    Some(MonthView {
                        name,
                        from,
                        to,
                        count: *count,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let facets = results
        .facets
        .map(|f| {
            [
                ("Art", Some("art"), f.doc_type),
                ("Schlagwort", Some("schlagwort"), f.schlagwort),
                ("Standort", None, f.site),
            ]
            .into_iter()
            .filter(|(_, _, values)| !values.is_empty())
            .map(|(title, field, values)| FacetView {
                title,
                field,
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
    let people = people
        .iter()
        .map(|p| PersonView {
            name: format!("{}, {}", p.nachname, p.vorname),
            born: crate::timefmt::german_day(p.geburtsdatum),
            bg: p.bg.to_string(),
        })
        .collect();
    Ok(page(&SearchPage {
        search,
        number,
        searched: true,
        total: results.total,
        page: page_number,
        more: results.total > page_number * PAGE_SIZE && page_number < last_page,
        hits,
        facets,
        people,
        months,
        ..empty_page(signed_in.me)
    })?
    .into_response())
}
