//! Documents and Akten: `GET /api/v1/documents/{id}[/text|/original]`,
//! `GET /api/v1/akten/{bg}` and `POST /api/v1/akten/{bg}/documents`.

use super::auth::Caller;
use super::error::ApiError;
use super::{blocking, AppState};
use crate::model::{Classification, Document, DocumentId, FileKind, Item, PageSource};
use crate::pipeline::upload::{Content, Filed};
use crate::service::documents::{self, Akte, Filing, Read};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// A document as the API shows it: metadata, no page text.
#[derive(Debug, Serialize)]
pub struct DocumentView {
    pub id: DocumentId,
    pub name: String,
    pub site: Option<String>,
    pub kind: FileKind,
    pub content_type: &'static str,
    pub size: u64,
    pub sha256: String,
    pub received_at: String,
    pub stored_at: String,
    pub classification: Option<Classification>,
    /// The postbox item: where the document went, why, and what happened since.
    pub item: Option<Item>,
    pub pages: Vec<PageView>,
    pub attachments: Vec<DocumentId>,
    pub arrivals: usize,
    /// A letter cut from a stack: which stack and pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<crate::model::BatchPart>,
    /// An encrypted PDF: the entry of the passwords file that opened it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opened_with: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct PageView {
    pub number: u32,
    pub source: PageSource,
    pub confidence: Option<f32>,
    pub rotation: u16,
    pub characters: usize,
}

fn view(doc: Document, item: Option<Item>) -> DocumentView {
    DocumentView {
        id: doc.id,
        name: doc.original_name,
        site: doc.site,
        kind: doc.kind,
        content_type: doc.kind.mime_type(),
        size: doc.size,
        sha256: doc.sha256.to_string(),
        received_at: doc.received_at,
        stored_at: doc.stored_at,
        classification: doc.classification,
        item,
        pages: doc
            .pages
            .iter()
            .map(|p| PageView {
                number: p.number,
                source: p.source,
                confidence: p.confidence,
                rotation: p.rotation,
                characters: p.text.chars().count(),
            })
            .collect(),
        attachments: doc.attachments,
        arrivals: doc.arrivals.len(),
        batch: doc.batch,
        opened_with: doc.opened_with,
    }
}

pub async fn metadata(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> Result<Json<DocumentView>, ApiError> {
    let shown =
        blocking(move || documents::read(&state.services, &actor, DocumentId(id), Read::Metadata))
            .await?;
    Ok(Json(view(shown.document, shown.item)))
}

pub async fn text(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> Result<Response, ApiError> {
    let shown =
        blocking(move || documents::read(&state.services, &actor, DocumentId(id), Read::Text))
            .await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        shown.document.text(),
    )
        .into_response())
}

pub async fn original(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> Result<Response, ApiError> {
    let shown =
        blocking(move || documents::read(&state.services, &actor, DocumentId(id), Read::Original))
            .await?;
    Ok(original_download(shown))
}

/// An original as a download that a browser never runs (the API's and the
/// web UI's).
pub fn original_download(shown: crate::service::documents::Shown) -> Response {
    let doc = shown.document;
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        percent_encode(&doc.original_name)
    );
    (
        [
            (header::CONTENT_TYPE, doc.kind.mime_type().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            // A PDF or image opened in a browser tab of the API's origin
            // runs nothing and reaches nothing.
            (
                header::CONTENT_SECURITY_POLICY,
                super::headers::ORIGINAL_POLICY.to_string(),
            ),
        ],
        shown.original.unwrap_or_default(),
    )
        .into_response()
}

/// Percent-encoding of everything but unreserved characters: RFC 5987 for a
/// file name in Content-Disposition, and safe in a URL's query.
pub fn percent_encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn akte(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(bg): Path<String>,
) -> Result<Json<Akte>, ApiError> {
    Ok(Json(
        blocking(move || documents::akte(&state.services, &actor, &bg)).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    pub schlagwort: String,
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    pub title: Option<String>,
}

/// File an e-mail (`message/rfc822`), a PDF (`application/pdf`) or a note
/// (`text/plain`) into the Akte.
pub async fn upload(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(bg): Path<String>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Vec<Filed>>), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_lowercase())
        .unwrap_or_default();
    let content = match content_type.as_str() {
        "message/rfc822" => Content::Email(body.to_vec()),
        "application/pdf" => Content::Pdf(body.to_vec()),
        "text/plain" => Content::Note(
            String::from_utf8(body.to_vec())
                .map_err(|_| ApiError::unprocessable("the note is not UTF-8 text"))?,
        ),
        other => {
            return Err(ApiError::unsupported_media_type(format!(
                "{other:?} cannot be filed; send message/rfc822, application/pdf or text/plain"
            )))
        }
    };
    let filing = Filing {
        schlagwort: q.schlagwort,
        doc_type: q.doc_type,
        title: q.title,
        content,
    };
    let filed = blocking(move || documents::file(&state.services, &actor, &bg, filing)).await?;
    Ok((StatusCode::CREATED, Json(filed)))
}
