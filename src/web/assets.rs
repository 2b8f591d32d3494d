//! The stylesheet and script, built into the binary.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

const STYLE: &str = include_str!("../../assets/eakte.css");
const SCRIPT: &str = include_str!("../../assets/eakte.js");

pub async fn serve(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "eakte.css" => (STYLE, "text/css; charset=utf-8"),
        "eakte.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        _ => return super::error::WebError::not_found().into_response(),
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, kind),
            // Not social data: the browser may keep them for an hour.
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
