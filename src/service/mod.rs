//! The audited operations every front end shares: the HTTP API, the command
//! line (in its own process, or carried out by the daemon over its control
//! socket) and the caseworkers' web UI. There is one implementation of "who
//! sees what" and one of "what is recorded": each operation checks the
//! caller's role and scope before anything else, does its work, and records it
//! in the audit trail before its answer goes out. A change and its audit entry
//! are written in one transaction (the operation hands its [`Ticket`] to the
//! store write); reads and refusals are recorded on their own.
//!
//! Front ends only translate: HTTP requests or command-line arguments in,
//! [`ServiceError`]s out as problem documents or messages.

pub mod admin;
pub mod coversheet;
pub mod documents;
mod error;
pub mod exchange;
pub mod maintenance;
pub mod postbox;
pub mod recipients;
pub mod trail;

pub use error::{Class, ServiceError};

use crate::access::{Responsibilities, Scope};
use crate::audit::Audit;
use crate::classify::doctype::Rules;
use crate::config::Config;
use crate::derived::Derived;
use crate::index::thread::IndexHandle;
use crate::index::SearchIndex;
use crate::model::{AuditEvent, BgNummer, Document, PostboxId, Role, User};
use crate::os_user::{user_name, Login};
use crate::pipeline::Pipeline;
use crate::registry::Registry;
use crate::store::Store;
use std::cell::{Cell, RefCell};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Whether a request's audit entry has been written: set by every entry an
/// operation records, so that the front end records a refusal that no
/// operation got to (a wrong role, a malformed body) exactly once.
#[derive(Debug, Clone, Default)]
pub struct Recorded(Arc<AtomicBool>);

impl Recorded {
    fn mark(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn is_marked(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Who does something.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A user of the API or the web UI, from an address; `recorded` is the
    /// request's.
    User {
        user: User,
        address: IpAddr,
        recorded: Recorded,
    },
    /// Someone on the server's command line, as the operating system knows
    /// them: whoever may run eakte there may do everything it does. `login`
    /// is the person who logged in, when that differs from the account the
    /// command runs as (`sudo eakte …` runs as root, but anna logged in).
    Operator {
        name: String,
        uid: u32,
        login: Option<Login>,
    },
}

impl Actor {
    /// The operator running this process.
    pub fn this_process() -> Actor {
        // SAFETY: getuid cannot fail.
        let uid = unsafe { libc::getuid() };
        Actor::Operator {
            name: user_name(uid),
            uid,
            login: crate::os_user::login_of_this_process(uid),
        }
    }

    /// How the actor appears in the audit trail.
    pub fn who(&self) -> String {
        match self {
            Actor::User { user, .. } => format!("{} ({})", user.name, user.id),
            Actor::Operator {
                name,
                uid,
                login: None,
            } => format!("{name} (uid {uid}, command line)"),
            Actor::Operator {
                name,
                uid,
                login: Some(login),
            } => format!(
                "{name} (uid {uid}, command line, logged in as {} uid {})",
                login.name, login.uid
            ),
        }
    }

    /// The audit event of `action` on `target` by this actor, outcome `ok`.
    fn event(&self, action: &str, target: String, detail: Option<String>) -> AuditEvent {
        AuditEvent {
            who: self.who(),
            role: self.role(),
            address: self.address(),
            action: action.to_string(),
            target,
            bgs: Vec::new(),
            outcome: "ok".into(),
            detail,
        }
    }

    fn role(&self) -> Option<String> {
        match self {
            Actor::User { user, .. } => Some(user.role.to_string()),
            Actor::Operator { .. } => None,
        }
    }

    fn address(&self) -> String {
        match self {
            Actor::User { address, .. } => address.to_string(),
            Actor::Operator { .. } => "cli".into(),
        }
    }

    /// How the actor appears in an item's history: a caseworker's Kennung,
    /// else the user's name.
    pub fn history_name(&self) -> String {
        match self {
            Actor::User { user, .. } => match &user.caseworker {
                Some(k) => k.to_string(),
                None => user.name.clone(),
            },
            Actor::Operator { name, .. } => name.clone(),
        }
    }

    pub fn user(&self) -> Option<&User> {
        match self {
            Actor::User { user, .. } => Some(user),
            Actor::Operator { .. } => None,
        }
    }

    /// Note that the request has its audit entry.
    fn recorded(&self) {
        if let Actor::User { recorded, .. } = self {
            recorded.mark();
        }
    }

    /// Refuse (as "not found") unless the actor has one of `roles`;
    /// operators have every role.
    pub fn require(&self, roles: &[Role]) -> Result<(), ServiceError> {
        match self {
            Actor::Operator { .. } => Ok(()),
            Actor::User { user, .. } if roles.contains(&user.role) => Ok(()),
            Actor::User { .. } => Err(ServiceError::NotFound),
        }
    }
}

/// What an actor may see today.
#[derive(Debug, Clone)]
pub enum Visibility {
    /// Everything (operators).
    All,
    /// A user's scope.
    Scoped(Scope),
}

impl Visibility {
    pub fn sees_bg(&self, bg: &BgNummer) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Scoped(scope) => scope.sees_bg(bg),
        }
    }

