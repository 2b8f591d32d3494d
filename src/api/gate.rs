//! Every API request passes the gate before its handler: the caller is
//! authenticated and the endpoint's roles (as [`super::openapi::ENDPOINTS`]
//! declares them) checked before any body is read, a body waits for its
//! share of the memory budget, and a refusal no operation recorded is
//! recorded here, once.
//!
//! Operations record their own refusals (a foreign document, a bad search),
//! with what was asked. What never reaches an operation is recorded here: no
//! token or a bad one (with the address), an address turned away, a role that
//! may not call the endpoint, a malformed body or query, an unknown path or
//! action. Each request is recorded at most once: operations mark the
//! request's [`Recorded`] when they write its entry.
//!
//! The entry names the route as declared (`POST
//! /api/v1/postbox/items/{id}/{action}`), not the path as sent, and the
//! status, not the error text: both could carry what a caller typed, which
//! may be social data.

use super::auth::{address_of, authenticate, Caller};
use super::error::ApiError;
use super::{blocking, AppState};
use crate::service::{Actor, Recorded};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What the authentication learnt of a request's caller.
#[derive(Debug, Clone, Default)]
pub struct RequestTrail {
    seen: Arc<Mutex<Seen>>,
    /// Set once an operation recorded the request.
    pub recorded: Recorded,
}

#[derive(Debug, Clone, Default)]
struct Seen {
    caller: Option<Actor>,
    /// Why there is no caller (`bad token`, …).
    note: Option<&'static str>,
}

impl RequestTrail {
    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn authenticated(&self, actor: &Actor) {
        self.seen().caller = Some(actor.clone());
    }

    pub fn note(&self, why: &'static str) {
        self.seen().note = Some(why);
    }
}

/// Whether a refusal says "not for you" (`denied`) or "not like this"
/// (`refused`), as operations record theirs.
fn outcome(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED
        | StatusCode::FORBIDDEN
        | StatusCode::NOT_FOUND
        | StatusCode::TOO_MANY_REQUESTS => "denied",
        _ => "refused",
    }
}

/// Request bodies in memory at once, counted in KiB: a request with a body
/// waits for its share before it is read.
pub struct BodyBudget {
    kib: Arc<Semaphore>,
    total_kib: u32,
    /// Largest single body (`limits.max_upload_bytes`).
    max_body: u64,
    patience: Duration,
}

/// How long a body waits for its share before it is refused (503).
const BUDGET_PATIENCE: Duration = Duration::from_secs(10);

