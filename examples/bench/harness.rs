//! The benchmark harness: each benchmark builds its own data in a temporary
//! directory, runs the real `eakte` binary (and, for OCR, the tesseract CLI as
//! the yardstick) and returns rows for BENCHMARKS.md. Used by `examples/bench`
//! at full size and by `tests/bench_smoke.rs` at tiny sizes, so it cannot rot.
#![allow(dead_code)]

#[path = "../../tests/common/barcodes.rs"]
mod barcodes;
#[path = "batch.rs"]
pub mod batch;
#[path = "exchange.rs"]
pub mod exchange;
#[path = "../../tests/common/http.rs"]
mod http;
#[path = "../../tests/common/reading.rs"]
mod reading;
#[path = "../../tests/common/scanmaker.rs"]
mod scanmaker;
#[path = "ui.rs"]
pub mod ui;

use eakte::model::{
    BgNummer, Classification, FileKind, Item, ItemId, Kennung, Page, PageSource, PostboxId,
    Recognition, Role, Route, Sha256,
};
use eakte::progress::Silent;
use eakte::registry::import;
use eakte::store::{Durability, NewArrival, NewDocument, Recording, Store};
use eakte::users::NewUser;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One line of results: what was measured, the value, the target (if any).
#[derive(Debug, Clone)]
pub struct Row {
    pub what: String,
    pub value: String,
    pub target: String,
}

pub(crate) fn row(
    what: impl Into<String>,
    value: impl Into<String>,
    target: impl Into<String>,
) -> Row {
    Row {
        what: what.into(),
        value: value.into(),
        target: target.into(),
    }
}

/// The `eakte` binary: `EAKTE_BIN`, or next to this example's directory.
pub fn eakte_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("EAKTE_BIN") {
        return bin.into();
    }
    let exe = std::env::current_exe().expect("own path");
    exe.parent()
        .and_then(Path::parent)
        .map(|d| d.join("eakte"))
        .expect("target/<profile>/eakte")
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// A deterministic random source (xorshift), so runs are comparable.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }
}

/// A directory with an `eakte.toml`.
pub struct Site {
    pub dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Site {
    /// A fresh site (in `EAKTE_BENCH_DIR` if set: large corpora want a real disk).
    pub fn new(settle_ms: u64) -> Site {
        let temp = match std::env::var_os("EAKTE_BENCH_DIR") {
            Some(base) => tempfile::Builder::new()
                .prefix("eakte-bench-")
                .tempdir_in(base),
            None => tempfile::Builder::new().prefix("eakte-bench-").tempdir(),
        }
        .expect("a temporary directory");
        let mut site = Site::at(temp.path(), settle_ms);
        site._temp = Some(temp);
        site
    }

    /// A site in `dir`, kept after the run.
    pub fn at(dir: &Path, settle_ms: u64) -> Site {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("eakte.toml"),
            format!(
                // At toy sizes the pollers share fewer accounts than a
                // jobcenter has screens, and all clients share one address:
                // no caps per user or per address.
                "listen = \"127.0.0.1:0\"\n[inbox]\nsettle_ms = {settle_ms}\nrescan_secs = 1\n\
                 [limits]\nmax_polls_per_user = 100000\nmax_connections_per_address = 100000\n"
            ),
        )
        .unwrap();
        Site {
            dir: dir.to_path_buf(),
            _temp: None,
        }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.join("eakte.toml")
    }

    pub fn store(&self) -> Store {
        Store::open(&self.dir.join("store")).expect("the store")
    }

    /// Run `eakte <args>` to completion; returns stdout and its peak memory.
    pub fn eakte(&self, args: &[&str]) -> (String, PeakMemory) {
        let child = Command::new(eakte_bin())
            .args(args)
            .arg("--config")
            .arg(self.config())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (out, peak) = watch_rss(child);
        (out, peak)
    }

