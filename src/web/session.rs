//! Sessions of the web UI: the user logs in once with their token and then
//! carries a session cookie (HttpOnly, SameSite=Strict, Secure behind TLS).
//!
//! Sessions live in the daemon's memory, keyed by the SHA-256 of the cookie's
//! value, so that not even a memory dump yields a usable cookie. A restart
//! ends them: logging in again costs one token paste, and a session that
//! outlived the daemon would also outlive a revocation missed meanwhile.
//! Every request re-reads the account, so a revoked token ends its sessions
//! at once.

use crate::model::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The cookie's name.
pub const COOKIE: &str = "eakte_sitzung";
/// Most sessions at once (bounded memory under a flood of logins) …
const MAX_SESSIONS: usize = 10_000;
/// … and of one user (a few browsers and PCs): one user logging in again and
/// again pushes out their own oldest sessions, nobody else's.
const MAX_SESSIONS_PER_USER: usize = 8;

/// One logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: u64,
    /// Every state-changing form carries this (and nothing else knows it).
    pub csrf: String,
    started: Instant,
    last_seen: Instant,
    /// The session's recent searches, by number: the words stay here, and
    /// the results page's address names only the number (so that the
    /// browser's back button works without the words in any address).
    searches: Vec<(u32, Remembered)>,
    next_search: u32,
}

/// A form's fields, as the user filled them in.
pub type Remembered = Vec<(String, String)>;

/// Searches a session remembers (the oldest is forgotten first).
const REMEMBERED_SEARCHES: usize = 20;

pub struct Sessions {
    open: Mutex<HashMap<Sha256, Session>>,
    /// Ends after this long without a request …
    idle: Duration,
    /// … and after this long in any case (a working day).
    absolute: Duration,
}

impl Sessions {
    pub fn new(idle: Duration, absolute: Duration) -> Sessions {
        Sessions {
            open: Mutex::default(),
            idle,
            absolute,
        }
    }

    /// How long a session lives without a request.
    pub fn idle(&self) -> Duration {
        self.idle
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<Sha256, Session>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new session for `user`: the cookie value to set.
    pub fn start(&self, user: u64) -> std::io::Result<String> {
        let cookie = hex::encode(crate::users::random_secret()?);
        let csrf = hex::encode(crate::users::random_secret()?);
        let now = Instant::now();
        let mut open = self.open();
        let theirs: Vec<(Sha256, Instant)> = open
            .iter()
            .filter(|(_, s)| s.user == user)
            .map(|(k, s)| (k.clone(), s.last_seen))
            .collect();
        if theirs.len() >= MAX_SESSIONS_PER_USER {
            if let Some((oldest, _)) = theirs.iter().min_by_key(|(_, seen)| *seen) {
                open.remove(oldest);
            }
        }
        if open.len() >= MAX_SESSIONS {
            open.retain(|_, s| self.alive(s, now));
            if open.len() >= MAX_SESSIONS {
                if let Some(oldest) = open
                    .iter()
                    .min_by_key(|(_, s)| s.last_seen)
                    .map(|(k, _)| k.clone())
                {
                    open.remove(&oldest);
                }
            }
        }
        open.insert(
            Sha256::of(cookie.as_bytes()),
            Session {
                user,
                csrf,
                started: now,
                last_seen: now,
                searches: Vec::new(),
                next_search: 1,
            },
        );
        Ok(cookie)
    }

    /// The live session of `cookie`, its idle time renewed (a user's request).
    pub fn get(&self, cookie: &str) -> Option<Session> {
        self.look_up(cookie, true)
    }

    /// The live session of `cookie`, its idle time not renewed: the page's
    /// own background requests (the live Postkorb) do not keep an unattended
    /// PC logged in.
    pub fn peek(&self, cookie: &str) -> Option<Session> {
        self.look_up(cookie, false)
    }

    fn look_up(&self, cookie: &str, renew: bool) -> Option<Session> {
        let key = Sha256::of(cookie.as_bytes());
        let now = Instant::now();
        let mut open = self.open();
        let session = open.get_mut(&key)?;
        if !self.alive(session, now) {
            open.remove(&key);
            return None;
        }
        if renew {
            session.last_seen = now;
        }
        Some(session.clone())
    }

    /// Remember a search for the session of `cookie`; its number.
    pub fn remember(&self, cookie: &str, search: Remembered) -> Option<u32> {
        let mut open = self.open();
        let session = open.get_mut(&Sha256::of(cookie.as_bytes()))?;
        let number = session.next_search;
        session.next_search += 1;
        if session.searches.len() >= REMEMBERED_SEARCHES {
            session.searches.remove(0);
        }
        session.searches.push((number, search));
        Some(number)
    }

    /// Search `number` of the session of `cookie`, if it still remembers it.
    pub fn recall(&self, cookie: &str, number: u32) -> Option<Remembered> {
        let open = self.open();
        let session = open.get(&Sha256::of(cookie.as_bytes()))?;
        session
            .searches
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, s)| s.clone())
    }

    pub fn end(&self, cookie: &str) {
        self.open().remove(&Sha256::of(cookie.as_bytes()));
    }

    fn alive(&self, session: &Session, now: Instant) -> bool {
        now.duration_since(session.last_seen) < self.idle
            && now.duration_since(session.started) < self.absolute
    }
}

