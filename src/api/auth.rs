//! Authentication: the caller behind a bearer token, and slowing down whoever
//! keeps guessing tokens.

use super::error::ApiError;
use super::{blocking, AppState};
use crate::service::Actor;
use crate::users;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures from one address are forgotten after this long without another.
const FAILURE_MEMORY: Duration = Duration::from_secs(15 * 60);
/// Delay after the first slowed-down failure; it doubles with each further one.
const FIRST_DELAY: Duration = Duration::from_millis(250);
const MAX_DELAY: Duration = Duration::from_secs(10);
/// Most sources remembered at once (bounded memory under a spray of addresses).
const MAX_SOURCES: usize = 10_000;

/// The authenticated caller of a request: always a user.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

/// Remembers failed authentications per address and slows them down.
pub struct Limiter {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
    /// Failures tolerated before answers slow down (`limits.bad_tokens_before_slowdown`).
    free_failures: u32,
}

impl Limiter {
    pub fn new(free_failures: u32) -> Limiter {
        Limiter {
            failures: Mutex::default(),
            free_failures,
        }
    }

    /// Count a failure from `address` and wait as long as its record demands.
    pub async fn failed(&self, address: IpAddr) {
        let key = source(address);
        let delay = {
            let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            if failures.len() >= MAX_SOURCES && !failures.contains_key(&key) {
                // Full: forget what is old, and if that is not enough, the oldest.
                failures.retain(|_, (_, last)| now.duration_since(*last) < FAILURE_MEMORY);
                if failures.len() >= MAX_SOURCES {
                    if let Some(oldest) = failures
                        .iter()
                        .min_by_key(|(_, (_, last))| *last)
                        .map(|(k, _)| *k)
                    {
                        failures.remove(&oldest);
                    }
                }
            }
            let entry = failures.entry(key).or_insert((0, now));
            if now.duration_since(entry.1) >= FAILURE_MEMORY {
                entry.0 = 0;
            }
            entry.0 += 1;
            entry.1 = now;
            delay_after(entry.0, self.free_failures)
        };
        if !delay.is_zero() {
            tracing::warn!(%address, delay_ms = delay.as_millis() as u64, "repeated bad API tokens; slowing down");
            tokio::time::sleep(delay).await;
        }
    }
}

/// Where failures are counted: the address, or for IPv6 its /64 network (one
/// host can use a whole /64).
fn source(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(std::net::Ipv6Addr::from(segments))
        }
        v4 => v4,
    }
}

fn delay_after(failures: u32, free_failures: u32) -> Duration {
    if failures <= free_failures {
        return Duration::ZERO;
    }
    let doublings = (failures - free_failures - 1).min(16);
    (FIRST_DELAY * 2u32.pow(doublings)).min(MAX_DELAY)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim().to_string());
        let Some(token) = token else {
            // Not a guess, so not slowed down: nothing can be learnt from it.
            return Err(ApiError::unauthorized(
                "An `Authorization: Bearer <token>` header is required.",
            ));
        };
        let store = state.services.store().clone();
        let user = blocking(move || users::authenticate(&store, &token)).await?;
        match user {
            Some(user) => Ok(Caller(Actor::User { user, address })),
            None => {
                state.limiter.failed(address).await;
                Err(ApiError::unauthorized(
                    "The token is not valid (or was revoked).",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_a_few_failures() {
        assert_eq!(delay_after(3, 3), Duration::ZERO);
        assert_eq!(delay_after(4, 3), FIRST_DELAY);
        assert_eq!(delay_after(5, 3), FIRST_DELAY * 2);
        assert_eq!(delay_after(60, 3), MAX_DELAY);
        assert_eq!(delay_after(60, 100), Duration::ZERO);
    }
}
