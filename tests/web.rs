//! The web UI over real HTTP against the real daemon: the session cookie,
//! CSRF, German pages, and for every UI route that a caseworker gets exactly
//! the answer of a missing thing for another caseworker's BG, document and
//! item, as over the API.

mod common;

use common::scanmaker::{self, Pose};
use common::Sandbox;
use serde_json::Value;

use common::{HUSUM_CASEWORKERS as CASEWORKERS, HUSUM_PEOPLE as PEOPLE};

/// Hanna (sb-h1, Albers) and Lena (sb-h2, Petersen), one letter each.
struct Office {
    _sb: Sandbox,
    _daemon: common::Daemon,
    base: String,
    agent: ureq::Agent,
    hanna: String,
    lena: String,
    /// The clearing office of Husum, the team lead of "Husum 1", an admin.
    clearing: String,
    lead: String,
    admin: String,
    /// The letter nobody was recognised in (clearing:husum).
    unknown: u64,
    /// (document, item) of Albers' letter (Hanna's) and Petersen's (Lena's).
    albers: (u64, u64),
    petersen: (u64, u64),
}

fn letter(lines: &[&str]) -> Vec<u8> {
    scanmaker::jobcenter_letter(lines)
}

fn office() -> Office {
    office_with("")
}

/// An office whose `eakte.toml` also has `extra` (sections after `[access]`).
fn office_with(extra: &str) -> Office {
    let sb = Sandbox::with_config(&format!("[access]\nfour_eyes = false\n{extra}"));
    sb.import("recipients", PEOPLE);
    sb.import("caseworkers", CASEWORKERS);
    let mut docs = Vec::new();
    for (name, lines) in [
        (
            "albers",
            [
                "Kundennummer 102B000001",
                "Widerspruch gegen den Bescheid. Halligfähre.",
            ],
        ),
        (
            "petersen",
            ["BG-Nr. 07450BG0000101", "Mein Kontoauszug. Deichgraf."],
        ),
        (
            "unknown",
            ["Ohne Angaben zur Person.", "Bitte um Rückruf. Sturmflut."],
        ),
    ] {
        let path = sb.path().join(format!("{name}.pdf"));
        std::fs::write(&path, letter(&lines)).unwrap();
        let line = sb.ingest(&[&path], &["--site", "husum"]).remove(0);
        docs.push(line["document_id"].as_u64().unwrap());
    }
    let hanna = sb.add_user(&["Hanna", "--role", "caseworker", "--caseworker", "sb-h1"]);
    let lena = sb.add_user(&["Lena", "--role", "caseworker", "--caseworker", "sb-h2"]);
    let clearing = sb.add_user(&["Klärung Husum", "--role", "clearing", "--site", "husum"]);
    let lead = sb.add_user(&["Teamleitung", "--role", "teamlead", "--team", "Husum 1"]);
    let admin = sb.add_user(&["Admin", "--role", "admin"]);
    let daemon = sb.serve();
    let base = daemon.api();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let api = common::Api::new(&base);
    let item_of = |token: &str, doc: u64| -> u64 {
        let (_, poll) = api.get(token, "/api/v1/postbox");
        poll["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["document_id"] == doc)
            .map(|i| i["id"].as_u64().unwrap())
            .expect("the letter is in the postbox")
    };
    let albers = (docs[0], item_of(&hanna, docs[0]));
    let petersen = (docs[1], item_of(&lena, docs[1]));
    Office {
        _sb: sb,
        _daemon: daemon,
        base,
        agent,
        hanna,
        lena,
        clearing,
        lead,
        admin,
        unknown: docs[2],
        albers,
        petersen,
    }
}

/// A browser's session: its cookie and the CSRF token of its pages.
struct Browser {
    cookie: String,
    csrf: String,
}

struct Answer {
    status: u16,
    location: Option<String>,
    set_cookie: Option<String>,
    headers: ureq::http::HeaderMap,
    body: String,
}

impl Office {
    fn send(&self, request: ureq::RequestBuilder<ureq::typestate::WithoutBody>) -> Answer {
        self.answer(request.call().unwrap())
    }

    fn answer(&self, mut response: ureq::http::Response<ureq::Body>) -> Answer {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        Answer {
            status: response.status().as_u16(),
            location: header("location"),
            set_cookie: header("set-cookie"),
            headers: response.headers().clone(),
            body: response.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    fn get(&self, browser: Option<&Browser>, path: &str) -> Answer {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(b) = browser {
            request = request.header("Cookie", format!("eakte_sitzung={}", b.cookie));
        }
        self.send(request)
    }

    fn post(&self, browser: Option<&Browser>, path: &str, form: &[(&str, &str)]) -> Answer {
        let mut request = self.agent.post(format!("{}{path}", self.base));
        if let Some(b) = browser {
            request = request.header("Cookie", format!("eakte_sitzung={}", b.cookie));
        }
        self.answer(request.send_form(form.iter().copied()).unwrap())
    }

    /// A search as the form sends it, and the results page it leads to (or
    /// the jump to an Akte).
    fn search(&self, browser: &Browser, fields: &[(&str, &str)]) -> Answer {
        let mut form = vec![("csrf", browser.csrf.as_str())];
        form.extend_from_slice(fields);
        let sent = self.post(Some(browser), "/suche", &form);
        assert_eq!(sent.status, 303, "{}", sent.body);
        match sent.location.as_deref() {
            Some(results) if results.starts_with("/suche/") => {
                let page = self.get(Some(browser), results);
                assert!(
                    !results.contains(fields[0].1),
                    "no search word in the address"
                );
                page
            }
            _ => sent,
        }
    }

    fn login(&self, token: &str) -> Browser {
        let answer = self.post(
            None,
            "/anmelden",
            &[("token", token), ("weiter", "/postkorb")],
        );
        assert_eq!(answer.status, 303, "{}", answer.body);
        let set = answer.set_cookie.expect("a session cookie");
        let cookie = set
            .split(';')
            .next()
            .unwrap()
            .strip_prefix("eakte_sitzung=")
            .unwrap()
            .to_string();
        let page = self.get(
            Some(&Browser {
                cookie: cookie.clone(),
                csrf: String::new(),
            }),
            "/postkorb",
        );
        let csrf = page
            .body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a CSRF token in the page")
            .to_string();
        Browser { cookie, csrf }
    }
}

#[test]
fn login_gives_a_strict_http_only_session_and_logout_ends_it() {
    let o = office();
    let answer = o.get(None, "/postkorb");
    assert_eq!(answer.status, 303, "not signed in: to the login");
    assert_eq!(
        answer.location.as_deref(),
        Some("/anmelden?weiter=%2Fpostkorb")
    );
    let login = o.get(None, "/anmelden");
    assert_eq!(login.status, 200);
    assert!(
        login.body.contains("Zugangsschlüssel"),
        "German: {}",
        login.body
    );
    assert!(login.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));

    let wrong = o.post(None, "/anmelden", &[("token", "eakte_falsch")]);
    assert_eq!(wrong.status, 401);
    assert!(wrong.set_cookie.is_none());
    assert!(wrong.body.contains("nicht gültig"), "{}", wrong.body);

    let answer = o.post(
        None,
        "/anmelden",
        &[("token", &o.hanna), ("weiter", "//evil.example/")],
    );
    assert_eq!(answer.status, 303);
    assert_eq!(
        answer.location.as_deref(),
        Some("/postkorb"),
        "never off-site"
    );
    let cookie = answer.set_cookie.unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP by default: {cookie}"
    );

    // The live Postkorb's background request learns of it by a 401.
    assert_eq!(o.get(None, "/postkorb/live?seit=0").status, 401);
    // Unknown addresses and malformed ones are German pages, not JSON.
    let signed = o.login(&o.lena);
    for (path, status) in [("/gibt-es-nicht", 404), ("/dokumente/abc", 400)] {
        let answer = o.get(Some(&signed), path);
        assert_eq!(answer.status, status, "{path}");
        assert!(answer.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(answer.body.contains("eakte"), "{}", answer.body);
    }
    assert_eq!(
        o.get(None, "/api/v1/nothing").headers["content-type"],
        "application/problem+json"
    );

    let hanna = o.login(&o.hanna);
    let page = o.get(Some(&hanna), "/postkorb");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Albers, Maria"), "{}", page.body);
    assert!(
        !page.body.contains("Petersen"),
        "Lena's letter is not Hanna's"
    );
    assert_eq!(page.headers["cache-control"], "no-store");

    // Logging out needs the page's token, and ends the session.
    let forged = o.post(Some(&hanna), "/abmelden", &[("csrf", "falsch")]);
    assert_eq!(forged.status, 403);
    assert_eq!(o.get(Some(&hanna), "/postkorb").status, 200);
    let out = o.post(Some(&hanna), "/abmelden", &[("csrf", &hanna.csrf)]);
    assert_eq!(out.status, 303);
    assert_eq!(o.get(Some(&hanna), "/postkorb").status, 303, "logged out");
}

#[test]
fn every_ui_route_answers_a_foreign_bg_document_and_item_like_a_missing_one() {
    let o = office();
    let hanna = o.login(&o.hanna);
    let (own_doc, own_item) = o.albers;
    let (foreign_doc, foreign_item) = o.petersen;
    let missing = 999_999;
    let gets = |doc: u64, bg: &str| {
        vec![
            format!("/dokumente/{doc}"),
            format!("/dokumente/{doc}/original"),
            format!("/akten/{bg}"),
        ]
    };
    // Hanna's own: shown.
    for path in gets(own_doc, "07450BG0000102") {
        assert_eq!(o.get(Some(&hanna), &path).status, 200, "{path}");
    }
    let not_found = o.get(Some(&hanna), &format!("/dokumente/{missing}"));
    assert_eq!(not_found.status, 404);
    assert!(not_found.body.contains("nicht in Ihrer Zuständigkeit"));
    for (foreign, missing) in gets(foreign_doc, "07450BG0000101")
        .into_iter()
        .zip(gets(missing, "07450BG9999999"))
    {
        let (f, m) = (o.get(Some(&hanna), &foreign), o.get(Some(&hanna), &missing));
        assert_eq!(
            (f.status, &f.body),
            (404, &m.body),
            "{foreign} answers as {missing}"
        );
    }
    for action in ["done", "start", "forward", "resubmit"] {
        let form = [
            ("csrf", hanna.csrf.as_str()),
            ("an", "sb-h1"),
            ("datum", "01.12.2030"),
        ];
        let f = o.post(
            Some(&hanna),
            &format!("/eintraege/{foreign_item}/{action}"),
            &form,
        );
        let m = o.post(
            Some(&hanna),
            &format!("/eintraege/{missing}/{action}"),
            &form,
        );
        assert_eq!(
            (f.status, &f.body),
            (404, &m.body),
            "{action} of a foreign item"
        );
    }
    let search = [("csrf", hanna.csrf.as_str()), ("suche", "Petersen")];
    let f = o.post(
        Some(&hanna),
        &format!("/dokumente/{foreign_doc}/empfaenger"),
        &search,
    );
    let m = o.post(
        Some(&hanna),
        &format!("/dokumente/{missing}/empfaenger"),
        &search,
    );
    assert_eq!(
        (f.status, &f.body),
        (404, &m.body),
        "a registry search beside a foreign letter"
    );
    // Screens of other roles answer as missing pages too.
    for other in ["/klaerung", "/team"] {
        let answer = o.get(Some(&hanna), other);
        assert_eq!(
            (answer.status, &answer.body),
            (404, &not_found.body),
            "{other}"
        );
    }
    let note = [
        ("csrf", hanna.csrf.as_str()),
        ("schlagwort", "Vermerk"),
        ("text", "Anruf"),
    ];
    let f = o.post(Some(&hanna), "/akten/07450BG0000101/notiz", &note);
    let m = o.post(Some(&hanna), "/akten/07450BG9999999/notiz", &note);
    assert_eq!(
        (f.status, &f.body),
        (404, &m.body),
        "a note into a foreign Akte"
    );
    let export = [
        ("csrf", hanna.csrf.as_str()),
        ("format", "xdomea"),
        ("empfaenger", "Jobcenter Kiel"),
    ];
    let f = o.post(Some(&hanna), "/akten/07450BG0000101/export", &export);
    let m = o.post(Some(&hanna), "/akten/07450BG9999999/export", &export);
    assert_eq!(
        (f.status, &f.body),
        (404, &m.body),
        "an export of a foreign Akte"
    );
    let admin_only = o.get(
        Some(&hanna),
        "/aktenuebernahme/0123456789abcdef0123456789abcdef",
    );
    assert_eq!(admin_only.status, 404, "the admin's page");

    // Without the page's token nothing changes, even on her own item.
    let forged = o.post(
        Some(&hanna),
        &format!("/eintraege/{own_item}/done"),
        &[("csrf", "x")],
    );
    assert_eq!(forged.status, 403);
    // With it, zdA works and leads back.
    let done = o.post(
        Some(&hanna),
        &format!("/eintraege/{own_item}/done"),
        &[("csrf", &hanna.csrf), ("zurueck", "/postkorb")],
    );
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(!o
        .get(Some(&hanna), "/postkorb")
        .body
        .contains("Albers, Maria"));

    // Lena still sees her own letter: the refusals changed nothing of hers.
    let lena = o.login(&o.lena);
    assert!(o
        .get(Some(&lena), "/postkorb")
        .body
        .contains("Petersen, Jens"));
}

#[test]
fn pages_write_the_same_audit_entries_as_the_api() {
    let o = office();
    let hanna = o.login(&o.hanna);
    let (doc, _) = o.albers;
    assert_eq!(
        o.get(Some(&hanna), &format!("/dokumente/{doc}")).status,
        200
    );
    assert_eq!(o.get(Some(&hanna), "/akten/07450BG0000102").status, 200);
    assert_eq!(
        o.get(Some(&hanna), &format!("/dokumente/{}", o.petersen.0))
            .status,
        404
    );
    let search = o.search(&hanna, &[("q", "Halligfähre")]);
    assert_eq!(search.status, 200);
    assert!(
        search.body.contains(&format!("/dokumente/{doc}")),
        "{}",
        search.body
    );
    let jump = o.post(
        Some(&hanna),
        "/suche",
        &[("csrf", &hanna.csrf), ("q", "07450BG0000102")],
    );
    assert_eq!(jump.location.as_deref(), Some("/akten/07450BG0000102"));

    let auditor = o._sb.add_user(&["Revision", "--role", "auditor"]);
    let (_, trail) = common::Api::new(&o.base).get(&auditor, "/api/v1/audit");
    let entries: Vec<&Value> = trail.as_array().expect("entries").iter().collect();
    let has = |action: &str, target: &str, outcome: &str| {
        entries.iter().any(|e| {
            e["action"] == action
                && e["target"].as_str().unwrap_or("").contains(target)
                && e["outcome"] == outcome
                && e["who"].as_str().unwrap_or("").starts_with("Hanna")
        })
    };
    assert!(has("login", "web session", "ok"));
    assert!(has("read_text", &format!("document {doc}"), "ok"));
    assert!(has("read_akte", "akte 07450BG0000102", "ok"));
    assert!(has(
        "read_text",
        &format!("document {}", o.petersen.0),
        "denied"
    ));
    assert!(has("search", "", "ok"));
    assert!(has("read_postbox", "", "ok"));
}

#[path = "common/webdriver.rs"]
mod webdriver;

/// Where screenshots go: `docs/screenshots/` with `EAKTE_SCREENSHOTS=1`
/// (for README), else a temporary folder.
fn screenshot_dir() -> (std::path::PathBuf, Option<tempfile::TempDir>) {
    if std::env::var_os("EAKTE_SCREENSHOTS").is_some() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        (dir, None)
    } else {
        let temp = tempfile::tempdir().unwrap();
        (temp.path().to_path_buf(), Some(temp))
    }
}

/// A screenshot once Chromium's PDF viewer has drawn the page: an empty or
/// failed viewer is one flat grey, a few kB as PNG.
fn viewer_drawn(browser: &webdriver::Browser) -> Vec<u8> {
    let started = std::time::Instant::now();
    loop {
        let png = browser.screenshot_png();
        if png.len() > 20_000 {
            return png;
        }
        assert!(
            started.elapsed().as_secs() < 30,
            "Chromium's viewer drew no page ({} bytes)",
            png.len()
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// axe-core, vendored (see its SOURCES.md).
const AXE: &str = include_str!("fixtures/axe/axe.min.js");

/// axe-core finds no violation of WCAG 2.1 A or AA on the current screen.
fn assert_accessible(browser: &webdriver::Browser, screen: &str) {
    let violations = browser.accessibility_violations(AXE);
    assert!(
        violations.is_empty(),
        "{screen}: {}",
        serde_json::to_string_pretty(&violations).unwrap()
    );
}

/// A caseworker's day in a real browser: log in, a scan dropped into the
/// inbox appears live in the Postkorb, open it with the keyboard, zdA, find
/// it by search, open the Akte, file a note; another caseworker gets nothing.
#[test]
fn a_caseworker_works_the_postkorb_in_chromium() {
    caseworkers_day(webdriver::Kind::Chromium);
}

#[test]
fn a_caseworker_works_the_postkorb_in_firefox_esr() {
    caseworkers_day(webdriver::Kind::FirefoxEsr);
}

fn caseworkers_day(kind: webdriver::Kind) {
    let o = office();
    // README shows chromium's screenshots; Firefox's are taken, not kept.
    let (shots, _keep) = match kind {
        webdriver::Kind::Chromium => screenshot_dir(),
        webdriver::Kind::FirefoxEsr => {
            let temp = tempfile::tempdir().unwrap();
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    let browser = webdriver::Browser::start_kind(kind, 1920, 1080);
    browser.go(&format!("{}/postkorb", o.base));
    browser.find("#token");
    assert!(browser.url().contains("/anmelden"), "{}", browser.url());
    // The check sees what it should: a field without a label is a violation.
    browser.script("var i = document.createElement('input'); i.id = 'ohne-label'; document.body.appendChild(i);");
    let found = browser.accessibility_violations(AXE);
    assert!(found.iter().any(|v| v["id"] == "label"), "{found:?}");
    browser.script("document.getElementById('ohne-label').remove();");
    assert_accessible(&browser, "Anmelden");
    browser.screenshot(&shots.join("anmelden.png"));
    browser.type_into("#token", &o.hanna);
    browser.click("form button[type=submit]");
    browser.wait_for_text("Eigene Post", 30);
    assert!(browser.url().ends_with("/postkorb"));
    assert!(browser.text().contains("Albers, Maria"));
    assert_accessible(&browser, "Postkorb");

    // A new letter arrives while the page is open: it appears without a reload.
    browser.script("window.eakteSamePage = true;");
    let rows = || browser.script("return document.querySelectorAll('tr.eintrag').length;");
    assert_eq!(rows(), 1);
    let scan = letter(&[
        "Kundennummer 102B000001",
        "Arbeitsunfähigkeitsbescheinigung ab heute. Leuchtturmwärter.",
    ]);
    scanmaker::put(&o._sb.inbox().join("husum/krankmeldung.pdf"), &scan);
    let started = std::time::Instant::now();
    while rows() != 2 {
        assert!(
            started.elapsed().as_secs() < 30,
            "the new letter did not appear live"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        browser.script("return window.eakteSamePage === true;"),
        true,
        "no reload"
    );
    browser.screenshot(&shots.join("postkorb.png"));

    // Keyboard: the new letter is the second row (urgent first, then
    // oldest); j, j, Enter opens it.
    browser.press("j");
    browser.press("j");
    browser.press("\u{E007}");
    browser.wait_for_text("Original und erkannter Text", 30);
    assert!(browser.url().contains("/dokumente/"), "{}", browser.url());
    // The page image beside the text, rendered from the original.
    let started = std::time::Instant::now();
    while browser.script("var i = document.querySelector('img.seitenbild'); return !!i && i.complete && i.naturalWidth > 0;") != true {
        assert!(started.elapsed().as_secs() < 20, "the page image did not load");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        browser.text().contains("Leuchtturmwärter"),
        "{}",
        browser.text()
    );
    assert_accessible(&browser, "Dokument");
    browser.screenshot(&shots.join("dokument.png"));
    browser.click("#form-zda button");
    browser.wait_for_text("zdA (erledigt)", 30);

    browser.go(&format!("{}/suche", o.base));
    browser.type_into("#q", "Leuchtturmwärter");
    browser.click("form.suche button");
    browser.wait_for_text("1 Treffer", 30);
    assert_accessible(&browser, "Suche");
    browser.screenshot(&shots.join("suche.png"));

    // The hit's document shows the searched word marked.
    browser.click(".treffer a[href^='/dokumente/']");
    browser.wait_for_text("Original und erkannter Text", 30);
    assert_eq!(
        browser.script("return document.querySelector('.seitentext mark').textContent;"),
        "Leuchtturmwärter"
    );
    browser.script("history.back();");
    browser.wait_for_text("1 Treffer", 30);
    browser.click(".treffer a[href^='/akten/']");
    browser.wait_for_text("Akte 07450BG0000102", 30);
    assert!(browser.text().contains("Albers, Maria"));
    assert_accessible(&browser, "Akte");
    browser.type_into("#n-titel", "Telefonnotiz Rückruf");
    browser.type_into(
        "#n-text",
        "Frau Albers bittet um Rückruf wegen der Krankmeldung.",
    );
    browser.click("form.notiz button");
    browser.wait_for_text("Telefonnotiz Rückruf", 30);
    // A PDF chosen in the file field is filed into the Akte.
    let documents = || {
        browser
            .script("return document.querySelectorAll('.liste a[href^=\"/dokumente/\"]').length;")
    };
    let before = documents().as_u64().unwrap();
    let pdf = o._sb.path().join("mietvertrag.pdf");
    std::fs::write(
        &pdf,
        letter(&["Mietvertrag für die Wohnung in Husum. Deichstraße."]),
    )
    .unwrap();
    browser.type_into("#d-datei", pdf.to_str().unwrap());
    let started = std::time::Instant::now();
    while documents().as_u64() != Some(before + 1) {
        assert!(
            started.elapsed().as_secs() < 30,
            "the PDF was not filed: {}",
            browser.text()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    browser.screenshot(&shots.join("akte.png"));
    let document = browser.script(
        "return document.querySelector('.liste a[href^=\"/dokumente/\"]').getAttribute('href');",
    );

    // Lena, on the same browser after Hanna logged out, gets nothing of it.
    browser.click(".abmelden button");
    browser.find("#token");
    browser.type_into("#token", &o.lena);
    browser.click("form button[type=submit]");
    browser.wait_for_text("Eigene Post", 30);
    assert!(!browser.text().contains("Albers"));
    browser.go(&format!("{}{}", o.base, document.as_str().unwrap()));
    browser.wait_for_text("nicht in Ihrer Zuständigkeit", 30);
    assert!(!browser.text().contains("Albers"));
    assert_accessible(&browser, "Fehlerseite");
    browser.screenshot(&shots.join("nicht-gefunden.png"));
}

/// The clearing office assigns a letter nobody was recognised in, and it
/// appears live in the caseworker's open Postkorb; the team lead sees it
/// counted; while Lena is away, Hanna works her post as her deputy.
#[test]
fn clearing_assigns_live_and_a_deputy_works_an_absent_colleagues_post() {
    let o = office();
    let (shots, _keep) = screenshot_dir();
    let login = |browser: &webdriver::Browser, token: &str| {
        browser.go(&format!("{}/anmelden", o.base));
        browser.type_into("#token", token);
        browser.click("form button[type=submit]");
        browser.wait_for_text("Postkorb", 30);
    };
    let hanna = webdriver::Browser::start(1280, 1024);
    login(&hanna, &o.hanna);
    hanna.wait_for_text("Albers, Maria", 30);
    assert!(!hanna.text().contains("Sturmflut"));

    let clearing = webdriver::Browser::start(1280, 1024);
    login(&clearing, &o.clearing);
    clearing.go(&format!("{}/klaerung", o.base));
    clearing.wait_for_text("Kein Empfänger erkannt", 30);
    assert_accessible(&clearing, "Klärungsstelle");
    clearing.screenshot(&shots.join("klaerung.png"));
    clearing.click(&format!("a[href='/dokumente/{}']", o.unknown));
    clearing.wait_for_text("Empfänger zuordnen", 30);
    clearing.type_into("#empfaenger-suche", "albers 20.05.1975");
    clearing.click("form[action$='/empfaenger'] button");
    clearing.wait_for_text("102B000001", 30);
    assert_accessible(&clearing, "Zuordnen");
    clearing.screenshot(&shots.join("zuordnen.png"));
    // One person found: the BG is filled in; the type stays.
    let bg = clearing.script("return document.getElementById('zuordnen-bg').value;");
    assert_eq!(bg, "07450BG0000102");
    clearing.click("#form-zuordnen button");
    clearing.wait_for_text("Nichts zu klären", 30);

    // In Hanna's open Postkorb, without a reload.
    hanna.script("window.eakteSamePage = true;");
    let started = std::time::Instant::now();
    while hanna.script("return document.querySelectorAll('tr.eintrag').length;") != 2 {
        assert!(
            started.elapsed().as_secs() < 15,
            "the assigned letter did not appear live"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(hanna.script("return window.eakteSamePage === true;"), true);

    // The team lead sees Hanna's two letters counted.
    let lead = webdriver::Browser::start(1280, 1024);
    login(&lead, &o.lead);
    lead.go(&format!("{}/team", o.base));
    lead.wait_for_text("Hanna Hansen (sb-h1)", 30);
    let row = lead.script("return Array.from(document.querySelectorAll('tbody tr')).find(r => r.innerText.includes('sb-h1')).innerText;");
    assert!(row.as_str().unwrap().contains("\t2\t"), "{row}");
    assert_accessible(&lead, "Team");
    lead.screenshot(&shots.join("team.png"));

    // Lena is away from today: Hanna deputises and works Lena's letter.
    let today = jiff::Zoned::now().in_tz("Europe/Berlin").unwrap().date();
    let (status, body) = common::Api::new(&o.base).post(
        &o.admin,
        "/api/v1/admin/absences",
        Some(
            serde_json::json!({"kennung": "sb-h2", "from": today.to_string(),
            "to": today.to_string(), "deputy": "sb-h1"}),
        ),
    );
    assert_eq!(status, 201, "{body}");
    hanna.go(&format!("{}/postkorb", o.base));
    hanna.wait_for_text("Vertretung für sb-h2", 30);
    assert!(hanna.text().contains("Petersen, Jens"));
    hanna.script("window.eakteSamePage = true;");
    hanna.click(&format!(
        "tr[data-eintrag='{}'] form.zda button",
        o.petersen.1
    ));
    let started = std::time::Instant::now();
    while hanna.text().contains("Petersen, Jens") {
        assert!(
            started.elapsed().as_secs() < 30,
            "the deputy's zdA did not show"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        hanna.script("return window.eakteSamePage === true;"),
        true,
        "zdA in place, without leaving the Postkorb"
    );
}

fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[1..4], b"PNG", "a PNG");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

/// Page images are rendered from the original (a PDF page by poppler, a scan
/// decoded and turned upright as for OCR), kept as derived data, and refused
/// for a foreign document exactly as for a missing one.
#[test]
fn page_images_are_rendered_upright_and_only_for_the_callers_documents() {
    let o = office();
    let hanna = o.login(&o.hanna);
    let (own, _) = o.albers;
    let get_bytes = |path: &str| {
        let mut response = o
            .agent
            .get(format!("{}{path}", o.base))
            .header("Cookie", format!("eakte_sitzung={}", hanna.cookie))
            .call()
            .unwrap();
        let status = response.status().as_u16();
        let kind = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        (status, kind, response.body_mut().read_to_vec().unwrap())
    };
    let (status, kind, png) = get_bytes(&format!("/dokumente/{own}/seiten/1"));
    assert_eq!((status, kind.as_deref()), (200, Some("image/png")));
    let (w, h) = png_size(&png);
    assert!(w > 600 && h > w, "an A4 page, portrait: {w}×{h}");
    let cache = o._sb.path().join("page-cache");
    assert_eq!(common::files_under(&cache).len(), 1, "kept once rendered");

    let page_two = o.get(Some(&hanna), &format!("/dokumente/{own}/seiten/2"));
    let foreign = o.get(
        Some(&hanna),
        &format!("/dokumente/{}/seiten/1", o.petersen.0),
    );
    let missing = o.get(Some(&hanna), "/dokumente/999999/seiten/1");
    assert_eq!((foreign.status, &foreign.body), (404, &missing.body));
    assert_eq!((page_two.status, &page_two.body), (404, &missing.body));

    // A scan that lay sideways on the glass: shown upright (portrait).
    let sideways = scanmaker::rasterise(
        &scanmaker::text_pdf(
            // A whole letter's worth of lines: orientation detection needs
            // text to be sure, and two lines are not enough with every font.
            &[[
                "Wohnungsbau Nordfriesland eG, Deichstraße 4, 25813 Husum",
                "",
                "Jobcenter Kreis Nordfriesland",
                "Sozialzentrum Husum",
                "",
                "Kundennummer 102B000001",
                "Mietbescheinigung Leuchtfeuer",
                "",
                "Sehr geehrte Damen und Herren,",
                "hiermit bestätigen wir das Mietverhältnis über die Wohnung",
                "im Erdgeschoss links seit dem 01.03.2024. Die Grundmiete beträgt",
                "monatlich 412,00 Euro, die Vorauszahlung für Heizung 95,00 Euro.",
                "",
                "Mit freundlichen Grüßen",
            ]
            .map(String::from)
            .to_vec()],
            Pose::Sideways,
        ),
        150,
        scanmaker::Raster::Png,
    )
    .remove(0);
    scanmaker::put(&o._sb.inbox().join("husum/quer.png"), &sideways);
    let api = common::Api::new(&o.base);
    let mut scan = None;
    common::wait_for("the sideways scan", || {
        let (_, poll) = api.get(&o.hanna, "/api/v1/postbox");
        scan = poll["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["document_id"] != own)
            .map(|i| i["document_id"].as_u64().unwrap());
        scan.is_some()
    });
    let (status, _, png) = get_bytes(&format!("/dokumente/{}/seiten/1", scan.unwrap()));
    assert_eq!(status, 200);
    let (w, h) = png_size(&png);
    assert!(h > w, "turned upright: {w}×{h}");
    assert!(w <= 1000, "scaled to the screen: {w}");
}

/// Behind the deployment's single sign-on, the proxy's header logs the user
/// in, but only from the configured proxy and only for one account.
#[test]
fn a_trusted_proxy_signs_users_on_and_nobody_else_can() {
    let o = office_with(
        "[web]\ntrusted_user_header = \"X-Remote-User\"\ntrusted_proxies = [\"127.0.0.1\"]\n",
    );
    let ask = |name: &str| {
        o.send(
            o.agent
                .get(format!("{}/anmelden?weiter=/akten/07450BG0000102", o.base))
                .header("X-Remote-User", name),
        )
    };
    let signed_on = ask("Hanna");
    assert_eq!(signed_on.status, 303, "{}", signed_on.body);
    assert_eq!(signed_on.location.as_deref(), Some("/akten/07450BG0000102"));
    let cookie = signed_on.set_cookie.unwrap();
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("eakte_sitzung=")
        .unwrap();
    let browser = Browser {
        cookie: value.to_string(),
        csrf: String::new(),
    };
    assert_eq!(o.get(Some(&browser), "/akten/07450BG0000102").status, 200);
    assert_eq!(ask("Niemand").status, 401);
    assert!(ask("Niemand").set_cookie.is_none());
    // Without the header: the login form, as ever.
    assert_eq!(o.get(None, "/anmelden").status, 200);

    let elsewhere = office_with(
        "[web]\ntrusted_user_header = \"X-Remote-User\"\ntrusted_proxies = [\"10.9.9.9\"]\n",
    );
    let forged = elsewhere.send(
        elsewhere
            .agent
            .get(format!("{}/anmelden", elsewhere.base))
            .header("X-Remote-User", "Hanna"),
    );
    assert_eq!(forged.status, 403, "the header from anyone but the proxy");
    assert!(forged.set_cookie.is_none());
}

/// The phone rings: the caseworker types the caller's name and has their
/// Akte in one step; a name outside their BGs finds nobody. The Akte filters
/// by days and searches within itself.
#[test]
fn a_name_opens_the_akte_and_an_akte_is_searched_and_filtered() {
    let o = office();
    let hanna = o.login(&o.hanna);
    let search = |q: &str, bg: &str| {
        let mut form = vec![("csrf", hanna.csrf.as_str()), ("q", q)];
        if !bg.is_empty() {
            form.push(("bg", bg));
        }
        o.search(&hanna, &form[1..])
    };
    for typed in ["Albers", "maria albers", "20.05.1975", "102B000001"] {
        let jump = search(typed, "");
        assert_eq!(jump.status, 303, "{typed}: {}", jump.body);
        assert_eq!(
            jump.location.as_deref(),
            Some("/akten/07450BG0000102"),
            "{typed}"
        );
    }
    // Lena's recipient is nobody to Hanna: no jump, no person, no hit.
    let foreign = search("Petersen", "");
    let nobody = search("Niemandsen", "");
    assert_eq!((foreign.status, nobody.status), (200, 200));
    for page in [&foreign.body, &nobody.body] {
        assert!(page.contains("<strong>0</strong> Treffer"), "{page}");
        assert!(!page.contains("Personen"));
    }

    // Facets by month of receipt (this month's letter counted).
    let found = search("Halligfähre", "");
    assert!(found.body.contains("Monat des Eingangs"), "{}", found.body);
    let within = search("Halligfähre", "07450BG0000102");
    assert!(
        within.body.contains(&format!("/dokumente/{}", o.albers.0)),
        "{}",
        within.body
    );
    assert!(within.body.contains("Nur in der Akte 07450BG0000102"));
    let (doc, _) = o.albers;
    let akte = |query: &str| o.get(Some(&hanna), &format!("/akten/07450BG0000102{query}"));
    assert!(akte("?von=01.01.2000")
        .body
        .contains(&format!("/dokumente/{doc}")));
    assert!(akte("?bis=01.01.2000")
        .body
        .contains("Keine Dokumente zu diesem Filter"));
    let wrong = akte("?von=gestern");
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("TT.MM.JJJJ"), "{}", wrong.body);
}

/// The Akte page exports the Akte (xdomea or PDF, with the receiving
/// authority) through its form; an admin sends a package, sees what it holds
/// and where it would go, and only then takes it.
#[test]
fn an_akte_is_exported_from_its_page_and_an_admin_sees_a_package_before_taking_it() {
    let o = office();
    let (shots, _keep) = screenshot_dir();
    let browser = webdriver::Browser::start(1280, 1024);
    let login = |token: &str, expect: &str| {
        browser.go(&format!("{}/anmelden", o.base));
        browser.type_into("#token", token);
        browser.click("form button[type=submit]");
        browser.wait_for_text(expect, 30);
    };
    login(&o.hanna, "Postkorb");
    browser.go(&format!("{}/akten/07450BG0000102", o.base));
    browser.wait_for_text("Akte exportieren", 30);
    assert_accessible(&browser, "Akte mit Export");
    browser.type_into("#e-empfaenger", "Jobcenter Kiel");
    // The form as the browser sends it; the answer is the download.
    let send = "var done = arguments[arguments.length - 1];\
        var f = document.querySelector('form.export');\
        fetch(f.action, {method: 'POST', body: new URLSearchParams(new FormData(f)), credentials: 'same-origin'})\
          .then(function (r) { return r.arrayBuffer().then(function (b) {\
            done([r.status, r.headers.get('content-type'), b.byteLength, r.headers.get('content-disposition')]); }); })\
          .catch(function (e) { done([0, String(e)]); });";
    let answer = browser.script_async(send);
    assert_eq!(answer[0], 200, "{answer}");
    assert_eq!(answer[1], "application/zip");
    assert!(
        answer[3]
            .as_str()
            .unwrap()
            .contains("_Abgabe.Abgabe.0401.zip"),
        "{answer}"
    );
    browser.click("#e-pdf");
    browser.click("label[for='e-sw-1']");
    let answer = browser.script_async(send);
    assert_eq!(answer[0], 200, "{answer}");
    assert_eq!(answer[1], "application/pdf");
    browser.screenshot(&shots.join("akte-export.png"));

    // The PDF opens in Chromium's own viewer: its pages are drawn (an empty
    // or failed viewer is one flat grey, a few kB as PNG).
    let dir = tempfile::tempdir().unwrap();
    // Hanna's export of her Akte over the API, kept as the file `name`.
    let export = |query: &str, name: &str| {
        let mut answer = o
            .agent
            .get(format!(
                "{}/api/v1/akten/07450BG0000102/export?{query}",
                o.base
            ))
            .header("Authorization", format!("Bearer {}", o.hanna))
            .call()
            .unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, answer.body_mut().read_to_vec().unwrap()).unwrap();
        path
    };
    let pdf_path = export("format=pdf&empfaenger=Sozialgericht", "akte.pdf");
    let listing = browser.url();
    browser.go(&format!("file://{}", pdf_path.display()));
    assert_eq!(
        browser.script("return document.contentType;"),
        "application/pdf"
    );
    std::fs::write(shots.join("akte-pdf.png"), viewer_drawn(&browser)).unwrap();
    browser.go(&listing);

    // The package an admin takes over (here: the same Akte, sent back).
    let package = export("empfaenger=Jobcenter%20Kiel", "abgabe.zip");
    browser.click(".abmelden button");
    browser.find("#token");
    login(&o.admin, "Aktenübernahme");
    browser.go(&format!("{}/aktenuebernahme", o.base));
    browser.wait_for_text("xdomea-Abgabe (.zip) auswählen", 30);
    assert_accessible(&browser, "Aktenübernahme");
    browser.type_into("#u-datei", package.to_str().unwrap());
    browser.wait_for_text("Inhalt der Abgabe", 60);
    let shown = browser.text();
    for needle in [
        "Jobcenter Kreis Nordfriesland",
        "07450BG0000102",
        "Albers, Maria (geb. 20.05.1975)",
        "In die Akte einer Bedarfsgemeinschaft im Bestand",
        "Postkorb sb-h1",
        "stimmt mit ihrer Prüfsumme überein",
    ] {
        assert!(shown.contains(needle), "{needle}:\n{shown}");
    }
    assert_accessible(&browser, "Aktenübernahme, Vorschau");
    browser.screenshot(&shots.join("aktenuebernahme.png"));
    browser.click("button[value=uebernehmen]");
    browser.wait_for_text("Die Akte ist übernommen", 60);
    let receipt = browser.script_async(
        "var done = arguments[arguments.length - 1];\
         fetch(document.querySelector('a[href$=\"/quittung\"]').href, {credentials: 'same-origin'})\
           .then(function (r) { return r.text(); }).then(done);",
    );
    assert!(
        receipt
            .as_str()
            .unwrap()
            .contains("Abgabe.ImportBestaetigen.0402"),
        "{receipt}"
    );
    // Hanna has the one item for it.
    let (_, poll) = common::Api::new(&o.base).get(&o.hanna, "/api/v1/postbox");
    assert!(
        poll["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["doc_type"] == "Akte übernommen"),
        "{poll:#}"
    );
    // Nobody but admins has the page.
    browser.click(".abmelden button");
    browser.find("#token");
    login(&o.hanna, "Postkorb");
    browser.go(&format!("{}/aktenuebernahme", o.base));
    browser.wait_for_text("nicht in Ihrer Zuständigkeit", 30);
}

/// A letter cut from a stack shows where in the stack it was and which pages
/// were left out as empty; "Deckblatt drucken" on the letter and on its Akte
/// opens the sheet in Chromium's viewer, for the caseworker's own BGs only.
#[test]
fn a_letter_from_a_stack_shows_its_pages_and_its_deckblatt_prints() {
    let sb = Sandbox::new();
    sb.import("recipients", PEOPLE);
    sb.import("caseworkers", CASEWORKERS);
    let page = |lines: &[&str]| {
        let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        scanmaker::text_content(&lines)
    };
    let stack = scanmaker::drawn_pdf(&[
        page(&[
            "An das Jobcenter",
            "",
            "Kundennummer 102B000001",
            "Widerspruch gegen den Bescheid. Halligfähre.",
        ]),
        Vec::new(),
        common::barcodes::qr("PATCHT", 80.0, 120.0, 30.0).into_bytes(),
        Vec::new(),
        page(&[
            "An das Jobcenter",
            "",
            "BG-Nr. 07450BG0000101",
            "Mein Kontoauszug. Deichgraf.",
        ]),
    ]);
    let scan = sb.path().join("stapel.pdf");
    std::fs::write(
        &scan,
        scanmaker::scanned_pdf(&scanmaker::rasterise(&stack, 200, scanmaker::Raster::Jpeg)),
    )
    .unwrap();
    let line = sb.ingest(&[&scan], &["--site", "husum"]).remove(0);
    assert_eq!(line["status"], "split", "{line}");
    let albers = line["parts"][0].as_u64().unwrap();
    let petersen = line["parts"][1].as_u64().unwrap();
    let hanna = sb.add_user(&["Hanna", "--role", "caseworker", "--caseworker", "sb-h1"]);
    let daemon = sb.serve();
    let base = daemon.api();
    let (shots, _keep) = screenshot_dir();

    let browser = webdriver::Browser::start(1280, 1024);
    browser.go(&format!("{base}/anmelden"));
    browser.type_into("#token", &hanna);
    browser.click("form button[type=submit]");
    browser.wait_for_text("Postkorb", 30);
    browser.go(&format!("{base}/dokumente/{albers}"));
    browser.wait_for_text("Aus Stapelscan", 30);
    let shown = browser.text();
    for needle in [
        "Teil 1 von 2 eines Stapelscans",
        "Seiten 1–2 des Stapels",
        "Seite 2 ausgelassen (leer, nicht gelesen; im Original erhalten)",
        "Leerseite – nicht gelesen",
        "Deckblatt drucken",
    ] {
        assert!(shown.contains(needle), "{needle}:\n{shown}");
    }
    assert_accessible(&browser, "Dokument aus einem Stapel");
    browser.script("document.querySelector('.angaben').scrollIntoView(); return null;");
    browser.screenshot(&shots.join("stapel-dokument.png"));
    let fetch = "var done = arguments[arguments.length - 1];\
        fetch(document.querySelector(arguments[0]).href, {credentials: 'same-origin'})\
          .then(function (r) { return r.arrayBuffer().then(function (b) {\
            done([r.status, r.headers.get('content-type'), b.byteLength, r.headers.get('content-disposition')]); }); })\
          .catch(function (e) { done([0, String(e)]); });";
    let answer = browser.script_async(&fetch.replace("arguments[0]", "'a.deckblatt'"));
    assert_eq!(answer[0], 200, "{answer}");
    assert_eq!(answer[1], "application/pdf");
    assert!(
        answer[3].as_str().unwrap().starts_with("inline"),
        "{answer}"
    );
    assert!(
        answer[3].as_str().unwrap().contains("Vorgang"),
        "the letter's sheet names its item: {answer}"
    );

    browser.go(&format!("{base}/akten/07450BG0000102"));
    browser.wait_for_text("Deckblatt für eine Antwort", 30);
    assert_accessible(&browser, "Akte mit Deckblatt");
    let answer = browser.script_async(&fetch.replace("arguments[0]", "'a.deckblatt'"));
    assert_eq!(
        (answer[0].as_u64(), answer[1].as_str()),
        (Some(200), Some("application/pdf")),
        "{answer}"
    );
    // The sheet in Chromium's viewer, as the caseworker prints it.
    browser.go(&format!("{base}/akten/07450BG0000102/deckblatt"));
    std::fs::write(shots.join("deckblatt.png"), viewer_drawn(&browser)).unwrap();

    // Petersen's letter and Akte are Lena's: answered as missing.
    browser.go(&format!("{base}/dokumente/{petersen}"));
    browser.wait_for_text("nicht in Ihrer Zuständigkeit", 30);
    browser.go(&format!("{base}/akten/07450BG0000101/deckblatt"));
    browser.wait_for_text("nicht in Ihrer Zuständigkeit", 30);
    drop(daemon);
}
