//! Configuration: the TOML file `eakte.toml` (or `--config PATH`), every key
//! optional. [`Config::load`] turns the raw file into a validated [`Config`] whose
//! paths are absolute (relative paths are taken relative to the config file's
//! directory, or to the working directory when there is no file).
//!
//! Top-level keys `inbox_dir`, `index_dir`, `store_dir` and `listen` are part of the
//! external contract; the sections `[ocr]`, `[inbox]` and `[limits]` tune the daemon.
//! Unknown keys are rejected with an error that names them, so that a typo never
//! silently falls back to a default.

use crate::extract;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file looked for in the working directory when no `--config` is given.
pub const DEFAULT_FILE: &str = "eakte.toml";
/// The installed configuration (the Debian package's), looked for next: so
/// that `sudo eakte status` in any directory means the installed daemon's
/// store, never a fresh one in the working directory.
pub const SYSTEM_FILE: &str = "/etc/eakte/eakte.toml";

/// The default of `[limits] min_free_disk_mb`.
pub const DEFAULT_MIN_FREE_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid value for `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
    #[error("root does not read {path}: {why}; name it with --config to use it knowingly")]
    Untrusted { path: PathBuf, why: String },
}

/// The file as written, before validation. Every field has a default.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    inbox_dir: PathBuf,
    index_dir: PathBuf,
    store_dir: PathBuf,
    listen: String,
    ocr: RawOcr,
    inbox: RawInbox,
    limits: RawLimits,
    classify: RawClassify,
    audit: RawAudit,
    access: RawAccess,
    web: RawWeb,
    jobcenter: RawJobcenter,
    batch: RawBatch,
}

/// `[batch]`: stacks scanned in one go, cut into documents at separator sheets.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawBatch {
    separator: String,
    split: bool,
    keep_whole_at: Vec<String>,
}

impl Default for RawBatch {
    fn default() -> Self {
        RawBatch {
            separator: "PATCHT".into(),
            split: true,
            keep_whole_at: Vec::new(),
        }
    }
}

/// This jobcenter as other authorities know it (the sender of an xdomea
/// Abgabe, the authority named on a printed Akte).
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawJobcenter {
    name: String,
    /// Organisationseinheit that hands Akten over.
    unit: String,
    /// DVDV Behördenkennung: Präfix (class of authority) and Schlüssel.
    praefix: String,
    schluessel: String,
}

impl Default for RawJobcenter {
    fn default() -> Self {
        RawJobcenter {
            name: "Jobcenter Kreis Nordfriesland".into(),
            unit: String::new(),
            praefix: "ags".into(),
            schluessel: "01054000".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawWeb {
    secure_cookie: bool,
    session_idle_minutes: u64,
    session_hours: u64,
    page_cache_dir: PathBuf,
    trusted_user_header: Option<String>,
    trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for RawWeb {
    fn default() -> Self {
        RawWeb {
            secure_cookie: false,
            session_idle_minutes: 30,
            session_hours: 10,
            page_cache_dir: "./page-cache".into(),
            trusted_user_header: None,
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawAccess {
    four_eyes: bool,
}

impl Default for RawAccess {
    fn default() -> Self {
        RawAccess { four_eyes: true }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawAudit {
    anchor_file: Option<PathBuf>,
    anchor_every_entries: u64,
    anchor_every_secs: u64,
}

impl Default for RawAudit {
    fn default() -> Self {
        RawAudit {
            anchor_file: None,
            anchor_every_entries: 1000,
            anchor_every_secs: 300,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawClassify {
    rules_file: Option<PathBuf>,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            inbox_dir: "./scanner-inbox".into(),
            index_dir: "./index".into(),
            store_dir: "./store".into(),
            listen: "127.0.0.1:8080".into(),
            ocr: RawOcr::default(),
            inbox: RawInbox::default(),
            limits: RawLimits::default(),
            classify: RawClassify::default(),
            audit: RawAudit::default(),
            access: RawAccess::default(),
            web: RawWeb::default(),
            jobcenter: RawJobcenter::default(),
            batch: RawBatch::default(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawOcr {
    languages: String,
    workers: Option<usize>,
    tessdata_dir: Option<PathBuf>,
    render_dpi: u32,
    page_timeout_secs: u64,
}

impl Default for RawOcr {
    fn default() -> Self {
        RawOcr {
            languages: "deu".into(),
            workers: None,
            tessdata_dir: None,
            render_dpi: 300,
            page_timeout_secs: 120,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawInbox {
    settle_ms: u64,
    rescan_secs: u64,
    watch: bool,
}

impl Default for RawInbox {
    fn default() -> Self {
        RawInbox {
            settle_ms: 2000,
            rescan_secs: 15,
            watch: true,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawLimits {
    pdf_passwords_file: Option<PathBuf>,
    max_bytes: u64,
    max_pixels_per_page: u64,
    max_pages: u32,
    tool_timeout_secs: u64,
    max_upload_bytes: u64,
    min_free_disk_mb: u64,
    max_connections: u64,
    bad_tokens_before_slowdown: u32,
    max_connections_per_address: u64,
    max_body_memory_mb: u64,
    max_polls_per_user: u64,
    max_attachments_per_mail: u64,
}

impl Default for RawLimits {
    fn default() -> Self {
        RawLimits {
            pdf_passwords_file: None,
            max_bytes: 200 * 1024 * 1024,
            max_pixels_per_page: 40_000_000,
            max_pages: 500,
            tool_timeout_secs: 60,
            max_upload_bytes: 50 * 1024 * 1024,
            min_free_disk_mb: DEFAULT_MIN_FREE_BYTES / (1024 * 1024),
            max_connections: 4096,
            bad_tokens_before_slowdown: 3,
            max_connections_per_address: 1024,
            max_body_memory_mb: 256,
            max_polls_per_user: 4,
            max_attachments_per_mail: 50,
        }
    }
}

/// Validated configuration with absolute paths.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was loaded from; `None` for the built-in defaults.
    pub source: Option<PathBuf>,
    pub inbox_dir: PathBuf,
    pub index_dir: PathBuf,
    pub store_dir: PathBuf,
    pub listen: SocketAddr,
    /// `[ocr]` and the limits on files to read (`[limits]` max_bytes,
    /// max_pixels_per_page, max_pages, tool_timeout_secs).
    pub extract: extract::Settings,
    pub inbox: InboxConfig,
    pub limits: Limits,
    pub classify: ClassifyConfig,
    pub audit: AuditConfig,
    /// `[access] four_eyes`: changes that widen someone's access over the
    /// API wait for a second admin (off for an office with one admin; each
    /// such change is then flagged to the auditor).
    pub four_eyes: bool,
    pub web: WebConfig,
    /// This jobcenter, as the sender of what it hands over.
    pub jobcenter: Jobcenter,
    pub batch: BatchConfig,
}

/// `[batch]`: whether scans with separator sheets are cut into documents (the
/// separator's text itself is in `extract.ocr.separator`).
#[derive(Debug, Clone)]
pub struct BatchConfig {
    /// `split`: on by default.
    pub split: bool,
    /// `keep_whole_at`: sites whose scans are never cut (their scanners feed
    /// one letter at a time, or their separator sheets mean something else).
    pub keep_whole_at: Vec<String>,
}

impl BatchConfig {
    /// Whether a scan that came in at `site` is cut at its separator sheets.
    pub fn splits_at(&self, site: Option<&str>) -> bool {
        self.split && !site.is_some_and(|s| self.keep_whole_at.iter().any(|k| k == s))
    }
}

/// `[web]`: the caseworkers' web UI on the API's listener.
#[derive(Debug, Clone)]
pub struct Jobcenter {
    pub name: String,
    pub unit: String,
    pub praefix: String,
    pub schluessel: String,
}

#[derive(Debug, Clone)]
pub struct WebConfig {
    /// `secure_cookie`: the session cookie only over TLS (set it behind a
    /// reverse proxy that terminates TLS).
    pub secure_cookie: bool,
    /// `session_idle_minutes`: a session ends after this long without a request …
    pub session_idle: Duration,
    /// … and `session_hours` after its login in any case.
    pub session_absolute: Duration,
    /// `page_cache_dir`: page images rendered from originals (derived data,
    /// deleted at will, rebuilt when shown).
    pub page_cache_dir: PathBuf,
    /// Single sign-on: `trusted_user_header` (e.g. `X-Remote-User`) names the
    /// user (as `eakte users add` named them) when the request comes from one
    /// of `trusted_proxies`; off unless both are set.
    pub single_sign_on: Option<SingleSignOn>,
}

#[derive(Debug, Clone)]
pub struct SingleSignOn {
    pub header: String,
    pub proxies: Vec<std::net::IpAddr>,
}

/// `[audit]`: where the trail's head is anchored outside the store.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// The anchor file (append-only, best on another machine's mount);
    /// `None`: the head is only logged at start and stop.
    pub anchor_file: Option<PathBuf>,
    pub anchor_every_entries: u64,
    pub anchor_every: Duration,
}

#[derive(Debug, Clone)]
pub struct InboxConfig {
    /// A file is taken once its size and mtime were unchanged for this long.
    pub settle: Duration,
    /// Full rescan interval: network shares deliver no change events.
    pub rescan: Duration,
    /// Whether file events (inotify) wake the daemon. Off for inboxes on
    /// SMB or NFS mounts, whose writes from other machines raise no events:
    /// the rescan alone finds their scans.
    pub watch: bool,
}

#[derive(Debug, Clone)]
pub struct ClassifyConfig {
    /// Document type rules; `None` uses the shipped ones (src/classify/default_rules.toml).
    pub rules_file: Option<PathBuf>,
}

/// Limits that protect the daemon from hostile or greedy clients (the limits
/// on files are in [`extract::Limits`]).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body the API takes (uploads, CSV imports).
    pub max_upload_bytes: u64,
    /// Free space the store keeps on its disk: below it, ingest waits and the
    /// API refuses what it would have to record (at 0, only a full disk stops it).
    pub min_free_disk_bytes: u64,
    /// Open API connections at most; further clients wait to be accepted.
    pub max_connections: usize,
    /// Failed authentications one address may make before it is turned away
    /// for a while (raise it when many users share one address, e.g. a proxy).
    pub bad_tokens_before_slowdown: u32,
    /// Open API connections one address may hold (a proxy in front of eakte
    /// is one address: raise it there).
    pub max_connections_per_address: usize,
    /// Request bodies held in memory at once, all requests together.
    pub max_body_memory_bytes: u64,
    /// Long-polls one user may have waiting at once.
    pub max_polls_per_user: usize,
    /// Attachments of one e-mail filed; a mail with more is refused.
    pub max_attachments_per_mail: usize,
}

/// `[limits] pdf_passwords_file`: one password per line, in the order they are
/// tried; empty lines and lines starting with `#` are skipped. Passwords open
/// people's bank statements: a file others may read is refused.
fn read_passwords(path: &Path) -> Result<extract::Passwords, ConfigError> {
    use std::os::unix::fs::PermissionsExt;
    let key = "limits.pdf_passwords_file";
    let meta = std::fs::metadata(path)
        .map_err(|e| invalid(key, format!("cannot read {}: {e}", path.display())))?;
    if meta.permissions().mode() & 0o007 != 0 {
        return Err(invalid(
            key,
            format!(
                "{} may be read by every user of this machine; allow only eakte's user and group (chmod 640)",
                path.display()
            ),
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(key, format!("cannot read {}: {e}", path.display())))?;
    let passwords: Vec<String> = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    if passwords.is_empty() {
        return Err(invalid(
            key,
            format!("{} holds no password", path.display()),
        ));
    }
    Ok(extract::Passwords(passwords))
}

impl Config {
    /// Load `path`; without one `./eakte.toml` if it exists, else
    /// `/etc/eakte/eakte.toml` if it exists, else the built-in defaults.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let found = path.map(Path::to_path_buf).or_else(|| {
            [Path::new(DEFAULT_FILE), Path::new(SYSTEM_FILE)]
                .into_iter()
                .find(|p| p.exists())
                .map(Path::to_path_buf)
        });
        if path.is_none() {
            if let Some(found) = &found {
                trusted_by_root(found)?;
            }
        }
        let (raw, base, source) = match found {
            Some(p) => (
                read_raw(&p)?,
                parent_dir(&p),
                Some(absolute(&current_dir(), &p)),
            ),
            None => (RawConfig::default(), current_dir(), None),
        };
        let mut config = Self::validate(raw, &base)?;
        config.extract.config_file = source.clone();
        config.source = source;
        Ok(config)
    }

    /// Parse configuration text; relative paths are resolved against `base`.
    pub fn from_toml(text: &str, base: &Path) -> Result<Config, ConfigError> {
        let raw = parse_raw(text, Path::new("<text>"))?;
        Self::validate(raw, base)
    }

    /// The built-in defaults, resolved against `base`.
    pub fn defaults(base: &Path) -> Config {
        Self::validate(RawConfig::default(), base).expect("built-in defaults are valid")
    }

    fn validate(raw: RawConfig, base: &Path) -> Result<Config, ConfigError> {
        let listen = raw.listen.parse().map_err(|e| ConfigError::Invalid {
            key: "listen",
            message: format!(
                "{:?} is not a socket address like 127.0.0.1:8080 ({e})",
                raw.listen
            ),
        })?;
        let languages = raw.ocr.languages.trim().to_string();
        let language_ok =
            |l: &str| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !languages.split('+').all(language_ok) {
            return Err(invalid(
                "ocr.languages",
                format!("{languages:?} is not like \"deu\" or \"deu+eng\""),
            ));
        }
        let workers = raw.ocr.workers.unwrap_or_else(default_workers);
        if workers == 0 || workers > 256 {
            return Err(invalid(
                "ocr.workers",
                format!("{workers} is not between 1 and 256"),
            ));
        }
        if !(50..=1200).contains(&raw.ocr.render_dpi) {
            return Err(invalid(
                "ocr.render_dpi",
                format!("{} is not between 50 and 1200", raw.ocr.render_dpi),
            ));
        }
        positive("ocr.page_timeout_secs", raw.ocr.page_timeout_secs)?;
        if raw.jobcenter.name.trim().is_empty() {
            return Err(invalid(
                "jobcenter.name",
                "is empty; it names the sender of every Akte handed over".into(),
            ));
        }
        positive("inbox.rescan_secs", raw.inbox.rescan_secs)?;
        let pdf_passwords = match &raw.limits.pdf_passwords_file {
            Some(file) => read_passwords(&absolute(base, file))?,
            None => extract::Passwords::default(),
        };
        let separator = raw.batch.separator.trim().to_string();
        if separator.is_empty()
            || separator.len() > 64
            || !separator.chars().all(|c| c.is_ascii_graphic() || c == ' ')
        {
            return Err(invalid(
                "batch.separator",
                format!("{separator:?} is not the text of a barcode like \"PATCHT\" (1 to 64 printable ASCII characters)"),
            ));
        }
        positive("limits.max_bytes", raw.limits.max_bytes)?;
        positive("limits.max_pixels_per_page", raw.limits.max_pixels_per_page)?;
        positive("limits.max_pages", raw.limits.max_pages as u64)?;
        positive("limits.tool_timeout_secs", raw.limits.tool_timeout_secs)?;
        positive("limits.max_upload_bytes", raw.limits.max_upload_bytes)?;
        positive("limits.max_connections", raw.limits.max_connections)?;
        positive("audit.anchor_every_entries", raw.audit.anchor_every_entries)?;
        positive("audit.anchor_every_secs", raw.audit.anchor_every_secs)?;
        positive(
            "limits.max_connections_per_address",
            raw.limits.max_connections_per_address,
        )?;
        positive("limits.max_body_memory_mb", raw.limits.max_body_memory_mb)?;
        positive("limits.max_polls_per_user", raw.limits.max_polls_per_user)?;
        positive(
            "limits.max_attachments_per_mail",
            raw.limits.max_attachments_per_mail,
        )?;
        let (inbox_dir, index_dir, store_dir) = (
            absolute(base, &raw.inbox_dir),
            absolute(base, &raw.index_dir),
            absolute(base, &raw.store_dir),
        );
        // Nested folders would feed the store's own files back in as scans, or
        // wipe the store together with an outdated index.
        let dirs = [
            ("inbox_dir", &inbox_dir),
            ("index_dir", &index_dir),
            ("store_dir", &store_dir),
        ];
        for (key, dir) in dirs {
            for (other_key, other) in dirs {
                if key != other_key && dir.starts_with(other) {
                    return Err(invalid(
                        key,
                        format!(
                            "{} lies inside {other_key} ({})",
                            dir.display(),
                            other.display()
                        ),
                    ));
                }
            }
        }
        let anchor_file = raw.audit.anchor_file.as_ref().map(|p| absolute(base, p));
        if let Some(anchor) = &anchor_file {
            // Whoever puts back an older store would put back its anchor too.
            if anchor.starts_with(&store_dir) {
                return Err(invalid(
                    "audit.anchor_file",
                    format!(
                        "{} lies inside store_dir ({}); it belongs outside the store, best on another machine",
                        anchor.display(),
                        store_dir.display()
                    ),
                ));
            }
        }
        Ok(Config {
            source: None,
            inbox_dir,
            index_dir,
            store_dir,
            listen,
            extract: extract::Settings {
                limits: extract::Limits {
                    max_bytes: raw.limits.max_bytes,
                    max_pixels_per_page: raw.limits.max_pixels_per_page,
                    max_pages: raw.limits.max_pages,
                    tool_timeout: Duration::from_secs(raw.limits.tool_timeout_secs),
                    pdf_passwords,
                },
                ocr: extract::OcrSettings {
                    languages,
                    workers,
                    tessdata_dir: raw.ocr.tessdata_dir.map(|p| absolute(base, &p)),
                    render_dpi: raw.ocr.render_dpi,
                    page_timeout: Duration::from_secs(raw.ocr.page_timeout_secs),
                    separator,
                },
                config_file: None,
            },
            inbox: InboxConfig {
                settle: Duration::from_millis(raw.inbox.settle_ms),
                rescan: Duration::from_secs(raw.inbox.rescan_secs),
                watch: raw.inbox.watch,
            },
            classify: ClassifyConfig {
                rules_file: raw.classify.rules_file.map(|p| absolute(base, &p)),
            },
            four_eyes: raw.access.four_eyes,
            batch: BatchConfig {
                split: raw.batch.split,
                keep_whole_at: raw
                    .batch
                    .keep_whole_at
                    .iter()
                    .map(|s| s.trim().to_string())
                    .collect(),
            },
            jobcenter: Jobcenter {
                name: raw.jobcenter.name.trim().to_string(),
                unit: raw.jobcenter.unit.trim().to_string(),
                praefix: raw.jobcenter.praefix.trim().to_string(),
                schluessel: raw.jobcenter.schluessel.trim().to_string(),
            },
            web: WebConfig {
                secure_cookie: raw.web.secure_cookie,
                session_idle: Duration::from_secs(raw.web.session_idle_minutes.max(1) * 60),
                session_absolute: Duration::from_secs(raw.web.session_hours.max(1) * 3600),
                page_cache_dir: absolute(base, &raw.web.page_cache_dir),
                single_sign_on: match (raw.web.trusted_user_header, raw.web.trusted_proxies) {
                    (Some(header), proxies) if !proxies.is_empty() => Some(SingleSignOn {
                        header,
                        proxies: proxies.iter().map(|p| p.to_canonical()).collect(),
                    }),
                    (Some(_), _) => return Err(ConfigError::Invalid {
                        key: "web.trusted_proxies",
                        message:
                            "a trusted user header needs the addresses of the proxies that set it"
                                .into(),
                    }),
                    (None, _) => None,
                },
            },
            audit: AuditConfig {
                anchor_file,
                anchor_every_entries: raw.audit.anchor_every_entries,
                anchor_every: Duration::from_secs(raw.audit.anchor_every_secs),
            },
            limits: Limits {
                max_upload_bytes: raw.limits.max_upload_bytes,
                min_free_disk_bytes: raw.limits.min_free_disk_mb * 1024 * 1024,
                max_connections: count(raw.limits.max_connections),
                bad_tokens_before_slowdown: raw.limits.bad_tokens_before_slowdown,
                max_connections_per_address: count(raw.limits.max_connections_per_address),
                max_body_memory_bytes: raw.limits.max_body_memory_mb.saturating_mul(1024 * 1024),
                max_polls_per_user: count(raw.limits.max_polls_per_user),
                max_attachments_per_mail: count(raw.limits.max_attachments_per_mail),
            },
        })
    }
}

