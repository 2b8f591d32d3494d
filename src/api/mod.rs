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
pub mod openapi;
pub mod postbox;
pub mod search;
pub mod slow_clients;

use crate::access::{Responsibilities, Scope};
use crate::audit::{Audit, Event};
use crate::derived::Derived;
use crate::index::SearchIndex;
use crate::pipeline::Pipeline;
use crate::store::Store;
use auth::{Caller, Limiter};
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, State};
use axum::http::{header, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use error::ApiError;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What every handler shares.
pub struct Inner {
    pub store: Store,
    pub index: SearchIndex,
    pub pipeline: Pipeline,
    pub audit: Audit,
    pub limiter: Limiter,
    /// Largest request body (uploads, CSV imports).
    pub max_body_bytes: usize,
    /// Open connections at most.
    pub max_connections: usize,
    /// Turns true when the daemon stops: long-polls answer at once.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    responsibilities: Derived<Responsibilities>,
}

pub type AppState = Arc<Inner>;

impl Inner {
    pub fn new(
        pipeline: Pipeline,
        index: SearchIndex,
        limits: &crate::config::Limits,
        stopping: tokio::sync::watch::Receiver<bool>,
    ) -> AppState {
        let store = pipeline.store().clone();
        Arc::new(Inner {
            audit: Audit::new(store.clone()),
            store,
            index,
            pipeline,
            limiter: Limiter::new(limits.bad_tokens_before_slowdown),
            max_body_bytes: usize::try_from(limits.max_upload_bytes).unwrap_or(usize::MAX),
            max_connections: limits.max_connections,
            stopping,
            responsibilities: Derived::default(),
        })
    }

    /// What `caller` may see today (`None`: no documents at all). Blocking.
    pub fn scope(&self, caller: &Caller) -> Result<Option<Scope>, ApiError> {
        let registry = self.pipeline.registry()?;
        let responsibilities = self.responsibilities.get(
            |r| r.generation == registry.generation(),
            || Ok::<_, ApiError>(Responsibilities::compute(&registry)),
        )?;
        Ok(Scope::of(
            &caller.user,
            &registry,
            &responsibilities,
            crate::timefmt::today(),
        ))
    }

    /// Run `work` and record it in the audit trail with its outcome: `ok`,
    /// `denied` (404: out of scope or not there), `refused` (other client errors)
    /// or `failed`, and the detail `detail` makes of the result. The entry is
    /// written before the answer goes out. Blocking.
    pub fn audited<T>(
        &self,
        caller: &Caller,
        action: &str,
        target: String,
        detail: impl FnOnce(Option<&T>) -> Option<String>,
        work: impl FnOnce() -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        // Nothing is done that could not be recorded.
        self.store.ensure_writable()?;
        let result = work();
        let detail = detail(result.as_ref().ok());
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) if e.status == StatusCode::NOT_FOUND => "denied",
            Err(e) if e.status.is_client_error() => "refused",
            Err(_) => "failed",
        };
        self.audit(caller, action, target, outcome, detail)?;
        result
    }

    /// Record what `caller` did in the audit trail. Blocking (flushes).
    pub fn audit(
        &self,
        caller: &Caller,
        action: &str,
        target: String,
        outcome: &str,
        detail: Option<String>,
    ) -> Result<(), ApiError> {
        self.audit.record(Event {
            who: caller.who(),
            role: Some(caller.user.role.to_string()),
            address: caller.address.to_string(),
            action: action.to_string(),
            target,
            outcome: outcome.to_string(),
            detail,
        })?;
        Ok(())
    }
}

/// Run blocking work (sled, tantivy, the audit flush) off the async runtime.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)?
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
        .fallback(|| async { ApiError::not_found() })
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .layer(middleware::from_fn(slow_clients::cut_off_slow_bodies))
        .layer(middleware::from_fn(observe))
        .with_state(state)
}

/// How long a client may take to send a request's headers. A client that
/// opens connections and trickles bytes would otherwise hold them (and the
/// daemon's file descriptors) for ever; no real client needs more than this.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serve `router` on `listener` until `shutdown` completes, then let the open
/// connections finish (long-polls end on the daemon's stop signal).
///
/// axum's `serve` offers no header read timeout, so this is its accept loop
/// on hyper with one.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;
    // Past the cap, clients wait in the kernel's backlog instead of each
    // taking a file descriptor and a task.
    let slots = Arc::new(tokio::sync::Semaphore::new(state.max_connections));
    let app = router(state);
    let (closing, closed) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
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
            _ = &mut shutdown => break,
        };
        let service = app
            .clone()
            .layer(axum::Extension(ConnectInfo(remote)))
            .into_service::<hyper::body::Incoming>();
        let mut close = closed.clone();
        tokio::spawn(async move {
            let _slot = slot;
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
                _ = close.changed() => connection.as_mut().graceful_shutdown(),
            }
            let _ = connection.await;
        });
    }
    drop(closed);
    let _ = closing.send(true);
    closing.closed().await;
    Ok(())
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
async fn metrics(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(&[crate::users::Role::Admin, crate::users::Role::Auditor])?;
    let store = state.store.clone();
    let (queue, documents) =
        blocking(move || Ok((store.pending_index_len(), store.document_count()))).await?;
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
