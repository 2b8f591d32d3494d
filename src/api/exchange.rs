//! An Akte leaving and arriving over the API: `GET /api/v1/akten/{bg}/export`
//! (the xdomea package, streamed from disk) and `POST
//! /api/v1/admin/import/xdomea` (the package streamed to disk, then taken
//! whole or not at all).

use super::error::ApiError;
use super::{blocking, AppState};
use crate::api::auth::Caller;
use crate::service::exchange::{self, ExportRequest, Exported};
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::BodyExt;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};

/// The import's path: its body is streamed to disk, so it takes no share
/// of the memory budget for bodies.
pub const IMPORT_ROUTE: &str = "/api/v1/admin/import/xdomea";
/// The web UI's page that takes a package the same way (an admin's
/// Aktenübernahme); named here, where the gate looks for it.
pub const UEBERNAHME_PAGE: &str = "/aktenuebernahme";

/// Whether `route` streams its body to disk (no share of the memory budget).
pub fn streamed(route: &str) -> bool {
    route == IMPORT_ROUTE || route == UEBERNAHME_PAGE
}

/// The largest package taken over the API (an Akte of thousands of scans).
pub const MAX_IMPORT_BYTES: u64 = 8 * 1024 * 1024 * 1024;

/// `GET /api/v1/akten/{bg}/export`.
pub async fn export(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(bg): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let request =
        ExportRequest::from_query(query.as_deref().unwrap_or("")).map_err(ApiError::bad_request)?;
    let exported =
        blocking(move || exchange::export(&state.services, &actor, &bg, request)).await?;
    download(exported).await
}

/// An exported file as a download, read from disk as it is sent.
pub async fn download(exported: Exported) -> Result<Response, ApiError> {
    // Opened before the scratch folder goes: the open file outlives its name.
    let file = tokio::fs::File::open(&exported.path)
        .await
        .map_err(ApiError::internal)?;
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        super::documents::percent_encode(&exported.file_name)
    );
    let headers = [
        (header::CONTENT_TYPE, exported.content_type.to_string()),
        (header::CONTENT_DISPOSITION, disposition),
        (
            header::HeaderName::from_static("x-eakte-sha256"),
            exported.sha256.to_string(),
        ),
    ];
    let body = Body::new(FileBody {
        file,
        left: exported.size,
    });
    drop(exported);
    Ok((headers, body).into_response())
}

/// A file sent in pieces.
struct FileBody {
    file: tokio::fs::File,
    left: u64,
}

impl http_body::Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let mut buf = vec![0u8; 256 * 1024];
        let mut read = ReadBuf::new(&mut buf);
        match Pin::new(&mut self.file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) => {
                let n = read.filled().len();
                if n == 0 {
                    return Poll::Ready(Some(Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the export file ended early",
                    ))));
                }
                self.left = self.left.saturating_sub(n as u64);
                buf.truncate(n);
                Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from(buf)))))
            }
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.left)
    }
}

/// `POST /api/v1/admin/import/xdomea`: the body is the package (a ZIP).
pub async fn import(
    State(state): State<AppState>,
    Caller(actor): Caller,
    body: Body,
) -> Result<Response, ApiError> {
    let scratch = state
        .services
        .store()
        .blobs()
        .scratch()
        .map_err(ApiError::internal)?;
    let path = scratch.path().join("package.zip");
    receive(body, &path, state.services.store()).await?;
    let imported = blocking(move || {
        let _scratch = scratch;
        let services = &state.services;
        let Some(running) = services.running() else {
            return Err(crate::service::ServiceError::Conflict(
                "Akten are imported by the running daemon".into(),
            ));
        };
        let imported = exchange::import(services, &running.pipeline, &actor, &path)?;
        running.indexing.wake();
        Ok(imported)
    })
    .await?;
    let status = if imported.taken.already {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(imported)).into_response())
}

/// Write the request body to `path`, refusing more than [`MAX_IMPORT_BYTES`].
/// The store keeps its reserve of free space while a package arrives: the
/// body is refused when the disk runs short (checked every 64 MiB).
pub async fn receive(
    mut body: Body,
    path: &std::path::Path,
    store: &crate::store::Store,
) -> Result<(), ApiError> {
    let writable = || {
        store
            .ensure_writable()
            .map_err(|e| ApiError::unavailable(format!("the package cannot be kept: {e}")))
    };
    writable()?;
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(ApiError::internal)?;
    let mut size = 0u64;
    let mut checked = 0u64;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::bad_request(format!("the body could not be read: {e}")))?;
        if let Ok(data) = frame.into_data() {
            size += data.len() as u64;
            if size > MAX_IMPORT_BYTES {
                return Err(ApiError::too_large(format!(
                    "the package is larger than {MAX_IMPORT_BYTES} bytes"
                )));
            }
            if size - checked > 64 * 1024 * 1024 {
                checked = size;
                writable()?;
            }
            file.write_all(&data).await.map_err(ApiError::internal)?;
        }
    }
    if size == 0 {
        return Err(ApiError::unprocessable(
            "the body is empty; send the xdomea package (a ZIP)",
        ));
    }
    file.flush().await.map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_streamed_route_is_the_routed_one() {
        // The gate exempts the import's body from the memory budget by its
        // path: a renamed route must not lose that.
        let routed = include_str!("mod.rs");
        assert!(routed.contains(&format!("\"{}\"", super::IMPORT_ROUTE)));
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeckblattQuery {
    /// The item the answer continues.
    pub vorgang: Option<u64>,
}

/// `GET /api/v1/akten/{bg}/deckblatt[?vorgang=N]`: the return cover sheet, a
/// one-page PDF.
pub async fn deckblatt(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(bg): Path<String>,
    axum::extract::Query(q): axum::extract::Query<DeckblattQuery>,
) -> Result<Response, ApiError> {
    let printed = blocking(move || {
        crate::service::coversheet::deckblatt(&state.services, &actor, &bg, q.vorgang)
    })
    .await?;
    Ok(deckblatt_response(printed, "attachment"))
}

/// A Deckblatt as the answer: `attachment` to save it, `inline` to open it in
/// the browser's viewer and print it.
pub fn deckblatt_response(printed: crate::service::coversheet::Printed, how: &str) -> Response {
    let disposition = format!(
        "{how}; filename*=UTF-8''{}",
        super::documents::percent_encode(&printed.file_name)
    );
    let headers = [
        (header::CONTENT_TYPE, "application/pdf".to_string()),
        (header::CONTENT_DISPOSITION, disposition),
    ];
    (headers, printed.pdf).into_response()
}
