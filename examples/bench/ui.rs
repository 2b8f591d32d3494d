//! Benchmark 7: the web UI at corpus size. The server time of the Postkorb,
//! Akte and search pages (one client, one request at a time, over loopback),
//! each beside the API call that reads the same data in the same run as its
//! yardstick; and the time from a letter being durable in the store to its
//! row appearing in a Postkorb open in a real browser (Debian's chromium).

use super::*;

#[path = "../../tests/common/webdriver.rs"]
mod webdriver;

/// A ureq agent that keeps cookies out of it and follows no redirect.
fn page_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

fn timed(request: impl FnOnce() -> (u16, usize)) -> (Duration, usize) {
    let started = Instant::now();
    let (status, bytes) = request();
    assert_eq!(status, 200, "a page or API call failed");
    (started.elapsed(), bytes)
}

pub fn ui(corpus: &Corpus, requests: usize, live: usize) -> Vec<Row> {
    let token = corpus
        .site
        .user("bench-ui-sb0", Role::Caseworker, Some("sb-0"));
    let admin = corpus.site.user("bench-ui-admin", Role::Admin, None);
    let server = corpus.site.serve();
    let agent = page_agent();
    let base = server.base.clone();
    let mut login = agent
        .post(format!("{base}/anmelden"))
        .send_form([("token", token.as_str())])
        .unwrap();
    assert_eq!(login.status().as_u16(), 303, "login");
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string();
    let _ = login.body_mut().read_to_string();
    let page = |path: &str| {
        let mut r = agent
            .get(format!("{base}{path}"))
            .header("Cookie", &cookie)
            .call()
            .unwrap();
        let body = r.body_mut().read_to_string().unwrap_or_default();
        (r.status().as_u16(), body)
    };
    let (_, postkorb) = page("/postkorb");
    let csrf = postkorb
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token")
        .to_string();
    let (_, view) = server.get(&token, "/api/v1/postbox");
    let items = view["items"].as_array().cloned().unwrap_or_default();
    let bg = items
        .iter()
        .find_map(|i| i["bg"].as_str())
        .expect("sb-0 has post with a BG")
        .to_string();
    let api = |path: &str| {
        let (status, body) = get(&agent, &base, &token, path);
        (status, body.to_string().len())
    };
    // As the browser does it: the form posted, then the results page the
    // answer leads to (the session keeps the words).
    let search_page = || {
        let mut sent = agent
            .post(format!("{base}/suche"))
            .header("Cookie", &cookie)
            .send_form([("csrf", csrf.as_str()), ("q", COMMON)])
            .unwrap();
        let _ = sent.body_mut().read_to_string();
        let Some(results) = sent
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
        else {
            return (sent.status().as_u16(), 0);
        };
        let (status, body) = page(&results);
        (status, body.len())
    };
    type Request<'a> = Box<dyn Fn() -> (u16, usize) + 'a>;
    let pairs: Vec<(String, Request, Request)> = vec![
        (
            format!("Postkorb ({} items)", items.len()),
            Box::new(|| {
                let (s, b) = page("/postkorb");
                (s, b.len())
            }),
            Box::new(|| api("/api/v1/postbox")),
        ),
        (
            format!("Akte {bg}"),
            Box::new(|| {
                let (s, b) = page(&format!("/akten/{bg}"));
                (s, b.len())
            }),
            Box::new(|| api(&format!("/api/v1/akten/{bg}"))),
        ),
        (
            format!("search for {COMMON}, 20 hits (form sent, then its results page)"),
            Box::new(search_page),
            Box::new(|| api(&format!("/api/v1/search?q={COMMON}&limit=20"))),
        ),
    ];
    let mut rows = Vec::new();
    for (name, page_request, api_request) in &pairs {
        // Warm up, then alternate page and API call so both see the same machine.
        for _ in 0..10 {
            page_request();
            api_request();
        }
        let (mut pages, mut apis, mut bytes) = (Vec::new(), Vec::new(), 0);
        for _ in 0..requests {
            let (d, b) = timed(page_request);
            pages.push(d);
            bytes = b;
            apis.push(timed(api_request).0);
        }
        pages.sort();
        apis.sort();
        rows.push(row(
            format!(
                "UI page: {name}, {} docs ({} kB)",
                corpus.docs,
                bytes / 1024
            ),
            format!(
                "p50 {}, p99 {}; the API's call: p50 {}, p99 {} ({requests} each)",
                ms(percentile(&pages, 50.0)),
                ms(percentile(&pages, 99.0)),
                ms(percentile(&apis, 50.0)),
                ms(percentile(&apis, 99.0)),
            ),
            "p99 < 50 ms",
        ));
    }
    if live > 0 {
        rows.push(live_row(corpus, &server, &token, &admin, &bg, live));
    }
    rows
}

