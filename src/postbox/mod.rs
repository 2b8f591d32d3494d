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
use crate::model::{
    Action, BgNummer, Classification, Document, DocumentId, HistoryEvent, Item, ItemId, ItemState,
    Kennung, PostboxId, Recognition, Route,
};
use crate::registry::Registry;
use jiff::civil::Date;

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
    #[error("caseworker {0} is not known")]
    UnknownCaseworker(Kennung),
    #[error("there is no document type {0:?}")]
    UnknownType(String),
    #[error("there is no site {0:?}")]
    UnknownSite(String),
}

impl Item {
    /// The item for a newly routed document: new, in the postbox its route
    /// names, with the routing as the first event of its history. The store
    /// numbers the change when it records the document.
    pub fn routed(
        id: ItemId,
        document_id: DocumentId,
        received_at: &str,
        classification: Option<&Classification>,
        route: Route,
    ) -> Item {
        let c = classification;
        Item {
            id,
            document_id,
            postbox: route.postbox.clone(),
            state: ItemState::New,
            urgent: c.is_some_and(|c| c.urgent),
            urgent_reason: c.and_then(|c| c.urgent_reason.clone()),
            doc_type: c.map(|c| c.doc_type.clone()).unwrap_or_default(),
            schlagwort: c.map(|c| c.schlagwort.clone()).unwrap_or_default(),
            bg: c.and_then(|c| c.bg().cloned()),
            received_at: received_at.to_string(),
            resubmit_until: None,
            history: vec![HistoryEvent {
                at: crate::clock::now_rfc3339(),
                by: None,
                action: Action::Routed {
                    to: route.postbox.clone(),
                    explanation: route.explanation.clone(),
                },
                note: None,
                seq: 0,
            }],
            route,
            seq: 0,
            answers: None,
        }
    }

    /// Shown in its postbox on `today`: not done, not waiting for resubmission.
    pub fn visible_on(&self, today: Date) -> bool {
        self.state != ItemState::Done && self.resubmit_until.is_none_or(|d| d <= today)
    }

    fn record(&mut self, by: &str, action: Action, note: Option<String>) {
        self.history.push(HistoryEvent {
            at: crate::clock::now_rfc3339(),
            by: Some(by.to_string()),
            action,
            note,
            seq: 0,
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
        let mut classification = document
            .classification
            .clone()
            .unwrap_or_else(crate::classify::unclassified);
        let mut changes = Vec::new();
        let at = crate::clock::now_rfc3339();
        if let Some(bg) = bg {
            // A BG the registry does not know goes to clearing like any
            // recipient eakte is unsure of; refusing it would tell the
            // caller which BG numbers exist.
            changes.push(format!("recipient BG {bg}"));
            classification.recipient = Recognition::Assigned {
                bg,
                by: by.to_string(),
                at: at.clone(),
            };
        }
        if let Some(t) = doc_type {
            changes.push(format!("type {}", t.name));
            t.assign_to(&mut classification, vec![format!("set by {by} at {at}")]);
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
