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

pub async fn login_form(
    State(web): State<WebState>,
    Query(back): Query<Back>,
) -> Result<Response, WebError> {
    let weiter = own_path(back.weiter.as_deref().unwrap_or("/postkorb"), "/postkorb");
    Ok(page(&LoginPage {
        error: None,
        weiter: &weiter,
        idle_minutes: web.sessions.idle().as_secs() / 60,
    })?
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
    let actor = Actor::User {
        user: user.clone(),
        address,
        recorded: trail.recorded.clone(),
    };
    trail.authenticated(&actor);
    let services = web.api.services.clone();
    crate::api::blocking(move || {
        services.audited(&actor, "login", "web session".into(), |_| None, |_| Ok(()))
    })
    .await?;
    // A cookie the browser brought from before ends: the new login gets a
    // new session (no fixation on a value someone else may know).
    if let Some(old) = session::cookie_of(&headers) {
        web.sessions.end(&old);
    }
    let cookie = web.sessions.start(user.id).map_err(WebError::internal)?;
    Ok((
        [(header::SET_COOKIE, set_cookie(&cookie, web.secure_cookie))],
        Redirect::to(&weiter),
    )
        .into_response())
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
