//! The HTTP API (`eakte serve` on `listen`): postbox polling, search, Akten,
//! documents, uploads, administration, the audit trail, metrics.
//!
//! Paths and their contract are listed in [`openapi::ENDPOINTS`], which
//! `GET /api/v1/openapi.json` publishes. Every handler does its store, index and
//! audit work on the blocking pool ([`blocking`]); the async runtime only
//! routes and waits. Whatever a caller may not see is answered with 404, as if
//! it did not exist (see [`crate::access`]).

pub mod admin;
pub mod auth;
pub mod documents;
pub mod error;
pub mod exchange;
pub mod gate;
pub mod headers;
pub mod openapi;
pub mod postbox;
pub mod search;
pub mod slow_clients;
pub mod tally;

use crate::service::Services;
use crate::shutdown::Shutdown;
use auth::Limiter;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, State};
use axum::http::{header, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use error::ApiError;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What every handler shares.
pub struct Inner {
    /// The audited operations (the same the command line and the web UI use).
    pub services: Arc<Services>,
    pub limiter: Limiter,
    /// Largest request body (uploads, CSV imports).
    pub max_body_bytes: usize,
    /// Open connections at most, and from one address.
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    /// Request bodies in memory at once.
    pub body_budget: gate::BodyBudget,
    /// Long-polls waiting, per user.
    pub polls: tally::Tally<u64>,
    /// Long-polls answer at once when the daemon stops.
    pub shutdown: Shutdown,
}

pub type AppState = Arc<Inner>;

impl Inner {
    pub fn new(
        services: Arc<Services>,
        limits: &crate::config::Limits,
        shutdown: Shutdown,
    ) -> AppState {
        Arc::new(Inner {
            services,
            limiter: Limiter::new(limits.bad_tokens_before_slowdown),
            max_body_bytes: usize::try_from(limits.max_upload_bytes).unwrap_or(usize::MAX),
            max_connections: limits.max_connections,
            max_connections_per_address: limits.max_connections_per_address,
            body_budget: gate::BodyBudget::new(
                limits.max_body_memory_bytes,
                limits.max_upload_bytes,
            ),
            polls: tally::Tally::new(limits.max_polls_per_user),
            shutdown,
        })
    }
}

/// Run blocking work (sled, tantivy, the audit flush) off the async runtime.
pub async fn blocking<T: Send + 'static, E: Into<ApiError> + Send + 'static>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)?
        .map_err(Into::into)
}

/// The API's routes (see [`openapi::ENDPOINTS`] for what each does).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/v1/postbox", get(postbox::poll))
        .route("/api/v1/postbox/items/{id}/{action}", post(postbox::change))
        .route("/api/v1/search", get(search::search))
        .route("/api/v1/documents/{id}", get(documents::metadata))
        .route("/api/v1/documents/{id}/text", get(documents::text))
        .route("/api/v1/documents/{id}/original", get(documents::original))
        .route("/api/v1/akten/{bg}", get(documents::akte))
        .route("/api/v1/akten/{bg}/documents", post(documents::upload))
        .route("/api/v1/akten/{bg}/export", get(exchange::export))
        .route("/api/v1/akten/{bg}/deckblatt", get(exchange::deckblatt))
        .route("/api/v1/admin/import/xdomea", post(exchange::import))
        .route("/api/v1/audit", get(admin::audit))
        .route(
            "/api/v1/admin/users",
            get(admin::list_users).post(admin::add_user),
        )
        .route("/api/v1/admin/users/{id}/revoke", post(admin::revoke_user))
        .route(
            "/api/v1/admin/recipients/import",
            post(admin::import_recipients),
        )
        .route(
            "/api/v1/admin/caseworkers/import",
            post(admin::import_caseworkers),
        )
        .route(
            "/api/v1/admin/absences",
            get(admin::list_absences).post(admin::add_absence),
        )
        .route("/api/v1/admin/absences/{id}", delete(admin::remove_absence))
        .route("/api/v1/admin/pending", get(admin::list_pending))
        .route(
            "/api/v1/admin/pending/{id}/approve",
            post(admin::approve_pending),
        )
        .route(
            "/api/v1/admin/pending/{id}/reject",
            post(admin::reject_pending),
        )
        .fallback(|| async { ApiError::not_found() })
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .layer(middleware::from_fn(slow_clients::cut_off_slow_bodies))
        .layer(middleware::from_fn_with_state(state.clone(), gate::pass))
        .layer(middleware::from_fn(observe))
        .layer(middleware::from_fn(headers::secure))
        .with_state(state)
}