    pub fn sees_postbox(&self, postbox: &PostboxId) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Scoped(scope) => scope.sees_postbox(postbox),
        }
    }

    pub fn sees_document(&self, store: &Store, document: &Document) -> Result<bool, ServiceError> {
        match self {
            Visibility::All => Ok(true),
            Visibility::Scoped(scope) => Ok(scope.sees_document(store, document)?),
        }
    }
}

/// The audit entry of an operation that changes something, handed to the
/// store write that makes the change, so that both commit together.
pub struct Ticket {
    event: AuditEvent,
    used: Cell<bool>,
    /// The BGs the operation touched so far (see [`AuditEvent::bgs`]).
    bgs: RefCell<Vec<BgNummer>>,
}

impl Ticket {
    /// Note that the operation touches (or tried to touch) the social data
    /// of `bg`: its entry names it, whatever the outcome.
    pub fn concerns(&self, bg: &BgNummer) {
        let mut bgs = self.bgs.borrow_mut();
        if !bgs.contains(bg) {
            bgs.push(bg.clone());
        }
    }

    /// The entry as it is to be written with the change (outcome `ok`), with
    /// `detail`, for the write's `audit` argument.
    pub fn events(&self, detail: Option<String>) -> Vec<AuditEvent> {
        // One operation, one entry: a second write would record it twice.
        debug_assert!(!self.used.get(), "a ticket is used once");
        self.used.set(true);
        vec![AuditEvent {
            detail,
            outcome: "ok".into(),
            bgs: self.bgs.borrow().clone(),
            ..self.event.clone()
        }]
    }
}

/// The daemon's running parts that some operations need.
#[derive(Clone)]
pub struct Running {
    /// Extraction and the registry cache, for uploads and ingest.
    pub pipeline: Pipeline,
    /// The index's reader (searches take a fresh searcher each).
    pub index: SearchIndex,
    /// The indexer thread.
    pub indexing: IndexHandle,
}

/// Everything the operations work with.
pub struct Services {
    store: Store,
    rules: Arc<Rules>,
    registry: Arc<Derived<Registry>>,
    responsibilities: Derived<Responsibilities>,
    audit: Audit,
    /// Where the inbox and the index are (for `check`, and searches and
    /// rebuilds outside the daemon).
    inbox_dir: PathBuf,
    index_dir: PathBuf,
    /// Most attachments of one e-mail filed (`limits.max_attachments_per_mail`).
    max_attachments: usize,
    /// Whether access changes over the API wait for a second admin.
    four_eyes: bool,
    /// This jobcenter, the sender of what it hands over.
    jobcenter: crate::config::Jobcenter,
    /// The largest file eakte takes (`limits.max_bytes`).
    max_file_bytes: u64,
    running: Option<Running>,
}

impl Services {
    /// The operations of a running daemon.
    pub fn of_daemon(config: &Config, running: Running) -> Services {
        let pipeline = &running.pipeline;
        let (rules, registry) = pipeline.shared();
        Services {
            store: pipeline.store().clone(),
            rules,
            registry,
            responsibilities: Derived::default(),
            audit: Audit::new(pipeline.store().clone()),
            inbox_dir: config.inbox_dir.clone(),
            index_dir: config.index_dir.clone(),
            max_attachments: config.limits.max_attachments_per_mail,
            four_eyes: config.four_eyes,
            jobcenter: config.jobcenter.clone(),
            max_file_bytes: config.extract.limits.max_bytes,
            running: Some(running),
        }
    }

