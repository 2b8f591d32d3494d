//! Recipients, document types and routing, end to end through the real binary:
//! a registry of a few dozen people at three sites, caseworkers with surname
//! ranges, an absence, and letters of every type with every identifier style
//! (and none), OCR noise in numbers, people not in the registry and namesakes.
//! Every letter is asserted to land in one expected postbox, and no item may sit
//! with a caseworker who is not responsible for its BG.

mod common;

use common::scanmaker::{self, Pose, Raster};
use common::{stderr, stdout, Sandbox};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// bg, kundennummer, nachname, vorname, geburtsdatum, strasse, plz, ort, standort, sachbearbeiter
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const PEOPLE: &[Row] = &[
    (
        "07450BG0000101",
        "101A000001",
        "Petersen",
        "Jens",
        "04.03.1980",
        "Norderstraße 12",
        "25813",
        "Husum",
        "husum",
        "",
    ),
    (
        "07450BG0000101",
        "101A000002",
        "Petersen",
        "Anke",
        "1982-07-01",
        "Norderstraße 12",
        "25813",
        "Husum",
        "husum",
        "",
    ),
    (
        "07450BG0000102",
        "102B000001",
        "Albers",
        "Maria",
        "1975-05-20",
        "Süderstraße 3",
        "25813",
        "Husum",
        "husum",
        "",
    ),
    (
        "07450BG0000103",
        "103C000001",
        "Öztürk",
        "Mehmet",
        "1990-11-11",
        "Am Dreieck 7",
        "25813",
        "Husum",
        "husum",
        "",
    ),
    // A namesake of Jens Petersen above, in another BG.
    (
        "07450BG0000104",
        "104D000001",
        "Petersen",
        "Jens",
        "1965-01-15",
        "Schlossgang 2",
        "25813",
        "Husum",
        "husum",
        "",
    ),
    // Explicitly assigned to sb-h2 although K falls into sb-h1's range.
    (
        "07450BG0000105",
        "105E000001",
        "Kühl",
        "Karin",
        "1970-02-02",
        "Großstraße 9",
        "25813",
        "Husum",
        "husum",
        "sb-h2",
    ),
    (
        "07450BG0000106",
        "106F000001",
        "Lorenzen",
        "Lars",
        "1985-06-30",
        "Neustadt 4",
        "25813",
        "Husum",
        "husum",
        "",
    ),
    (
        "07450BG0000107",
        "107G000001",
        "Zielke",
        "Zora",
        "1999-09-09",
        "Herzog-Adolf-Straße 1",
        "25813",
        "Husum",
        "husum",
        "",
    ),
    // Two Kundennummern an OCR-misread letter position cannot tell apart.
    (
        "07450BG0000108",
        "108D000001",
        "Hinrichsen",
        "Hilde",
        "1968-12-24",
        "Wasserreihe 5",
        "25813",
        "Husum",
        "husum",
        "",
    ),
    (
        "07450BG0000109",
        "108Q000001",
        "Ingwersen",
        "Ingo",
        "1972-10-10",
        "Wasserreihe 7",
        "25813",
        "Husum",
        "husum",
        "",
    ),
    // Members with surnames in different ranges: the marked Antragsteller decides.
    (
        "07450BG0000110",
        "110A000001",
        "Ulrich",
        "Uwe",
        "1979-04-04",
        "Hafenstraße 3",
        "25813",
        "Husum",
        "husum",
        "",
    ),
    (
        "07450BG0000110",
        "110B000001",
        "Carstens",
        "Carla",
        "1981-05-05",
        "Hafenstraße 3",
        "25813",
        "Husum",
        "husum",
        "",
    ),
    (
        "07451BG0000201",
        "201A000001",
        "Nissen",
        "Nils",
        "1960-04-04",
        "Hauptstraße 1",
        "25899",
        "Niebüll",
        "niebuell",
        "",
    ),
    (
        "07451BG0000202",
        "202B000001",
        "Bahnsen",
        "Berit",
        "1988-08-08",
        "Gather Landstraße 5",
        "25899",
        "Niebüll",
        "niebuell",
        "",
    ),
    (
        "07452BG0000301",
        "301A000001",
        "Arfsten",
        "Ark",
        "1977-07-07",
        "Große Straße 1",
        "25938",
        "Wyk auf Föhr",
        "Föhr",
        "",
    ),
    // Föhr's only caseworker handles A–M: nobody is responsible for R.
    (
        "07452BG0000302",
        "302B000001",
        "Rörden",
        "Rieke",
        "1983-03-03",
        "Mittelstraße 2",
        "25938",
        "Wyk auf Föhr",
        "Föhr",
        "",
    ),
];