/// How long a client may take to send a request's headers. A client that
/// opens connections and trickles bytes would otherwise hold them (and the
/// daemon's file descriptors) for ever; no real client needs more than this.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serve `app` (the API's [`router`], with the web UI in front of it) on
/// `listener` until the shutdown, then let the open
/// connections finish for up to `grace` (long-polls end on the shutdown too).
///
/// axum's `serve` offers no header read timeout, so this is its accept loop
/// on hyper with one.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    app: Router,
    grace: Duration,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;
    // Past the cap, clients wait in the kernel's backlog instead of each
    // taking a file descriptor and a task. The slots also tell when every
    // connection has closed.
    let slots = Arc::new(tokio::sync::Semaphore::new(state.max_connections));
    let connections = u32::try_from(state.max_connections).unwrap_or(u32::MAX);
    // IPv6 counted per /64, as failed logins are.
    let per_address = tally::Tally::new(state.max_connections_per_address);
    let shutdown = state.shutdown.clone();
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            _ = shutdown.triggered() => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait instead of spinning.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.triggered() => break,
        };
        let Some(held) = per_address.take(auth::source(remote.ip())) else {
            // One address holds its share already: closed at once, so that
            // it cannot take the slots everyone else needs.
            tracing::warn!(address = %remote.ip(), "too many API connections from one address; closing the newest");
            continue;
        };
        let service = app
            .clone()
            .layer(axum::Extension(ConnectInfo(remote)))
            .into_service::<hyper::body::Incoming>();
        let close = shutdown.clone();
        tokio::spawn(async move {
            let _slot = (slot, held);
            let mut builder = Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT);
            let connection = builder.serve_connection_with_upgrades(
                TokioIo::new(stream),
                TowerToHyperService::new(service),
            );
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = close.triggered() => connection.as_mut().graceful_shutdown(),
            }
            let _ = connection.await;
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, slots.acquire_many(connections))
        .await
        .is_err()
    {
        tracing::warn!("API requests still running at shutdown were cut off");
    }
}

/// Metrics for every request; problem documents for axum's own plain-text
/// rejections (malformed query strings, bodies over the limit).
async fn observe(request: Request<axum::body::Body>, next: Next) -> Response {
    let started = Instant::now();
    // Only methods the API knows become labels: bounded metrics memory.
    let method = match *request.method() {
        axum::http::Method::GET => "GET",
        axum::http::Method::POST => "POST",
        axum::http::Method::DELETE => "DELETE",
        _ => "other",
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let response = next.run(request).await;
    let status = response.status();
    crate::metrics::metrics().http(method, &route, status.as_u16(), started.elapsed());
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if (status.is_client_error() || status.is_server_error()) && !is_problem {
        let allow = response.headers().get(header::ALLOW).cloned();
        let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .unwrap_or_default();
        let mut problem =
            error::from_rejection(status, String::from_utf8_lossy(&body).into_owned())
                .into_response();
        if let Some(allow) = allow {
            problem.headers_mut().insert(header::ALLOW, allow);
        }
        return problem;
    }
    response
}

/// `ok`, or a 503 problem document saying what keeps the daemon from working
/// (the store cannot be written: scans wait in the inbox, answers that must be
/// audited are refused).
async fn healthz() -> Response {
    match crate::health::store_blocked() {
        None => axum::Json(serde_json::json!({ "status": "ok" })).into_response(),
        Some(blocked) => ApiError::unavailable(format!(
            "The store cannot be written since {}: {}. Scans wait in the inbox.",
            blocked.since, blocked.reason
        ))
        .into_response(),
    }
}

/// Prometheus metrics, for admins and auditors (a scraper gets such a token).
async fn metrics(
    State(state): State<AppState>,
    caller: auth::Caller,
) -> Result<Response, ApiError> {
    caller
        .0
        .require(&[crate::model::Role::Admin, crate::model::Role::Auditor])?;
    let store = state.services.store().clone();
    let (queue, documents) = blocking(move || {
        let documents = store.documents();
        Ok::<_, ApiError>((documents.pending_index_len(), documents.count()))
    })
    .await?;
    let text = crate::metrics::metrics().render(&[
        (
            "eakte_index_queue_depth",
            "Stored documents waiting to be indexed.",
            queue as f64,
        ),
        (
            "eakte_documents",
            "Documents in the store.",
            documents as f64,
        ),
    ]);
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        text,
    )
        .into_response())
}
