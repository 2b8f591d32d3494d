//! The HTTP API against the real daemon on an ephemeral port, with a real HTTP
//! client: who may see what (each role × each resource), long-polling, item
//! work, uploads of e-mails with attachments, and the audit trail.

mod common;

use common::scanmaker::{self, Pose};
use common::{stderr, stdout, wait_for, Daemon, Sandbox};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

const CASEWORKERS: &str = "kennung,name,standort,von,bis,team\n\
    sb-h1,Hanna Hansen,husum,A,K,Husum 1\n\
    sb-h2,Lena Lorenzen,husum,L,Z,Husum 1\n\
    sb-n1,Nils Nommensen,niebuell,A,Z,Niebüll\n";

const PEOPLE: &str =
    "bg_nummer,kundennummer,nachname,vorname,geburtsdatum,strasse,plz,ort,standort\n\
    07450BG0000101,101A000001,Petersen,Jens,04.03.1980,Norderstraße 12,25813,Husum,husum\n\
    07450BG0000102,102B000001,Albers,Maria,1975-05-20,Süderstraße 3,25813,Husum,husum\n\
    07451BG0000201,201A000001,Nissen,Nils,1960-04-04,Hauptstraße 1,25899,Niebüll,niebuell\n";

/// A running daemon with a registry, one letter per postbox and a user per role.
struct World {
    sb: Sandbox,
    daemon: Option<Daemon>,
    base: String,
    agent: ureq::Agent,
    /// Token per user: cw1 (sb-h1), cw2 (sb-h2), clearing (husum), lead (team Husum 1), admin, admin2, auditor.
    tokens: HashMap<&'static str, String>,
    /// Document id per letter: petersen (sb-h2), albers (sb-h1), nissen (sb-n1), unknown (clearing).
    docs: HashMap<&'static str, u64>,
}

fn letter(lines: &[&str]) -> Vec<u8> {
    scanmaker::jobcenter_letter(lines)
}

fn world() -> World {
    world_with("")
}

/// A world whose `eakte.toml` has `extra` sections.
fn world_with(extra: &str) -> World {
    let sb = Sandbox::with_config(extra);
    sb.import("recipients", PEOPLE);
    sb.import("caseworkers", CASEWORKERS);

    let letters: [(&str, Vec<u8>); 4] = [
        (
            "petersen",
            letter(&[
                "BG-Nr. 07450BG0000101",
                "Widerspruch gegen den Bescheid. Wattwanderung Deichgraf.",
            ]),
        ),
        (
            "albers",
            letter(&[
                "Kundennummer 102B000001",
                "Meine Arbeitsunfähigkeitsbescheinigung. Wattwanderung Halligfähre.",
            ]),
        ),
        (
            "nissen",
            letter(&[
                "BG-Nr. 07451BG0000201",
                "Mein Kontoauszug. Wattwanderung Leuchtturm.",
            ]),
        ),
        (
            "unknown",
            letter(&["Ohne Angaben zur Person. Wattwanderung Sturmflut."]),
        ),
    ];
    let mut docs = HashMap::new();
    for (name, bytes) in letters {
        let path = sb.path().join(format!("{name}.pdf"));
        std::fs::write(&path, bytes).unwrap();
        let line = sb.ingest(&[&path], &["--site", "husum"]).remove(0);
        docs.insert(name, line["document_id"].as_u64().unwrap());
    }

    let mut tokens = HashMap::new();
    for (key, args) in [
        (
            "cw1",
            vec!["Hanna", "--role", "caseworker", "--caseworker", "sb-h1"],
        ),
        (
            "cw2",
            vec!["Lena", "--role", "caseworker", "--caseworker", "sb-h2"],
        ),
        (
            "clearing",
            vec!["Klärung Husum", "--role", "clearing", "--site", "husum"],
        ),
        (
            "lead",
            vec!["Teamleitung", "--role", "teamlead", "--team", "Husum 1"],
        ),
        ("admin", vec!["Admin", "--role", "admin"]),
        ("admin2", vec!["Zweite Admin", "--role", "admin"]),
        ("auditor", vec!["Revision", "--role", "auditor"]),
    ] {
        tokens.insert(key, sb.add_user(&args));
    }
    let daemon = sb.serve();
    let base = daemon.api();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    World {
        sb,
        daemon: Some(daemon),
        base,
        agent,
        tokens,
        docs,
    }
}

impl World {
    fn get(&self, who: &str, path: &str) -> (u16, String) {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(token) = self.tokens.get(who) {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let mut response = request.call().unwrap();
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    }

    fn get_json(&self, who: &str, path: &str) -> Value {
        let (status, body) = self.get(who, path);
        assert_eq!(status, 200, "{who} GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    fn post(&self, who: &str, path: &str, content_type: &str, body: Vec<u8>) -> (u16, String) {
        let mut response = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.tokens[who]))
            .content_type(content_type)
            .send(&body[..])
            .unwrap();
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    }

    fn post_json(&self, who: &str, path: &str, body: Value) -> (u16, String) {
        self.post(
            who,
            path,
            "application/json",
            serde_json::to_vec(&body).unwrap(),
        )
    }

    /// An access change asked for by admin and, as four eyes want, approved
    /// by admin2: the approval's answer (201 for what was created).
    fn granted(&self, path: &str, body: Value) -> (u16, String) {
        let (status, answer) = self.post_json("admin", path, body);
        if status != 202 {
            return (status, answer);
        }
        let pending: Value = serde_json::from_str(&answer).unwrap();
        let approve = format!("/api/v1/admin/pending/{}/approve", pending["id"]);
        let (status, approved) = self.post_json("admin2", &approve, json!({}));
        assert_eq!(status, 200, "{approved}");
        (201, approved)
    }

    fn item_of(&self, who: &str, doc: &str) -> u64 {
        let meta = self.get_json(who, &format!("/api/v1/documents/{}", self.docs[doc]));
        meta["item"]["id"].as_u64().unwrap()
    }

    fn stop(&mut self) {
        assert!(self.daemon.take().unwrap().stop());
    }
}

#[test]
fn every_role_sees_exactly_what_it_may() {
    let w = world();
    let doc = |name: &str| format!("/api/v1/documents/{}", w.docs[name]);
    let roles = ["cw1", "cw2", "clearing", "lead", "admin", "auditor"];
    // Expected status per role, in the order of `roles`.
    let matrix: Vec<(String, [u16; 6])> = vec![
        (doc("petersen"), [404, 200, 404, 200, 404, 404]),
        (
            format!("{}/text", doc("petersen")),
            [404, 200, 404, 200, 404, 404],
        ),
        (
            format!("{}/original", doc("petersen")),
            [404, 200, 404, 200, 404, 404],
        ),
        (doc("albers"), [200, 404, 404, 200, 404, 404]),
        (doc("nissen"), [404, 404, 404, 404, 404, 404]),
        (doc("unknown"), [404, 404, 200, 404, 404, 404]),
        (
            "/api/v1/documents/999999999".into(),
            [404, 404, 404, 404, 404, 404],
        ),
        (
            "/api/v1/akten/07450BG0000101".into(),
            [404, 200, 404, 200, 404, 404],
        ),
        (
            "/api/v1/akten/07451BG0000201".into(),
            [404, 404, 404, 404, 404, 404],
        ),
        ("/api/v1/postbox".into(), [200, 200, 200, 200, 404, 404]),
        (
            "/api/v1/search?q=Wattwanderung".into(),
            [200, 200, 200, 200, 404, 404],
        ),
        ("/api/v1/audit".into(), [404, 404, 404, 404, 404, 200]),
        ("/api/v1/admin/users".into(), [404, 404, 404, 404, 200, 404]),
        (
            "/api/v1/admin/absences".into(),
            [404, 404, 404, 404, 200, 404],
        ),
        ("/metrics".into(), [404, 404, 404, 404, 200, 200]),
        (
            "/api/v1/openapi.json".into(),
            [200, 200, 200, 200, 200, 200],
        ),
    ];
    for (path, expected) in &matrix {
        for (role, status) in roles.iter().zip(expected) {
            let (got, body) = w.get(role, path);
            assert_eq!(got, *status, "{role} GET {path}: {body}");
            if got == 404 {
                assert!(
                    body.contains("\"status\":404"),
                    "a problem document: {body}"
                );
            }
        }
    }
    // Nothing without a valid token, except the health check.
    assert_eq!(w.get("nobody", "/healthz").0, 200);
    for path in [
        "/api/v1/postbox",
        &doc("petersen"),
        "/api/v1/search?q=x",
        "/metrics",
    ] {
        assert_eq!(w.get("nobody", path).0, 401, "{path}");
    }
    let mut bad = w
        .agent
        .get(format!("{}/api/v1/postbox", w.base))
        .header("Authorization", "Bearer eakte_guess");
    bad = bad.header("Accept", "application/json");
    assert_eq!(bad.call().unwrap().status().as_u16(), 401);

    // Search results stay within scope; the team lead sees the team's.
    let hits = |who: &str| -> Vec<u64> {
        let r = w.get_json(who, "/api/v1/search?q=Wattwanderung");
        let mut ids: Vec<u64> = r["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_u64().unwrap())
            .collect();
        ids.sort();
        assert_eq!(r["total"].as_u64().unwrap() as usize, ids.len());
        ids
    };
    assert_eq!(hits("cw1"), vec![w.docs["albers"]]);
    assert_eq!(hits("cw2"), vec![w.docs["petersen"]]);
    assert_eq!(hits("clearing"), vec![w.docs["unknown"]]);
    let mut team = vec![w.docs["petersen"], w.docs["albers"]];
    team.sort();
    assert_eq!(hits("lead"), team);
    let r = w.get_json("lead", "/api/v1/search?q=Wattwanderung&type=Widerspruch");
    assert_eq!(r["total"], 1, "filters apply: {r}");
    assert_eq!(r["facets"]["doc_type"]["Widerspruch"], 1, "{r}");
    assert!(
        r["hits"][0]["snippet"].as_str().unwrap().contains("<b>"),
        "{r}"
    );

    // Bad input is a 400 problem, never a 500.
    for path in [
        "/api/v1/search?q=x&limit=0",
        "/api/v1/search?q=x&limit=abc",
        "/api/v1/search?q=x&nonsense=1",
        "/api/v1/search",
        "/api/v1/search?q=x&from=gestern",
    ] {
        let (status, body) = w.get("cw1", path);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains("\"type\""), "{path}: {body}");
    }
    let mut wrong = w
        .agent
        .post(format!("{}/api/v1/search?q=x", w.base))
        .header("Authorization", format!("Bearer {}", w.tokens["cw1"]))
        .send_empty()
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 405);
    assert!(wrong.headers().get("allow").is_some());
    assert!(wrong
        .body_mut()
        .read_to_string()
        .unwrap()
        .contains("\"status\":405"));
    let spec = w.get_json("admin", "/api/v1/openapi.json");
    assert!(spec["paths"]["/api/v1/search"]["get"].is_object());
    assert!(spec["paths"]["/api/v1/postbox/items/{id}/{action}"]["post"].is_object());
}

