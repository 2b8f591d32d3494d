//! Postboxes (Postkörbe) and their items.
//!
//! Every new document gets one item, placed in the postbox its [`Route`] names: a
//! caseworker's (`sb-h1`) or a site's clearing postbox (`klaerung:husum`, or
//! `klaerung` for scans without a site). An item moves new → in progress → done
//! (zdA, "zu den Akten"); it can be forwarded with a note, put on resubmission
//! (Wiedervorlage, hidden until a date), and corrected (recipient or type), which
//! routes it anew. Every change is recorded in its history with who and when.
//!
//! The transitions here are pure: they change an [`Item`] (and, for corrections,
//! the [`Document`]) in memory; the store writes both in one transaction.

pub mod ops;

use crate::classify::doctype::DocType;
use crate::classify::Recognition;
use crate::registry::{BgNummer, Kennung, Registry};
use crate::route::Route;
use crate::store::{Document, DocumentId, ItemId};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::Date;

/// Name of the clearing postboxes (Klärungsstelle).
pub const CLEARING: &str = "klaerung";

/// A postbox: a caseworker's, or a site's clearing postbox.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PostboxId {
    Caseworker(Kennung),
    Clearing { site: Option<String> },
}

impl PostboxId {
    /// `sb-h1`, `klaerung:husum` or `klaerung`.
    pub fn parse(s: &str) -> Option<PostboxId> {
        let s = s.trim();
        if s.eq_ignore_ascii_case(CLEARING) {
            return Some(PostboxId::Clearing { site: None });
        }
        if let Some(site) = s.strip_prefix(CLEARING).and_then(|r| r.strip_prefix(':')) {
            return (!site.is_empty()).then(|| PostboxId::Clearing {
                site: Some(site.to_string()),
            });
        }
        Kennung::parse(s).map(PostboxId::Caseworker)
    }

    /// The key prefix of this postbox in the store's postbox index.
    pub fn index_prefix(&self) -> Vec<u8> {
        let mut key = self.to_string().into_bytes();
        key.push(0);
        key
    }
}

impl fmt::Display for PostboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PostboxId::Caseworker(k) => write!(f, "{k}"),
            PostboxId::Clearing { site: None } => f.write_str(CLEARING),
            PostboxId::Clearing { site: Some(site) } => write!(f, "{CLEARING}:{site}"),
        }
    }
}

impl std::str::FromStr for PostboxId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PostboxId::parse(s).ok_or_else(|| {
            format!("{s:?} is not a postbox (a Kennung, `klaerung` or `klaerung:<site>`)")
        })
    }
}

impl Serialize for PostboxId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PostboxId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PostboxId::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid postbox {s:?}")))
    }
}

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: String,
    /// A caseworker's Kennung or a user's name; `None` for eakte itself.
    pub by: Option<String>,
    #[serde(flatten)]
    pub action: Action,
    pub note: Option<String>,
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
    pub history: Vec<Event>,
    /// The change sequence number of the item's latest change (cursor for
    /// long-polling).
    #[serde(default)]
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    #[error("there is no postbox item {0}")]
    NotFound(ItemId),
    #[error("item {item} is {state:?} and cannot be {action}")]
    InvalidTransition {
        item: ItemId,
        state: ItemState,
        action: &'static str,
    },
    #[error("the resubmission date {until} is not after today ({today})")]
    ResubmitNotInFuture { until: Date, today: Date },
    #[error("item {0} is already in postbox {1}")]
    SamePostbox(ItemId, PostboxId),
    #[error("the correction changes nothing (give a BG and/or a type)")]
    NothingToCorrect,
    #[error("BG {0} is not in the registry")]
    UnknownBg(BgNummer),
    #[error("caseworker {0} is not known")]
    UnknownCaseworker(Kennung),
    #[error("there is no document type {0:?}")]
    UnknownType(String),
    #[error("there is no site {0:?}")]
    UnknownSite(String),
}

impl Item {
    /// The item for a newly stored document (its id and document id are set by
    /// the store when it records the document).
    pub fn new(document: &Document, route: Route) -> Item {
        let c = document.classification.as_ref();
        Item {
            id: ItemId(0),
            document_id: document.id,
            postbox: route.postbox.clone(),
            state: ItemState::New,
            urgent: c.is_some_and(|c| c.urgent),
            urgent_reason: c.and_then(|c| c.urgent_reason.clone()),
            doc_type: c.map(|c| c.doc_type.clone()).unwrap_or_default(),
            schlagwort: c.map(|c| c.schlagwort.clone()).unwrap_or_default(),
            bg: c.and_then(|c| c.recipient.bg().cloned()),
            received_at: document.received_at.clone(),
            resubmit_until: None,
            history: vec![Event {
                at: crate::timefmt::now(),
                by: None,
                action: Action::Routed {
                    to: route.postbox.clone(),
                    explanation: route.explanation.clone(),
                },
                note: None,
            }],
            route,
            seq: 0,
        }
    }

    /// Shown in its postbox on `today`: not done, not waiting for resubmission.
    pub fn visible_on(&self, today: Date) -> bool {
        self.state != ItemState::Done && self.resubmit_until.is_none_or(|d| d <= today)
    }

    fn record(&mut self, by: &str, action: Action, note: Option<String>) {
        self.history.push(Event {
            at: crate::timefmt::now(),
            by: Some(by.to_string()),
            action,
            note,
        });
    }

