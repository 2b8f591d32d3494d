//! Administration: users and tokens, registry imports, absences. For admins
//! (over the API) and operators (on the command line); none of it shows
//! social data.
//!
//! Four eyes: what widens someone's access (a new account, a deputy, an
//! import that moves a BG to another caseworker) asked for by an admin over
//! the API is checked and kept as a [`PendingChange`] until a second,
//! different admin approves it; only then is it carried out, in the same
//! transaction that removes the pending record. With `[access] four_eyes =
//! false` (an office with one admin) it is carried out at once, and its
//! entry's target says `(four eyes off)` for the auditor. Operators on the
//! server's command line act at once: whoever may run eakte there holds the
//! store itself.

use super::{Actor, ServiceError, Services};
use crate::model::{
    Absence, AccessChange, Caseworker, Kennung, NewUser, PendingChange, Person, Role, User,
};
use crate::progress::{Progress, Silent};
use crate::registry::import::{self, ImportReport, NewAbsence};
use crate::registry::Registry;
use crate::users;
use jiff::civil::Date;

const ADMINS: &[Role] = &[Role::Admin];

/// Every user, active or revoked.
pub fn users(services: &Services, actor: &Actor) -> Result<Vec<User>, ServiceError> {
    actor.require(ADMINS)?;
    Ok(users::list(services.store())?)
}

/// What an access change came to.
#[derive(Debug)]
pub enum Granted<T> {
    Done(T),
    /// Waiting for a second admin.
    Pending(PendingChange),
}

/// Whether `actor` needs a second admin for a change that widens access.
fn needs_second_admin(services: &Services, actor: &Actor) -> bool {
    services.four_eyes() && matches!(actor, Actor::User { .. })
}

/// The audit target of such a change carried out at once: flagged when an
/// admin alone made it because four eyes are off.
fn widening_target(services: &Services, actor: &Actor, target: &str) -> String {
    if !services.four_eyes() && matches!(actor, Actor::User { .. }) {
        format!("{target} (four eyes off)")
    } else {
        target.to_string()
    }
}

/// Keep `change`, checked already, for a second admin; recorded with
/// `described` (what it would do).
fn request(
    services: &Services,
    actor: &Actor,
    change: AccessChange,
    described: String,
) -> Result<PendingChange, ServiceError> {
    let Some(user) = actor.user() else {
        return Err(ServiceError::Conflict(
            "only API users ask for a second admin".into(),
        ));
    };
    let id = services.store().generate_id()?;
    services.audited(
        actor,
        "request_access",
        format!("pending change {id}"),
        |_| Some(described.clone()),
        |ticket| {
            let pending = PendingChange {
                id,
                change,
                requested_by: user.id,
                requested_by_name: user.name.clone(),
                requested_at: crate::clock::now_rfc3339(),
            };
            let events = ticket.events(Some(format!("{described}; waits for a second admin")));
            services.store().pending().put(&pending, &events)?;
            Ok(pending)
        },
    )
}

/// How an approved change is named in its entry.
fn approval(pending: Option<&PendingChange>) -> String {
    match pending {
        Some(p) => format!(
            "; approves pending change {} asked for by {} ({})",
            p.id, p.requested_by_name, p.requested_by
        ),
        None => String::new(),
    }
}

/// Create a user (with four eyes over the API: ask for it); returns it with
/// its token (the only time it is shown). The user and the audit entry are
/// written in one transaction. Blocking.
pub fn add_user(
    services: &Services,
    actor: &Actor,
    new: NewUser,
) -> Result<Granted<(User, String)>, ServiceError> {
    actor.require(ADMINS)?;
    if needs_second_admin(services, actor) {
        users::check(services.store(), &*services.registry()?, &new)?;
        let described = describe_user(&new);
        let change = AccessChange::AddUser { user: new };
        return Ok(Granted::Pending(request(
            services, actor, change, described,
        )?));
    }
    Ok(Granted::Done(create_user(services, actor, new, None)?))
}

fn describe_user(new: &NewUser) -> String {
    format!("{:?} as {}", new.name, new.role)
}