#[test]
fn a_long_poll_wakes_when_a_scan_reaches_the_postbox() {
    let w = world();
    let start = w.get_json("cw2", "/api/v1/postbox");
    assert_eq!(start["items"].as_array().unwrap().len(), 1);
    let cursor = start["cursor"].as_u64().unwrap();

    let (base, token, agent) = (w.base.clone(), w.tokens["cw2"].clone(), w.agent.clone());
    let poll = std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let mut response = agent
            .get(format!("{base}/api/v1/postbox?since={cursor}&wait=60"))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .unwrap();
        let body: Value = response.body_mut().read_json().unwrap();
        (body, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(500));
    scanmaker::put(
        &w.sb.inbox().join("husum/neu.pdf"),
        &letter(&[
            "BG-Nr. 07450BG0000101",
            "Veränderungsmitteilung: neue Bankverbindung.",
        ]),
    );
    let (body, took) = poll.join().unwrap();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "the new item, and only it: {body}");
    assert_eq!(items[0]["bg"], "07450BG0000101");
    assert_eq!(items[0]["doc_type"], "Veränderungsmitteilung");
    assert!(
        took < Duration::from_secs(60),
        "woken by the change, not by the timeout"
    );
    assert!(body["cursor"].as_u64().unwrap() > cursor);
    // Nobody else was woken with it: cw1's changes after the same cursor are empty.
    let other = w.get_json("cw1", &format!("/api/v1/postbox?since={cursor}&wait=2"));
    assert!(other["items"].as_array().unwrap().is_empty(), "{other}");
}

#[test]
fn caseworkers_work_items_through_the_api() {
    let w = world();
    let item = w.item_of("cw2", "petersen");
    let path = |action: &str| format!("/api/v1/postbox/items/{item}/{action}");
    assert_eq!(
        w.post_json("cw1", &path("start"), json!({})).0,
        404,
        "not in cw1's postbox"
    );
    let (status, body) = w.post_json("cw2", &path("start"), json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["state"],
        "in_progress"
    );
    assert_eq!(
        w.post_json("cw2", &path("start"), json!({})).0,
        409,
        "already started"
    );
    assert_eq!(
        w.post_json("cw2", &path("forward"), json!({})).0,
        422,
        "forward needs `to`"
    );
    assert_eq!(
        w.post_json("cw2", &path("resubmit"), json!({ "until": "2001-01-01" }))
            .0,
        422
    );
    assert_eq!(w.post_json("cw2", &path("fly"), json!({})).0, 404);
    assert_eq!(
        w.post(
            "cw2",
            &path("start"),
            "application/json",
            b"{not json".to_vec()
        )
        .0,
        400
    );
    let (status, body) = w.post_json(
        "cw2",
        &path("forward"),
        json!({ "to": "sb-h1", "note": "Bitte übernehmen" }),
    );
    assert_eq!(status, 200, "{body}");
    let in_h1 = w.get_json("cw1", "/api/v1/postbox");
    assert!(
        in_h1["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == item),
        "{in_h1}"
    );
    let moved: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        moved,
        json!({ "id": item, "moved": true }),
        "its new place is not cw2's business"
    );
    let meta = w.get_json("cw1", &format!("/api/v1/documents/{}", w.docs["petersen"]));
    let event = meta["item"]["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(event["by"], "sb-h2");
    assert_eq!(event["note"], "Bitte übernehmen");
    assert_eq!(
        w.post_json("cw2", &path("done"), json!({})).0,
        404,
        "no longer cw2's to change"
    );
    // Clearing corrects its letter to Albers' BG: it goes to sb-h1, and clearing
    // learns nothing about where.
    let clearing_item = w.item_of("clearing", "unknown");
    let (status, body) = w.post_json(
        "clearing",
        &format!("/api/v1/postbox/items/{clearing_item}/correct"),
        json!({ "bg": "07450BG0000102" }),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "id": clearing_item, "moved": true })
    );
    assert_eq!(
        w.get(
            "clearing",
            &format!("/api/v1/documents/{}", w.docs["unknown"])
        )
        .0,
        404,
        "gone from clearing's view"
    );
    assert_eq!(
        w.get("cw1", &format!("/api/v1/documents/{}", w.docs["unknown"]))
            .0,
        200
    );
}

