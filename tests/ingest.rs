//! `eakte ingest`, `search`, `show`, `reindex` and `check` on real files: scans
//! of German letters generated here, real-world scans and hostile files from
//! public projects (tests/fixtures/), all through real poppler, tesseract, sled
//! and tantivy.

mod common;

use common::scanmaker::{self, Pose, Raster};
use common::{fixture, Sandbox};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    scanmaker::put(&path, bytes);
    path
}

fn doc_id(line: &Value) -> u64 {
    line["document_id"]
        .as_u64()
        .unwrap_or_else(|| panic!("not stored: {line}"))
}

fn page_field<'a>(doc: &'a Value, field: &str) -> Vec<&'a Value> {
    doc["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p[field])
        .collect()
}

#[test]
fn generated_german_scans_in_every_format_and_pose_are_found_by_their_words() {
    let sb = Sandbox::new();
    let work = tempfile::tempdir().unwrap();
    let page = |marker: &str| {
        scanmaker::text_pdf(
            &[scanmaker::letter(marker, "Widerspruch gegen den Bescheid")],
            Pose::Upright,
        )
    };
    let posed = |marker: &str, pose| {
        scanmaker::text_pdf(
            &[scanmaker::letter(marker, "Antrag auf Weiterbewilligung")],
            pose,
        )
    };
    let png = |pdf: Vec<u8>| scanmaker::rasterise(&pdf, 200, Raster::Png).remove(0);

    let files = [
        write(work.path(), "upright.png", &png(page("Wattenmeerstiftung"))),
        write(
            work.path(),
            "skewed.jpg",
            &scanmaker::rasterise(
                &posed("Deichgrafenhof", Pose::Skewed(3.0)),
                200,
                Raster::Jpeg,
            )
            .remove(0),
        ),
        write(
            work.path(),
            "upside-down.png",
            &png(posed("Halligfähre", Pose::UpsideDown)),
        ),
        write(
            work.path(),
            "sideways.png",
            &png(posed("Leuchtturmwärter", Pose::Sideways)),
        ),
        write(
            work.path(),
            "three-pages.tif",
            &scanmaker::noisy_tiff(
                &scanmaker::text_pdf(
                    &[
                        scanmaker::letter("Seehundstation", "Seite eins"),
                        scanmaker::letter("Krabbenkutter", "Seite zwei"),
                        scanmaker::letter("Reetdachkate", "Seite drei"),
                    ],
                    Pose::Upright,
                ),
                200,
                0.001,
            ),
        ),
        write(
            work.path(),
            "scanner.pdf",
            &scanmaker::scanned_pdf(&[
                scanmaker::rasterise(&page("Salzwiesenpfad"), 200, Raster::Jpeg).remove(0),
                scanmaker::rasterise(&page("Warftkirche"), 200, Raster::Jpeg).remove(0),
            ]),
        ),
        write(work.path(), "born-digital.pdf", &page("Sturmflutkante")),
    ];
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let lines = sb.ingest(&refs, &["--site", "husum"]);
    for line in &lines {
        assert_eq!(line["status"], "stored", "{line}");
    }
    let expected = [
        ("png", 1),
        ("jpeg", 1),
        ("png", 1),
        ("png", 1),
        ("tiff", 3),
        ("pdf", 2),
        ("pdf", 1),
    ];
    for (line, (kind, pages)) in lines.iter().zip(expected) {
        assert_eq!(line["kind"], kind, "{line}");
        assert_eq!(line["pages"], pages, "{line}");
    }

    // Each document is found by the word that only it contains, in any inflection
    // the German analyzer folds (umlauts, case).
    let find = |word: &str, file: usize| {
        assert_eq!(
            sb.search(word),
            vec![doc_id(&lines[file])],
            "search {word:?}"
        );
    };
    find("Wattenmeerstiftung", 0);
    find("deichgrafenhof", 1);
    find("Halligfaehre Halligfähre", 2);
    find("Leuchtturmwärter", 3);
    find("Seehundstation", 4);
    find("Krabbenkutter", 4);
    find("Reetdachkate", 4);
    find("Salzwiesenpfad", 5);
    find("Warftkirche", 5);
    find("Sturmflutkante", 6);
    // A phrase from the body, and an OCR-style misspelling that fuzzy search forgives.
    assert_eq!(sb.search("\"Kosten der Unterkunft\"").len(), 7);
    find("Wattenmeerstiftumg", 0);

    let upside_down = sb.show(doc_id(&lines[2]));
    assert_eq!(
        page_field(&upside_down, "rotation"),
        [180],
        "upside-down page is turned"
    );
    let sideways = sb.show(doc_id(&lines[3]));
    assert_eq!(
        page_field(&sideways, "rotation"),
        [90],
        "sideways page is turned"
    );
    let tiff = sb.show(doc_id(&lines[4]));
    let texts = page_field(&tiff, "text");
    assert!(
        texts[0].as_str().unwrap().contains("Seite eins")
            && texts[2].as_str().unwrap().contains("Seite drei"),
        "{texts:?}"
    );
    for conf in page_field(&tiff, "confidence") {
        assert!(
            conf.as_f64().unwrap() > 50.0,
            "noisy pages still read with confidence: {conf}"
        );
    }
    let digital = sb.show(doc_id(&lines[6]));
    assert_eq!(page_field(&digital, "source"), ["text_layer"]);
    assert_eq!(page_field(&digital, "confidence"), [&Value::Null]);
    assert!(
        digital["pages"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Norderstraße 12"),
        "umlauts and ß kept exactly"
    );
    assert_eq!(digital["site"], "husum");
    assert_eq!(digital["state"], "stored and indexed");
    sb.assert_check_passes();
}

#[test]
fn real_world_scans_from_public_projects_are_read() {
    let sb = Sandbox::new();
    let names = [
        "scans/eurotext.tif",
        "scans/phototest-rotated-R.png",
        "scans/multi-page-images.tiff",
        "scans/jfif.jpg",
        "pdf/cardinal.pdf",
        "pdf/letter-de.pdf",
        "pdf/single-page-mixed.pdf",
        "pdf/tagged-but-no-text.pdf",
        "pdf/masks.pdf",
        "pdf/epson.pdf",
        "pdf/rotated_skew.pdf",
    ];
    let files: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let lines = sb.ingest(&refs, &[]);
    let ids: Vec<u64> = lines.iter().map(doc_id).collect();

    assert_eq!(sb.search("\"braune Fuchs\""), vec![ids[0]]);
    assert_eq!(
        sb.show(ids[1])["pages"][0]["rotation"],
        270,
        "tesseract OSD: page is at 90°"
    );
    assert_eq!(sb.search("\"quick brown dog jumped\""), vec![ids[1]]);
    let frames = sb.show(ids[2]);
    for (n, text) in page_field(&frames, "text").iter().enumerate() {
        assert!(
            text.as_str().unwrap().contains(&format!("Page {}", n + 1)),
            "frame {n}: {text}"
        );
    }
    assert_eq!(sb.search("\"pancake breakfast\""), vec![ids[3]]);
    let cardinal = sb.show(ids[4]);
    assert_eq!(
        page_field(&cardinal, "rotation"),
        [0, 270, 180, 90],
        "each page put upright"
    );
    let letter = sb.show(ids[5]);
    assert_eq!(page_field(&letter, "source"), ["text_layer"]);
    assert_eq!(sb.search("Kündigung"), vec![ids[5]]);
    let mixed = sb.show(ids[6]);
    assert_eq!(page_field(&mixed, "source"), ["mixed", "text_layer"]);
    assert!(
        mixed["pages"][0]["text"]
            .as_str()
            .unwrap()
            .contains("in an image"),
        "text inside the image is OCRed"
    );
    let tagged = sb.show(ids[7]);
    assert_eq!(
        page_field(&tagged, "source"),
        ["ocr"],
        "an empty text layer is not trusted"
    );
    assert!(tagged["pages"][0]["text"]
        .as_str()
        .unwrap()
        .contains("This is a test"));
    // A German scan built from a JPEG background and stencil masks (no text layer).
    assert_eq!(sb.search("\"freien Enzyklopädie\""), vec![ids[8]]);
    assert_eq!(sb.search("\"Optical character recognition\""), vec![ids[9]]);
    let skewed = sb.show(ids[10]);
    assert!(
        skewed["pages"][0]["text"]
            .as_str()
            .unwrap()
            .contains("LinnSequencer"),
        "a /Rotate'd, skewed page is read: {skewed}"
    );
    assert!(sb.search("LinnSequencer").contains(&ids[10]));
    // The blank-page rule on real pages: none of these pages is empty, none
    // may be left out (a one-line note, a photo, a mostly white scan).
    for id in &ids {
        let doc = sb.show(*id);
        let sources = page_field(&doc, "source");
        assert!(
            !sources.contains(&&Value::from("blank")),
            "{}: {sources:?}",
            doc["original_name"]
        );
    }
    sb.assert_check_passes();
}

#[test]
fn hostile_and_broken_files_are_rejected_with_a_specific_reason() {
    let sb = Sandbox::with_config("[limits]\nmax_pages = 20\n");
    let work = tempfile::tempdir().unwrap();
    let mut png_bomb = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png_bomb.extend_from_slice(&50_000u32.to_be_bytes());
    png_bomb.extend_from_slice(&50_000u32.to_be_bytes());
    png_bomb.extend_from_slice(b"\x08\x00\x00\x00\x00");
    let good_png = scanmaker::rasterise(
        &scanmaker::text_pdf(&[vec!["Test".into()]], Pose::Upright),
        50,
        Raster::Png,
    )
    .remove(0);
    let many_pages = scanmaker::text_pdf(&vec![vec!["Seite".to_string()]; 21], Pose::Upright);
    let generated = [
        ("empty.pdf", Vec::new(), "empty"),
        (
            "archive.pdf",
            b"PK\x03\x04\x14\0\0\0\x08\0".to_vec(),
            "unsupported_type",
        ),
        (
            "program.pdf",
            b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec(),
            "unsupported_type",
        ),
        ("bomb.png", png_bomb, "page_too_large"),
        (
            "truncated.png",
            good_png[..good_png.len() / 3].to_vec(),
            "corrupt_image",
        ),
        (
            "truncated.tif",
            b"II*\0\x08\0\0\0\x0c\0".to_vec(),
            "corrupt_image",
        ),
        ("many-pages.pdf", many_pages, "too_many_pages"),
    ];
    let mut files = Vec::new();
    let mut expected = Vec::new();
    for (name, bytes, code) in &generated {
        files.push(write(work.path(), name, bytes));
        expected.push(*code);
    }
    for (name, code) in [
        ("invalid.pdf", "corrupt_pdf"),
        ("corrupt-factur-x-waytoosmall.pdf", "corrupt_pdf"),
        ("infinite-loop-103.pdf", "corrupt_pdf"),
        ("bad1.pdf", "unknown_type"),
        ("corruptedV2PDF.pdf", "bad_page_size"),
        ("password-is-test.pdf", "encrypted"),
        ("encrypted.pdf", "encrypted"),
        ("hugemono.pdf", "page_too_large"),
        ("20K-gray.png", "page_too_large"),
    ] {
        files.push(fixture(&format!("hostile/{name}")));
        expected.push(code);
    }
    let blank = scanmaker::rasterise(
        &scanmaker::text_pdf(&[vec![]], Pose::Upright),
        150,
        Raster::Png,
    )
    .remove(0);
    let readable = [
        fixture("hostile/invalid_pdf.pdf"),
        fixture("hostile/signed.pdf"),
        write(work.path(), "blank page.png", &blank),
    ];
    files.extend(readable.iter().cloned());

    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = sb.eakte(
        &[
            &["ingest"][..],
            &refs.iter().map(|p| p.to_str().unwrap()).collect::<Vec<_>>(),
        ]
        .concat(),
    );
    assert!(
        !out.status.success(),
        "ingest reports failure when a file is rejected"
    );
    let lines: Vec<Value> = common::stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), files.len());
    for (line, code) in lines.iter().zip(&expected) {
        assert_eq!(line["status"], "rejected", "{line}");
        assert_eq!(line["code"], *code, "{line}");
        assert!(!line["error"].as_str().unwrap().is_empty());
    }
    // Junk before the header and an owner-password-only signed PDF are readable.
    let tail = &lines[expected.len()..];
    assert_eq!(tail[0]["status"], "stored", "{}", tail[0]);
    assert_eq!(tail[1]["status"], "stored", "{}", tail[1]);
    assert_eq!(
        tail[2]["status"], "stored",
        "a blank page is a document, not an error: {}",
        tail[2]
    );
    assert_eq!(sb.search("\"digitally signed\""), vec![doc_id(&tail[1])]);
    sb.assert_check_passes();
}