fn create_user(
    services: &Services,
    actor: &Actor,
    new: NewUser,
    pending: Option<&PendingChange>,
) -> Result<(User, String), ServiceError> {
    let detail = format!("{}{}", describe_user(&new), approval(pending));
    services.audited(
        actor,
        "add_user",
        widening_target(services, actor, "users"),
        // A refused or failed change is recorded with what was asked.
        |_| Some(detail.clone()),
        |ticket| {
            actor.require(ADMINS)?;
            let registry = services.registry()?;
            let audit = |user: &User| ticket.events(Some(format!("{detail}, user {}", user.id)));
            let settles = pending.map(|p| p.id);
            Ok(users::add(
                services.store(),
                &registry,
                new,
                settles,
                &audit,
            )?)
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
pub use crate::model::RegistryTable as Table;

impl Table {
    fn action(self) -> &'static str {
        match self {
            Table::Recipients => "import_recipients",
            Table::Caseworkers => "import_caseworkers",
        }
    }
}

/// Import a CSV file of `table` (see README for the columns); with `dry_run`
/// only report. An import over the API that would move a BG to another
/// caseworker waits for a second admin (see [`widens`]). The import and its
/// audit entry commit together. Blocking.
pub fn import(
    services: &Services,
    actor: &Actor,
    table: Table,
    csv: &[u8],
    dry_run: bool,
    progress: &dyn Progress,
) -> Result<Granted<ImportReport>, ServiceError> {
    actor.require(ADMINS)?;
    if !dry_run && needs_second_admin(services, actor) {
        let plan = plan(services, table, csv, progress)?;
        if widens(&*services.registry()?, table, &plan) {
            let summary = summary(&plan.report);
            let described = format!("{} ({summary})", table.action());
            let change = AccessChange::Import {
                table,
                csv: csv.to_vec(),
                summary,
            };
            return Ok(Granted::Pending(request(
                services, actor, change, described,
            )?));
        }
    }
    let report = run_import(services, actor, table, csv, dry_run, None, progress)?;
    let guessable = dry_run && table == Table::Recipients && actor.user().is_some();
    Ok(Granted::Done(if guessable {
        report.withheld()
    } else {
        report
    }))
}

fn plan(
    services: &Services,
    table: Table,
    csv: &[u8],
    progress: &dyn Progress,
) -> Result<import::Plan, ServiceError> {
    let store = services.store();
    Ok(match table {
        Table::Recipients => import::plan_recipients(store, csv, progress)?,
        Table::Caseworkers => import::plan_caseworkers(store, csv, progress)?,
    })
}

fn summary(r: &ImportReport) -> String {
    format!(
        "{} added, {} changed, {} rejected",
        r.added,
        r.changed,
        r.rejected.len()
    )
}

/// Whether an import can widen someone's scope: any change to caseworkers
/// (ranges, teams, sites, or one left out, who loses their ranges); for
/// recipients, any row that can move an existing BG to another caseworker: a
/// known recipient whose BG, surname, site, explicit caseworker or applicant
/// flag changes, or a new member of a BG that exists already, or a new
/// recipient assigned explicitly or marked as applicant. Only new recipients
/// of new BGs, routed by the ranges already approved, go through at once.
pub fn widens(registry: &Registry, table: Table, plan: &import::Plan) -> bool {
    match table {
        Table::Caseworkers => {
            plan.report.added + plan.report.changed > 0 || !plan.report.notes.is_empty()
        }
        Table::Recipients => plan.persons().iter().any(|p| {
            let moves = |before: &Person| {
                before.bg != p.bg
                    || before.nachname != p.nachname
                    || before.standort != p.standort
                    || before.sachbearbeiter != p.sachbearbeiter
                    || before.antragsteller != p.antragsteller
            };
            match registry.person(&p.kundennummer) {
                Some(before) => moves(before),
                None => registry.has_bg(&p.bg) || p.sachbearbeiter.is_some() || p.antragsteller,
            }
        }),
    }
}

fn run_import(
    services: &Services,
    actor: &Actor,
    table: Table,
    csv: &[u8],
    dry_run: bool,
    pending: Option<&PendingChange>,
    progress: &dyn Progress,
) -> Result<ImportReport, ServiceError> {
    let approved = approval(pending);
    let detail = |report: Option<&ImportReport>| {
        Some(match report {
            Some(r) => format!("{}, dry run {dry_run}{approved}", summary(r)),
            None => format!("nothing changed, dry run {dry_run}{approved}"),
        })
    };
    let target = widening_target(services, actor, "registry");
    services.audited(actor, table.action(), target, detail, |ticket| {
        actor.require(ADMINS)?;
        let plan = plan(services, table, csv, progress)?;
        if dry_run {
            return Ok(plan.report);
        }
        let events = ticket.events(Some(format!(
            "{}, dry run false{}",
            summary(&plan.report),
            approval(pending)
        )));
        let settles = pending.map(|p| p.id);
        Ok(plan.apply(services.store(), settles, &events, progress)?)
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

/// Record an absence with its deputy (with four eyes over the API: ask for
/// it; the deputy gains the absent colleague's Akten). The absence and its
/// audit entry are written in one transaction. Blocking.
pub fn add_absence(
    services: &Services,
    actor: &Actor,
    request_: AbsenceRequest,
) -> Result<Granted<Absence>, ServiceError> {
    actor.require(ADMINS)?;
    let new = NewAbsence {
        from: day(&request_.from)?,
        to: day(&request_.to)?,
        kennung: request_.kennung,
        deputy: request_.deputy,
    };
    if needs_second_admin(services, actor) {
        import::check_absence(&*services.registry()?, &new)?;
        let described = describe_absence(&new);
        let change = AccessChange::AddAbsence {
            kennung: new.kennung,
            from: new.from,
            to: new.to,
            deputy: new.deputy,
        };
        return Ok(Granted::Pending(request(
            services, actor, change, described,
        )?));
    }
    Ok(Granted::Done(record_absence(services, actor, new, None)?))
}

fn describe_absence(new: &NewAbsence) -> String {
    format!(
        "{} from {} to {}, deputy {}",
        new.kennung, new.from, new.to, new.deputy
    )
}

fn record_absence(
    services: &Services,
    actor: &Actor,
    new: NewAbsence,
    pending: Option<&PendingChange>,
) -> Result<Absence, ServiceError> {
    let detail = format!("{}{}", describe_absence(&new), approval(pending));
    services.audited(
        actor,
        "add_absence",
        widening_target(services, actor, "absences"),
        |_| Some(detail.clone()),
        |ticket| {
            actor.require(ADMINS)?;
            let registry = services.registry()?;
            let events = ticket.events(Some(detail.clone()));
            let settles = pending.map(|p| p.id);
            Ok(import::add_absence(
                services.store(),
                &registry,
                new,
                settles,
                &events,
            )?)
        },
    )
}

/// What approving a change carried out.
#[derive(Debug)]
pub enum Approved {
    /// The new user and its token (shown to the approving admin, once).
    User(User, String),
    Absence(Absence),
    Import(ImportReport),
}

/// The access changes waiting for a second admin, oldest first.
pub fn pending(services: &Services, actor: &Actor) -> Result<Vec<PendingChange>, ServiceError> {
    actor.require(ADMINS)?;
    Ok(services.store().pending().all()?)
}

/// Pending change `id`, or "not found".
fn pending_change(services: &Services, id: u64) -> Result<PendingChange, ServiceError> {
    services
        .store()
        .pending()
        .get(id)?
        .ok_or(ServiceError::NotFound)
}

/// Approve and carry out pending change `id`: by an admin other than the
/// one who asked (or an operator). The change is judged again as things are
/// now (a name may have been taken meanwhile). Blocking.
pub fn approve(services: &Services, actor: &Actor, id: u64) -> Result<Approved, ServiceError> {
    // The approval itself is recorded, also when it is refused (an admin
    // approving their own change is what the auditor wants to see); the
    // change it carries out has its own entry.
    let pending = services.audited(
        actor,
        "approve_access",
        format!("pending change {id}"),
        |_| None,
        |_| {
            actor.require(ADMINS)?;
            let pending = pending_change(services, id)?;
            if actor.user().is_some_and(|u| u.id == pending.requested_by) {
                return Err(ServiceError::Conflict(
                    "You asked for this change; a second admin must approve it.".into(),
                ));
            }
            Ok(pending)
        },
    )?;
    Ok(match pending.change.clone() {
        AccessChange::AddUser { user } => {
            let (user, token) = create_user(services, actor, user, Some(&pending))?;
            Approved::User(user, token)
        }
        AccessChange::AddAbsence {
            kennung,
            from,
            to,
            deputy,
        } => {
            let new = NewAbsence {
                kennung,
                from,
                to,
                deputy,
            };
            Approved::Absence(record_absence(services, actor, new, Some(&pending))?)
        }
        AccessChange::Import { table, csv, .. } => Approved::Import(run_import(
            services,
            actor,
            table,
            &csv,
            false,
            Some(&pending),
            &Silent,
        )?),
    })
}

/// Drop pending change `id` without carrying it out (any admin, also the
/// one who asked: withdrawn). Blocking.
pub fn reject(services: &Services, actor: &Actor, id: u64) -> Result<PendingChange, ServiceError> {
    services.audited(
        actor,
        "reject_access",
        format!("pending change {id}"),
        |_| None,
        |ticket| {
            actor.require(ADMINS)?;
            let pending = pending_change(services, id)?;
            let events = ticket.events(Some(format!(
                "asked for by {} ({})",
                pending.requested_by_name, pending.requested_by
            )));
            services.store().pending().remove(id, &events)?;
            Ok(pending)
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
