//! `/team`: the team lead's overview of the team's postboxes.

use super::super::error::WebError;
use super::super::view::{age, german_time, Me, SignedIn};
use super::super::WebState;
use super::page;
use crate::service::postbox;
use askama::Template;
use axum::extract::State;
use axum::response::Html;

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    me: Me,
    nav: &'static str,
    team: String,
    rows: Vec<Row>,
}

struct Row {
    kennung: String,
    name: String,
    open: usize,
    urgent: usize,
    oldest: String,
    absence: String,
    deputising: String,
}

pub async fn team(
    State(web): State<WebState>,
    signed_in: SignedIn,
) -> Result<Html<String>, WebError> {
    let services = web.api.services.clone();
    let actor = signed_in.actor.clone();
    let members = crate::api::blocking(move || postbox::team(&services, &actor)).await?;
    let team = signed_in
        .actor
        .user()
        .and_then(|u| u.team.clone())
        .unwrap_or_default();
    let join = |ks: &[crate::model::Kennung]| {
        ks.iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rows = members
        .into_iter()
        .map(|m| Row {
            kennung: m.kennung.to_string(),
            name: m.name,
            open: m.open,
            urgent: m.urgent,
            oldest: m
                .oldest
                .map(|at| format!("{} ({})", german_time(&at), age(&at)))
                .unwrap_or_else(|| "–".into()),
            absence: match (m.absent_until, m.deputy) {
                (Some(until), Some(deputy)) => format!(
                    "bis {}, Vertretung {deputy}",
                    crate::timefmt::german_day(until)
                ),
                _ => "–".into(),
            },
            deputising: match join(&m.deputising_for) {
                none if none.is_empty() => "–".into(),
                some => some,
            },
        })
        .collect();
    page(&TeamPage {
        me: signed_in.me,
        nav: "team",
        team,
        rows,
    })
}
