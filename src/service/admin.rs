//! Administration: users and tokens, registry imports, absences. For admins
//! (over the API) and operators (on the command line); none of it shows
//! social data.

use super::{Actor, ServiceError, Services};
use crate::model::{Absence, Caseworker, Kennung, Role, User};
use crate::progress::Progress;
use crate::registry::import::{self, ImportReport, NewAbsence};
use crate::users::{self, NewUser};
use jiff::civil::Date;

const ADMINS: &[Role] = &[Role::Admin];

/// Every user, active or revoked.
pub fn users(services: &Services, actor: &Actor) -> Result<Vec<User>, ServiceError> {
    actor.require(ADMINS)?;
    Ok(users::list(services.store())?)
}

/// Create a user; returns it with its token (the only time it is shown).
/// The user and the audit entry are written in one transaction. Blocking.
pub fn add_user(
    services: &Services,
    actor: &Actor,
    new: NewUser,
) -> Result<(User, String), ServiceError> {
    let detail = format!("{:?} as {}", new.name, new.role);
    services.audited(
        actor,
        "add_user",
        "users".into(),
        // A refused or failed change is recorded with what was asked.
        |_| Some(detail.clone()),
        |ticket| {
            actor.require(ADMINS)?;
            let registry = services.registry()?;
            let audit = |user: &User| ticket.events(Some(format!("{detail}, user {}", user.id)));
            Ok(users::add(services.store(), &registry, new, &audit)?)
        },
    )
}

/// Revoke the active user with id or name `user` (the API names them by id
/// only); their token stops working at once. Blocking.
pub fn revoke_user(services: &Services, actor: &Actor, user: &str) -> Result<User, ServiceError> {
    services.audited(
        actor,
        "revoke_user",
        format!("user {user}"),
        |_| None,
        |ticket| {
            actor.require(ADMINS)?;
            // An admin locking themselves out could leave nobody to undo it.
            if let Some(me) = actor.user() {
                if user == me.id.to_string() {
                    return Err(ServiceError::Conflict(
                        "You cannot revoke your own token; ask another admin.".into(),
                    ));
                }
            }
            let audit = |revoked: &User| ticket.events(Some(format!("{:?}", revoked.name)));
            let revoked = match actor {
                Actor::User { .. } => {
                    let id = user.parse().map_err(|_| ServiceError::NotFound)?;
                    users::revoke_id(services.store(), id, &audit)?
                }
                Actor::Operator { .. } => users::revoke(services.store(), user, &audit)?,
            };
            Ok(revoked)
        },
    )
}

/// Which registry table an import replaces or updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Recipients,
    Caseworkers,
}

impl Table {
    fn action(self) -> &'static str {
        match self {
            Table::Recipients => "import_recipients",
            Table::Caseworkers => "import_caseworkers",
        }
    }
}

/// Import a CSV file of `table` (see README for the columns); with `dry_run`
/// only report. The import and its audit entry commit together. Blocking.
pub fn import(
    services: &Services,
    actor: &Actor,
    table: Table,
    csv: &[u8],
    dry_run: bool,
    progress: &dyn Progress,
) -> Result<ImportReport, ServiceError> {
    let summary = move |r: &ImportReport| {
        format!(
            "{} added, {} changed, {} rejected, dry run {dry_run}",
            r.added,
            r.changed,
            r.rejected.len()
        )
    };
    let detail = |report: Option<&ImportReport>| {
        Some(report.map_or_else(|| format!("nothing changed, dry run {dry_run}"), summary))
    };
    services.audited(actor, table.action(), "registry".into(), detail, |ticket| {
        actor.require(ADMINS)?;
        let store = services.store();
        let plan = match table {
            Table::Recipients => import::plan_recipients(store, csv, progress)?,
            Table::Caseworkers => import::plan_caseworkers(store, csv, progress)?,
        };
        if dry_run {
            return Ok(plan.report);
        }
        let events = ticket.events(Some(summary(&plan.report)));
        Ok(plan.apply(store, &events, progress)?)
    })
}

/// Every caseworker with their ranges.
pub fn caseworkers(services: &Services, actor: &Actor) -> Result<Vec<Caseworker>, ServiceError> {
    actor.require(ADMINS)?;
    Ok(services.registry()?.caseworkers().cloned().collect())
}

/// Every absence.
pub fn absences(services: &Services, actor: &Actor) -> Result<Vec<Absence>, ServiceError> {
    actor.require(ADMINS)?;
    Ok(services.registry()?.absences().to_vec())
}

/// An absence as an admin enters it: the days as they typed them.
#[derive(Debug, Clone)]
pub struct AbsenceRequest {
    pub kennung: Kennung,
    pub from: String,
    pub to: String,
    pub deputy: Kennung,
}

/// A day as users write it: `2026-12-01` or `01.12.2026`.
fn day(s: &str) -> Result<Date, ServiceError> {
    crate::timefmt::day(s).map_err(|e| ServiceError::Invalid(e.to_string()))
}

/// Record an absence (with its audit entry, in one transaction). Blocking.
pub fn add_absence(
    services: &Services,
    actor: &Actor,
    request: AbsenceRequest,
) -> Result<Absence, ServiceError> {
    let detail = format!(
        "{} from {} to {}, deputy {}",
        request.kennung, request.from, request.to, request.deputy
    );
    services.audited(
        actor,
        "add_absence",
        "absences".into(),
        |_| Some(detail.clone()),
        |ticket| {
            actor.require(ADMINS)?;
            let new = NewAbsence {
                from: day(&request.from)?,
                to: day(&request.to)?,
                kennung: request.kennung,
                deputy: request.deputy,
            };
            let registry = services.registry()?;
            let events = ticket.events(Some(detail.clone()));
            Ok(import::add_absence(
                services.store(),
                &registry,
                new,
                &events,
            )?)
        },
    )
}

/// Remove an absence (with its audit entry, in one transaction). Blocking.
pub fn remove_absence(
    services: &Services,
    actor: &Actor,
    id: u64,
) -> Result<Absence, ServiceError> {
    services.audited(
        actor,
        "remove_absence",
        format!("absence {id}"),
        |_| None,
        |ticket| {
            actor.require(ADMINS)?;
            Ok(import::remove_absence(
                services.store(),
                id,
                &ticket.events(None),
            )?)
        },
    )
}
