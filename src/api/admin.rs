//! Administration (users, registry imports, absences) for admins, and the audit
//! trail for auditors.

use super::auth::Caller;
use super::error::ApiError;
use super::{blocking, AppState};
use crate::audit::{self, Entry, Filter};
use crate::registry::import::{self, AbsenceError, ImportError, ImportReport};
use crate::registry::{Absence, Kennung};
use crate::users::{self, NewUser, Role, UserError};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// Longest page of audit entries.
pub const MAX_AUDIT_LIMIT: usize = 1000;

pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<Filter>,
) -> Result<Json<Vec<Entry>>, ApiError> {
    caller.require(&[Role::Auditor])?;
    if filter.limit.is_some_and(|l| l == 0 || l > MAX_AUDIT_LIMIT) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_AUDIT_LIMIT}"
        )));
    }
    blocking(move || {
        let entries = audit::entries(&state.store, &filter)?;
        state.audit(
            &caller,
            "read_audit",
            format!("{} entries", entries.len()),
            "ok",
            None,
        )?;
        Ok(Json(entries))
    })
    .await
}

pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Admin])?;
    blocking(move || {
        let users = users::list(&state.store)?;
        let public: Vec<_> = users.iter().map(|u| u.public()).collect();
        Ok(Json(
            serde_json::to_value(public).map_err(ApiError::internal)?,
        ))
    })
    .await
}

/// Create a user; the answer holds the token, the only time it is shown.
pub async fn add_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewUser>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(&[Role::Admin])?;
    let detail = format!("{:?} as {}", new.name, new.role);
    blocking(move || {
        state.audited(
            &caller,
            "add_user",
            "users".into(),
            |_| Some(detail),
            || {
                let registry = state.pipeline.registry()?;
                let (user, token) = users::add(&state.store, &registry, new).map_err(user_error)?;
                let mut body = serde_json::to_value(user.public()).map_err(ApiError::internal)?;
                body["token"] = json!(token);
                Ok((StatusCode::CREATED, Json(body)))
            },
        )
    })
    .await
}

pub async fn revoke_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Admin])?;
    blocking(move || {
        state.audited(
            &caller,
            "revoke_user",
            format!("user {id}"),
            |_| None,
            || {
                // An admin locking themselves out could leave nobody to undo it.
                if id == caller.user.id {
                    return Err(ApiError::conflict(
                        "You cannot revoke your own token; ask another admin.",
                    ));
                }
                let user = users::revoke_id(&state.store, id).map_err(user_error)?;
                Ok(Json(
                    serde_json::to_value(user.public()).map_err(ApiError::internal)?,
                ))
            },
        )
    })
    .await
}

fn user_error(e: UserError) -> ApiError {
    match e {
        UserError::NotFound(_) => ApiError::not_found(),
        UserError::NameTaken(_) => ApiError::conflict(e.to_string()),
        UserError::Store(e) => ApiError::internal(e),
        UserError::Random(e) => ApiError::internal(e),
        other => ApiError::unprocessable(other.to_string()),
    }
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
    caller: Caller,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    run_import(
        state,
        caller,
        q.dry_run,
        body,
        "import_recipients",
        import::recipients,
    )
    .await
}

/// Import caseworkers and their surname ranges from the CSV body.
pub async fn import_caseworkers(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    run_import(
        state,
        caller,
        q.dry_run,
        body,
        "import_caseworkers",
        import::caseworkers,
    )
    .await
}

async fn run_import(
    state: AppState,
    caller: Caller,
    dry_run: bool,
    body: Bytes,
    action: &'static str,
    import: fn(&crate::store::Store, &[u8], bool) -> Result<ImportReport, ImportError>,
) -> Result<Json<ImportReport>, ApiError> {
    caller.require(&[Role::Admin])?;
    blocking(move || {
        let detail = |report: Option<&Json<ImportReport>>| {
            let summary = report.map(|Json(r)| {
                format!(
                    "{} added, {} changed, {} rejected",
                    r.added,
                    r.changed,
                    r.rejected.len()
                )
            });
            Some(format!(
                "{}, dry run {dry_run}",
                summary.unwrap_or_else(|| "nothing changed".into())
            ))
        };
        state.audited(&caller, action, "registry".into(), detail, || {
            let report = import(&state.store, &body, dry_run).map_err(|e| match e {
                ImportError::Store(e) => ApiError::internal(e),
                ImportError::NoValidRows { rejected } => {
                    let lines: Vec<String> = rejected
                        .iter()
                        .map(|r| format!("line {}: {}", r.line, r.reason))
                        .collect();
                    ApiError::unprocessable(format!(
                        "no row is valid; nothing was changed ({})",
                        lines.join("; ")
                    ))
                }
                other => ApiError::unprocessable(format!("{other}; nothing was changed")),
            })?;
            Ok(Json(report))
        })
    })
    .await
}

pub async fn list_absences(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Absence>>, ApiError> {
    caller.require(&[Role::Admin])?;
    blocking(move || Ok(Json(state.pipeline.registry()?.absences().to_vec()))).await
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
    caller: Caller,
    Json(new): Json<NewAbsence>,
) -> Result<(StatusCode, Json<Absence>), ApiError> {
    caller.require(&[Role::Admin])?;
    let detail = format!(
        "{} from {} to {}, deputy {}",
        new.kennung, new.from, new.to, new.deputy
    );
    blocking(move || {
        state.audited(
            &caller,
            "add_absence",
            "absences".into(),
            |_| Some(detail),
            || {
                let day = |s: &str| {
                    crate::timefmt::parse_date(s).ok_or_else(|| {
                        ApiError::unprocessable(format!("{s:?} is not a date like 2026-12-01"))
                    })
                };
                let (from, to) = (day(&new.from)?, day(&new.to)?);
                let absence = import::add_absence(&state.store, new.kennung, from, to, new.deputy)
                    .map_err(absence_error)?;
                Ok((StatusCode::CREATED, Json(absence)))
            },
        )
    })
    .await
}

pub async fn remove_absence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> Result<Json<Absence>, ApiError> {
    caller.require(&[Role::Admin])?;
    blocking(move || {
        state.audited(
            &caller,
            "remove_absence",
            format!("absence {id}"),
            |_| None,
            || {
                Ok(Json(
                    import::remove_absence(&state.store, id).map_err(absence_error)?,
                ))
            },
        )
    })
    .await
}

fn absence_error(e: AbsenceError) -> ApiError {
    match e {
        AbsenceError::NotFound(_) => ApiError::not_found(),
        AbsenceError::Overlaps(_) => ApiError::conflict(e.to_string()),
        AbsenceError::Store(e) => ApiError::internal(e),
        other => ApiError::unprocessable(other.to_string()),
    }
}
