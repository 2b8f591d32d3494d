//! What callers do with postboxes: look into one (with the items of absent
//! colleagues one deputises for) and change an item.

use super::{Correction, Item, ItemError, PostboxId};
use crate::classify::doctype::Rules;
use crate::registry::{BgNummer, Kennung, Registry};
use crate::store::postboxes::ChangeError;
use crate::store::{ItemId, Store, StoreError};
use serde::Serialize;
use time::Date;

/// An item as shown in a postbox.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub item: Item,
    /// Set when the item is shown because its owner is absent and the viewer is
    /// their deputy (Vertretung).
    pub deputising_for: Option<Kennung>,
}

/// The items of `postbox` visible on `today` (with `all`: also done ones and
/// those waiting for resubmission), urgent first, then oldest first. A
/// caseworker also sees the open items of everyone they deputise for today,
/// directly or because the first deputy is absent too.
pub fn view(
    store: &Store,
    registry: &Registry,
    postbox: &PostboxId,
    today: Date,
    all: bool,
) -> Result<Vec<Listed>, StoreError> {
    let mut listed: Vec<Listed> = store
        .items_in(postbox)?
        .into_iter()
        .map(|item| Listed {
            item,
            deputising_for: None,
        })
        .collect();
    if let PostboxId::Caseworker(me) = postbox {
        for kennung in crate::route::deputised_by(registry, me, today) {
            let theirs = store.items_in(&PostboxId::Caseworker(kennung.clone()))?;
            listed.extend(theirs.into_iter().map(|item| Listed {
                item,
                deputising_for: Some(kennung.clone()),
            }));
        }
    }
    listed.retain(|l| all || l.item.visible_on(today));
    listed.sort_by(|a, b| {
        b.item
            .urgent
            .cmp(&a.item.urgent)
            .then(a.item.received_at.cmp(&b.item.received_at))
    });
    Ok(listed)
}

/// A change to an item.
#[derive(Debug, Clone)]
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
}

/// Who changes an item, and which items they may change (checked against the
/// item as it is at that moment, inside the transaction).
pub struct Actor<'a> {
    /// A caseworker's Kennung or a user's name.
    pub name: &'a str,
    pub may_change: &'a dyn Fn(&Item) -> bool,
}

/// Apply `command` to item `id` on behalf of `actor`, durably.
pub fn execute(
    store: &Store,
    registry: &Registry,
    rules: &Rules,
    id: ItemId,
    actor: Actor<'_>,
    command: Command,
    today: Date,
) -> Result<Item, ChangeError<ItemError>> {
    let (by, may_change) = (actor.name, actor.may_change);
    if store.item(id)?.is_none() {
        return Err(ChangeError::Refused(ItemError::NotFound(id)));
    }
    let doc_type = match &command {
        Command::Correct {
            doc_type: Some(name),
            ..
        } => Some(
            rules
                .by_name(name)
                .ok_or_else(|| ChangeError::Refused(ItemError::UnknownType(name.clone())))?,
        ),
        _ => None,
    };
    // The check runs inside the transaction: an item forwarded away meanwhile is
    // no longer the caller's to change.
    store.change_item(id, |item, document| match &command {
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