    /// Start `eakte serve` and wait until it listens.
    pub fn serve(&self) -> Server {
        // A store this process just dropped (`users`, `store`) keeps its lock
        // until sled's background threads are done with it: try again then.
        let started = Instant::now();
        loop {
            match self.try_serve() {
                Ok(server) => return server,
                Err(log)
                    if log.contains("in use by another")
                        && started.elapsed() < Duration::from_secs(60) =>
                {
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(log) => panic!("the daemon did not start: {log}"),
            }
        }
    }

    /// `eakte serve`, or the log of a daemon that exited before listening.
    fn try_serve(&self) -> Result<Server, String> {
        let log = self.dir.join(format!(
            "serve-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let mut child = Command::new(eakte_bin())
            .arg("serve")
            .arg("--config")
            .arg(self.config())
            .env("RUST_LOG", "warn,eakte::daemon=info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let base = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(at) = text.find("api=") {
                let address: String = text[at + 4..]
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .collect();
                break format!("http://{address}");
            }
            if child.try_wait().unwrap().is_some() {
                return Err(text);
            }
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "the daemon did not start: {text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Ok(Server {
            child,
            base,
            agent: agent(),
        })
    }

    /// Create a user directly in the store (the daemon must not run); its token.
    /// Names get a per-run suffix, so a kept corpus can be measured again.
    pub fn user(&self, name: &str, role: Role, caseworker: Option<&str>) -> String {
        self.users(&[(name.to_string(), role, caseworker.map(str::to_string))])
            .remove(0)
    }

    /// Create users (name, role, Kennung) at once; their tokens.
    pub fn users(&self, users: &[(String, Role, Option<String>)]) -> Vec<String> {
        let store = self.store();
        let registry = eakte::registry::Registry::load(&store).unwrap();
        users
            .iter()
            .map(|(name, role, caseworker)| {
                let new = NewUser {
                    name: format!("{name}-{}", std::process::id()),
                    role: *role,
                    caseworker: caseworker.as_deref().map(|k| Kennung::parse(k).unwrap()),
                    site: None,
                    team: None,
                };
                eakte::users::add(&store, &registry, new, None, &|_| Vec::new())
                    .expect("a user")
                    .1
            })
            .collect()
    }
}

/// Percent-encoding of everything but unreserved characters, for a query.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Import caseworkers and recipients straight into the store (no daemon runs).
fn load_registry(store: &Store, caseworkers: &[u8], recipients: &[u8]) {
    import::plan_caseworkers(store, caseworkers, &Silent)
        .unwrap()
        .apply(store, None, &[], &Silent)
        .unwrap();
    import::plan_recipients(store, recipients, &Silent)
        .unwrap()
        .apply(store, None, &[], &Silent)
        .unwrap();
}

/// The peak memory of a finished process, in KiB.
pub struct PeakMemory {
    /// The kernel's own high-water mark of resident memory (`ru_maxrss`), so no
    /// short peak is missed; includes mapped index and store files.
    pub rss: u64,
    /// The highest anonymous resident memory (heap, stacks) seen by sampling
    /// every 20 ms: what the process itself holds, which the kernel cannot drop.
    pub own: u64,
}

impl PeakMemory {
    pub fn report(&self) -> String {
        format!(
            "{} MB ({} MB own, the rest mapped files)",
            self.rss / 1024,
            self.own / 1024
        )
    }
}

/// Wait for `child`; returns its stdout and its peak memory.
fn watch_rss(mut child: Child) -> (String, PeakMemory) {
    let pid = child.id();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut own = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                own = own.max(status_kib(pid, "RssAnon").unwrap_or(0));
                std::thread::sleep(Duration::from_millis(20));
            }
            own
        })
    };
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        if let Some(mut s) = stdout {
            use std::io::Read;
            let _ = s.read_to_string(&mut out);
        }
        out
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 reaps our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(
        reaped,
        child.id() as i32,
        "wait4: {}",
        std::io::Error::last_os_error()
    );
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "eakte failed: status {status}"
    );
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = PeakMemory {
        rss: usage.ru_maxrss as u64,
        own: sampler.join().unwrap(),
    };
    (reader.join().unwrap(), peak)
}

