//! Documents and Akten: `GET /api/v1/documents/{id}[/text|/original]`,
//! `GET /api/v1/akten/{bg}` and `POST /api/v1/akten/{bg}/documents`.

use super::auth::Caller;
use super::error::ApiError;
use super::{blocking, AppState};
use crate::classify::Classification;
use crate::extract::{FileKind, PageSource};
use crate::postbox::Item;
use crate::registry::BgNummer;
use crate::store::{Document, DocumentId};
use crate::upload::{self, Content, Upload, UploadError};
use crate::users::Role;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    }
}

const READERS: &[Role] = &[Role::Caseworker, Role::Clearing, Role::Teamlead];

/// Load a document the caller may see, recording the read (or its refusal) as
/// `action`.
fn readable(
    state: &AppState,
    caller: &Caller,
    id: u64,
    action: &str,
) -> Result<Document, ApiError> {
    state.audited(
        caller,
        action,
        format!("document {id}"),
        |_| None,
        || {
            caller.require(READERS)?;
            let scope = state.scope(caller)?.ok_or_else(ApiError::not_found)?;
            let doc = state
                .store
                .document(DocumentId(id))?
                .ok_or_else(ApiError::not_found)?;
            if !scope.sees_document(&state.store, &doc)? {
                return Err(ApiError::not_found());
            }
            Ok(doc)
        },
    )
}

pub async fn metadata(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> Result<Json<DocumentView>, ApiError> {
    blocking(move || {
        let doc = readable(&state, &caller, id, "read_document")?;
        let item = state.store.item_of_document(doc.id)?;
        Ok(Json(view(doc, item)))
    })
    .await
}

pub async fn text(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> Result<Response, ApiError> {
    let doc = blocking(move || readable(&state, &caller, id, "read_text")).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        doc.text(),
    )
        .into_response())
}

pub async fn original(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> Result<Response, ApiError> {
    let (doc, bytes) = blocking(move || {
        let doc = readable(&state, &caller, id, "download_original")?;
        let bytes = state
            .store
            .blobs()
            .get(&doc.sha256)
            .map_err(ApiError::internal)?;
        Ok((doc, bytes))
    })
    .await?;
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        percent_encode(&doc.original_name)
    );
    Ok((
        [
            (header::CONTENT_TYPE, doc.kind.mime_type().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
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

/// An Akte: the BG's members and its documents grouped by Schlagwort.
#[derive(Debug, Serialize)]
pub struct Akte {
    pub bg: BgNummer,
    pub members: Vec<Member>,
    pub schlagworte: Vec<Group>,
}

#[derive(Debug, Serialize)]
pub struct Member {
    pub kundennummer: String,
    pub vorname: String,
    pub nachname: String,
    pub geburtsdatum: String,
    pub strasse: String,
    pub plz: String,
    pub ort: String,
    pub standort: String,
    pub antragsteller: bool,
}

#[derive(Debug, Serialize)]
pub struct Group {
    pub schlagwort: String,
    /// Newest first (by Eingangsdatum).
    pub documents: Vec<Entry>,
}

#[derive(Debug, Serialize)]
pub struct Entry {
    pub id: DocumentId,
    pub name: String,
    pub doc_type: String,
    pub kind: FileKind,
    pub received_at: String,
    pub attachments: Vec<DocumentId>,
}

fn visible_bg(state: &AppState, caller: &Caller, bg: &str) -> Result<BgNummer, ApiError> {
    caller.require(&[Role::Caseworker, Role::Teamlead])?;
    let bg = BgNummer::parse(bg).ok_or_else(ApiError::not_found)?;
    let scope = state.scope(caller)?.ok_or_else(ApiError::not_found)?;
    if !scope.sees_bg(&bg) {
        return Err(ApiError::not_found());
    }
    Ok(bg)
}

pub async fn akte(
    State(state): State<AppState>,
    caller: Caller,
    Path(bg): Path<String>,
) -> Result<Json<Akte>, ApiError> {
    blocking(move || {
        let target = format!("akte {bg}");
        state.audited(
            &caller,
            "read_akte",
            target,
            |_| None,
            || akte_of(&state, &caller, &bg),
        )
    })
    .await
}

fn akte_of(state: &AppState, caller: &Caller, bg: &str) -> Result<Json<Akte>, ApiError> {
    {
        let bg = visible_bg(state, caller, bg)?;
        let registry = state.pipeline.registry()?;
        let members = registry
            .members(&bg)
            .map(|p| Member {
                kundennummer: p.kundennummer.to_string(),
                vorname: p.vorname.clone(),
                nachname: p.nachname.clone(),
                geburtsdatum: p.geburtsdatum.to_string(),
                strasse: p.strasse.clone(),
                plz: p.plz.clone(),
                ort: p.ort.clone(),
                standort: p.standort.clone(),
                antragsteller: p.antragsteller,
            })
            .collect();
        let mut groups: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
        for doc in state.store.documents_of_bg(&bg)? {
            let c = doc.classification.as_ref();
            groups
                .entry(c.map(|c| c.schlagwort.clone()).unwrap_or_default())
                .or_default()
                .push(Entry {
                    id: doc.id,
                    name: doc.original_name.clone(),
                    doc_type: c.map(|c| c.doc_type.clone()).unwrap_or_default(),
                    kind: doc.kind,
                    received_at: doc.received_at.clone(),
                    attachments: doc.attachments.clone(),
                });
        }
        let schlagworte = groups
            .into_iter()
            .map(|(schlagwort, mut documents)| {
                documents.sort_by(|a, b| b.received_at.cmp(&a.received_at));
                Group {
                    schlagwort,
                    documents,
                }
            })
            .collect();
        Ok(Json(Akte {
            bg,
            members,
            schlagworte,
        }))
    }
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
    caller: Caller,
    Path(bg): Path<String>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Vec<upload::Filed>>), ApiError> {
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
    blocking(move || {
        let ids = |filed: Option<&Vec<upload::Filed>>| {
            filed.map(|f| {
                format!(
                    "documents {}",
                    f.iter()
                        .map(|f| f.document_id.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        };
        state.audited(&caller, "file_document", format!("akte {bg}"), ids, || {
            file_into(&state, &caller, &bg, q, content)
        })
    })
    .await
    .map(|filed| (StatusCode::CREATED, Json(filed)))
}

fn file_into(
    state: &AppState,
    caller: &Caller,
    bg: &str,
    q: UploadQuery,
    content: Content,
) -> Result<Vec<upload::Filed>, ApiError> {
    {
        let bg = visible_bg(state, caller, bg)?;
        let upload = Upload {
            bg: bg.clone(),
            schlagwort: q.schlagwort,
            doc_type: q.doc_type,
            title: q.title,
            content,
            by: caller.actor(),
        };
        let filed = upload::file(&state.pipeline, upload).map_err(|e| match e {
            UploadError::Invalid(m) => ApiError::unprocessable(m),
            UploadError::Rejected(r) => ApiError::unprocessable(r.to_string()),
            UploadError::UnknownType(t) => {
                ApiError::unprocessable(format!("there is no document type {t:?}"))
            }
            UploadError::Pipeline(e) => ApiError::internal(e),
        })?;
        Ok(filed)
    }
}
