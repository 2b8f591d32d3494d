//! What classification decided about a document: its recipient (BG) with the
//! evidence, and its type with the Schlagwort it is filed under.

use crate::model::registry::{BgNummer, Kundennummer};
use serde::{Deserialize, Serialize};

/// How a recipient was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    BgNummer,
    BgNummerOcrCorrected,
    Kundennummer,
    KundennummerOcrCorrected,
    NameAndBirthDate,
    NameAndAddress,
    /// eakte's own Deckblatt with a valid check value: certain, whatever OCR read.
    CoverSheet,
}

/// Which BG a document belongs to, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Recognition {
    /// Exactly one BG.
    Identified {
        bg: BgNummer,
        kundennummer: Option<Kundennummer>,
        method: Method,
        /// The text that decided it, as it stood in the letter.
        matched: String,
        confidence: f32,
    },
    /// Several BGs fit; nobody guesses.
    Ambiguous {
        candidates: Vec<BgNummer>,
        evidence: Vec<String>,
    },
    /// No BG fits (evidence says what was looked at).
    NotFound { evidence: Vec<String> },
    /// Assigned by a person (a correction in clearing, or a filing into an Akte).
    Assigned {
        bg: BgNummer,
        by: String,
        at: String,
    },
}

impl Recognition {
    /// The BG, if the document has one.
    pub fn bg(&self) -> Option<&BgNummer> {
        match self {
            Recognition::Identified { bg, .. } | Recognition::Assigned { bg, .. } => Some(bg),
            Recognition::Ambiguous { .. } | Recognition::NotFound { .. } => None,
        }
    }
}

/// Everything classification decides about a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub recipient: Recognition,
    pub doc_type: String,
    pub schlagwort: String,
    pub urgent: bool,
    pub urgent_reason: Option<String>,
    /// Patterns that decided the type, or who corrected it.
    pub type_evidence: Vec<String>,
}

impl Classification {
    /// The BG, if the document has one.
    pub fn bg(&self) -> Option<&BgNummer> {
        self.recipient.bg()
    }
}
