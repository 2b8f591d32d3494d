//! Entry points for fuzzing: one function per fuzz target, taking arbitrary
//! bytes. `fuzz/` (cargo-fuzz, libFuzzer) runs them for as long as one likes;
//! `tests/fuzz_smoke.rs` replays the kept corpora and a few thousand mutations
//! on stable Rust in every CI run. Each returns normally for any input; a
//! panic, an overflow or a hang is a finding.
//!
//! Fixtures (a small registry, a store, an index) are built once per process
//! in a temporary directory.

use crate::extract::{image, sniff};
use crate::index::SearchIndex;
use crate::model::FileKind;
use crate::progress::Silent;
use crate::registry::{import, Registry};
use crate::store::Store;
use std::sync::OnceLock;

struct Fixtures {
    store: Store,
    registry: Registry,
    index: SearchIndex,
}

const CASEWORKERS: &[u8] =
    b"kennung,name,standort,von,bis\nsb-1,Eins,husum,A,M\nsb-2,Zwei,husum,N,Z\n";
const PEOPLE: &[u8] =
    "bg_nummer,kundennummer,nachname,vorname,geburtsdatum,strasse,plz,ort,standort\n\
    07450BG0000101,101A000001,Petersen,Jens,04.03.1980,Norderstraße 12,25813,Husum,husum\n\
    07450BG0000102,102B000001,Albers,Maria,1975-05-20,Süderstraße 3,25813,Husum,husum\n\
    07450BG0000102,102B000002,Albers,Lena,2010-01-02,Süderstraße 3,25813,Husum,husum\n\
    07450BG0000103,103C000001,Nissen,Ömer,1990-12-31,Hafenweg 1,25938,Wyk auf Föhr,Föhr\n"
        .as_bytes();

/// Letters in the fixture index, so that queries meet terms, phrases and
/// close terms in real segments.
const LETTERS: &[&str] = &[
    "Widerspruch gegen den Bescheid vom 3. März über die Kosten der Unterkunft.",
    "Weiterbewilligungsantrag mit Kontoauszügen und der Mietbescheinigung.",
    "Veränderungsmitteilung: neue Arbeitsstelle ab 1. Dezember, Bescheld anbei.",
];

fn record_letter(store: &Store, n: usize, text: &str) {
    use crate::model::{Page, PageSource, Sha256};
    use crate::store::{Durability, NewArrival, NewDocument, Recording};
    let sha = Sha256::of(text.as_bytes());
    let arrival = NewArrival {
        id: store.documents().new_arrival_id().expect("an arrival id"),
        original_name: format!("brief-{n}.pdf"),
        site: Some("husum".into()),
        received_at: "2026-11-26T08:00:00Z".into(),
        source: "fuzzing".into(),
    };
    let page = Page {
        number: 1,
        text: text.to_string(),
        confidence: None,
        source: PageSource::TextLayer,
        rotation: 0,
        code: None,
    };
    let document = NewDocument {
        id: store.documents().new_id().expect("a document id"),
        sha256: sha.clone(),
        size: text.len() as u64,
        kind: FileKind::Pdf,
        pages: vec![page],
        classification: None,
        item: None,
        batch: None,
        parts_in_batch: Vec::new(),
        opened_with: None,
        attachments_in_batch: Vec::new(),
    };
    let recording = Recording {
        arrival,
        key: sha.to_string(),
        document: Some(document),
    };
    store
        .documents()
        .record(&[recording], &[], Durability::Unflushed)
        .expect("a fixture letter");
}

fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("eakte-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir.join("store")).expect("a store for fuzzing");
        import::plan_caseworkers(&store, CASEWORKERS, &Silent)
            .and_then(|plan| Ok(plan.apply(&store, None, &[], &Silent)?))
            .expect("caseworkers");
        import::plan_recipients(&store, PEOPLE, &Silent)
            .and_then(|plan| Ok(plan.apply(&store, None, &[], &Silent)?))
            .expect("recipients");
        let registry = Registry::load(&store).expect("the registry");
        for (n, text) in LETTERS.iter().enumerate() {
            record_letter(&store, n, text);
        }
        let indexer =
            crate::index::indexer::Indexer::open(&dir.join("index"), &store).expect("an index");
        let index = indexer.index().clone();
        indexer.finish().expect("the index written");
        Fixtures {
            store,
            registry,
            index,
        }
    })
}

/// Recipient recognition: BG numbers and Kundennummern in any text, checked
/// against a registry. A number read without doubt is a valid number; a
/// recipient recognised is one the registry knows.
pub fn recipient_numbers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for pattern in crate::classify::identifiers::bg_numbers(&text) {
        if let Some(reading) = pattern.reading() {
            assert!(
                crate::model::BgNummer::parse(&reading).is_some(),
                "{reading:?} read as a BG number from {:?}",
                pattern.raw
            );
        }
    }
    for pattern in crate::classify::identifiers::kundennummern(&text) {
        if let Some(reading) = pattern.reading() {
            assert!(
                crate::model::Kundennummer::parse(&reading).is_some(),
                "{reading:?} read as a Kundennummer from {:?}",
                pattern.raw
            );
        }
    }
    let registry = &fixtures().registry;
    if let Some(bg) = crate::classify::recognise(&text, registry).bg() {
        assert!(
            registry.has_bg(bg),
            "recognised {bg}, which the registry lacks"
        );
    }
}

/// File type detection, and the header probe that follows it for images: a
/// probe that succeeds names between one and the allowed number of pages,
/// none of them empty.
pub fn file_type(data: &[u8]) {
    if let sniff::Sniffed::Accepted(kind @ (FileKind::Png | FileKind::Jpeg | FileKind::Tiff)) =
        sniff::sniff(data)
    {
        if let Ok(info) = image::probe(kind, data, 50) {
            assert!(
                (1..=50).contains(&info.pages.len()),
                "{} pages",
                info.pages.len()
            );
            assert!(
                info.pages.iter().all(|&(w, h)| w > 0 && h > 0),
                "an empty page: {:?}",
                info.pages
            );
        }
    }
}

/// CSV import of recipients and caseworkers, planned only, as a dry run does
/// (the store is unchanged): every row is accounted for once, and nothing is
/// applied.
pub fn csv_import(data: &[u8]) {
    let store = &fixtures().store;
    let rows = String::from_utf8_lossy(data).lines().count();
    for plan in [
        import::plan_recipients(store, data, &Silent),
        import::plan_caseworkers(store, data, &Silent),
    ]
    .into_iter()
    .flatten()
    {
        let r = &plan.report;
        assert!(!r.applied);
        let accounted = r.added + r.changed + r.unchanged + r.rejected.len();
        assert!(accounted >= 1, "a plan for no row at all: {r:?}");
        // Caseworkers count per Kennung, not per row; never more than the rows.
        assert!(
            accounted <= rows,
            "{accounted} rows accounted for in {rows} lines: {r:?}"
        );
    }
}

/// The search syntax, parsed and run against an index: it finds at most what
/// it was asked for, and refuses only queries (never fails in the index).
pub fn query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match fixtures().index.search(&text, 10, 0) {
        Ok(results) => {
            assert!(results.hits.len() <= 10 && results.hits.len() <= results.total);
        }
        Err(crate::index::IndexError::Query(_)) => {}
        Err(e) => panic!("{text:?} failed in the index: {e}"),
    }
}
