//! Who may see which documents (Sozialdatenschutz).
//!
//! - A caseworker sees the BGs they are responsible for and those of colleagues
//!   they deputise for today, plus whatever sits in those postboxes.
//! - A clearing office sees what sits in its site's clearing postbox.
//! - A team lead sees what the caseworkers of their team see.
//! - Admins and auditors see no documents at all.
//!
//! Everything outside a user's scope is answered as if it did not exist (404).

use crate::model::{BgNummer, Document, Kennung, PostboxId, Role, User};
use crate::registry::Registry;
use crate::store::{Store, StoreError};
use jiff::civil::Date;
use std::collections::{HashMap, HashSet};

/// The responsible caseworker of every BG (without deputies), computed once per
/// registry version: the basis of every caseworker's scope.
#[derive(Debug, Default)]
pub struct Responsibilities {
    pub generation: u64,
    bgs_of: HashMap<Kennung, Vec<BgNummer>>,
}

impl Responsibilities {
    pub fn compute(registry: &Registry) -> Responsibilities {
        let mut bgs_of: HashMap<Kennung, Vec<BgNummer>> = HashMap::new();
        for bg in registry.bg_numbers() {
            if let Ok(r) = crate::route::responsible(bg, registry) {
                bgs_of
                    .entry(r.kennung().clone())
                    .or_default()
                    .push(bg.clone());
            }
        }
        Responsibilities {
            generation: registry.generation(),
            bgs_of,
        }
    }
}

/// What one user may see today.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub bgs: HashSet<BgNummer>,
    pub postboxes: Vec<PostboxId>,
}

impl Scope {
    /// `None` for roles that see no documents (admin, auditor).
    pub fn of(
        user: &User,
        registry: &Registry,
        responsible: &Responsibilities,
        today: Date,
    ) -> Option<Scope> {
        let caseworkers: Vec<Kennung> = match user.role {
            Role::Admin | Role::Auditor => return None,
            Role::Clearing => {
                let postbox = PostboxId::Clearing {
                    site: user.site.clone(),
                };
                return Some(Scope {
                    bgs: HashSet::new(),
                    postboxes: vec![postbox],
                });
            }
            Role::Caseworker => user.caseworker.iter().cloned().collect(),
            Role::Teamlead => registry
                .caseworkers()
                .filter(|c| c.team.is_some() && c.team == user.team)
                .map(|c| c.kennung.clone())
                .collect(),
        };
        let mut everyone: Vec<Kennung> = caseworkers.clone();
        for k in &caseworkers {
            everyone.extend(crate::route::deputised_by(registry, k, today));
        }
        let bgs = everyone
            .iter()
            .flat_map(|k| responsible.bgs_of.get(k).into_iter().flatten().cloned())
            .collect();
        let postboxes = everyone.into_iter().map(PostboxId::Caseworker).collect();
        Some(Scope { bgs, postboxes })
    }

    pub fn sees_bg(&self, bg: &BgNummer) -> bool {
        self.bgs.contains(bg)
    }

    pub fn sees_postbox(&self, postbox: &PostboxId) -> bool {
        self.postboxes.contains(postbox)
    }

    /// A document of a BG in scope, or one whose item sits in a postbox in scope.
    pub fn sees_document(&self, store: &Store, document: &Document) -> Result<bool, StoreError> {
        let bg = document.classification.as_ref().and_then(|c| c.bg());
        if bg.is_some_and(|bg| self.sees_bg(bg)) {
            return Ok(true);
        }
        Ok(store
            .postboxes()
            .item_of_document(document.id)?
            .is_some_and(|item| self.sees_postbox(&item.postbox)))
    }
}
