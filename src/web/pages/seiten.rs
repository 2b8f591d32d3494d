//! `/dokumente/{id}/seiten/{n}`: a page of the original as an image, beside
//! its recognised text. Rendered on first view and kept in
//! `[web] page_cache_dir` (derived data: deleting it loses nothing).

use super::super::error::WebError;
use super::super::view::SignedIn;
use super::super::WebState;
use crate::extract::page_image;
use crate::model::DocumentId;
use crate::service::documents::{self, Read};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::path::PathBuf;
use std::time::Duration;

/// Longest a page may take to render (a large scan, a heavy PDF page).
const RENDER_TIMEOUT: Duration = Duration::from_secs(60);

pub async fn page_image(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Path((id, number)): Path<(u64, u32)>,
) -> Result<Response, WebError> {
    let services = web.api.services.clone();
    let actor = signed_in.actor.clone();
    let shown = crate::api::blocking(move || {
        documents::read(&services, &actor, DocumentId(id), Read::PageImage)
    })
    .await?;
    let document = shown.document;
    let Some(page) = document.pages.iter().find(|p| p.number == number) else {
        return Err(WebError::not_found());
    };
    let rotation = page.rotation;
    let cached = cache_path(&web, &document.sha256.to_string(), number, rotation);
    // The cache is read on the blocking pool, as every file and store read.
    let path = cached.clone();
    let kept = tokio::task::spawn_blocking(move || std::fs::read(path))
        .await
        .map_err(WebError::internal)?;
    let png = match kept {
        Ok(png) => png,
        Err(_) => {
            // At most a few renders at once: each is a child process.
            let _turn = web.renders.acquire().await.map_err(WebError::internal)?;
            let store = web.api.services.store().clone();
            let kind = document.kind;
            let sha = document.sha256.clone();
            tokio::task::spawn_blocking(move || {
                let original = store.blobs().get(&sha).map_err(WebError::internal)?;
                let png = page_image::render(kind, &original, number, rotation, RENDER_TIMEOUT)
                    .map_err(|e| match e {
                        page_image::PageImageError::NoSuchPage(_) => WebError::not_found(),
                        other => WebError::internal(other),
                    })?;
                keep(&cached, &png);
                Ok::<_, WebError>(png)
            })
            .await
            .map_err(WebError::internal)??
        }
    };
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

fn cache_path(web: &WebState, sha: &str, page: u32, rotation: u16) -> PathBuf {
    web.page_cache_dir
        .join(&sha[..2])
        .join(format!("{sha}-{page}-{rotation}.png"))
}

/// Keep a rendered page, whole or not at all (written aside, then renamed);
/// a cache that cannot be written only costs the next view a render.
fn keep(path: &std::path::Path, png: &[u8]) {
    let Some(dir) = path.parent() else { return };
    let written = std::fs::create_dir_all(dir).and_then(|()| {
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut file, png)?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    });
    if let Err(e) = written {
        tracing::warn!(error = %e, path = %path.display(), "cannot keep a page image");
    }
}
