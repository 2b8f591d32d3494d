//! `GET /api/v1/postbox` (with long-polling) and
//! `POST /api/v1/postbox/items/{id}/{start|done|forward|resubmit|correct}`.

use super::auth::Caller;
use super::error::ApiError;
use super::{blocking, AppState};
use crate::access::Scope;
use crate::postbox::ops::{self, Command, Listed};
use crate::postbox::{Action, Item, PostboxId};
use crate::registry::BgNummer;
use crate::store::ItemId;
use crate::users::Role;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Longest long-poll.
pub const MAX_WAIT_SECS: u64 = 60;
/// Most changes returned by one poll (the cursor continues after them).
const MAX_CHANGES: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollQuery {
    /// The cursor of the previous poll: only changes after it.
    pub since: Option<u64>,
    /// Seconds to wait for a change when there is none yet (at most 60).
    pub wait: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct Poll {
    pub items: Vec<Listed>,
    /// Items that left the caller's postboxes (forwarded, re-routed) since the cursor.
    pub removed: Vec<ItemId>,
    /// Pass as `since` to get the changes after this answer.
    pub cursor: u64,
}

/// The caller's postbox items: without `since` the current view (open items,
/// urgent first); with `since` the items changed after that cursor, waiting up
/// to `wait` seconds for the first change.
pub async fn poll(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PollQuery>,
) -> Result<Json<Poll>, ApiError> {
    caller.require(&[Role::Caseworker, Role::Clearing, Role::Teamlead])?;
    let deadline = Instant::now() + Duration::from_secs(q.wait.unwrap_or(0).min(MAX_WAIT_SECS));
    // The scope is taken once per poll: a change of responsibility (an absence
    // starting, a registry import) shows from the next poll on.
    let (s, c) = (state.clone(), caller.clone());
    let scope = Arc::new(blocking(move || s.scope(&c)?.ok_or_else(ApiError::not_found)).await?);
    // Subscribed before the first look, so no change slips between look and wait.
    let wake = state.store.subscribe_postboxes(&scope.postboxes);
    let mut stopping = state.stopping.clone();
    let mut since = q.since;
    // Whether this poll waited for news (only those count as deliveries).
    let mut waited = false;
    loop {
        let (s, c, sc) = (state.clone(), caller.clone(), scope.clone());
        // Look and record in one trip to the blocking pool: this is the path
        // between a routed letter and the caseworker's screen.
        let (poll, page_full) = blocking(move || {
            let (poll, page_full) = collect(&s, &c, &sc, since)?;
            if !poll.items.is_empty() || !poll.removed.is_empty() {
                let ids: Vec<String> = poll.items.iter().map(|l| l.item.id.to_string()).collect();
                let detail = format!("items {}", ids.join(","));
                let target = format!("{} item(s)", ids.len());
                s.audit(&c, "read_postbox", target, "ok", Some(detail))?;
            }
            Ok((poll, page_full))
        })
        .await?;
        let news = !poll.items.is_empty() || !poll.removed.is_empty();
        if news && waited {
            let newest = poll.items.iter().map(|l| l.item.seq).max();
            if let Some(published) = newest.and_then(|seq| state.store.change_published_at(seq)) {
                crate::metrics::metrics().postbox_delivery(published.elapsed());
            }
        }
        if news || since.is_none() || Instant::now() >= deadline || *stopping.borrow() {
            return Ok(Json(poll));
        }
        since = Some(poll.cursor);
        if page_full {
            continue; // more changes wait beyond this page; none was the caller's
        }
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return Ok(Json(poll)),
            _ = stopping.changed() => return Ok(Json(poll)),
            _ = wake.notified() => waited = true,
        }
    }
}

