//! Postboxes: looking into them, following their changes (the long-poll's
//! work, one look at a time), and changing an item.

use super::{Actor, ServiceError, Services, Visibility};
use crate::model::{Item, ItemId, PostboxId, Role};
use crate::postbox::ops::{self, Command, Listed};
use serde::Serialize;

/// Who works with postboxes.
pub const WORKERS: &[Role] = &[Role::Caseworker, Role::Clearing, Role::Teamlead];

/// Most changes returned by one look (the cursor continues after them).
const MAX_CHANGES: usize = 1000;
/// How many changed items a cursor may be behind. The change log keeps each
/// item's latest change only, so an old cursor would walk through most items
/// of the jobcenter; a client that far behind reloads the view instead.
pub const MAX_CURSOR_LAG: usize = 50_000;

/// A postbox as `eakte postbox list` shows it: a caseworker's own items and
/// those of colleagues they deputise for today. Blocking.
pub fn list(
    services: &Services,
    actor: &Actor,
    postbox: &PostboxId,
    all: bool,
) -> Result<Vec<Listed>, ServiceError> {
    let ids =
        |listed: Option<&Vec<Listed>>| listed.map(|l| items_detail(l.iter().map(|l| l.item.id)));
    services.audited(
        actor,
        "read_postbox",
        format!("postbox {postbox}"),
        ids,
        |_| {
            actor.require(WORKERS)?;
            if !services.visibility(actor)?.sees_postbox(postbox) {
                return Err(ServiceError::NotFound);
            }
            let registry = services.registry()?;
            Ok(ops::view(
                services.store(),
                &registry,
                postbox,
                crate::clock::today(),
                all,
            )?)
        },
    )
}

fn items_detail(ids: impl Iterator<Item = ItemId>) -> String {
    let ids: Vec<String> = ids.map(|id| id.to_string()).collect();
    format!("items {}", ids.join(","))
}

/// The answer to a look into the caller's postboxes.
#[derive(Debug, Serialize)]
pub struct Poll {
    pub items: Vec<Listed>,
    /// Items that left the caller's postboxes (forwarded, re-routed) since the cursor.
    pub removed: Vec<ItemId>,
    /// Pass as `since` to get the changes after this answer.
    pub cursor: u64,
}

/// One look into `actor`'s postboxes (as of `visibility`, taken once per
/// long-poll): without `since` the current view (open items, urgent first);
/// with `since` the items changed after that cursor and those that left the
/// caller's postboxes since, whatever happened to them afterwards. Recorded
/// when it shows anything. Also says whether a page of changes was full (more
/// wait beyond it). Blocking.
pub fn look(
    services: &Services,
    actor: &Actor,
    visibility: &Visibility,
    postboxes: &[PostboxId],
    since: Option<u64>,
) -> Result<(Poll, bool), ServiceError> {
    let store = services.store();
    let own = actor
        .user()
        .and_then(|u| u.caseworker.clone())
        .map(PostboxId::Caseworker);
    let (poll, page_full) = match since {
        None => {
            let cursor = store.postboxes().last_change();
            let items = ops::list(store, postboxes, own.as_ref(), crate::clock::today(), false)?;
            let poll = Poll {
                items,
                removed: Vec::new(),
                cursor,
            };
            (poll, false)
        }
        Some(since) => {
            let latest = store.postboxes().last_committed_change();
            let behind = || store.postboxes().more_changed_after(since, MAX_CURSOR_LAG);
            if since > latest || behind()? {
                return Err(ServiceError::Expired(format!(
                    "the cursor {since} is not within the last {MAX_CURSOR_LAG} changed \
                     items (the latest change is {latest}); reload the postbox without \
                     `since` and continue from its cursor"
                )));
            }
            let (changed, cursor) = store.postboxes().changed_after(since, MAX_CHANGES)?;
            let page_full = changed.len() == MAX_CHANGES;
            let (mut items, mut removed) = (Vec::new(), Vec::new());
            for item in changed {
                if visibility.sees_postbox(&item.postbox) {
                    let deputising_for = match (&item.postbox, &own) {
                        (PostboxId::Caseworker(k), Some(mine)) if &item.postbox != mine => {
                            Some(k.clone())
                        }
                        _ => None,
                    };
                    items.push(Listed {
                        item,
                        deputising_for,
                    });
                } else if left_since(&item, since, visibility) {
                    removed.push(item.id);
                }
            }
            let poll = Poll {
                items,
                removed,
                cursor,
            };
            (poll, page_full)
        }
    };
    if !poll.items.is_empty() || !poll.removed.is_empty() {
        let detail = items_detail(poll.items.iter().map(|l| l.item.id));
        let target = format!("{} item(s)", poll.items.len());
        let mut bgs = Vec::new();
        for bg in poll.items.iter().filter_map(|l| l.item.bg.as_ref()) {
            if !bgs.contains(bg) {
                bgs.push(bg.clone());
            }
        }
        services.record(actor, "read_postbox", target, Some(detail), bgs)?;
    }
    Ok((poll, page_full))
}

/// Whether `item` left a postbox the caller sees by a change after `since`.
/// Each history event carries the number of its change, so a later move
/// (forwarded on again, re-routed twice) does not hide the first one; events
/// from before numbers were kept (0) count when they are the latest.
fn left_since(item: &Item, since: u64, visibility: &Visibility) -> bool {
    let last = item.history.len().saturating_sub(1);
    item.history.iter().enumerate().any(|(i, event)| {
        let recent = event.seq > since || (event.seq == 0 && i == last);
        recent
            && event
                .action
                .moved_from()
                .is_some_and(|from| visibility.sees_postbox(from))
    })
}