/// From a letter being durable (the document's `stored_at`) to its row in a
/// Postkorb open in chromium (a MutationObserver in the page takes the time).
fn live_row(
    corpus: &Corpus,
    server: &Server,
    token: &str,
    admin: &str,
    bg: &str,
    letters: usize,
) -> Row {
    let browser = webdriver::Browser::start(1920, 1080);
    browser.go(&format!("{}/anmelden", server.base));
    browser.type_into("#token", token);
    browser.click("form button[type=submit]");
    browser.wait_for_text("Eigene Post", 30);
    browser.script(
        "window.eakteSeen = []; var rows = document.querySelectorAll('tr.eintrag').length;\
         new MutationObserver(function () {\
           var now = document.querySelectorAll('tr.eintrag').length;\
           if (now > rows) { window.eakteSeen.push(Date.now()); }\
           rows = now;\
         }).observe(document.getElementById('inhalt'), {childList: true, subtree: true});",
    );
    let staging = corpus.site.dir.join("staging-ui");
    std::fs::create_dir_all(&staging).unwrap();
    let mut latencies = Vec::new();
    for n in 0..letters {
        let before = server.metric(admin, "eakte_documents_total", "");
        let lines = vec![
            format!("BG-Nr. {bg}"),
            format!(
                "Nachricht für die Oberfläche Nummer {n}, Lauf {}.",
                std::process::id()
            ),
        ];
        let file = staging.join(format!("ui-{n}.pdf"));
        std::fs::write(
            &file,
            scanmaker::text_pdf(&[lines], scanmaker::Pose::Upright),
        )
        .unwrap();
        drop_into_inbox(&corpus.site, &[file], "husum");
        wait_documents(server, admin, before, 1, Duration::from_secs(60));
        let started = Instant::now();
        while browser.script("return window.eakteSeen.length;").as_u64() != Some(n as u64 + 1) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the row did not appear"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let seen_ms = browser
            .script(&format!("return window.eakteSeen[{n}];"))
            .as_f64()
            .unwrap();
        let (_, view) = server.get(token, "/api/v1/postbox");
        let newest = view["items"]
            .as_array()
            .unwrap()
            .iter()
            .max_by_key(|i| i["seq"].as_u64().unwrap_or(0))
            .unwrap()["document_id"]
            .as_u64()
            .unwrap();
        let (_, doc) = server.get(token, &format!("/api/v1/documents/{newest}"));
        let stored = doc["stored_at"]
            .as_str()
            .and_then(eakte::timefmt::parse)
            .unwrap();
        let stored_ms = stored.as_millisecond() as f64;
        latencies.push(Duration::from_secs_f64(
            ((seen_ms - stored_ms).max(0.0)) / 1000.0,
        ));
    }
    latencies.sort();
    row(
        format!("UI live row: from the letter being durable to its row in an open browser Postkorb ({letters} letters)"),
        format!(
            "p50 {}, max {}",
            ms(percentile(&latencies, 50.0)),
            ms(*latencies.last().unwrap())
        ),
        "< 1 s",
    )
}