/// More people, so that recognition has distractors to get wrong.
const FILLER_SURNAMES: &[&str] = &[
    "Jensen",
    "Thomsen",
    "Paulsen",
    "Christiansen",
    "Ketelsen",
    "Lützen",
    "Matthiesen",
    "Jacobsen",
    "Feddersen",
    "Sönnichsen",
    "Boysen",
    "Clausen",
    "Momsen",
    "Rickmers",
    "Hansen",
    "Carstensen",
    "Asmussen",
    "Brodersen",
];

/// First names shared with the letters' senders, so that names alone mislead.
const FILLER_FIRST_NAMES: &[&str] = &["Jens", "Maria", "Lars", "Zora", "Anke", "Nils", "Hilde"];

const CASEWORKERS: &str = "kennung,name,standort,von,bis,team\n\
    sb-h1,Hanna Hansen,husum,A,K,Husum 1\n\
    sb-h2,Lena Lorenzen,husum,L,Z,Husum 1\n\
    sb-h3,Tom Thomsen,toenning,A,Z,Tönning\n\
    sb-n1,Nils Nommensen,niebuell,A,Z,Niebüll\n\
    sb-f1,Frauke Friedrichsen,Föhr,A,M,Inseln\n";

/// Kundennummern of the members marked as their BG's Antragsteller.
const APPLICANTS: &[&str] = &["110B000001"];

fn registry_csv() -> String {
    let mut csv =
        "bg_nummer,kundennummer,nachname,vorname,geburtsdatum,strasse,plz,ort,standort,sachbearbeiter,antragsteller\n"
            .to_string();
    for p in PEOPLE {
        let applicant = if APPLICANTS.contains(&p.1) { "ja" } else { "" };
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{applicant}\n",
            p.0, p.1, p.2, p.3, p.4, p.5, p.6, p.7, p.8, p.9
        ));
    }
    for (i, surname) in FILLER_SURNAMES.iter().enumerate() {
        let site = ["husum", "niebuell", "Föhr"][i % 3];
        let office = ["07450", "07451", "07452"][i % 3];
        csv.push_str(&format!(
            "{office}BG{:07},{:03}X{:06},{surname},{},{:02}.0{}.19{}5,Weg {i},25{:03},Ort,{site},,\n",
            500 + i,
            500 + i,
            i,
            FILLER_FIRST_NAMES[i % FILLER_FIRST_NAMES.len()],
            1 + i % 27,
            1 + i % 9,
            5 + i % 4,
            800 + i
        ));
    }
    csv
}

/// The responsible caseworker by the fixture's own rules, worked out here
/// independently of eakte: explicit assignment, else the first letter's range.
fn responsible(bg: &str, absent: Option<(&str, &str)>) -> Option<String> {
    let members: Vec<&Row> = PEOPLE.iter().filter(|p| p.0 == bg).collect();
    let head = members
        .iter()
        .find(|p| APPLICANTS.contains(&p.1))
        .or(members.first())?;
    let by_range = || {
        let first = head.2.chars().next()?;
        let letter = match first {
            'Ä' => 'A',
            'Ö' => 'O',
            'Ü' => 'U',
            c => c,
        };
        match (head.8, letter) {
            ("husum", 'A'..='K') => Some("sb-h1"),
            ("husum", 'L'..='Z') => Some("sb-h2"),
            ("niebuell", _) => Some("sb-n1"),
            ("Föhr", 'A'..='M') => Some("sb-f1"),
            _ => None,
        }
    };
    let kennung = if head.9.is_empty() {
        by_range()?.to_string()
    } else {
        head.9.to_string()
    };
    Some(match absent {
        Some((who, deputy)) if who == kennung => deputy.to_string(),
        _ => kennung,
    })
}

