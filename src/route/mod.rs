//! Routing: which postbox a document goes to, with an explanation a person can
//! check.
//!
//! The responsible caseworker of a BG is the one its members are explicitly
//! assigned to (`sachbearbeiter`), else the one whose surname range at the site
//! covers the surname of its Antragsteller, or, when no applicant is marked, of
//! all its members alike (see [`responsible`]). An absent caseworker's items go
//! to the deputy (and on, if the deputy is absent too). Everything else (no
//! recipient, an ambiguous one, nobody responsible, members pointing to different
//! caseworkers, an unknown caseworker, all deputies away) goes to the clearing
//! postbox of the site where the scan came in.

use crate::model::{
    BgNummer, ClearingReason, DeputyHop, Kennung, Person, PostboxId, Recognition, Responsibility,
    Route,
};
use crate::registry::names::in_range;
use crate::registry::Registry;
use jiff::civil::Date;

/// How far a chain of deputies is followed before giving up.
const MAX_DEPUTY_HOPS: usize = 4;

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
            let reason = ClearingReason::AmbiguousRecipient {
                candidates: candidates.clone(),
            };
            return clearing(scan_site, reason, None);
        }
        Recognition::NotFound { .. } => {
            return clearing(scan_site, ClearingReason::NoRecipient, None)
        }
    };
    let responsible = match responsible(bg, registry) {
        Ok(r) => r,
        Err(reason) => return clearing(scan_site, reason, None),
    };
    if registry.caseworker(responsible.kennung()).is_none() {
        let reason = ClearingReason::UnknownCaseworker {
            bg: bg.clone(),
            kennung: responsible.kennung().clone(),
        };
        return clearing(scan_site, reason, Some(responsible));
    }
    match deputy_chain(registry, responsible.kennung(), today) {
        Ok((present, deputies)) => {
            let mut explanation = format!("BG {bg}: {}", describe(&responsible));
            if !deputies.is_empty() {
                explanation = format!("{explanation}; {}", describe_hops(&deputies));
            }
            Route {
                postbox: PostboxId::Caseworker(present),
                responsible: Some(responsible),
                deputies,
                clearing: None,
                explanation,
            }
        }
        Err(deputies) => {
            let mut route = clearing(
                scan_site,
                ClearingReason::NoDeputyAvailable { bg: bg.clone() },
                Some(responsible),
            );
            route.explanation = format!("{}; {}", route.explanation, describe_hops(&deputies));
            route.deputies = deputies;
            route
        }
    }
}

/// Who works for `kennung` on `today`: themselves if present, else their deputy,
/// or the deputy's deputy, and so on. `Err` with the hops when the chain loops,
/// runs too long or reaches someone unknown.
pub fn deputy_chain(
    registry: &Registry,
    kennung: &Kennung,
    today: Date,
) -> Result<(Kennung, Vec<DeputyHop>), Vec<DeputyHop>> {
    let mut hops: Vec<DeputyHop> = Vec::new();
    let mut current = kennung.clone();
    while let Some(absence) = registry.absence_on(&current, today) {
        let looped = absence.deputy == *kennung || hops.iter().any(|h| h.absent == absence.deputy);
        hops.push(DeputyHop {
            absent: current,
            from: absence.from,
            to: absence.to,
            deputy: absence.deputy.clone(),
        });
        if looped || hops.len() > MAX_DEPUTY_HOPS || registry.caseworker(&absence.deputy).is_none()
        {
            return Err(hops);
        }
        current = absence.deputy.clone();
    }
    Ok((current, hops))
}

/// Everyone absent on `today` whose chain of deputies ends with `me`.
pub fn deputised_by(registry: &Registry, me: &Kennung, today: Date) -> Vec<Kennung> {
    let mut absent: Vec<&Kennung> = registry
        .absences()
        .iter()
        .filter(|a| a.covers(today))
        .map(|a| &a.kennung)
        .collect();
    absent.sort();
    absent.dedup();
    absent
        .into_iter()
        .filter(|k| deputy_chain(registry, k, today).is_ok_and(|(present, _)| &present == me))
        .cloned()
        .collect()
}

