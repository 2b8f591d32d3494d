//! Load: a thousand API clients at once (caseworkers long-polling their
//! postboxes, reading and searching, filing notes) while scans keep arriving,
//! for minutes: not one error answer, and memory that stays bounded. Then the
//! daemon is stopped (SIGTERM) in the middle of it all and loses nothing:
//! every note it confirmed and every scan dropped into the inbox is stored
//! exactly once after the restart.
//!
//! `EAKTE_LOAD_SECS` sets how long the load runs (default 120 s);
//! RELIABILITY.md records a longer run.

mod common;

use common::http::Connection;
use common::scanmaker::{self, Pose, Raster};
use common::{wait_for, Sandbox, PATIENCE};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 1000;
const CASEWORKERS: usize = 10;
/// People per caseworker; each is the only member of their BG.
const PEOPLE_EACH: usize = 5;
/// The most memory the daemon may take under this load (VmRSS).
const MEMORY_BOUND_MB: u64 = 1024;
/// Surname ranges, one per caseworker, covering A to Z.
const RANGES: [(char, char); CASEWORKERS] = [
    ('A', 'B'),
    ('C', 'D'),
    ('E', 'F'),
    ('G', 'H'),
    ('I', 'K'),
    ('L', 'M'),
    ('N', 'O'),
    ('P', 'R'),
    ('S', 'T'),
    ('U', 'Z'),
];

fn bg(caseworker: usize, person: usize) -> String {
    format!("07450BG{:07}", 1000 + caseworker * 100 + person)
}

/// A registry of ten caseworkers in one team and their recipients, and a
/// token per caseworker, for the team lead and for an admin.
struct Office {
    sb: Sandbox,
    caseworker_tokens: Vec<String>,
    /// Between them, the team lead and the clearing office see every letter
    /// (one whose BG the OCR misread goes to clearing).
    teamlead: String,
    clearing: String,
}

fn office() -> Office {
    // 600 long-polls between ten accounts: the load of 600 screens, not the
    // four polls one real user needs; and a thousand clients from one
    // address, as behind a proxy.
    let sb = Sandbox::with_settle(
        100,
        "[limits]\nmax_polls_per_user = 100\nmax_connections_per_address = 4096\n",
    );
    let mut caseworkers = String::from("kennung,name,standort,von,bis,team\n");
    let mut people = String::from(
        "bg_nummer,kundennummer,nachname,vorname,geburtsdatum,strasse,plz,ort,standort\n",
    );
    for (k, (from, to)) in RANGES.iter().enumerate() {
        caseworkers.push_str(&format!(
            "sb-{k},Sachbearbeitung {k},husum,{from},{to},Husum 1\n"
        ));
        for p in 0..PEOPLE_EACH {
            people.push_str(&format!(
                "{},{:03}A{:06},{from}ahlsen{},Jens,1980-01-01,Weg {p},25813,Husum,husum\n",
                bg(k, p),
                100 + k,
                p,
                ["", "a", "b", "c", "d"][p],
            ));
        }
    }
    sb.import("caseworkers", &caseworkers);
    sb.import("recipients", &people);
    let caseworker_tokens = (0..CASEWORKERS)
        .map(|k| {
            sb.add_user(&[
                &format!("Sachbearbeitung {k}"),
                "--role",
                "caseworker",
                "--caseworker",
                &format!("sb-{k}"),
            ])
        })
        .collect();
    let teamlead = sb.add_user(&["Teamleitung", "--role", "teamlead", "--team", "Husum 1"]);
    let clearing = sb.add_user(&["Klärung Husum", "--role", "clearing", "--site", "husum"]);
    Office {
        sb,
        caseworker_tokens,
        teamlead,
        clearing,
    }
}