#[test]
fn the_same_bytes_twice_are_stored_once_and_both_arrivals_recorded() {
    let sb = Sandbox::new();
    let work = tempfile::tempdir().unwrap();
    let pdf = scanmaker::text_pdf(
        &[scanmaker::letter("Nordstrandischmoor", "Kopie")],
        Pose::Upright,
    );
    let a = write(work.path(), "erste Zustellung.pdf", &pdf);
    let b = write(work.path(), "zweite Zustellung.pdf", &pdf);
    let lines = sb.ingest(&[&a, &b], &[]);
    let mut statuses: Vec<&str> = lines
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        ["duplicate", "stored"],
        "both ingested at once: one stores, one is the duplicate"
    );
    assert_eq!(lines[0]["document_id"], lines[1]["document_id"]);
    assert_eq!(lines[0]["sha256"], lines[1]["sha256"]);
    let again = sb.ingest(&[&a], &[]);
    assert_eq!(again[0]["status"], "duplicate");

    let id = doc_id(&lines[0]);
    let doc = sb.show(id);
    assert_eq!(
        doc["arrivals"].as_array().unwrap().len(),
        3,
        "every arrival is recorded"
    );
    assert!(doc["original_name"]
        .as_str()
        .unwrap()
        .ends_with("Zustellung.pdf"));
    assert_eq!(sb.search("Nordstrandischmoor"), vec![id], "indexed once");
    let report = sb.assert_check_passes();
    assert_eq!(report["documents"], 1);
    assert_eq!(report["arrivals"], 3);
    let blobs = common::files_under(&sb.path().join("store/blobs"))
        .into_iter()
        .filter(|p| !p.starts_with(sb.path().join("store/blobs/tmp")))
        .count();
    assert_eq!(blobs, 1, "one blob for one content");
}

