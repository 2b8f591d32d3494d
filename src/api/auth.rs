//! Authentication: the caller behind a bearer token, and turning away
//! whoever keeps guessing tokens.

use super::error::ApiError;
use super::gate::RequestTrail;
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
/// How long an address is turned away after the first failure past the free
/// ones; it doubles with each further one.
const FIRST_DELAY: Duration = Duration::from_millis(250);
const MAX_DELAY: Duration = Duration::from_secs(10);
/// Most sources remembered at once (bounded memory under a spray of addresses).
const MAX_SOURCES: usize = 10_000;

/// The authenticated caller of a request: always a user.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

/// Remembers failed authentications per address and turns the address away
/// for a while after too many: its next requests get 429 with Retry-After at
/// once, without their token being looked at (else a right guess would still
/// be told apart from a wrong one) and without holding a connection.
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

    /// How much longer `address` is turned away, if it is.
    pub fn turned_away(&self, address: IpAddr) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (count, last) = failures.get(&source(address))?;
        let until = *last + delay_after(*count, self.free_failures);
        until.checked_duration_since(Instant::now())
    }

    /// Count a failure from `address`.
    pub fn failed(&self, address: IpAddr) {
        let key = source(address);
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
        let delay = delay_after(entry.0, self.free_failures);
        if !delay.is_zero() {
            tracing::warn!(%address, seconds = delay.as_secs_f64(), "repeated bad API tokens; turning the address away for a while");
        }
    }
}

/// Where failures are counted: the address, or for IPv6 its /64 network (one
/// host can use a whole /64).
pub fn source(address: IpAddr) -> IpAddr {
    // An IPv4 client of a `[::]` listener arrives as ::ffff:a.b.c.d.
    match address.to_canonical() {
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

/// The user behind the request's bearer token; what went wrong is noted in
/// `trail` for the audit entry of the refusal. An address that kept sending
/// bad tokens is turned away before its token is looked at.
pub async fn authenticate(
    parts: &Parts,
    state: &AppState,
    trail: &RequestTrail,
) -> Result<Actor, ApiError> {
    let address = address_of(&parts.extensions);
    if let Some(wait) = state.limiter.turned_away(address) {
        trail.note("turned away after repeated bad tokens");
        return Err(ApiError::too_many_requests(
            "Too many invalid tokens from this address; try again later.",
            wait,
        ));
    }
    let token = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    let Some(token) = token else {
        // Not a guess, so not counted: nothing can be learnt from it.
        trail.note("no token");
        return Err(ApiError::unauthorized(
            "An `Authorization: Bearer <token>` header is required.",
        ));
    };
    let store = state.services.store().clone();
    match blocking(move || users::authenticate(&store, &token)).await? {
        Some(user) => {
            let actor = Actor::User {
                user,
                address,
                recorded: trail.recorded.clone(),
            };
            trail.authenticated(&actor);
            Ok(actor)
        }
        None => {
            state.limiter.failed(address);
            trail.note("bad token");
            Err(ApiError::unauthorized(
                "The token is not valid (or was revoked).",
            ))
        }
    }
}

/// Handlers take the caller the gate authenticated (see [`super::gate`]);
/// a route the gate does not know authenticates here.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let trail = parts
            .extensions
            .get::<RequestTrail>()
            .cloned()
            .unwrap_or_default();
        Ok(Caller(authenticate(parts, state, &trail).await?))
    }
}

/// The client's address, as the accept loop recorded it.
pub fn address_of(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| {
            c.0.ip().to_canonical()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_turned_away_after_its_free_failures() {
        let limiter = Limiter::new(2);
        let (here, there): (IpAddr, IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        limiter.failed(here);
        limiter.failed(here);
        assert_eq!(limiter.turned_away(here), None, "two are free");
        limiter.failed(here);
        let wait = limiter.turned_away(here).expect("the third is not");
        assert!(wait <= FIRST_DELAY);
        assert_eq!(limiter.turned_away(there), None, "other addresses are not");
        let v6 = |s: &str| -> IpAddr { s.parse().unwrap() };
        for _ in 0..3 {
            limiter.failed(v6("2001:db8::1"));
        }
        assert!(
            limiter.turned_away(v6("2001:db8::ffff")).is_some(),
            "one /64 is one source"
        );
        assert_ne!(
            source(v6("::ffff:10.0.0.1")),
            source(v6("::ffff:10.0.0.3")),
            "IPv4 clients of an IPv6 listener are told apart"
        );
    }

    #[test]
    fn delays_grow_after_a_few_failures() {
        assert_eq!(delay_after(3, 3), Duration::ZERO);
        assert_eq!(delay_after(4, 3), FIRST_DELAY);
        assert_eq!(delay_after(5, 3), FIRST_DELAY * 2);
        assert_eq!(delay_after(60, 3), MAX_DELAY);
        assert_eq!(delay_after(60, 100), Duration::ZERO);
    }
}