/// Scan `n`: a letter for one of the recipients, with a marker found nowhere
/// else; every 15th is an image that needs OCR.
fn scan(n: usize) -> (String, Vec<u8>, String) {
    let marker = format!("Lastprobe {}", 100_000 + n * 7);
    let (k, p) = (n % CASEWORKERS, n / CASEWORKERS % PEOPLE_EACH);
    let lines: Vec<String> = [
        "An das Jobcenter Kreis Nordfriesland".to_string(),
        String::new(),
        format!("BG-Nr. {}", bg(k, p)),
        String::new(),
        "Antrag auf Weiterbewilligung".to_string(),
        format!("Anbei die Unterlagen zur {marker} mit der Bitte um Prüfung."),
        "Mit freundlichen Grüßen".to_string(),
    ]
    .into();
    let pdf = scanmaker::text_pdf(&[lines], Pose::Upright);
    if n % 15 == 0 {
        let png = scanmaker::rasterise(&pdf, 150, Raster::Png).remove(0);
        (format!("husum/scan-{n}.png"), png, marker)
    } else {
        (format!("husum/brief-{n}.pdf"), pdf, marker)
    }
}

/// What the clients saw.
#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    errors: AtomicU64,
    /// The first few errors, for the report.
    first_errors: Mutex<Vec<String>>,
    /// Notes the daemon confirmed with 201: marker and document id.
    filed: Mutex<Vec<(String, u64)>>,
    /// Notes posted at all (confirmed or not).
    posted: AtomicU64,
}

impl Tally {
    /// Count an answer; anything but `expected` is an error. While the daemon
    /// is being stopped, connections may be refused or closed, but what it
    /// still answers must not be a failure of its own (5xx).
    fn check(
        &self,
        what: &str,
        answer: &Result<(u16, Vec<u8>), String>,
        expected: u16,
        stopping: &AtomicBool,
    ) -> bool {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let (problem, excused) = match answer {
            Ok((status, _)) if *status == expected => return true,
            Ok((status, body)) => (
                format!("{what}: {status} {}", String::from_utf8_lossy(body)),
                *status < 500,
            ),
            Err(e) => (e.clone(), true),
        };
        if !(excused && stopping.load(Ordering::Relaxed)) {
            self.errors.fetch_add(1, Ordering::Relaxed);
            let mut first = self.first_errors.lock().unwrap();
            if first.len() < 20 {
                first.push(problem);
            }
        }
        false
    }
}

struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Client `n`: six in ten long-poll, three read and search, one files notes.
async fn client(
    n: usize,
    address: String,
    token: String,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
    stopping: Arc<AtomicBool>,
) {
    let mut conn = Connection::new(&address, &token);
    let mut rng = Xorshift(0x9E37_79B9_7F4A_7C15 ^ (n as u64 + 1));
    let caseworker = n % CASEWORKERS;
    // Spread the start over two seconds, as people arrive at their desks.
    tokio::time::sleep(Duration::from_millis(rng.below(2000))).await;
    let mut cursor = 0u64;
    let mut note = 0;
    while !stop.load(Ordering::Relaxed) {
        match n % 10 {
            0..=5 => {
                let path = format!("/api/v1/postbox?since={cursor}&wait=20");
                let answer = conn.request("GET", &path, None).await;
                if tally.check("long-poll", &answer, 200, &stopping) {
                    let poll: Value = serde_json::from_slice(&answer.unwrap().1).unwrap();
                    cursor = poll["cursor"].as_u64().unwrap();
                }
            }
            6..=8 => {
                let view = conn.request("GET", "/api/v1/postbox", None).await;
                if tally.check("postbox", &view, 200, &stopping) {
                    let view: Value = serde_json::from_slice(&view.unwrap().1).unwrap();
                    let items = view["items"].as_array().unwrap();
                    if !items.is_empty() {
                        let item = &items[rng.below(items.len() as u64) as usize];
                        let id = item["document_id"].as_u64().unwrap();
                        for path in [
                            format!("/api/v1/documents/{id}"),
                            format!("/api/v1/documents/{id}/text"),
                        ] {
                            let answer = conn.request("GET", &path, None).await;
                            tally.check("document", &answer, 200, &stopping);
                        }
                    }
                }
                let word = ["Weiterbewilligung", "Lastprobe", "Unterlagen", "Prüfung"]
                    [rng.below(4) as usize];
                let answer = conn
                    .request("GET", &format!("/api/v1/search?q={word}"), None)
                    .await;
                tally.check("search", &answer, 200, &stopping);
                let akte = format!(
                    "/api/v1/akten/{}",
                    bg(caseworker, rng.below(PEOPLE_EACH as u64) as usize)
                );
                let answer = conn.request("GET", &akte, None).await;
                tally.check("akte", &answer, 200, &stopping);
                tokio::time::sleep(Duration::from_millis(200 + rng.below(1800))).await;
            }
            _ => {
                note += 1;
                let marker = format!("Vermerknummer {}", 500_000 + n * 1000 + note);
                let text = format!("Telefonat am Vormittag. {marker}. Unterlagen folgen.");
                let path = format!(
                    "/api/v1/akten/{}/documents?schlagwort=Notizen",
                    bg(caseworker, rng.below(PEOPLE_EACH as u64) as usize)
                );
                tally.posted.fetch_add(1, Ordering::Relaxed);
                let answer = conn
                    .request(
                        "POST",
                        &path,
                        Some(("text/plain; charset=utf-8", text.as_bytes())),
                    )
                    .await;
                if tally.check("note", &answer, 201, &stopping) {
                    let filed: Value = serde_json::from_slice(&answer.unwrap().1).unwrap();
                    let id = filed[0]["document_id"].as_u64().unwrap();
                    tally.filed.lock().unwrap().push((marker, id));
                }
                tokio::time::sleep(Duration::from_millis(1000 + rng.below(3000))).await;
            }
        }
        if stopping.load(Ordering::Relaxed) && !conn.is_connected() {
            // The daemon is going down; don't hammer a closed port.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The daemon's resident memory in MB.
fn rss_mb(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? / 1024)
}

#[test]
fn a_thousand_clients_and_continuous_ingest_get_no_errors_and_a_stop_loses_nothing() {
    // So that a thousand connections fit where the soft limit is 1,024.
    eakte::daemon::raise_open_file_limit();
    let load_for = Duration::from_secs(
        std::env::var("EAKTE_LOAD_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(120),
    );
    let office = office();
    let sb = &office.sb;
    let daemon = sb.serve();
    let base = daemon.api();
    let address = base.trim_start_matches("http://").to_string();
    let pid = daemon.pid();

    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            runtime.spawn(client(
                n,
                address.clone(),
                office.caseworker_tokens[n % CASEWORKERS].clone(),
                tally.clone(),
                stop.clone(),
                stopping.clone(),
            ))
        })
        .collect();

    // The scan office keeps scanning, through the stop and after it.
    let scanned = Arc::new(Mutex::new(Vec::<String>::new()));
    let scanner = {
        let (inbox, scanned, stop) = (sb.inbox(), scanned.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let (name, bytes, marker) = scan(n);
                // Written aside and renamed in, as a scanner's SMB share would.
                let part = inbox.join(format!(".{n}.part"));
                scanmaker::put(&part, &bytes);
                std::fs::create_dir_all(inbox.join("husum")).unwrap();
                std::fs::rename(&part, inbox.join(&name)).unwrap();
                scanned.lock().unwrap().push(marker);
                n += 1;
                std::thread::sleep(Duration::from_millis(400));
            }
        })
    };

    // Memory, once a second, while the load runs.
    let started = Instant::now();
    let mut memory = Vec::new();
    while started.elapsed() < load_for {
        std::thread::sleep(Duration::from_secs(1));
        memory.extend(rss_mb(pid));
    }
    let requests_under_load = tally.requests.load(Ordering::Relaxed);
    let errors = tally.errors.load(Ordering::Relaxed);
    let peak = memory.iter().copied().max().unwrap_or(0);
    let third = memory.len() / 3;
    eprintln!(
        "{CLIENTS} clients for {} s: {requests_under_load} requests, {errors} errors, \
         {} notes filed, {} scans dropped; daemon memory MB: start {:?}, peak {peak}, \
         end {:?}",
        load_for.as_secs(),
        tally.filed.lock().unwrap().len(),
        scanned.lock().unwrap().len(),
        memory.first(),
        memory.last()
    );

    // Stop the daemon in the middle of it all.
    stopping.store(true, Ordering::Relaxed);
    assert!(daemon.stop(), "the daemon stops cleanly under load");
    stop.store(true, Ordering::Relaxed);
    scanner.join().unwrap();
    runtime.block_on(async {
        for c in clients {
            c.await.unwrap();
        }
    });
    drop(runtime);

    assert_eq!(
        tally.errors.load(Ordering::Relaxed),
        0,
        "no error answers, under load and while stopping: {:#?}",
        tally.first_errors.lock().unwrap()
    );
    assert!(
        requests_under_load > CLIENTS as u64 * 3,
        "the load was real: {requests_under_load} requests"
    );
    assert!(peak > 0, "memory was measured");
    assert!(peak < MEMORY_BOUND_MB, "memory stayed bounded: {memory:?}");
    // Not creeping up either: the last third of the run stays near the middle third.
    let middle = memory[third..2 * third].iter().max().copied().unwrap_or(0);
    let last = memory[2 * third..].iter().max().copied().unwrap_or(0);
    assert!(
        last <= middle + middle / 4 + 64,
        "memory kept growing: {memory:?}"
    );
    // Right after the stop the store is whole.
    sb.assert_check_passes();

    // After a restart, every scan and every confirmed note is there, once.
    let daemon = sb.serve();
    let base = daemon.api();
    wait_for("every scan to be filed", || {
        sb.waiting().is_empty() && sb.processing().is_empty()
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let get = |token: &str, path: &str| -> Value {
        let mut answer = agent
            .get(format!("{base}{path}"))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200, "{path}");
        answer.body_mut().read_json().unwrap()
    };
    let hits = |phrase: &str| -> u64 {
        let path = format!("/api/v1/search?q=%22{}%22", phrase.replace(' ', "+"));
        [&office.teamlead, &office.clearing]
            .iter()
            .map(|token| get(token, &path)["total"].as_u64().unwrap())
            .sum()
    };
    let scanned = scanned.lock().unwrap().clone();
    let deadline = Instant::now() + PATIENCE;
    for marker in &scanned {
        // The index catches up with the store shortly after a restart.
        while hits(marker) == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
        }
        assert_eq!(hits(marker), 1, "{marker} is stored exactly once");
    }
    // Each confirmed note is there, with its words (their count is checked below).
    let filed = tally.filed.lock().unwrap().clone();
    for (marker, id) in &filed {
        let document = get(&office.teamlead, &format!("/api/v1/documents/{id}"));
        assert_eq!(document["kind"], "text", "{marker}: {document}");
        let mut text = agent
            .get(format!("{base}/api/v1/documents/{id}/text"))
            .header("Authorization", format!("Bearer {}", office.teamlead))
            .call()
            .unwrap();
        let text = text.body_mut().read_to_string().unwrap();
        assert!(text.contains(marker.as_str()), "{marker}: {text}");
    }
    assert!(daemon.stop());
    assert!(sb.quarantined().is_empty(), "{:?}", sb.quarantined());
    let report = sb.assert_check_passes();
    let documents = report["documents"].as_u64().unwrap();
    let notes_stored = documents - scanned.len() as u64;
    assert_eq!(
        report["items"],
        scanned.len(),
        "one item per scan: {report:#}"
    );
    assert!(
        (filed.len() as u64..=tally.posted.load(Ordering::Relaxed)).contains(&notes_stored),
        "every confirmed note stored, none twice: {notes_stored} stored, {} confirmed, {} posted",
        filed.len(),
        tally.posted.load(Ordering::Relaxed)
    );
}
