//! `/postkorb`: the caseworker's items, urgent first, then oldest; the
//! Vertretung in its own section; live through `/postkorb/live`.

use super::super::error::WebError;
use super::super::view::{age, german_time, state_name, SignedIn};
use super::super::WebState;
use super::{own_path, page};
use crate::api::postbox::{command, long_poll, ChangeBody};
use crate::model::ItemId;
use crate::postbox::ops::Listed;
use crate::service::postbox;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

/// How long the page's live request waits for news before it asks again.
const LIVE_WAIT_SECS: u64 = 25;

#[derive(Template)]
#[template(path = "postkorb_liste.html")]
struct List {
    cursor: u64,
    csrf: String,
    sections: Vec<Section>,
}

struct Section {
    title: &'static str,
    empty: &'static str,
    rows: Vec<Row>,
}

struct Row {
    item: ItemId,
    document: u64,
    received: String,
    age: String,
    doc_type: String,
    bg: Option<String>,
    name: String,
    state: &'static str,
    urgent: bool,
    deputising_for: Option<String>,
}

#[derive(Template)]
#[template(path = "postkorb.html")]
struct PostkorbPage {
    me: super::super::view::Me,
    nav: &'static str,
    list: String,
}

fn row(listed: &Listed, name: String) -> Row {
    let item = &listed.item;
    Row {
        item: item.id,
        document: item.document_id.0,
        received: german_time(&item.received_at),
        age: age(&item.received_at),
        doc_type: item.doc_type.clone(),
        bg: item.bg.as_ref().map(|bg| bg.to_string()),
        name,
        state: state_name(item.state),
        urgent: item.urgent,
        deputising_for: listed.deputising_for.as_ref().map(|k| k.to_string()),
    }
}

/// The list as it is now (the view is read and recorded as the API's poll).
async fn list(web: &WebState, signed_in: &SignedIn) -> Result<String, WebError> {
    let poll = long_poll(&web.api, signed_in.actor.clone(), None, 0).await?;
    let services = web.api.services.clone();
    let items: Vec<crate::model::Item> = poll.items.iter().map(|l| l.item.clone()).collect();
    let names = crate::api::blocking(move || {
        postbox::addressees(&services, &items.iter().collect::<Vec<_>>())
    })
    .await?;
    let (deputy, own): (Vec<_>, Vec<_>) = poll
        .items
        .iter()
        .zip(names)
        .map(|(listed, name)| (listed.deputising_for.is_some(), row(listed, name)))
        .partition(|(deputy, _)| *deputy);
    let list = List {
        cursor: poll.cursor,
        csrf: signed_in.me.csrf.clone(),
        sections: vec![
            Section {
                title: "Eigene Post",
                empty: "Keine offene Post. Neue Post erscheint hier von selbst.",
                rows: own.into_iter().map(|(_, row)| row).collect(),
            },
            Section {
                title: "Vertretung",
                empty: "Sie vertreten heute niemanden, oder es liegt nichts vor.",
                rows: deputy.into_iter().map(|(_, row)| row).collect(),
            },
        ],
    };
    list.render().map_err(WebError::internal)
}

pub async fn postkorb(
    State(web): State<WebState>,
    signed_in: SignedIn,
) -> Result<axum::response::Response, WebError> {
    // Admins have no Postkorb; their page here is the Aktenübernahme.
    if signed_in.me.uebernahme {
        return Ok(axum::response::Redirect::to(crate::web::UEBERNAHME).into_response());
    }
    signed_in.actor.require(postbox::WORKERS)?;
    let list = list(&web, &signed_in).await?;
    Ok(page(&PostkorbPage {
        me: signed_in.me,
        nav: "postkorb",
        list,
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct Since {
    seit: u64,
}

/// The page's live request: waits for a change after `seit`; then the list
/// anew, else 204 (ask again). 410 when the page is too old to catch up.
pub async fn postkorb_live(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Query(since): Query<Since>,
) -> Result<Response, WebError> {
    let poll = long_poll(
        &web.api,
        signed_in.actor.clone(),
        Some(since.seit),
        LIVE_WAIT_SECS,
    )
    .await?;
    if poll.items.is_empty() && poll.removed.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(Html(list(&web, &signed_in).await?).into_response())
}

/// The fields of the item forms (which apply depends on the action).
#[derive(Deserialize)]
pub struct ItemForm {
    csrf: String,
    zurueck: Option<String>,
    notiz: Option<String>,
    an: Option<String>,
    datum: Option<String>,
    bg: Option<String>,
    art: Option<String>,
}

/// zdA, forward, resubmit or start an item, as the API's item change.
pub async fn change_item(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Path((id, action)): Path<(u64, String)>,
    Form(form): Form<ItemForm>,
) -> Result<Response, WebError> {
    signed_in.check_csrf(&form.csrf)?;
    let filled = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let body = ChangeBody {
        to: filled(form.an),
        until: filled(form.datum),
        bg: filled(form.bg),
        doc_type: filled(form.art),
        note: filled(form.notiz),
    };
    if action == "correct" && body.bg.is_none() && body.doc_type.is_none() {
        return Err(WebError::input(
            "Bitte geben Sie die BG-Nummer des Empfängers oder die Art des Schreibens an.",
        ));
    }
    // The API's reading of the fields; what it refuses, said in German.
    let command = command(&action, body).map_err(|e| match e.status {
        StatusCode::NOT_FOUND => WebError::not_found(),
        _ => WebError::input(match action.as_str() {
            "forward" => "Bitte geben Sie an, wohin die Post gehen soll: die Kennung einer Kollegin oder eines Kollegen, oder „klaerung“.",
            "resubmit" => "Bitte geben Sie das Datum der Wiedervorlage als TT.MM.JJJJ an, zum Beispiel 01.12.2026.",
            "correct" => "Das ist keine BG-Nummer. Eine BG-Nummer sieht so aus: 07450BG0160367.",
            _ => "Diese Angabe versteht eakte nicht. Bitte prüfen Sie sie.",
        }),
    })?;
    let services = web.api.services.clone();
    let actor = signed_in.actor.clone();
    crate::api::blocking(move || postbox::change(&services, &actor, ItemId(id), command, None))
        .await?;
    Ok(Redirect::to(&own_path(
        form.zurueck.as_deref().unwrap_or("/postkorb"),
        "/postkorb",
    ))
    .into_response())
}
