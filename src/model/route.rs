//! Routing decisions: which postbox a document went to, and why.

use crate::model::ids::PostboxId;
use crate::model::registry::{BgNummer, Kennung};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Why the responsible caseworker is responsible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Responsibility {
    /// The registry names the caseworker for this BG.
    Explicit { kennung: Kennung },
    /// The head's surname falls into the caseworker's range at the BG's site.
    SurnameRange {
        kennung: Kennung,
        standort: String,
        von: String,
        bis: String,
        surname: String,
    },
}

impl Responsibility {
    pub fn kennung(&self) -> &Kennung {
        match self {
            Responsibility::Explicit { kennung } | Responsibility::SurnameRange { kennung, .. } => {
                kennung
            }
        }
    }
}

/// A hop from an absent caseworker to their deputy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeputyHop {
    pub absent: Kennung,
    pub from: Date,
    pub to: Date,
    pub deputy: Kennung,
}

/// Why a document went to clearing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum ClearingReason {
    NoRecipient,
    AmbiguousRecipient {
        candidates: Vec<BgNummer>,
    },
    /// The BG is not in the registry (a correction named it, or the
    /// registry lost it since).
    UnknownBg {
        bg: BgNummer,
    },
    /// The BG is known, but no caseworker is responsible for it.
    NobodyResponsible {
        bg: BgNummer,
    },
    /// The registry names a caseworker eakte does not know.
    UnknownCaseworker {
        bg: BgNummer,
        kennung: Kennung,
    },
    /// Every deputy in the chain is absent too (or the chain loops).
    NoDeputyAvailable {
        bg: BgNummer,
    },
    /// The BG's members point to different caseworkers.
    MembersDisagree {
        bg: BgNummer,
        detail: String,
    },
    /// A Deckblatt whose check value does not match: forged, mistyped, or
    /// issued by another deployment. `printed` is the BG as the sheet says.
    UntrustedCoverSheet {
        printed: String,
    },
}

/// Where a document goes and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    pub postbox: PostboxId,
    pub responsible: Option<Responsibility>,
    pub deputies: Vec<DeputyHop>,
    pub clearing: Option<ClearingReason>,
    /// In words, e.g. "surname range L–Z of sb-h2 at site husum".
    pub explanation: String,
}
