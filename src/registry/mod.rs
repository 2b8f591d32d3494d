//! The registry, imported from the specialist software (Fachverfahren): benefit
//! recipients grouped in Bedarfsgemeinschaften (BG), caseworkers with the surname
//! ranges they handle per site, and absences with their deputies (Vertretung).
//!
//! The store keeps it in sled (trees `persons`, `caseworkers`, `absences`, plus a
//! generation counter bumped by every change); [`Registry`] is an immutable
//! in-memory snapshot for recognising recipients and routing, reloaded when the
//! generation moves.

pub mod import;
pub mod names;

use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use time::Date;

/// The number of a Bedarfsgemeinschaft, canonical form `07450BG0160367`: the
/// 5-digit office number, `BG`, the 7-digit running number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BgNummer(String);

/// A person's customer number, canonical form `123D456789`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Kundennummer(String);

/// A caseworker's login id (Kennung), lower case, e.g. `sb-husum-2`. Read
/// through [`Kennung::parse`], so that one from a request is always valid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Kennung(String);

impl TryFrom<String> for Kennung {
    type Error = String;
    fn try_from(s: String) -> Result<Kennung, String> {
        s.parse()
    }
}

impl From<Kennung> for String {
    fn from(k: Kennung) -> String {
        k.0
    }
}

