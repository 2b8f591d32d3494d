//! Shared helpers for the end-to-end tests: a sandbox directory with its own
//! configuration, the real `eakte` binary run against it (one-shot commands or
//! the daemon), and polling with a deadline.
#![allow(dead_code)]

pub mod barcodes;
pub mod http;
pub mod reading;
pub mod scanmaker;

/// Two caseworkers of one team at Husum (A–K, L–Z) and two recipients, one
/// for each.
pub const HUSUM_CASEWORKERS: &str = "kennung,name,standort,von,bis,team\n\
    sb-h1,Hanna Hansen,husum,A,K,Husum 1\n\
    sb-h2,Lena Lorenzen,husum,L,Z,Husum 1\n";

pub const HUSUM_PEOPLE: &str =
    "bg_nummer,kundennummer,nachname,vorname,geburtsdatum,strasse,plz,ort,standort\n\
    07450BG0000101,101A000001,Petersen,Jens,04.03.1980,Norderstraße 12,25813,Husum,husum\n\
    07450BG0000102,102B000001,Albers,Maria,1975-05-20,Süderstraße 3,25813,Husum,husum\n";

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Generous: OCR of a page takes seconds, and tests run side by side on 2 cores.
pub const PATIENCE: Duration = Duration::from_secs(240);

