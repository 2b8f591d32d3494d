//! What every page shows of its user, the signed-in request, and German
//! forms of dates, states and ages.

use super::error::WebError;
use super::session::{self, Session};
use super::WebState;
use crate::api::gate::RequestTrail;
use crate::model::{ItemState, Role};
use crate::service::Actor;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

/// The signed-in user of a request, as the services know them, with their
/// session (for the CSRF token of the page's forms).
pub struct SignedIn {
    pub actor: Actor,
    pub session: Session,
    /// The session cookie's value (what the session remembers is kept by it).
    pub cookie: String,
    pub me: Me,
}

/// The live Postkorb's background request.
pub const LIVE_PATH: &str = "/postkorb/live";

/// The user as the page header shows them.
#[derive(Debug, Clone)]
pub struct Me {
    pub name: String,
    pub role: &'static str,
    pub csrf: String,
    /// Which menu entries they have.
    pub postkorb: bool,
    pub akten: bool,
    pub klaerung: bool,
    pub team: bool,
    /// Admins take Akten over from other authorities.
    pub uebernahme: bool,
}

/// Not signed in: to the login, and back here afterwards.
pub struct ToLogin(String);

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        Redirect::to(&format!("/anmelden?weiter={}", self.0)).into_response()
    }
}

impl FromRequestParts<WebState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &WebState) -> Result<SignedIn, Response> {
        // Only the path comes back after the login: BG numbers are fine in
        // paths, and a query might hold what someone typed.
        // The live Postkorb's background request neither renews the session
        // nor follows a redirect: it learns of the logout by a 401 and
        // reloads the page, which then leads to the login.
        let background = parts.uri.path() == LIVE_PATH;
        let back = || {
            if background {
                return StatusCode::UNAUTHORIZED.into_response();
            }
            ToLogin(crate::api::documents::percent_encode(parts.uri.path())).into_response()
        };
        let Some(cookie) = session::cookie_of(&parts.headers) else {
            return Err(back());
        };
        let session = if background {
            web.sessions.peek(&cookie)
        } else {
            web.sessions.get(&cookie)
        };
        let Some(session) = session else {
            return Err(back());
        };
        let store = web.api.services.store().clone();
        let id = session.user;
        let account = crate::api::blocking(move || store.accounts().get(id))
            .await
            .map_err(|e| WebError::from(e).into_response())?;
        // Revoked since the login: the session ends with the token.
        let Some(user) = account.filter(|u| u.revoked_at.is_none()) else {
            web.sessions.end(&cookie);
            return Err(back());
        };
        let trail = parts
            .extensions
            .get::<RequestTrail>()
            .cloned()
            .unwrap_or_default();
        let actor = Actor::User {
            user: user.clone(),
            address: crate::api::auth::address_of(&parts.extensions),
            recorded: trail.recorded.clone(),
        };
        trail.authenticated(&actor);
        if parts.method == axum::http::Method::POST && !same_origin(&parts.headers) {
            return Err(WebError::new(
                StatusCode::FORBIDDEN,
                "Nicht erlaubt",
                "Dieses Formular kam nicht von eakte. Öffnen Sie die Seite neu und senden Sie es von dort.",
            )
            .into_response());
        }
        let me = Me {
            name: user.name.clone(),
            role: role_name(user.role),
            csrf: session.csrf.clone(),
            postkorb: matches!(
                user.role,
                Role::Caseworker | Role::Clearing | Role::Teamlead
            ),
            akten: matches!(user.role, Role::Caseworker | Role::Teamlead),
            klaerung: user.role == Role::Clearing,
            team: user.role == Role::Teamlead,
            uebernahme: user.role == Role::Admin,
        };
        Ok(SignedIn {
            actor,
            session,
            cookie,
            me,
        })
    }
}

