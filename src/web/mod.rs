//! The caseworkers' web UI (German), served by `eakte serve` on the API's
//! listener: server-rendered pages (askama templates, compiled into the
//! binary), one stylesheet and a few lines of JavaScript of our own for the
//! live Postkorb and the keyboard. No framework and no build step: a page is
//! one request of a few tens of kB, which a slow office PC renders at once.
//!
//! One permission path: every page calls the same audited service functions
//! as the matching API call ([`crate::service`]), so scope, 404 for what is
//! not the caller's and the audit entries are the API's. Requests pass the
//! API's gate too, which records every refusal no operation recorded.

mod assets;
mod error;
mod pages;
pub mod session;
mod view;

use crate::api::AppState;
use crate::config::WebConfig;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use session::Sessions;
use std::sync::Arc;
use std::time::Instant;

/// What the pages share: the API's state and the open sessions.
pub struct Web {
    pub api: AppState,
    pub sessions: Sessions,
    /// `[web] secure_cookie`.
    pub secure_cookie: bool,
    /// `[web] page_cache_dir`.
    pub page_cache_dir: std::path::PathBuf,
    /// Page images rendered at once.
    pub renders: tokio::sync::Semaphore,
    /// `[web] trusted_user_header` and `trusted_proxies`.
    pub single_sign_on: Option<crate::config::SingleSignOn>,
}

pub type WebState = Arc<Web>;

/// The pages' policy: our own scripts, styles and images only, no inline
/// script, no framing, forms only to ourselves.
pub const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; \
    frame-ancestors 'none'";

/// The web UI in front of the API: its pages, and everything else to the
/// API's router.
/// Where an admin sends a package to take over: its body goes to disk as it
/// arrives, not into memory (see [`crate::api::gate`]).
pub use crate::api::exchange::UEBERNAHME_PAGE as UEBERNAHME;

pub fn app(api: AppState, config: &WebConfig) -> Router {
    let web = Arc::new(Web {
        api: api.clone(),
        sessions: Sessions::new(config.session_idle, config.session_absolute),
        secure_cookie: config.secure_cookie,
        page_cache_dir: config.page_cache_dir.clone(),
        renders: tokio::sync::Semaphore::new(2),
        single_sign_on: config.single_sign_on.clone(),
    });
    let pages = Router::new()
        .route("/", get(pages::start))
        .route("/anmelden", get(pages::login_form).post(pages::login))
        .route("/abmelden", post(pages::logout))
        .route("/postkorb", get(pages::postkorb))
        .route(view::LIVE_PATH, get(pages::postkorb_live))
        .route("/eintraege/{id}/{aktion}", post(pages::change_item))
        .route("/dokumente/{id}", get(pages::dokument))
        .route("/dokumente/{id}/original", get(pages::original))
        .route("/dokumente/{id}/empfaenger", post(pages::find_recipient))
        .route("/dokumente/{id}/seiten/{n}", get(pages::page_image))
        .route("/klaerung", get(pages::klaerung))
        .route("/team", get(pages::team))
        .route("/akten/{bg}", get(pages::akte))
        .route("/akten/{bg}/notiz", post(pages::file_note))
        .route("/akten/{bg}/datei", post(pages::file_upload))
        .route("/akten/{bg}/export", post(pages::export))
        .route("/akten/{bg}/deckblatt", get(pages::deckblatt))
        .route(
            UEBERNAHME,
            get(pages::uebernahme_form).post(pages::uebernahme_receive),
        )
        .route(
            "/aktenuebernahme/{token}",
            get(pages::uebernahme_show).post(pages::uebernahme_decide),
        )
        .route(
            "/aktenuebernahme/{token}/quittung",
            get(pages::uebernahme_receipt),
        )
        .route("/suche", get(pages::suche_form).post(pages::suche))
        .route("/suche/{n}", get(pages::results))
        .route("/assets/{name}", get(assets::serve))
        .with_state(web)
        // As the API's: bodies within the upload limit, sent at a decent
        // pace, and budgeted in memory (the gate).
        .layer(DefaultBodyLimit::max(api.max_body_bytes))
        .layer(middleware::from_fn(
            crate::api::slow_clients::cut_off_slow_bodies,
        ))
        .layer(middleware::from_fn_with_state(
            api.clone(),
            crate::api::gate::pass,
        ))
        .layer(middleware::from_fn(page_headers));
    pages
        .fallback_service(crate::api::router(api))
        .layer(middleware::from_fn(error::german_errors))
}

/// Request metrics as the API keeps them, and the pages' headers.
async fn page_headers(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let method = match *request.method() {
        axum::http::Method::GET => "GET",
        axum::http::Method::POST => "POST",
        axum::http::Method::HEAD => "HEAD",
        _ => "other",
    };
    let mut response = next.run(request).await;
    crate::metrics::metrics().http(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    page_security(response.headers_mut());
    response
}

/// The headers of every page: the API's against caching and sniffing (kept
/// where a handler chose otherwise, as for the stylesheet), the pages' own
/// policy (kept where set, as for an original), and the referrer within eakte
/// only, so that a form's Origin is sent.
pub fn page_security(headers: &mut axum::http::HeaderMap) {
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(PAGE_POLICY));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}
