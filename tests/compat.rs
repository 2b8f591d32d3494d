//! A store written by the previous release opens in this one: the store and
//! index of `tests/fixtures/store-0.1.0/` (made by eakte 0.1.0, see make.sh
//! there) pass `eakte check` and `eakte audit verify`, and the daemon serves
//! every kind of record in it: registry, users and their tokens, items in
//! every state, filings with attachments, the audit trail, which goes on
//! from its old head.

mod common;

use common::{fixture, stderr, stdout, Api, Sandbox};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::Command;

/// The fixture unpacked into a fresh sandbox; its users' tokens by name and
/// its documents' ids by file name.
fn unpacked() -> (Sandbox, HashMap<String, String>, HashMap<String, u64>) {
    let sb = Sandbox::new();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(fixture("store-0.1.0/store-0.1.0.tar.gz"))
        .arg("-C")
        .arg(sb.path())
        .status()
        .unwrap();
    assert!(status.success(), "the fixture unpacks");
    let tokens = std::fs::read_to_string(sb.path().join("tokens.txt"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(name, token)| (name.to_string(), token.to_string()))
        .collect();
    let docs = std::fs::read_to_string(sb.path().join("ingest.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| {
            let file = v["file"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string();
            (file, v["document_id"].as_u64().unwrap())
        })
        .collect();
    (sb, tokens, docs)
}

fn run_ok(sb: &Sandbox, args: &[&str]) -> String {
    let out = sb.eakte(args);
    assert!(
        out.status.success(),
        "eakte {args:?}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

#[test]
fn a_store_written_by_release_0_1_0_opens_passes_check_and_serves() {
    let (sb, tokens, docs) = unpacked();
    let report = sb.assert_check_passes();
    assert_eq!(
        (&report["documents"], &report["arrivals"], &report["items"]),
        (&json!(7), &json!(8), &json!(4)),
        "{report:#}"
    );
    // 19 entries of 0.1.0, and the one `check` just added.
    let verified = run_ok(&sb, &["audit", "verify"]);
    assert!(verified.starts_with("20 audit entries"), "{verified}");
    let text = run_ok(
        &sb,
        &["route", "explain", &docs["unbekannt.pdf"].to_string()],
    );
    assert!(
        text.contains("corrected") && text.contains("kl-husum"),
        "{text}"
    );

    let daemon = sb.serve();
    let base = daemon.api();
    let api = Api::new(&base);
    let call = |who: &str, method: &str, path: &str, body: Option<Value>| match method {
        "GET" => api.get(&tokens[who], path),
        _ => api.post(&tokens[who], path, body),
    };

    // The old tokens work; the postboxes show what the old release left.
    let (status, anna) = call("anna", "GET", "/api/v1/postbox", None);
    assert_eq!(status, 200, "{anna}");
    let names: Vec<&str> = anna["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["doc_type"].as_str().unwrap())
        .collect();
    // The Widerspruch is done, the Mietbescheinigung waits for 15.01.2027.
    assert_eq!(names, ["Weiterbewilligungsantrag"], "{anna:#}");
    let (_, hans) = call("hans", "GET", "/api/v1/postbox", None);
    assert_eq!(
        hans["items"][0]["doc_type"], "Veränderungsmitteilung",
        "{hans:#}"
    );
    assert_eq!(hans["items"][0]["history"][1]["action"], "corrected");
    let (status, document) = call(
        "anna",
        "GET",
        &format!("/api/v1/documents/{}", docs["widerspruch.pdf"]),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(document["item"]["state"], "done");
    assert_eq!(document["item"]["history"].as_array().unwrap().len(), 3);
    let (status, akte) = call("anna", "GET", "/api/v1/akten/07450BG0000101", None);
    assert_eq!(status, 200);
    let groups: Vec<&str> = akte["schlagworte"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["schlagwort"].as_str().unwrap())
        .collect();
    assert_eq!(
        groups,
        ["Antrag", "Korrespondenz", "Vermerke", "Widerspruch"]
    );
    let mail = &akte["schlagworte"][1]["documents"][0];
    assert_eq!(mail["kind"], "eml");
    assert_eq!(mail["attachments"].as_array().unwrap().len(), 1, "{akte:#}");
    let (_, found) = call("anna", "GET", "/api/v1/search?q=Weiterbewilligung", None);
    assert!(found["total"].as_u64().unwrap() >= 1, "{found:#}");

    // Old items take new changes, and long-polls see them.
    let cursor = anna["cursor"].as_u64().unwrap();
    let item = anna["items"][0]["id"].as_u64().unwrap();
    let (status, started) = call(
        "anna",
        "POST",
        &format!("/api/v1/postbox/items/{item}/start"),
        None,
    );
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["state"], "in_progress");
    let (_, polled) = call(
        "anna",
        "GET",
        &format!("/api/v1/postbox?since={cursor}"),
        None,
    );
    assert_eq!(polled["items"][0]["id"], item, "{polled:#}");
    let (status, entries) = call("audrey", "GET", "/api/v1/audit?limit=1000", None);
    assert_eq!(status, 200);
    let entries = entries.as_array().unwrap();
    assert!(entries.len() > 19, "old and new entries: {}", entries.len());
    assert_eq!(
        entries[0]["action"], "add_user",
        "the old first entry reads"
    );
    assert!(daemon.stop());

    // The trail goes on from the old head, unbroken.
    sb.assert_check_passes();
    let verified = run_ok(&sb, &["audit", "verify"]);
    assert!(verified.trim_end().ends_with("OK"), "{verified}");
}
