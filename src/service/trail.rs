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
    // What was asked, without the words of a suspicion (they are the
    // social data the check is about).
    let mut asked = Vec::new();
    if let Some(bg) = &filter.bg {
        asked.push(format!("bg={bg}"));
    }
    if let Some(words) = &filter.searched {
        // As hashes: the auditor's checks are on the record too, without
        // the names they were about.
        let hashed = crate::audit::words::describe(services.store(), words, &[], &[])?;
        asked.push(format!("searched {hashed}"));
    }
    services.record(
        actor,
        "read_audit",
        format!("{} entries", entries.len()),
        (!asked.is_empty()).then(|| asked.join("; ")),
        Vec::new(),
    )?;
    Ok(entries)
}

/// Walk the whole chain for altered, removed or cut-off entries, and with
/// `anchors` (an anchor file's bytes) check it against every head anchored
/// outside the store: a rolled-back or rewritten trail. Blocking.
pub fn verify(
    services: &Services,
    actor: &Actor,
    anchors: Option<&[u8]>,
) -> Result<Verification, ServiceError> {
    actor.require(&[Role::Auditor])?;
    let mut verification = audit::verify(services.store())?;
    if let Some(bytes) = anchors {
        let (anchors, unread) = audit::anchor::read(bytes);
        verification.anchors = Some(anchors.len());
        verification.problems.extend(unread);
        if anchors.is_empty() {
            verification
                .problems
                .push("the anchor file holds no anchor".into());
        }
        verification
            .problems
            .extend(audit::anchor::check(services.store(), &anchors)?);
    }
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
        Vec::new(),
    )?;
    Ok(verification)
}
