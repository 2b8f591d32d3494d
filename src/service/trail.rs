//! The audit trail for auditors (entries) and operators (verification).

use super::{Actor, ServiceError, Services};
use crate::audit::{self, Filter, Verification};
use crate::model::{AuditEntry, Role};

/// Longest page of audit entries.
pub const MAX_LIMIT: usize = 1000;

/// Entries matching `filter`, oldest first; the reading is recorded too.
/// Blocking.
pub fn entries(
    services: &Services,
    actor: &Actor,
    filter: &Filter,
) -> Result<Vec<AuditEntry>, ServiceError> {
    actor.require(&[Role::Auditor])?;
    if filter.limit.is_some_and(|l| l == 0 || l > MAX_LIMIT) {
        return Err(ServiceError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let entries = audit::entries(services.store(), filter)?;
    services.record(
        actor,
        "read_audit",
        format!("{} entries", entries.len()),
        None,
    )?;
    Ok(entries)
}

/// Walk the whole chain for altered, removed or cut-off entries. Blocking.
pub fn verify(services: &Services, actor: &Actor) -> Result<Verification, ServiceError> {
    actor.require(&[Role::Auditor])?;
    let verification = audit::verify(services.store())?;
    let outcome = if verification.problems.is_empty() {
        "intact".to_string()
    } else {
        format!("{} problem(s)", verification.problems.len())
    };
    services.record(
        actor,
        "verify_audit",
        format!("{} entries", verification.entries),
        Some(outcome),
    )?;
    Ok(verification)
}
