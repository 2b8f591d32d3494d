//! Errors as HTTP responses: JSON problem documents (RFC 9457), and the one place
//! where errors get their status codes: every domain error reaches the API as a
//! [`ServiceError`], whose class (decided exhaustively in `service/error.rs`,
//! for every front end alike) maps to exactly one status here.

use crate::service::{Class, ServiceError};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A problem to report to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// A short, stable identifier, e.g. `not-found` (part of the `type` URI).
    pub kind: &'static str,
    pub detail: String,
    /// For 429 and 503: when to try again.
    pub retry_after: Option<std::time::Duration>,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// Also for everything the caller may not see: its existence is not revealed.
    pub fn not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "There is nothing here, or you may not see it.",
        )
    }

    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    pub fn unprocessable(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", detail)
    }

    pub fn too_large(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", detail)
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            detail,
        )
    }

    /// The client is turned away for `wait` (Retry-After, whole seconds).
    pub fn too_many_requests(detail: impl Into<String>, wait: std::time::Duration) -> ApiError {
        ApiError {
            retry_after: Some(wait),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too-many-requests", detail)
        }
    }

    /// The client sent its request too slowly and was cut off.
    pub fn request_timeout(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::REQUEST_TIMEOUT, "request-timeout", detail)
    }

    /// eakte cannot do this now (its store cannot be written); try again later.
    pub fn unavailable(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
    }

    /// eakte's own failure (never bad input): logged, answered without details.
    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %error, "API request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "The request could not be completed; see the server log.",
        )
    }

    fn title(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("Error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("https://eakte.invalid/problems/{}", self.kind),
            title: self.title(),
            status: self.status.as_u16(),
            detail: &self.detail,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(wait) = self.retry_after {
            // Whole seconds, rounded up: never an invitation to come back early.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        let (status, kind) = match e.class() {
            Class::NotFound => return ApiError::not_found(),
            Class::BadRequest => (StatusCode::BAD_REQUEST, "bad-request"),
            Class::Unprocessable => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            Class::Conflict => (StatusCode::CONFLICT, "conflict"),
            Class::Expired => (StatusCode::GONE, "expired"),
            Class::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Class::Internal => return ApiError::internal(e),
        };
        ApiError::new(status, kind, e.detail())
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> ApiError {
        ServiceError::from(e).into()
    }
}

/// Rejections of axum's own extractors (malformed JSON, query strings) as problems.
pub fn from_rejection(status: StatusCode, body: String) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(body),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::unsupported_media_type(body),
        StatusCode::UNPROCESSABLE_ENTITY => ApiError::unprocessable(body),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "method-not-allowed",
            "This path does not take this method.",
        ),
        _ => ApiError::bad_request(body),
    }
}