struct Letter {
    file: &'static str,
    site: Option<&'static str>,
    lines: Vec<String>,
    /// Scanned and OCRed instead of born-digital.
    scanned: bool,
    postbox: &'static str,
    doc_type: &'static str,
    bg: Option<&'static str>,
    method: Option<&'static str>,
}

fn letter(
    file: &'static str,
    site: Option<&'static str>,
    body: &[&str],
    expect: (
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    ),
) -> Letter {
    let mut lines = vec![
        "An das Jobcenter Kreis Nordfriesland".to_string(),
        String::new(),
    ];
    lines.extend(body.iter().map(|s| s.to_string()));
    lines.extend(["".to_string(), "Mit freundlichen Grüßen".to_string()]);
    Letter {
        file,
        site,
        lines,
        scanned: false,
        postbox: expect.0,
        doc_type: expect.1,
        bg: expect.2,
        method: expect.3,
    }
}

fn batch_before_absence() -> Vec<Letter> {
    let husum = Some("husum");
    vec![
        letter("01.pdf", husum, &[
            "Jens Petersen, Norderstraße 12, 25813 Husum",
            "BG-Nr.: 07450BG0000101",
            "Hiermit lege ich Widerspruch gegen den Bescheid vom 02.11.2026 ein.",
        ], ("sb-h2", "Widerspruch", Some("07450BG0000101"), Some("bg_nummer"))),
        letter("02.pdf", husum, &[
            "Maria Albers, Kundennummer 102B000001",
            "anbei meine Arbeitsunfähigkeitsbescheinigung. Ich bin krankgeschrieben bis 30.11.2026.",
        ], ("sb-h1", "Arbeitsunfähigkeitsbescheinigung", Some("07450BG0000102"), Some("kundennummer"))),
        letter("03.pdf", husum, &[
            "Nummer der Bedarfsgemeinschaft 07450 BG 0000103",
            "Anbei die Mietbescheinigung meines Vermieters, Grundmiete 410 Euro.",
        ], ("sb-h2", "Mietbescheinigung / Mietvertrag", Some("07450BG0000103"), Some("bg_nummer"))),
        letter("04.pdf", Some("niebuell"), &[
            "Ihr Zeichen: 07451//0000201",
            "Anbei mein Kontoauszug Nr. 11 mit altem Kontostand und Buchungstag.",
        ], ("sb-n1", "Kontoauszug", Some("07451BG0000201"), Some("bg_nummer"))),
        Letter {
            scanned: true,
            ..letter("05.png", husum, &[
                // The printed number has a letter O where a zero belongs, as OCR reads it.
                "BG-Nr. 07450BG00001O6",
                "Anbei die Betriebskostenabrechnung für den Abrechnungszeitraum 2025.",
            ], ("sb-h2", "Betriebs- und Heizkostenabrechnung", Some("07450BG0000106"), None))
        },
        letter("06.pdf", husum, &[
            "Kundennummer: 1O5E000001",
            "Meine Entgeltabrechnung für Oktober, Gesamtbrutto 1.200,00 Euro, Auszahlungsbetrag 940,00 Euro.",
        ], ("sb-h2", "Lohn- / Entgeltabrechnung", Some("07450BG0000105"), Some("kundennummer_ocr_corrected"))),
        Letter {
            scanned: true,
            ..letter("07.png", husum, &[
                "Zora Zielke, geboren am 09.09.1999",
                "Antrag auf Weiterbewilligung der Leistungen ab Januar.",
            ], ("sb-h2", "Weiterbewilligungsantrag", Some("07450BG0000107"), Some("name_and_birth_date")))
        },
        letter("08.pdf", husum, &[
            "Lars Lorenzen",
            "Neustadt 4",
            "25813 Husum",
            "Veränderungsmitteilung: ich habe eine neue Bankverbindung.",
        ], ("sb-h2", "Veränderungsmitteilung", Some("07450BG0000106"), Some("name_and_address"))),
        letter("09.pdf", husum, &[
            "Jens Petersen, Norderstraße 12, 25813 Husum",
            "Ich bitte um Zusicherung für den Umzug in eine neue Wohnung.",
        ], ("sb-h2", "Umzug / Zusicherung", Some("07450BG0000101"), Some("name_and_address"))),
        // A namesake without birth date or address: never guessed.
        letter("10.pdf", husum, &[
            "Jens Petersen",
            "Ich bitte um Rückruf wegen meines Termins.",
        ], ("klaerung:husum", "Sonstiges", None, None)),
        letter("11.pdf", husum, &[
            "BG-Nr. 07450BG0000101 und BG-Nr. 07450BG0000102",
            "Widerspruch gegen den Bescheid.",
        ], ("klaerung:husum", "Widerspruch", None, None)),
        letter("12.pdf", husum, &[
            "Hauke Haien, geb. 01.01.1950, Deichstraße 1, 25813 Husum",
            "Ich beantrage Leistungen.",
        ], ("klaerung:husum", "Sonstiges", None, None)),
        letter("13.pdf", husum, &[
            "BG-Nr. 07450BG9999999",
            "Anbei die Mietbescheinigung.",
        ], ("klaerung:husum", "Mietbescheinigung / Mietvertrag", None, None)),
        letter("14.pdf", Some("Föhr"), &[
            "BG-Nr. 07452BG0000302",
            "Mein Mietvertrag für die neue Wohnung.",
        ], ("klaerung:Föhr", "Mietbescheinigung / Mietvertrag", Some("07452BG0000302"), Some("bg_nummer"))),
        letter("15.pdf", Some("Föhr"), &[
            "BG-Nr. 07452BG0000301",
            "Vielen Dank für die schnelle Bearbeitung.",
        ], ("sb-f1", "Sonstiges", Some("07452BG0000301"), Some("bg_nummer"))),
        // "0" in the letter position fits 108D… and 108Q… alike.
        letter("16.pdf", husum, &[
            "Kundennummer 1080000001",
            "Anbei meine Lohnabrechnung.",
        ], ("klaerung:husum", "Lohn- / Entgeltabrechnung", None, None)),
        letter(
            "18.pdf",
            husum,
            &["BG-Nr. 07450BG0000110", "Kontoauszug mit neuem Saldo."],
            ("sb-h1", "Kontoauszug", Some("07450BG0000110"), Some("bg_nummer")),
        ),
        letter("17.pdf", None, &["Ohne jede Angabe zur Person."], ("klaerung", "Sonstiges", None, None)),
    ]
}

