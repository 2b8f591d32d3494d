//! Routing: which postbox a document goes to, with an explanation a person can
//! check.
//!
//! The responsible caseworker of a BG is the explicit `sachbearbeiter` of its head
//! (first member) if the registry names one, else the caseworker whose surname
//! range at the BG's site covers the head's surname. An absent caseworker's items
//! go to the deputy (and on, if the deputy is absent too). Everything else (no
//! recipient, an ambiguous one, nobody responsible, an unknown caseworker, all
//! deputies away) goes to the clearing postbox of the site where the scan came in.

use crate::classify::Recognition;
use crate::postbox::PostboxId;
use crate::registry::names::in_range;
use crate::registry::{BgNummer, Kennung, Registry};
use serde::{Deserialize, Serialize};
use time::Date;

/// How far a chain of deputies is followed before giving up.
const MAX_DEPUTY_HOPS: usize = 4;

/// Why the responsible caseworker is responsible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Responsibility {
    /// The registry names the caseworker for this BG.
    Explicit { kennung: Kennung },
    /// The head's surname falls into the caseworker's range at the BG's site.
    SurnameRange {
        kennung: Kennung,
        standort: String,
        von: String,
        bis: String,
        surname: String,
    },
}

impl Responsibility {
    pub fn kennung(&self) -> &Kennung {
        match self {
            Responsibility::Explicit { kennung } | Responsibility::SurnameRange { kennung, .. } => {
                kennung
            }
        }
    }
}

/// A hop from an absent caseworker to their deputy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeputyHop {
    pub absent: Kennung,
    pub from: Date,
    pub to: Date,
    pub deputy: Kennung,
}

/// Why a document went to clearing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum ClearingReason {
    NoRecipient,
    AmbiguousRecipient {
        candidates: Vec<BgNummer>,
    },
    /// The BG is known, but no caseworker is responsible for it.
    NobodyResponsible {
        bg: BgNummer,
    },
    /// The registry names a caseworker eakte does not know.
    UnknownCaseworker {
        bg: BgNummer,
        kennung: Kennung,
    },
    /// Every deputy in the chain is absent too (or the chain loops).
    NoDeputyAvailable {
        bg: BgNummer,
    },
}

/// Where a document goes and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    pub postbox: PostboxId,
    pub responsible: Option<Responsibility>,
    pub deputies: Vec<DeputyHop>,
    pub clearing: Option<ClearingReason>,
    /// In words, e.g. "surname range L–Z of sb-h2 at site husum".
    pub explanation: String,
}

/// Route a document recognised as `recipient` that came in at `scan_site`.
pub fn route(
    recipient: &Recognition,
    scan_site: Option<&str>,
    registry: &Registry,
    today: Date,
) -> Route {
    let bg = match recipient {
        Recognition::Identified { bg, .. } | Recognition::Assigned { bg, .. } => bg,
        Recognition::Ambiguous { candidates, .. } => {
            return clearing(
                scan_site,
                ClearingReason::AmbiguousRecipient {
                    candidates: candidates.clone(),
                },
                None,
            );
        }
        Recognition::NotFound { .. } => {
            return clearing(scan_site, ClearingReason::NoRecipient, None)
        }
    };
    let Some(responsible) = responsible(bg, registry) else {
        return clearing(
            scan_site,
            ClearingReason::NobodyResponsible { bg: bg.clone() },
            None,
        );
    };
    if registry.caseworker(responsible.kennung()).is_none() {
        let reason = ClearingReason::UnknownCaseworker {
            bg: bg.clone(),
            kennung: responsible.kennung().clone(),
        };
        return clearing(scan_site, reason, Some(responsible));
    }
    let mut deputies: Vec<DeputyHop> = Vec::new();
    let mut current = responsible.kennung().clone();
    while let Some(absence) = registry.absence_on(&current, today) {
        let looped = deputies.iter().any(|h| h.absent == absence.deputy)
            || absence.deputy == *responsible.kennung();
        deputies.push(DeputyHop {
            absent: current.clone(),
            from: absence.from,
            to: absence.to,
            deputy: absence.deputy.clone(),
        });
        if looped
            || deputies.len() > MAX_DEPUTY_HOPS
            || registry.caseworker(&absence.deputy).is_none()
        {
            let mut route = clearing(
                scan_site,
                ClearingReason::NoDeputyAvailable { bg: bg.clone() },
                Some(responsible),
            );
            route.explanation = format!("{}; {}", route.explanation, describe_hops(&deputies));
            route.deputies = deputies;
            return route;
        }
        current = absence.deputy.clone();
    }
    let mut explanation = format!("BG {bg}: {}", describe(&responsible));
    if !deputies.is_empty() {
        explanation = format!("{explanation}; {}", describe_hops(&deputies));
    }
    Route {
        postbox: PostboxId::Caseworker(current),
        responsible: Some(responsible),
        deputies,
        clearing: None,
        explanation,
    }
}