impl BodyBudget {
    pub fn new(total_bytes: u64, max_body: u64) -> BodyBudget {
        let total_kib = u32::try_from(total_bytes.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .clamp(1, Semaphore::MAX_PERMITS as u32);
        BodyBudget {
            kib: Arc::new(Semaphore::new(total_kib as usize)),
            total_kib,
            max_body,
            patience: BUDGET_PATIENCE,
        }
    }

    /// The share of a body of `length` bytes (unknown: the largest allowed).
    async fn share(&self, length: Option<u64>) -> Result<OwnedSemaphorePermit, ApiError> {
        let length = length.unwrap_or(self.max_body);
        if length > self.max_body {
            return Err(ApiError::too_large(format!(
                "The body is {length} bytes; at most {} are accepted.",
                self.max_body
            )));
        }
        let kib = u32::try_from(length.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .min(self.total_kib);
        match tokio::time::timeout(self.patience, self.kib.clone().acquire_many_owned(kib)).await {
            Ok(permit) => Ok(permit.expect("the budget is never closed")),
            Err(_) => Err(ApiError {
                retry_after: Some(Duration::from_secs(5)),
                ..ApiError::unavailable(
                    "Too many large requests at once; try again in a few seconds.",
                )
            }),
        }
    }
}

/// The endpoint's roles as declared, if it is declared and takes a token.
fn roles_of(method: &Method, route: &str) -> Option<&'static [&'static str]> {
    // axum answers HEAD with the GET handler.
    let method = if method == Method::HEAD {
        "get"
    } else {
        method.as_str()
    };
    super::openapi::ENDPOINTS
        .iter()
        .find(|e| e.path == route && e.method.eq_ignore_ascii_case(method))
        .map(|e| e.roles)
        .filter(|roles| !roles.is_empty())
}

/// The gate: authentication, roles, the body's budget; then the handler;
/// then the record of a refusal nobody recorded.
pub async fn pass(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let trail = RequestTrail::default();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(no such path)", |p| p.as_str())
        .to_string();
    // A method of the caller's own invention is not written down as sent.
    let method = match *request.method() {
        Method::GET | Method::HEAD | Method::POST | Method::PUT | Method::DELETE => {
            request.method().as_str()
        }
        _ => "OTHER",
    };
    let target = format!("{method} {route}");
    let address = address_of(request.extensions());
    let response = match admit(&state, request, &route, &trail).await {
        Ok((request, _share)) => next.run(request).await,
        Err(refused) => refused.into_response(),
    };
    record(&state, &trail, response, target, address).await
}

/// Authenticate and check roles for a declared endpoint, and take a share
/// of the body budget for a request with a body; the share is held until the
/// answer is made (the handler has read the body by then).
async fn admit(
    state: &AppState,
    mut request: Request,
    route: &str,
    trail: &RequestTrail,
) -> Result<(Request, Option<OwnedSemaphorePermit>), ApiError> {
    request.extensions_mut().insert(trail.clone());
    let Some(roles) = roles_of(request.method(), route) else {
        // Not an endpoint that takes a token (the web UI's pages, which
        // authenticate by session): its body is budgeted all the same, but
        // for a package to take over, which goes to disk as it arrives.
        if super::exchange::streamed(route) {
            return Ok((request, None));
        }
        let share = match budgeted_length(&request) {
            Some(length) => Some(state.body_budget.share(length).await?),
            None => None,
        };
        return Ok((request, share));
    };
    let (mut parts, body) = request.into_parts();
    let actor = authenticate(&parts, state, trail).await?;
    let role = actor.user().map(|u| u.role.to_string()).unwrap_or_default();
    // `any`: every authenticated user (the OpenAPI document itself).
    if !roles.contains(&role.as_str()) && !roles.contains(&"any") {
        // As for anything else the caller may not see.
        return Err(ApiError::not_found());
    }
    parts.extensions.insert(Caller(actor));
    let request = Request::from_parts(parts, body);
    // A package to import goes to disk as it arrives, not into memory.
    if super::exchange::streamed(route) {
        return Ok((request, None));
    }
    let share = match budgeted_length(&request) {
        Some(length) => Some(state.body_budget.share(length).await?),
        None => None,
    };
    Ok((request, share))
}

/// Whether a request has a body that takes a share of the budget, and its
/// length if told (`None`: none to budget; `Some(None)`: of unknown length).
fn budgeted_length(request: &Request) -> Option<Option<u64>> {
    let has_body = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH
    );
    // An empty body (a POST that starts an item) takes no share.
    let exact = http_body::Body::size_hint(request.body()).exact();
    if !has_body || exact == Some(0) {
        return None;
    }
    Some(exact.or_else(|| {
        request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
    }))
}

/// Record a 4xx answer that no operation recorded, before it goes out. When
/// the entry cannot be written the answer is that error instead (503 while
/// the store cannot be written): nothing leaves unrecorded.
async fn record(
    state: &AppState,
    trail: &RequestTrail,
    response: Response,
    target: String,
    address: std::net::IpAddr,
) -> Response {
    let status = response.status();
    if !status.is_client_error() || trail.recorded.is_marked() {
        return response;
    }
    let seen = trail.seen().clone();
    let detail = match seen.note {
        Some(note) => format!("status {}, {note}", status.as_u16()),
        None => format!("status {}", status.as_u16()),
    };
    let services = state.services.clone();
    let recorded = blocking(move || {
        services.record_refusal(
            seen.caller.as_ref(),
            address,
            target,
            outcome(status),
            detail,
        )
    })
    .await;
    match recorded {
        Ok(()) => response,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_wait_for_their_share_of_the_memory_budget() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mib = 1024 * 1024;
            let budget = BodyBudget {
                patience: Duration::from_millis(50),
                ..BodyBudget::new(mib, 50 * mib)
            };
            let held = budget.share(Some(600 * 1024)).await.unwrap();
            // The rest is 424 KiB: a body of 500 KiB waits, then is refused.
            let refused = budget.share(Some(500 * 1024)).await.unwrap_err();
            assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(refused.retry_after.is_some());
            drop(held);
            let _fits = budget.share(Some(500 * 1024)).await.unwrap();
            // An unknown length counts as the largest body, capped at the budget.
            drop(_fits);
            let _unknown = budget.share(None).await.unwrap();
            let too_large = budget.share(Some(51 * mib)).await.unwrap_err();
            assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
        });
    }
}