#[test]
fn an_email_with_an_attachment_and_a_note_are_filed_into_the_akte() {
    let w = world();
    let upload = "/api/v1/akten/07450BG0000101/documents?schlagwort=Korrespondenz";
    let (status, body) = w.post(
        "cw2",
        upload,
        "message/rfc822",
        scanmaker::email_with_pdf("Zollhausbrücke"),
    );
    assert_eq!(status, 201, "{body}");
    let filed: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(filed.len(), 2, "the attachment and the e-mail: {body}");
    assert_eq!(filed[0]["kind"], "pdf");
    assert_eq!(filed[1]["kind"], "eml");
    let (status, _) = w.post(
        "cw2",
        "/api/v1/akten/07450BG0000101/documents?schlagwort=Vermerk&title=Telefonat",
        "text/plain",
        "Anruf von Herrn Petersen am 26.11.".as_bytes().to_vec(),
    );
    assert_eq!(status, 201);

    let akte = w.get_json("cw2", "/api/v1/akten/07450BG0000101");
    let groups: HashMap<String, usize> = akte["schlagworte"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["schlagwort"].as_str().unwrap().to_string(),
                g["documents"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(groups["Korrespondenz"], 2, "{akte}");
    assert_eq!(groups["Vermerk"], 1, "{akte}");
    assert_eq!(groups["Widerspruch"], 1, "the scanned letter, too: {akte}");
    assert_eq!(akte["members"][0]["nachname"], "Petersen");
    let email = filed[1]["document_id"].as_u64().unwrap();
    let meta = w.get_json("cw2", &format!("/api/v1/documents/{email}"));
    assert_eq!(meta["attachments"][0], filed[0]["document_id"]);
    let (status, text) = w.get("cw2", &format!("/api/v1/documents/{email}/text"));
    assert_eq!(status, 200);
    assert!(
        text.contains("Betreff: Unterlagen Miete") && text.contains("freundliche Grüße"),
        "{text}"
    );
    wait_for("the attachment to be searchable", || {
        w.get_json("cw2", "/api/v1/search?q=Zollhausbrücke")["total"] == 1
    });
    assert_eq!(
        w.get_json("cw1", "/api/v1/search?q=Zollhausbrücke")["total"],
        0,
        "not in cw1's scope"
    );

    // The same file in two Akten is two documents; nobody learns of the other.
    let pdf = scanmaker::text_pdf(&[vec!["Bescheid Regelbedarf".to_string()]], Pose::Upright);
    let first = w.post(
        "lead",
        "/api/v1/akten/07450BG0000101/documents?schlagwort=Bescheide",
        "application/pdf",
        pdf.clone(),
    );
    let second = w.post(
        "lead",
        "/api/v1/akten/07450BG0000102/documents?schlagwort=Bescheide",
        "application/pdf",
        pdf.clone(),
    );
    assert_eq!((first.0, second.0), (201, 201), "{} {}", first.1, second.1);
    let id = |body: &str| {
        serde_json::from_str::<Value>(body).unwrap()[0]["document_id"]
            .as_u64()
            .unwrap()
    };
    assert_ne!(id(&first.1), id(&second.1));
    let again = w.post(
        "lead",
        "/api/v1/akten/07450BG0000101/documents?schlagwort=Bescheide",
        "application/pdf",
        pdf,
    );
    assert_eq!(
        serde_json::from_str::<Value>(&again.1).unwrap()[0]["status"],
        "duplicate"
    );

    // Filing into someone else's Akte, or in a form eakte does not take.
    assert_eq!(w.post("cw1", upload, "text/plain", b"x".to_vec()).0, 404);
    assert_eq!(
        w.post("cw2", upload, "image/gif", b"GIF89a".to_vec()).0,
        415
    );
    assert_eq!(
        w.post("cw2", upload, "application/pdf", b"not a pdf".to_vec())
            .0,
        422
    );
    assert_eq!(
        w.post("cw2", upload, "message/rfc822", b"\x00\x01garbage".to_vec())
            .0,
        422
    );
    let (status, _) = w.post(
        "cw2",
        "/api/v1/akten/07450BG0000101/documents",
        "text/plain",
        b"x".to_vec(),
    );
    assert_eq!(status, 400, "schlagwort is required");
}

#[test]
fn every_read_is_audited_and_tampering_is_detected() {
    let mut w = world();
    w.get_json("cw2", &format!("/api/v1/documents/{}", w.docs["petersen"]));
    w.get_json("cw2", "/api/v1/akten/07450BG0000101");
    w.get_json("cw2", "/api/v1/search?q=Deichgraf");
    let (status, _) = w.get(
        "cw2",
        &format!("/api/v1/documents/{}/original", w.docs["petersen"]),
    );
    assert_eq!(status, 200);
    assert_eq!(
        w.get("cw1", &format!("/api/v1/documents/{}", w.docs["petersen"]))
            .0,
        404
    );

    let trail = w.get_json("auditor", "/api/v1/audit?limit=1000");
    let entries = trail.as_array().unwrap();
    let find = |action: &str, who: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action && e["who"].as_str().unwrap().starts_with(who))
            .cloned()
    };
    let read = find("read_document", "Lena").expect("the read is recorded");
    assert_eq!(read["target"], format!("document {}", w.docs["petersen"]));
    assert_eq!(read["address"], "127.0.0.1");
    assert_eq!(read["outcome"], "ok");
    assert!(find("read_akte", "Lena").is_some());
    let search = find("search", "Lena").unwrap();
    let detail = search["detail"].as_str().unwrap();
    // The words are kept as keyed hashes only; the auditor checks a
    // suspicion by asking, and the BGs shown are named.
    assert!(
        !detail.contains("Deichgraf") && detail.contains(&format!("shown: {}", w.docs["petersen"])),
        "{detail}"
    );
    assert_eq!(search["bgs"], json!(["07450BG0000101"]), "{search:#}");
    let asked = w.get_json("auditor", "/api/v1/audit?searched=deichgraf");
    assert!(
        asked
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["seq"] == search["seq"]),
        "{asked:#}"
    );
    let other = w.get_json("auditor", "/api/v1/audit?searched=Petersen");
    assert!(
        other
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["seq"] != search["seq"]),
        "{other:#}"
    );
    assert!(find("download_original", "Lena").is_some());
    assert_eq!(
        find("read_document", "Hanna").unwrap()["outcome"],
        "denied",
        "refused reads are recorded too"
    );
    assert_eq!(w.get("cw1", "/api/v1/akten/07450BG0000101").0, 404);
    let item = w.item_of("cw2", "petersen");
    assert_eq!(
        w.post_json(
            "cw2",
            &format!("/api/v1/postbox/items/{item}/start"),
            json!({})
        )
        .0,
        200
    );
    assert_eq!(
        w.post_json(
            "cw1",
            &format!("/api/v1/postbox/items/{item}/done"),
            json!({})
        )
        .0,
        404
    );
    let trail = w.get_json("auditor", "/api/v1/audit?limit=1000");
    let entries = trail.as_array().unwrap();
    let outcome = |action: &str, who: &str| {
        entries
            .iter()
            .rev()
            .find(|e| e["action"] == action && e["who"].as_str().unwrap().starts_with(who))
            .map(|e| e["outcome"].clone())
    };
    assert_eq!(outcome("read_akte", "Hanna"), Some(json!("denied")));
    assert_eq!(outcome("postbox_start", "Lena"), Some(json!("ok")));
    assert_eq!(
        outcome("postbox_done", "Hanna"),
        Some(json!("denied")),
        "refused changes are recorded too"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "add_user" && e["address"] == "cli"),
        "users created on the command line are recorded"
    );
    let only_reads = w.get_json("auditor", "/api/v1/audit?action=read_akte");
    assert!(only_reads
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["action"] == "read_akte"));

    w.stop();
    let out = w.sb.eakte(&["audit", "verify"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    // Alter one entry in the store: verify names it.
    {
        let store = eakte::store::Store::open(&w.sb.path().join("store")).unwrap();
        let tree = store.audit().tree_for_tamper_tests().clone();
        let raw = tree.get(2u64.to_be_bytes()).unwrap().unwrap();
        let mut entry: Value = serde_json::from_slice(&raw).unwrap();
        entry["who"] = json!("Niemand (0)");
        tree.insert(2u64.to_be_bytes(), serde_json::to_vec(&entry).unwrap())
            .unwrap();
        store.flush().unwrap();
    }
    let out = w.sb.eakte(&["audit", "verify"]);
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains("entry 2 was altered"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn admins_manage_users_registry_and_absences_over_http() {
    let w = world_with("[limits]\nmax_upload_bytes = 200000\n");
    // A new user, working at once; revoked, locked out at once.
    let (status, body) = w.granted(
        "/api/v1/admin/users",
        json!({ "name": "Neu", "role": "caseworker", "caseworker": "sb-h1" }),
    );
    assert_eq!(status, 201, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    let token = created["token"].as_str().unwrap().to_string();
    let as_new = |path: &str| {
        w.agent
            .get(format!("{}{path}", w.base))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(as_new("/api/v1/postbox"), 200);
    let users = w.get_json("admin", "/api/v1/admin/users");
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u.get("token").is_none() && u.get("token_sha256").is_none()),
        "{users}"
    );
    let (status, _) = w.post_json(
        "admin",
        &format!("/api/v1/admin/users/{}/revoke", created["id"]),
        json!({}),
    );
    assert_eq!(status, 200);
    assert_eq!(as_new("/api/v1/postbox"), 401);
    assert_eq!(
        w.post_json(
            "admin",
            "/api/v1/admin/users",
            json!({ "name": "X", "role": "caseworker" })
        )
        .0,
        422,
        "needs a Kennung"
    );
    assert_eq!(
        w.post_json(
            "cw1",
            "/api/v1/admin/users",
            json!({ "name": "X", "role": "admin" })
        )
        .0,
        404
    );

    // Registry imports: a dry run changes nothing; bad rows are named; a bad file is refused.
    let csv = format!("{PEOPLE}07450BG0000103,103C000001,Zielke,Zora,1999-09-09,Markt 1,25813,Husum,husum\n07450BG0000104,104X,Kaputt,Karl,1990-01-01,,,,husum\n");
    let (status, body) = w.post(
        "admin",
        "/api/v1/admin/recipients/import?dry_run=true",
        "text/csv",
        csv.clone().into_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    // Which rows are valid, not which recipients are known already: a
    // one-row dry run must not confirm a guessed person.
    assert_eq!(
        (report["accepted"].as_u64(), report["applied"].as_bool()),
        (Some(4), Some(false)),
        "{report:#}"
    );
    assert_eq!(
        (report["added"].as_u64(), report["unchanged"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(report["rejected"][0]["line"], 6);
    let (status, body) = w.post(
        "admin",
        "/api/v1/admin/recipients/import",
        "text/csv",
        csv.into_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = w.post(
        "admin",
        "/api/v1/admin/recipients/import",
        "text/csv",
        b"falsch,kopf\n1,2\n".to_vec(),
    );
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("nothing was changed"), "{body}");
    assert_eq!(
        w.get("cw2", "/api/v1/akten/07450BG0000103").0,
        200,
        "the imported BG is sb-h2's at once"
    );

    // sb-h2 goes on leave: sb-h1 deputises and sees Petersen's letter.
    let today = eakte::clock::today();
    let absence = json!({ "kennung": "sb-h2", "from": today.to_string(), "to": (today + jiff::Span::new().days(3)).to_string(), "deputy": "sb-h1" });
    let (status, body) = w.granted("/api/v1/admin/absences", absence);
    assert_eq!(status, 201, "{body}");
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_u64()
        .unwrap();
    let view = w.get_json("cw1", "/api/v1/postbox");
    assert!(
        view["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["deputising_for"] == "sb-h2"),
        "{view}"
    );
    assert_eq!(
        w.get("cw1", &format!("/api/v1/documents/{}", w.docs["petersen"]))
            .0,
        200
    );
    let mut response = w
        .agent
        .delete(format!("{}/api/v1/admin/absences/{id}", w.base))
        .header("Authorization", format!("Bearer {}", w.tokens["admin"]))
        .call()
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        200,
        "{}",
        response.body_mut().read_to_string().unwrap()
    );
    assert_eq!(
        w.get("cw1", &format!("/api/v1/documents/{}", w.docs["petersen"]))
            .0,
        404,
        "back to normal"
    );

    // Bodies over the limit are refused with a problem document.
    let (status, body) = w.post(
        "cw2",
        "/api/v1/akten/07450BG0000101/documents?schlagwort=Vermerk",
        "text/plain",
        vec![b'a'; 300_000],
    );
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("\"status\":413"), "{body}");

    // Guessing tokens: after three free guesses and a fourth that fails, the
    // address is turned away at once with 429 and Retry-After, without its
    // token being looked at (a right guess is not told from a wrong one) and
    // without the connection being held.
    let guess = |token: &str| {
        let response = w
            .agent
            .get(format!("{}/api/v1/postbox", w.base))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        let retry = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        (response.status().as_u16(), retry)
    };
    for _ in 0..3 {
        assert_eq!(guess("eakte_guess"), (401, None), "the free guesses");
    }
    // Each failure past the free ones doubles the time turned away (250 ms
    // first), so a client that keeps guessing meets a 429 within a few tries.
    let turned_away = (0..12)
        .map(|_| guess("eakte_guess"))
        .find(|(status, _)| *status == 429);
    let (_, retry) = turned_away.expect("repeated guesses are turned away");
    assert!(retry.is_some_and(|r| r.parse::<u64>().unwrap() >= 1));
    common::wait_for("the address to be let in again", || {
        guess(&w.tokens["auditor"]).0 != 429
    });
    let log = w.daemon.as_ref().unwrap().log_text();
    assert!(log.contains("repeated bad API tokens"), "{log}");
    // Each refusal is in the trail, with the address.
    let trail = w.get_json("auditor", "/api/v1/audit?action=refused_request&limit=1000");
    let refusals = trail.as_array().unwrap();
    let bad = |note: &str| {
        refusals
            .iter()
            .filter(|e| e["detail"].as_str().unwrap().contains(note))
            .count()
    };
    assert!(bad("status 401, bad token") >= 4, "{trail:#}");
    assert!(bad("status 429, turned away") >= 2, "{trail:#}");
    assert!(refusals.iter().all(|e| e["address"] == "127.0.0.1"));
}

/// Every operation the OpenAPI document lists, called by caseworker sb-h1 on
/// what belongs to sb-h2 (Petersen's BG, document and postbox item): nothing
/// answers with success or with any of it, nothing fails with a 5xx. A new
/// endpoint is covered as soon as the document lists it.
#[test]
fn no_endpoint_lets_a_caseworker_reach_a_foreign_bg() {
    let w = world();
    let foreign_doc = w.docs["petersen"];
    let foreign_item = w.item_of("cw2", "petersen");
    // What would give Petersen's letter away: its words, its ids, its BG.
    let secrets = [
        "Wattwanderung".to_string(),
        "Deichgraf".to_string(),
        format!("\"id\":{foreign_doc}"),
        format!("\"document_id\":{foreign_doc}"),
        "07450BG0000101".to_string(),
    ];
    let spec = w.get_json("cw1", "/api/v1/openapi.json");
    let mut called = 0;
    for (template, operations) in spec["paths"].as_object().unwrap() {
        for (method, _) in operations.as_object().unwrap() {
            let path = template
                .replace("{bg}", "07450BG0000101")
                .replace("{action}", "start")
                .replace(
                    "{id}",
                    &if template.contains("/items/") {
                        foreign_item
                    } else {
                        foreign_doc
                    }
                    .to_string(),
                );
            let (status, body) = match method.as_str() {
                "get" => w.get("cw1", &path),
                "post" if template.ends_with("/documents") => w.post(
                    "cw1",
                    &format!("{path}?schlagwort=Korrespondenz"),
                    "message/rfc822",
                    b"From: x@example.org\r\nSubject: Test\r\n\r\nHallo\r\n".to_vec(),
                ),
                "post" if template.ends_with("/import") => {
                    w.post("cw1", &path, "text/csv", b"kennung\n".to_vec())
                }
                "post" => w.post_json("cw1", &path, serde_json::json!({})),
                "delete" => {
                    let mut response = w
                        .agent
                        .delete(format!("{}{path}", w.base))
                        .header("Authorization", format!("Bearer {}", w.tokens["cw1"]))
                        .call()
                        .unwrap();
                    (
                        response.status().as_u16(),
                        response.body_mut().read_to_string().unwrap_or_default(),
                    )
                }
                other => panic!("the document lists a method the test does not know: {other}"),
            };
            called += 1;
            assert!(status < 500, "{method} {path}: {status} {body}");
            // Only what is not about any BG may succeed: the caller's own
            // postbox and search (which must not contain the foreign letter),
            // the health check and the document itself.
            let open = [
                "/healthz",
                "/api/v1/openapi.json",
                "/api/v1/postbox",
                "/api/v1/search",
            ];
            if (200..300).contains(&status) {
                assert!(
                    method == "get" && open.contains(&template.as_str()),
                    "{method} {path} answered {status}: {body}"
                );
            }
            if template != "/api/v1/openapi.json" {
                for secret in &secrets {
                    assert!(
                        !body.contains(secret.as_str()),
                        "{method} {path} ({status}) gave away {secret}: {body}"
                    );
                }
            }
        }
    }
    assert!(called >= 20, "every listed operation was called ({called})");
    // Still nothing of it reached sb-h1: the foreign Akte has no new document.
    let akte = w.get_json("cw2", "/api/v1/akten/07450BG0000101");
    assert!(!akte.to_string().contains("Hallo"), "{akte}");
}

/// A client that opens a connection and trickles its request (slowloris) is
/// cut off once the header read timeout passes; others are served meanwhile.
#[test]
fn a_client_that_never_finishes_its_headers_is_cut_off() {
    use std::io::{Read, Write};
    let w = world();
    let address = w.base.trim_start_matches("http://").to_string();
    let mut slow = std::net::TcpStream::connect(&address).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: eakte\r\nX-Slow: ")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let started = std::time::Instant::now();
    // Meanwhile the daemon answers everyone else.
    assert_eq!(w.get("cw1", "/api/v1/postbox").0, 200);
    let mut buf = [0u8; 256];
    let got = slow.read(&mut buf);
    assert!(
        matches!(got, Ok(0)) || got.is_err() || buf.starts_with(b"HTTP/1.1 408"),
        "the connection is closed (or answered 408), not left open: {got:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "cut off by the header timeout, not by the test's own read timeout"
    );
}

/// A client that sends its headers and then trickles the body (or stops) is
/// answered 408 and cut off, after the body's idle timeout; it does not hold
/// the connection for as long as it likes.
#[test]
fn a_client_that_trickles_its_body_is_cut_off() {
    use std::io::{Read, Write};
    let w = world();
    let address = w.base.trim_start_matches("http://").to_string();
    let mut slow = std::net::TcpStream::connect(&address).unwrap();
    let head = format!(
        "POST /api/v1/admin/recipients/import?dry_run=true HTTP/1.1\r\nHost: eakte\r\n\
         Authorization: Bearer {}\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\n",
        w.tokens["admin"]
    );
    slow.write_all(head.as_bytes()).unwrap();
    slow.write_all(b"bg_nummer,kundennummer,").unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        w.get("cw1", "/api/v1/postbox").0,
        200,
        "others are served meanwhile"
    );
    let mut answer = Vec::new();
    let _ = slow.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "answered 408 Request Timeout: {answer}"
    );
    assert!(answer.contains("too slowly"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "cut off by the body timeout, not by the test's own read timeout"
    );
    // The refusal is not a crash (asked on a new connection: the daemon
    // closed the agent's idle one meanwhile).
    let fresh: ureq::Agent = ureq::Agent::config_builder().build().into();
    let health = fresh.get(format!("{}/healthz", w.base)).call().unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

/// schemathesis, generating requests from the OpenAPI document (valid ones,
/// boundary values, and invalid ones of every kind), finds no 5xx, no answer
/// outside the document, no accepted invalid request and no operation that
/// works without a token. Installed by `scripts/setup-schemathesis`; its
/// settings are in `tests/schemathesis/schemathesis.toml`.
///
/// `EAKTE_SCHEMATHESIS_SEED` and `EAKTE_SCHEMATHESIS_EXAMPLES` (per operation,
/// default 50) make longer runs with other seeds; RELIABILITY.md has one.
#[test]
fn schemathesis_finds_no_server_error_and_no_answer_outside_the_schema() {
    let st = std::env::var_os("EAKTE_SCHEMATHESIS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/schemathesis-venv/bin/st")
        });
    assert!(
        st.exists(),
        "{} is missing: run scripts/setup-schemathesis (scripts/run-tests does)",
        st.display()
    );
    // The fuzzer sends invalid tokens on purpose; slowing it down would only
    // make the run long (the slowdown has its own test).
    let mut w = world_with("[limits]\nbad_tokens_before_slowdown = 1000000\n");
    // Someone for the fuzzer to revoke, so that it leaves the test's users be.
    let (status, body) = w.granted(
        "/api/v1/admin/users",
        serde_json::json!({ "name": "Zum Widerrufen", "role": "auditor" }),
    );
    assert_eq!(status, 201, "{body}");
    let victim = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_u64()
        .unwrap();

    let dir = w.sb.path().to_path_buf();
    let spec = dir.join("openapi.json");
    let document = w.get_json("cw1", "/api/v1/openapi.json");
    std::fs::write(&spec, document.to_string()).unwrap();
    let operations: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    // The committed settings, and the real things of this run, so that
    // requests get past "not found" to the work.
    let mut config = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/schemathesis/schemathesis.toml"),
    )
    .unwrap();
    config.push_str(&format!(
        "\n[[operations]]\ninclude-path-regex = \"^/api/v1/documents/\"\nparameters = {{ \"path.id\" = {} }}\n\
         \n[[operations]]\ninclude-path-regex = \"^/api/v1/akten/\"\nparameters = {{ \"path.bg\" = \"07450BG0000102\" }}\n\
         \n[[operations]]\ninclude-path = \"/api/v1/postbox/items/{{id}}/{{action}}\"\nparameters = {{ \"path.id\" = {} }}\n\
         \n[[operations]]\ninclude-path = \"/api/v1/admin/users/{{id}}/revoke\"\nparameters = {{ \"path.id\" = {victim} }}\n\
         \n# Long-polls are tested in tests/api.rs; here they would only make the run long.\n\
         [[operations]]\ninclude-path = \"/api/v1/postbox\"\nparameters = {{ \"query.wait\" = 1 }}\n",
        w.docs["albers"],
        w.item_of("cw1", "albers"),
    ));
    let config_file = dir.join("schemathesis.toml");
    std::fs::write(&config_file, config).unwrap();

    let seed = std::env::var("EAKTE_SCHEMATHESIS_SEED").unwrap_or_else(|_| "20261127".into());
    let examples = std::env::var("EAKTE_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "50".into());
    let out = std::process::Command::new(&st)
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .env("EAKTE_CASEWORKER_TOKEN", &w.tokens["cw1"])
        .env("EAKTE_ADMIN_TOKEN", &w.tokens["admin"])
        .env("EAKTE_AUDITOR_TOKEN", &w.tokens["auditor"])
        .arg("--config-file")
        .arg(&config_file)
        .arg("run")
        .arg(&spec)
        .args(["--url", &w.base, "--checks", "all", "--workers", "2"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", &examples, "--seed", &seed])
        .output()
        .unwrap();
    let report = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        out.status.success(),
        "schemathesis (seed {seed}) found problems:\n{report}"
    );
    eprintln!("{report}"); // shown with --nocapture
    let tested = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Tested: "))
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        tested,
        operations.to_string(),
        "every operation was tested:\n{report}"
    );

    // Still serving, nothing crashed, and store and audit trail are whole.
    assert_eq!(w.get("cw1", "/healthz").0, 200);
    let log = w.daemon.as_ref().unwrap().log_text();
    assert!(!log.contains("panicked"), "{log}");
    w.stop();
    w.sb.assert_check_passes();
    let verify = w.sb.eakte(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
}

/// The id of the user called `name` (admin's view).
fn user_id(w: &World, name: &str) -> u64 {
    w.get_json("admin", "/api/v1/admin/users")
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == name)
        .unwrap_or_else(|| panic!("no user {name}"))["id"]
        .as_u64()
        .unwrap()
}

#[test]
fn a_deputys_deputy_reads_and_searches_and_nobody_changes_a_foreign_item() {
    let mut w = world();
    // Every change to another caseworker's item is refused as if it did not
    // exist, whatever the change and however valid its body.
    let item = w.item_of("cw2", "petersen");
    for (action, body) in [
        ("start", json!({})),
        ("done", json!({ "note": "zdA" })),
        ("forward", json!({ "to": "sb-h1" })),
        ("resubmit", json!({ "until": "31.12.2099" })),
        ("correct", json!({ "type": "Widerspruch" })),
        ("correct", json!({ "type": "kein Typ" })),
        ("correct", json!({ "bg": "07450BG0000102" })),
    ] {
        let (status, body) = w.post_json(
            "cw1",
            &format!("/api/v1/postbox/items/{item}/{action}"),
            body,
        );
        assert_eq!(status, 404, "cw1 {action} on sb-h2's item: {body}");
    }

    // sb-h1 is away with sb-h2 as deputy, and sb-h2 with sb-n1: Nils works for both.
    let (status, body) = w.granted(
        "/api/v1/admin/users",
        json!({ "name": "Nils", "role": "caseworker", "caseworker": "sb-n1" }),
    );
    assert_eq!(status, 201, "{body}");
    let nils = serde_json::from_str::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    w.tokens.insert("cw-n1", nils);
    let today = eakte::clock::today();
    let soon = (today + jiff::Span::new().days(3)).to_string();
    for (absent, deputy) in [("sb-h1", "sb-h2"), ("sb-h2", "sb-n1")] {
        let absence =
            json!({ "kennung": absent, "from": today.to_string(), "to": soon, "deputy": deputy });
        let (status, body) = w.granted("/api/v1/admin/absences", absence);
        assert_eq!(status, 201, "{body}");
    }
    let view = w.get_json("cw-n1", "/api/v1/postbox");
    let deputised: Vec<(&str, u64)> = view["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| Some((i["deputising_for"].as_str()?, i["document_id"].as_u64()?)))
        .collect();
    assert!(deputised.contains(&("sb-h1", w.docs["albers"])), "{view:#}");
    assert!(
        deputised.contains(&("sb-h2", w.docs["petersen"])),
        "{view:#}"
    );
    for doc in ["albers", "petersen", "nissen"] {
        assert_eq!(
            w.get("cw-n1", &format!("/api/v1/documents/{}", w.docs[doc]))
                .0,
            200,
            "{doc}"
        );
    }
    assert_eq!(
        w.get("cw-n1", "/api/v1/akten/07450BG0000102").0,
        200,
        "Albers' Akte"
    );
    let found = w.get_json("cw-n1", "/api/v1/search?q=Halligf%C3%A4hre");
    assert_eq!(found["hits"][0]["id"], w.docs["albers"], "{found:#}");
    // The absent deputy in the middle sees nothing of sb-h1's any more.
    assert_eq!(
        w.get("cw2", &format!("/api/v1/documents/{}", w.docs["albers"]))
            .0,
        404
    );
    w.stop();
}

#[test]
fn clearing_corrects_type_and_recipient_and_the_document_moves_in_search() {
    let w = world();
    let item = w.item_of("clearing", "unknown");
    let path = |action: &str| format!("/api/v1/postbox/items/{item}/{action}");
    let hits = |who: &str| {
        w.get_json(who, "/api/v1/search?q=Sturmflut")["hits"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!((hits("clearing"), hits("cw2")), (1, 0));

    // The type alone: it stays in clearing, now urgent.
    let (status, body) = w.post_json(
        "clearing",
        &path("correct"),
        json!({ "type": "Widerspruch" }),
    );
    assert_eq!(status, 200, "{body}");
    let corrected: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            &corrected["postbox"],
            &corrected["doc_type"],
            &corrected["urgent"]
        ),
        (
            &json!("klaerung:husum"),
            &json!("Widerspruch"),
            &json!(true)
        ),
        "{corrected:#}"
    );
    let (status, body) = w.post_json(
        "clearing",
        &path("correct"),
        json!({ "type": "Brieftaube" }),
    );
    assert_eq!(status, 422, "an unknown type: {body}");
    // A BG the registry does not know is not refused (that would tell
    // anyone which BG numbers exist): the letter goes to clearing, saying why.
    let (status, body) = w.post_json(
        "clearing",
        &path("correct"),
        json!({ "bg": "07450BG7777777" }),
    );
    assert_eq!(status, 200, "a BG the registry does not know: {body}");
    let unknown: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(unknown["postbox"], "klaerung:husum", "{unknown:#}");
    assert!(
        unknown["route"]["explanation"]
            .as_str()
            .unwrap()
            .contains("BG 07450BG7777777 is not in the registry"),
        "{unknown:#}"
    );

    // The recipient: to sb-h2, and the search follows.
    let (status, body) = w.post_json(
        "clearing",
        &path("correct"),
        json!({ "bg": "07450BG0000101" }),
    );
    assert_eq!(status, 200, "{body}");
    common::wait_for("the document to move in search", || {
        hits("cw2") == 1 && hits("clearing") == 0
    });
    let (status, _) = w.post_json("cw2", &path("done"), json!({ "note": "zdA" }));
    assert_eq!(status, 200);
    let (status, body) = w.post_json("cw2", &path("correct"), json!({ "type": "Kontoauszug" }));
    assert_eq!(status, 409, "a finished item is not corrected: {body}");
}

#[test]
fn a_revoked_tokens_long_poll_ends_and_removed_names_every_item_that_left() {
    let w = world();
    // `removed` holds an item that left the caller's postbox, even when it
    // moved on again afterwards.
    let cursor = w.get_json("cw1", "/api/v1/postbox")["cursor"]
        .as_u64()
        .unwrap();
    let albers = w.item_of("cw1", "albers");
    let forward = |who: &str, to: &str| {
        let (status, body) = w.post_json(
            who,
            &format!("/api/v1/postbox/items/{albers}/forward"),
            json!({ "to": to }),
        );
        assert_eq!(status, 200, "{body}");
    };
    forward("cw1", "sb-h2");
    forward("cw2", "sb-n1");
    let polled = w.get_json("cw1", &format!("/api/v1/postbox?since={cursor}"));
    assert_eq!(polled["removed"], json!([albers]), "{polled:#}");
    assert!(polled["items"].as_array().unwrap().is_empty(), "{polled:#}");

    // A long-poll whose token is revoked meanwhile ends at once, with nothing.
    let cursor = w.get_json("cw2", "/api/v1/postbox")["cursor"]
        .as_u64()
        .unwrap();
    let (base, token) = (w.base.clone(), w.tokens["cw2"].clone());
    let poll = std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let response = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent()
            .get(format!("{base}/api/v1/postbox?since={cursor}&wait=60"))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .unwrap();
        (response.status().as_u16(), started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(500));
    let lena = user_id(&w, "Lena");
    let (status, body) = w.post_json(
        "admin",
        &format!("/api/v1/admin/users/{lena}/revoke"),
        json!({}),
    );
    assert_eq!(status, 200, "{body}");
    let (status, waited) = poll.join().unwrap();
    assert_eq!(status, 401, "the poll ends with the token");
    assert!(
        waited < Duration::from_secs(30),
        "it ended when the token was revoked, not at its 60 s: {waited:?}"
    );
}

/// § 83 SGB X: "who read Akte X?" is one question to the trail, whatever
/// spelling of the BG number was typed and whichever way the data was read
/// (Akte, document, text, original, search hit, postbox), attempts included;
/// no entry carries the social data itself.
#[test]
fn the_trail_answers_who_read_an_akte_in_any_spelling() {
    let w = world();
    let petersen = w.docs["petersen"];
    for spelling in [
        "07450bg0000101",
        "07450%2F%2F0000101",
        "07450%20BG%200000101",
    ] {
        assert_eq!(
            w.get("cw2", &format!("/api/v1/akten/{spelling}")).0,
            200,
            "{spelling}"
        );
    }
    for part in ["", "/text", "/original"] {
        assert_eq!(
            w.get("cw2", &format!("/api/v1/documents/{petersen}{part}"))
                .0,
            200
        );
    }
    w.get_json("cw2", "/api/v1/search?q=Deichgraf");
    w.get_json("cw2", "/api/v1/postbox");
    let item = w.item_of("cw2", "petersen");
    let (status, body) = w.post_json(
        "cw2",
        &format!("/api/v1/postbox/items/{item}/done"),
        json!({ "note": "Suchterkrankung, Therapie F10.2 vereinbart" }),
    );
    assert_eq!(status, 200, "{body}");
    // Hanna (sb-h1) tries the same document: refused, and on the record.
    assert_eq!(
        w.get("cw1", &format!("/api/v1/documents/{petersen}")).0,
        404
    );
    // Albers' Akte is another BG.
    w.get_json("cw1", "/api/v1/akten/07450BG0000102");

    let trail = w.get_json("auditor", "/api/v1/audit?bg=07450bg0000101&limit=1000");
    let entries = trail.as_array().unwrap();
    let by = |who: &str, action: &str| {
        entries
            .iter()
            .filter(|e| e["action"] == action && e["who"].as_str().unwrap().starts_with(who))
            .count()
    };
    assert_eq!(by("Lena", "read_akte"), 3, "{trail:#}");
    for action in [
        "read_document",
        "read_text",
        "download_original",
        "search",
        "read_postbox",
        "postbox_done",
    ] {
        assert!(by("Lena", action) >= 1, "{action}: {trail:#}");
    }
    assert_eq!(by("Hanna", "read_document"), 1, "the attempt: {trail:#}");
    assert!(
        entries.iter().all(|e| e["target"] != "akte 07450BG0000102"),
        "{trail:#}"
    );
    let akte = entries.iter().find(|e| e["action"] == "read_akte").unwrap();
    assert_eq!(akte["target"], "akte 07450BG0000101", "one spelling");

    // No social data in any entry: not the search words, not the note.
    let everything = w.get("auditor", "/api/v1/audit?limit=1000").1;
    for secret in ["Deichgraf", "Suchterkrankung", "F10.2"] {
        assert!(!everything.contains(secret), "{secret} in the trail");
    }
    let done = entries
        .iter()
        .find(|e| e["action"] == "postbox_done")
        .unwrap();
    assert!(
        done["detail"].as_str().unwrap().contains("note hmac:"),
        "the note by its hash: {done:#}"
    );
    let (status, _) = w.get("auditor", "/api/v1/audit?bg=Petersen");
    assert_eq!(status, 400, "a BG filter that is no BG number");

    // The same answer on the command line, through the running daemon.
    let out = w.sb.eakte(&["audit", "who-read", "07450 bg 0000101"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("read_akte") && text.contains("Lena"),
        "{text}"
    );
    assert!(text.contains("Hanna") && text.contains("denied"), "{text}");
    let out = w.sb.eakte(&["audit", "searched-for", "deichgraf"]);
    assert!(stdout(&out).contains("1 entries"), "{}", stdout(&out));
}

/// Every answer keeps itself out of caches and out of a browser's hands: no
/// caching, no sniffing, nothing loaded or framed; originals are downloads,
/// sandboxed if a browser shows them anyway.
#[test]
fn answers_carry_headers_that_keep_data_out_of_caches_and_browsers() {
    let w = world();
    let petersen = w.docs["petersen"];
    let call = |who: Option<&str>, path: &str| {
        let mut request = w.agent.get(format!("{}{path}", w.base));
        if let Some(who) = who {
            request = request.header("Authorization", format!("Bearer {}", w.tokens[who]));
        }
        let response = request.call().unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        (
            response.status().as_u16(),
            header("cache-control"),
            header("x-content-type-options"),
            header("content-security-policy"),
            header("content-disposition"),
        )
    };
    for (who, path, status) in [
        (None, "/healthz".to_string(), 200),
        (Some("cw2"), "/api/v1/postbox".to_string(), 200),
        (Some("cw2"), format!("/api/v1/documents/{petersen}"), 200),
        (Some("cw1"), format!("/api/v1/documents/{petersen}"), 404),
        (None, "/api/v1/postbox".to_string(), 401),
        (None, "/api/v1/nowhere".to_string(), 404),
    ] {
        let (got, cache, sniff, csp, _) = call(who, &path);
        assert_eq!(got, status, "{path}");
        assert_eq!(cache, "no-store", "{path}");
        assert_eq!(sniff, "nosniff", "{path}");
        assert_eq!(csp, "default-src 'none'; frame-ancestors 'none'", "{path}");
    }
    // Outside the API, an unknown address is a page of the web UI (German,
    // its own policy: its stylesheet, no script from anywhere else).
    let (got, cache, sniff, csp, _) = call(None, "/nowhere");
    assert_eq!(
        (got, cache.as_str(), sniff.as_str()),
        (404, "no-store", "nosniff")
    );
    assert!(
        csp.starts_with("default-src 'none'; script-src 'self'"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let (status, _, _, csp, disposition) = call(
        Some("cw2"),
        &format!("/api/v1/documents/{petersen}/original"),
    );
    assert_eq!(status, 200);
    assert!(
        csp.contains("sandbox") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert!(disposition.starts_with("attachment;"), "{disposition}");
}

/// Refusals that no operation got to (a role that may not call the endpoint,
/// a malformed request, an unknown action, no token) are in the trail too,
/// each once.
#[test]
fn refusals_that_reach_no_operation_are_audited() {
    let w = world();
    let item = w.item_of("cw2", "petersen");
    assert_eq!(w.get("cw1", "/api/v1/admin/users").0, 404);
    assert_eq!(w.get("cw1", "/api/v1/audit").0, 404);
    let (status, _) = w.post_json("cw1", "/api/v1/admin/users", json!({ "name": "x" }));
    assert_eq!(status, 404, "a caseworker's body for an admin endpoint");
    let (status, _) = w.post_json(
        "cw2",
        &format!("/api/v1/postbox/items/{item}/fly"),
        json!({}),
    );
    assert_eq!(status, 404, "an unknown action");
    let (status, _) = w.post(
        "cw2",
        &format!("/api/v1/postbox/items/{item}/forward"),
        "application/json",
        b"{not json".to_vec(),
    );
    assert!((400..500).contains(&status), "a malformed body: {status}");
    assert_eq!(w.get("cw2", "/api/v1/search?q=x&limit=0").0, 400);
    assert_eq!(w.get("nobody", "/api/v1/postbox").0, 401);

    let trail = w.get_json("auditor", "/api/v1/audit?limit=1000");
    let entries = trail.as_array().unwrap();
    let find = |who: &str, target: &str| {
        entries
            .iter()
            .filter(|e| {
                e["who"].as_str().unwrap().starts_with(who)
                    && e["target"].as_str().unwrap() == target
            })
            .collect::<Vec<_>>()
    };
    let admin = find("Hanna", "GET /api/v1/admin/users");
    assert_eq!(admin.len(), 1, "{trail:#}");
    assert_eq!(admin[0]["outcome"], "denied");
    assert_eq!(admin[0]["role"], "caseworker");
    assert_eq!(find("Hanna", "GET /api/v1/audit").len(), 1, "{trail:#}");
    assert_eq!(
        find("Hanna", "POST /api/v1/admin/users").len(),
        1,
        "{trail:#}"
    );
    let actions = find("Lena", "POST /api/v1/postbox/items/{id}/{action}");
    assert_eq!(
        actions.len(),
        2,
        "the unknown action and the malformed body: {trail:#}"
    );
    let searches: Vec<_> = entries
        .iter()
        .filter(|e| e["who"].as_str().unwrap().starts_with("Lena") && e["outcome"] == "refused")
        .filter(|e| e["action"] == "search" || e["target"] == "GET /api/v1/search")
        .collect();
    assert_eq!(searches.len(), 1, "recorded once: {trail:#}");
    let anonymous = find("(no valid token)", "GET /api/v1/postbox");
    assert_eq!(anonymous.len(), 1, "{trail:#}");
    assert_eq!(anonymous[0]["address"], "127.0.0.1");
    assert!(anonymous[0]["detail"]
        .as_str()
        .unwrap()
        .contains("no token"));
}

/// Scope is judged before the request's content: changing a foreign item
/// with an invalid type answers exactly as changing one that does not exist,
/// and correcting one's own item to a BG nobody has goes to clearing rather
/// than telling that the BG does not exist.
#[test]
fn a_foreign_item_answers_like_a_missing_one() {
    let w = world();
    let foreign = w.item_of("cw1", "albers");
    let bad_type = json!({ "type": "Brieftaube" });
    let path = |id: u64| format!("/api/v1/postbox/items/{id}/correct");
    let on_foreign = w.post_json("cw2", &path(foreign), bad_type.clone());
    let on_missing = w.post_json("cw2", &path(987_654_321), bad_type);
    assert_eq!(on_foreign, on_missing);
    assert_eq!(on_foreign.0, 404);

    let own = w.item_of("cw2", "petersen");
    let (status, unknown) = w.post_json("cw2", &path(own), json!({ "bg": "07450BG7777777" }));
    assert_eq!(status, 200, "{unknown}");
    let moved = json!({ "id": own, "moved": true });
    assert_eq!(serde_json::from_str::<Value>(&unknown).unwrap(), moved);
}

/// A request for an endpoint the caller's role may not use is answered
/// before its body is read: a caseworker announcing 50 MB for an import gets
/// 404 at once, without sending a byte of it.
#[test]
fn roles_are_checked_before_a_body_is_read() {
    use std::io::{Read, Write};
    let w = world();
    let address = w.base.trim_start_matches("http://").to_string();
    let mut socket = std::net::TcpStream::connect(&address).unwrap();
    let head = format!(
        "POST /api/v1/admin/recipients/import HTTP/1.1\r\nHost: eakte\r\n\
         Authorization: Bearer {}\r\nContent-Type: text/csv\r\nContent-Length: 50000000\r\n\r\n",
        w.tokens["cw1"]
    );
    socket.write_all(head.as_bytes()).unwrap();
    // Before: the daemon read the body first and, getting none, cut the
    // client off after its 10 s body timeout with 408.
    socket
        .set_read_timeout(Some(Duration::from_secs(8)))
        .unwrap();
    let mut answer = [0u8; 64];
    let n = socket.read(&mut answer).expect("an answer before the body");
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
}

/// One user holds a few long-polls at most; a cursor the daemon no longer
/// follows (too old, or from another store) is told to reload.
#[test]
fn long_polls_are_few_per_user_and_old_cursors_reload() {
    let w = world_with("[limits]\nmax_polls_per_user = 2\n");
    let cursor = w.get_json("cw2", "/api/v1/postbox")["cursor"]
        .as_u64()
        .unwrap();
    // Three long-polls at once: two wait, the third is turned away at once
    // (whichever comes last; all three start within the first's six seconds).
    let poll = format!("/api/v1/postbox?since={cursor}&wait=6");
    let waiting: Vec<_> = (0..3)
        .map(|_| {
            let (base, token, agent, poll) = (
                w.base.clone(),
                w.tokens["cw2"].clone(),
                w.agent.clone(),
                poll.clone(),
            );
            std::thread::spawn(move || {
                let mut response = agent
                    .get(format!("{base}{poll}"))
                    .header("Authorization", format!("Bearer {token}"))
                    .call()
                    .unwrap();
                let retry = response.headers().get("retry-after").is_some();
                let body = response.body_mut().read_to_string().unwrap_or_default();
                (response.status().as_u16(), retry, body)
            })
        })
        .collect();
    assert_eq!(
        w.get("cw1", &format!("/api/v1/postbox?since={cursor}&wait=1"))
            .0,
        200,
        "others still may"
    );
    let mut answers: Vec<_> = waiting.into_iter().map(|t| t.join().unwrap()).collect();
    answers.sort();
    assert_eq!(answers[0].0, 200, "{answers:?}");
    assert_eq!(answers[1].0, 200, "{answers:?}");
    assert_eq!((answers[2].0, answers[2].1), (429, true), "{answers:?}");
    assert!(answers[2]
        .2
        .contains("2 long-polls of yours are already waiting"));
    assert_eq!(
        w.get("cw2", &format!("/api/v1/postbox?since={cursor}")).0,
        200,
        "a look that does not wait"
    );
    let (status, body) = w.get("cw2", "/api/v1/postbox?since=999999999&wait=1");
    assert_eq!(status, 410, "{body}");
    assert!(
        body.contains("reload the postbox without `since`"),
        "{body}"
    );
}

/// Names from outside are stored without paths, control characters or
/// excess length; e-mails bring a bounded number of attachments; and the
/// command line shows control characters in page text as escapes.
#[test]
fn names_are_cleaned_attachments_bounded_and_the_terminal_safe() {
    let w = world_with("[limits]\nmax_attachments_per_mail = 3\n");
    let upload = "/api/v1/akten/07450BG0000101/documents?schlagwort=Korrespondenz";
    let mail = |attachments: &[(&str, &str)]| {
        let mut mail = String::from(
            "From: Jens Petersen <jens@example.org>\r\nSubject: Unterlagen\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n\
             --XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAnbei.\r\n",
        );
        for (disposition, body) in attachments {
            mail.push_str(&format!(
                "--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment; {disposition}\r\n\r\n{body}\r\n"
            ));
        }
        mail.push_str("--XYZ--\r\n");
        mail.into_bytes()
    };
    let hostile = "filename*=UTF-8''..%2F..%2Fetc%2F%1B%5D0%3Bx%07brief%0D%0A.txt";
    let (status, body) = w.post(
        "cw2",
        upload,
        "message/rfc822",
        mail(&[(hostile, "Text A"), ("filename=\"kopie.txt\"", "Text A")]),
    );
    assert_eq!(status, 201, "{body}");
    let filed: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(filed[0]["name"], "]0;xbrief.txt", "{body}");
    assert_eq!(
        filed[0]["document_id"], filed[1]["document_id"],
        "the same bytes, one document"
    );
    let akte = w.get("cw2", "/api/v1/akten/07450BG0000101").1;
    assert!(!akte.contains("..") && !akte.contains("\\u001b"), "{akte}");

    let four: Vec<(String, String)> = (0..4)
        .map(|n| (format!("filename=\"a{n}.txt\""), format!("Anhang {n}")))
        .collect();
    let four: Vec<(&str, &str)> = four.iter().map(|(d, b)| (d.as_str(), b.as_str())).collect();
    let (status, body) = w.post("cw2", upload, "message/rfc822", mail(&four));
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("4 attachments; at most 3"), "{body}");

    let (status, body) = w.post(
        "cw2",
        "/api/v1/akten/07450BG0000101/documents?schlagwort=Vermerk",
        "text/plain",
        "Vermerk \u{1b}[2J\u{1b}]0;gehackt\u{7} Ende"
            .as_bytes()
            .to_vec(),
    );
    assert_eq!(status, 201, "{body}");
    let note = serde_json::from_str::<Value>(&body).unwrap()[0]["document_id"]
        .as_u64()
        .unwrap();
    let out = w.sb.eakte(&["show", &note.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !out.stdout.contains(&0x1b),
        "no escape byte reaches the terminal"
    );
    assert!(stdout(&out).contains("\\u{1b}[2J"), "{}", stdout(&out));
}

/// A store put back to an older copy keeps an intact chain, only shorter:
/// the anchor file outside the store is what shows it. The daemon anchors
/// while it runs and at every stop; `eakte audit verify` checks the trail
/// against the configured anchor, and the daemon says so when it starts on
/// such a store.
#[test]
fn a_store_rolled_back_to_an_older_copy_fails_against_its_anchor() {
    let outside = tempfile::tempdir().unwrap();
    let anchor = outside.path().join("anchor.jsonl");
    let mut w = world_with(&format!(
        "[audit]\nanchor_file = \"{}\"\nanchor_every_entries = 1\n",
        anchor.display()
    ));
    w.get_json("cw2", "/api/v1/akten/07450BG0000101");
    w.stop();
    let store = w.sb.path().join("store");
    let copy = outside.path().join("copy");
    copy_dir(&store, &copy);

    let daemon = w.sb.serve();
    let api = common::Api::new(&daemon.api());
    assert_eq!(
        api.get(&w.tokens["cw2"], "/api/v1/akten/07450BG0000102").0,
        404
    );
    assert_eq!(
        api.get(&w.tokens["cw2"], "/api/v1/akten/07450BG0000101").0,
        200
    );
    assert!(daemon.stop());
    let out = w.sb.eakte(&["audit", "verify"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("anchor(s)"), "{}", stdout(&out));

    std::fs::remove_dir_all(&store).unwrap();
    copy_dir(&copy, &store);
    let out = w.sb.eakte(&["audit", "verify"]);
    assert!(
        !out.status.success(),
        "the rollback passed: {}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("entries were removed (the store rolled back"),
        "{}",
        stdout(&out)
    );
    let out =
        w.sb.eakte(&["audit", "verify", "--anchor", "/nonexistent/anchor"]);
    assert!(!out.status.success());
    let daemon = w.sb.serve();
    wait_for("the daemon to say the store is behind its anchor", || {
        daemon
            .log_text()
            .contains("the audit trail does not match its anchor")
    });
    assert!(daemon.stop());
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// No admin alone widens anyone's access: a new account, a deputy and an
/// import that moves a BG to another caseworker wait until a second,
/// different admin approves; then they are carried out once. With four eyes
/// off (an office with one admin) they happen at once and are flagged to
/// the auditor.
#[test]
fn no_admin_alone_widens_anyones_access() {
    let w = world();
    let ask = |path: &str, body: Value| {
        let (status, answer) = w.post_json("admin", path, body);
        assert_eq!(status, 202, "{path}: {answer}");
        serde_json::from_str::<Value>(&answer).unwrap()
    };
    let pending = ask(
        "/api/v1/admin/users",
        json!({ "name": "Mallory", "role": "caseworker", "caseworker": "sb-h2" }),
    );
    assert_eq!(pending["change"]["kind"], "add_user");
    assert!(
        pending.get("token").is_none(),
        "no token before the approval"
    );
    let users = w.get("admin", "/api/v1/admin/users").1;
    assert!(!users.contains("Mallory"), "not created yet: {users}");
    let listed = w.get_json("admin", "/api/v1/admin/pending");
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed:#}");
    // Invalid requests are refused when asked, not when approved.
    let (status, _) = w.post_json(
        "admin",
        "/api/v1/admin/users",
        json!({ "name": "X", "role": "caseworker", "caseworker": "sb-zz" }),
    );
    assert_eq!(status, 422);
    let (status, _) = w.post_json(
        "admin",
        "/api/v1/admin/users",
        json!({ "name": "Y", "role": "admin", "caseworker": "sb-h2" }),
    );
    assert_eq!(
        status, 422,
        "an admin account cannot hold a caseworker scope"
    );

    let approve = format!("/api/v1/admin/pending/{}/approve", pending["id"]);
    let (status, body) = w.post_json("admin", &approve, json!({}));
    assert_eq!(status, 409, "not by the admin who asked: {body}");
    let (status, body) = w.post_json("admin2", &approve, json!({}));
    assert_eq!(status, 200, "{body}");
    let token = serde_json::from_str::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = common::Api::new(&w.base).get(&token, "/api/v1/postbox");
    assert_eq!(status, 200, "the approved account works");
    assert_eq!(
        w.post_json("admin2", &approve, json!({})).0,
        404,
        "approved once"
    );

    // A deputy, rejected: nothing changes.
    let today = eakte::clock::today();
    let absence = ask(
        "/api/v1/admin/absences",
        json!({ "kennung": "sb-h2", "from": today.to_string(), "to": today.to_string(), "deputy": "sb-h1" }),
    );
    let reject = format!("/api/v1/admin/pending/{}/reject", absence["id"]);
    assert_eq!(w.post_json("admin", &reject, json!({})).0, 200);
    assert_eq!(
        w.get("cw1", &format!("/api/v1/documents/{}", w.docs["petersen"]))
            .0,
        404
    );
    assert!(w
        .get_json("admin", "/api/v1/admin/absences")
        .as_array()
        .unwrap()
        .is_empty());

    // Petersen renamed Albers would move from sb-h2 (L–Z) to sb-h1 (A–K).
    let moved = PEOPLE.replace("Petersen,Jens", "Albers,Jens");
    let (status, body) = w.post(
        "admin",
        "/api/v1/admin/recipients/import",
        "text/csv",
        moved.clone().into_bytes(),
    );
    assert_eq!(status, 202, "{body}");
    let import: Value = serde_json::from_str(&body).unwrap();
    assert!(
        import["change"].get("csv").is_none(),
        "the file is not echoed"
    );
    assert_eq!(
        w.get("cw1", "/api/v1/akten/07450BG0000101").0,
        404,
        "not yet"
    );
    let approve = format!("/api/v1/admin/pending/{}/approve", import["id"]);
    let (status, body) = w.post_json("admin2", &approve, json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        w.get("cw1", "/api/v1/akten/07450BG0000101").0,
        200,
        "now sb-h1's"
    );
    // An import that moves nobody (a new recipient) is carried out at once.
    let added =
        format!("{moved}07450BG0000109,109A000001,Zander,Zoe,1990-02-02,Weg 1,25813,Husum,husum\n");
    let (status, body) = w.post(
        "admin",
        "/api/v1/admin/recipients/import",
        "text/csv",
        added.into_bytes(),
    );
    assert_eq!(status, 200, "{body}");

    // A new member of an existing BG can move it (an applicant, a surname
    // of another range): it waits.
    let joined = format!(
        "{moved}07450BG0000102,102C000009,Zorn,Zacharias,1991-03-03,Weg 2,25813,Husum,husum\n"
    );
    let (status, body) = w.post(
        "admin",
        "/api/v1/admin/recipients/import",
        "text/csv",
        joined.into_bytes(),
    );
    assert_eq!(status, 202, "{body}");

    let trail = w.get_json("auditor", "/api/v1/audit?limit=1000");
    let actions: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "request_access",
        "add_user",
        "reject_access",
        "import_recipients",
    ] {
        assert!(actions.contains(&action), "{action}: {actions:?}");
    }
    let created = trail
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "add_user" && e["detail"].as_str().unwrap().contains("Mallory"))
        .unwrap();
    assert!(created["who"].as_str().unwrap().starts_with("Zweite Admin"));
    assert!(
        created["detail"]
            .as_str()
            .unwrap()
            .contains("approves pending change"),
        "{created:#}"
    );

    // One admin only: at once, and flagged.
    let w = world_with("[access]\nfour_eyes = false\n");
    let (status, body) = w.post_json(
        "admin",
        "/api/v1/admin/users",
        json!({ "name": "Allein", "role": "caseworker", "caseworker": "sb-h1" }),
    );
    assert_eq!(status, 201, "{body}");
    let flagged = w.get_json("auditor", "/api/v1/audit?target=four%20eyes%20off");
    assert_eq!(flagged.as_array().unwrap().len(), 1, "{flagged:#}");
    assert_eq!(flagged[0]["action"], "add_user");
}

/// The order of a caller's own hits (and their snippets) says nothing about
/// documents outside the caller's scope: the probe of two own notes "R T T T"
/// and "R R R T" searched for "R T" ranks them the same however common R or
/// T become in other caseworkers' Akten.
#[test]
fn ranking_within_a_scope_learns_nothing_from_outside_it() {
    let w = world();
    let note = |who: &str, bg: &str, text: &str| {
        let (status, body) = w.post(
            who,
            &format!("/api/v1/akten/{bg}/documents?schlagwort=Vermerk"),
            "text/plain",
            text.as_bytes().to_vec(),
        );
        assert_eq!(status, 201, "{body}");
    };
    let (r, t) = ("Wattenmeer", "Halligwarft");
    note("cw2", "07450BG0000101", &format!("{r} {t} {t} {t}"));
    note("cw2", "07450BG0000101", &format!("{r} {r} {r} {t}"));
    let total = |who: &str, q: &str| {
        w.get_json(who, &format!("/api/v1/search?q={q}"))["total"]
            .as_u64()
            .unwrap()
    };
    let ranked = || {
        let found = w.get_json("cw2", &format!("/api/v1/search?q={r}+{t}"));
        found["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["id"].as_u64().unwrap(),
                    h["snippet"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    wait_for("the notes to be indexed", || total("cw2", r) == 2);
    let alone = ranked();
    assert_eq!(alone.len(), 2);
    // T becomes common outside cw2's scope (in Albers' Akte, sb-h1's) …
    for n in 0..6 {
        note("cw1", "07450BG0000102", &format!("{t} Nummer {n}"));
    }
    wait_for("the foreign notes to be indexed", || total("cw1", t) == 6);
    assert_eq!(ranked(), alone, "T common elsewhere");
    // … then R, more so.
    for n in 0..12 {
        note("cw1", "07450BG0000102", &format!("{r} Nummer {n}"));
    }
    wait_for("the foreign notes to be indexed", || total("cw1", r) == 12);
    assert_eq!(ranked(), alone, "R common elsewhere");
}

/// One address holds at most `max_connections_per_address` connections: an
/// outsider's idle sockets cannot take the slots everyone else needs; the
/// connection over the cap is closed at once.
#[test]
fn one_address_holds_a_bounded_number_of_connections() {
    use std::io::Read;
    let w = world_with("[limits]\nmax_connections_per_address = 3\n");
    let address = w.base.trim_start_matches("http://").to_string();
    let idle: Vec<_> = (0..3)
        .map(|_| std::net::TcpStream::connect(&address).unwrap())
        .collect();
    let mut over = std::net::TcpStream::connect(&address).unwrap();
    // Before: held open until the 10 s header timeout, like the others.
    over.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
    let mut buf = [0u8; 16];
    let read = over.read(&mut buf);
    assert!(
        matches!(read, Ok(0))
            || read
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "closed at once: {read:?}"
    );
    drop(idle);
    wait_for("the address to be served again", || {
        w.agent
            .get(format!("{}/healthz", w.base))
            .call()
            .is_ok_and(|r| r.status() == 200)
    });
}
