//! Batch scanning as the scan office does it: duplex stacks with empty
//! backsides (Leerseiten), separator sheets (Trennblätter) that cut a stack
//! into letters, and the return cover sheet (Deckblatt) that routes an answer
//! by itself, through the real binary, poppler, tesseract and zbar.

mod common;

use common::barcodes;
use common::scanmaker::{self, Raster};
use common::{fixture, stderr, stdout, Api, Sandbox, HUSUM_CASEWORKERS, HUSUM_PEOPLE};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    scanmaker::put(&path, bytes);
    path
}

fn sources(doc: &Value) -> Vec<String> {
    doc["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["source"].as_str().unwrap().to_string())
        .collect()
}

/// A filled circle of radius `r` around `(x, y)` (PDF points), in grey `g`.
fn disc(x: f64, y: f64, r: f64, g: f64) -> String {
    // Four Bézier quarter arcs; k is the usual 0.5523 control-point factor.
    let k = r * 0.5523;
    format!(
        "{g} g {} {y} m {} {} {} {} {x} {} c {} {} {} {} {} {y} c \
         {} {} {} {} {x} {} c {} {} {} {} {} {y} c f\n",
        x + r,
        x + r,
        y + k,
        x + k,
        y + r,
        y + r,
        x - k,
        y + r,
        x - r,
        y + k,
        x - r,
        x - r,
        y - k,
        x - k,
        y - r,
        y - r,
        x + k,
        y - r,
        x + r,
        y - k,
        x + r,
    )
}

/// Scanner noise: `n` specks of 0.3 pt and a few dust clusters of 1 pt, spread
/// by a fixed pseudo-random sequence.
fn specks(n: usize, seed: u64) -> String {
    let mut state = seed | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = String::from("0 g\n");
    for i in 0..n {
        let (x, y) = ((next() % 595) as f64, (next() % 842) as f64);
        let side = if i % 50 == 0 { 1.0 } else { 0.3 };
        out.push_str(&format!("{x} {y} {side} {side} re f\n"));
    }
    out
}

/// Two punch holes by the left edge, as a dark scanner lid shows them.
fn punch_holes() -> String {
    disc(34.0, 300.0, 8.0, 0.1) + &disc(34.0, 540.0, 8.0, 0.1)
}

/// The other side's letter shining through: mirrored, light grey.
fn bleed_through() -> Vec<u8> {
    let mut out = b"q 0.86 g -1 0 0 1 595 0 cm\n".to_vec();
    let lines = scanmaker::letter("Durchscheinen", "Rückseite");
    // text_content sets no colour of its own, so the grey above holds.
    out.extend(scanmaker::text_content(&lines));
    out.extend_from_slice(b"Q\n");
    out
}

fn page_number(text: &str) -> String {
    format!("0 g BT /F1 10 Tf 260 62 Td ({text}) Tj ET\n")
}

/// A short line written by hand: a ballpoint scribble 45 mm wide and 6 mm high
/// (letters with ascenders and descenders).
fn handwritten_line(x: f64, y: f64) -> String {
    let mut path = format!("0 G 0.9 w 1 J {x} {y} m\n");
    for i in 0..16 {
        let x0 = x + i as f64 * 8.0;
        path.push_str(&format!(
            "{} {} {} {} {} {y} c\n",
            x0 + 2.0,
            y + 40.0,
            x0 + 5.0,
            y - 20.0,
            x0 + 8.0
        ));
    }
    path.push_str("S\n");
    path
}

fn text(lines: &[&str]) -> Vec<u8> {
    let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    scanmaker::text_content(&lines)
}

/// The pages of a duplex stack: what each is, and whether it should be found blank.
fn stack() -> Vec<(&'static str, Vec<u8>, bool)> {
    let letter = |marker: &str| scanmaker::text_content(&scanmaker::letter(marker, "Widerspruch"));
    let all_at_once = [
        specks(600, 7).into_bytes(),
        punch_holes().into_bytes(),
        bleed_through(),
        page_number("- 8 -").into_bytes(),
    ]
    .concat();
    vec![
        ("a letter", letter("Fischkutterhafen"), false),
        ("an empty backside", Vec::new(), true),
        ("scanner noise and dust", specks(600, 3).into_bytes(), true),
        ("punch holes", punch_holes().into_bytes(), true),
        ("bleed-through", bleed_through(), true),
        ("a page number", page_number("Seite 6").into_bytes(), true),
        (
            "a longer line where page numbers are",
            page_number("Seite 6 von 12").into_bytes(),
            false,
        ),
        (
            "one short typed line at the top",
            text(&["Dies ist ein Test."]),
            false,
        ),
        (
            "noise, holes, bleed-through and a page number",
            all_at_once,
            true,
        ),
        (
            "one short handwritten line",
            handwritten_line(150.0, 520.0).into_bytes(),
            false,
        ),
        (
            "a signature at the bottom",
            handwritten_line(330.0, 90.0).into_bytes(),
            false,
        ),
        (
            "one typed word",
            text(&["", "", "", "", "", "", "Anlage"]),
            false,
        ),
        ("a letter after all that", letter("Deichvorland"), false),
    ]
}

#[test]
fn blank_backsides_are_left_out_and_writing_is_kept() {
    let stack = stack();
    let contents: Vec<Vec<u8>> = stack.iter().map(|(_, c, _)| c.clone()).collect();
    let pdf = scanmaker::drawn_pdf(&contents);
    let work = tempfile::tempdir().unwrap();
    // As a scanner writes it: greyscale JPEG pages in a PDF, and bilevel TIFF.
    let jpegs = scanmaker::rasterise(&pdf, 200, Raster::Jpeg);
    let scanned = write(work.path(), "stapel.pdf", &scanmaker::scanned_pdf(&jpegs));
    let tiff = write(
        work.path(),
        "stapel.tif",
        &scanmaker::noisy_tiff(&pdf, 200, 0.0005),
    );

    let sb = Sandbox::new();
    let lines = sb.ingest(&[scanned.as_path(), tiff.as_path()], &["--site", "husum"]);
    for (line, format) in lines.iter().zip(["PDF", "TIFF"]) {
        let doc = sb.show(
            line["document_id"]
                .as_u64()
                .unwrap_or_else(|| panic!("{line}")),
        );
        let found = sources(&doc);
        for ((what, _, blank), source) in stack.iter().zip(&found) {
            // A bilevel scanner dithers light grey into dots: bleed-through that
            // survives binarising is the scanner's choice, not eakte's.
            if format == "TIFF" && what.contains("bleed-through") {
                continue;
            }
            assert_eq!(
                source == "blank",
                *blank,
                "{format}: {what} is {source}; all pages: {found:?}"
            );
        }
        let text = common::reading::document_text(&doc);
        assert!(
            !text.contains("Durchscheinen"),
            "{format}: bleed-through is not text"
        );
        assert_eq!(
            doc["pages"].as_array().unwrap().len(),
            stack.len(),
            "the original keeps every page"
        );
    }
    assert_eq!(sb.search("Fischkutterhafen").len(), 2);
    assert_eq!(sb.search("Deichvorland").len(), 2);
}

fn registry() -> Sandbox {
    let sb = Sandbox::new();
    sb.import("caseworkers", HUSUM_CASEWORKERS);
    sb.import("recipients", HUSUM_PEOPLE);
    sb
}

fn explain(sb: &Sandbox, doc: u64) -> Value {
    let out = sb.eakte(&["route", "explain", "--json", &doc.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ids(value: &Value) -> Vec<u64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The original of a stored document, from the blob store.
fn original(sb: &Sandbox, doc: &Value) -> Vec<u8> {
    let sha = doc["sha256"].as_str().unwrap();
    std::fs::read(
        sb.path()
            .join("store/blobs")
            .join(&sha[0..2])
            .join(&sha[2..4])
            .join(sha),
    )
    .unwrap()
}

fn pdf_pages(pdf: &[u8]) -> usize {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), pdf).unwrap();
    let out = std::process::Command::new("qpdf")
        .arg("--show-npages")
        .arg(file.path())
        .output()
        .unwrap();
    stdout(&out).trim().parse().unwrap()
}

fn letter_to_jobcenter(lines: &[&str], marker: &str) -> Vec<u8> {
    let mut all: Vec<&str> = vec!["An das Jobcenter Kreis Nordfriesland", ""];
    all.extend(lines);
    let closing = format!("Kennwort {marker}");
    all.extend(["", &closing, "Mit freundlichen Grüßen"]);
    text(&all)
}

/// A duplex stack of the morning's post: three letters (one of two sheets),
/// each sheet with its empty back, separated by a Patch T, a Code 39 and a QR
/// separator sheet, and one more separator at the very end.
fn morning_post() -> Vec<Vec<u8>> {
    let separator = |code: String| {
        [barcodes::sheet_text("Trennblatt"), code]
            .concat()
            .into_bytes()
    };
    vec![
        letter_to_jobcenter(
            &[
                "Jens Petersen",
                "BG-Nr. 07450BG0000101",
                "",
                "Widerspruch gegen den Bescheid vom 02.11.2026",
            ],
            "Strandkorbvermietung",
        ),
        Vec::new(),
        separator(barcodes::patch_t(60.0)),
        Vec::new(),
        letter_to_jobcenter(
            &[
                "Maria Albers",
                "BG-Nr. 07450BG0000102",
                "",
                "Antrag auf Weiterbewilligung, Seite 1",
            ],
            "Deichschafherde",
        ),
        letter_to_jobcenter(&["Seite 2 des Antrags von Maria Albers"], "Halligwarft"),
        separator(barcodes::code39("PATCHT", 60.0, 120.0, 0.5, 15.0)),
        Vec::new(),
        letter_to_jobcenter(
            &[
                "Ohne Absender",
                "",
                "Bitte leiten Sie die Unterlagen weiter.",
            ],
            "Wattwanderweg",
        ),
        Vec::new(),
        separator(barcodes::qr("PATCHT", 80.0, 120.0, 30.0)),
        Vec::new(),
    ]
}

#[test]
fn separator_sheets_cut_a_duplex_stack_into_letters_each_routed_on_its_own() {
    let sb = registry();
    let pdf = scanmaker::drawn_pdf(&morning_post());
    let work = tempfile::tempdir().unwrap();
    let scanned = scanmaker::scanned_pdf(&scanmaker::rasterise(&pdf, 200, Raster::Jpeg));
    let tiff = scanmaker::noisy_tiff(&pdf, 200, 0.0003);
    for (name, bytes) in [("stapel.pdf", &scanned), ("stapel.tif", &tiff)] {
        let file = write(work.path(), name, bytes);
        let line = sb.ingest(&[file.as_path()], &["--site", "husum"]).remove(0);
        assert_eq!(line["status"], "split", "{name}: {line}");
        let parts = ids(&line["parts"]);
        assert_eq!(
            parts.len(),
            3,
            "{name}: no empty letter after the last separator"
        );

        // The stack is kept bit-exact, every page of it, and lists its letters.
        let stack = sb.show(line["document_id"].as_u64().unwrap());
        assert_eq!(stack["sha256"], sha256_hex(bytes), "{name}");
        assert_eq!(ids(&stack["parts"]), parts, "{name}");
        assert_eq!(
            sources(&stack),
            [
                "ocr",
                "blank",
                "separator",
                "blank",
                "ocr",
                "ocr",
                "separator",
                "blank",
                "ocr",
                "blank",
                "separator",
                "blank"
            ],
            "{name}"
        );
        assert_eq!(original(&sb, &stack), *bytes, "{name}");

        // Each letter: its pages of the stack, its own PDF, its own route.
        let expected = [
            (
                vec![1, 2],
                "sb-h2",
                Some("07450BG0000101"),
                "Strandkorbvermietung",
            ),
            (vec![5, 6], "sb-h1", Some("07450BG0000102"), "Halligwarft"),
            (vec![9, 10], "klaerung:husum", None, "Wattwanderweg"),
        ];
        for (k, (part, (pages, postbox, bg, marker))) in parts.iter().zip(expected).enumerate() {
            let doc = sb.show(*part);
            assert_eq!(doc["batch"]["batch"], stack["id"], "{name} part {k}");
            assert_eq!(doc["batch"]["part"], k + 1);
            assert_eq!(doc["batch"]["parts"], 3);
            assert_eq!(ids(&doc["batch"]["pages"]), pages, "{name} part {k}");
            assert_eq!(doc["kind"], "pdf");
            assert_eq!(
                doc["received_at"], stack["received_at"],
                "the stack's Eingangsdatum"
            );
            assert_eq!(
                pdf_pages(&original(&sb, &doc)),
                2,
                "{name} part {k}: its own PDF"
            );
            let back = if k == 1 { "ocr" } else { "blank" };
            assert_eq!(
                sources(&doc)[1],
                back,
                "{name} part {k}: an empty back is kept, left out"
            );
            let e = explain(&sb, *part);
            assert_eq!(e["item"]["postbox"], postbox, "{name} part {k}: {e:#}");
            assert_eq!(
                e["classification"]["recipient"]["bg"].as_str(),
                bg,
                "{name} part {k}"
            );
            // The words are found in the letter, not in the stack.
            assert!(sb.search(marker).contains(part), "{name}: {marker}");
            assert!(!sb.search(marker).contains(&stack["id"].as_u64().unwrap()));
        }
    }
    let report = sb.assert_check_passes();
    assert_eq!(
        report["items"], 6,
        "one item per letter, none for the stacks: {report:#}"
    );
}

#[test]
fn look_alikes_and_other_barcodes_do_not_cut() {
    let sb = registry();
    let page = |extra: String| {
        [
            letter_to_jobcenter(&["Jens Petersen", "BG-Nr. 07450BG0000101"], "Leuchtfeuer"),
            extra.into_bytes(),
        ]
        .concat()
    };
    // A Patch 2 (another patch code), a Code 39 that says something else, a
    // QR code of a bank transfer, and a table of thick rules.
    let rules: String = (0..8)
        .map(|i| format!("0 g 60 {} 480 3 re f\n", 100 + i * 12))
        .collect();
    let stack = vec![
        page(String::new()),
        page(barcodes::patch_2(60.0)),
        page(barcodes::code39("PATCH2", 60.0, 40.0, 0.5, 12.0)),
        page(barcodes::qr(
            "BCD 001 1 SCT Stadtwerke Husum DE02120300000000202051",
            140.0,
            30.0,
            25.0,
        )),
        page(rules),
    ];
    let pdf = scanmaker::drawn_pdf(&stack);
    let work = tempfile::tempdir().unwrap();
    let file = write(
        work.path(),
        "kein-trennblatt.pdf",
        &scanmaker::scanned_pdf(&scanmaker::rasterise(&pdf, 200, Raster::Jpeg)),
    );
    let line = sb.ingest(&[file.as_path()], &["--site", "husum"]).remove(0);
    assert_eq!(line["status"], "stored", "{line}");
    let doc = sb.show(line["document_id"].as_u64().unwrap());
    assert_eq!(sources(&doc), ["ocr"; 5], "every page read as a letter");
}

#[test]
fn a_site_that_keeps_stacks_whole_does_not_cut() {
    let sb = Sandbox::with_config("[batch]\nkeep_whole_at = [\"amrum\"]\n");
    let pdf = scanmaker::drawn_pdf(&morning_post()[..6]);
    let work = tempfile::tempdir().unwrap();
    let file = write(
        work.path(),
        "stapel.pdf",
        &scanmaker::scanned_pdf(&scanmaker::rasterise(&pdf, 150, Raster::Jpeg)),
    );
    let lines = sb.ingest(&[file.as_path()], &["--site", "amrum"]);
    assert_eq!(lines[0]["status"], "stored", "{}", lines[0]);
    let doc = sb.show(lines[0]["document_id"].as_u64().unwrap());
    assert_eq!(
        sources(&doc)[2],
        "separator",
        "the sheet is still known for what it is"
    );
}

/// paperless-ngx's samples: a scanned Kodak Patch T sheet (also carrying a
/// Code 39 "PATCHT") between two pages, a lone QR separator, and Code 39 ASN
/// labels with empty pages between them, which are not separators.
#[test]
fn real_separator_sheets_cut_where_they_stand() {
    let sb = Sandbox::new();
    let files = [
        fixture("barcodes/patch-code-t-middle.pdf"),
        fixture("barcodes/patch-code-t-qr.pdf"),
        fixture("barcodes/split-by-asn-1.pdf"),
    ];
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let lines = sb.ingest(&refs, &[]);

    assert_eq!(lines[0]["status"], "split", "{}", lines[0]);
    let parts = ids(&lines[0]["parts"]);
    assert_eq!(parts.len(), 2, "{}", lines[0]);
    // Pages 1 and 3 are the same page, byte for byte: cut out, they are the
    // same bytes, stored once with both arrivals (as any duplicate is).
    assert_eq!(parts[0], parts[1]);
    let letter = sb.show(parts[0]);
    assert_eq!(
        ids(&letter["batch"]["pages"]),
        [1],
        "the sheet (page 2) is in neither"
    );
    assert_eq!(letter["arrivals"].as_array().unwrap().len(), 2);
    let stack = sb.show(lines[0]["document_id"].as_u64().unwrap());
    assert_eq!(sources(&stack)[1], "separator");

    assert_eq!(
        lines[1]["status"], "stored",
        "a separator alone cuts nothing: {}",
        lines[1]
    );

    assert_eq!(
        lines[2]["status"], "stored",
        "ASN labels are no separators: {}",
        lines[2]
    );
    let asn = sb.show(lines[2]["document_id"].as_u64().unwrap());
    let found = sources(&asn);
    let blank: Vec<usize> = (0..found.len()).filter(|&i| found[i] == "blank").collect();
    assert_eq!(
        blank,
        [1, 4, 5, 7, 9],
        "its empty pages, 0-based: {found:?}"
    );
}

fn pdf_text(pdf: &[u8]) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(file.path())
        .arg("-")
        .output()
        .unwrap();
    stdout(&out)
}

/// `pdf`'s first page printed and scanned again: rasterised, fed in 1.5°
/// crooked, binarised at 200 dpi with scanner noise; `behind` (page contents)
/// are the letter's pages after it.
fn printed_and_scanned(pdf: &[u8], behind: &[Vec<u8>]) -> Vec<u8> {
    let mut pages = vec![scanmaker::rasterise(pdf, 300, Raster::Jpeg).remove(0)];
    if !behind.is_empty() {
        pages.extend(scanmaker::rasterise(
            &scanmaker::drawn_pdf(behind),
            300,
            Raster::Jpeg,
        ));
    }
    let crooked = scanmaker::scanned_pdf_turned(&pages, 1.5);
    scanmaker::noisy_tiff(&crooked, 200, 0.001)
}

fn caseworker(sb: &Sandbox, name: &str, kennung: &str) -> String {
    sb.add_user(&[name, "--role", "caseworker", "--caseworker", kennung])
}

#[test]
fn a_deckblatt_printed_by_eakte_routes_the_answer_behind_it_with_certainty() {
    let sb = registry();
    let hanna = caseworker(&sb, "hanna", "sb-h1");
    let lena = caseworker(&sb, "lena", "sb-h2");
    let work = tempfile::tempdir().unwrap();

    // Maria Albers (BG …102) is Hanna's: she prints the sheet, Lena cannot.
    let daemon = sb.serve();
    let api = Api::new(&daemon.api());
    let (status, kind, sheet) = api.get_file(&hanna, "/api/v1/akten/07450BG0000102/deckblatt");
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    assert_eq!(pdf_pages(&sheet), 1);
    let words = pdf_text(&sheet);
    for expected in [
        "Bitte legen Sie dieses Blatt Ihrer Antwort oben auf",
        "Maria Albers",
        "Süderstraße 3",
        "25813 Husum",
        "07450BG0000102",
        "Jobcenter",
    ] {
        assert!(words.contains(expected), "{expected:?} in {words}");
    }
    let foreign = api.get_file(&lena, "/api/v1/akten/07450BG0000102/deckblatt");
    let missing = api.get_file(&lena, "/api/v1/akten/07450BG0009999/deckblatt");
    assert_eq!(foreign.0, 404);
    assert_eq!(foreign, missing, "a foreign BG answers like a missing one");
    assert!(daemon.stop());

    // Her answer: the sheet on top, a letter behind it that names somebody
    // else's BG. The sheet decides, and is not read as text.
    let answer = letter_to_jobcenter(
        &[
            "Jens Petersen",
            "BG-Nr. 07450BG0000101",
            "",
            "anbei die Kontoauszüge",
        ],
        "Kontoauszugsmappe",
    );
    let scan = write(
        work.path(),
        "antwort.tif",
        &printed_and_scanned(&sheet, &[answer.clone()]),
    );
    let line = sb.ingest(&[scan.as_path()], &["--site", "husum"]).remove(0);
    assert_eq!(line["status"], "stored", "{line}");
    let doc_id = line["document_id"].as_u64().unwrap();
    let doc = sb.show(doc_id);
    assert_eq!(sources(&doc), ["cover_sheet", "ocr"]);
    assert_eq!(doc["pages"][0]["text"], "", "the sheet is not OCRed");
    let code = doc["pages"][0]["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("EAKTE-DB1;BG=07450BG0000102;"), "{code}");
    let e = explain(&sb, doc_id);
    let recipient = &e["classification"]["recipient"];
    assert_eq!(recipient["bg"], "07450BG0000102", "{e:#}");
    assert_eq!(recipient["method"], "cover_sheet");
    assert_eq!(recipient["confidence"], 1.0);
    assert!(recipient["matched"]
        .as_str()
        .unwrap()
        .contains("Prüfwert gültig"));
    assert_eq!(e["item"]["postbox"], "sb-h1");
    let first_item = e["item"]["id"].as_u64().unwrap();

    // A sheet for that item, inside a stack after somebody else's letter: it
    // cuts the stack, and the answer continues the item.
    let daemon = sb.serve();
    let api = Api::new(&daemon.api());
    let path = format!("/api/v1/akten/07450BG0000102/deckblatt?vorgang={first_item}");
    let (status, _, for_item) = api.get_file(&hanna, &path);
    assert_eq!(status, 200);
    assert!(pdf_text(&for_item).contains(&first_item.to_string()));
    let wrong_akte = format!("/api/v1/akten/07450BG0000101/deckblatt?vorgang={first_item}");
    assert_eq!(
        api.get_file(&lena, &wrong_akte).0,
        404,
        "an item of another Akte"
    );
    assert!(daemon.stop());
    let petersen = letter_to_jobcenter(
        &["Jens Petersen", "BG-Nr. 07450BG0000101", "", "Widerspruch"],
        "Krabbenbrot",
    );
    let mut stack = scanmaker::rasterise(
        &scanmaker::drawn_pdf(&[petersen, Vec::new()]),
        200,
        Raster::Jpeg,
    );
    stack.push(scanmaker::rasterise(&for_item, 200, Raster::Jpeg).remove(0));
    stack.extend(scanmaker::rasterise(
        &scanmaker::drawn_pdf(&[Vec::new(), answer.clone()]),
        200,
        Raster::Jpeg,
    ));
    let scan = write(work.path(), "stapel.pdf", &scanmaker::scanned_pdf(&stack));
    let line = sb.ingest(&[scan.as_path()], &["--site", "husum"]).remove(0);
    assert_eq!(line["status"], "split", "{line}");
    let parts = ids(&line["parts"]);
    assert_eq!(parts.len(), 2);
    assert_eq!(
        ids(&sb.show(parts[1])["batch"]["pages"]),
        [3, 4, 5],
        "the sheet starts its letter"
    );
    assert_eq!(explain(&sb, parts[0])["item"]["postbox"], "sb-h2");
    let e = explain(&sb, parts[1]);
    assert_eq!(e["item"]["postbox"], "sb-h1", "{e:#}");
    assert_eq!(e["item"]["answers"], first_item, "{e:#}");

    // A forged sheet: the check value of Albers' sheet under Petersen's BG.
    let forged = code.replace("BG=07450BG0000102", "BG=07450BG0000101");
    let fake = scanmaker::drawn_pdf(&[[
        barcodes::qr(&forged, 140.0, 200.0, 48.0),
        barcodes::sheet_text("Deckblatt"),
    ]
    .concat()
    .into_bytes()]);
    let scan = write(
        work.path(),
        "gefaelscht.tif",
        &printed_and_scanned(&fake, &[answer.clone()]),
    );
    let line = sb.ingest(&[scan.as_path()], &["--site", "husum"]).remove(0);
    assert_eq!(line["status"], "stored", "{line}");
    let e = explain(&sb, line["document_id"].as_u64().unwrap());
    assert_eq!(e["item"]["postbox"], "klaerung:husum", "{e:#}");
    assert_eq!(
        e["item"]["route"]["clearing"]["reason"], "untrusted_cover_sheet",
        "{e:#}"
    );
    assert_eq!(e["item"]["route"]["clearing"]["printed"], "07450BG0000101");
    assert!(
        e["classification"]["recipient"].get("bg").is_none(),
        "{e:#}"
    );

    // A true sheet of a BG the registry no longer knows (Maria Albers moved
    // into another BG): clearing, saying so.
    sb.import(
        "recipients",
        "bg_nummer,kundennummer,nachname,vorname,geburtsdatum,strasse,plz,ort,standort\n\
         07450BG0000103,102B000001,Albers,Maria,1975-05-20,Süderstraße 3,25813,Husum,husum\n",
    );
    let later = letter_to_jobcenter(
        &["Maria Albers", "", "meine neue Anschrift"],
        "Umzugskarton",
    );
    let scan = write(
        work.path(),
        "umgezogen.tif",
        &printed_and_scanned(&sheet, &[later]),
    );
    let line = sb.ingest(&[scan.as_path()], &["--site", "husum"]).remove(0);
    assert_eq!(line["status"], "stored", "{line}");
    let e = explain(&sb, line["document_id"].as_u64().unwrap());
    assert_eq!(e["item"]["postbox"], "klaerung:husum", "{e:#}");
    assert_eq!(
        e["item"]["route"]["clearing"]["reason"], "unknown_bg",
        "{e:#}"
    );
    sb.assert_check_passes();
}

#[test]
fn the_command_line_prints_a_deckblatt_too() {
    let sb = registry();
    let out_file = sb.path().join("blatt.pdf");
    let out = sb.eakte(&[
        "deckblatt",
        "07450BG0000101",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pdf = std::fs::read(&out_file).unwrap();
    assert!(pdf_text(&pdf).contains("Jens Petersen"));
    let out = sb.eakte(&[
        "deckblatt",
        "07450BG0009999",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "an unknown BG has no sheet");
}
