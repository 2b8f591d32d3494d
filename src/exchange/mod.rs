//! Akten leaving and arriving: an Akte handed to another authority as an
//! xdomea 3.0.0 message (`Abgabe.Abgabe.0401`, a ZIP of the message and every
//! original), taken from one, and printed as one paginated PDF for
//! Akteneinsicht, auditors and courts. Pure formats: what to hand over is
//! decided by [`crate::service::exchange`], which reads the store and checks
//! who may.

pub mod deckblatt;
pub mod export;
pub mod ids;
pub mod package;
pub mod pdf;
pub mod scope;
pub mod xdomea;

pub use ids::Uuid;
pub use scope::Scope;

/// What is wrong with a package or message from outside, said so that its
/// sender can mend it.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("the file is not a ZIP archive (or a damaged one): {0}")]
    NotZip(String),
    #[error("the package holds {found} files; at most {max} are taken")]
    TooManyEntries { found: usize, max: usize },
    #[error("the package holds a file named {0:?}, which leaves the package's folder")]
    UnsafeName(String),
    #[error("the package's file {name} is damaged: {detail}")]
    Damaged { name: String, detail: String },
    #[error("the package's file {name} unpacks to more than {max} bytes")]
    TooLarge { name: String, max: u64 },
    #[error("the package holds no message: no file named <ProzessID>_Abgabe.Abgabe.0401.xml")]
    NoMessage,
    #[error("the package holds several messages ({0})")]
    SeveralMessages(String),
    #[error("the primary file {0} named in the message is missing from the package")]
    MissingFile(String),
    #[error("the primary file {name} does not match its SHA-256 in the message (expected {expected}, found {found})")]
    Checksum {
        name: String,
        expected: String,
        found: String,
    },
    #[error("the message is a {0}, not an Abgabe.Abgabe.0401")]
    NotAbgabe(String),
    #[error("the message's file is named for the process {named}, but its ProzessID is {inside}")]
    WrongProcess { named: String, inside: String },
    #[error("the message holds no Akte")]
    NoAkte,
    #[error("the message holds several Schriftgutobjekte; eakte takes one Akte per message")]
    SeveralAkten,
    #[error("the message is invalid: {0}")]
    Message(String),
    #[error(transparent)]
    Schema(#[from] xdomea::schema::SchemaError),
}