/// A line of `/proc/<pid>/status` in KiB (`VmRSS`, `RssAnon`, `RssFile`).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resident memory in MB, split into the process's own (anonymous) memory and
/// mapped files (the index, which the kernel may drop and re-read at any time).
pub fn rss_report(pid: u32) -> String {
    let mb = |field| status_kib(pid, field).unwrap_or(0) / 1024;
    format!(
        "{} MB ({} MB own, {} MB mapped index and store files)",
        mb("VmRSS"),
        mb("RssAnon"),
        mb("RssFile")
    )
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// A running `eakte serve`; stopped when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    agent: ureq::Agent,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn get(&self, token: &str, path: &str) -> (u16, Value) {
        get(&self.agent, &self.base, token, path)
    }

    /// A counter from `/metrics` (summed over its labels matching `filter`).
    pub fn metric(&self, token: &str, name: &str, filter: &str) -> f64 {
        self.metrics_text(token)
            .lines()
            .filter(|l| l.starts_with(name) && l.contains(filter))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// A histogram from `/metrics`: (upper bound in seconds, cumulative count).
    pub fn histogram(&self, token: &str, name: &str) -> Vec<(f64, u64)> {
        let prefix = format!("{name}_bucket{{le=\"");
        self.metrics_text(token)
            .lines()
            .filter_map(|l| {
                let rest = l.strip_prefix(&prefix)?;
                let (bound, count) = rest.split_once("\"} ")?;
                let bound = if bound == "+Inf" {
                    f64::INFINITY
                } else {
                    bound.parse().ok()?
                };
                Some((bound, count.trim().parse().ok()?))
            })
            .collect()
    }

    fn metrics_text(&self, token: &str) -> String {
        let mut r = self
            .agent
            .get(format!("{}/metrics", self.base))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .unwrap();
        r.body_mut().read_to_string().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SAFETY: plain syscall on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get(agent: &ureq::Agent, base: &str, token: &str, path: &str) -> (u16, Value) {
    let mut r = agent
        .get(format!("{base}{path}"))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.body_mut().read_json().unwrap_or(Value::Null))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// One-page scans of German letters (greyscale PNG at 300 dpi).
fn scans(dir: &Path, n: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|i| {
            let marker = format!("Kontrollnummer {}", 10_000 + i);
            let pdf = scanmaker::text_pdf(
                &[scanmaker::letter(&marker, "Weiterbewilligungsantrag")],
                scanmaker::Pose::Upright,
            );
            let png = scanmaker::rasterise(&pdf, 300, scanmaker::Raster::Png).remove(0);
            let path = dir.join(format!("scan-{i:05}.png"));
            std::fs::write(&path, png).unwrap();
            path
        })
        .collect()
}

/// Move files into the inbox at once (renames within one file system).
pub(crate) fn drop_into_inbox(site: &Site, files: &[PathBuf], folder: &str) {
    let inbox = site.dir.join("scanner-inbox").join(folder);
    std::fs::create_dir_all(&inbox).unwrap();
    for f in files {
        std::fs::rename(f, inbox.join(f.file_name().unwrap())).unwrap();
    }
}

/// Wait until `n` more documents than `before` went through the pipeline.
pub(crate) fn wait_documents(
    server: &Server,
    admin: &str,
    before: f64,
    n: usize,
    limit: Duration,
) -> Duration {
    let started = Instant::now();
    loop {
        let done = server.metric(admin, "eakte_documents_total", "");
        if done - before >= n as f64 {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "only {} of {n} documents after {limit:?}",
            done - before
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Benchmark 1: OCR throughput: `eakte serve` draining an inbox of `pages` scans, against the
/// tesseract CLI (one process per core, OMP_THREAD_LIMIT=1) on the same pages, both
/// with automatic layout analysis (PSM 3). Both clocks start when the pages are
/// there and stop when the last result is on disk (the CLI's text files synced,
/// eakte's documents stored and flushed), so both include starting their
/// processes and loading the models; each start-up is also measured on its own.
pub fn ocr_throughput(pages: usize) -> Vec<Row> {
    let site = Site::new(200);
    let staging = site.dir.join("staging");
    let files = scans(&staging, pages);
    let per_min = |secs: f64| pages as f64 * 60.0 / secs;
    let cli = cli_read(&site.dir, &files, "3");
    let cli_start = cli_start_up(&site.dir);

    let admin = site.user("bench-admin", Role::Admin, None);
    // eakte's start-up alone: start, wait until it listens, stop.
    let started = Instant::now();
    drop(site.serve());
    let eakte_start = started.elapsed().as_secs_f64();
    drop_into_inbox(&site, &files, "husum");
    let started = Instant::now();
    let server = site.serve();
    wait_documents(&server, &admin, 0.0, pages, Duration::from_secs(3600));
    let eakte = started.elapsed().as_secs_f64();
    vec![
        row(
            format!(
                "tesseract CLI --psm 3, {} processes over page lists ({pages} pages)",
                cores()
            ),
            format!("{:.1} pages/min", per_min(cli)),
            "",
        ),
        row(
            format!("eakte serve draining the inbox, PSM 3 ({pages} pages, with its 0.2 s settle window)"),
            format!("{:.1} pages/min", per_min(eakte)),
            "",
        ),
        row("eakte / tesseract CLI", format!("{:.2}", cli / eakte), "≥ 0.95"),
        row(
            "start-up, in both figures: tesseract CLI (one process, model loaded, one tiny page)",
            format!("{:.2} s", cli_start),
            "",
        ),
        row(
            "start-up, in both figures: eakte serve (store, index, OCR engines, listening)",
            format!("{:.2} s", eakte_start),
            "",
        ),
    ]
}

/// The yardstick: one long-lived tesseract per core over a share of `files`,
/// page segmentation `psm`; seconds until every text file is written and synced.
pub(crate) fn cli_read(dir: &Path, files: &[PathBuf], psm: &str) -> f64 {
    let started = Instant::now();
    let children: Vec<(Child, PathBuf)> = (0..cores())
        .filter(|c| *c < files.len())
        .map(|c| {
            let list = dir.join(format!("list-{psm}-{c}.txt"));
            let mine: Vec<String> = files
                .iter()
                .skip(c)
                .step_by(cores())
                .map(|p| p.display().to_string())
                .collect();
            std::fs::write(&list, mine.join("\n") + "\n").unwrap();
            let out = dir.join(format!("out-{psm}-{c}"));
            let child = Command::new("tesseract")
                .arg(&list)
                .arg(&out)
                .args(["-l", "deu", "--psm", psm])
                .env("OMP_THREAD_LIMIT", "1")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("tesseract");
            (child, out.with_extension("txt"))
        })
        .collect();
    for (mut child, out) in children {
        assert!(child.wait().unwrap().success(), "tesseract failed");
        std::fs::File::open(out).unwrap().sync_all().unwrap();
    }
    started.elapsed().as_secs_f64()
}

/// How long the CLI takes to start and load its model: one tiny blank page.
fn cli_start_up(dir: &Path) -> f64 {
    let page = dir.join("tiny.pgm");
    let mut pgm = b"P5\n32 32\n255\n".to_vec();
    pgm.extend(std::iter::repeat_n(255u8, 32 * 32));
    std::fs::write(&page, pgm).unwrap();
    let started = Instant::now();
    let status = Command::new("tesseract")
        .arg(&page)
        .arg(dir.join("tiny"))
        .args(["-l", "deu", "--psm", "3"])
        .env("OMP_THREAD_LIMIT", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("tesseract");
    assert!(status.success());
    started.elapsed().as_secs_f64()
}

/// A site with one recipient (BG 07450BG0000001) and their caseworker sb-1.
pub(crate) struct OnePerson {
    pub(crate) site: Site,
    /// sb-1's token.
    pub(crate) token: String,
    /// An admin's token (for /metrics).
    pub(crate) admin: String,
    /// A directory beside the inbox for files about to be dropped in.
    pub(crate) staging: PathBuf,
}

pub(crate) fn one_person(settle_ms: u64) -> OnePerson {
    let site = Site::new(settle_ms);
    let people = "bg_nummer,kundennummer,nachname,vorname,geburtsdatum,strasse,plz,ort,standort,sachbearbeiter\n\
                  07450BG0000001,100A000001,Petersen,Jens,1980-03-04,Norderstraße 12,25813,Husum,husum,sb-1\n";
    let store = site.store();
    load_registry(
        &store,
        b"kennung,name,standort,von,bis\nsb-1,Eins,husum,A,Z\n",
        people.as_bytes(),
    );
    drop(store);
    let token = site.user("bench-sb1", Role::Caseworker, Some("sb-1"));
    let admin = site.user("bench-admin", Role::Admin, None);
    let staging = site.dir.join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    OnePerson {
        site,
        token,
        admin,
        staging,
    }
}

/// Benchmark 2: Scan-to-postbox latency of single one-page scans, less the page's OCR time
/// and the settle window.
pub fn latency(runs: usize) -> Vec<Row> {
    let settle = Duration::from_millis(200);
    let OnePerson {
        site,
        token,
        admin,
        staging,
    } = one_person(settle.as_millis() as u64);
    let server = site.serve();
    let (mut over, mut totals, mut ocr) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..runs {
        let lines = vec![
            "BG-Nr. 07450BG0000001".to_string(),
            format!("Widerspruch Nummer {i} gegen den Bescheid."),
        ];
        let pdf = scanmaker::text_pdf(&[lines], scanmaker::Pose::Upright);
        let png = scanmaker::rasterise(&pdf, 300, scanmaker::Raster::Png).remove(0);
        let file = staging.join(format!("brief-{i}.png"));
        std::fs::write(&file, png).unwrap();
        let (_, view) = server.get(&token, "/api/v1/postbox");
        let cursor = view["cursor"].as_u64().unwrap();
        let ocr_before = server.metric(&admin, "eakte_ocr_page_seconds_sum", "");
        let (agent, base, t) = (agent(), server.base.clone(), token.clone());
        let poll = std::thread::spawn(move || {
            let r = get(
                &agent,
                &base,
                &t,
                &format!("/api/v1/postbox?since={cursor}&wait=60"),
            );
            (r, Instant::now())
        });
        std::thread::sleep(Duration::from_millis(100));
        let written = Instant::now();
        drop_into_inbox(&site, &[file], "husum");
        let ((_, body), received) = poll.join().unwrap();
        assert!(
            body["items"].as_array().is_some_and(|a| !a.is_empty()),
            "the scan arrived: {body}"
        );
        let page = server.metric(&admin, "eakte_ocr_page_seconds_sum", "") - ocr_before;
        let total = received.duration_since(written);
        totals.push(total);
        ocr.push(Duration::from_secs_f64(page));
        over.push(
            total
                .saturating_sub(settle)
                .saturating_sub(Duration::from_secs_f64(page)),
        );
    }
    for v in [&mut over, &mut totals, &mut ocr] {
        v.sort();
    }
    vec![
        row(
            format!(
                "scan to postbox, total ({runs} runs, settle {} ms)",
                settle.as_millis()
            ),
            format!(
                "p50 {}, max {}",
                ms(percentile(&totals, 50.0)),
                ms(percentile(&totals, 100.0))
            ),
            "",
        ),
        row(
            "OCR of the page (eakte's own measure)",
            format!("p50 {}", ms(percentile(&ocr, 50.0))),
            "",
        ),
        row(
            "scan to postbox less settle window and OCR",
            format!(
                "p50 {}, max {}",
                ms(percentile(&over, 50.0)),
                ms(percentile(&over, 100.0))
            ),
            "≤ 500 ms",
        ),
    ]
}

/// Benchmark 3: Born-digital ingest: PDFs with a text layer through the inbox, e-mails
/// through the API.
pub fn born_digital(pdfs: usize, emails: usize) -> Vec<Row> {
    let OnePerson {
        site,
        token,
        admin,
        staging,
    } = one_person(200);
    let files: Vec<PathBuf> = (0..pdfs)
        .map(|i| {
            let lines = scanmaker::letter(&format!("Vorgang {i}"), "Veränderungsmitteilung");
            let path = staging.join(format!("brief-{i:06}.pdf"));
            std::fs::write(
                &path,
                scanmaker::text_pdf(&[lines], scanmaker::Pose::Upright),
            )
            .unwrap();
            path
        })
        .collect();
    let server = site.serve();
    let before = server.metric(&admin, "eakte_documents_total", "");
    drop_into_inbox(&site, &files, "husum");
    let took = wait_documents(&server, &admin, before, pdfs, Duration::from_secs(3600));
    let pdf_rate = pdfs as f64 / (took.as_secs_f64() - 0.2).max(0.001);

    let started = Instant::now();
    let agent = agent();
    for i in 0..emails {
        let mail = format!(
            "From: Jens Petersen <jens@example.org>\r\nTo: jobcenter@kreis-nf.invalid\r\nSubject: Nachricht {i}\r\n\
             Date: Thu, 26 Nov 2026 10:00:00 +0100\r\n\r\nSehr geehrte Damen und Herren, anbei Nachricht {i}.\r\n"
        );
        let r = agent
            .post(format!(
                "{}/api/v1/akten/07450BG0000001/documents?schlagwort=Korrespondenz",
                server.base
            ))
            .header("Authorization", format!("Bearer {token}"))
            .content_type("message/rfc822")
            .send(mail.as_bytes())
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    let email_rate = emails as f64 / started.elapsed().as_secs_f64();
    vec![
        row(
            format!("born-digital PDFs through the inbox ({pdfs})"),
            format!("{pdf_rate:.0} documents/s"),
            "300/s",
        ),
        row(
            format!("e-mails filed over the API, one client ({emails})"),
            format!("{email_rate:.0} documents/s"),
            "300/s",
        ),
    ]
}

/// Words of German jobcenter letters, most common first (ranks drive a Zipf
/// distribution), and stems for a long tail of compounds.
const WORDS: &[&str] = &[
    "der",
    "die",
    "und",
    "in",
    "den",
    "von",
    "zu",
    "das",
    "mit",
    "sich",
    "des",
    "auf",
    "für",
    "ist",
    "im",
    "dem",
    "nicht",
    "ein",
    "eine",
    "als",
    "auch",
    "es",
    "an",
    "werden",
    "aus",
    "er",
    "hat",
    "dass",
    "sie",
    "nach",
    "wird",
    "bei",
    "einer",
    "um",
    "am",
    "sind",
    "noch",
    "wie",
    "einem",
    "über",
    "einen",
    "so",
    "zum",
    "war",
    "haben",
    "nur",
    "oder",
    "aber",
    "vor",
    "zur",
    "bis",
    "mehr",
    "durch",
    "man",
    "sein",
    "wurde",
    "sei",
    "Ihnen",
    "Ihre",
    "wir",
    "ich",
    "mir",
    "mein",
    "meine",
    "Bescheid",
    "Antrag",
    "Leistungen",
    "Jobcenter",
    "Bedarfsgemeinschaft",
    "Miete",
    "Unterlagen",
    "Einkommen",
    "Monat",
    "Termin",
    "Schreiben",
    "Nachweis",
    "Arbeit",
    "Kinder",
    "Wohnung",
    "Zahlung",
    "Betrag",
    "Euro",
    "Konto",
    "Frist",
    "Anlage",
    "Unterschrift",
    "Datum",
    "Heizkosten",
    "Nebenkosten",
    "Vermieter",
    "Arbeitgeber",
    "Lohn",
    "Krankenkasse",
    "Bewilligung",
    "Zeitraum",
    "Änderung",
    "Mitteilung",
    "Bearbeitung",
    "Eingang",
    "Rückfrage",
    "Telefon",
    "Anschrift",
    "Sachbearbeiter",
    "Sozialzentrum",
    "Husum",
    "Niebüll",
    "Föhr",
    "Sylt",
    "Tönning",
    "Bredstedt",
    "Leck",
    "Kreis",
    "Nordfriesland",
    "bitte",
    "freundlichen",
    "Grüßen",
    "geehrte",
    "Damen",
    "Herren",
    "hiermit",
    "beantrage",
    "teile",
    "mit",
    "dass",
    "ab",
    "seit",
    "vom",
    "bis",
    "zum",
    "gemäß",
    "Sozialgesetzbuch",
    "Zweites",
    "Buch",
    "Grundsicherung",
    "Arbeitsuchende",
    "Regelbedarf",
    "Mehrbedarf",
    "Kosten",
    "Unterkunft",
    "Heizung",
    "Darlehen",
    "Erstattung",
    "Rückforderung",
    "Anhörung",
    "Widerspruch",
    "Klage",
    "Sozialgericht",
    "Eingliederung",
    "Vereinbarung",
    "Maßnahme",
];
const STEMS: &[&str] = &[
    "Haus",
    "Wohn",
    "Miet",
    "Heiz",
    "Strom",
    "Wasser",
    "Arbeits",
    "Lohn",
    "Kinder",
    "Eltern",
    "Schul",
    "Kranken",
    "Renten",
    "Unterhalts",
    "Kinder",
    "Berufs",
    "Ausbildungs",
    "Umzugs",
    "Kautions",
    "Möbel",
    "Reise",
    "Fahr",
    "Bus",
    "Bahn",
    "Fähren",
    "Insel",
    "Deich",
    "Hallig",
    "Watt",
    "Küsten",
    "Hafen",
    "Dorf",
    "Stadt",
    "Kreis",
    "Amts",
    "Bundes",
];
const SUFFIXES: &[&str] = &[
    "kosten",
    "vertrag",
    "bescheinigung",
    "nachweis",
    "abrechnung",
    "antrag",
    "zuschuss",
    "beihilfe",
    "geld",
    "stelle",
    "verwaltung",
    "behörde",
    "schreiben",
    "termin",
    "konto",
    "karte",
    "ticket",
    "versicherung",
    "pauschale",
    "leistung",
];

/// A corpus of `docs` synthetic German letters (two pages each) in `bgs`
/// Bedarfsgemeinschaften, written straight into the store (one flush at the end).
pub struct Corpus {
    pub site: Site,
    pub docs: usize,
    pub bgs: usize,
    pub caseworkers: usize,
    pub load_secs: Option<f64>,
}

/// The fixed query mix (see `search`).
pub const COMMON: &str = "Weiterbewilligung";
pub const PHRASE: &str = "\"Kosten der Unterkunft\"";
pub const FUZZY: &str = "Bescheld";

/// The corpus kept in `dir` by an earlier run with the same sizes, or a new
/// one there (or in a temporary directory without `dir`). `load_secs` is
/// `None` for a corpus that was already there.
pub fn corpus(docs: usize, bgs: usize, caseworkers: usize, dir: Option<&Path>) -> Corpus {
    let Some(dir) = dir else {
        return build_corpus(Site::new(200), docs, bgs, caseworkers);
    };
    let marker = dir.join("corpus.txt");
    let sizes = format!("{docs} documents, {bgs} BGs, {caseworkers} caseworkers\n");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(sizes.as_str()) {
        return Corpus {
            site: Site::at(dir, 200),
            docs,
            bgs,
            caseworkers,
            load_secs: None,
        };
    }
    assert!(
        !dir.join("store").exists(),
        "{} holds another corpus; remove it first",
        dir.display()
    );
    let corpus = build_corpus(Site::at(dir, 200), docs, bgs, caseworkers);
    std::fs::write(marker, sizes).unwrap();
    corpus
}

fn build_corpus(site: Site, docs: usize, bgs: usize, caseworkers: usize) -> Corpus {
    let store = site.store();
    let mut cw_csv = "kennung,name,standort,von,bis\n".to_string();
    for c in 0..caseworkers {
        cw_csv.push_str(&format!("sb-{c},Sachbearbeitung {c},bench-{c},A,Z\n"));
    }
    let mut people = "bg_nummer,kundennummer,nachname,vorname,geburtsdatum,strasse,plz,ort,standort,sachbearbeiter\n".to_string();
    for b in 0..bgs {
        people.push_str(&format!(
            "07450BG{b:07},{:03}A{:06},Nachname{b},Vorname,1980-01-01,Weg 1,25813,Husum,husum,sb-{}\n",
            b % 1000,
            b,
            b % caseworkers
        ));
    }
    load_registry(&store, cw_csv.as_bytes(), people.as_bytes());

    let started = Instant::now();
    let mut rng = Rng::new(4711);
    let weights: Vec<f64> = (0..WORDS.len()).map(|r| 1.0 / (r as f64 + 1.0)).collect();
    let total: f64 = weights.iter().sum();
    let mut cumulative = Vec::with_capacity(weights.len());
    let mut acc = 0.0;
    for w in &weights {
        acc += w / total;
        cumulative.push(acc);
    }
    let types = [
        "Widerspruch",
        "Veränderungsmitteilung",
        "Kontoauszug",
        "Weiterbewilligungsantrag",
        "Sonstiges",
    ];
    let sites = [
        "husum",
        "niebuell",
        "Föhr",
        "Sylt",
        "toenning",
        "bredstedt",
        "leck",
    ];
    for d in 0..docs {
        let b = rng.below(bgs);
        let bg = BgNummer::parse(&format!("07450BG{b:07}")).unwrap();
        // As the registry says: BG b belongs to caseworker sb-(b mod caseworkers).
        let caseworker = Kennung::parse(&format!("sb-{}", b % caseworkers)).unwrap();
        let mut pages = Vec::with_capacity(2);
        for p in 0..2 {
            let mut text = String::with_capacity(1600);
            for w in 0..180 {
                let word = if rng.chance(0.03) {
                    format!(
                        "{}{}",
                        STEMS[rng.below(STEMS.len())],
                        SUFFIXES[rng.below(SUFFIXES.len())]
                    )
                } else {
                    let u = rng.below(1_000_000) as f64 / 1_000_000.0;
                    WORDS[cumulative.partition_point(|c| *c < u).min(WORDS.len() - 1)].to_string()
                };
                text.push_str(&word);
                text.push(if w % 14 == 13 { '\n' } else { ' ' });
            }
            if p == 0 {
                text.push_str(&format!("\nVorgangsnummer V{d:07}\n"));
                if rng.chance(0.10) {
                    text.push_str(&format!("Antrag auf {COMMON} der Leistungen.\n"));
                }
                if rng.chance(0.05) {
                    text.push_str("Die Kosten der Unterkunft wurden geprüft.\n");
                }
                if rng.chance(0.30) {
                    text.push_str("Gegen diesen Bescheid ist der Widerspruch zulässig.\n");
                }
            }
            pages.push(Page {
                number: p + 1,
                text,
                confidence: None,
                source: PageSource::TextLayer,
                rotation: 0,
                code: None,
            });
        }
        let bytes = format!("synthetic document {d}");
        let sha = Sha256::of(bytes.as_bytes());
        let day = 1 + rng.below(28);
        let month = 1 + rng.below(12);
        let classification = Classification {
            recipient: Recognition::Assigned {
                bg,
                by: "bench".into(),
                at: "2026-01-01T00:00:00Z".into(),
            },
            doc_type: types[rng.below(types.len())].into(),
            schlagwort: "Korrespondenz".into(),
            urgent: false,
            urgent_reason: None,
            type_evidence: Vec::new(),
        };
        let arrival = NewArrival {
            id: store.documents().new_arrival_id().unwrap(),
            original_name: format!("brief-{d}.pdf"),
            site: Some(sites[rng.below(sites.len())].into()),
            received_at: format!("2026-{month:02}-{day:02}T08:00:00Z"),
            source: "bench".into(),
        };
        let id = store.documents().new_id().unwrap();
        // The last tenth arrived recently and is still in the caseworkers'
        // postboxes; the rest is the Akten's history (migrated paper files).
        let item = (d >= docs - docs / 10).then(|| {
            let route = Route {
                postbox: PostboxId::Caseworker(caseworker),
                responsible: None,
                deputies: Vec::new(),
                clearing: None,
                explanation: "benchmark corpus".into(),
            };
            let item_id = ItemId(store.generate_id().unwrap());
            Item::routed(
                item_id,
                id,
                &arrival.received_at,
                Some(&classification),
                route,
            )
        });
        let document = NewDocument {
            id,
            sha256: sha.clone(),
            size: bytes.len() as u64,
            kind: FileKind::Pdf,
            pages,
            classification: Some(classification),
            item,
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
            .unwrap();
    }
    store.flush().unwrap();
    let load_secs = started.elapsed().as_secs_f64();
    drop(store);
    Corpus {
        site,
        docs,
        bgs,
        caseworkers,
        load_secs: Some(load_secs),
    }
}

/// Benchmark 6: `eakte reindex` on the corpus: documents per second and peak memory.
pub fn reindex(corpus: &Corpus) -> Vec<Row> {
    let started = Instant::now();
    let (out, peak) = corpus.site.eakte(&["reindex"]);
    let secs = started.elapsed().as_secs_f64();
    assert!(out.contains("reindexed"), "{out}");
    vec![
        row(
            format!("eakte reindex, {} documents", corpus.docs),
            format!("{:.0} documents/s", corpus.docs as f64 / secs),
            "3000/s",
        ),
        row("eakte reindex, peak RSS", peak.report(), ""),
    ]
}

/// Benchmark 4: Search latency over HTTP with `clients` concurrent clients for `secs`,
/// as a caseworker (permission filtering on), per query class; and the daemon's
/// memory with the corpus loaded.
pub fn search(corpus: &Corpus, clients: usize, secs: u64) -> Vec<Row> {
    let token = corpus
        .site
        .user("bench-sb0", Role::Caseworker, Some("sb-0"));
    let server = corpus.site.serve();
    // Warm up (first searches load the index from disk).
    for _ in 0..20 {
        server.get(&token, &format!("/api/v1/search?q={COMMON}"));
    }
    let classes: Vec<(&str, String)> = vec![
        ("rare term", "q=V{id}".into()),
        ("common term (10 %)", format!("q={COMMON}")),
        ("phrase", format!("q={}", percent_encode(PHRASE))),
        ("fuzzy term", format!("q={FUZZY}")),
        (
            "filtered",
            "q=Bescheid&type=Widerspruch&from=2026-03-01&to=2026-09-30".to_string(),
        ),
    ];
    let results: Arc<Mutex<Vec<(usize, Duration)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (classes, results, stop) = (classes.clone(), results.clone(), stop.clone());
            let (base, token, docs) = (server.base.clone(), token.clone(), corpus.docs);
            std::thread::spawn(move || {
                let agent = agent();
                let mut rng = Rng::new(c as u64 + 1);
                let mut mine = Vec::new();
                let mut n = c;
                while !stop.load(Ordering::Relaxed) {
                    let k = n % classes.len();
                    let query = classes[k]
                        .1
                        .replace("{id}", &format!("{:07}", rng.below(docs)));
                    let started = Instant::now();
                    let (status, _) = get(
                        &agent,
                        &base,
                        &token,
                        &format!("/api/v1/search?{query}&limit=20"),
                    );
                    assert_eq!(status, 200);
                    mine.push((k, started.elapsed()));
                    n += 1;
                }
                results.lock().unwrap().extend(mine);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let results = results.lock().unwrap();
    let mut rows = Vec::new();
    let mut all: Vec<Duration> = results.iter().map(|(_, d)| *d).collect();
    all.sort();
    for (k, (name, _)) in classes.iter().enumerate() {
        let mut ds: Vec<Duration> = results
            .iter()
            .filter(|(c, _)| *c == k)
            .map(|(_, d)| *d)
            .collect();
        ds.sort();
        rows.push(row(
            format!("search, {name}, {} docs, {clients} clients", corpus.docs),
            format!(
                "p50 {}, p99 {} ({} queries)",
                ms(percentile(&ds, 50.0)),
                ms(percentile(&ds, 99.0)),
                ds.len()
            ),
            "p99 < 25 ms at 1M",
        ));
    }
    rows.push(row(
        format!(
            "search, all classes, {} docs, {clients} clients",
            corpus.docs
        ),
        format!(
            "p50 {}, p99 {}, {:.0} queries/s",
            ms(percentile(&all, 50.0)),
            ms(percentile(&all, 99.0)),
            all.len() as f64 / secs as f64
        ),
        "p99 < 25 ms at 1M",
    ));
    rows.push(row(
        format!(
            "daemon RSS with {} documents, after the search run",
            corpus.docs
        ),
        rss_report(server.pid()),
        "< 300 MB at 1M",
    ));
    rows
}

/// Benchmark 5: Long-poll: `clients` concurrent pollers (spread over the corpus's
/// caseworkers) while born-digital letters arrive at `rate` per second for
/// `secs`; latency from an item's routing to a poller receiving it.
pub fn longpoll(corpus: &Corpus, clients: usize, rate: u64, secs: u64) -> Vec<Row> {
    // One client per caseworker while there are caseworkers, then more clients
    // on the same postboxes (a caseworker with the E-Akte open twice).
    let users: Vec<_> = (0..clients.min(corpus.caseworkers))
        .map(|c| {
            (
                format!("bench-poll-{c}"),
                Role::Caseworker,
                Some(format!("sb-{c}")),
            )
        })
        .collect();
    let tokens = corpus.site.users(&users);
    let admin = corpus.site.user("bench-poll-admin", Role::Admin, None);
    let server = corpus.site.serve();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    // The pollers are tasks on one thread: a thousand client threads would take
    // the CPU from the daemon they measure.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let address = server.base.trim_start_matches("http://").to_string();
    let pollers: Vec<_> = (0..clients)
        .map(|c| {
            let (latencies, stop) = (latencies.clone(), stop.clone());
            let (address, token) = (address.clone(), tokens[c % tokens.len()].clone());
            runtime.spawn(async move {
                let mut client = http::Connection::new(&address, &token);
                let view = client.get_json("/api/v1/postbox").await;
                let mut cursor = view["cursor"].as_u64().unwrap_or(0);
                while !stop.load(Ordering::Relaxed) {
                    let body = client
                        .get_json(&format!("/api/v1/postbox?since={cursor}&wait=5"))
                        .await;
                    let received = jiff::Timestamp::now();
                    cursor = body["cursor"].as_u64().unwrap_or(cursor);
                    for item in body["items"].as_array().into_iter().flatten() {
                        let routed = item["history"][0]["at"]
                            .as_str()
                            .and_then(eakte::timefmt::parse);
                        if let Some(routed) = routed {
                            let d = received.duration_since(routed);
                            latencies
                                .lock()
                                .unwrap()
                                .push(Duration::try_from(d).unwrap_or_default());
                        }
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let staging = corpus.site.dir.join("staging-poll");
    std::fs::create_dir_all(&staging).unwrap();
    let mut rng = Rng::new(99);
    let before = server.metric(&admin, "eakte_documents_total", "");
    let started = Instant::now();
    let mut sent = 0;
    while started.elapsed() < Duration::from_secs(secs) {
        let bg = format!("07450BG{:07}", rng.below(corpus.bgs));
        let lines = vec![
            format!("BG-Nr. {bg}"),
            // The run in the text, so a kept corpus takes new letters, not duplicates.
            format!(
                "Veränderungsmitteilung Nummer {sent}, Lauf {}.",
                std::process::id()
            ),
        ];
        let file = staging.join(format!("poll-{sent}.pdf"));
        std::fs::write(
            &file,
            scanmaker::text_pdf(&[lines], scanmaker::Pose::Upright),
        )
        .unwrap();
        drop_into_inbox(&corpus.site, &[file], "husum");
        sent += 1;
        std::thread::sleep(Duration::from_millis(1000 / rate.max(1)));
    }
    wait_documents(&server, &admin, before, sent, Duration::from_secs(600));
    std::thread::sleep(Duration::from_secs(2));
    let memory = rss_report(server.pid());
    stop.store(true, Ordering::Relaxed);
    runtime.block_on(async {
        for p in pollers {
            p.await.expect("a poller failed");
        }
    });
    let mut ls = latencies.lock().unwrap().clone();
    ls.sort();
    let delivery = server.histogram(&admin, "eakte_postbox_delivery_seconds");
    vec![
        row(
            format!("long-poll, {clients} pollers, {sent} letters routed: from routing (before the store commit) to the client"),
            format!("p50 {}, p99 {} ({} deliveries)", ms(percentile(&ls, 50.0)), ms(percentile(&ls, 99.0)), ls.len()),
            "",
        ),
        row(
            "long-poll with news: from the change being durable to the answer (daemon's histogram, bucket bounds)",
            format!(
                "p50 ≤ {}, p99 ≤ {} ({} deliveries)",
                ms(bucket_percentile(&delivery, 50.0)),
                ms(bucket_percentile(&delivery, 99.0)),
                delivery.last().map_or(0, |(_, n)| *n)
            ),
            "p99 < 5 ms",
        ),
        row(
            format!("daemon RSS with {} documents and {clients} long-polls waiting", corpus.docs),
            memory,
            "",
        ),
    ]
}

/// The smallest bucket bound at or below which `p` percent of the observations
/// fall (`buckets`: cumulative counts by upper bound, ascending).
fn bucket_percentile(buckets: &[(f64, u64)], p: f64) -> Duration {
    let total = buckets.last().map_or(0, |(_, n)| *n);
    let rank = ((p / 100.0) * total as f64).ceil() as u64;
    let bound = buckets
        .iter()
        .find(|(_, n)| *n >= rank.max(1))
        .map_or(f64::INFINITY, |(b, _)| *b);
    Duration::from_secs_f64(bound.min(3600.0))
}

/// Rows as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    table_header() + &table_rows(rows)
}

pub fn table_header() -> String {
    "| measurement | result | target |\n|---|---|---|\n".to_string()
}

pub fn table_rows(rows: &[Row]) -> String {
    rows.iter()
        .map(|r| format!("| {} | {} | {} |\n", r.what, r.value, r.target))
        .collect()
}