/// The caseworker responsible for `bg`, or why nobody is:
///
/// 1. Explicit assignments (`sachbearbeiter`) of its members, if any: they must
///    all name the same caseworker.
/// 2. Otherwise the surname range at the site of its Antragsteller (applicant);
///    for a BG without a known applicant, of every member, and they must agree.
pub fn responsible(bg: &BgNummer, registry: &Registry) -> Result<Responsibility, ClearingReason> {
    let members: Vec<&Person> = registry.members(bg).collect();
    if members.is_empty() {
        return Err(ClearingReason::UnknownBg { bg: bg.clone() });
    }
    let mut explicit: Vec<&Kennung> = members
        .iter()
        .filter_map(|p| p.sachbearbeiter.as_ref())
        .collect();
    explicit.sort();
    explicit.dedup();
    match explicit.as_slice() {
        [kennung] => {
            return Ok(Responsibility::Explicit {
                kennung: (*kennung).clone(),
            })
        }
        [] => {}
        several => {
            let names: Vec<&str> = several.iter().map(|k| k.as_str()).collect();
            let detail = format!(
                "members are assigned to different caseworkers ({})",
                names.join(", ")
            );
            return Err(ClearingReason::MembersDisagree {
                bg: bg.clone(),
                detail,
            });
        }
    }
    let deciding: Vec<&Person> = match registry.applicant(bg) {
        Some(applicant) => vec![applicant],
        None => members,
    };
    let mut found: Vec<Responsibility> = Vec::new();
    for person in deciding {
        let Some(r) = range_of(person, registry) else {
            return Err(ClearingReason::NobodyResponsible { bg: bg.clone() });
        };
        if found.iter().all(|f| f.kennung() != r.kennung()) {
            found.push(r);
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        _ => {
            let names: Vec<String> = found.iter().map(|r| r.kennung().to_string()).collect();
            let detail = format!(
                "no Antragsteller is marked and the members' surnames fall to {}",
                names.join(", ")
            );
            Err(ClearingReason::MembersDisagree {
                bg: bg.clone(),
                detail,
            })
        }
    }
}

/// The one surname range at the person's site covering their surname.
fn range_of(person: &Person, registry: &Registry) -> Option<Responsibility> {
    let mut fitting = registry.caseworkers().flat_map(|cw| {
        cw.assignments
            .iter()
            .filter(|a| {
                a.standort.eq_ignore_ascii_case(&person.standort)
                    && in_range(&person.nachname, &a.von, &a.bis)
            })
            .map(move |a| Responsibility::SurnameRange {
                kennung: cw.kennung.clone(),
                standort: a.standort.clone(),
                von: a.von.clone(),
                bis: a.bis.clone(),
                surname: person.nachname.clone(),
            })
    });
    let first = fitting.next()?;
    // Overlapping ranges are refused at import; should two still fit, nobody is
    // responsible rather than a guessed one.
    fitting.next().is_none().then_some(first)
}

/// A scan behind a Deckblatt that cannot be trusted goes to clearing, whatever
/// its text says: a forged sheet must not route a letter into someone's Akte.
pub fn untrusted_cover_sheet(scan_site: Option<&str>, printed: &str) -> Route {
    let reason = ClearingReason::UntrustedCoverSheet {
        printed: printed.to_string(),
    };
    clearing(scan_site, reason, None)
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
        ClearingReason::UnknownBg { bg } => format!("BG {bg} is not in the registry"),
        ClearingReason::NobodyResponsible { bg } => {
            format!("BG {bg}: no caseworker is responsible")
        }
        ClearingReason::UnknownCaseworker { bg, kennung } => {
            format!("BG {bg}: the registry names caseworker {kennung}, who is not known")
        }
        ClearingReason::NoDeputyAvailable { bg } => {
            format!("BG {bg}: the responsible caseworker and their deputies are absent")
        }
        ClearingReason::MembersDisagree { bg, detail } => format!("BG {bg}: {detail}"),
        ClearingReason::UntrustedCoverSheet { printed } => {
            format!("a Deckblatt for BG {printed:?} whose check value does not match")
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
    use crate::model::{Absence, Method};
    use crate::registry::testing::{caseworker, kennung, person, registry};
    use jiff::civil::date;

    const BG: &str = "07450BG0000001";

    fn absence(id: u64, who: &str, deputy: &str) -> Absence {
        Absence {
            id,
            kennung: kennung(who),
            from: date(2026, 11, 1),
            to: date(2026, 11, 30),
            deputy: kennung(deputy),
        }
    }

    /// One BG (Lea Lange) at husum; sb-a handles L–Z, sb-d A–K; sb-b, sb-c none.
    fn world(absences: &[Absence]) -> (tempfile::TempDir, Registry) {
        let lange = person(BG, "123A456789", "Lea", "Lange", date(1980, 1, 1), "");
        let cws = [
            caseworker("sb-a", &[("L", "Z")]),
            caseworker("sb-b", &[]),
            caseworker("sb-c", &[]),
            caseworker("sb-d", &[("A", "K")]),
        ];
        registry(&[lange], &cws, absences)
    }

    fn identified() -> Recognition {
        Recognition::Identified {
            bg: BgNummer::parse(BG).unwrap(),
            kundennummer: None,
            method: Method::BgNummer,
            matched: BG.into(),
            confidence: 0.99,
        }
    }

    #[test]
    fn deputies_are_followed_and_loops_go_to_clearing() {
        let day = date(2026, 11, 15);
        let (_d, r) = world(&[]);
        assert_eq!(
            route(&identified(), Some("husum"), &r, day)
                .postbox
                .to_string(),
            "sb-a"
        );
        let (_d, r) = world(&[absence(1, "sb-a", "sb-b"), absence(2, "sb-b", "sb-c")]);
        let routed = route(&identified(), Some("husum"), &r, day);
        assert_eq!(routed.postbox.to_string(), "sb-c");
        assert_eq!(routed.deputies.len(), 2);
        assert_eq!(
            route(&identified(), Some("husum"), &r, date(2026, 12, 1))
                .postbox
                .to_string(),
            "sb-a"
        );
        let (_d, r) = world(&[absence(1, "sb-a", "sb-b"), absence(2, "sb-b", "sb-a")]);
        let looped = route(&identified(), Some("husum"), &r, day);
        assert_eq!(looped.postbox.to_string(), "klaerung:husum");
        assert!(matches!(
            looped.clearing,
            Some(ClearingReason::NoDeputyAvailable { .. })
        ));
    }

    #[test]
    fn no_recipient_goes_to_the_clearing_of_the_scan_site() {
        let (_d, r) = world(&[]);
        let none = Recognition::NotFound {
            evidence: Vec::new(),
        };
        assert_eq!(
            route(&none, Some("Föhr"), &r, date(2026, 11, 15))
                .postbox
                .to_string(),
            "klaerung:Föhr"
        );
        assert_eq!(
            route(&none, None, &r, date(2026, 11, 15))
                .postbox
                .to_string(),
            "klaerung"
        );
    }

    #[test]
    fn members_in_different_ranges_need_a_marked_applicant() {
        let bg = BgNummer::parse(BG).unwrap();
        let lange = person(BG, "123A456789", "Lea", "Lange", date(1980, 1, 1), "");
        let albers = person(BG, "123A456780", "Ali", "Albers", date(1981, 1, 1), "");
        let cws = [
            caseworker("sb-a", &[("L", "Z")]),
            caseworker("sb-d", &[("A", "K")]),
        ];
        let (_d, r) = registry(&[lange.clone(), albers.clone()], &cws, &[]);
        assert!(matches!(
            responsible(&bg, &r),
            Err(ClearingReason::MembersDisagree { .. })
        ));
        let marked = Person {
            antragsteller: true,
            ..albers.clone()
        };
        let (_d, r) = registry(&[lange.clone(), marked], &cws, &[]);
        assert_eq!(responsible(&bg, &r).unwrap().kennung().as_str(), "sb-d");
        // Explicit assignments must agree, too.
        let to_a = Person {
            sachbearbeiter: Some(kennung("sb-a")),
            ..lange
        };
        let to_d = Person {
            sachbearbeiter: Some(kennung("sb-d")),
            ..albers
        };
        let (_d, r) = registry(&[to_a, to_d], &cws, &[]);
        assert!(matches!(
            responsible(&bg, &r),
            Err(ClearingReason::MembersDisagree { .. })
        ));
    }

    #[test]
    fn a_surname_that_cannot_be_sorted_goes_to_clearing() {
        let bg = BgNummer::parse(BG).unwrap();
        let greek = person(BG, "123A456789", "Eleni", "Ωμέγα", date(1980, 1, 1), "");
        let (_d, r) = registry(&[greek], &[caseworker("sb-a", &[("A", "Z")])], &[]);
        assert!(matches!(
            responsible(&bg, &r),
            Err(ClearingReason::NobodyResponsible { .. })
        ));
    }
}