fn batch_after_absence() -> Vec<Letter> {
    vec![
        letter(
            "21.pdf",
            Some("husum"),
            &[
                "Hilde Hinrichsen, Kundennummer 108D000001",
                "Anbei meine AU-Bescheinigung.",
            ],
            (
                "sb-h3",
                "Arbeitsunfähigkeitsbescheinigung",
                Some("07450BG0000108"),
                Some("kundennummer"),
            ),
        ),
        letter(
            "22.pdf",
            Some("husum"),
            &["Kundennummer 105E000001", "Kontoauszug mit neuem Saldo."],
            (
                "sb-h2",
                "Kontoauszug",
                Some("07450BG0000105"),
                Some("kundennummer"),
            ),
        ),
    ]
}

fn write_letters(dir: &Path, letters: &[Letter]) -> Vec<PathBuf> {
    letters
        .iter()
        .map(|l| {
            let pdf = scanmaker::text_pdf(std::slice::from_ref(&l.lines), Pose::Upright);
            let bytes = if l.scanned {
                scanmaker::rasterise(&pdf, 200, Raster::Png).remove(0)
            } else {
                pdf
            };
            let path = dir.join(l.file);
            scanmaker::put(&path, &bytes);
            path
        })
        .collect()
}

/// Ingest letters grouped by site; returns document id per file name.
fn ingest(sb: &Sandbox, dir: &Path, letters: &[Letter]) -> HashMap<&'static str, u64> {
    let paths = write_letters(dir, letters);
    let mut ids = HashMap::new();
    for (letter, path) in letters.iter().zip(&paths) {
        let site: Vec<&str> = letter.site.map(|s| vec!["--site", s]).unwrap_or_default();
        let line = sb.ingest(&[path], &site).remove(0);
        assert_eq!(line["status"], "stored", "{}: {line}", letter.file);
        ids.insert(letter.file, line["document_id"].as_u64().unwrap());
    }
    ids
}

