//! `/anmelden`, `/abmelden` and `/`.

use super::super::error::WebError;
use super::super::session::{self, clear_cookie, set_cookie};
use super::super::view::{same_origin, SignedIn};
use super::super::WebState;
use super::{own_path, page};
use crate::api::gate::RequestTrail;
use crate::service::Actor;
use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Template)]
#[template(path = "anmelden.html")]
struct LoginPage<'a> {
    error: Option<&'a str>,
    weiter: &'a str,
    idle_minutes: u64,
}

#[derive(Deserialize)]
pub struct Back {
    weiter: Option<String>,
}

/// `/`: the Postkorb, or the login.
pub async fn start() -> Redirect {
    Redirect::to("/postkorb")
}

/// The login form; behind a single sign-on proxy, the login itself.
pub async fn login_form(
    State(web): State<WebState>,
    Extension(trail): Extension<RequestTrail>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(back): Query<Back>,
) -> Result<Response, WebError> {
    let weiter = own_path(back.weiter.as_deref().unwrap_or("/postkorb"), "/postkorb");
    if let Some(signed_on) = single_sign_on(&web, &trail, remote, &headers, &weiter).await? {
        return Ok(signed_on);
    }
    Ok(page(&LoginPage {
        error: None,
        weiter: &weiter,
        idle_minutes: web.sessions.idle().as_secs() / 60,
    })?
    .into_response())
}

/// The user a trusted proxy names in the configured header, logged in: only
/// from the configured proxy addresses (anyone else could send the header),
/// and only a name that belongs to exactly one account that is not revoked.
async fn single_sign_on(
    web: &WebState,
    trail: &RequestTrail,
    remote: SocketAddr,
    headers: &HeaderMap,
    weiter: &str,
) -> Result<Option<Response>, WebError> {
    let Some(sso) = &web.single_sign_on else {
        return Ok(None);
    };
    let address = remote.ip().to_canonical();
    let Some(name) = headers
        .get(sso.header.as_str())
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    if !sso.proxies.contains(&address) {
        trail.note("sign-on header from an untrusted address");
        return Err(WebError::new(
            StatusCode::FORBIDDEN,
            "Nicht erlaubt",
            "Die Anmeldung über das Netzwerk kam nicht über den dafür eingerichteten Zugang. \
             Melden Sie sich mit Ihrem Zugangsschlüssel an oder wenden Sie sich an die IT.",
        ));
    }
    let store = web.api.services.store().clone();
    let name = name.trim().to_string();
    let accounts = crate::api::blocking(move || store.accounts().all()).await?;
    let mut named = accounts
        .into_iter()
        .filter(|u| u.revoked_at.is_none() && u.name == name);
    let (Some(user), None) = (named.next(), named.next()) else {
        trail.note("sign-on name matches no single account");
        return Err(WebError::new(
            StatusCode::UNAUTHORIZED,
            "Nicht angemeldet",
            "Für Ihre Anmeldung im Netzwerk gibt es in eakte kein (eindeutiges) Konto. \
             Wenden Sie sich an die Administration.",
        ));
    };
    Ok(Some(
        start_session(web, trail, user, address, headers, weiter, "single sign-on").await?,
    ))
}

/// Record the login and give the browser its session cookie.
async fn start_session(
    web: &WebState,
    trail: &RequestTrail,
    user: crate::model::User,
    address: std::net::IpAddr,
    headers: &HeaderMap,
    weiter: &str,
    how: &'static str,
) -> Result<Response, WebError> {
    let actor = Actor::User {
        user: user.clone(),
        address,
        recorded: trail.recorded.clone(),
    };
    trail.authenticated(&actor);
    let services = web.api.services.clone();
    crate::api::blocking(move || {
        services.audited(
            &actor,
            "login",
            "web session".into(),
            |_| Some(how.to_string()),
            |_| Ok(()),
        )
    })
    .await?;
    // A cookie the browser brought from before ends: the new login gets a
    // new session (no fixation on a value someone else may know).
    if let Some(old) = session::cookie_of(headers) {
        web.sessions.end(&old);
    }
    let cookie = web.sessions.start(user.id).map_err(WebError::internal)?;
    Ok((
        [(header::SET_COOKIE, set_cookie(&cookie, web.secure_cookie))],
        Redirect::to(weiter),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct Credentials {
    token: String,
    weiter: Option<String>,
}

/// Log in with the user's token: a session cookie, then back to where they
/// wanted to go. A wrong token counts against the address as over the API.
pub async fn login(
    State(web): State<WebState>,
    Extension(trail): Extension<RequestTrail>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(credentials): Form<Credentials>,
) -> Result<Response, WebError> {
    let address = remote.ip().to_canonical();
    if !same_origin(&headers) {
        trail.note("login form from another site");
        return Err(WebError::new(
            StatusCode::FORBIDDEN,
            "Nicht erlaubt",
            "Die Anmeldung kam nicht von eakte. Öffnen Sie die Anmeldeseite neu.",
        ));
    }
    let weiter = own_path(
        credentials.weiter.as_deref().unwrap_or("/postkorb"),
        "/postkorb",
    );
    let idle_minutes = web.sessions.idle().as_secs() / 60;
    let refuse = |status: StatusCode, message: &str| -> Result<Response, WebError> {
        let mut response = page(&LoginPage {
            error: Some(message),
            weiter: &weiter,
            idle_minutes,
        })?
        .into_response();
        *response.status_mut() = status;
        Ok(response)
    };
    if web.api.limiter.turned_away(address).is_some() {
        trail.note("turned away after repeated bad tokens");
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "Zu viele falsche Zugangsschlüssel von diesem Rechner. Bitte warten Sie einige Sekunden.",
        );
    }
    let store = web.api.services.store().clone();
    let token = credentials.token.trim().to_string();
    let user = crate::api::blocking(move || crate::users::authenticate(&store, &token)).await?;
    let Some(user) = user else {
        web.api.limiter.failed(address);
        trail.note("bad token");
        return refuse(
            StatusCode::UNAUTHORIZED,
            "Dieser Zugangsschlüssel ist nicht gültig oder wurde gesperrt. Prüfen Sie ihn oder wenden Sie sich an die Administration.",
        );
    };
    start_session(&web, &trail, user, address, &headers, &weiter, "token").await
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

pub async fn logout(
    State(web): State<WebState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, WebError> {
    signed_in.check_csrf(&form.csrf)?;
    if let Some(cookie) = session::cookie_of(&headers) {
        web.sessions.end(&cookie);
    }
    let services = web.api.services.clone();
    let actor = signed_in.actor.clone();
    crate::api::blocking(move || {
        services.audited(&actor, "logout", "web session".into(), |_| None, |_| Ok(()))
    })
    .await?;
    Ok((
        [(header::SET_COOKIE, clear_cookie(web.secure_cookie))],
        Redirect::to("/anmelden"),
    )
        .into_response())
}
