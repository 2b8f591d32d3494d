//! Cutting off clients that send their request too slowly. A client that
//! trickles a body holds a connection, a blocking-pool slot and memory; a few
//! hundred of them would starve the caseworkers. (Headers have their own
//! limit, [`super::HEADER_READ_TIMEOUT`], and connections a cap,
//! `limits.max_connections`.)
//!
//! The rule is Apache's `RequestReadTimeout body=10,MinRate=…`: the body may
//! pause at most [`BODY_IDLE_TIMEOUT`], and must on average arrive at
//! [`BODY_MIN_RATE`] after a first grace of the same length.

use super::error::ApiError;
use axum::body::{Body, Bytes, HttpBody};
use axum::http::{header, HeaderValue, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Longest pause within a request body.
pub const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Slowest average rate of a request body, in bytes per second: a 50 MB
/// upload may take up to 3½ hours, a scanner on an island's DSL needs minutes.
pub const BODY_MIN_RATE: u64 = 4 * 1024;

/// Middleware: give every request body deadlines; answer 408 (and close the
/// connection) when the handler's read of it ran out of time.
///
/// The body is only wrapped, not read here: handlers authenticate first and
/// read the body afterwards, so strangers cannot make the daemon buffer it.
/// Requests without a body (every GET, every long-poll) pass untouched.
pub async fn cut_off_slow_bodies(request: Request<Body>, next: Next) -> Response {
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let timed_out = Arc::new(AtomicBool::new(false));
    let flag = timed_out.clone();
    let request = request.map(|body| Body::new(DeadlineBody::new(body, flag)));
    let response = next.run(request).await;
    if !timed_out.load(Ordering::Relaxed) {
        return response;
    }
    let mut response = ApiError::request_timeout(format!(
        "The request body arrived too slowly (a pause over {} s, or under {} KiB/s on average).",
        BODY_IDLE_TIMEOUT.as_secs(),
        BODY_MIN_RATE / 1024
    ))
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that fails once its sender falls behind the deadlines.
///
/// The clock starts at the handler's first read, not when the request came
/// in: time a request spends queued for authentication is not the client's.
struct DeadlineBody {
    inner: Body,
    /// When reading began, and the deadline for the next bytes.
    clock: Option<(Instant, Pin<Box<Sleep>>)>,
    received: u64,
    timed_out: Arc<AtomicBool>,
}

impl DeadlineBody {
    fn new(inner: Body, timed_out: Arc<AtomicBool>) -> DeadlineBody {
        DeadlineBody {
            inner,
            clock: None,
            received: 0,
            timed_out,
        }
    }
}

/// When the next bytes must have arrived: after at most the idle timeout, and
/// no later than the minimum rate allows for what has been received so far.
fn next_deadline(started: Instant, received: u64, now: Instant) -> Instant {
    let by_rate = started
        + BODY_IDLE_TIMEOUT
        + Duration::from_secs_f64(received as f64 / BODY_MIN_RATE as f64);
    (now + BODY_IDLE_TIMEOUT).min(by_rate)
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let (started, deadline) = this.clock.get_or_insert_with(|| {
            let now = Instant::now();
            (
                now,
                Box::pin(tokio::time::sleep_until(next_deadline(now, 0, now))),
            )
        });
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                }
                deadline
                    .as_mut()
                    .reset(next_deadline(*started, this.received, Instant::now()));
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => match deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.timed_out.store(true, Ordering::Relaxed);
                    Poll::Ready(Some(Err(axum::Error::new("request body too slow"))))
                }
                Poll::Pending => Poll::Pending,
            },
            done => done,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_allow_pauses_and_slow_but_steady_senders() {
        let t0 = Instant::now();
        // At the start: the idle timeout.
        assert_eq!(next_deadline(t0, 0, t0), t0 + BODY_IDLE_TIMEOUT);
        // A steady sender at the minimum rate always has the idle timeout ahead.
        let later = t0 + Duration::from_secs(100);
        assert_eq!(
            next_deadline(t0, 100 * BODY_MIN_RATE, later),
            later + BODY_IDLE_TIMEOUT
        );
        // A trickler falls behind: 1 KiB after 100 s leaves it no time at all.
        assert!(next_deadline(t0, 1024, later) < later);
    }
}