/// A sandbox with the fixture registry and caseworkers imported, and a work folder.
fn sandbox_with_registry() -> (Sandbox, tempfile::TempDir) {
    let sb = Sandbox::new();
    let work = tempfile::tempdir().unwrap();
    let registry = work.path().join("registry.csv");
    std::fs::write(&registry, registry_csv()).unwrap();
    let caseworkers = work.path().join("caseworkers.csv");
    std::fs::write(&caseworkers, CASEWORKERS).unwrap();
    let out = run_ok(&sb, &["recipients", "import", registry.to_str().unwrap()]);
    let people = PEOPLE.len() + FILLER_SURNAMES.len();
    assert!(
        out.starts_with(&format!(
            "{people} added, 0 changed, 0 unchanged, 0 rejected"
        )),
        "{out}"
    );
    run_ok(
        &sb,
        &["caseworkers", "import", caseworkers.to_str().unwrap()],
    );
    (sb, work)
}

fn explain(sb: &Sandbox, doc: u64) -> Value {
    let out = sb.eakte(&["route", "explain", "--json", &doc.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn postbox(sb: &Sandbox, name: &str, all: bool) -> Vec<Value> {
    let mut args = vec!["postbox", "list", "--json", name];
    if all {
        args.push("--all");
    }
    let out = sb.eakte(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn run_ok(sb: &Sandbox, args: &[&str]) -> String {
    let out = sb.eakte(args);
    assert!(out.status.success(), "eakte {args:?}: {}", stderr(&out));
    stdout(&out)
}

fn check_letter(sb: &Sandbox, letter: &Letter, doc: u64) -> Value {
    let e = explain(sb, doc);
    let item = &e["item"];
    assert_eq!(item["postbox"], letter.postbox, "{}: {:#}", letter.file, e);
    assert_eq!(
        item["doc_type"], letter.doc_type,
        "{}: {:#}",
        letter.file, e["classification"]
    );
    let recipient = &e["classification"]["recipient"];
    match letter.bg {
        Some(bg) => assert_eq!(recipient["bg"], bg, "{}: {recipient:#}", letter.file),
        None => assert!(
            recipient.get("bg").is_none(),
            "{}: must not be assigned: {recipient:#}",
            letter.file
        ),
    }
    if let Some(method) = letter.method {
        assert_eq!(
            recipient["method"], method,
            "{}: {recipient:#}",
            letter.file
        );
    }
    let urgent = matches!(
        letter.doc_type,
        "Widerspruch" | "Arbeitsunfähigkeitsbescheinigung"
    );
    assert_eq!(item["urgent"], urgent, "{}", letter.file);
    assert!(!item["route"]["explanation"].as_str().unwrap().is_empty());
    item.clone()
}

#[test]
fn letters_land_in_the_right_postbox_and_never_with_a_wrong_caseworker() {
    let (sb, work) = sandbox_with_registry();

    let before = batch_before_absence();
    let ids = ingest(&sb, work.path(), &before);
    let mut items = HashMap::new();
    for letter in &before {
        items.insert(letter.file, check_letter(&sb, letter, ids[letter.file]));
    }

    // sb-h1 goes on leave; sb-h3 stands in.
    let today = eakte::clock::today();
    let (from, to) = (
        today - jiff::Span::new().days(1),
        today + jiff::Span::new().days(10),
    );
    run_ok(
        &sb,
        &[
            "absence",
            "add",
            "sb-h1",
            "--from",
            &from.to_string(),
            "--to",
            &to.to_string(),
            "--deputy",
            "sb-h3",
        ],
    );
    let after = batch_after_absence();
    let after_ids = ingest(&sb, work.path(), &after);
    for letter in &after {
        items.insert(
            letter.file,
            check_letter(&sb, letter, after_ids[letter.file]),
        );
    }
    let item21 = &items["21.pdf"];
    let explanation = item21["route"]["explanation"].as_str().unwrap();
    assert!(
        explanation.contains("range A–K of sb-h1") && explanation.contains("deputy sb-h3"),
        "{explanation}"
    );

    // The deputy sees their own new item and the absent colleague's open one.
    let deputy_view = postbox(&sb, "sb-h3", false);
    let shown: Vec<(u64, Option<&str>)> = deputy_view
        .iter()
        .map(|l| {
            (
                l["document_id"].as_u64().unwrap(),
                l["deputising_for"].as_str(),
            )
        })
        .collect();
    assert!(shown.contains(&(after_ids["21.pdf"], None)), "{shown:?}");
    assert!(shown.contains(&(ids["02.pdf"], Some("sb-h1"))), "{shown:?}");
    // Urgent first, then oldest first: sb-h1's Kontoauszug (18) is older than
    // sb-h3's own AU (21), so only the urgent-first rule puts 21 before 18.
    let urgent: Vec<bool> = deputy_view
        .iter()
        .map(|l| l["urgent"].as_bool().unwrap())
        .collect();
    assert!(
        urgent.contains(&false) && urgent.windows(2).all(|w| w[0] >= w[1]),
        "urgent items come first: {urgent:?}"
    );
    let position = |doc: u64| deputy_view.iter().position(|l| l["document_id"] == doc);
    assert!(
        position(after_ids["21.pdf"]) < position(ids["18.pdf"]),
        "the newer urgent item before the older ordinary one"
    );

    // Nothing with a wrong caseworker: every item outside clearing sits with the
    // caseworker the fixture's own rules make responsible.
    let mut checked = 0;
    for name in ["sb-h1", "sb-h2", "sb-h3", "sb-n1", "sb-f1"] {
        for listed in postbox(&sb, name, true)
            .iter()
            .filter(|l| l["deputising_for"].is_null())
        {
            let bg = listed["bg"].as_str().expect("caseworker items have a BG");
            let later = after_ids
                .values()
                .any(|&d| d == listed["document_id"].as_u64().unwrap());
            let absence = later.then_some(("sb-h1", "sb-h3"));
            assert_eq!(
                responsible(bg, absence).as_deref(),
                Some(name),
                "{listed:#}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 13, "all routed letters were checked");
    let clearing: usize = ["klaerung:husum", "klaerung:Föhr", "klaerung"]
        .iter()
        .map(|p| postbox(&sb, p, true).len())
        .sum();
    assert_eq!(checked + clearing, before.len() + after.len());
}

#[test]
fn caseworkers_work_their_items_and_clearing_corrects_and_reroutes() {
    let (sb, work) = sandbox_with_registry();
    let letters: Vec<Letter> = batch_before_absence()
        .into_iter()
        .filter(|l| ["01.pdf", "03.pdf", "10.pdf"].contains(&l.file))
        .collect();
    let ids = ingest(&sb, work.path(), &letters);
    let item_of = |file: &str| {
        explain(&sb, ids[file])["item"]["id"]
            .as_u64()
            .unwrap()
            .to_string()
    };

    // new -> in progress -> done; done items leave the postbox view.
    let first = item_of("01.pdf");
    let started: Value =
        serde_json::from_str(&run_ok(&sb, &["postbox", "start", &first, "--by", "sb-h2"])).unwrap();
    assert_eq!(started["state"], "in_progress");
    let out = sb.eakte(&["postbox", "start", &first, "--by", "sb-h2"]);
    assert!(
        !out.status.success() && stderr(&out).contains("cannot be started"),
        "{}",
        stderr(&out)
    );
    run_ok(
        &sb,
        &["postbox", "done", &first, "--by", "sb-h2", "--note", "zdA"],
    );
    let open: Vec<String> = postbox(&sb, "sb-h2", false)
        .iter()
        .map(|l| l["id"].to_string())
        .collect();
    assert!(!open.contains(&first), "{open:?}");
    assert_eq!(postbox(&sb, "sb-h2", true).len(), 2);

    // Wiedervorlage hides the item until the day; forwarding moves it with a note.
    let third = item_of("03.pdf");
    let tomorrow = eakte::clock::today() + jiff::Span::new().days(1);
    run_ok(
        &sb,
        &[
            "postbox",
            "resubmit",
            &third,
            "--until",
            &tomorrow.to_string(),
            "--by",
            "sb-h2",
        ],
    );
    assert!(postbox(&sb, "sb-h2", false).is_empty());
    let out = sb.eakte(&[
        "postbox",
        "resubmit",
        &third,
        "--until",
        "2001-01-01",
        "--by",
        "sb-h2",
    ]);
    assert!(
        !out.status.success() && stderr(&out).contains("is not after today"),
        "a resubmission date in the past is refused: {}",
        stderr(&out)
    );
    let forwarded: Value = serde_json::from_str(&run_ok(
        &sb,
        &[
            "postbox",
            "forward",
            &third,
            "--to",
            "sb-h1",
            "--by",
            "sb-h2",
            "--note",
            "Bitte übernehmen",
        ],
    ))
    .unwrap();
    assert_eq!(forwarded["postbox"], "sb-h1");
    let last = forwarded["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (
            last["action"].as_str(),
            last["by"].as_str(),
            last["note"].as_str()
        ),
        (Some("forwarded"), Some("sb-h2"), Some("Bitte übernehmen"))
    );
    // The new owner sees it at once: forwarding ends the resubmission.
    let in_h1: Vec<String> = postbox(&sb, "sb-h1", false)
        .iter()
        .map(|l| l["id"].to_string())
        .collect();
    assert!(in_h1.contains(&third), "{in_h1:?}");

    // sb-h1 is away, and so is their deputy sb-h3: sb-n1 sees sb-h1's open items.
    let (from, to) = (
        eakte::clock::today(),
        eakte::clock::today() + jiff::Span::new().days(3),
    );
    let (from, to) = (from.to_string(), to.to_string());
    run_ok(
        &sb,
        &[
            "absence", "add", "sb-h1", "--from", &from, "--to", &to, "--deputy", "sb-h3",
        ],
    );
    run_ok(
        &sb,
        &[
            "absence", "add", "sb-h3", "--from", &from, "--to", &to, "--deputy", "sb-n1",
        ],
    );
    let out = sb.eakte(&[
        "absence", "add", "sb-h1", "--from", &to, "--to", &to, "--deputy", "sb-h2",
    ]);
    assert!(
        !out.status.success() && stderr(&out).contains("overlaps"),
        "{}",
        stderr(&out)
    );
    let chain = postbox(&sb, "sb-n1", false);
    assert!(
        chain.iter().any(
            |l| l["id"].as_u64().map(|i| i.to_string()).as_ref() == Some(&third)
                && l["deputising_for"] == "sb-h1"
        ),
        "{chain:?}"
    );
    assert!(
        postbox(&sb, "sb-h3", false).is_empty(),
        "an absent deputy is skipped"
    );

    // Clearing assigns the namesake letter to the right BG and type: re-routed, recorded.
    let cleared = item_of("10.pdf");
    assert_eq!(postbox(&sb, "klaerung:husum", false).len(), 1);
    let corrected: Value = serde_json::from_str(&run_ok(
        &sb,
        &[
            "postbox",
            "correct",
            &cleared,
            "--bg",
            "07450BG0000104",
            "--type",
            "Veränderungsmitteilung",
            "--by",
            "kl-husum",
            "--note",
            "Geburtsdatum telefonisch bestätigt",
        ],
    ))
    .unwrap();
    assert_eq!(corrected["postbox"], "sb-h2");
    assert_eq!(corrected["doc_type"], "Veränderungsmitteilung");
    assert_eq!(corrected["schlagwort"], "Veränderungen");
    let event = corrected["history"].as_array().unwrap().last().unwrap();
    assert_eq!(event["action"], "corrected");
    assert_eq!(event["by"], "kl-husum");
    assert!(event["at"].as_str().unwrap().starts_with("20"));
    assert!(postbox(&sb, "klaerung:husum", false).is_empty());
    let e = explain(&sb, ids["10.pdf"]);
    assert_eq!(e["classification"]["recipient"]["outcome"], "assigned");
    assert_eq!(e["classification"]["recipient"]["by"], "kl-husum");
    let text = run_ok(&sb, &["route", "explain", &ids["10.pdf"].to_string()]);
    assert!(
        text.contains("surname Petersen in range L–Z of sb-h2 at site husum"),
        "{text}"
    );
    let out = sb.eakte(&[
        "postbox",
        "correct",
        &cleared,
        "--bg",
        "07450BG7777777",
        "--by",
        "kl-husum",
    ]);
    // Not refused (that would tell which BG numbers exist): back to
    // clearing, with the reason.
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(postbox(&sb, "klaerung:husum", false).len(), 1);
    let text = run_ok(&sb, &["route", "explain", &ids["10.pdf"].to_string()]);
    assert!(
        text.contains("BG 07450BG7777777 is not in the registry"),
        "{text}"
    );
    sb.assert_check_passes();
}

#[test]
fn registry_imports_report_each_rejected_row_and_a_bad_file_changes_nothing() {
    let sb = Sandbox::new();
    let work = tempfile::tempdir().unwrap();
    let good = work.path().join("good.csv");
    std::fs::write(&good, registry_csv()).unwrap();
    run_ok(&sb, &["recipients", "import", good.to_str().unwrap()]);

    // Re-import: one changed address, one bad date, one bad number; the rest unchanged.
    let mut csv = registry_csv().replace("Am Dreieck 7", "Am Dreieck 9");
    csv.push_str("07450BG0000900,900A000001,Neu,Nina,31.02.1990,,,,husum,,\n");
    csv.push_str("07450BGX,900A000002,Neu,Nora,1990-01-01,,,,husum,,\n");
    let changed = work.path().join("changed.csv");
    std::fs::write(&changed, csv).unwrap();
    let out = sb.eakte(&["recipients", "import", "--json", changed.to_str().unwrap()]);
    assert!(
        !out.status.success(),
        "rejected rows make the import fail visibly"
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["changed"], 1);
    assert_eq!(report["added"], 0);
    let rejected = report["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2);
    assert!(rejected[0]["reason"]
        .as_str()
        .unwrap()
        .contains("geburtsdatum"));
    assert!(rejected[1]["reason"]
        .as_str()
        .unwrap()
        .contains("bg_nummer"));

    // A file with a wrong header changes nothing.
    let bad = work.path().join("bad.csv");
    std::fs::write(&bad, "bg,kundennummer\n07450BG0000101,101A000001\n").unwrap();
    let out = sb.eakte(&["recipients", "import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("nothing was changed"),
        "{}",
        stderr(&out)
    );
    let dry = sb.eakte(&[
        "recipients",
        "import",
        "--dry-run",
        "--json",
        good.to_str().unwrap(),
    ]);
    let report: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(report["applied"], false);
    assert_eq!(
        report["changed"], 1,
        "the dry run sees the earlier change back, applies nothing"
    );
}

#[test]
fn the_daemon_routes_a_scan_dropped_into_the_inbox() {
    let (sb, _work) = sandbox_with_registry();

    let daemon = sb.serve();
    let letters = batch_before_absence();
    let widerspruch = &letters[0];
    let pdf = scanmaker::text_pdf(std::slice::from_ref(&widerspruch.lines), Pose::Upright);
    scanmaker::put(&sb.inbox().join("husum/Widerspruch Petersen.pdf"), &pdf);
    common::wait_for("the scan to be filed", || {
        sb.waiting().is_empty()
            && sb.processing().is_empty()
            && !sb.search("Widerspruch").is_empty()
    });
    assert!(daemon.stop());
    let box_h2 = postbox(&sb, "sb-h2", false);
    assert_eq!(box_h2.len(), 1);
    assert_eq!(box_h2[0]["doc_type"], "Widerspruch");
    assert_eq!(box_h2[0]["urgent"], true);
    assert_eq!(box_h2[0]["bg"], "07450BG0000101");
}
