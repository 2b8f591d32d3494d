//! Commands about postboxes and routing.

use anyhow::{Context, Result};
use eakte::audit::{Audit, Event};
use eakte::classify::Recognition;
use eakte::config::Config;
use eakte::postbox::ops::{self, Command};
use eakte::postbox::{Item, PostboxId};
use eakte::registry::{Kennung, Registry};
use eakte::store::{DocumentId, ItemId, Store};
use std::process::ExitCode;

pub fn list(config: &Config, postbox: &PostboxId, all: bool, json: bool) -> Result<ExitCode> {
    let store = Store::open(&config.store_dir)?;
    let registry = Registry::load(&store)?;
    let items = ops::view(&store, &registry, postbox, eakte::timefmt::today(), all)?;
    if json {
        for listed in &items {
            println!("{}", serde_json::to_string(listed)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!("postbox {postbox}: {} item(s)", items.len());
    for listed in &items {
        let i = &listed.item;
        let urgent = if i.urgent { "EILT " } else { "" };
        let bg = i.bg.as_ref().map_or("-".to_string(), |b| b.to_string());
        let deputy = listed
            .deputising_for
            .as_ref()
            .map(|k| format!("  (Vertretung für {k})"))
            .unwrap_or_default();
        let resubmit = i
            .resubmit_until
            .map(|d| format!("  Wiedervorlage {d}"))
            .unwrap_or_default();
        println!(
            "#{}  {urgent}{:?}  {}  BG {bg}  {} / {}  document {}{resubmit}{deputy}",
            i.id, i.state, i.received_at, i.doc_type, i.schlagwort, i.document_id
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn change(config: &Config, item: ItemId, by: &Kennung, command: Command) -> Result<ExitCode> {
    let store = Store::open(&config.store_dir)?;
    let registry = Registry::load(&store)?;
    let rules = eakte::classify::doctype::Rules::load(config.classify.rules_file.as_deref())?;
    let action = command.action();
    let anything = |_: &eakte::postbox::Item| true;
    let actor = ops::Actor {
        name: by.as_str(),
        may_change: &anything,
    };
    let changed = ops::execute(
        &store,
        &registry,
        &rules,
        item,
        actor,
        command,
        eakte::timefmt::today(),
    )?;
    Audit::new(store.clone()).record(Event {
        who: by.to_string(),
        role: None,
        address: "cli".into(),
        action: action.into(),
        target: format!("item {item}"),
        outcome: "ok".into(),
        detail: None,
    })?;
    println!("{}", serde_json::to_string(&changed)?);
    Ok(ExitCode::SUCCESS)
}

pub fn explain(config: &Config, id: DocumentId, json: bool) -> Result<ExitCode> {
    let store = Store::open(&config.store_dir)?;
    let doc = store
        .document(id)?
        .with_context(|| format!("there is no document {id}"))?;
    let item = store.item_of_document(id)?;
    if json {
        let out = serde_json::json!({
            "document_id": id,
            "classification": doc.classification,
            "item": item,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "document {id} ({}, site {})",
        doc.original_name,
        doc.site.as_deref().unwrap_or("-")
    );
    if let Some(c) = &doc.classification {
        println!("recipient: {}", describe_recognition(&c.recipient));
        println!("type:      {} (Schlagwort {})", c.doc_type, c.schlagwort);
        for e in &c.type_evidence {
            println!("           {e}");
        }
        if let Some(reason) = &c.urgent_reason {
            println!("urgent:    {reason}");
        }
    }
    match &item {
        Some(item) => print_item(item),
        None => println!("no postbox item (recorded before routing existed, or a duplicate)"),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_item(item: &Item) {
    println!(
        "item {}: postbox {}, {:?}",
        item.id, item.postbox, item.state
    );
    println!("route:     {}", item.route.explanation);
    for event in &item.history {
        let by = event
            .by
            .as_ref()
            .map_or("eakte".to_string(), |k| k.to_string());
        let note = event
            .note
            .as_deref()
            .map(|n| format!(" — {n}"))
            .unwrap_or_default();
        println!(
            "  {} {by}: {}{note}",
            event.at,
            serde_json::to_string(&event.action).unwrap_or_default()
        );
    }
}

/// The recognition in one line.
pub fn describe_recognition(r: &Recognition) -> String {
    match r {
        Recognition::Identified {
            bg,
            method,
            matched,
            confidence,
            ..
        } => {
            format!("BG {bg} by {method:?} ({matched:?}, confidence {confidence:.2})")
        }
        Recognition::Ambiguous {
            candidates,
            evidence,
        } => {
            let list: Vec<&str> = candidates.iter().map(|c| c.as_str()).collect();
            format!("ambiguous: {} — {}", list.join(", "), evidence.join("; "))
        }
        Recognition::NotFound { evidence } => format!("not recognised — {}", evidence.join("; ")),
        Recognition::Assigned { bg, by, at } => format!("BG {bg}, assigned by {by} at {at}"),
    }
}
