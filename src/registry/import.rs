//! Importing the registry from CSV exports of the specialist software, and
//! managing absences.
//!
//! A file that cannot be read as a whole (not UTF-8, broken CSV, a missing or
//! unknown column, no valid row at all) changes nothing. Otherwise each row is
//! checked on its own: valid rows are applied in one transaction, rejected ones
//! are named with their line and reason. An import is planned first ([`Plan`],
//! which is all a dry run does) and then applied with the audit entry that
//! records it, in the same transaction.
//!
//! - Recipients are upserted by Kundennummer (a person may move to another BG).
//!   The optional column `antragsteller` (ja/nein) marks a BG's applicant.
//! - Caseworkers are upserted by Kennung, and the file's surname ranges replace
//!   all earlier ones: it is the complete current assignment. Overlapping ranges
//!   at one site are rejected (both rows), so no surname has two caseworkers.

use super::names::range_key;
use super::Registry;
use crate::model::{
    Absence, Assignment, AuditEvent, BgNummer, Caseworker, Kennung, Kundennummer, Person, CLEARING,
};
use crate::progress::{self, Progress};
use crate::store::registry::RegistryChange;
use crate::store::{Store, StoreError};
use jiff::civil::Date;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the file is not UTF-8 (line {line}); export it as UTF-8")]
    NotUtf8 { line: usize },
    #[error("the file is not valid CSV: {0}")]
    Csv(String),
    #[error("the header lacks the column `{0}`")]
    MissingColumn(&'static str),
    #[error("the header has an unknown column `{0}`")]
    UnknownColumn(String),
    #[error("no row of the file is valid; nothing was changed")]
    NoValidRows { rejected: Vec<RejectedRow> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum AbsenceError {
    #[error("caseworker {0} is not known")]
    UnknownCaseworker(Kennung),
    #[error("a caseworker cannot deputise for themselves")]
    SelfDeputy,
    #[error("the absence ends ({to}) before it begins ({from})")]
    EndsBeforeStart { from: Date, to: Date },
    #[error("there is no absence {0}")]
    NotFound(u64),
    #[error("it overlaps absence {0} of the same caseworker; remove that one first")]
    Overlaps(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedRow {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub rejected: Vec<RejectedRow>,
    /// Further remarks (e.g. caseworkers who lost their surname ranges).
    pub notes: Vec<String>,
    /// False for a dry run.
    pub applied: bool,
    /// Valid rows, when the split into added, changed and unchanged is
    /// withheld (see [`ImportReport::withheld`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<usize>,
}

impl ImportReport {
    /// The report of a recipients dry run for an API user: which rows are
    /// valid, not which recipients are already known. Otherwise a one-row
    /// file with a guessed Kundennummer and birth date would confirm, silently
    /// and changing nothing, that this person receives benefits.
    pub fn withheld(self) -> ImportReport {
        let accepted = self.added + self.changed + self.unchanged;
        let mut notes = self.notes;
        notes.push(format!(
            "{accepted} valid row(s); a dry run over the API does not say which recipients \
             are already known (the command line's does)"
        ));
        ImportReport {
            added: 0,
            changed: 0,
            unchanged: 0,
            accepted: Some(accepted),
            notes,
            ..self
        }
    }
}

const RECIPIENT_COLUMNS: &[&str] = &[
    "bg_nummer",
    "kundennummer",
    "nachname",
    "vorname",
    "geburtsdatum",
    "strasse",
    "plz",
    "ort",
    "standort",
];
const CASEWORKER_COLUMNS: &[&str] = &["kennung", "name", "standort", "von", "bis"];

/// A parsed CSV file: rows as column name -> value, with their line numbers.
struct Table {
    rows: Vec<(u64, HashMap<String, String>)>,
}

/// Read a CSV file for one of the imports below.
pub fn read_file(path: &Path) -> Result<Vec<u8>, ImportError> {
    std::fs::read(path).map_err(|source| ImportError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn read_table(
    bytes: &[u8],
    required: &[&'static str],
    optional: &[&str],
) -> Result<Table, ImportError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes); // Excel's BOM
    let text = std::str::from_utf8(bytes).map_err(|e| ImportError::NotUtf8 {
        line: bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1,
    })?;
    // German spreadsheets export with `;`; the specialist software with `,`.
    let header = text.lines().next().unwrap_or("");
    let delimiter = if header.matches(';').count() > header.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ImportError::Csv(e.to_string()))?
        .iter()
        .map(|h| h.to_lowercase())
        .collect();
    for column in required {
        if !headers.iter().any(|h| h == column) {
            return Err(ImportError::MissingColumn(column));
        }
    }
    if let Some(unknown) = headers
        .iter()
        .find(|h| !required.contains(&h.as_str()) && !optional.contains(&h.as_str()))
    {
        return Err(ImportError::UnknownColumn(unknown.clone()));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ImportError::Csv(e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let row = headers
            .iter()
            .cloned()
            .zip(record.iter().map(str::to_string))
            .collect();
        rows.push((line, row));
    }
    Ok(Table { rows })
}

fn field<'a>(row: &'a HashMap<String, String>, name: &str) -> &'a str {
    row.get(name).map_or("", String::as_str)
}

/// An import checked against the store, ready to be applied.
#[derive(Debug)]
pub struct Plan {
    /// What applying it does (`applied` false until it is applied).
    pub report: ImportReport,
    persons: Vec<Person>,
    caseworkers: Vec<Caseworker>,
}

impl Plan {
    /// The persons the plan writes, as they will be.
    pub fn persons(&self) -> &[Person] {
        &self.persons
    }

    /// Apply the plan and append `audit` in one transaction; returns the
    /// report. `settles`: the pending access change this carries out.
    pub fn apply(
        self,
        store: &Store,
        settles: Option<u64>,
        audit: &[AuditEvent],
        progress: &dyn Progress,
    ) -> Result<ImportReport, StoreError> {
        let records = (self.persons.len() + self.caseworkers.len()) as u64;
        progress.update("records written", 0, records);
        let change = RegistryChange {
            persons: &self.persons,
            caseworkers: &self.caseworkers,
            settles,
            ..RegistryChange::default()
        };
        store.registry().apply(&change, audit)?;
        progress.update("records written", records, records);
        Ok(ImportReport {
            applied: true,
            ..self.report
        })
    }
}

/// Plan the import of recipients from CSV `bytes` (see the module comment).
pub fn plan_recipients(
    store: &Store,
    bytes: &[u8],
    progress: &dyn Progress,
) -> Result<Plan, ImportError> {
    let table = read_table(
        bytes,
        RECIPIENT_COLUMNS,
        &["sachbearbeiter", "antragsteller"],
    )?;
    let existing: HashMap<Kundennummer, Person> = store
        .registry()
        .persons()?
        .into_iter()
        .map(|p| (p.kundennummer.clone(), p))
        .collect();
    let mut next_position = existing.values().map(|p| p.position + 1).max().unwrap_or(0);
    let mut report = ImportReport::default();
    let mut seen: HashMap<Kundennummer, u64> = HashMap::new();
    let mut upserts = Vec::new();
    let mut applicants: HashMap<BgNummer, u64> = HashMap::new();
    let today = crate::clock::today();
    let rows = table.rows.len() as u64;
    for (n, (line, row)) in table.rows.iter().enumerate() {
        progress::every(progress, "rows checked", n as u64, rows, 1000);
        let checked = person_from(row, today).and_then(|p| {
            if let Some(first) = seen.get(&p.kundennummer) {
                return Err(format!(
                    "Kundennummer {} already appears in line {first}",
                    p.kundennummer
                ));
            }
            match applicants.get(&p.bg) {
                Some(first) if p.antragsteller => Err(format!(
                    "BG {} already has its Antragsteller in line {first}",
                    p.bg
                )),
                _ => Ok(p),
            }
        });
        let person = match checked {
            Ok(p) => p,
            Err(reason) => {
                report.rejected.push(RejectedRow {
                    line: *line,
                    reason,
                });
                continue;
            }
        };
        seen.insert(person.kundennummer.clone(), *line);
        if person.antragsteller {
            applicants.insert(person.bg.clone(), *line);
        }
        let person = match existing.get(&person.kundennummer) {
            Some(old) => {
                let person = Person {
                    position: old.position,
                    ..person
                };
                if &person == old {
                    report.unchanged += 1;
                    continue;
                }
                report.changed += 1;
                person
            }
            None => {
                report.added += 1;
                next_position += 1;
                Person {
                    position: next_position - 1,
                    ..person
                }
            }
        };
        upserts.push(person);
    }
    progress.update("rows checked", rows, rows);
    plan(report, &table, upserts, Vec::new())
}

/// A yes/no cell as the specialist software or a spreadsheet writes it; empty is no.
fn yes_no(cell: &str) -> Option<bool> {
    match cell.to_lowercase().as_str() {
        "" | "nein" | "n" | "no" | "false" | "0" => Some(false),
        "ja" | "j" | "yes" | "y" | "true" | "1" | "x" => Some(true),
        _ => None,
    }
}

fn person_from(row: &HashMap<String, String>, today: Date) -> Result<Person, String> {
    let bg = field(row, "bg_nummer");
    let bg = BgNummer::parse(bg)
        .ok_or_else(|| format!("bg_nummer {bg:?} is not like 07450BG0160367"))?;
    let k = field(row, "kundennummer");
    let kundennummer = Kundennummer::parse(k)
        .ok_or_else(|| format!("kundennummer {k:?} is not like 123D456789"))?;
    let required = |name: &str| {
        let v = field(row, name);
        if v.is_empty() {
            Err(format!("{name} is empty"))
        } else {
            Ok(v.to_string())
        }
    };
    let d = field(row, "geburtsdatum");
    let geburtsdatum = crate::timefmt::parse_date(d)
        .filter(|d| d.year() >= 1900 && *d <= today)
        .ok_or_else(|| {
            format!("geburtsdatum {d:?} is not a past date like 1980-03-04 or 04.03.1980")
        })?;
    let plz = field(row, "plz");
    let five_digits = plz.len() == 5 && plz.bytes().all(|b| b.is_ascii_digit());
    if !plz.is_empty() && !five_digits {
        return Err(format!("plz {plz:?} is not five digits"));
    }
    let sb = field(row, "sachbearbeiter");
    let sachbearbeiter = match sb {
        "" => None,
        sb => Some(Kennung::check(sb).map_err(|e| format!("sachbearbeiter: {e}"))?),
    };
    Ok(Person {
        kundennummer,
        bg,
        nachname: required("nachname")?,
        vorname: required("vorname")?,
        geburtsdatum,
        strasse: field(row, "strasse").to_string(),
        plz: plz.to_string(),
        ort: field(row, "ort").to_string(),
        standort: required("standort")?,
        sachbearbeiter,
        antragsteller: yes_no(field(row, "antragsteller")).ok_or_else(|| {
            format!(
                "antragsteller {:?} is not ja/nein",
                field(row, "antragsteller")
            )
        })?,
        position: 0,
    })
}

/// Plan the import of caseworkers and their surname ranges from CSV `bytes`
/// (see the module comment).
pub fn plan_caseworkers(
    store: &Store,
    bytes: &[u8],
    progress: &dyn Progress,
) -> Result<Plan, ImportError> {
    let table = read_table(bytes, CASEWORKER_COLUMNS, &["team"])?;
    let mut report = ImportReport::default();
    // Valid rows: line, kennung, name, team, assignment.
    let mut valid: Vec<(u64, Kennung, String, Option<String>, Assignment)> = Vec::new();
    let rows = table.rows.len() as u64;
    for (n, (line, row)) in table.rows.iter().enumerate() {
        progress::every(progress, "rows checked", n as u64, rows, 1000);
        match assignment_from(row) {
            Ok(v) => valid.push((*line, v.0, v.1, v.2, v.3)),
            Err(reason) => report.rejected.push(RejectedRow {
                line: *line,
                reason,
            }),
        }
    }
    // One name per Kennung; no overlapping ranges at one site.
    let mut names: HashMap<Kennung, (u64, String)> = HashMap::new();
    let mut bad: BTreeMap<u64, String> = BTreeMap::new();
    for (line, kennung, name, _, _) in &valid {
        match names.get(kennung) {
            Some((first, other)) if other != name => {
                bad.insert(
                    *line,
                    format!("{kennung} is called {other:?} in line {first}"),
                );
            }
            Some(_) => {}
            None => {
                names.insert(kennung.clone(), (*line, name.clone()));
            }
        }
    }
    for (i, (l1, k1, _, _, a1)) in valid.iter().enumerate() {
        for (l2, k2, _, _, a2) in &valid[i + 1..] {
            if a1.standort.eq_ignore_ascii_case(&a2.standort) && overlap(a1, a2) {
                let why = |line, k: &Kennung, a: &Assignment| {
                    format!(
                        "range {}–{} at {} overlaps {k}'s {}–{} in line {line}",
                        a.von, a.bis, a.standort, a.von, a.bis
                    )
                };
                bad.entry(*l1).or_insert_with(|| why(*l2, k2, a1));
                bad.entry(*l2).or_insert_with(|| why(*l1, k1, a2));
            }
        }
    }
    report
        .rejected
        .extend(bad.iter().map(|(&line, reason)| RejectedRow {
            line,
            reason: reason.clone(),
        }));
    report.rejected.sort_by_key(|r| r.line);

    let mut new: BTreeMap<Kennung, Caseworker> = BTreeMap::new();
    for (line, kennung, name, team, assignment) in valid {
        if bad.contains_key(&line) {
            continue;
        }
        let cw = new.entry(kennung.clone()).or_insert_with(|| Caseworker {
            kennung,
            name,
            team: None,
            assignments: Vec::new(),
        });
        cw.team = cw.team.take().or(team);
        cw.assignments.push(assignment);
    }
    progress.update("rows checked", rows, rows);
    let existing = store.registry().caseworkers()?;
    let mut upserts: Vec<Caseworker> = Vec::new();
    for old in &existing {
        if !new.contains_key(&old.kennung) && !old.assignments.is_empty() {
            report.notes.push(format!(
                "{} is not in the file and no longer has surname ranges",
                old.kennung
            ));
            upserts.push(Caseworker {
                assignments: Vec::new(),
                ..old.clone()
            });
        }
    }
    for cw in new.into_values() {
        match existing.iter().find(|o| o.kennung == cw.kennung) {
            Some(old) if *old == cw => report.unchanged += 1,
            Some(_) => report.changed += 1,
            None => report.added += 1,
        }
        upserts.push(cw);
    }
    plan(report, &table, Vec::new(), upserts)
}

type ParsedAssignment = (Kennung, String, Option<String>, Assignment);

fn assignment_from(row: &HashMap<String, String>) -> Result<ParsedAssignment, String> {
    let k = field(row, "kennung");
    let kennung = Kennung::check(k).map_err(|e| format!("kennung: {e}"))?;
    if kennung.as_str() == CLEARING {
        return Err(format!(
            "kennung {k:?} is the name of the clearing postboxes and cannot be a caseworker's"
        ));
    }
    let name = field(row, "name");
    let standort = field(row, "standort");
    if name.is_empty() || standort.is_empty() {
        return Err("name and standort must not be empty".into());
    }
    let (von, bis) = (field(row, "von"), field(row, "bis"));
    let letters = |s: &str| !s.is_empty() && s.chars().all(char::is_alphabetic);
    if !letters(von) || !letters(bis) {
        return Err(format!(
            "von {von:?} and bis {bis:?} must be initial letters, like A and K"
        ));
    }
    let (Some(from), Some(to)) = (range_key(von), range_key(bis)) else {
        return Err(format!("von {von:?} and bis {bis:?} must be Latin letters"));
    };
    if from > to {
        return Err(format!("von {von:?} comes after bis {bis:?}"));
    }
    let team = Some(field(row, "team").to_string()).filter(|t| !t.is_empty());
    let assignment = Assignment {
        standort: standort.to_string(),
        von: von.to_string(),
        bis: bis.to_string(),
    };
    Ok((kennung, name.to_string(), team, assignment))
}

/// Whether some surname falls into both ranges: compare each range as the span
/// from its lower bound to its upper bound followed by any letters.
fn overlap(a: &Assignment, b: &Assignment) -> bool {
    let span = |x: &Assignment| {
        (
            range_key(&x.von).unwrap_or_default(),
            format!(
                "{}{}",
                range_key(&x.bis).unwrap_or_default(),
                "Z".repeat(32)
            ),
        )
    };
    let ((lo1, hi1), (lo2, hi2)) = (span(a), span(b));
    lo1 <= hi2 && lo2 <= hi1
}

fn plan(
    report: ImportReport,
    table: &Table,
    persons: Vec<Person>,
    caseworkers: Vec<Caseworker>,
) -> Result<Plan, ImportError> {
    if report.rejected.len() == table.rows.len() {
        return Err(ImportError::NoValidRows {
            rejected: report.rejected,
        });
    }
    Ok(Plan {
        report,
        persons,
        caseworkers,
    })
}

/// A new absence, as an admin enters it.
#[derive(Debug, Clone)]
pub struct NewAbsence {
    pub kennung: Kennung,
    pub from: Date,
    pub to: Date,
    pub deputy: Kennung,
}

/// Whether `new` may be recorded: both caseworkers known, not their own
/// deputy, in order, not overlapping another absence of the same caseworker.
pub fn check_absence(registry: &Registry, new: &NewAbsence) -> Result<(), AbsenceError> {
    let NewAbsence {
        kennung,
        from,
        to,
        deputy,
    } = new;
    let (from, to) = (*from, *to);
    for k in [kennung, deputy] {
        registry
            .caseworker(k)
            .ok_or_else(|| AbsenceError::UnknownCaseworker(k.clone()))?;
    }
    if kennung == deputy {
        return Err(AbsenceError::SelfDeputy);
    }
    if to < from {
        return Err(AbsenceError::EndsBeforeStart { from, to });
    }
    // One deputy per day: overlapping absences of one caseworker are refused.
    if let Some(other) = registry
        .absences()
        .iter()
        .find(|a| &a.kennung == kennung && a.from <= to && from <= a.to)
    {
        return Err(AbsenceError::Overlaps(other.id));
    }
    Ok(())
}

/// Record an absence and append `audit` in one transaction; returns it with its id.
pub fn add_absence(
    store: &Store,
    registry: &Registry,
    new: NewAbsence,
    settles: Option<u64>,
    audit: &[AuditEvent],
) -> Result<Absence, AbsenceError> {
    check_absence(registry, &new)?;
    let NewAbsence {
        kennung,
        from,
        to,
        deputy,
    } = new;
    let absence = Absence {
        id: store.generate_id()?,
        kennung,
        from,
        to,
        deputy,
    };
    let change = RegistryChange {
        absences: std::slice::from_ref(&absence),
        settles,
        ..RegistryChange::default()
    };
    store.registry().apply(&change, audit)?;
    Ok(absence)
}

/// Remove an absence by id and append `audit` in one transaction; returns
/// what was removed.
pub fn remove_absence(
    store: &Store,
    id: u64,
    audit: &[AuditEvent],
) -> Result<Absence, AbsenceError> {
    let absence = store
        .registry()
        .absences()?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(AbsenceError::NotFound(id))?;
    let change = RegistryChange {
        removed_absences: &[id],
        ..RegistryChange::default()
    };
    store.registry().apply(&change, audit)?;
    Ok(absence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;

    type Planner = fn(&Store, &[u8], &dyn Progress) -> Result<Plan, ImportError>;

    fn import(store: &Store, planner: Planner, csv: &str) -> ImportReport {
        planner(store, csv.as_bytes(), &Silent)
            .unwrap()
            .apply(store, None, &[], &Silent)
            .unwrap()
    }

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const HEADER: &str = "bg_nummer,kundennummer,nachname,vorname,geburtsdatum,strasse,plz,ort,standort,sachbearbeiter\n";

    #[test]
    fn recipients_are_upserted_and_bad_rows_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let csv = format!(
            "{HEADER}07450BG0000001,111A111111,Petersen,Jens,04.03.1980,Norderstraße 12,25813,Husum,husum,\n\
             07450BG0000001,111A111112,Petersen,Anke,1982-07-01,Norderstraße 12,25813,Husum,husum,\n\
             07450BG00001,111A111113,Broken,Bob,1990-01-01,,,,husum,\n\
             07450BG0000002,111A111114,Jansen,Jan,31.02.1990,,,,husum,\n\
             07450BG0000003,111A111111,Dup,Dora,1990-01-01,,,,husum,\n"
        );
        let report = import(&store, plan_recipients, &csv);
        assert_eq!((report.added, report.changed, report.unchanged), (2, 0, 0));
        let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![4, 5, 6], "{:?}", report.rejected);
        assert!(report.rejected[0].reason.contains("bg_nummer"));
        assert!(report.rejected[1].reason.contains("geburtsdatum"));
        assert!(report.rejected[2]
            .reason
            .contains("already appears in line 2"));

        let moved = format!("{HEADER}07450BG0000009,111A111112,Petersen,Anke,1982-07-01,Markt 1,25813,Husum,husum,sb-h1\n");
        let report = import(&store, plan_recipients, &moved);
        assert_eq!((report.added, report.changed), (0, 1));
        let registry = Registry::load(&store).unwrap();
        assert_eq!(
            registry
                .members(&BgNummer::parse("07450BG0000001").unwrap())
                .next()
                .unwrap()
                .vorname,
            "Jens"
        );
        assert_eq!(
            registry
                .members(&BgNummer::parse("07450BG0000009").unwrap())
                .count(),
            1
        );
    }

    #[test]
    fn a_bad_file_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let missing = write(
            dir.path(),
            "m.csv",
            "bg_nummer,kundennummer\n07450BG0000001,111A111111\n",
        );
        assert!(matches!(
            plan_recipients(&store, &read_file(&missing).unwrap(), &Silent),
            Err(ImportError::MissingColumn("nachname"))
        ));
        let latin1 = dir.path().join("l.csv");
        std::fs::write(
            &latin1,
            [
                HEADER.as_bytes(),
                b"07450BG0000001,111A111111,M\xfcller,A,1990-01-01,,,,husum,\n",
            ]
            .concat(),
        )
        .unwrap();
        assert!(matches!(
            plan_recipients(&store, &read_file(&latin1).unwrap(), &Silent),
            Err(ImportError::NotUtf8 { line: 2 })
        ));
        let all_bad = write(
            dir.path(),
            "b.csv",
            &format!("{HEADER}x,y,z,a,b,,,,husum,\n"),
        );
        assert!(matches!(
            plan_recipients(&store, &read_file(&all_bad).unwrap(), &Silent),
            Err(ImportError::NoValidRows { .. })
        ));
        assert!(Registry::load(&store).unwrap().persons().is_empty());
        assert_eq!(store.registry().generation().unwrap(), 0);
    }

    #[test]
    fn a_kennung_with_an_umlaut_is_rejected_saying_what_a_kennung_may_hold() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let csv = "kennung,name,standort,von,bis\ntön-sb1,Tönnies,Tönning,A,Z\ntoen-sb2,Toensen,Tönning,A,Z\n";
        let plan = plan_caseworkers(&store, csv.as_bytes(), &Silent).unwrap();
        let rejected = &plan.report.rejected;
        assert_eq!(rejected.len(), 1, "{rejected:?}");
        let reason = &rejected[0].reason;
        assert!(
            reason.contains("'ö'") && reason.contains("a–z") && reason.contains("toen-sb1"),
            "{reason}"
        );
    }

    #[test]
    fn caseworker_ranges_must_not_overlap() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let csv = "kennung;name;standort;von;bis;team\n\
                   sb-h1;Hansen;husum;A;K;Team 1\n\
                   sb-h2;Lorenzen;husum;L;Z;Team 1\n\
                   sb-h3;Meier;husum;Sch;Sz;\n\
                   sb-n1;Nissen;niebuell;A;Z;\n";
        let report = import(&store, plan_caseworkers, csv);
        assert_eq!(report.added, 2, "{report:?}");
        let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![3, 4]);
        let registry = Registry::load(&store).unwrap();
        assert_eq!(
            registry
                .caseworker(&Kennung::parse("sb-h1").unwrap())
                .unwrap()
                .team
                .as_deref(),
            Some("Team 1")
        );
    }
}