/// The answer to a poll, and whether a page of changes was full (more wait).
fn collect(
    state: &AppState,
    caller: &Caller,
    scope: &Scope,
    since: Option<u64>,
) -> Result<(Poll, bool), ApiError> {
    let own = caller.user.caseworker.clone().map(PostboxId::Caseworker);
    let listed = |item: Item| {
        let deputising_for = match (&item.postbox, &own) {
            (PostboxId::Caseworker(k), Some(mine)) if &item.postbox != mine => Some(k.clone()),
            _ => None,
        };
        Listed {
            item,
            deputising_for,
        }
    };
    let Some(since) = since else {
        let cursor = state.store.last_change();
        let today = crate::timefmt::today();
        let mut items = Vec::new();
        for postbox in &scope.postboxes {
            items.extend(
                state
                    .store
                    .items_in(postbox)?
                    .into_iter()
                    .filter(|i| i.visible_on(today))
                    .map(listed),
            );
        }
        items.sort_by(|a, b| {
            b.item
                .urgent
                .cmp(&a.item.urgent)
                .then(a.item.received_at.cmp(&b.item.received_at))
        });
        return Ok((
            Poll {
                items,
                removed: Vec::new(),
                cursor,
            },
            false,
        ));
    };
    let (changed, cursor) = state.store.items_changed_after(since, MAX_CHANGES)?;
    let page_full = changed.len() == MAX_CHANGES;
    let (mut items, mut removed) = (Vec::new(), Vec::new());
    for item in changed {
        if scope.sees_postbox(&item.postbox) {
            items.push(listed(item));
        } else if left_from(&item).is_some_and(|from| scope.sees_postbox(from)) {
            removed.push(item.id);
        }
    }
    Ok((
        Poll {
            items,
            removed,
            cursor,
        },
        page_full,
    ))
}

/// The postbox an item was moved away from by its latest change, if any.
fn left_from(item: &Item) -> Option<&PostboxId> {
    match &item.history.last()?.action {
        Action::Forwarded { from, .. } | Action::Corrected { from, .. } => Some(from),
        _ => None,
    }
}

/// The body of an item change; which fields apply depends on the action.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    /// forward: the target postbox (a Kennung, `klaerung` or `klaerung:<site>`).
    pub to: Option<String>,
    /// resubmit: the day the item reappears (YYYY-MM-DD or DD.MM.YYYY).
    pub until: Option<String>,
    /// correct: the recipient's BG number.
    pub bg: Option<String>,
    /// correct: the document type.
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    pub note: Option<String>,
}

/// Start, finish (zdA), forward, resubmit or correct an item in one of the
/// caller's postboxes.
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(u64, String)>,
    body: Option<Json<ChangeBody>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(&[Role::Caseworker, Role::Clearing, Role::Teamlead])?;
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let command = command(&action, body)?;
    let id = ItemId(id);
    blocking(move || {
        let scope = state.scope(&caller)?.ok_or_else(ApiError::not_found)?;
        let (name, detail) = (command.action(), format!("{command:?}"));
        state.audited(
            &caller,
            name,
            format!("item {id}"),
            |_| Some(detail),
            || {
                let registry = state.pipeline.registry()?;
                let may_change = |item: &Item| scope.sees_postbox(&item.postbox);
                let actor = ops::Actor {
                    name: &caller.actor(),
                    may_change: &may_change,
                };
                let changed = ops::execute(
                    &state.store,
                    &registry,
                    state.pipeline.rules(),
                    id,
                    actor,
                    command,
                    crate::timefmt::today(),
                )?;
                // Moved out of the caller's scope (forwarded, corrected to another BG):
                // its new place and route are none of the caller's business.
                if scope.sees_postbox(&changed.postbox) {
                    Ok(Json(
                        serde_json::to_value(&changed).map_err(ApiError::internal)?,
                    ))
                } else {
                    Ok(Json(serde_json::json!({ "id": changed.id, "moved": true })))
                }
            },
        )
    })
    .await
}

fn command(action: &str, body: ChangeBody) -> Result<Command, ApiError> {
    let missing =
        |field: &str| ApiError::unprocessable(format!("`{field}` is required to {action} an item"));
    Ok(match action {
        "start" => Command::Start,
        "done" => Command::Done { note: body.note },
        "forward" => {
            let to = body.to.ok_or_else(|| missing("to"))?;
            let to = PostboxId::parse(&to)
                .ok_or_else(|| ApiError::unprocessable(format!("{to:?} is not a postbox")))?;
            Command::Forward {
                to,
                note: body.note,
            }
        }
        "resubmit" => {
            let until = body.until.ok_or_else(|| missing("until"))?;
            let until = crate::timefmt::parse_date(&until).ok_or_else(|| {
                ApiError::unprocessable(format!("{until:?} is not a date like 2026-12-01"))
            })?;
            Command::Resubmit {
                until,
                note: body.note,
            }
        }
        "correct" => {
            let bg = match body.bg {
                Some(bg) => Some(BgNummer::parse(&bg).ok_or_else(|| {
                    ApiError::unprocessable(format!("{bg:?} is not a BG number"))
                })?),
                None => None,
            };
            Command::Correct {
                bg,
                doc_type: body.doc_type,
                note: body.note,
            }
        }
        _ => return Err(ApiError::not_found()),
    })
}