/// A POST from one of our pages. Browsers say where a request comes from in
/// `Sec-Fetch-Site` (`same-origin` for our own forms); older ones only in
/// `Origin` (sent under the pages' `same-origin` referrer policy), which must
/// then name this host. `Origin: null` (a privacy setting, a sandbox) proves
/// nothing either way; such a request, or one with neither header, still
/// needs the form's CSRF token and the SameSite=Strict cookie.
pub fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
    };
    if let Some(site) = header("sec-fetch-site") {
        return site == "same-origin";
    }
    match header(header::ORIGIN.as_str()) {
        None | Some("null") => true,
        Some(origin) => {
            let origin_host = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            matches!((origin_host, header(header::HOST.as_str())), (Some(o), Some(h)) if o == h)
        }
    }
}

impl SignedIn {
    /// The form's CSRF token is this session's, else 403.
    pub fn check_csrf(&self, given: &str) -> Result<(), WebError> {
        if session::same_secret(given, &self.session.csrf) {
            Ok(())
        } else {
            Err(WebError::new(
                StatusCode::FORBIDDEN,
                "Formular abgelaufen",
                "Das Formular ist abgelaufen oder stammt aus einer früheren Anmeldung. \
                 Laden Sie die Seite neu und versuchen Sie es noch einmal.",
            ))
        }
    }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Caseworker => "Sachbearbeitung",
        Role::Clearing => "Klärungsstelle",
        Role::Teamlead => "Teamleitung",
        Role::Admin => "Administration",
        Role::Auditor => "Revision",
    }
}

pub fn state_name(state: ItemState) -> &'static str {
    match state {
        ItemState::New => "neu",
        ItemState::InProgress => "in Bearbeitung",
        ItemState::Done => "zdA",
    }
}

/// An instant as recorded (RFC 3339) in German local time; as given if it
/// is none.
pub fn german_time(recorded: &str) -> String {
    match crate::timefmt::parse(recorded) {
        Some(at) => crate::timefmt::german_time(at),
        None => recorded.to_string(),
    }
}

/// How long ago `recorded` was, as a caseworker says it.
pub fn age(recorded: &str) -> String {
    let Some(at) = crate::timefmt::parse(recorded) else {
        return String::new();
    };
    let zone = crate::clock::german_zone().clone();
    let then = at.to_zoned(zone.clone()).date();
    let today = crate::clock::today();
    let days = (today - then).get_days();
    match days {
        ..=0 => "heute".into(),
        1 => "seit gestern".into(),
        n => format!("seit {n} Tagen"),
    }
}

/// Why eakte sent a letter to the clearing office, as the office says it.
pub fn clearing_reason(reason: &crate::model::ClearingReason) -> String {
    use crate::model::ClearingReason::*;
    match reason {
        NoRecipient => "Kein Empfänger erkannt: weder BG-Nummer, Kundennummer noch Name und Anschrift passen eindeutig.".into(),
        AmbiguousRecipient { candidates } => format!(
            "Mehrere Empfänger möglich: {}.",
            candidates.iter().map(|bg| bg.to_string()).collect::<Vec<_>>().join(", ")
        ),
        UnknownBg { bg } => format!("Die BG {bg} ist im Bestand nicht bekannt."),
        NobodyResponsible { bg } => format!("Für die BG {bg} ist niemand zuständig."),
        UnknownCaseworker { bg, kennung } => format!(
            "Die BG {bg} ist {kennung} zugeordnet, diese Kennung kennt eakte nicht."
        ),
        NoDeputyAvailable { bg } => format!(
            "Die Zuständigen der BG {bg} und alle Vertretungen sind abwesend."
        ),
        UntrustedCoverSheet { printed } => format!(
            "Deckblatt mit ungültigem Prüfwert (laut Blatt BG {printed}): gefälscht, falsch abgeschrieben oder nicht von diesem Jobcenter. Bitte den Empfänger prüfen."
        ),
        MembersDisagree { bg, .. } => format!(
            "Die Mitglieder der BG {bg} sind verschiedenen Sachbearbeitungen zugeordnet."
        ),
    }
}