/// A configured count as the platform's size.
fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn invalid(key: &'static str, message: String) -> ConfigError {
    ConfigError::Invalid { key, message }
}

fn positive(key: &'static str, value: u64) -> Result<(), ConfigError> {
    if value == 0 {
        return Err(invalid(key, "must be greater than 0".into()));
    }
    Ok(())
}

fn read_raw(path: &Path) -> Result<RawConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_raw(&text, path)
}

fn parse_raw(text: &str, path: &Path) -> Result<RawConfig, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// A file root found by itself in the working directory (which may be anyone's,
/// `/tmp` or a share) must be root's own and writable by nobody else: it says
/// which store root's command goes to.
fn trusted_by_root(path: &Path) -> Result<(), ConfigError> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    let meta = std::fs::metadata(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let why = if meta.uid() != 0 {
        format!("it belongs to uid {}, not to root", meta.uid())
    } else if meta.mode() & 0o022 != 0 {
        "others may write it".to_string()
    } else {
        return Ok(());
    };
    Err(ConfigError::Untrusted {
        path: absolute(&current_dir(), path),
        why,
    })
}

fn parent_dir(path: &Path) -> PathBuf {
    let parent = path.parent().unwrap_or(Path::new(""));
    if parent.as_os_str().is_empty() {
        current_dir()
    } else {
        absolute(&current_dir(), parent)
    }
}

