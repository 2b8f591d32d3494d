//! A small WebDriver client (W3C protocol, JSON over HTTP) for Debian's
//! chromium (with chromedriver) and firefox-esr (with geckodriver): enough to
//! drive the web UI like a user, run axe-core in the page and take
//! screenshots.

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    _profile: tempfile::TempDir,
}

/// Which browser.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Chromium,
    FirefoxEsr,
}

/// geckodriver: `EAKTE_GECKODRIVER`, else where `scripts/setup-browser`
/// installs it (Debian has no package of it), else `PATH`.
fn geckodriver() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("EAKTE_GECKODRIVER") {
        return path.into();
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/geckodriver/bin/geckodriver");
    if local.exists() {
        return local;
    }
    "geckodriver".into()
}

impl Browser {
    /// Headless chromium in a fresh profile, with a window of `width`×`height`.
    pub fn start(width: u32, height: u32) -> Browser {
        Browser::start_kind(Kind::Chromium, width, height)
    }

    /// `kind`, headless, in a fresh profile, with a window of `width`×`height`.
    pub fn start_kind(kind: Kind, width: u32, height: u32) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut driver = match kind {
            Kind::Chromium => Command::new("chromedriver"),
            Kind::FirefoxEsr => Command::new(geckodriver()),
        };
        let driver = driver
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("the WebDriver for {kind:?} (scripts/setup-browser installs it): {e}")
            });
        let base = format!("http://127.0.0.1:{port}");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let started = Instant::now();
        while agent.get(format!("{base}/status")).call().is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the WebDriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = match kind {
            Kind::Chromium => {
                let args = [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                ]
                .iter()
                .map(|a| a.to_string())
                .chain([
                    format!("--user-data-dir={}", profile.path().display()),
                    format!("--window-size={width},{height}"),
                    "--lang=de-DE".to_string(),
                ])
                .collect::<Vec<_>>();
                json!({"capabilities": {"alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}
                }}})
            }
            // geckodriver makes its own fresh profile; these preferences
            // keep Firefox from calling home on a machine without a network.
            Kind::FirefoxEsr => json!({"capabilities": {"alwaysMatch": {
                "browserName": "firefox",
                "moz:firefoxOptions": {
                    "binary": "/usr/bin/firefox-esr",
                    "args": ["-headless", format!("-width={width}"), format!("-height={height}")],
                    "prefs": {
                        "intl.accept_languages": "de-DE",
                        "app.update.enabled": false,
                        "browser.safebrowsing.malware.enabled": false,
                        "browser.safebrowsing.phishing.enabled": false,
                        "network.captive-portal-service.enabled": false,
                        "network.connectivity-service.enabled": false,
                        "datareporting.policy.dataSubmissionEnabled": false,
                        "toolkit.telemetry.enabled": false,
                        "extensions.update.enabled": false,
                        "browser.shell.checkDefaultBrowser": false
                    }
                }
            }}}),
        };
        let mut answer = agent
            .post(format!("{base}/session"))
            .send_json(caps)
            .unwrap();
        let value: Value = answer.body_mut().read_json().unwrap();
        let session = value["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {value}"))
            .to_string();
        Browser {
            driver,
            base,
            session,
            agent,
            _profile: profile,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        match self.try_call(method, path, body) {
            Ok(value) => value,
            Err((status, value)) => panic!("WebDriver {path}: {status} {value}"),
        }
    }

    /// The command's value, or the driver's status and error.
    fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, (u16, Value)> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut answer = match (method, body) {
            ("GET", _) => self.agent.get(url).call(),
            (_, Some(body)) => self.agent.post(url).send_json(body),
            (_, None) => self.agent.post(url).send_json(json!({})),
        }
        .unwrap();
        let status = answer.status().as_u16();
        let value: Value = answer.body_mut().read_json().unwrap();
        if status < 300 {
            Ok(value["value"].clone())
        } else {
            Err((status, value))
        }
    }

    pub fn go(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn url(&self) -> String {
        self.call("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The element `css` selects, waiting up to 30 s for it to appear (a loaded machine).
    pub fn find(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            let url = format!("{}/session/{}/element", self.base, self.session);
            let mut answer = self
                .agent
                .post(url)
                .send_json(json!({"using": "css selector", "value": css}))
                .unwrap();
            let ok = answer.status().as_u16() == 200;
            let value: Value = answer.body_mut().read_json().unwrap();
            if ok {
                return value["value"][ELEMENT].as_str().unwrap().to_string();
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no element {css}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn click(&self, css: &str) {
        let element = self.find(css);
        self.call("POST", &format!("/element/{element}/click"), None);
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.call(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// A key as the user presses it, to whatever has the focus.
    pub fn press(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}
        ]}]});
        self.call("POST", "/actions", Some(actions));
    }

    pub fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Run `script` with a callback as its last argument; its value.
    pub fn script_async(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// The page's visible text; empty while a navigation has no body yet
    /// (a key press that follows a link returns before the new page loads).
    pub fn text(&self) -> String {
        let script =
            json!({ "script": "return document.body ? document.body.innerText : '';", "args": [] });
        // A page being replaced may also refuse the script outright
        // ("document unloaded"); to a reader it has no text yet either.
        self.try_call("POST", "/execute/sync", Some(script))
            .unwrap_or_default()
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits up to `secs` for the page's text to contain `wanted`.
    pub fn wait_for_text(&self, wanted: &str, secs: u64) -> Duration {
        let started = Instant::now();
        while !self.text().contains(wanted) {
            assert!(
                started.elapsed() < Duration::from_secs(secs),
                "{wanted:?} did not appear; the page says:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        started.elapsed()
    }

    /// axe-core's violations of WCAG 2.0/2.1 A and AA on the current page.
    pub fn accessibility_violations(&self, axe: &str) -> Vec<Value> {
        self.script(axe);
        let script = "var done = arguments[arguments.length - 1];\
            axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa']}})\
              .then(function (r) { done(r.violations.map(function (v) {\
                return {id: v.id, impact: v.impact, help: v.help,\
                  nodes: v.nodes.map(function (n) { return n.html; })}; })); })\
              .catch(function (e) { done([{id: 'axe failed', help: String(e)}]); });";
        let violations = self.call(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": [] })),
        );
        violations.as_array().cloned().unwrap_or_default()
    }

    pub fn screenshot(&self, path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, self.screenshot_png()).unwrap();
    }

    /// What the window shows, as PNG.
    pub fn screenshot_png(&self) -> Vec<u8> {
        let png = self.call("GET", "/screenshot", None);
        base64_decode(png.as_str().unwrap())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = self.agent.delete(url).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}