/// A receipt day as typed in a filter (TT.MM.JJJJ or JJJJ-MM-TT; empty: no
/// bound), as the bound of a search: the German midnight that starts it, or
/// with `end` the one that ends it.
pub fn receipt_day(text: &str, end: bool) -> Result<Option<jiff::Timestamp>, WebError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let date = crate::timefmt::parse_date(text).ok_or_else(|| {
        WebError::input(format!(
            "„{text}“ ist kein Datum. Bitte geben Sie es als TT.MM.JJJJ an, zum Beispiel 01.12.2026."
        ))
    })?;
    Ok(Some(crate::clock::receipt_bound(date, end)))
}

/// How eakte routed a letter, in the caseworkers' words (the route's
/// recorded explanation is for the log and the command line).
pub fn route_in_german(route: &crate::model::Route, bg: Option<&crate::model::BgNummer>) -> String {
    use crate::model::Responsibility;
    let bg = bg.map_or_else(|| "ohne BG".to_string(), |bg| format!("BG {bg}"));
    let mut out = match &route.responsible {
        Some(Responsibility::Explicit { kennung }) => {
            format!("{bg}: im Bestand ausdrücklich {kennung} zugeordnet.")
        }
        Some(Responsibility::SurnameRange {
            kennung,
            standort,
            von,
            bis,
            surname,
        }) => format!(
            "{bg}: der Nachname {surname} fällt am Standort {standort} in den Bereich {von}–{bis} von {kennung}."
        ),
        None if route.clearing.is_some() => "Zur Klärungsstelle (Grund oben).".to_string(),
        None => format!("{bg}."),
    };
    for hop in &route.deputies {
        out.push_str(&format!(
            " {} ist vom {} bis {} abwesend, Vertretung: {}.",
            hop.absent,
            crate::timefmt::german_day(hop.from),
            crate::timefmt::german_day(hop.to),
            hop.deputy
        ));
    }
    out.push_str(&format!(" Postkorb: {}.", route.postbox));
    out
}

/// German month names, for the month facet.
const MONTHS: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

/// The month facet's months: this one and the eleven before it, in German
/// time.
pub fn recent_months() -> Vec<crate::index::Month> {
    let this = crate::clock::today().first_of_month();
    (0..12)
        .filter_map(|back| {
            let first = this.checked_sub(jiff::Span::new().months(back)).ok()?;
            let next = first.checked_add(jiff::Span::new().months(1)).ok()?;
            Some(crate::index::Month {
                key: format!("{:04}-{:02}", first.year(), first.month()),
                from: crate::clock::german_midnight(first),
                to: crate::clock::german_midnight(next),
            })
        })
        .collect()
}

/// `2026-11` as `November 2026`, with the first and last day of it as the
/// search form takes them (`01.11.2026`, `30.11.2026`).
pub fn month_in_german(key: &str) -> Option<(String, String, String)> {
    let (year, month) = key.split_once('-')?;
    let (year, month): (i16, i8) = (year.parse().ok()?, month.parse().ok()?);
    let first = jiff::civil::Date::new(year, month, 1).ok()?;
    let last = first.last_of_month();
    Some((
        format!("{} {year}", MONTHS[usize::try_from(month - 1).ok()?]),
        crate::timefmt::german_day(first),
        crate::timefmt::german_day(last),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_german_calendar_months_back_from_this_one() {
        let months = recent_months();
        assert_eq!(months.len(), 12);
        for pair in months.windows(2) {
            assert_eq!(pair[1].to, pair[0].from, "contiguous, newest first");
        }
        let today = crate::clock::today();
        assert_eq!(
            months[0].key,
            format!("{:04}-{:02}", today.year(), today.month())
        );
        assert_eq!(
            month_in_german("2026-11"),
            Some((
                "November 2026".into(),
                "01.11.2026".into(),
                "30.11.2026".into()
            ))
        );
        assert_eq!(month_in_german("2024-02").unwrap().2, "29.02.2024");
        assert_eq!(month_in_german("2026-13"), None);
    }
}
