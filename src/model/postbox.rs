//! Postboxes (Postkörbe) and their items.

use crate::model::ids::{DocumentId, ItemId, PostboxId};
use crate::model::registry::BgNummer;
use crate::model::route::Route;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    New,
    InProgress,
    /// zdA: filed, nothing more to do.
    Done,
}

/// What happened to an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Routed {
        to: PostboxId,
        explanation: String,
    },
    Started,
    Done,
    Forwarded {
        from: PostboxId,
        to: PostboxId,
    },
    Resubmitted {
        until: Date,
    },
    Corrected {
        changes: Vec<String>,
        from: PostboxId,
        to: PostboxId,
        explanation: String,
    },
}

impl Action {
    /// The postbox the item left by this action, if it moved.
    pub fn moved_from(&self) -> Option<&PostboxId> {
        match self {
            Action::Forwarded { from, .. } | Action::Corrected { from, .. } => Some(from),
            Action::Routed { .. } | Action::Started | Action::Done | Action::Resubmitted { .. } => {
                None
            }
        }
    }
}

/// One entry of an item's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    pub at: String,
    /// A caseworker's Kennung or a user's name; `None` for eakte itself.
    pub by: Option<String>,
    #[serde(flatten)]
    pub action: Action,
    pub note: Option<String>,
    /// The change sequence number of this event (0 in stores written before
    /// it was kept): long-polls learn from it which items left a postbox since
    /// their cursor, whatever happened to them afterwards.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seq: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One document in one postbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: ItemId,
    pub document_id: DocumentId,
    pub postbox: PostboxId,
    pub state: ItemState,
    pub urgent: bool,
    pub urgent_reason: Option<String>,
    pub doc_type: String,
    pub schlagwort: String,
    pub bg: Option<BgNummer>,
    /// Eingangsdatum, exactly as recorded for the document.
    pub received_at: String,
    /// Wiedervorlage: hidden from the postbox until this day.
    pub resubmit_until: Option<Date>,
    /// The latest routing decision.
    pub route: Route,
    pub history: Vec<HistoryEvent>,
    /// The change sequence number of the item's latest change (cursor for
    /// long-polling).
    #[serde(default)]
    pub seq: u64,
    /// The item this one answers: the Deckblatt the recipient sent back named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<ItemId>,
}