/// A temporary eakte installation: `eakte.toml`, inbox, store and index.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    /// A sandbox with a short settle window, so daemon tests run quickly.
    pub fn new() -> Sandbox {
        Sandbox::with_config("")
    }

    /// A sandbox whose `eakte.toml` has `extra` appended (whole `[sections]`).
    pub fn with_config(extra: &str) -> Sandbox {
        Sandbox::with_settle(400, extra)
    }

    /// A sandbox with the given settle window (ms) and `extra` config sections.
    pub fn with_settle(settle_ms: u64, extra: &str) -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("eakte-test-")
            .tempdir()
            .unwrap();
        let config = format!(
            "inbox_dir = \"scanner-inbox\"\nindex_dir = \"index\"\nstore_dir = \"store\"\nlisten = \"127.0.0.1:0\"\n\
             [inbox]\nsettle_ms = {settle_ms}\nrescan_secs = 1\n{extra}"
        );
        std::fs::write(dir.path().join("eakte.toml"), config).unwrap();
        Sandbox { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn inbox(&self) -> PathBuf {
        self.path().join("scanner-inbox")
    }

    pub fn config(&self) -> PathBuf {
        self.path().join("eakte.toml")
    }

    /// `eakte <args> --config <sandbox>/eakte.toml`, run to completion.
    pub fn eakte(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_eakte"))
            .args(args)
            .arg("--config")
            .arg(self.config())
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    }

    /// `eakte <kind> import` of `csv` (`kind`: `recipients` or `caseworkers`).
    pub fn import(&self, kind: &str, csv: &str) {
        let path = self.path().join(format!("{kind}-{:x}.csv", rand_u64()));
        std::fs::write(&path, csv).unwrap();
        let out = self.eakte(&[kind, "import", path.to_str().unwrap()]);
        assert!(out.status.success(), "{kind} import: {}", stderr(&out));
    }

    /// `eakte users add <args>`: the new user's token.
    pub fn add_user(&self, args: &[&str]) -> String {
        let out = self.eakte(&[&["users", "add"][..], args].concat());
        assert!(out.status.success(), "users add: {}", stderr(&out));
        stdout(&out).trim().to_string()
    }

    /// `eakte ingest`: one JSON value per file.
    pub fn ingest(&self, files: &[&Path], extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["ingest"];
        args.extend(extra);
        let files: Vec<String> = files
            .iter()
            .map(|f| f.to_string_lossy().into_owned())
            .collect();
        args.extend(files.iter().map(String::as_str));
        let out = self.eakte(&args);
        let lines = stdout(&out);
        assert_eq!(
            lines.lines().count(),
            files.len(),
            "one line per file\n{lines}\n{}",
            stderr(&out)
        );
        lines
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Document ids found by `eakte search --json`.
    /// Fails the test on any other error than the two a starting daemon may
    /// cause (no index yet; the store held by a daemon not answering yet).
    pub fn search(&self, query: &str) -> Vec<u64> {
        let out = self.eakte(&["search", "--json", "--limit", "50", query]);
        if !out.status.success() {
            let err = stderr(&out);
            let starting =
                err.contains("there is no search index") || err.contains("takes no commands");
            assert!(starting, "eakte search {query:?} failed: {err}");
            return Vec::new();
        }
        stdout(&out)
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["id"]
                    .as_u64()
                    .unwrap()
            })
            .collect()
    }

    /// A stored document as JSON (`eakte show --json`); needs the daemon stopped.
    pub fn show(&self, id: u64) -> Value {
        let out = self.eakte(&["show", "--json", &id.to_string()]);
        assert!(out.status.success(), "show {id}: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `eakte check --json`, asserting that it passes.
    pub fn assert_check_passes(&self) -> Value {
        let out = self.eakte(&["check", "--json"]);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        assert!(
            out.status.success(),
            "eakte check failed: {report:#}\n{}",
            stderr(&out)
        );
        report
    }

    /// Start `eakte serve` in this sandbox.
    pub fn serve(&self) -> Daemon {
        self.serve_with_env(&[])
    }

    pub fn serve_with_env(&self, env: &[(&str, &str)]) -> Daemon {
        let log = self.path().join(format!("serve-{:016x}.log", rand_u64()));
        let child = Command::new(env!("CARGO_BIN_EXE_eakte"))
            .arg("serve")
            .arg("--config")
            .arg(self.config())
            .envs(env.iter().copied())
            .env("RUST_LOG", "info,tantivy=warn,notify=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Daemon {
            child: Some(child),
            log,
        }
    }

    /// Regular files waiting in the inbox (not in `.processing` or `.quarantine`).
    pub fn waiting(&self) -> Vec<PathBuf> {
        files_under(&self.inbox())
            .into_iter()
            .filter(|p| !is_hidden_below(&self.inbox(), p))
            .collect()
    }

    /// Files claimed but not finished.
    pub fn processing(&self) -> Vec<PathBuf> {
        files_under(&self.inbox().join(".processing"))
    }

    /// Files set aside (without their reason files).
    pub fn quarantined(&self) -> Vec<PathBuf> {
        files_under(&self.inbox().join(".quarantine"))
            .into_iter()
            .filter(|p| !p.to_string_lossy().ends_with(".reason.txt"))
            .collect()
    }
}

/// A running `eakte serve`; killed when dropped.
pub struct Daemon {
    child: Option<Child>,
    pub log: PathBuf,
}

impl Daemon {
    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    /// SIGKILL: no shutdown, no flush; as a power cut is for the process.
    pub fn kill(mut self) {
        let mut child = self.child.take().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Wait until the daemon has started up (its signal handlers are in place).
    pub fn wait_ready(&self) {
        wait_for("the daemon to start", || {
            self.log_text().contains("eakte is running")
        });
    }

    /// The base URL of the daemon's API (`http://127.0.0.1:PORT`), once it runs.
    pub fn api(&self) -> String {
        self.wait_ready();
        let log = self.log_text();
        let at = log
            .find("api=")
            .expect("the running line names the API address")
            + 4;
        let address: String = log[at..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '\u{1b}')
            .collect();
        format!("http://{address}")
    }

    /// SIGTERM and wait for a clean exit; returns whether it exited with success.
    pub fn stop(mut self) -> bool {
        self.wait_ready();
        let mut child = self.child.take().unwrap();
        // SAFETY: plain syscall on our own child's pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let status = wait_timeout(&mut child, Duration::from_secs(60));
        status.is_some_and(|s| s.success())
    }

    /// Wait for the process to end by itself (e.g. at a failpoint).
    pub fn wait_exit(mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take().unwrap();
        wait_timeout(&mut child, timeout)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Poll `condition` until it holds; panic with `what` after [`PATIENCE`].
pub fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A committed fixture file (see tests/fixtures/SOURCES.md).
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn is_hidden_below(root: &Path, path: &Path) -> bool {
    path.strip_prefix(root)
        .map(|rel| {
            rel.components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        })
        .unwrap_or(false)
}

/// A little randomness without a dependency (seeded from the clock and pid).
pub fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish()
}

/// A blocking client of the daemon's API for one user: answers as status and
/// JSON (`Null` for a body that is none).
pub struct Api {
    pub base: String,
    agent: ureq::Agent,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            base: base.to_string(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
        }
    }

    pub fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let response = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {token}"))
            .call();
        answer(response.unwrap())
    }

    /// GET a file: status, content type and bytes.
    pub fn get_file(&self, token: &str, path: &str) -> (u16, String, Vec<u8>) {
        let mut response = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .unwrap();
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = response.body_mut().read_to_vec().unwrap();
        (response.status().as_u16(), kind, bytes)
    }

    /// POST `body` as JSON, or nothing.
    pub fn post(&self, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {token}"));
        let response = match body {
            Some(body) => request.send_json(body),
            None => request.send_empty(),
        };
        answer(response.unwrap())
    }
}

fn answer(mut response: ureq::http::Response<ureq::Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.body_mut().read_json().unwrap_or(Value::Null);
    (status, body)
}
