//! Administration (users, registry imports, absences) for admins, and the audit
//! trail for auditors.

use super::auth::Caller;
use super::error::ApiError;
use super::{blocking, AppState};
use crate::audit::Filter;
use crate::model::{Absence, AuditEntry, Kennung};
use crate::progress::Silent;
use crate::registry::import::ImportReport;
use crate::service::admin::{self, Approved, Granted, Table};
use crate::service::trail;
use crate::users::NewUser;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn audit(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(filter): Query<Filter>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    Ok(Json(
        blocking(move || trail::entries(&state.services, &actor, &filter)).await?,
    ))
}

pub async fn list_users(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let users = admin::users(&state.services, &actor)?;
        let public: Vec<_> = users.iter().map(crate::users::public).collect();
        Ok::<_, ApiError>(Json(
            serde_json::to_value(public).map_err(ApiError::internal)?,
        ))
    })
    .await
}

/// An answer that is either the change done (`done`, with its status) or
/// the change waiting for a second admin (202, the pending change).
fn granted<T>(
    granted: Granted<T>,
    done: StatusCode,
    body: impl FnOnce(T) -> Result<Value, ApiError>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    match granted {
        Granted::Done(t) => Ok((done, Json(body(t)?))),
        Granted::Pending(p) => Ok((StatusCode::ACCEPTED, Json(pending_view(&p)?))),
    }
}

/// A pending change as admins see it (an import's file left out).
fn pending_view(p: &crate::model::PendingChange) -> Result<Value, ApiError> {
    let mut view = serde_json::to_value(p).map_err(ApiError::internal)?;
    if let Some(change) = view["change"].as_object_mut() {
        change.remove("csv");
    }
    Ok(view)
}

/// A user with its token, the only time it is shown.
fn user_with_token(user: &crate::model::User, token: &str) -> Result<Value, ApiError> {
    let mut body = serde_json::to_value(crate::users::public(user)).map_err(ApiError::internal)?;
    body["token"] = json!(token);
    Ok(body)
}

fn to_value(value: &impl serde::Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(ApiError::internal)
}

/// Create a user; the answer holds the token, the only time it is shown.
/// With four eyes it waits for a second admin (202).
pub async fn add_user(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(new): Json<NewUser>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    blocking(move || {
        let done = admin::add_user(&state.services, &actor, new)?;
        granted(done, StatusCode::CREATED, |(user, token)| {
            user_with_token(&user, &token)
        })
    })
    .await
}

/// The access changes waiting for a second admin.
pub async fn list_pending(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Vec<Value>>, ApiError> {
    blocking(move || {
        let pending = admin::pending(&state.services, &actor)?;
        Ok::<_, ApiError>(Json(
            pending.iter().map(pending_view).collect::<Result<_, _>>()?,
        ))
    })
    .await
}

/// Approve and carry out a pending change (a second admin).
pub async fn approve_pending(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let body = match admin::approve(&state.services, &actor, id)? {
            Approved::User(user, token) => user_with_token(&user, &token)?,
            Approved::Absence(absence) => to_value(&absence)?,
            Approved::Import(report) => to_value(&report)?,
        };
        Ok::<_, ApiError>(Json(body))
    })
    .await
}

/// Drop a pending change.
pub async fn reject_pending(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let pending = admin::reject(&state.services, &actor, id)?;
        Ok::<_, ApiError>(Json(pending_view(&pending)?))
    })
    .await
}

pub async fn revoke_user(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let user = admin::revoke_user(&state.services, &actor, &id.to_string())?;
        Ok::<_, ApiError>(Json(
            serde_json::to_value(crate::users::public(&user)).map_err(ApiError::internal)?,
        ))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    #[serde(default)]
    pub dry_run: bool,
}

/// Import recipients from the CSV body (see README for the columns).
pub async fn import_recipients(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    run_import(state, actor, Table::Recipients, q.dry_run, body).await
}

/// Import caseworkers and their surname ranges from the CSV body.
pub async fn import_caseworkers(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    run_import(state, actor, Table::Caseworkers, q.dry_run, body).await
}

async fn run_import(
    state: AppState,
    actor: crate::service::Actor,
    table: Table,
    dry_run: bool,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    blocking(move || {
        let done = admin::import(&state.services, &actor, table, &body, dry_run, &Silent)?;
        granted(done, StatusCode::OK, |report: ImportReport| {
            to_value(&report)
        })
    })
    .await
}

pub async fn list_absences(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Vec<Absence>>, ApiError> {
    Ok(Json(
        blocking(move || admin::absences(&state.services, &actor)).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAbsence {
    pub kennung: Kennung,
    pub from: String,
    pub to: String,
    pub deputy: Kennung,
}

pub async fn add_absence(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(new): Json<NewAbsence>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request = admin::AbsenceRequest {
        kennung: new.kennung,
        from: new.from,
        to: new.to,
        deputy: new.deputy,
    };
    blocking(move || {
        let done = admin::add_absence(&state.services, &actor, request)?;
        granted(done, StatusCode::CREATED, |absence: Absence| {
            to_value(&absence)
        })
    })
    .await
}

pub async fn remove_absence(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> Result<Json<Absence>, ApiError> {
    Ok(Json(
        blocking(move || admin::remove_absence(&state.services, &actor, id)).await?,
    ))
}
