//! Headers on every answer that keep social data out of caches and keep a
//! browser from running or framing what the API returns.
//!
//! The API answers JSON, plain text and originals; none of it is a page. A
//! web UI on the same origin (and any page an attacker gets a caseworker to
//! open) must not be able to make a browser treat an answer as HTML, run a
//! script in it or show it in a frame, and no proxy or browser cache may keep
//! a copy of a recipient's data after the tab is closed.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The API's policy: load nothing, be framed by nobody.
pub const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";
/// An original's: as the API's, and sandboxed (no scripts, no forms, an
/// opaque origin) if a browser renders it inline after all.
pub const ORIGINAL_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";

/// Add the headers to every answer; a policy the handler set (an original's)
/// is kept.
pub async fn secure(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(API_POLICY));
    response
}
