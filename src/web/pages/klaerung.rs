//! `/klaerung`: the clearing office's postbox with the reason for each letter.

use super::super::error::WebError;
use super::super::view::{age, clearing_reason, german_time, route_in_german, Me, SignedIn};
use super::super::WebState;
use super::page;
use crate::api::postbox::long_poll;
use crate::model::Role;
use askama::Template;
use axum::extract::State;
use axum::response::Html;

#[derive(Template)]
#[template(path = "klaerung.html")]
struct ClearingPage {
    me: Me,
    nav: &'static str,
    site: Option<String>,
    rows: Vec<Row>,
}

struct Row {
    item: u64,
    document: u64,
    received: String,
    age: String,
    doc_type: String,
    urgent: bool,
    reason: String,
}

pub async fn klaerung(
    State(web): State<WebState>,
    signed_in: SignedIn,
) -> Result<Html<String>, WebError> {
    signed_in.actor.require(&[Role::Clearing])?;
    let site = signed_in.actor.user().and_then(|u| u.site.clone());
    let poll = long_poll(&web.api, signed_in.actor.clone(), None, 0).await?;
    let rows = poll
        .items
        .iter()
        .map(|l| {
            let item = &l.item;
            Row {
                item: item.id.0,
                document: item.document_id.0,
                received: german_time(&item.received_at),
                age: age(&item.received_at),
                doc_type: item.doc_type.clone(),
                urgent: item.urgent,
                reason: item.route.clearing.as_ref().map_or_else(
                    || route_in_german(&item.route, item.bg.as_ref()),
                    clearing_reason,
                ),
            }
        })
        .collect();
    page(&ClearingPage {
        me: signed_in.me,
        nav: "klaerung",
        site,
        rows,
    })
}
