//! API users and their tokens.
//!
//! Every API call but `/healthz` carries `Authorization: Bearer <token>`. A token
//! is 32 random bytes, shown once when the user is created; the store keeps only
//! its SHA-256 (tree `users`: id -> [`User`]; tree `tokens`: SHA-256 -> id), so a
//! copy of the store yields no usable token. Tokens are looked up by their hash,
//! never compared byte by byte, so the time a lookup takes says nothing about
//! how close a guess was.

use crate::model::{AuditEvent, Kennung, Role, Sha256, User};
use crate::registry::Registry;
use crate::store::{Store, StoreError};
use serde::Serialize;
use std::io::Read;

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

/// `user` as shown to admins.
pub fn public(user: &User) -> PublicUser<'_> {
    PublicUser {
        id: user.id,
        name: &user.name,
        role: user.role,
        caseworker: user.caseworker.as_ref(),
        site: user.site.as_deref(),
        team: user.team.as_deref(),
        created_at: &user.created_at,
        revoked_at: user.revoked_at.as_deref(),
    }
}

pub use crate::model::NewUser;

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

/// The audit entries that record a change to `user`, made once the change is
/// known (a new user's id is drawn while it is created).
pub type AuditOf<'a> = &'a dyn Fn(&User) -> Vec<AuditEvent>;

/// Whether `new` may be created: a free, printable name, the fields its role
/// needs and no others, each known to the registry. Returns the name as it
/// will be stored.
pub fn check(store: &Store, registry: &Registry, new: &NewUser) -> Result<String, UserError> {
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
    Ok(name)
}

/// Create a user and append `audit` of it in one transaction; returns it with
/// its token (the only time the token is shown). `settles`: the pending
/// access change this carries out.
pub fn add(
    store: &Store,
    registry: &Registry,
    new: NewUser,
    settles: Option<u64>,
    audit: AuditOf<'_>,
) -> Result<(User, String), UserError> {
    let name = check(store, registry, &new)?;
    let role = new.role;
    let token = new_token()?;
    let user = User {
        id: store.generate_id()?,
        name,
        role,
        caseworker: new.caseworker,
        site: new.site,
        team: new.team,
        token_sha256: Sha256::of(token.as_bytes()).to_string(),
        created_at: crate::clock::now_rfc3339(),
        revoked_at: None,
    };
    store.accounts().put(&user, settles, &audit(&user))?;
    Ok((user, token))
}

/// Every user, active or revoked.
pub fn list(store: &Store) -> Result<Vec<User>, StoreError> {
    store.accounts().all()
}

/// Revoke the active user with this id, or else called `name_or_id`; their
/// token stops working at once.
pub fn revoke(store: &Store, name_or_id: &str, audit: AuditOf<'_>) -> Result<User, UserError> {
    let users = list(store)?;
    let active = |u: &&User| u.revoked_at.is_none();
    let by_id = name_or_id
        .parse::<u64>()
        .ok()
        .and_then(|id| users.iter().filter(active).find(|u| u.id == id));
    let user = by_id
        .or_else(|| users.iter().filter(active).find(|u| u.name == name_or_id))
        .ok_or_else(|| UserError::NotFound(name_or_id.to_string()))?;
    revoke_user(store, user.clone(), audit)
}

/// Revoke the active user with this id (the API names users by id only).
pub fn revoke_id(store: &Store, id: u64, audit: AuditOf<'_>) -> Result<User, UserError> {
    let user = list(store)?
        .into_iter()
        .find(|u| u.revoked_at.is_none() && u.id == id)
        .ok_or_else(|| UserError::NotFound(id.to_string()))?;
    revoke_user(store, user, audit)
}

fn revoke_user(store: &Store, mut user: User, audit: AuditOf<'_>) -> Result<User, UserError> {
    user.revoked_at = Some(crate::clock::now_rfc3339());
    store.accounts().put(&user, None, &audit(&user))?;
    Ok(user)
}
/// The active user holding `token`, if any.
pub fn authenticate(store: &Store, token: &str) -> Result<Option<User>, StoreError> {
    let Some(user) = store
        .accounts()
        .by_token_sha256(&Sha256::of(token.as_bytes()))?
    else {
        return Ok(None);
    };
    Ok(user.revoked_at.is_none().then_some(user))
}

/// `eakte_` and 64 hex digits from the kernel's random source.
fn new_token() -> Result<String, UserError> {
    let bytes = random_secret().map_err(UserError::Random)?;
    Ok(format!("eakte_{}", hex::encode(bytes)))
}

/// 32 bytes from the kernel's random source (tokens, session cookies).
pub fn random_secret() -> std::io::Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kennung;
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
        let (user, token) = add(&store, &r, new("Anna"), None, &|_| Vec::new()).unwrap();
        assert!(token.starts_with("eakte_") && token.len() == 70);
        assert_ne!(user.token_sha256, token);
        assert_eq!(authenticate(&store, &token).unwrap().unwrap().id, user.id);
        assert!(authenticate(&store, "eakte_guess").unwrap().is_none());
        assert!(matches!(
            add(&store, &r, new("Anna"), None, &|_| Vec::new()),
            Err(UserError::NameTaken(_))
        ));
        revoke(&store, "Anna", &|_| Vec::new()).unwrap();
        assert!(authenticate(&store, &token).unwrap().is_none());
        let missing = NewUser {
            caseworker: None,
            ..new("Bo")
        };
        assert!(matches!(
            add(&store, &r, missing, None, &|_| Vec::new()),
            Err(UserError::Missing {
                needs: "caseworker",
                ..
            })
        ));
    }
}
