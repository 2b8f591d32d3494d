//! `/akten/{bg}`: the BG's members and documents by Schlagwort, newest
//! first, filtered by Schlagwort and type; a note is filed from here.

use super::super::error::WebError;
use super::super::view::{german_time, Me, SignedIn};
use super::super::WebState;
use super::page;
use crate::pipeline::upload::Content;
use crate::service::documents::{self, Filing, Member};
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
    all_schlagworte: BTreeSet<String>,
    all_types: BTreeSet<String>,
    filter_schlagwort: String,
    filter_type: String,
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

/// Filters (categories, not social data: they may stand in the address).
#[derive(Deserialize, Default)]
pub struct AkteFilter {
    schlagwort: Option<String>,
    art: Option<String>,
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
    let wanted = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    let (schlagwort, doc_type) = (wanted(&filter.schlagwort), wanted(&filter.art));
    let all_schlagworte = akte
        .schlagworte
        .iter()
        .map(|g| g.schlagwort.clone())
        .collect();
    let all_types = akte
        .schlagworte
        .iter()
        .flat_map(|g| g.documents.iter().map(|d| d.doc_type.clone()))
        .collect();
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
        filtered: schlagwort.is_some() || doc_type.is_some(),
        filter_schlagwort: schlagwort.unwrap_or_default(),
        filter_type: doc_type.unwrap_or_default(),
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
