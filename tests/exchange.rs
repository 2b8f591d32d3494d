//! An Akte leaves one eakte as an xdomea 3.0.0 Abgabe and arrives in
//! another: real daemons on real ports, real OCR, the message checked by
//! xmllint against the official schemas, the package taken apart here.

mod common;

use common::scanmaker::{self, Pose};
use common::{stderr, stdout, wait_for, Sandbox, HUSUM_CASEWORKERS, HUSUM_PEOPLE};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

const ALBERS: &str = "07450BG0000102";

/// The receiving jobcenter: Maria Albers under another BG number (hers in
/// Kiel), found by her Kundennummer; one caseworker for everyone.
const KIEL_PEOPLE: &str =
    "bg_nummer,kundennummer,nachname,vorname,geburtsdatum,strasse,plz,ort,standort\n\
    01002BG0000777,102B000001,Albers,Maria,1975-05-20,Holstenstraße 1,24103,Kiel,kiel\n\
    01002BG0000778,555C000001,Carstens,Uwe,1960-01-01,Holstenstraße 2,24103,Kiel,kiel\n";
const KIEL_CASEWORKERS: &str =
    "kennung,name,standort,von,bis,team\nsb-k1,Kai Kock,kiel,A,Z,Kiel 1\n";

struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    fn new(base: String) -> Client {
        Client {
            base,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
        }
    }

    /// GET: status, the X-Eakte-Sha256 header, the body's bytes.
    fn get(&self, token: &str, path: &str) -> (u16, Option<String>, Vec<u8>) {
        let mut r = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .unwrap();
        let sha = r
            .headers()
            .get("x-eakte-sha256")
            .map(|v| v.to_str().unwrap().to_string());
        let mut body = Vec::new();
        r.body_mut()
            .with_config()
            .limit(1 << 30)
            .reader()
            .read_to_end(&mut body)
            .unwrap();
        (r.status().as_u16(), sha, body)
    }

    fn json(&self, token: &str, path: &str) -> Value {
        let (status, _, body) = self.get(token, path);
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    }

    fn post(&self, token: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
        let mut r = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", content_type)
            .send(body)
            .unwrap();
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// The package's files by name.
fn unpack(zip: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        out.insert(file.name().to_string(), bytes);
    }
    out
}

