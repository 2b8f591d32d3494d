//! Printing a Deckblatt: a caseworker (or an operator) asks for the return
//! cover sheet of an Akte they may read, optionally for one of its items. The
//! sheet names the recipient and their address, so printing it is a read of
//! social data and audited like one.

use super::documents::{akte_target, visible_bg};
use super::{Actor, ServiceError, Services};
use crate::exchange::deckblatt::{self, Deckblatt};
use crate::model::ItemId;
use crate::pipeline::coversheet;

/// A Deckblatt, ready to send.
pub struct Printed {
    pub pdf: Vec<u8>,
    pub file_name: String,
}

/// The Deckblatt of the Akte `bg` (as typed), answering `item` if given.
pub fn deckblatt(
    services: &Services,
    actor: &Actor,
    bg: &str,
    item: Option<u64>,
) -> Result<Printed, ServiceError> {
    let detail = |_: Option<&Printed>| item.map(|i| format!("for item {i}"));
    services.audited(
        actor,
        "print_deckblatt",
        akte_target(bg),
        detail,
        |ticket| {
            let bg = visible_bg(services, actor, bg, ticket)?;
            let store = services.store();
            if let Some(id) = item {
                // An item of another Akte answers like one that does not exist.
                let belongs = store
                    .postboxes()
                    .item(ItemId(id))?
                    .is_some_and(|i| i.bg.as_ref() == Some(&bg));
                if !belongs {
                    return Err(ServiceError::NotFound);
                }
            }
            let registry = services.registry()?;
            let person = registry
                .applicant(&bg)
                .or_else(|| registry.members(&bg).next())
                .ok_or(ServiceError::NotFound)?;
            let jobcenter = services.jobcenter();
            let code = coversheet::issue(store, &bg, item.map(ItemId), &jobcenter.schluessel)?;
            let sheet = Deckblatt {
                jobcenter: jobcenter.name.clone(),
                address: vec![
                    format!("{} {}", person.vorname, person.nachname),
                    person.strasse.clone(),
                    format!("{} {}", person.plz, person.ort),
                ],
                bg: bg.to_string(),
                item,
                day: crate::timefmt::german_day(crate::clock::today()),
                code: code.text(),
            };
            let pdf = deckblatt::pdf(&sheet)
                .map_err(|e| ServiceError::Pipeline(crate::pipeline::PipelineError::Blob(e)))?;
            Ok(Printed {
                pdf,
                file_name: match item {
                    Some(i) => format!("Deckblatt_{bg}_Vorgang_{i}.pdf"),
                    None => format!("Deckblatt_{bg}.pdf"),
                },
            })
        },
    )
}
