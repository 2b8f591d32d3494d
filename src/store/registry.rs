//! The registry's records: persons by Kundennummer, caseworkers by Kennung,
//! absences by id, and a generation counter that every change bumps (readers
//! keep a snapshot until it moves).

use super::codec::{all_json, be_u64, to_json};
use super::{Durability, Store, StoreError, Trees};
use crate::model::{Absence, AuditEntry, AuditEvent, Caseworker, Person};

const GENERATION_KEY: &[u8] = b"generation";

/// One change to the registry, applied whole or not at all.
#[derive(Debug, Default)]
pub struct RegistryChange<'a> {
    /// Upserted by Kundennummer.
    pub persons: &'a [Person],
    /// Upserted by Kennung.
    pub caseworkers: &'a [Caseworker],
    /// Upserted by id.
    pub absences: &'a [Absence],
    pub removed_absences: &'a [u64],
    /// The pending access change this carries out (removed with it).
    pub settles: Option<u64>,
}

/// The store's registry.
pub struct RegistryRecords<'a> {
    pub(super) store: &'a Store,
}

impl RegistryRecords<'_> {
    fn trees(&self) -> &Trees {
        &self.store.trees
    }

    pub fn persons(&self) -> Result<Vec<Person>, StoreError> {
        all_json(&self.trees().persons, "persons")
    }

    pub fn caseworkers(&self) -> Result<Vec<Caseworker>, StoreError> {
        all_json(&self.trees().caseworkers, "caseworkers")
    }

    pub fn absences(&self) -> Result<Vec<Absence>, StoreError> {
        all_json(&self.trees().absences, "absences")
    }

    /// The generation: bumped by every change, 0 for a registry never written.
    pub fn generation(&self) -> Result<u64, StoreError> {
        Ok(self
            .trees()
            .registry_meta
            .get(GENERATION_KEY)?
            .and_then(|v| be_u64(&v))
            .unwrap_or(0))
    }

    /// Apply `change` with a new generation, and append `audit`, in one
    /// transaction; flushed.
    pub fn apply(
        &self,
        change: &RegistryChange<'_>,
        audit: &[AuditEvent],
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let ((), entries) = self.store.transact(audit, Durability::Flushed, |tx| {
            super::pending::settle_in(tx, change.settles)?;
            for person in change.persons {
                tx.persons
                    .insert(person.kundennummer.as_str(), to_json(person))?;
            }
            for cw in change.caseworkers {
                tx.caseworkers.insert(cw.kennung.as_str(), to_json(cw))?;
            }
            for absence in change.absences {
                tx.absences
                    .insert(&absence.id.to_be_bytes(), to_json(absence))?;
            }
            for id in change.removed_absences {
                tx.absences.remove(&id.to_be_bytes())?;
            }
            let next = tx
                .registry_meta
                .get(GENERATION_KEY)?
                .and_then(|v| be_u64(&v))
                .unwrap_or(0)
                + 1;
            tx.registry_meta
                .insert(GENERATION_KEY, &next.to_be_bytes())?;
            Ok(())
        })?;
        Ok(entries)
    }
}
