//! What callers do with postboxes: look into them (with the items of absent
//! colleagues one deputises for) and change an item.

use super::{Correction, ItemError};
use crate::classify::doctype::Rules;
use crate::model::{AuditEvent, BgNummer, Item, ItemId, Kennung, PostboxId};
use crate::registry::Registry;
use crate::store::{Store, StoreError, TxError};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// An item as shown in a postbox.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub item: Item,
    /// Set when the item is shown because its owner is absent and the viewer is
    /// their deputy (Vertretung).
    pub deputising_for: Option<Kennung>,
}

/// The items of `postboxes` visible on `today` (with `all`: also done ones and
/// those waiting for resubmission), urgent first, then oldest first. Items of
/// a caseworker's postbox other than `own` are marked as Vertretung.
pub fn list(
    store: &Store,
    postboxes: &[PostboxId],
    own: Option<&PostboxId>,
    today: Date,
    all: bool,
) -> Result<Vec<Listed>, StoreError> {
    let mut listed = Vec::new();
    for postbox in postboxes {
        let deputising_for = match postbox {
            PostboxId::Caseworker(k) if own.is_some_and(|own| own != postbox) => Some(k.clone()),
            PostboxId::Caseworker(_) | PostboxId::Clearing { .. } => None,
        };
        listed.extend(
            store
                .postboxes()
                .items_in(postbox)?
                .into_iter()
                .filter(|item| all || item.visible_on(today))
                .map(|item| Listed {
                    item,
                    deputising_for: deputising_for.clone(),
                }),
        );
    }
    listed.sort_by(|a, b| {
        b.item
            .urgent
            .cmp(&a.item.urgent)
            .then(a.item.received_at.cmp(&b.item.received_at))
    });
    Ok(listed)
}

/// A caseworker's postbox as they see it on `today`: their own items and the
/// open items of everyone they deputise for, directly or because the first
/// deputy is absent too. Other postboxes are shown as they are.
pub fn view(
    store: &Store,
    registry: &Registry,
    postbox: &PostboxId,
    today: Date,
    all: bool,
) -> Result<Vec<Listed>, StoreError> {
    let mut postboxes = vec![postbox.clone()];
    if let PostboxId::Caseworker(me) = postbox {
        postboxes.extend(
            crate::route::deputised_by(registry, me, today)
                .into_iter()
                .map(PostboxId::Caseworker),
        );
    }
    list(store, &postboxes, Some(postbox), today, all)
}

/// A change to an item (also as the command line sends it to the daemon).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Command {
    Start,
    Done {
        note: Option<String>,
    },
    Forward {
        to: PostboxId,
        note: Option<String>,
    },
    Resubmit {
        until: Date,
        note: Option<String>,
    },
    Correct {
        bg: Option<BgNummer>,
        doc_type: Option<String>,
        note: Option<String>,
    },
}

impl Command {
    /// The name of the change in the audit trail.
    pub fn action(&self) -> &'static str {
        match self {
            Command::Start => "postbox_start",
            Command::Done { .. } => "postbox_done",
            Command::Forward { .. } => "postbox_forward",
            Command::Resubmit { .. } => "postbox_resubmit",
            Command::Correct { .. } => "postbox_correct",
        }
    }

    /// The change as the audit trail records it: what was asked, with a
    /// note named only as `note_ref` names it (a keyed hash and its length).
    /// The note itself is in the item's history, where those who see the
    /// item read it; the trail's readers (auditors) see no social data.
    pub fn audit_detail(&self, note_ref: &dyn Fn(&str) -> String) -> String {
        let (asked, note) = match self {
            Command::Start => ("start".to_string(), None),
            Command::Done { note } => ("done".to_string(), note.as_deref()),
            Command::Forward { to, note } => (format!("forward to {to}"), note.as_deref()),
            Command::Resubmit { until, note } => {
                (format!("resubmit until {until}"), note.as_deref())
            }
            Command::Correct { bg, doc_type, note } => {
                let mut changes = Vec::new();
                if let Some(bg) = bg {
                    changes.push(format!("BG {bg}"));
                }
                if let Some(doc_type) = doc_type {
                    changes.push(format!("type {doc_type:?}"));
                }
                (format!("correct: {}", changes.join(", ")), note.as_deref())
            }
        };
        match note {
            Some(note) => format!("{asked}; {}", note_ref(note)),
            None => asked,
        }
    }
}

/// Who changes an item, and which items they may change (checked against the
/// item as it is at that moment, inside the transaction).
pub struct Actor<'a> {
    /// A caseworker's Kennung or a user's name, for the item's history.
    pub name: &'a str,
    pub may_change: &'a dyn Fn(&Item) -> bool,
}

/// What a command is judged against: where items may be forwarded, which
/// document types exist, and which day it is (for a Wiedervorlage).
pub struct Facts<'a> {
    pub registry: &'a Registry,
    pub rules: &'a Rules,
    pub today: Date,
}

/// Apply `command` to item `id` on behalf of `actor`, with `audit` recording
/// it in the same transaction. An item the actor may not change answers as
/// one that does not exist, before anything about the command is judged.
pub fn execute(
    store: &Store,
    facts: Facts<'_>,
    id: ItemId,
    actor: Actor<'_>,
    command: Command,
    audit: &[AuditEvent],
) -> Result<Item, TxError<ItemError>> {
    let (by, may_change) = (actor.name, actor.may_change);
    let Facts {
        registry,
        rules,
        today,
    } = facts;
    match store.postboxes().item(id)? {
        Some(item) if may_change(&item) => {}
        _ => return Err(TxError::Refused(ItemError::NotFound(id))),
    }
    let doc_type = match &command {
        Command::Correct {
            doc_type: Some(name),
            ..
        } => Some(
            rules
                .by_name(name)
                .ok_or_else(|| TxError::Refused(ItemError::UnknownType(name.clone())))?,
        ),
        _ => None,
    };
    // The check runs again inside the transaction: an item forwarded away
    // meanwhile is no longer the caller's to change.
    store
        .postboxes()
        .change_item(id, audit, |item, document| match &command {
            _ if !may_change(item) => Err(ItemError::NotFound(id)),
            Command::Start => item.start(by),
            Command::Done { note } => item.done(by, note.clone()),
            Command::Forward { to, note } => item.forward(by, to.clone(), note.clone(), registry),
            Command::Resubmit { until, note } => item.resubmit(by, *until, today, note.clone()),
            Command::Correct { bg, note, .. } => item.correct(
                Correction {
                    by,
                    bg: bg.clone(),
                    doc_type,
                    note: note.clone(),
                    registry,
                    today,
                },
                document,
            ),
        })
}
