//! `/akten/{bg}`: the BG's members and documents by Schlagwort, newest
//! first, filtered by Schlagwort and type; a note is filed from here.

use super::super::error::WebError;
use super::super::view::{german_time, receipt_day, Me, SignedIn};
use super::super::WebState;
use super::page;
use crate::pipeline::upload::Content;
use crate::service::documents::{self, Filing, Member};
use crate::service::exchange::{self, ExportRequest};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::collections::BTreeSet;

#[derive(Template)]
#[template(path = "akte.html")]
struct AktePage {
    me: Me,
    nav: &'static str,
    bg: String,
    members: Vec<Member>,
    groups: Vec<GroupView>,
    /// The Akte's own Schlagworte and types: the filter names one by its
    /// place in these lists, so that no typed word stands in the address.
    all_schlagworte: Vec<String>,
    all_types: Vec<String>,
    filter_schlagwort: Option<usize>,
    filter_type: Option<usize>,
    from: String,
    to: String,
    filtered: bool,
}

struct GroupView {
    schlagwort: String,
    documents: Vec<EntryView>,
}

struct EntryView {
    id: u64,
    name: String,
    doc_type: String,
    received: String,
}

/// Filters, as places in the Akte's lists of Schlagworte and types (a
/// Schlagwort is typed freely when filing, so it stays out of the address).
#[derive(Deserialize, Default)]
pub struct AkteFilter {
    schlagwort: Option<String>,
    art: Option<String>,
    /// Received on or after / on or before (TT.MM.JJJJ).
    von: Option<String>,
    bis: Option<String>,
}

/// The filter's place in `values`: a number within the list, else none.
fn chosen(given: &Option<String>, values: &[String]) -> Option<usize> {
    given
        .as_deref()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|i| *i < values.len())
}