#[test]
fn the_index_is_derived_data_and_check_catches_damage() {
    let sb = Sandbox::new();
    let work = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = ["Amrumer Odde", "Pellwormer Deich", "Sylter Ellenbogen"]
        .iter()
        .enumerate()
        .map(|(i, m)| {
            write(
                work.path(),
                &format!("{i}.pdf"),
                &scanmaker::text_pdf(&[scanmaker::letter(m, "Nachweis")], Pose::Upright),
            )
        })
        .collect();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let ids: Vec<u64> = sb.ingest(&refs, &[]).iter().map(doc_id).collect();
    assert_eq!(sb.search("Pellwormer"), vec![ids[1]]);

    // Delete the index: search says how to get it back, reindex does.
    std::fs::remove_dir_all(sb.path().join("index")).unwrap();
    let out = sb.eakte(&["search", "Pellwormer"]);
    assert!(!out.status.success());
    assert!(
        common::stderr(&out).contains("eakte reindex"),
        "{}",
        common::stderr(&out)
    );
    let out = sb.eakte(&["reindex"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(
        common::stdout(&out).contains("reindexed 3 document"),
        "{}",
        common::stdout(&out)
    );
    assert_eq!(sb.search("Pellwormer"), vec![ids[1]]);
    assert_eq!(sb.search("Ellenbogen"), vec![ids[2]]);
    sb.assert_check_passes();

    // Alter one byte of one original: check names the document and fails.
    let doc = sb.show(ids[0]);
    let sha = doc["sha256"].as_str().unwrap();
    let blob = sb
        .path()
        .join("store/blobs")
        .join(&sha[..2])
        .join(&sha[2..4])
        .join(sha);
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[100] ^= 0x01;
    std::fs::write(&blob, bytes).unwrap();
    let out = sb.eakte(&["check"]);
    assert!(!out.status.success());
    let text = common::stdout(&out);
    assert!(
        text.contains(&format!("document {}: blob {sha} is altered", ids[0])),
        "{text}"
    );
}

#[test]
fn a_bad_configuration_is_refused_with_the_key_named() {
    let sb = Sandbox::with_config("[ocr]\nlanguage = \"deu\"\n");
    let out = sb.eakte(&["check"]);
    assert!(!out.status.success());
    let err = common::stderr(&out);
    assert!(err.contains("unknown field `language`"), "{err}");

    let sb = Sandbox::with_config("[ocr]\nlanguages = \"xyz\"\n");
    let file = sb.path().join("a.pdf");
    std::fs::write(
        &file,
        scanmaker::text_pdf(&[vec!["x".into()]], Pose::Upright),
    )
    .unwrap();
    let out = sb.eakte(&["ingest", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        common::stderr(&out).contains("tesseract-ocr-"),
        "missing language data is explained: {}",
        common::stderr(&out)
    );
}

/// A Bescheid set in two columns is read column by column, as the tesseract CLI
/// reads it with its automatic layout analysis; read as one uniform block (the
/// C API's default, which eakte used before), the lines interleave.
#[test]
fn a_two_column_page_is_read_column_by_column() {
    let (pdf, truth) = scanmaker::two_column_bescheid();
    let png = scanmaker::rasterise(&pdf, 300, Raster::Png).remove(0);
    let work = tempfile::tempdir().unwrap();
    let file = write(work.path(), "zweispaltig.png", &png);

    let sb = Sandbox::new();
    let line = sb.ingest(&[file.as_path()], &["--site", "husum"]).remove(0);
    let doc = sb.show(doc_id(&line));
    let text = doc["pages"][0]["text"].as_str().unwrap();
    let in_order = common::reading::in_order(&truth, text);
    assert!(in_order > 0.9, "words in order {in_order:.2}: {text}");
    let flowing = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flowing.contains("Widerspruch erhoben werden"),
        "a phrase of the right column stays whole: {text}"
    );

    // The page does tell the two ways of reading apart.
    let block = std::process::Command::new("tesseract")
        .arg(&file)
        .args(["-", "-l", "deu", "--psm", "6"])
        .output()
        .unwrap();
    let block = String::from_utf8_lossy(&block.stdout);
    let block_order = common::reading::in_order(&truth, &block);
    assert!(
        block_order < 0.75,
        "one uniform block interleaves the columns ({block_order:.2}): {block}"
    );
}

/// `[limits] pdf_passwords_file`: an encrypted PDF that one of the agreed
/// passwords opens is read and stored as received, with the entry that opened
/// it; one that none opens is set aside as encrypted, as without the file.
#[test]
fn an_encrypted_pdf_opens_with_an_agreed_password() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::with_config("[limits]\npdf_passwords_file = \"kennwoerter.txt\"\n");
    let passwords = sb.path().join("kennwoerter.txt");
    std::fs::write(&passwords, "# Kontoauszüge der Sparkasse\nfalsch\n\ntest\n").unwrap();
    std::fs::set_permissions(&passwords, std::fs::Permissions::from_mode(0o640)).unwrap();

    let opened = fixture("hostile/password-is-test.pdf");
    let other = fixture("hostile/encrypted.pdf");
    let lines = sb.ingest(&[opened.as_path(), other.as_path()], &[]);
    assert_eq!(lines[0]["status"], "stored", "{}", lines[0]);
    let doc = sb.show(doc_id(&lines[0]));
    assert_eq!(doc["opened_with"], 2, "the second password is the one");
    let received = std::fs::read(&opened).unwrap();
    assert_eq!(
        doc["sha256"],
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&received)),
        "stored as received, encrypted"
    );
    assert!(doc["pages"][0]["text"]
        .as_str()
        .unwrap()
        .contains("Password Protected PDF test"));
    assert_eq!(lines[1]["status"], "rejected");
    assert_eq!(lines[1]["code"], "encrypted", "{}", lines[1]);

    // An encrypted stack with a separator sheet: cut from its decrypted copy,
    // its letters open without the password.
    let letter = |m: &str| scanmaker::text_content(&scanmaker::letter(m, "Kontoauszug"));
    let stack = scanmaker::drawn_pdf(&[
        letter("Sparbuchseite"),
        common::barcodes::qr("PATCHT", 80.0, 120.0, 30.0).into_bytes(),
        letter("Girokontoblatt"),
    ]);
    let work = tempfile::tempdir().unwrap();
    let plain = write(
        work.path(),
        "stapel.pdf",
        &scanmaker::scanned_pdf(&scanmaker::rasterise(&stack, 150, Raster::Jpeg)),
    );
    let locked = work.path().join("stapel-verschluesselt.pdf");
    let status = std::process::Command::new("qpdf")
        .args(["--encrypt", "test", "test", "256", "--"])
        .arg(&plain)
        .arg(&locked)
        .status()
        .unwrap();
    assert!(status.success());
    let line = sb.ingest(&[locked.as_path()], &[]).remove(0);
    assert_eq!(line["status"], "split", "{line}");
    assert_eq!(sb.show(doc_id(&line))["opened_with"], 2);
    for part in line["parts"].as_array().unwrap() {
        let doc = sb.show(part.as_u64().unwrap());
        assert_eq!(doc["pages"].as_array().unwrap().len(), 1, "{doc}");
        assert!(
            doc.get("opened_with").is_none(),
            "a letter is not encrypted: {doc}"
        );
        let sha = doc["sha256"].as_str().unwrap();
        let blob = sb
            .path()
            .join("store/blobs")
            .join(&sha[0..2])
            .join(&sha[2..4])
            .join(sha);
        let out = std::process::Command::new("qpdf")
            .arg("--show-npages")
            .arg(&blob)
            .output()
            .unwrap();
        assert_eq!(common::stdout(&out).trim(), "1", "opens without a password");
    }
    assert_eq!(sb.search("Girokontoblatt").len(), 1);

    // A file every user may read is refused, naming the key.
    std::fs::set_permissions(&passwords, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = sb.eakte(&["check"]);
    assert!(!out.status.success());
    assert!(
        common::stderr(&out).contains("limits.pdf_passwords_file"),
        "{}",
        common::stderr(&out)
    );
}
