//! API users and their tokens.
//!
//! Every API call but `/healthz` carries `Authorization: Bearer <token>`. A token
//! is 32 random bytes, shown once when the user is created; the store keeps only
//! its SHA-256 (tree `users`: id -> [`User`]; tree `tokens`: SHA-256 -> id), so a
//! copy of the store yields no usable token. Tokens are looked up by their hash,
//! never compared byte by byte, so the time a lookup takes says nothing about
//! how close a guess was.

use crate::registry::{Kennung, Registry};
use crate::store::{Sha256, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Read;

/// What a user may see and do (see [`crate::access`]).
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

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        f.write_str(&s)
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        serde_json::from_value(serde_json::Value::String(s.to_lowercase())).map_err(|_| {
            format!("{s:?} is not a role (caseworker, clearing, teamlead, admin, auditor)")
        })
    }
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
    /// SHA-256 of the token: stored, never shown (see [`User::public`]).
    pub token_sha256: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A user as shown to admins: everything but the token's hash.
#[derive(Debug, Clone, Serialize)]
pub struct PublicUser<'a> {
    pub id: u64,
    pub name: &'a str,
    pub role: Role,
    pub caseworker: Option<&'a Kennung>,
    pub site: Option<&'a str>,
    pub team: Option<&'a str>,
    pub created_at: &'a str,
    pub revoked_at: Option<&'a str>,
}

impl User {
    pub fn public(&self) -> PublicUser<'_> {
        PublicUser {
            id: self.id,
            name: &self.name,
            role: self.role,
            caseworker: self.caseworker.as_ref(),
            site: self.site.as_deref(),
            team: self.team.as_deref(),
            created_at: &self.created_at,
            revoked_at: self.revoked_at.as_deref(),
        }
    }
}

/// Who a user is to be.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    pub caseworker: Option<Kennung>,
    pub site: Option<String>,
    pub team: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("the name must be 1 to 64 printable characters")]
    BadName,
    #[error("an active user is already called {0:?}")]
    NameTaken(String),
    #[error("role {role} needs --{needs}")]
    Missing { role: Role, needs: &'static str },
    #[error("role {role} takes no --{extra}")]
    Extra { role: Role, extra: &'static str },
    #[error("caseworker {0} is not in the registry")]
    UnknownCaseworker(Kennung),
    #[error("site {0:?} is not in the registry")]
    UnknownSite(String),
    #[error("team {0:?} is not in the registry")]
    UnknownTeam(String),
    #[error("there is no active user {0:?}")]
    NotFound(String),
    #[error("cannot read random bytes for the token: {0}")]
    Random(std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Create a user; returns it with its token (the only time the token is shown).
pub fn add(store: &Store, registry: &Registry, new: NewUser) -> Result<(User, String), UserError> {
    let name = new.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(UserError::BadName);
    }
    if list(store)?
        .iter()
        .any(|u| u.revoked_at.is_none() && u.name == name)
    {
        return Err(UserError::NameTaken(name));
    }
    let role = new.role;
    let need = |value: bool, needs: &'static str| {
        if value {
            Ok(())
        } else {
            Err(UserError::Missing { role, needs })
        }
    };
    let refuse = |value: bool, extra: &'static str| {
        if value {
            Err(UserError::Extra { role, extra })
        } else {
            Ok(())
        }
    };
    need(
        role != Role::Caseworker || new.caseworker.is_some(),
        "caseworker",
    )?;
    need(role != Role::Clearing || new.site.is_some(), "site")?;
    need(role != Role::Teamlead || new.team.is_some(), "team")?;
    refuse(
        role != Role::Caseworker && new.caseworker.is_some(),
        "caseworker",
    )?;
    refuse(role != Role::Clearing && new.site.is_some(), "site")?;
    refuse(role != Role::Teamlead && new.team.is_some(), "team")?;
    if let Some(k) = &new.caseworker {
        registry
            .caseworker(k)
            .ok_or_else(|| UserError::UnknownCaseworker(k.clone()))?;
    }
    if let Some(site) = &new.site {
        if !registry.sites().contains(site) {
            return Err(UserError::UnknownSite(site.clone()));
        }
    }
    if let Some(team) = &new.team {
        if !registry
            .caseworkers()
            .any(|c| c.team.as_ref() == Some(team))
        {
            return Err(UserError::UnknownTeam(team.clone()));
        }
    }
    let token = new_token()?;
    let user = User {
        id: store.generate_id()?,
        name,
        role,
        caseworker: new.caseworker,
        site: new.site,
        team: new.team,
        token_sha256: Sha256::of(token.as_bytes()).to_string(),
        created_at: crate::timefmt::now(),
        revoked_at: None,
    };
    store.put_user(&user)?;
    Ok((user, token))
}

