//! Administration (users, registry imports, absences) for admins, and the audit
//! trail for auditors.

use super::auth::Caller;
use super::error::ApiError;
use super::{blocking, AppState};
use crate::audit::Filter;
use crate::model::{Absence, AuditEntry, Kennung};
use crate::progress::Silent;
use crate::registry::import::ImportReport;
use crate::service::admin::{self, Table};
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

/// Create a user; the answer holds the token, the only time it is shown.
pub async fn add_user(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(new): Json<NewUser>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    blocking(move || {
        let (user, token) = admin::add_user(&state.services, &actor, new)?;
        let mut body =
            serde_json::to_value(crate::users::public(&user)).map_err(ApiError::internal)?;
        body["token"] = json!(token);
        Ok::<_, ApiError>((StatusCode::CREATED, Json(body)))
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
) -> Result<Json<ImportReport>, ApiError> {
    run_import(state, actor, Table::Recipients, q.dry_run, body).await
}

/// Import caseworkers and their surname ranges from the CSV body.
pub async fn import_caseworkers(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    run_import(state, actor, Table::Caseworkers, q.dry_run, body).await
}

async fn run_import(
    state: AppState,
    actor: crate::service::Actor,
    table: Table,
    dry_run: bool,
    body: Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    Ok(Json(
        blocking(move || admin::import(&state.services, &actor, table, &body, dry_run, &Silent))
            .await?,
    ))
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
) -> Result<(StatusCode, Json<Absence>), ApiError> {
    let request = admin::AbsenceRequest {
        kennung: new.kennung,
        from: new.from,
        to: new.to,
        deputy: new.deputy,
    };
    let absence = blocking(move || admin::add_absence(&state.services, &actor, request)).await?;
    Ok((StatusCode::CREATED, Json(absence)))
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
