//! What depends on the day: a Wiedervorlage reappears on its day, an absence
//! ends after its last day, and days are German calendar days, changing at
//! German midnight. The daemon's clock is set with `EAKTE_TEST_CLOCK` (the
//! process starts at that time and runs on from there).

mod common;

use common::scanmaker::{self, Pose};
use common::{wait_for, Api, Daemon, Sandbox};
use serde_json::{json, Value};

const CASEWORKERS: &str = "kennung,name,standort,von,bis\n\
    sb-h1,Hanna Hansen,husum,A,K\n\
    sb-h2,Lena Lorenzen,husum,L,Z\n\
    sb-h3,Hauke Haien,niebuell,A,Z\n";

const PEOPLE: &str =
    "bg_nummer,kundennummer,nachname,vorname,geburtsdatum,strasse,plz,ort,standort\n\
    07450BG0000101,101A000001,Petersen,Jens,04.03.1980,Norderstraße 12,25813,Husum,husum\n";

struct Clocked {
    sb: Sandbox,
    tokens: std::collections::HashMap<&'static str, String>,
}

impl Clocked {
    /// The daemon, its clock set to `now` (RFC 3339).
    fn serve_at(&self, now: &str) -> (Daemon, String) {
        let daemon = self.sb.serve_with_env(&[("EAKTE_TEST_CLOCK", now)]);
        let base = daemon.api();
        assert!(
            daemon.log_text().contains("for tests only"),
            "a set clock is announced"
        );
        (daemon, base)
    }

    fn get(&self, base: &str, who: &str, path: &str) -> Value {
        let (status, body) = Api::new(base).get(&self.tokens[who], path);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    fn post(&self, base: &str, who: &str, path: &str, body: Value) -> (u16, Value) {
        Api::new(base).post(&self.tokens[who], path, Some(body))
    }

    /// Ids of the items `who` sees, with whom they deputise for.
    fn postbox(&self, base: &str, who: &str) -> Vec<(u64, Option<String>)> {
        self.get(base, who, "/api/v1/postbox")["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["id"].as_u64().unwrap(),
                    i["deputising_for"].as_str().map(str::to_string),
                )
            })
            .collect()
    }

    /// Drop a letter for Petersen into the inbox; the postbox its item went to.
    fn letter(&self, base: &str, marker: &str) -> (u64, String) {
        let lines = vec![
            "BG-Nr. 07450BG0000101".to_string(),
            format!("Veränderungsmitteilung {marker}"),
        ];
        let pdf = scanmaker::text_pdf(&[lines], Pose::Upright);
        scanmaker::put(&self.sb.inbox().join(format!("husum/{marker}.pdf")), &pdf);
        let mut found = None;
        wait_for(&format!("the item of {marker}"), || {
            let ids = self.sb.search(marker);
            found = ids.first().copied();
            found.is_some() && self.sb.waiting().is_empty() && self.sb.processing().is_empty()
        });
        let out = self
            .sb
            .eakte(&["route", "explain", "--json", &found.unwrap().to_string()]);
        let explained: Value = serde_json::from_slice(&out.stdout).unwrap();
        let item = &explained["item"];
        let _ = base;
        (
            item["id"].as_u64().unwrap(),
            item["postbox"].as_str().unwrap().to_string(),
        )
    }
}

#[test]
fn a_wiedervorlage_reappears_on_its_day_and_an_absence_ends_after_its_last_day() {
    // One admin enters the absence: this test is about days, not about the
    // second admin (tests/api.rs has that).
    let sb = Sandbox::with_settle(100, "[access]\nfour_eyes = false\n");
    sb.import("caseworkers", CASEWORKERS);
    sb.import("recipients", PEOPLE);
    let mut tokens = std::collections::HashMap::new();
    tokens.insert(
        "cw2",
        sb.add_user(&["Lena", "--role", "caseworker", "--caseworker", "sb-h2"]),
    );
    tokens.insert(
        "cw3",
        sb.add_user(&["Hauke", "--role", "caseworker", "--caseworker", "sb-h3"]),
    );
    tokens.insert("admin", sb.add_user(&["Admin", "--role", "admin"]));
    let w = Clocked { sb, tokens };

    // Wednesday 10 March 2027, 09:00 in Husum.
    let (daemon, base) = w.serve_at("2027-03-10T09:00:00+01:00");
    let (first, postbox) = w.letter(&base, "Deichschaf");
    assert_eq!(postbox, "sb-h2");
    let (status, body) = w.post(
        &base,
        "cw2",
        &format!("/api/v1/postbox/items/{first}/resubmit"),
        json!({ "until": "11.03.2027", "note": "Unterlagen abwarten" }),
    );
    assert_eq!(status, 200, "{body}");
    assert!(w.postbox(&base, "cw2").is_empty(), "hidden until its day");
    let (status, body) = w.post(
        &base,
        "admin",
        "/api/v1/admin/absences",
        json!({ "kennung": "sb-h2", "from": "2027-03-10", "to": "2027-03-11", "deputy": "sb-h3" }),
    );
    assert_eq!(status, 201, "{body}");
    let (second, postbox) = w.letter(&base, "Warftweg");
    assert_eq!(postbox, "sb-h3", "new post goes to the deputy");
    assert_eq!(w.postbox(&base, "cw3"), [(second, None)]);
    assert!(daemon.stop());

    // 23:59 in Husum (22:59 UTC): still the 10th.
    let (daemon, base) = w.serve_at("2027-03-10T22:59:00Z");
    assert!(w.postbox(&base, "cw2").is_empty(), "not before its day");
    assert!(daemon.stop());

    // 00:00:30 in Husum on the 11th, though still the 10th in UTC: it is back,
    // and the absence holds on its last day (the deputy sees it too).
    let (daemon, base) = w.serve_at("2027-03-10T23:00:30Z");
    assert_eq!(w.postbox(&base, "cw2"), [(first, None)]);
    let deputy = w.postbox(&base, "cw3");
    assert!(
        deputy.contains(&(first, Some("sb-h2".into()))) && deputy.contains(&(second, None)),
        "{deputy:?}"
    );
    let out = w.sb.eakte(&["postbox", "list", "--json", "sb-h2"]);
    assert_eq!(
        common::stdout(&out).lines().count(),
        1,
        "the command line counts the daemon's day too"
    );
    assert!(daemon.stop());

    // The 12th: the absence has ended; post goes to sb-h2 again, and the
    // deputy no longer sees sb-h2's items.
    let (daemon, base) = w.serve_at("2027-03-12T08:00:00+01:00");
    let (_, postbox) = w.letter(&base, "Sielhafen");
    assert_eq!(postbox, "sb-h2");
    assert_eq!(w.postbox(&base, "cw3"), [(second, None)]);
    assert_eq!(w.postbox(&base, "cw2").len(), 2);
    assert!(daemon.stop());
    w.sb.assert_check_passes();
}
