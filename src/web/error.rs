//! Errors as pages: a German message that says what to do, never a stack
//! trace or a problem document.

use crate::api::error::ApiError;
use crate::service::Class;
use crate::service::ServiceError;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

#[derive(Debug)]
pub struct WebError {
    pub status: StatusCode,
    pub title: &'static str,
    pub message: String,
}

#[derive(Template)]
#[template(path = "fehler.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

/// What a foreign and a missing document, Akte or item both answer.
const NOT_FOUND: &str = "Das Dokument, die Akte oder der Eintrag existiert nicht oder liegt \
    nicht in Ihrer Zuständigkeit. Prüfen Sie die Nummer oder suchen Sie über die Suche.";

impl WebError {
    pub fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> WebError {
        WebError {
            status,
            title,
            message: message.into(),
        }
    }

    pub fn not_found() -> WebError {
        WebError::new(StatusCode::NOT_FOUND, "Nicht gefunden", NOT_FOUND)
    }

    pub fn input(message: impl Into<String>) -> WebError {
        WebError::new(StatusCode::UNPROCESSABLE_ENTITY, "Eingabe prüfen", message)
    }

    pub fn internal(e: impl std::fmt::Display) -> WebError {
        tracing::error!(error = %e, "web UI request failed");
        WebError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Technischer Fehler",
            "Die Seite konnte nicht erstellt werden. Versuchen Sie es in einem Moment \
             erneut; bleibt der Fehler, melden Sie sich bitte bei der IT.",
        )
    }
}

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> WebError {
        match e.class() {
            Class::NotFound => WebError::not_found(),
            // The services say what was wrong in English, for the log and
            // the API; the page says it in German (forms check their fields
            // in German before they get here).
            Class::BadRequest | Class::Unprocessable => {
                tracing::info!(detail = %e.detail(), "web UI input refused");
                WebError::input(
                    "Die Angaben passen nicht zusammen oder sind unvollständig. Bitte prüfen \
                     Sie sie und versuchen Sie es erneut.",
                )
            }
            Class::Conflict => {
                tracing::info!(detail = %e.detail(), "web UI change refused");
                WebError::new(
                    StatusCode::CONFLICT,
                    "Nicht möglich",
                    "Das geht in diesem Zustand nicht mehr (vielleicht hat jemand anderes den \
                     Eintrag schon bearbeitet). Laden Sie die Seite neu.",
                )
            }
            Class::Expired => WebError::new(
                StatusCode::GONE,
                "Veraltet",
                "Die Ansicht ist veraltet. Bitte laden Sie die Seite neu.",
            ),
            Class::Unavailable => WebError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Vorübergehend nicht verfügbar",
                "eakte kann gerade nichts speichern (die IT ist informiert). Ihre Arbeit \
                 ist nicht verloren: versuchen Sie es in einigen Minuten erneut.",
            ),
            Class::Internal => WebError::internal(e),
        }
    }
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> WebError {
        match e.status {
            StatusCode::NOT_FOUND => WebError::not_found(),
            StatusCode::TOO_MANY_REQUESTS => WebError::new(
                e.status,
                "Bitte warten",
                "Zu viele Anfragen auf einmal. Bitte warten Sie einen Moment.",
            ),
            StatusCode::GONE => WebError::new(
                e.status,
                "Veraltet",
                "Die Ansicht ist veraltet. Bitte laden Sie die Seite neu.",
            ),
            StatusCode::UNAUTHORIZED => WebError::new(
                e.status,
                "Abgemeldet",
                "Ihre Anmeldung ist nicht mehr gültig. Bitte melden Sie sich neu an.",
            ),
            s if s.is_server_error() => WebError::internal(e.detail),
            _ => {
                tracing::info!(detail = %e.detail, "web UI request refused");
                WebError::input(
                    "Die Angaben passen nicht zusammen oder sind unvollständig. Bitte prüfen \
                     Sie sie und versuchen Sie es erneut.",
                )
            }
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            title: self.title,
            message: &self.message,
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => (self.status, self.message).into_response(),
        }
    }
}

/// Paths the API answers (problem documents, JSON, metrics).
fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path == "/healthz" || path == "/metrics"
}

/// What is not a page of ours and not the API's comes back as a German page:
/// an unknown address, a malformed number in a path, a form with a field
/// missing (axum's own answers are plain text, the API's fallback JSON).
pub async fn german_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = is_api(request.uri().path());
    let response = next.run(request).await;
    let status = response.status();
    let html = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if api || html || !status.is_client_error() {
        return response;
    }
    let error = match status {
        StatusCode::NOT_FOUND => WebError::new(
            status,
            "Seite nicht gefunden",
            "Diese Adresse gibt es in eakte nicht. Gehen Sie über das Menü zum Postkorb oder zur Suche.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => WebError::new(
            status,
            "Datei zu groß",
            "Die Datei ist größer, als eakte annimmt. Teilen Sie sie auf oder wenden Sie sich an die IT.",
        ),
        _ => WebError::new(
            status,
            "Eingabe prüfen",
            "Die Adresse oder das Formular ist unvollständig oder enthält etwas, das eakte nicht versteht. \
             Gehen Sie zurück und versuchen Sie es noch einmal.",
        ),
    };
    let mut page = error.into_response();
    super::page_security(page.headers_mut());
    // Headers the inner answer had set for the browser's sake are kept.
    for name in [axum::http::header::ALLOW, axum::http::header::RETRY_AFTER] {
        if let Some(value) = response.headers().get(&name) {
            page.headers_mut().insert(name, value.clone());
        }
    }
    page
}