impl BgNummer {
    /// Accept `07450BG0160367`, `07450 BG 0160367`, `07450//0160367`, `07450/0160367`.
    pub fn parse(s: &str) -> Option<BgNummer> {
        let compact: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        let (office, number) = compact
            .split_once("BG")
            .or_else(|| compact.split_once("//"))
            .or_else(|| compact.split_once('/'))?;
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        (digits(office, 5) && digits(number, 7)).then(|| BgNummer(format!("{office}BG{number}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Kundennummer {
    /// Accept `123D456789` (letter in either case, spaces ignored).
    pub fn parse(s: &str) -> Option<Kundennummer> {
        let compact: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        let b = compact.as_bytes();
        let ok = b.len() == 10
            && b[..3].iter().all(u8::is_ascii_digit)
            && b[3].is_ascii_uppercase()
            && b[4..].iter().all(u8::is_ascii_digit);
        ok.then_some(Kundennummer(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Kennung {
    /// Letters, digits, `.`, `_`, `-`; at most 32 characters; case-insensitive.
    pub fn parse(s: &str) -> Option<Kennung> {
        let s = s.trim();
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        ok.then(|| Kennung(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::parse(s).ok_or_else(|| format!("{s:?} is not a valid {}", stringify!($t)))
            }
        }
    )*};
}
display_as_str!(BgNummer, Kundennummer, Kennung);

/// A benefit recipient: one member of one Bedarfsgemeinschaft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub kundennummer: Kundennummer,
    pub bg: BgNummer,
    pub nachname: String,
    pub vorname: String,
    pub geburtsdatum: Date,
    pub strasse: String,
    pub plz: String,
    pub ort: String,
    /// The site (Sozialzentrum) responsible for the BG.
    pub standort: String,
    /// An explicit assignment to a caseworker, overriding surname ranges.
    pub sachbearbeiter: Option<Kennung>,
    /// The BG's Antragsteller (applicant), whose surname decides the surname
    /// range (see [`crate::route::responsible`]).
    #[serde(default)]
    pub antragsteller: bool,
    /// Order of first import (members are listed in it).
    pub position: u64,
}

/// A surname range a caseworker handles at a site: initial letters `von`–`bis`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub standort: String,
    pub von: String,
    pub bis: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caseworker {
    pub kennung: Kennung,
    pub name: String,
    pub team: Option<String>,
    pub assignments: Vec<Assignment>,
}

/// An absence: from `from` to `to` (inclusive) `deputy` receives the new items
/// and sees the open ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Absence {
    pub id: u64,
    pub kennung: Kennung,
    pub from: Date,
    pub to: Date,
    pub deputy: Kennung,
}

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
        let generation = store.registry_trees().generation()?;
        let mut persons: Vec<Person> = store.registry_trees().persons()?;
        persons.sort_by_key(|p| p.position);
        let mut registry = Registry {
            caseworkers: store
                .registry_trees()
                .caseworkers()?
                .into_iter()
                .map(|c| (c.kennung.clone(), c))
                .collect(),
            absences: store.registry_trees().absences()?,
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

/// The registry's sled trees (owned by the [`Store`]).
pub struct RegistryTrees<'a> {
    pub(crate) persons: &'a sled::Tree,
    pub(crate) caseworkers: &'a sled::Tree,
    pub(crate) absences: &'a sled::Tree,
    pub(crate) meta: &'a sled::Tree,
}

const GENERATION_KEY: &[u8] = b"generation";

impl RegistryTrees<'_> {
    fn all<T: for<'de> Deserialize<'de>>(
        tree: &sled::Tree,
        name: &'static str,
    ) -> Result<Vec<T>, StoreError> {
        tree.iter()
            .values()
            .map(|v| crate::store::from_json(name, &v?))
            .collect()
    }

    pub fn persons(&self) -> Result<Vec<Person>, StoreError> {
        Self::all(self.persons, "persons")
    }

    pub fn caseworkers(&self) -> Result<Vec<Caseworker>, StoreError> {
        Self::all(self.caseworkers, "caseworkers")
    }

    pub fn absences(&self) -> Result<Vec<Absence>, StoreError> {
        Self::all(self.absences, "absences")
    }

    pub fn generation(&self) -> Result<u64, StoreError> {
        Ok(self
            .meta
            .get(GENERATION_KEY)?
            .and_then(|v| <[u8; 8]>::try_from(&v[..]).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// Write `persons` and `caseworkers` (upserts) and remove `removed_absences`,
    /// all at once with a new generation, then flush.
    pub fn apply(
        &self,
        db: &sled::Db,
        persons: &[Person],
        caseworkers: &[Caseworker],
        absences: &[Absence],
        removed_absences: &[u64],
    ) -> Result<(), StoreError> {
        use sled::Transactional;
        (self.persons, self.caseworkers, self.absences, self.meta)
            .transaction(|(p, c, a, m)| {
                for person in persons {
                    p.insert(person.kundennummer.as_str(), crate::store::to_json(person))?;
                }
                for cw in caseworkers {
                    c.insert(cw.kennung.as_str(), crate::store::to_json(cw))?;
                }
                for absence in absences {
                    a.insert(&absence.id.to_be_bytes(), crate::store::to_json(absence))?;
                }
                for id in removed_absences {
                    a.remove(&id.to_be_bytes())?;
                }
                let next = m
                    .get(GENERATION_KEY)?
                    .and_then(|v| <[u8; 8]>::try_from(&v[..]).ok())
                    .map_or(0, u64::from_be_bytes)
                    + 1;
                m.insert(GENERATION_KEY, &next.to_be_bytes())?;
                Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(crate::store::never_aborted)?;
        db.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bg_numbers_in_every_written_form() {
        let canonical = Some(BgNummer("07450BG0160367".into()));
        assert_eq!(BgNummer::parse("07450BG0160367"), canonical);
        assert_eq!(BgNummer::parse("07450 BG 0160367"), canonical);
        assert_eq!(BgNummer::parse("07450bg0160367"), canonical);
        assert_eq!(BgNummer::parse("07450//0160367"), canonical);
        assert_eq!(BgNummer::parse("07450/0160367"), canonical);
        assert_eq!(BgNummer::parse("0745BG0160367"), None);
        assert_eq!(BgNummer::parse("07450BG016036X"), None);
    }

    #[test]
    fn kundennummern_and_kennungen() {
        assert_eq!(
            Kundennummer::parse("123d456789").unwrap().as_str(),
            "123D456789"
        );
        assert_eq!(Kundennummer::parse("1234456789"), None);
        assert_eq!(
            Kennung::parse(" SB-Husum-2 ").unwrap().as_str(),
            "sb-husum-2"
        );
        assert_eq!(Kennung::parse("klaerung:husum"), None);
    }
}

/// Registries for unit tests, stored in a temporary store like the real ones.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

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
        store
            .registry_trees()
            .apply(store.db(), &persons, caseworkers, absences, &[])
            .unwrap();
        let registry = Registry::load(&store).unwrap();
        (dir, registry)
    }
}
