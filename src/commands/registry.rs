//! Commands about the registry: importing recipients and caseworkers, absences.

use anyhow::{bail, Result};
use eakte::config::Config;
use eakte::registry::import::{self, ImportError, ImportReport};
use eakte::registry::{Kennung, Registry};
use eakte::store::Store;
use std::path::Path;
use std::process::ExitCode;
use time::Date;

#[derive(Clone, Copy)]
pub enum Table {
    Recipients,
    Caseworkers,
}

/// Import a CSV file. Exit 0 when every row was taken, 1 when rows were rejected
/// (the valid ones are applied) or the file was refused as a whole.
pub fn import(
    config: &Config,
    table: Table,
    file: &Path,
    dry_run: bool,
    json: bool,
) -> Result<ExitCode> {
    let store = Store::open(&config.store_dir)?;
    let bytes = import::read_file(file)?;
    let result = match table {
        Table::Recipients => import::recipients(&store, &bytes, dry_run),
        Table::Caseworkers => import::caseworkers(&store, &bytes, dry_run),
    };
    let report = match result {
        Ok(report) => report,
        Err(ImportError::NoValidRows { rejected }) => {
            for r in &rejected {
                eprintln!("line {}: {}", r.line, r.reason);
            }
            bail!("no row of {} is valid; nothing was changed", file.display());
        }
        Err(e) => bail!("{}: {e}; nothing was changed", file.display()),
    };
    print_report(&report, json)?;
    Ok(if report.rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_report(report: &ImportReport, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    let what = if report.applied {
        ""
    } else {
        " (dry run: nothing changed)"
    };
    println!(
        "{} added, {} changed, {} unchanged, {} rejected{what}",
        report.added,
        report.changed,
        report.unchanged,
        report.rejected.len()
    );
    for r in &report.rejected {
        println!("rejected line {}: {}", r.line, r.reason);
    }
    for note in &report.notes {
        println!("note: {note}");
    }
    Ok(())
}

pub fn list_caseworkers(config: &Config) -> Result<ExitCode> {
    let store = Store::open(&config.store_dir)?;
    let registry = Registry::load(&store)?;
    let today = eakte::timefmt::today();
    for cw in registry.caseworkers() {
        let team = cw
            .team
            .as_deref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default();
        println!("{}  {}{team}", cw.kennung, cw.name);
        for a in &cw.assignments {
            println!("    {}: {}–{}", a.standort, a.von, a.bis);
        }
        if let Some(absence) = registry.absence_on(&cw.kennung, today) {
            println!(
                "    absent {} to {}, deputy {}",
                absence.from, absence.to, absence.deputy
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn add_absence(
    config: &Config,
    kennung: Kennung,
    from: &str,
    to: &str,
    deputy: Kennung,
) -> Result<ExitCode> {
    let store = Store::open(&config.store_dir)?;
    let absence = import::add_absence(&store, kennung, parse_day(from)?, parse_day(to)?, deputy)?;
    println!(
        "absence {}: {} from {} to {}, deputy {}",
        absence.id, absence.kennung, absence.from, absence.to, absence.deputy
    );
    Ok(ExitCode::SUCCESS)
}

pub fn list_absences(config: &Config) -> Result<ExitCode> {
    let store = Store::open(&config.store_dir)?;
    for a in Registry::load(&store)?.absences() {
        println!(
            "{}  {} from {} to {}, deputy {}",
            a.id, a.kennung, a.from, a.to, a.deputy
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn remove_absence(config: &Config, id: u64) -> Result<ExitCode> {
    let store = Store::open(&config.store_dir)?;
    let a = import::remove_absence(&store, id)?;
    println!(
        "removed absence {}: {} from {} to {}",
        a.id, a.kennung, a.from, a.to
    );
    Ok(ExitCode::SUCCESS)
}

/// A day as users write it: `2026-12-01` or `01.12.2026`.
pub fn parse_day(s: &str) -> Result<Date> {
    match eakte::timefmt::parse_date(s) {
        Some(day) => Ok(day),
        None => bail!("{s:?} is not a date like 2026-12-01 or 01.12.2026"),
    }
}