fn pack(files: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        writer
            .start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// xmllint's verdict on `xml` against the committed official schemas.
fn validate(xml: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("message.xml");
    std::fs::write(&path, xml).unwrap();
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/xdomea_3.0.0/xdomea.xsd");
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&schema)
        .arg(&path)
        .output()
        .expect("xmllint (libxml2-utils) is installed");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The message of a package, and its name.
fn message(files: &BTreeMap<String, Vec<u8>>) -> (String, String) {
    let (name, xml) = files
        .iter()
        .find(|(n, _)| n.ends_with("_Abgabe.Abgabe.0401.xml"))
        .expect("the package holds its message");
    (name.clone(), String::from_utf8(xml.clone()).unwrap())
}

/// Every text between `<xdomea:{element}>` and its end tag.
fn texts(xml: &str, element: &str) -> Vec<String> {
    let (open, close) = (
        format!("<xdomea:{element}>"),
        format!("</xdomea:{element}>"),
    );
    xml.split(&open)
        .skip(1)
        .map(|rest| rest.split(&close).next().unwrap().to_string())
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

struct Husum {
    sb: Sandbox,
    daemon: common::Daemon,
    api: Client,
    cw: String,
    other: String,
    admin: String,
    auditor: String,
    /// Marker words, one per document, by what the document is.
    markers: BTreeMap<&'static str, &'static str>,
}

/// Husum's eakte with Maria Albers' Akte: a scanned Widerspruch (OCR), a
/// born-digital letter, an e-mail with a PDF attachment, a note, a
/// Bescheid, and a letter that went to clearing first and was assigned to
/// her there.
fn husum() -> Husum {
    let sb = Sandbox::new();
    sb.import("recipients", HUSUM_PEOPLE);
    sb.import("caseworkers", HUSUM_CASEWORKERS);
    let mut markers = BTreeMap::new();
    let scan = scanmaker::noisy_tiff(
        &scanmaker::jobcenter_letter(&[
            "Kundennummer 102B000001",
            "Widerspruch gegen den Bescheid vom 02.11.2026",
            "Kennwort Seehundstation",
        ]),
        200,
        0.0,
    );
    markers.insert("scan", "Seehundstation");
    let letter = scanmaker::jobcenter_letter(&[
        "BG-Nr. 07450BG0000102",
        "Antrag auf Weiterbewilligung, Kennwort Halligwarft",
    ]);
    markers.insert("letter", "Halligwarft");
    let unknown = scanmaker::jobcenter_letter(&["Widerspruch ohne Angaben, Kennwort Prielstrom"]);
    markers.insert("clearing", "Prielstrom");
    let mut ids = BTreeMap::new();
    for (name, bytes, ext) in [
        ("scan", scan, "tiff"),
        ("letter", letter, "pdf"),
        ("clearing", unknown, "pdf"),
    ] {
        let path = sb.path().join(format!("{name}.{ext}"));
        std::fs::write(&path, bytes).unwrap();
        let line = sb.ingest(&[&path], &["--site", "husum"]).remove(0);
        assert_eq!(line["status"], "stored", "{line}");
        ids.insert(name, line["document_id"].as_u64().unwrap());
    }
    let cw = sb.add_user(&["Hanna", "--role", "caseworker", "--caseworker", "sb-h1"]);
    let other = sb.add_user(&["Lena", "--role", "caseworker", "--caseworker", "sb-h2"]);
    let clearing = sb.add_user(&["Klärung", "--role", "clearing", "--site", "husum"]);
    let admin = sb.add_user(&["Admin", "--role", "admin"]);
    let auditor = sb.add_user(&["Revision", "--role", "auditor"]);
    let daemon = sb.serve();
    let api = Client::new(daemon.api());

    let item = api.json(&clearing, &format!("/api/v1/documents/{}", ids["clearing"]))["item"]["id"]
        .as_u64()
        .unwrap();
    let (status, body) = api.post(
        &clearing,
        &format!("/api/v1/postbox/items/{item}/correct"),
        "application/json",
        json!({ "bg": ALBERS, "note": "Handschrift erkannt" })
            .to_string()
            .as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let upload = |schlagwort: &str, content_type: &str, body: Vec<u8>| {
        let (status, body) = api.post(
            &cw,
            &format!("/api/v1/akten/{ALBERS}/documents?schlagwort={schlagwort}"),
            content_type,
            &body,
        );
        assert_eq!(status, 201, "{body}");
    };
    upload(
        "Korrespondenz",
        "message/rfc822",
        scanmaker::email_with_pdf("Wattenmeer"),
    );
    markers.insert("mail", "Wattenmeer");
    upload(
        "Vermerk",
        "text/plain",
        "Telefonnotiz: Rückruf wegen Strandkorb".into(),
    );
    markers.insert("note", "Strandkorb");
    upload(
        "Bescheide",
        "application/pdf",
        scanmaker::text_pdf(
            &[vec!["Bewilligungsbescheid Kennwort Deichschaf".to_string()]],
            Pose::Upright,
        ),
    );
    markers.insert("bescheid", "Deichschaf");
    // A read, for the history.
    let (status, _, _) = api.get(&cw, &format!("/api/v1/documents/{}/text", ids["scan"]));
    assert_eq!(status, 200);
    wait_for("Husum's index", || {
        api.json(&cw, "/api/v1/search?q=Deichschaf")["total"] == 1
    });
    Husum {
        sb,
        daemon,
        api,
        cw,
        other,
        admin,
        auditor,
        markers,
    }
}

/// A fresh eakte in Kiel with its own registry.
fn kiel() -> (Sandbox, common::Daemon, Client, String, String) {
    let sb = Sandbox::new();
    sb.import("recipients", KIEL_PEOPLE);
    sb.import("caseworkers", KIEL_CASEWORKERS);
    let cw = sb.add_user(&["Kai", "--role", "caseworker", "--caseworker", "sb-k1"]);
    let admin = sb.add_user(&["Admin Kiel", "--role", "admin"]);
    let daemon = sb.serve();
    let api = Client::new(daemon.api());
    (sb, daemon, api, cw, admin)
}

const EXPORT: &str =
    "export?empfaenger=Jobcenter%20Kiel&empfaenger_praefix=ags&empfaenger_schluessel=01002000";

#[test]
fn an_akte_leaves_husum_as_xdomea_and_arrives_whole_in_kiel() {
    let h = husum();
    let (status, sha, zip) = h
        .api
        .get(&h.cw, &format!("/api/v1/akten/{ALBERS}/{EXPORT}"));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&zip));
    assert_eq!(sha.as_deref(), Some(sha256_hex(&zip).as_str()));
    let files = unpack(&zip);
    let (name, xml) = message(&files);
    validate(xml.as_bytes()).unwrap();
    let prozess = name.strip_suffix("_Abgabe.Abgabe.0401.xml").unwrap();
    assert_eq!(texts(&xml, "ProzessID"), [prozess]);
    // Every primary file is in the package under its UUID name, and nothing else.
    let named = texts(&xml, "Dateiname");
    assert_eq!(
        named.len(),
        7,
        "scan, letter, clearing letter, mail + attachment, note, Bescheid"
    );
    for n in &named {
        assert!(files.contains_key(n), "{n} is named but missing");
        assert_eq!(n.as_bytes()[8], b'-', "{n} starts with a UUID");
    }
    assert_eq!(files.len(), named.len() + 1);
    assert_eq!(texts(&xml, "Kennzeichen")[0], ALBERS);
    for schlagwort in ["Widerspruch", "Korrespondenz", "Vermerk", "Bescheide"] {
        assert!(
            xml.contains(&format!("<xdomea:Betreff>{schlagwort}</xdomea:Betreff>")),
            "Vorgang {schlagwort}:\n{xml}"
        );
    }
    assert!(
        xml.contains("<xdomea:Anlage>"),
        "the e-mail's attachment as its Anlage"
    );
    assert!(
        xml.contains("<code>102B000001</code>") || xml.contains("102B000001"),
        "her Kundennummer"
    );
    assert!(
        xml.contains("<xdomea:Aktion>Text gelesen</xdomea:Aktion>"),
        "the read from the audit trail"
    );
    assert!(xml.contains("korrigiert"), "the clearing history");
    assert!(xml.contains("<xdomea:Name>Jobcenter Kiel</xdomea:Name>"));
    assert!(xml.contains("<xdomea:Importbestaetigung>1</xdomea:Importbestaetigung>"));

    // The same documents get the same UUIDs in every export; the process is new.
    let (_, _, again) = h
        .api
        .get(&h.cw, &format!("/api/v1/akten/{ALBERS}/{EXPORT}"));
    let (again_name, again_xml) = message(&unpack(&again));
    assert_ne!(again_name, name);
    assert_eq!(texts(&again_xml, "ID"), texts(&xml, "ID"));

    // Partial: only the Widerspruch Schlagwort, only days that exist.
    let (status, _, part) = h.api.get(
        &h.cw,
        &format!("/api/v1/akten/{ALBERS}/{EXPORT}&schlagwort=Widerspruch"),
    );
    assert_eq!(status, 200);
    let (_, part_xml) = message(&unpack(&part));
    validate(part_xml.as_bytes()).unwrap();
    assert_eq!(
        texts(&part_xml, "Dateiname").len(),
        2,
        "the scan and the clearing letter:\n{part_xml}"
    );
    let (_, _, none) = h.api.get(
        &h.cw,
        &format!("/api/v1/akten/{ALBERS}/{EXPORT}&to=2000-01-01"),
    );
    assert_eq!(texts(&message(&unpack(&none)).1, "Dateiname").len(), 0);

    // Scope: another caseworker, an admin, and a BG nobody has answer alike.
    for (token, bg) in [
        (&h.other, ALBERS),
        (&h.admin, ALBERS),
        (&h.cw, "07450BG0009999"),
    ] {
        let (status, _, body) = h.api.get(token, &format!("/api/v1/akten/{bg}/{EXPORT}"));
        assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    }
    let (status, _, _) = h.api.get(&h.cw, &format!("/api/v1/akten/{ALBERS}/export"));
    assert_eq!(status, 400, "no receiving authority");
    let audit = h
        .api
        .json(&h.auditor, "/api/v1/audit?action=export_akte&limit=1000");
    let entries = audit.as_array().unwrap();
    let ok: Vec<&Value> = entries.iter().filter(|e| e["outcome"] == "ok").collect();
    assert_eq!(ok.len(), 4, "{audit:#}");
    let first = ok[0]["detail"].as_str().unwrap();
    assert!(
        first.contains(&sha256_hex(&zip))
            && first.contains("Jobcenter Kiel")
            && first.contains("whole Akte"),
        "{first}"
    );
    assert!(ok[2]["detail"]
        .as_str()
        .unwrap()
        .contains("schlagworte Widerspruch"));
    // The admin's refusal is the gate's (a wrong role), recorded as such.
    assert_eq!(
        entries.iter().filter(|e| e["outcome"] == "denied").count(),
        2
    );

    // Kiel takes it.
    let (kiel_sb, kiel_daemon, kiel, kai, kiel_admin) = kiel();
    let (status, body) = kiel.post(&kai, "/api/v1/admin/import/xdomea", "application/zip", &zip);
    assert_eq!(status, 404, "a caseworker may not import: {body}");
    let (status, imported) = kiel.post(
        &kiel_admin,
        "/api/v1/admin/import/xdomea",
        "application/zip",
        &zip,
    );
    assert_eq!(status, 201, "{imported:#}");
    assert_eq!(imported["bg"], "01002BG0000777", "{imported:#}");
    assert_eq!(imported["documents"].as_array().unwrap().len(), 7);
    assert_eq!(imported["postbox"], "sb-k1");
    let receipt = imported["receipt"].as_str().unwrap();
    validate(receipt.as_bytes()).unwrap();
    assert!(
        receipt.contains(prozess) && !receipt.contains("<xdomea:Erfolgreich>0"),
        "{receipt}"
    );

    // Same documents, same bytes, same Eingangsdaten and Schlagworte.
    let husum_akte = h.api.json(&h.cw, &format!("/api/v1/akten/{ALBERS}"));
    let kiel_akte = kiel.json(&kai, "/api/v1/akten/01002BG0000777");
    let documents = |akte: &Value,
                     api: &Client,
                     token: &str|
     -> BTreeMap<String, (String, String, String, String)> {
        let mut out = BTreeMap::new();
        for group in akte["schlagworte"].as_array().unwrap() {
            for d in group["documents"].as_array().unwrap() {
                let id = d["id"].as_u64().unwrap();
                let (_, _, original) = api.get(token, &format!("/api/v1/documents/{id}/original"));
                out.insert(
                    sha256_hex(&original),
                    (
                        group["schlagwort"].as_str().unwrap().to_string(),
                        d["received_at"].as_str().unwrap().to_string(),
                        d["doc_type"].as_str().unwrap().to_string(),
                        d["name"].as_str().unwrap().to_string(),
                    ),
                );
            }
        }
        out
    };
    let mut in_kiel = documents(&kiel_akte, &kiel, &kai);
    let takeover: Vec<String> = in_kiel
        .iter()
        .filter(|(_, (s, ..))| s == "Aktenübernahme")
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(
        takeover.len(),
        1,
        "the message itself, as the item's document"
    );
    in_kiel.remove(&takeover[0]);
    assert_eq!(in_kiel, documents(&husum_akte, &h.api, &h.cw));

    // Searchable by their words, scanned ones too.
    for (what, marker) in &h.markers {
        wait_for(&format!("the {what} to be searchable in Kiel"), || {
            kiel.json(&kai, &format!("/api/v1/search?q={marker}"))["total"] == 1
        });
    }
    // One item for the whole Akte, in the responsible caseworker's postbox.
    let postbox = kiel.json(&kai, "/api/v1/postbox");
    let items = postbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{postbox:#}");
    assert_eq!(items[0]["doc_type"], "Akte übernommen");
    assert_eq!(items[0]["bg"], "01002BG0000777");

    // The same message again changes nothing.
    let (status, again) = kiel.post(
        &kiel_admin,
        "/api/v1/admin/import/xdomea",
        "application/zip",
        &zip,
    );
    assert_eq!(status, 200, "{again:#}");
    assert_eq!(again["already"], true);
    assert_eq!(again["message_document"], imported["message_document"]);
    assert_eq!(
        kiel.json(&kai, "/api/v1/postbox")["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(kiel_daemon.stop());
    let report = kiel_sb.assert_check_passes();
    assert_eq!(report["documents"], 8, "{report:#}");
    assert_eq!(report["items"], 1, "{report:#}");
    assert!(h.daemon.stop());
    h.sb.assert_check_passes();
}

/// A tool's standard output for `file`.
fn tool(program: &str, args: &[&str], file: &Path) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .arg(file)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_akte_prints_as_one_paginated_pdf_with_every_text_and_checksum() {
    let h = husum();
    let (status, sha, pdf) = h.api.get(
        &h.cw,
        &format!("/api/v1/akten/{ALBERS}/export?format=pdf&empfaenger=Sozialgericht%20Schleswig"),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(sha.as_deref(), Some(sha256_hex(&pdf).as_str()));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("akte.pdf");
    std::fs::write(&path, &pdf).unwrap();
    // To look at it: EAKTE_KEEP_PDF=target/akte.pdf cargo test --test exchange prints
    if let Ok(keep) = std::env::var("EAKTE_KEEP_PDF") {
        std::fs::write(keep, &pdf).unwrap();
    }
    let out = std::process::Command::new("pdfinfo")
        .arg(&path)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{info}");
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Cover, contents, 7 documents of one page each, checksums.
    assert_eq!(pages, 1 + 1 + 7 + 1, "{info}");
    // Its structure is sound, not just readable by a forgiving reader.
    let check = std::process::Command::new("qpdf")
        .arg("--check")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let text = tool("pdftotext", &["-layout"], &path);
    for needle in [
        "Aktenauszug",
        ALBERS,
        "Albers, Maria (geb. 20.05.1975)",
        "Sozialgericht Schleswig",
        "Inhaltsverzeichnis",
        "Blatt 1",
        "Blatt 7",
        "Prüfsummen der Originale",
        "Widerspruch",
    ] {
        assert!(
            text.contains(needle),
            "{needle} missing:
{text}"
        );
    }
    for (what, marker) in &h.markers {
        assert!(
            text.contains(marker),
            "the {what}'s text ({marker}) is not in the PDF:
{text}"
        );
    }
    let akte = h.api.json(&h.cw, &format!("/api/v1/akten/{ALBERS}"));
    for group in akte["schlagworte"].as_array().unwrap() {
        for d in group["documents"].as_array().unwrap() {
            let (_, _, original) = h
                .api
                .get(&h.cw, &format!("/api/v1/documents/{}/original", d["id"]));
            assert!(
                text.contains(&sha256_hex(&original)),
                "the checksum of {}",
                d["name"]
            );
        }
    }
    // Each page of a document is numbered; the scan is an image page.
    let images = std::process::Command::new("pdfimages")
        .arg("-list")
        .arg(&path)
        .output()
        .unwrap();
    let images = String::from_utf8_lossy(&images.stdout);
    assert!(
        images.lines().count() > 2,
        "the scan's page is an image:
{images}"
    );
    let audit = h.api.json(&h.auditor, "/api/v1/audit?action=export_akte");
    let detail = audit[0]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("pdf (whole Akte) for Sozialgericht Schleswig")
            && detail.contains(&sha256_hex(&pdf)),
        "{detail}"
    );
    assert!(h.daemon.stop());
}

#[test]
fn a_broken_package_changes_nothing_and_says_what_is_wrong() {
    let h = husum();
    let (_, _, zip) = h.api.get(
        &h.cw,
        &format!("/api/v1/akten/{ALBERS}/{EXPORT}&schlagwort=Vermerk&schlagwort=Bescheide"),
    );
    assert!(h.daemon.stop());
    let files = unpack(&zip);
    let (message_name, xml) = message(&files);
    let primary = texts(&xml, "Dateiname")[0].clone();

    let mut tampered = files.clone();
    tampered.get_mut(&primary).unwrap()[0] ^= 1;
    let mut missing = files.clone();
    missing.remove(&primary);
    let mut invalid = files.clone();
    invalid.insert(
        message_name.clone(),
        xml.replace(
            "<xdomea:Importbestaetigung>1",
            "<xdomea:Importbestaetigung>0",
        )
        .into_bytes(),
    );
    let mut no_message = files.clone();
    no_message.remove(&message_name);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated", zip[..zip.len() / 2].to_vec(), "not a ZIP"),
        ("not a zip", b"%PDF-1.4 nothing".to_vec(), "not a ZIP"),
        ("tampered", pack(&tampered), "does not match its SHA-256"),
        ("missing", pack(&missing), "is missing from the package"),
        (
            "schema",
            pack(&invalid),
            "does not validate against the xdomea 3.0.0 schema",
        ),
        ("no message", pack(&no_message), "holds no message"),
    ];
    let (kiel_sb, kiel_daemon, kiel, _kai, admin) = kiel();
    for (what, body, said) in &cases {
        let (status, answer) = kiel.post(
            &admin,
            "/api/v1/admin/import/xdomea",
            "application/zip",
            body,
        );
        assert_eq!(status, 422, "{what}: {answer:#}");
        let detail = answer["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(said) && detail.contains("nothing was changed"),
            "{what}: {detail}"
        );
    }
    assert!(kiel_daemon.stop());
    let report = kiel_sb.assert_check_passes();
    assert_eq!(report["documents"], 0, "{report:#}");

    // Someone Kiel does not know: the whole Akte waits in clearing, with the reason.
    let unknown = Sandbox::new();
    unknown.import("caseworkers", KIEL_CASEWORKERS);
    let path = unknown.path().join("akte.zip");
    std::fs::write(&path, &zip).unwrap();
    let out = unknown.eakte(&[
        "import-akte",
        path.to_str().unwrap(),
        "--json",
        "--receipt",
        unknown.path().join("receipt.xml").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let taken: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(taken["bg"], Value::Null);
    assert!(
        taken["postbox"].as_str().unwrap().starts_with("klaerung"),
        "{taken:#}"
    );
    assert!(
        taken["clearing"].as_str().unwrap().contains("no recipient"),
        "{taken:#}"
    );
    validate(&std::fs::read(unknown.path().join("receipt.xml")).unwrap()).unwrap();
}

#[test]
fn the_command_line_exports_and_imports_without_a_daemon() {
    let sb = Sandbox::new();
    sb.import("recipients", HUSUM_PEOPLE);
    sb.import("caseworkers", HUSUM_CASEWORKERS);
    let letter = sb.path().join("brief.pdf");
    std::fs::write(
        &letter,
        scanmaker::jobcenter_letter(&["BG-Nr. 07450BG0000102", "Kennwort Nordstrand"]),
    )
    .unwrap();
    sb.ingest(&[&letter], &["--site", "husum"]);
    let out_file = sb.path().join("akte.zip");
    let out = sb.eakte(&[
        "export",
        ALBERS,
        "--out",
        out_file.to_str().unwrap(),
        "--empfaenger",
        "Sozialgericht Schleswig",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 documents"), "{}", stderr(&out));
    let zip = std::fs::read(&out_file).unwrap();
    validate(message(&unpack(&zip)).1.as_bytes()).unwrap();
    // A failed export leaves no file behind under the name asked for.
    let failed = sb.path().join("nichts.zip");
    let out = sb.eakte(&[
        "export",
        "07450BG0009999",
        "--out",
        failed.to_str().unwrap(),
        "--empfaenger",
        "X",
    ]);
    assert!(!out.status.success());
    assert!(!failed.exists());

    let (kiel_sb, daemon, _, kai, _) = kiel();
    assert!(daemon.stop());
    let out = kiel_sb.eakte(&["import-akte", out_file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .contains("1 documents from Jobcenter Kreis Nordfriesland into BG 01002BG0000777"),
        "{}",
        stdout(&out)
    );
    let daemon = kiel_sb.serve();
    let found = Client::new(daemon.api()).json(&kai, "/api/v1/search?q=Nordstrand");
    assert_eq!(found["total"], 1, "{found:#}");
    assert!(daemon.stop());
}