/// Change item `id` for `actor` (who must see the postbox it is in); the
/// change and its audit entry commit together. Returns the item, or only its
/// id when the change moved it out of the caller's scope (its new place is
/// none of their business). `by` names the actor in the item's history (the
/// Kennung given on the command line, or the caller). Blocking.
pub fn change(
    services: &Services,
    actor: &Actor,
    id: ItemId,
    command: Command,
    by: Option<&str>,
) -> Result<Changed, ServiceError> {
    let name = command.action();
    // On the command line `--by` names a caseworker; the actor is who ran it.
    let key = crate::audit::words::note_ref;
    let note_ref = |note: &str| {
        key(services.store(), note).unwrap_or_else(|e| format!("note (not hashed: {e})"))
    };
    let detail = match by {
        Some(by) => format!("{}, by {by}", command.audit_detail(&note_ref)),
        None => command.audit_detail(&note_ref),
    };
    let new_bg = match &command {
        Command::Correct { bg: Some(bg), .. } => Some(bg.clone()),
        _ => None,
    };
    services.audited(
        actor,
        name,
        format!("item {id}"),
        // A refused or failed change is recorded with what was asked.
        |_| Some(detail.clone()),
        |ticket| {
            actor.require(WORKERS)?;
            // The entry names the letter's recipient, also for an attempt
            // on someone else's item.
            let before = services.store().postboxes().item(id)?;
            if let Some(bg) = before.as_ref().and_then(|i| i.bg.as_ref()) {
                ticket.concerns(bg);
            }
            let visibility = services.visibility(actor)?;
            let registry = services.registry()?;
            if let (Some(bg), Some(item)) = (&new_bg, &before) {
                if visibility.sees_postbox(&item.postbox) {
                    ticket.concerns(bg);
                }
            }
            let may_change = |item: &Item| visibility.sees_postbox(&item.postbox);
            let by = by.map_or_else(|| actor.history_name(), str::to_string);
            let actor = ops::Actor {
                name: &by,
                may_change: &may_change,
            };
            let facts = ops::Facts {
                registry: &registry,
                rules: services.rules(),
                today: crate::clock::today(),
            };
            let changed = ops::execute(
                services.store(),
                facts,
                id,
                actor,
                command,
                &ticket.events(Some(detail.clone())),
            )?;
            Ok(if visibility.sees_postbox(&changed.postbox) {
                Changed::Item(Box::new(changed))
            } else {
                Changed::Moved(changed.id)
            })
        },
    )
}

/// What a changed item looks like to whoever changed it.
#[derive(Debug)]
pub enum Changed {
    Item(Box<Item>),
    /// Moved out of the caller's scope.
    Moved(ItemId),
}

/// One caseworker of a team, as the team lead's overview shows them.
#[derive(Debug, Serialize)]
pub struct TeamMember {
    pub kennung: crate::model::Kennung,
    pub name: String,
    /// Open items in their own postbox (today's view: no Wiedervorlage waiting).
    pub open: usize,
    pub urgent: usize,
    /// Eingangsdatum of the oldest open item.
    pub oldest: Option<String>,
    /// Absent today, and who deputises.
    pub absent_until: Option<jiff::civil::Date>,
    pub deputy: Option<crate::model::Kennung>,
    /// Colleagues they deputise for today.
    pub deputising_for: Vec<crate::model::Kennung>,
}

/// The team lead's overview of their team's postboxes: counts, not letters.
/// Recorded as a read of the team. Blocking.
pub fn team(services: &Services, actor: &Actor) -> Result<Vec<TeamMember>, ServiceError> {
    let team = actor.user().and_then(|u| u.team.clone());
    services.audited(
        actor,
        "read_team",
        format!("team {}", team.as_deref().unwrap_or("-")),
        |_| None,
        |_| {
            actor.require(&[Role::Teamlead])?;
            let Some(team) = team.as_ref() else {
                return Ok(Vec::new());
            };
            let registry = services.registry()?;
            let today = crate::clock::today();
            let mut members = Vec::new();
            for caseworker in registry
                .caseworkers()
                .filter(|c| c.team.as_ref() == Some(team))
            {
                let kennung = caseworker.kennung.clone();
                let postbox = PostboxId::Caseworker(kennung.clone());
                let items = ops::list(
                    services.store(),
                    std::slice::from_ref(&postbox),
                    Some(&postbox),
                    today,
                    false,
                )?;
                let absence = registry
                    .absences()
                    .iter()
                    .find(|a| a.kennung == kennung && a.covers(today));
                members.push(TeamMember {
                    name: caseworker.name.clone(),
                    open: items.len(),
                    urgent: items.iter().filter(|l| l.item.urgent).count(),
                    oldest: items.iter().map(|l| l.item.received_at.clone()).min(),
                    absent_until: absence.map(|a| a.to),
                    deputy: absence.map(|a| a.deputy.clone()),
                    deputising_for: crate::route::deputised_by(&registry, &kennung, today),
                    kennung,
                });
            }
            Ok(members)
        },
    )
}

/// The recipients' names of items from the caller's own look (`list` or
/// `look`): the applicant of each item's BG, else its first member. The items
/// are the caller's to work, and the look that showed them was recorded
/// with them; a name is only the letter's addressee, which the letter shows
/// anyway. Blocking.
pub fn addressees(services: &Services, items: &[&Item]) -> Result<Vec<String>, ServiceError> {
    let registry = services.registry()?;
    Ok(items
        .iter()
        .map(|item| {
            item.bg
                .as_ref()
                .and_then(|bg| {
                    registry
                        .applicant(bg)
                        .or_else(|| registry.members(bg).next())
                })
                .map(|p| format!("{}, {}", p.nachname, p.vorname))
                .unwrap_or_default()
        })
        .collect())
}