/// The caseworker responsible for `bg`, by the rules in the module comment.
pub fn responsible(bg: &BgNummer, registry: &Registry) -> Option<Responsibility> {
    let head = registry.head(bg)?;
    if let Some(kennung) = &head.sachbearbeiter {
        return Some(Responsibility::Explicit {
            kennung: kennung.clone(),
        });
    }
    let mut fitting = registry.caseworkers().flat_map(|cw| {
        cw.assignments
            .iter()
            .filter(|a| {
                a.standort.eq_ignore_ascii_case(&head.standort)
                    && in_range(&head.nachname, &a.von, &a.bis)
            })
            .map(move |a| Responsibility::SurnameRange {
                kennung: cw.kennung.clone(),
                standort: a.standort.clone(),
                von: a.von.clone(),
                bis: a.bis.clone(),
                surname: head.nachname.clone(),
            })
    });
    let first = fitting.next()?;
    // Overlapping ranges are refused at import; should two still fit, nobody is
    // responsible rather than a guessed one.
    fitting.next().is_none().then_some(first)
}

fn clearing(
    scan_site: Option<&str>,
    reason: ClearingReason,
    responsible: Option<Responsibility>,
) -> Route {
    let postbox = PostboxId::Clearing {
        site: scan_site.map(str::to_string),
    };
    let why = match &reason {
        ClearingReason::NoRecipient => "no recipient recognised".to_string(),
        ClearingReason::AmbiguousRecipient { candidates } => {
            let list: Vec<&str> = candidates.iter().map(BgNummer::as_str).collect();
            format!("recipient ambiguous ({})", list.join(", "))
        }
        ClearingReason::NobodyResponsible { bg } => {
            format!("BG {bg}: no caseworker is responsible")
        }
        ClearingReason::UnknownCaseworker { bg, kennung } => {
            format!("BG {bg}: the registry names caseworker {kennung}, who is not known")
        }
        ClearingReason::NoDeputyAvailable { bg } => {
            format!("BG {bg}: the responsible caseworker and their deputies are absent")
        }
    };
    let site = scan_site.map_or("without site".to_string(), |s| format!("of site {s}"));
    Route {
        postbox,
        responsible,
        deputies: Vec::new(),
        clearing: Some(reason),
        explanation: format!("clearing {site}: {why}"),
    }
}

fn describe(r: &Responsibility) -> String {
    match r {
        Responsibility::Explicit { kennung } => format!("assigned to {kennung} in the registry"),
        Responsibility::SurnameRange {
            kennung,
            standort,
            von,
            bis,
            surname,
        } => {
            format!("surname {surname} in range {von}–{bis} of {kennung} at site {standort}")
        }
    }
}