fn current_dir() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

fn absolute(base: &Path, p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    };
    // Drop `.` components so that logged paths read cleanly.
    joined
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_resolve_relative_to_base() {
        let c = Config::defaults(Path::new("/srv/eakte"));
        assert_eq!(c.inbox_dir, PathBuf::from("/srv/eakte/scanner-inbox"));
        assert_eq!(c.index_dir, PathBuf::from("/srv/eakte/index"));
        assert_eq!(c.store_dir, PathBuf::from("/srv/eakte/store"));
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.extract.ocr.languages, "deu");
        assert!(c.extract.ocr.workers >= 1);
        assert!(c.inbox.watch);
    }

    #[test]
    fn unknown_key_is_named_in_the_error() {
        let err = Config::from_toml("inbox_dri = \"x\"\n", Path::new("/")).unwrap_err();
        assert!(err.to_string().contains("inbox_dri"), "{err}");
        let err = Config::from_toml("[ocr]\nlanguage = \"deu\"\n", Path::new("/")).unwrap_err();
        assert!(err.to_string().contains("language"), "{err}");
    }

    #[test]
    fn sections_override_defaults() {
        let c = Config::from_toml(
            "store_dir = \"/data/store\"\n[ocr]\nworkers = 3\nlanguages = \"deu+eng\"\n[inbox]\nsettle_ms = 100\n",
            Path::new("/base"),
        )
        .unwrap();
        assert_eq!(c.store_dir, PathBuf::from("/data/store"));
        assert_eq!(c.extract.ocr.workers, 3);
        assert_eq!(c.extract.ocr.languages, "deu+eng");
        assert_eq!(c.inbox.settle, Duration::from_millis(100));
        let smb = Config::from_toml("[inbox]\nwatch = false\n", Path::new("/base")).unwrap();
        assert!(!smb.inbox.watch);
    }

    #[test]
    fn bad_values_are_rejected_with_the_key() {
        let err = Config::from_toml("listen = \"nowhere\"\n", Path::new("/")).unwrap_err();
        assert!(err.to_string().contains("listen"), "{err}");
        let err = Config::from_toml("[ocr]\nworkers = 0\n", Path::new("/")).unwrap_err();
        assert!(err.to_string().contains("ocr.workers"), "{err}");
        let err = Config::from_toml("inbox_dir = \".\"\n", Path::new("/srv")).unwrap_err();
        assert!(err.to_string().contains("lies inside inbox_dir"), "{err}");
    }

    #[test]
    fn root_reads_only_its_own_unshared_file_from_the_working_directory() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("eakte.toml");
        std::fs::write(&file, "").unwrap();
        let chmod = |mode| std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode));
        // SAFETY: geteuid cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        chmod(0o644).unwrap();
        assert!(trusted_by_root(&file).is_ok());
        chmod(0o666).unwrap();
        assert_eq!(
            trusted_by_root(&file).is_err(),
            root,
            "a file others may write is refused by root only"
        );
        chmod(0o644).unwrap();
        if root {
            std::os::unix::fs::chown(&file, Some(65534), None).unwrap();
            let err = trusted_by_root(&file).unwrap_err();
            assert!(err.to_string().contains("belongs to uid 65534"), "{err}");
        }
    }
}
