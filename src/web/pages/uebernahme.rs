//! `/aktenuebernahme`: an admin takes over an Akte another authority handed
//! over (an xdomea Abgabe). The package is sent first and kept on the
//! store's disk under an unguessable name; the page shows what it holds and
//! where it would go; only the admin's confirmation takes it.

use super::super::error::WebError;
use super::super::view::{german_time, Me, SignedIn};
use super::super::WebState;
use super::page;
use crate::model::Role;
use crate::pipeline::transfer::Taken;
use crate::service::exchange::{self, Preview};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "uebernahme.html")]
struct UebernahmePage {
    me: Me,
    nav: &'static str,
    token: String,
    preview: Option<Preview>,
    created: String,
    size: String,
    taken: Option<Taken>,
    discarded: bool,
}

impl UebernahmePage {
    fn new(me: Me) -> UebernahmePage {
        UebernahmePage {
            me,
            nav: "uebernahme",
            token: String::new(),
            preview: None,
            created: String::new(),
            size: String::new(),
            taken: None,
            discarded: false,
        }
    }
}

/// How long a package sent but neither taken nor discarded is kept.
const PENDING_FOR: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Only admins have this page; everybody else gets what a missing page gets.
fn admin(signed_in: &SignedIn) -> Result<(), WebError> {
    match signed_in.actor.user() {
        Some(user) if user.role == Role::Admin => Ok(()),
        _ => Err(WebError::not_found()),
    }
}

/// A token as this page makes them: 32 lower-case hex digits.
fn checked(token: &str) -> Result<&str, WebError> {
    let ok = token.len() == 32
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(token)
    } else {
        Err(WebError::not_found())
    }
}

pub async fn form(signed_in: SignedIn) -> Result<Html<String>, WebError> {
    admin(&signed_in)?;
    page(&UebernahmePage::new(signed_in.me))
}

/// The package, sent as the body by the page's script: kept, then shown.
pub async fn receive(
    State(web): State<WebState>,
    signed_in: SignedIn,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Response, WebError> {
    admin(&signed_in)?;
    let csrf = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    signed_in.check_csrf(csrf)?;
    let blobs = web.api.services.store().blobs();
    blobs.forget_pending(PENDING_FOR);
    let token = hex::encode(&crate::users::random_secret().map_err(WebError::internal)?[..16]);
    let dir = blobs.pending(&token);
    std::fs::create_dir_all(&dir).map_err(WebError::internal)?;
    let received =
        crate::api::exchange::receive(body, &dir.join("package.zip"), web.api.services.store())
            .await;
    if let Err(e) = received {
        let _ = std::fs::remove_dir_all(&dir);
        tracing::info!(error = %e.detail, "an Akte package did not arrive");
        return Err(WebError::input(
            "Die Datei kam nicht vollständig an oder ist zu groß.",
        ));
    }
    let weiter = format!("/aktenuebernahme/{token}");
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "weiter": weiter })),
    )
        .into_response())
}

/// What the kept package holds and where it would go.
pub async fn show(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Path(token): Path<String>,
) -> Result<Html<String>, WebError> {
    admin(&signed_in)?;
    let token = checked(&token)?.to_string();
    let path = web
        .api
        .services
        .store()
        .blobs()
        .pending(&token)
        .join("package.zip");
    if !path.exists() {
        return Err(WebError::not_found());
    }
    let services = web.api.services.clone();
    let actor = signed_in.actor.clone();
    let preview = crate::api::blocking(move || exchange::preview(&services, &actor, &path))
        .await
        .map_err(refusal)?;
    let mut view = UebernahmePage::new(signed_in.me);
    view.created = german_time(&preview.created_at);
    view.size = megabytes(preview.bytes);
    view.preview = Some(preview);
    view.token = token;
    page(&view)
}

/// A package eakte will not take, said in German with the reason as it
/// was found (file names and checksums are the sender's to mend).
fn refusal(e: crate::api::error::ApiError) -> WebError {
    WebError::input(format!(
        "Diese Abgabe kann nicht übernommen werden; es wurde nichts geändert. Grund: {}",
        e.detail
    ))
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0).replace('.', ",")
}

#[derive(Deserialize)]
pub struct Decision {
    csrf: String,
    aktion: String,
}

/// Take the kept package, or throw it away.
pub async fn decide(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Path(token): Path<String>,
    Form(form): Form<Decision>,
) -> Result<Html<String>, WebError> {
    admin(&signed_in)?;
    signed_in.check_csrf(&form.csrf)?;
    let token = checked(&token)?.to_string();
    let dir = web.api.services.store().blobs().pending(&token);
    let path = dir.join("package.zip");
    if !path.exists() {
        return Err(WebError::not_found());
    }
    let mut view = UebernahmePage::new(signed_in.me);
    match form.aktion.as_str() {
        "uebernehmen" => {}
        "verwerfen" => {
            let _ = std::fs::remove_dir_all(&dir);
            view.discarded = true;
            return page(&view);
        }
        _ => {
            return Err(WebError::input(
                "Bitte wählen Sie „Akte übernehmen“ oder „Verwerfen“.",
            ))
        }
    }
    let services = web.api.services.clone();
    let actor = signed_in.actor.clone();
    let imported = crate::api::blocking(move || {
        let Some(running) = services.running() else {
            return Err(crate::service::ServiceError::Conflict(
                "Akten are imported by the running daemon".into(),
            ));
        };
        let imported = exchange::import(&services, &running.pipeline, &actor, &path)?;
        running.indexing.wake();
        Ok(imported)
    })
    .await
    .map_err(refusal)?;
    let _ = std::fs::remove_file(dir.join("package.zip"));
    std::fs::write(dir.join("receipt.xml"), &imported.receipt).map_err(WebError::internal)?;
    std::fs::write(dir.join("receipt.name"), &imported.receipt_name).map_err(WebError::internal)?;
    view.token = token;
    view.taken = Some(imported.taken);
    page(&view)
}

/// The receipt (0402) of a package taken here, for the sender.
pub async fn receipt(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    admin(&signed_in)?;
    let dir = web.api.services.store().blobs().pending(checked(&token)?);
    let (Ok(xml), Ok(name)) = (
        std::fs::read(dir.join("receipt.xml")),
        std::fs::read_to_string(dir.join("receipt.name")),
    ) else {
        return Err(WebError::not_found());
    };
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        crate::api::documents::percent_encode(&name)
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/xml".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        xml,
    )
        .into_response())
}
