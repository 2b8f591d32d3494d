//! API users and their roles.

use crate::model::registry::Kennung;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a user may see and do (see `access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A caseworker (Sachbearbeiter/in): their BGs and those they deputise for.
    Caseworker,
    /// A site's clearing office (Klärungsstelle): its clearing postbox.
    Clearing,
    /// A team lead: what the caseworkers of their team see.
    Teamlead,
    /// Users and the registry; no social data.
    Admin,
    /// The audit trail; no social data.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Caseworker,
        Role::Clearing,
        Role::Teamlead,
        Role::Admin,
        Role::Auditor,
    ];

    /// The serde name, e.g. `caseworker`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Caseworker => "caseworker",
            Role::Clearing => "clearing",
            Role::Teamlead => "teamlead",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        let s = s.to_lowercase();
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| {
                format!("{s:?} is not a role (caseworker, clearing, teamlead, admin, auditor)")
            })
    }
}

/// Who a user is to be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    pub caseworker: Option<Kennung>,
    pub site: Option<String>,
    pub team: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub role: Role,
    /// For caseworkers: their Kennung.
    pub caseworker: Option<Kennung>,
    /// For clearing: their site.
    pub site: Option<String>,
    /// For team leads: their team.
    pub team: Option<String>,
    /// SHA-256 of the token: stored, never shown.
    pub token_sha256: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}