    /// The operations of a command-line process that holds the store itself.
    pub fn of_process(config: &Config, store: Store, rules: Rules) -> Services {
        Services {
            audit: Audit::new(store.clone()),
            store,
            rules: Arc::new(rules),
            registry: Arc::default(),
            responsibilities: Derived::default(),
            inbox_dir: config.inbox_dir.clone(),
            index_dir: config.index_dir.clone(),
            max_attachments: config.limits.max_attachments_per_mail,
            four_eyes: config.four_eyes,
            jobcenter: config.jobcenter.clone(),
            max_file_bytes: config.extract.limits.max_bytes,
            running: None,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    pub fn max_attachments(&self) -> usize {
        self.max_attachments
    }

    pub fn jobcenter(&self) -> &crate::config::Jobcenter {
        &self.jobcenter
    }

    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_bytes
    }

    pub fn four_eyes(&self) -> bool {
        self.four_eyes
    }

    /// The daemon's running parts, if this is the daemon.
    pub fn running(&self) -> Option<&Running> {
        self.running.as_ref()
    }

    /// The audit trail's writer (reads and refusals).
    pub fn audit_log(&self) -> &Audit {
        &self.audit
    }

    /// The current registry (see [`crate::pipeline::current_registry`]).
    pub fn registry(&self) -> Result<Arc<Registry>, ServiceError> {
        Ok(crate::pipeline::current_registry(
            &self.store,
            &self.registry,
        )?)
    }

    /// What `actor` may see today. Users of roles that see no documents
    /// (admins, auditors) get `NotFound`. Blocking.
    pub fn visibility(&self, actor: &Actor) -> Result<Visibility, ServiceError> {
        let Actor::User { user, .. } = actor else {
            return Ok(Visibility::All);
        };
        let registry = self.registry()?;
        let responsibilities = self.responsibilities.get(
            |r| r.generation == registry.generation(),
            || Ok::<_, ServiceError>(Responsibilities::compute(&registry)),
        )?;
        Scope::of(user, &registry, &responsibilities, crate::clock::today())
            .map(Visibility::Scoped)
            .ok_or(ServiceError::NotFound)
    }

    /// Run `work` for `actor` and record it: `work` hands its [`Ticket`] to
    /// the store write of a change; when it wrote none (a read) or failed,
    /// the entry is written on its own, with the outcome (`ok`, `denied` for
    /// what is out of scope or not there, `refused` for an invalid request,
    /// `failed` for eakte's own trouble) and the detail `detail` makes of the
    /// result. Nothing is done that could not be recorded, and the entry is
    /// durable before the answer. Blocking.
    pub fn audited<T>(
        &self,
        actor: &Actor,
        action: &str,
        target: String,
        detail: impl FnOnce(Option<&T>) -> Option<String>,
        work: impl FnOnce(&Ticket) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        self.store.ensure_writable()?;
        let ticket = Ticket {
            event: actor.event(action, target, None),
            used: Cell::new(false),
            bgs: RefCell::default(),
        };
        let result = work(&ticket);
        if result.is_ok() && ticket.used.get() {
            actor.recorded();
            return result;
        }
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.class().outcome(),
        };
        let detail = detail(result.as_ref().ok());
        self.audit.record(AuditEvent {
            outcome: outcome.to_string(),
            detail,
            bgs: ticket.bgs.into_inner(),
            ..ticket.event
        })?;
        actor.recorded();
        result
    }

    /// Record a request that was refused before any operation took it up
    /// (no token or a bad one, a wrong role, a malformed body): `who` is the
    /// caller when known. Blocking (flushes).
    pub fn record_refusal(
        &self,
        caller: Option<&Actor>,
        address: IpAddr,
        target: String,
        outcome: &str,
        detail: String,
    ) -> Result<(), ServiceError> {
        let event = match caller {
            Some(actor) => actor.event("refused_request", target, Some(detail)),
            None => AuditEvent {
                who: "(no valid token)".into(),
                role: None,
                address: address.to_string(),
                action: "refused_request".into(),
                target,
                bgs: Vec::new(),
                outcome: String::new(),
                detail: Some(detail),
            },
        };
        self.audit.record(AuditEvent {
            outcome: outcome.to_string(),
            ..event
        })?;
        Ok(())
    }

    /// Record what `actor` did that has no result of its own (a poll with
    /// news, a search), touching the social data of `bgs`. Blocking (flushes).
    pub fn record(
        &self,
        actor: &Actor,
        action: &str,
        target: String,
        detail: Option<String>,
        bgs: Vec<BgNummer>,
    ) -> Result<(), ServiceError> {
        self.audit.record(AuditEvent {
            bgs,
            ..actor.event(action, target, detail)
        })?;
        actor.recorded();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operator_behind_sudo_is_named_with_the_login() {
        let actor = Actor::Operator {
            name: "root".into(),
            uid: 0,
            login: Some(Login {
                name: "anna".into(),
                uid: 1001,
            }),
        };
        assert_eq!(
            actor.who(),
            "root (uid 0, command line, logged in as anna uid 1001)"
        );
    }
}