/// The session cookie's value in a `Cookie` header, if any.
pub fn cookie_of(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The `Set-Cookie` value that starts a session (`secure`: only over TLS).
pub fn set_cookie(value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

/// The `Set-Cookie` value that ends one.
pub fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

/// Compares without telling by its duration how much of `given` was right.
pub fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_when_idle_too_long_or_at_logout() {
        let sessions = Sessions::new(Duration::from_millis(200), Duration::from_secs(60));
        let cookie = sessions.start(7).unwrap();
        assert_eq!(sessions.get(&cookie).unwrap().user, 7);
        assert!(sessions.get("not a cookie").is_none());
        std::thread::sleep(Duration::from_millis(250));
        assert!(sessions.get(&cookie).is_none(), "idle too long");
        let cookie = sessions.start(7).unwrap();
        sessions.end(&cookie);
        assert!(sessions.get(&cookie).is_none(), "logged out");
    }

    #[test]
    fn searches_are_remembered_per_session_and_only_the_recent_ones() {
        let sessions = Sessions::new(Duration::from_secs(60), Duration::from_secs(60));
        let (mine, theirs) = (sessions.start(1).unwrap(), sessions.start(2).unwrap());
        let search = |q: &str| vec![("q".to_string(), q.to_string())];
        let first = sessions.remember(&mine, search("Petersen")).unwrap();
        assert_eq!(sessions.recall(&mine, first), Some(search("Petersen")));
        assert_eq!(sessions.recall(&theirs, first), None, "another session's");
        for i in 0..REMEMBERED_SEARCHES {
            sessions.remember(&mine, search(&i.to_string()));
        }
        assert_eq!(sessions.recall(&mine, first), None, "forgotten");
        assert!(sessions.remember("no session", search("x")).is_none());
    }

    #[test]
    fn background_requests_do_not_keep_a_session_alive() {
        let sessions = Sessions::new(Duration::from_millis(200), Duration::from_secs(60));
        let cookie = sessions.start(7).unwrap();
        for _ in 0..5 {
            std::thread::sleep(Duration::from_millis(50));
            let _ = sessions.peek(&cookie);
        }
        assert!(
            sessions.peek(&cookie).is_none(),
            "idle, however often the page polled"
        );
    }

    #[test]
    fn one_user_logging_in_again_and_again_pushes_out_only_their_own_sessions() {
        let sessions = Sessions::new(Duration::from_secs(60), Duration::from_secs(60));
        let other = sessions.start(2).unwrap();
        let first = sessions.start(1).unwrap();
        for _ in 0..MAX_SESSIONS_PER_USER {
            std::thread::sleep(Duration::from_millis(2));
            sessions.start(1).unwrap();
        }
        assert!(sessions.get(&first).is_none(), "the oldest of theirs");
        assert!(sessions.get(&other).is_some(), "nobody else's");
    }

    #[test]
    fn sessions_end_at_the_absolute_expiry_however_busy() {
        let sessions = Sessions::new(Duration::from_secs(60), Duration::from_millis(200));
        let cookie = sessions.start(1).unwrap();
        for _ in 0..5 {
            std::thread::sleep(Duration::from_millis(50));
            let _ = sessions.get(&cookie);
        }
        assert!(sessions.get(&cookie).is_none());
    }

    #[test]
    fn the_cookie_is_found_among_others_and_secrets_compare_whole() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            "a=1; eakte_sitzung=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_of(&headers).as_deref(), Some("abc"));
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc"));
        assert!(!same_secret("ab", "abc"));
    }
}