/// Every user, active or revoked.
pub fn list(store: &Store) -> Result<Vec<User>, StoreError> {
    store.users()
}

/// Revoke the active user with this id, or else called `name_or_id`; their
/// token stops working at once.
pub fn revoke(store: &Store, name_or_id: &str) -> Result<User, UserError> {
    let users = list(store)?;
    let active = |u: &&User| u.revoked_at.is_none();
    let by_id = name_or_id
        .parse::<u64>()
        .ok()
        .and_then(|id| users.iter().filter(active).find(|u| u.id == id));
    let user = by_id
        .or_else(|| users.iter().filter(active).find(|u| u.name == name_or_id))
        .ok_or_else(|| UserError::NotFound(name_or_id.to_string()))?;
    revoke_user(store, user.clone())
}

/// Revoke the active user with this id (the API names users by id only).
pub fn revoke_id(store: &Store, id: u64) -> Result<User, UserError> {
    let user = list(store)?
        .into_iter()
        .find(|u| u.revoked_at.is_none() && u.id == id)
        .ok_or_else(|| UserError::NotFound(id.to_string()))?;
    revoke_user(store, user)
}

fn revoke_user(store: &Store, mut user: User) -> Result<User, UserError> {
    user.revoked_at = Some(crate::timefmt::now());
    store.put_user(&user)?;
    Ok(user)
}
/// The active user holding `token`, if any.
pub fn authenticate(store: &Store, token: &str) -> Result<Option<User>, StoreError> {
    let Some(user) = store.user_by_token_sha256(&Sha256::of(token.as_bytes()))? else {
        return Ok(None);
    };
    Ok(user.revoked_at.is_none().then_some(user))
}

/// `eakte_` and 64 hex digits from the kernel's random source.
fn new_token() -> Result<String, UserError> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(UserError::Random)?;
    Ok(format!("eakte_{}", hex::encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::testing::{caseworker, registry};

    #[test]
    fn tokens_work_until_revoked_and_are_stored_only_hashed() {
        let (_d, r) = registry(&[], &[caseworker("sb-a", &[("A", "Z")])], &[]);
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let new = |name: &str| NewUser {
            name: name.into(),
            role: Role::Caseworker,
            caseworker: Some(Kennung::parse("sb-a").unwrap()),
            site: None,
            team: None,
        };
        let (user, token) = add(&store, &r, new("Anna")).unwrap();
        assert!(token.starts_with("eakte_") && token.len() == 70);
        assert_ne!(user.token_sha256, token);
        assert_eq!(authenticate(&store, &token).unwrap().unwrap().id, user.id);
        assert!(authenticate(&store, "eakte_guess").unwrap().is_none());
        assert!(matches!(
            add(&store, &r, new("Anna")),
            Err(UserError::NameTaken(_))
        ));
        revoke(&store, "Anna").unwrap();
        assert!(authenticate(&store, &token).unwrap().is_none());
        let missing = NewUser {
            caseworker: None,
            ..new("Bo")
        };
        assert!(matches!(
            add(&store, &r, missing),
            Err(UserError::Missing {
                needs: "caseworker",
                ..
            })
        ));
    }
}
