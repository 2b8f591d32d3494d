//! The registry, imported from the specialist software (Fachverfahren): benefit
//! recipients grouped in Bedarfsgemeinschaften (BG), caseworkers with the surname
//! ranges they handle per site, and absences with their deputies (Vertretung).
//!
//! The store keeps the records ([`crate::store::registry`], with a generation
//! counter bumped by every change); [`Registry`] is an immutable in-memory
//! snapshot for recognising recipients and routing, reloaded when the
//! generation moves.

pub mod import;
pub mod names;

use crate::model::{Absence, BgNummer, Caseworker, Kennung, Kundennummer, Person};
use crate::store::{Store, StoreError};
use jiff::civil::Date;
use std::collections::{BTreeMap, HashMap};

impl Absence {
    pub fn covers(&self, day: Date) -> bool {
        self.from <= day && day <= self.to
    }
}

/// An immutable snapshot of the registry with the lookups recognition and
/// routing need.
#[derive(Debug, Default)]
pub struct Registry {
    persons: Vec<Person>,
    by_kundennummer: HashMap<Kundennummer, usize>,
    /// Members of each BG, in import order.
    bgs: BTreeMap<BgNummer, Vec<usize>>,
    caseworkers: BTreeMap<Kennung, Caseworker>,
    absences: Vec<Absence>,
    generation: u64,
}

impl Registry {
    /// Read the registry from the store.
    pub fn load(store: &Store) -> Result<Registry, StoreError> {
        // The generation first: a change while reading makes the snapshot look
        // older than it is, so it is read again next time, never the other way.
        let records = store.registry();
        let generation = records.generation()?;
        let mut persons: Vec<Person> = records.persons()?;
        persons.sort_by_key(|p| p.position);
        let mut registry = Registry {
            caseworkers: records
                .caseworkers()?
                .into_iter()
                .map(|c| (c.kennung.clone(), c))
                .collect(),
            absences: records.absences()?,
            generation,
            ..Registry::default()
        };
        for (i, p) in persons.iter().enumerate() {
            registry.by_kundennummer.insert(p.kundennummer.clone(), i);
            registry.bgs.entry(p.bg.clone()).or_default().push(i);
        }
        registry.persons = persons;
        Ok(registry)
    }

    /// The generation of the store's registry this snapshot was read at.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn persons(&self) -> &[Person] {
        &self.persons
    }

    pub fn person(&self, k: &Kundennummer) -> Option<&Person> {
        self.by_kundennummer.get(k).map(|&i| &self.persons[i])
    }

    pub fn bg_numbers(&self) -> impl Iterator<Item = &BgNummer> {
        self.bgs.keys()
    }

    pub fn kundennummern(&self) -> impl Iterator<Item = &Kundennummer> {
        self.by_kundennummer.keys()
    }

    /// The members of a BG, in import order.
    pub fn members(&self, bg: &BgNummer) -> impl Iterator<Item = &Person> {
        self.bgs
            .get(bg)
            .into_iter()
            .flatten()
            .map(|&i| &self.persons[i])
    }

    pub fn has_bg(&self, bg: &BgNummer) -> bool {
        self.bgs.contains_key(bg)
    }

    /// The BG's Antragsteller: the one member marked so, or the only member.
    pub fn applicant(&self, bg: &BgNummer) -> Option<&Person> {
        let members: Vec<&Person> = self.members(bg).collect();
        let marked: Vec<&Person> = members
            .iter()
            .copied()
            .filter(|p| p.antragsteller)
            .collect();
        match (marked.as_slice(), members.as_slice()) {
            ([one], _) => Some(one),
            ([], [only]) => Some(only),
            _ => None,
        }
    }

    /// Every site (Standort) the registry knows, from recipients and ranges.
    pub fn sites(&self) -> std::collections::BTreeSet<String> {
        let ranges = self
            .caseworkers
            .values()
            .flat_map(|c| c.assignments.iter().map(|a| a.standort.clone()));
        self.persons
            .iter()
            .map(|p| p.standort.clone())
            .chain(ranges)
            .collect()
    }

    pub fn caseworker(&self, k: &Kennung) -> Option<&Caseworker> {
        self.caseworkers.get(k)
    }

    pub fn caseworkers(&self) -> impl Iterator<Item = &Caseworker> {
        self.caseworkers.values()
    }

    pub fn absences(&self) -> &[Absence] {
        &self.absences
    }

    /// The absence of `k` on `day`, if any.
    pub fn absence_on(&self, k: &Kennung, day: Date) -> Option<&Absence> {
        self.absences
            .iter()
            .find(|a| &a.kennung == k && a.covers(day))
    }
}

/// Registries for unit tests, stored in a temporary store like the real ones.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::model::Assignment;

    pub fn kennung(s: &str) -> Kennung {
        Kennung::parse(s).unwrap()
    }

    /// A person at site husum.
    pub fn person(
        bg: &str,
        kundennummer: &str,
        vorname: &str,
        nachname: &str,
        born: Date,
        strasse: &str,
    ) -> Person {
        Person {
            kundennummer: Kundennummer::parse(kundennummer).unwrap(),
            bg: BgNummer::parse(bg).unwrap(),
            nachname: nachname.into(),
            vorname: vorname.into(),
            geburtsdatum: born,
            strasse: strasse.into(),
            plz: "25813".into(),
            ort: "Husum".into(),
            standort: "husum".into(),
            sachbearbeiter: None,
            antragsteller: false,
            position: 0,
        }
    }

    /// A caseworker with ranges at site husum.
    pub fn caseworker(k: &str, ranges: &[(&str, &str)]) -> Caseworker {
        Caseworker {
            kennung: kennung(k),
            name: k.to_string(),
            team: None,
            assignments: ranges
                .iter()
                .map(|(von, bis)| Assignment {
                    standort: "husum".into(),
                    von: von.to_string(),
                    bis: bis.to_string(),
                })
                .collect(),
        }
    }

    /// Store `persons` (in this order), `caseworkers` and `absences`; the
    /// returned directory holds the store and must outlive the test.
    pub fn registry(
        persons: &[Person],
        caseworkers: &[Caseworker],
        absences: &[Absence],
    ) -> (tempfile::TempDir, Registry) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let persons: Vec<Person> = persons
            .iter()
            .enumerate()
            .map(|(i, p)| Person {
                position: i as u64,
                ..p.clone()
            })
            .collect();
        let change = crate::store::registry::RegistryChange {
            persons: &persons,
            caseworkers,
            absences,
            removed_absences: &[],
            settles: None,
        };
        store.registry().apply(&change, &[]).unwrap();
        let registry = Registry::load(&store).unwrap();
        (dir, registry)
    }
}