    fn refuse(&self, action: &'static str) -> ItemError {
        ItemError::InvalidTransition {
            item: self.id,
            state: self.state,
            action,
        }
    }

    pub fn start(&mut self, by: &str) -> Result<(), ItemError> {
        if self.state != ItemState::New {
            return Err(self.refuse("started"));
        }
        self.state = ItemState::InProgress;
        self.record(by, Action::Started, None);
        Ok(())
    }

    pub fn done(&mut self, by: &str, note: Option<String>) -> Result<(), ItemError> {
        if self.state == ItemState::Done {
            return Err(self.refuse("set done"));
        }
        self.state = ItemState::Done;
        self.resubmit_until = None;
        self.record(by, Action::Done, note);
        Ok(())
    }

    pub fn forward(
        &mut self,
        by: &str,
        to: PostboxId,
        note: Option<String>,
        registry: &Registry,
    ) -> Result<(), ItemError> {
        if self.state == ItemState::Done {
            return Err(self.refuse("forwarded"));
        }
        if to == self.postbox {
            return Err(ItemError::SamePostbox(self.id, to));
        }
        match &to {
            PostboxId::Caseworker(k) => {
                registry
                    .caseworker(k)
                    .ok_or_else(|| ItemError::UnknownCaseworker(k.clone()))?;
            }
            // Only clearing postboxes someone looks after: no site, or a known one.
            PostboxId::Clearing { site: Some(site) } if !registry.sites().contains(site) => {
                return Err(ItemError::UnknownSite(site.clone()));
            }
            PostboxId::Clearing { .. } => {}
        }
        let from = std::mem::replace(&mut self.postbox, to.clone());
        self.state = ItemState::New;
        // The new owner decides about resubmission; a hidden item would go unseen.
        self.resubmit_until = None;
        self.record(by, Action::Forwarded { from, to }, note);
        Ok(())
    }

    pub fn resubmit(
        &mut self,
        by: &str,
        until: Date,
        today: Date,
        note: Option<String>,
    ) -> Result<(), ItemError> {
        if self.state == ItemState::Done {
            return Err(self.refuse("put on resubmission"));
        }
        if until <= today {
            return Err(ItemError::ResubmitNotInFuture { until, today });
        }
        self.resubmit_until = Some(until);
        self.record(by, Action::Resubmitted { until }, note);
        Ok(())
    }

    /// Assign the recipient and/or change the type, then route anew. Changes the
    /// document's classification as well; the scan's site decides the clearing
    /// postbox should the new route end there again.
    pub fn correct(
        &mut self,
        correction: Correction<'_>,
        document: &mut Document,
    ) -> Result<(), ItemError> {
        let Correction {
            by,
            bg,
            doc_type,
            note,
            registry,
            today,
        } = correction;
        if self.state == ItemState::Done {
            return Err(self.refuse("corrected"));
        }
        if bg.is_none() && doc_type.is_none() {
            return Err(ItemError::NothingToCorrect);
        }
        let mut classification =
            document
                .classification
                .clone()
                .unwrap_or_else(|| crate::classify::Classification {
                    recipient: Recognition::NotFound {
                        evidence: Vec::new(),
                    },
                    doc_type: String::new(),
                    schlagwort: String::new(),
                    urgent: false,
                    urgent_reason: None,
                    type_evidence: Vec::new(),
                });
        let mut changes = Vec::new();
        let at = crate::timefmt::now();
        if let Some(bg) = bg {
            if !registry.has_bg(&bg) {
                return Err(ItemError::UnknownBg(bg));
            }
            changes.push(format!("recipient BG {bg}"));
            classification.recipient = Recognition::Assigned {
                bg,
                by: by.to_string(),
                at: at.clone(),
            };
        }
        if let Some(t) = doc_type {
            changes.push(format!("type {}", t.name));
            classification.doc_type = t.name.clone();
            classification.schlagwort = t.schlagwort.clone();
            classification.urgent = t.urgent;
            classification.urgent_reason = t.urgent_reason.clone();
            classification.type_evidence = vec![format!("set by {by} at {at}")];
        }
        let route = crate::route::route(
            &classification.recipient,
            document.site.as_deref(),
            registry,
            today,
        );
        let from = std::mem::replace(&mut self.postbox, route.postbox.clone());
        self.bg = classification.recipient.bg().cloned();
        self.doc_type = classification.doc_type.clone();
        self.schlagwort = classification.schlagwort.clone();
        self.urgent = classification.urgent;
        self.urgent_reason = classification.urgent_reason.clone();
        self.state = ItemState::New;
        self.resubmit_until = None;
        self.record(
            by,
            Action::Corrected {
                changes,
                from,
                to: route.postbox.clone(),
                explanation: route.explanation.clone(),
            },
            note,
        );
        self.route = route;
        document.classification = Some(classification);
        Ok(())
    }
}

/// What a correction changes, and in which world.
pub struct Correction<'a> {
    /// Who corrects: a caseworker's Kennung or a user's name.
    pub by: &'a str,
    pub bg: Option<BgNummer>,
    pub doc_type: Option<&'a DocType>,
    pub note: Option<String>,
    pub registry: &'a Registry,
    pub today: Date,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postbox_names_round_trip() {
        for s in ["sb-h1", "klaerung", "klaerung:husum", "klaerung:Föhr"] {
            assert_eq!(PostboxId::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(PostboxId::parse("klaerung:"), None);
        assert_eq!(PostboxId::parse("a b"), None);
    }
}