pub async fn akte(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Path(bg): Path<String>,
    Query(filter): Query<AkteFilter>,
) -> Result<Html<String>, WebError> {
    let services = web.api.services.clone();
    let actor = signed_in.actor.clone();
    let akte = crate::api::blocking(move || documents::akte(&services, &actor, &bg)).await?;
    let all_schlagworte: Vec<String> = akte
        .schlagworte
        .iter()
        .map(|g| g.schlagwort.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let all_types: Vec<String> = akte
        .schlagworte
        .iter()
        .flat_map(|g| g.documents.iter().map(|d| d.doc_type.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let (filter_schlagwort, filter_type) = (
        chosen(&filter.schlagwort, &all_schlagworte),
        chosen(&filter.art, &all_types),
    );
    let schlagwort = filter_schlagwort.map(|i| all_schlagworte[i].clone());
    let doc_type = filter_type.map(|i| all_types[i].clone());
    let (from, to) = (
        receipt_day(filter.von.as_deref().unwrap_or(""), false)?,
        receipt_day(filter.bis.as_deref().unwrap_or(""), true)?,
    );
    let in_days = |received: &str| {
        let at = crate::timefmt::parse(received);
        from.is_none_or(|f| at.is_some_and(|a| a >= f))
            && to.is_none_or(|t| at.is_some_and(|a| a < t))
    };
    let groups = akte
        .schlagworte
        .iter()
        .filter(|g| schlagwort.as_ref().is_none_or(|s| *s == g.schlagwort))
        .map(|g| GroupView {
            schlagwort: g.schlagwort.clone(),
            documents: g
                .documents
                .iter()
                .filter(|d| doc_type.as_ref().is_none_or(|t| *t == d.doc_type))
                .filter(|d| in_days(&d.received_at))
                .map(|d| EntryView {
                    id: d.id.0,
                    name: d.name.clone(),
                    doc_type: d.doc_type.clone(),
                    received: german_time(&d.received_at),
                })
                .collect(),
        })
        .filter(|g: &GroupView| !g.documents.is_empty())
        .collect();
    page(&AktePage {
        me: signed_in.me,
        nav: "suche",
        bg: akte.bg.to_string(),
        members: akte.members,
        groups,
        all_schlagworte,
        all_types,
        filtered: schlagwort.is_some() || doc_type.is_some() || from.is_some() || to.is_some(),
        from: filter.von.clone().unwrap_or_default(),
        to: filter.bis.clone().unwrap_or_default(),
        filter_schlagwort,
        filter_type,
    })
}

#[derive(Deserialize)]
pub struct NoteForm {
    csrf: String,
    schlagwort: String,
    titel: Option<String>,
    text: String,
}

/// File a note into the Akte, as the API's upload of `text/plain`.
pub async fn file_note(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Path(bg): Path<String>,
    Form(form): Form<NoteForm>,
) -> Result<Response, WebError> {
    signed_in.check_csrf(&form.csrf)?;
    if form.text.trim().is_empty() || form.schlagwort.trim().is_empty() {
        return Err(WebError::input(
            "Bitte geben Sie ein Schlagwort und den Text der Notiz an.",
        ));
    }
    let filing = Filing {
        schlagwort: form.schlagwort.trim().to_string(),
        doc_type: None,
        title: form
            .titel
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
        content: Content::Note(form.text),
    };
    let services = web.api.services.clone();
    let actor = signed_in.actor.clone();
    let target = bg.clone();
    crate::api::blocking(move || documents::file(&services, &actor, &target, filing)).await?;
    Ok(Redirect::to(&format!(
        "/akten/{}",
        crate::api::documents::percent_encode(&bg)
    ))
    .into_response())
}

#[derive(Deserialize)]
pub struct UploadQuery {
    schlagwort: String,
}

/// A PDF or an e-mail dropped onto the Akte (the page's script sends the file
/// as the body, the CSRF token in `X-CSRF-Token`), as the API's upload.
pub async fn file_upload(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Path(bg): Path<String>,
    Query(q): Query<UploadQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let csrf = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    signed_in.check_csrf(csrf)?;
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let content = match content_type.split(';').next().unwrap_or("").trim() {
        "application/pdf" => Content::Pdf(body.to_vec()),
        "message/rfc822" => Content::Email(body.to_vec()),
        _ => {
            return Err(WebError::input(
                "Diese Datei kann nicht zur Akte genommen werden: bitte ein PDF oder eine E-Mail (.eml).",
            ))
        }
    };
    if q.schlagwort.trim().is_empty() {
        return Err(WebError::input("Bitte geben Sie ein Schlagwort an."));
    }
    let filing = Filing {
        schlagwort: q.schlagwort.trim().to_string(),
        doc_type: None,
        title: None,
        content,
    };
    let services = web.api.services.clone();
    let actor = signed_in.actor.clone();
    crate::api::blocking(move || documents::file(&services, &actor, &bg, filing)).await?;
    Ok(axum::http::StatusCode::CREATED.into_response())
}

/// "Akte exportieren": the form's fields are the API's export parameters
/// (`schlagwort` repeats); the answer is the file, as a download.
pub async fn export(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Path(bg): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let (csrf, query, receiver) = export_fields(&body);
    signed_in.check_csrf(&csrf)?;
    if !receiver {
        return Err(WebError::input(
            "Bitte geben Sie die empfangende Stelle an (z. B. Jobcenter Kiel oder Sozialgericht Schleswig).",
        ));
    }
    let request = ExportRequest::from_query(&query).map_err(|_| {
        WebError::input("Bitte prüfen Sie die Tage (TT.MM.JJJJ; der erste nicht nach dem letzten).")
    })?;
    let services = web.api.services.clone();
    let actor = signed_in.actor.clone();
    let exported =
        crate::api::blocking(move || exchange::export(&services, &actor, &bg, request)).await?;
    crate::api::exchange::download(exported)
        .await
        .map_err(|_| WebError::internal("the export could not be sent"))
}

/// The export form's CSRF token, its other filled-in fields as a query, and
/// whether it names the receiving authority.
fn export_fields(body: &[u8]) -> (String, String, bool) {
    let mut csrf = String::new();
    let mut query = form_urlencoded::Serializer::new(String::new());
    let mut receiver = false;
    for (key, value) in form_urlencoded::parse(body) {
        match key.as_ref() {
            "csrf" => csrf = value.into_owned(),
            _ if value.trim().is_empty() => {}
            name => {
                receiver |= name == "empfaenger";
                query.append_pair(name, &value);
            }
        }
    }
    (csrf, query.finish(), receiver)
}

/// "Deckblatt drucken": the sheet opens in the browser's viewer, to print.
pub async fn deckblatt(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Path(bg): Path<String>,
    axum::extract::Query(q): axum::extract::Query<crate::api::exchange::DeckblattQuery>,
) -> Result<Response, WebError> {
    let services = web.api.services.clone();
    let actor = signed_in.actor.clone();
    let printed = crate::api::blocking(move || {
        crate::service::coversheet::deckblatt(&services, &actor, &bg, q.vorgang)
    })
    .await?;
    Ok(crate::api::exchange::deckblatt_response(printed, "inline"))
}
