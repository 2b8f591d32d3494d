//! What can go wrong in an operation, and what kind of trouble each is: the
//! one exhaustive classification of every domain error (a new variant does
//! not compile until it is classified). Front ends turn the class into their
//! own terms: `api/error.rs` into an HTTP status, the command line into a
//! message and exit status, the audit trail into an outcome.

use crate::extract::Rejection;
use crate::index::query::QueryError;
use crate::index::IndexError;
use crate::pipeline::check::CheckError;
use crate::pipeline::upload::UploadError;
use crate::pipeline::PipelineError;
use crate::postbox::ItemError;
use crate::registry::import::{AbsenceError, ImportError};
use crate::store::{StoreError, TxError};
use crate::users::UserError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Not there, out of the caller's scope, or not for the caller's role:
    /// all answered alike, so that nothing is learnt from the difference.
    #[error("There is nothing here, or you may not see it.")]
    NotFound,
    /// The request is malformed (a parameter out of range, a bad filter).
    #[error("{0}")]
    BadRequest(String),
    /// The request is well-formed but its content is refused.
    #[error("{0}")]
    Invalid(String),
    /// The request conflicts with the state of things.
    #[error("{0}")]
    Conflict(String),
    /// The request refers to a state that is no longer kept (a postbox
    /// cursor too far behind): the client starts afresh.
    #[error("{0}")]
    Expired(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Item(#[from] ItemError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Absence(#[from] AbsenceError),
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Upload(#[from] UploadError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Check(#[from] CheckError),
}

impl From<TxError<ItemError>> for ServiceError {
    fn from(e: TxError<ItemError>) -> ServiceError {
        match e {
            TxError::Refused(e) => ServiceError::Item(e),
            TxError::Store(e) => ServiceError::Store(e),
        }
    }
}

/// The kinds of trouble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    NotFound,
    BadRequest,
    /// Well-formed, but the content is refused.
    Unprocessable,
    Conflict,
    /// Refers to what is no longer kept; start afresh.
    Expired,
    /// eakte cannot do it now (its store cannot be written); try again later.
    Unavailable,
    /// eakte's own failure, never bad input.
    Internal,
}

impl Class {
    /// The outcome the audit trail records for an operation that ended so.
    pub fn outcome(self) -> &'static str {
        match self {
            Class::NotFound => "denied",
            Class::BadRequest | Class::Unprocessable | Class::Conflict | Class::Expired => {
                "refused"
            }
            Class::Unavailable | Class::Internal => "failed",
        }
    }
}

impl ServiceError {
    pub fn class(&self) -> Class {
        match self {
            ServiceError::NotFound => Class::NotFound,
            ServiceError::BadRequest(_) => Class::BadRequest,
            ServiceError::Invalid(_) => Class::Unprocessable,
            ServiceError::Conflict(_) => Class::Conflict,
            ServiceError::Expired(_) => Class::Expired,
            ServiceError::Store(e) => store(e),
            ServiceError::Index(e) => index(e),
            ServiceError::Item(e) => item(e),
            ServiceError::Import(e) => import(e),
            ServiceError::Absence(e) => absence(e),
            ServiceError::User(e) => user(e),
            ServiceError::Upload(e) => upload(e),
            ServiceError::Pipeline(e) => pipeline(e),
            ServiceError::Check(CheckError::Store(e)) => store(e),
            ServiceError::Check(CheckError::Index(e)) => index(e),
        }
    }

    /// What the caller is told: the error in words, but for eakte's own
    /// failures, whose details go to the log only.
    pub fn detail(&self) -> String {
        match (self.class(), self) {
            (Class::Internal, _) => {
                "The request could not be completed; see the server log.".into()
            }
            (Class::Unavailable, ServiceError::Store(StoreError::NotWritable { reason, .. })) => {
                format!("the store cannot be written ({reason}); nothing was changed or shown")
            }
            (_, ServiceError::Import(ImportError::NoValidRows { rejected })) => {
                let lines: Vec<String> = rejected
                    .iter()
                    .map(|r| format!("line {}: {}", r.line, r.reason))
                    .collect();
                format!(
                    "no row is valid; nothing was changed ({})",
                    lines.join("; ")
                )
            }
            (_, ServiceError::Import(e)) => format!("{e}; nothing was changed"),
            (_, e) => e.to_string(),
        }
    }
}

