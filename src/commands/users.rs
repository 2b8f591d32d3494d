//! Commands about API users and the audit trail.

use anyhow::{bail, Result};
use eakte::audit::{Audit, Event};
use eakte::config::Config;
use eakte::registry::Registry;
use eakte::store::Store;
use eakte::users::{self, NewUser};
use std::process::ExitCode;

pub fn add(config: &Config, new: NewUser) -> Result<ExitCode> {
    let store = Store::open(&config.store_dir)?;
    let registry = Registry::load(&store)?;
    let (user, token) = users::add(&store, &registry, new)?;
    record(
        &store,
        "add_user",
        format!("user {}", user.id),
        Some(format!("{:?} as {}", user.name, user.role)),
    )?;
    eprintln!(
        "user {} ({}) created as {}; the token is shown only now:",
        user.name, user.id, user.role
    );
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

pub fn list(config: &Config) -> Result<ExitCode> {
    let store = Store::open(&config.store_dir)?;
    for u in users::list(&store)? {
        let scope = u
            .caseworker
            .as_ref()
            .map(|k| format!(" caseworker {k}"))
            .or(u.site.as_ref().map(|s| format!(" site {s}")))
            .or(u.team.as_ref().map(|t| format!(" team {t}")))
            .unwrap_or_default();
        let revoked = u
            .revoked_at
            .as_ref()
            .map(|at| format!("  REVOKED {at}"))
            .unwrap_or_default();
        println!(
            "{}  {}  {}{scope}  created {}{revoked}",
            u.id, u.name, u.role, u.created_at
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn revoke(config: &Config, user: &str) -> Result<ExitCode> {
    let store = Store::open(&config.store_dir)?;
    let u = users::revoke(&store, user)?;
    record(&store, "revoke_user", format!("user {}", u.id), None)?;
    println!("revoked {} ({})", u.name, u.id);
    Ok(ExitCode::SUCCESS)
}

pub fn verify_audit(config: &Config, json: bool) -> Result<ExitCode> {
    let store = Store::open(&config.store_dir)?;
    let v = eakte::audit::verify(&store)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("{} audit entries", v.entries);
        if let Some((seq, hash)) = &v.head {
            println!("head: entry {seq}, {hash}");
        }
        for p in &v.problems {
            println!("PROBLEM: {p}");
        }
    }
    if !v.problems.is_empty() {
        if !json {
            bail!("the audit trail was tampered with or damaged");
        }
        return Ok(ExitCode::FAILURE);
    }
    if !json {
        println!("OK");
    }
    Ok(ExitCode::SUCCESS)
}

/// User management on the command line is audited like over the API; the
/// actor is whoever may run eakte on the server.
fn record(store: &Store, action: &str, target: String, detail: Option<String>) -> Result<()> {
    let who = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into());
    Audit::new(store.clone()).record(Event {
        who: format!("{who} (command line)"),
        role: None,
        address: "cli".into(),
        action: action.into(),
        target,
        outcome: "ok".into(),
        detail,
    })?;
    Ok(())
}