fn describe_hops(hops: &[DeputyHop]) -> String {
    hops.iter()
        .map(|h| {
            format!(
                "{} absent {} to {}, deputy {}",
                h.absent, h.from, h.to, h.deputy
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{Absence, Assignment, Caseworker, Kundennummer, Person};
    use crate::store::Store;
    use time::macros::date;

    fn kennung(s: &str) -> Kennung {
        Kennung::parse(s).unwrap()
    }

    /// One BG (head "Lange") at husum; sb-a handles L–Z there; absences as given.
    fn registry(absences: &[(&str, &str)]) -> (tempfile::TempDir, Registry) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let person = Person {
            kundennummer: Kundennummer::parse("123A456789").unwrap(),
            bg: BgNummer::parse("07450BG0000001").unwrap(),
            nachname: "Lange".into(),
            vorname: "Lea".into(),
            geburtsdatum: date!(1980 - 01 - 01),
            strasse: String::new(),
            plz: String::new(),
            ort: String::new(),
            standort: "husum".into(),
            sachbearbeiter: None,
            position: 0,
        };
        let caseworkers: Vec<Caseworker> = ["sb-a", "sb-b", "sb-c"]
            .iter()
            .map(|k| Caseworker {
                kennung: kennung(k),
                name: k.to_string(),
                team: None,
                assignments: if *k == "sb-a" {
                    vec![Assignment {
                        standort: "husum".into(),
                        von: "L".into(),
                        bis: "Z".into(),
                    }]
                } else {
                    Vec::new()
                },
            })
            .collect();
        let absences: Vec<Absence> = absences
            .iter()
            .enumerate()
            .map(|(i, (who, deputy))| Absence {
                id: i as u64,
                kennung: kennung(who),
                from: date!(2026 - 11 - 01),
                to: date!(2026 - 11 - 30),
                deputy: kennung(deputy),
            })
            .collect();
        store
            .registry_trees()
            .apply(store.db(), &[person], &caseworkers, &absences, &[])
            .unwrap();
        let registry = Registry::load(&store).unwrap();
        (dir, registry)
    }

    fn identified() -> Recognition {
        Recognition::Identified {
            bg: BgNummer::parse("07450BG0000001").unwrap(),
            kundennummer: None,
            method: crate::classify::Method::BgNummer,
            matched: "07450BG0000001".into(),
            confidence: 0.99,
        }
    }

    #[test]
    fn deputies_are_followed_and_loops_go_to_clearing() {
        let day = date!(2026 - 11 - 15);
        let (_d, r) = registry(&[]);
        assert_eq!(
            route(&identified(), Some("husum"), &r, day)
                .postbox
                .to_string(),
            "sb-a"
        );
        let (_d, r) = registry(&[("sb-a", "sb-b"), ("sb-b", "sb-c")]);
        let routed = route(&identified(), Some("husum"), &r, day);
        assert_eq!(routed.postbox.to_string(), "sb-c");
        assert_eq!(routed.deputies.len(), 2);
        assert_eq!(
            route(&identified(), Some("husum"), &r, date!(2026 - 12 - 01))
                .postbox
                .to_string(),
            "sb-a"
        );
        let (_d, r) = registry(&[("sb-a", "sb-b"), ("sb-b", "sb-a")]);
        let looped = route(&identified(), Some("husum"), &r, day);
        assert_eq!(looped.postbox.to_string(), "klaerung:husum");
        assert!(matches!(
            looped.clearing,
            Some(ClearingReason::NoDeputyAvailable { .. })
        ));
    }

    #[test]
    fn no_recipient_goes_to_the_clearing_of_the_scan_site() {
        let (_d, r) = registry(&[]);
        let none = Recognition::NotFound {
            evidence: Vec::new(),
        };
        assert_eq!(
            route(&none, Some("Föhr"), &r, date!(2026 - 11 - 15))
                .postbox
                .to_string(),
            "klaerung:Föhr"
        );
        assert_eq!(
            route(&none, None, &r, date!(2026 - 11 - 15))
                .postbox
                .to_string(),
            "klaerung"
        );
    }
}
