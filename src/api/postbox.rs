//! `GET /api/v1/postbox` (with long-polling) and
//! `POST /api/v1/postbox/items/{id}/{start|done|forward|resubmit|correct}`.

use super::auth::Caller;
use super::error::ApiError;
use super::{blocking, AppState};
use crate::model::{BgNummer, ItemId, PostboxId};
use crate::postbox::ops::Command;
use crate::service::postbox::{self, Changed, Poll};
use crate::service::{ServiceError, Visibility};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Longest long-poll.
pub const MAX_WAIT_SECS: u64 = 60;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollQuery {
    /// The cursor of the previous poll: only changes after it.
    pub since: Option<u64>,
    /// Seconds to wait for a change when there is none yet (at most 60).
    pub wait: Option<u64>,
}

/// The caller's postbox items: without `since` the current view (open items,
/// urgent first); with `since` the items changed after that cursor, waiting up
/// to `wait` seconds for the first change. A poll whose token is revoked
/// meanwhile ends at once, with nothing.
pub async fn poll(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<PollQuery>,
) -> Result<Json<Poll>, ApiError> {
    Ok(Json(
        long_poll(&state, actor, q.since, q.wait.unwrap_or(0)).await?,
    ))
}

/// The work of a poll (the API's and the web UI's live Postkorb): the view,
/// or the changes after `since`, waiting up to `wait` seconds for the first.
pub async fn long_poll(
    state: &AppState,
    actor: crate::service::Actor,
    since: Option<u64>,
    wait: u64,
) -> Result<Poll, ApiError> {
    actor.require(postbox::WORKERS)?;
    let wait = wait.min(MAX_WAIT_SECS);
    // A user's screens need one or two long-polls; a script holding
    // hundreds would hold as many connections and wake-ups.
    let _slot = match (actor.user(), since, wait) {
        (Some(user), Some(_), 1..) => Some(state.polls.take(user.id).ok_or_else(|| {
            ApiError::too_many_requests(
                format!(
                    "{} long-polls of yours are already waiting; end one before starting another.",
                    state.polls.max()
                ),
                Duration::from_secs(1),
            )
        })?),
        _ => None,
    };
    let deadline = Instant::now() + Duration::from_secs(wait);
    let store = state.services.store().clone();
    // Subscribed before the account is looked at, so that a revocation
    // after the token's check either shows below or wakes the wait.
    let mut accounts = store.accounts().changes();
    let user = actor.user().map(|u| u.id);
    // The scope is taken once per poll: a change of responsibility (an absence
    // starting, a registry import) shows from the next poll on.
    let (s, a) = (state.clone(), actor.clone());
    let (visibility, gone) = blocking(move || {
        let gone = revoked(s.services.store(), user)?;
        Ok::<_, ServiceError>((s.services.visibility(&a)?, gone))
    })
    .await?;
    if gone {
        return Err(ApiError::unauthorized("The token was revoked."));
    }
    let visibility = Arc::new(visibility);
    let postboxes = match visibility.as_ref() {
        Visibility::Scoped(scope) => scope.postboxes.clone(),
        Visibility::All => return Err(ApiError::not_found()),
    };
    // Subscribed before the first look, so no change slips between look and wait.
    let wake = store.postboxes().subscribe(&postboxes);
    let postboxes = Arc::new(postboxes);
    let mut since = since;
    // Whether this poll waited for news (only those count as deliveries).
    let mut waited = false;
    loop {
        let (s, a, v, p) = (
            state.clone(),
            actor.clone(),
            visibility.clone(),
            postboxes.clone(),
        );
        // Look and record in one trip to the blocking pool: this is the path
        // between a routed letter and the caseworker's screen.
        let (poll, page_full) =
            blocking(move || postbox::look(&s.services, &a, &v, &p, since)).await?;
        let news = !poll.items.is_empty() || !poll.removed.is_empty();
        if news && waited {
            let newest = poll.items.iter().map(|l| l.item.seq).max();
            if let Some(published) = newest.and_then(|seq| store.postboxes().published_at(seq)) {
                crate::metrics::metrics().postbox_delivery(published.elapsed());
            }
        }
        if news || since.is_none() || Instant::now() >= deadline || state.shutdown.is_triggered() {
            return Ok(poll);
        }
        since = Some(poll.cursor);
        if page_full {
            continue; // more changes wait beyond this page; none was the caller's
        }
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return Ok(poll),
            _ = state.shutdown.triggered() => return Ok(poll),
            _ = wake.notified() => waited = true,
            _ = accounts.changed() => {
                let store = store.clone();
                if blocking(move || revoked(&store, user)).await? {
                    return Err(ApiError::unauthorized("The token was revoked."));
                }
            }
        }
    }
}

/// Whether the polling user's account is gone or revoked.
fn revoked(store: &crate::store::Store, user: Option<u64>) -> Result<bool, ServiceError> {
    let user = match user {
        Some(id) => store.accounts().get(id)?,
        None => None,
    };
    Ok(user.is_none_or(|u| u.revoked_at.is_some()))
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
    Caller(actor): Caller,
    Path((id, action)): Path<(u64, String)>,
    body: Option<Json<ChangeBody>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    actor.require(postbox::WORKERS)?;
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let command = command(&action, body)?;
    let id = ItemId(id);
    blocking(move || {
        let changed = postbox::change(&state.services, &actor, id, command, None)?;
        Ok::<_, ApiError>(Json(match changed {
            Changed::Item(item) => serde_json::to_value(&item).map_err(ApiError::internal)?,
            Changed::Moved(id) => serde_json::json!({ "id": id, "moved": true }),
        }))
    })
    .await
}

pub fn command(action: &str, body: ChangeBody) -> Result<Command, ApiError> {
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
            let until =
                crate::timefmt::day(&until).map_err(|e| ApiError::unprocessable(e.to_string()))?;
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