fn store(e: &StoreError) -> Class {
    match e {
        StoreError::NotWritable { .. } => Class::Unavailable,
        StoreError::Locked { .. }
        | StoreError::NotOurs { .. }
        | StoreError::Sled(_)
        | StoreError::Io { .. }
        | StoreError::Corrupt { .. }
        | StoreError::Inconsistent { .. } => Class::Internal,
    }
}

fn index(e: &IndexError) -> Class {
    match e {
        IndexError::Query(
            QueryError::Empty
            | QueryError::TooLong
            | QueryError::TooManyClauses
            | QueryError::OnlyExcluded,
        ) => Class::BadRequest,
        IndexError::Store(e) => store(e),
        IndexError::Tantivy { .. }
        | IndexError::Io { .. }
        | IndexError::ForeignDirectory { .. }
        | IndexError::Missing { .. }
        | IndexError::OutdatedSchema { .. }
        | IndexError::Stopped => Class::Internal,
    }
}

fn item(e: &ItemError) -> Class {
    match e {
        ItemError::NotFound(_) => Class::NotFound,
        ItemError::InvalidTransition { .. } => Class::Conflict,
        ItemError::ResubmitNotInFuture { .. }
        | ItemError::SamePostbox(..)
        | ItemError::NothingToCorrect
        | ItemError::UnknownCaseworker(_)
        | ItemError::UnknownType(_)
        | ItemError::UnknownSite(_) => Class::Unprocessable,
    }
}

fn import(e: &ImportError) -> Class {
    match e {
        ImportError::Store(e) => store(e),
        ImportError::Read { .. }
        | ImportError::NotUtf8 { .. }
        | ImportError::Csv(_)
        | ImportError::MissingColumn(_)
        | ImportError::UnknownColumn(_)
        | ImportError::NoValidRows { .. } => Class::Unprocessable,
    }
}

fn absence(e: &AbsenceError) -> Class {
    match e {
        AbsenceError::NotFound(_) => Class::NotFound,
        AbsenceError::Overlaps(_) => Class::Conflict,
        AbsenceError::Store(e) => store(e),
        AbsenceError::UnknownCaseworker(_)
        | AbsenceError::SelfDeputy
        | AbsenceError::EndsBeforeStart { .. } => Class::Unprocessable,
    }
}

fn user(e: &UserError) -> Class {
    match e {
        UserError::NotFound(_) => Class::NotFound,
        UserError::NameTaken(_) => Class::Conflict,
        UserError::Store(e) => store(e),
        UserError::Random(_) => Class::Internal,
        UserError::BadName
        | UserError::Missing { .. }
        | UserError::Extra { .. }
        | UserError::UnknownCaseworker(_)
        | UserError::UnknownSite(_)
        | UserError::UnknownTeam(_) => Class::Unprocessable,
    }
}

fn upload(e: &UploadError) -> Class {
    match e {
        UploadError::BadSchlagwort
        | UploadError::EmptyNote
        | UploadError::NotPdf
        | UploadError::NotEmail
        | UploadError::TooManyAttachments { .. }
        | UploadError::UnknownType(_) => Class::Unprocessable,
        UploadError::Rejected(r) => rejection(r),
        UploadError::Pipeline(e) => pipeline(e),
    }
}

/// A file refused for what it is: the client sent it, so it is the client's
/// to fix.
fn rejection(r: &Rejection) -> Class {
    match r {
        Rejection::Empty
        | Rejection::Unreadable { .. }
        | Rejection::TooLarge { .. }
        | Rejection::Unsupported { .. }
        | Rejection::Unknown
        | Rejection::Encrypted
        | Rejection::CorruptPdf { .. }
        | Rejection::CorruptImage { .. }
        | Rejection::NoPages
        | Rejection::TooManyPages { .. }
        | Rejection::PageTooLarge { .. }
        | Rejection::BadPageSize { .. }
        | Rejection::ToolTimeout { .. }
        | Rejection::OcrTimeout { .. }
        | Rejection::OcrFailed { .. }
        | Rejection::CrashesReader { .. } => Class::Unprocessable,
    }
}

fn pipeline(e: &PipelineError) -> Class {
    match e {
        PipelineError::Store(e) => store(e),
        // The disk filled up (or turned read-only) between the check of the
        // store and the write of the original: the same as a store that
        // cannot be written.
        PipelineError::Blob(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::ENOSPC | libc::EROFS | libc::EDQUOT)
            ) =>
        {
            Class::Unavailable
        }
        PipelineError::Read { .. } | PipelineError::Blob(_) | PipelineError::Environment(_) => {
            Class::Internal
        }
    }
}
