//! What each command-line command does and prints. Run by the command's own
//! process or by the daemon for it (see the module above); either way through
//! the audited operations of [`crate::service`], with the operator as actor.

use super::{Console, Request, Table};
use crate::config::Config;
use crate::index::SearchIndex;
use crate::model::{BgNummer, Document, Item, Recognition};
use crate::pipeline::ingest::{Content, IngestLine, Named};
use crate::pipeline::{Extraction, Pipeline};
use crate::registry::import::ImportReport;
use crate::service::{
    admin, documents, maintenance, postbox, trail, Actor, ServiceError, Services,
};
use crate::users::NewUser;

/// The exit status of a command that did its work.
pub const SUCCESS: u8 = 0;
/// The exit status of a command that failed, or whose work found problems.
pub const FAILURE: u8 = 1;

/// Why a command failed; printed as `eakte: <error>`.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("there is no document {0}")]
    NoDocument(crate::model::DocumentId),
    #[error("no row of {file} is valid; nothing was changed")]
    NoValidRows { file: String },
    #[error("{file}: {message}; nothing was changed")]
    Import { file: String, message: String },
    #[error("{0}")]
    File(String),
    #[error("the audit trail was tampered with or damaged")]
    Tampered,
    #[error(transparent)]
    Open(#[from] crate::pipeline::OpenError),
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
}

/// The files a command reads, as the command-line process read them.
pub trait Files: Send {
    /// The next file, in the order the command names them.
    fn next_file(&mut self) -> Option<Named>;
}

/// Run `request` for `actor`, printing to `console`; returns the exit status.
/// Errors are printed too (as `eakte: …`), so that a command run by the
/// daemon fails exactly as it would on its own.
pub fn run(
    services: &Services,
    config: &Config,
    actor: &Actor,
    request: Request,
    files: &mut dyn Files,
    console: &mut dyn Console,
) -> u8 {
    match execute(services, config, actor, request, files, console) {
        Ok(status) => status,
        Err(e) => {
            console.err(&format!("eakte: {e}"));
            FAILURE
        }
    }
}

fn execute(
    services: &Services,
    config: &Config,
    actor: &Actor,
    request: Request,
    files: &mut dyn Files,
    console: &mut dyn Console,
) -> Result<u8, CommandError> {
    match request {
        Request::Ingest { files: _, site } => {
            ingest(services, config, site.as_deref(), files, console)
        }
        Request::Search {
            query,
            limit,
            offset,
            json,
        } => search(
            services,
            config,
            actor,
            &query.join(" "),
            limit,
            offset,
            json,
            console,
        ),
        Request::Show { id, json } => show(services, actor, id, json, console),
        Request::Export { bg, query, .. } => export(services, actor, &bg, &query, console),
        Request::Deckblatt { bg, item, .. } => deckblatt(services, actor, &bg, item, console),
        Request::ImportAkte {
            file,
            json,
            receipt,
        } => import_akte(
            services,
            config,
            actor,
            &file,
            json,
            receipt.is_some(),
            files,
            console,
        ),
        Request::Reindex => {
            let started = std::time::Instant::now();
            let n = maintenance::reindex(services, actor, console.progress())?;
            let secs = started.elapsed().as_secs_f64();
            console.out(&format!(
                "reindexed {n} document(s) in {secs:.1} s ({:.0} documents/s)",
                n as f64 / secs.max(1e-9)
            ));
            Ok(SUCCESS)
        }
        Request::Check { json } => check(services, actor, json, console),
        Request::Import {
            table,
            file,
            dry_run,
            json,
        } => import(services, actor, table, &file, dry_run, json, files, console),
        Request::ListCaseworkers => list_caseworkers(services, actor, console),
        Request::AddAbsence {
            kennung,
            from,
            to,
            deputy,
        } => {
            let request = admin::AbsenceRequest {
                kennung,
                from,
                to,
                deputy,
            };
            let a = done(admin::add_absence(services, actor, request)?)?;
            console.out(&format!(
                "absence {}: {} from {} to {}, deputy {}",
                a.id, a.kennung, a.from, a.to, a.deputy
            ));
            Ok(SUCCESS)
        }
        Request::ListAbsences => {
            for a in admin::absences(services, actor)? {
                console.out(&format!(
                    "{}  {} from {} to {}, deputy {}",
                    a.id, a.kennung, a.from, a.to, a.deputy
                ));
            }
            Ok(SUCCESS)
        }
        Request::RemoveAbsence { id } => {
            let a = admin::remove_absence(services, actor, id)?;
            console.out(&format!(
                "removed absence {}: {} from {} to {}",
                a.id, a.kennung, a.from, a.to
            ));
            Ok(SUCCESS)
        }
        Request::ListPostbox { postbox, all, json } => {
            list_postbox(services, actor, &postbox, all, json, console)
        }
        Request::ChangeItem { item, by, change } => {
            let changed = match postbox::change(services, actor, item, change, Some(by.as_str()))? {
                postbox::Changed::Item(item) => serde_json::to_string(&item),
                postbox::Changed::Moved(id) => {
                    serde_json::to_string(&serde_json::json!({ "id": id, "moved": true }))
                }
            };
            console.out(&changed.expect("items serialise"));
            Ok(SUCCESS)
        }
        Request::ExplainRoute { document, json } => {
            explain(services, actor, document, json, console)
        }
        Request::AddUser {
            name,
            role,
            caseworker,
            site,
            team,
        } => {
            let new = NewUser {
                name,
                role,
                caseworker,
                site,
                team,
            };
            let (user, token) = done(admin::add_user(services, actor, new)?)?;
            console.err(&format!(
                "user {} ({}) created as {}; the token is shown only now:",
                user.name, user.id, user.role
            ));
            console.out(&token);
            Ok(SUCCESS)
        }
        Request::ListUsers => {
            for u in admin::users(services, actor)? {
                let scope = u
                    .caseworker
                    .as_ref()
                    .map(|k| format!(" caseworker {k}"))
                    .or(u.site.as_ref().map(|s| format!(" site {s}")))
                    .or(u.team.as_ref().map(|t| format!(" team {t}")))
                    .unwrap_or_default();
                let revoked = u
                    .revoked_at
                    .as_ref()
                    .map(|at| format!("  REVOKED {at}"))
                    .unwrap_or_default();
                console.out(&format!(
                    "{}  {}  {}{scope}  created {}{revoked}",
                    u.id, u.name, u.role, u.created_at
                ));
            }
            Ok(SUCCESS)
        }
        Request::RevokeUser { user } => {
            let u = admin::revoke_user(services, actor, &user)?;
            console.out(&format!("revoked {} ({})", u.name, u.id));
            Ok(SUCCESS)
        }
        Request::VerifyAudit { json, anchor } => {
            let anchor = match anchor {
                Some(file) => Some(
                    sent(&file, files)
                        .map_err(|message| CommandError::File(format!("{file}: {message}")))?,
                ),
                None => None,
            };
            verify_audit(services, actor, json, anchor.as_deref(), console)
        }
        Request::AuditEntries { bg, searched, json } => {
            audit_entries(services, actor, bg, searched, json, console)
        }
    }
}

fn ingest(
    services: &Services,
    config: &Config,
    site: Option<&str>,
    files: &mut dyn Files,
    console: &mut dyn Console,
) -> Result<u8, CommandError> {
    let mut all_stored = true;
    let mut emit = |line: &IngestLine| {
        all_stored &= line.is_stored();
        console.out(&serde_json::to_string(line).expect("ingest lines serialise"));
    };
    let workers = config.extract.ocr.workers + 1;
    match services.running() {
        Some(running) => {
            crate::pipeline::ingest::ingest(
                &running.pipeline,
                site,
                workers,
                Extraction::Isolated,
                || files.next_file(),
                &mut emit,
            );
            running.indexing.commit()?;
        }
        None => {
            let store = services.store().clone();
            let (pipeline, mut indexer) = Pipeline::with_store(config, store.clone())?;
            crate::pipeline::ingest::ingest(
                &pipeline,
                site,
                workers,
                Extraction::InProcess,
                || files.next_file(),
                &mut emit,
            );
            indexer.drain_queue(&store)?;
            indexer.finish()?;
        }
    }
    Ok(if all_stored { SUCCESS } else { FAILURE })
}

#[allow(clippy::too_many_arguments)]
fn search(
    services: &Services,
    config: &Config,
    actor: &Actor,
    query: &str,
    limit: usize,
    offset: usize,
    json: bool,
    console: &mut dyn Console,
) -> Result<u8, CommandError> {
    let index = match services.running() {
        Some(running) => running.index.clone(),
        None => SearchIndex::open_read_only(&config.index_dir)?,
    };
    let request = crate::index::SearchRequest {
        query,
        limit,
        offset,
        ..Default::default()
    };
    let results = documents::search(services, &index, actor, request)?;
    if json {
        for hit in &results.hits {
            console.out(&serde_json::to_string(hit).expect("hits serialise"));
        }
        return Ok(SUCCESS);
    }
    console.out(&format!("{} document(s) found", results.total));
    for hit in &results.hits {
        let site = hit.site.as_deref().unwrap_or("-");
        console.out(&format!(
            "\n#{}  score {:.2}  {}  {}  {}",
            hit.id,
            hit.score.unwrap_or_default(),
            hit.received_at,
            site,
            hit.name
        ));
        console.out(&format!("    {}", terminal_snippet(&hit.snippet)));
    }
    Ok(SUCCESS)
}

/// Snippets are HTML (`<b>` marks hits); show the marks as «…» on a terminal.
fn terminal_snippet(html: &str) -> String {
    html.replace("<b>", "«")
        .replace("</b>", "»")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn show(
    services: &Services,
    actor: &Actor,
    id: crate::model::DocumentId,
    json: bool,
    console: &mut dyn Console,
) -> Result<u8, CommandError> {
    let doc = read(services, actor, id, documents::Read::Metadata)?.document;
    let store = services.store();
    let state = if store
        .documents()
        .is_pending_index(id)
        .map_err(ServiceError::from)?
    {
        "stored, waiting to be indexed"
    } else {
        "stored and indexed"
    };
    if json {
        #[derive(serde::Serialize)]
        struct Shown<'a> {
            #[serde(flatten)]
            document: &'a Document,
            state: &'a str,
        }
        let text = serde_json::to_string_pretty(&Shown {
            document: &doc,
            state,
        })
        .expect("documents serialise");
        console.out(&text);
        return Ok(SUCCESS);
    }
    console.out(&format!("document {}", doc.id));
    console.out(&format!("  state:       {state}"));
    console.out(&format!("  name:        {}", doc.original_name));
    console.out(&format!(
        "  site:        {}",
        doc.site.as_deref().unwrap_or("-")
    ));
    console.out(&format!("  type:        {}", doc.kind.mime_type()));
    console.out(&format!("  size:        {} bytes", doc.size));
    console.out(&format!("  sha256:      {}", doc.sha256));
    console.out(&format!("  received:    {}", doc.received_at));
    console.out(&format!("  stored:      {}", doc.stored_at));
    if let Some(c) = mean_confidence(&doc) {
        console.out(&format!("  confidence:  {c:.0} (mean OCR word confidence)"));
    }
    if let Some(c) = &doc.classification {
        console.out(&format!(
            "  doc type:    {} (Schlagwort {})",
            c.doc_type, c.schlagwort
        ));
        console.out(&format!(
            "  recipient:   {}",
            describe_recognition(&c.recipient)
        ));
    }
    for a in &doc.arrivals {
        if let Some(a) = store.documents().arrival(*a).map_err(ServiceError::from)? {
            let dup = if a.duplicate { " (duplicate)" } else { "" };
            console.out(&format!(
                "  arrival {}:  {} at {}{dup}",
                a.id, a.source, a.received_at
            ));
        }
    }
    for page in &doc.pages {
        let mut how = format!("{:?}", page.source);
        if let Some(c) = page.confidence {
            how.push_str(&format!(", confidence {c:.0}"));
        }
        if page.rotation != 0 {
            how.push_str(&format!(", turned {}°", page.rotation));
        }
        console.out(&format!(
            "\n--- page {} ({how}) ---\n{}",
            page.number, page.text
        ));
    }
    Ok(SUCCESS)
}

/// Read a document for an operator: one that is not there is named.
fn read(
    services: &Services,
    actor: &Actor,
    id: crate::model::DocumentId,
    what: documents::Read,
) -> Result<documents::Shown, CommandError> {
    match documents::read(services, actor, id, what) {
        Err(ServiceError::NotFound) => Err(CommandError::NoDocument(id)),
        other => Ok(other?),
    }
}

/// Mean OCR confidence over the OCRed pages, `None` if no page was OCRed.
fn mean_confidence(doc: &Document) -> Option<f32> {
    let confs: Vec<f32> = doc.pages.iter().filter_map(|p| p.confidence).collect();
    (!confs.is_empty()).then(|| confs.iter().sum::<f32>() / confs.len() as f32)
}

/// `eakte export`: the package goes to the command line's `--out` in pieces.
fn export(
    services: &Services,
    actor: &Actor,
    bg: &str,
    query: &str,
    console: &mut dyn Console,
) -> Result<u8, CommandError> {
    let request =
        crate::service::exchange::ExportRequest::from_query(query).map_err(CommandError::File)?;
    let exported = crate::service::exchange::export(services, actor, bg, request)?;
    let mut file = std::fs::File::open(&exported.path)
        .map_err(|e| CommandError::File(format!("cannot read the export: {e}")))?;
    let mut piece = vec![0u8; 4 * 1024 * 1024];
    loop {
        let n = std::io::Read::read(&mut file, &mut piece)
            .map_err(|e| CommandError::File(format!("cannot read the export: {e}")))?;
        if n == 0 {
            break;
        }
        console
            .file(&piece[..n])
            .map_err(|e| CommandError::File(format!("cannot write the export: {e}")))?;
    }
    console.err(&format!(
        "{}: {} documents, {} bytes, SHA-256 {}",
        exported.file_name, exported.documents, exported.size, exported.sha256
    ));
    Ok(SUCCESS)
}

/// `eakte deckblatt`: the sheet goes to the command line's file.
fn deckblatt(
    services: &Services,
    actor: &Actor,
    bg: &str,
    item: Option<u64>,
    console: &mut dyn Console,
) -> Result<u8, CommandError> {
    let printed = crate::service::coversheet::deckblatt(services, actor, bg, item)?;
    console
        .file(&printed.pdf)
        .map_err(|e| CommandError::File(format!("cannot write the Deckblatt: {e}")))?;
    console.err(&format!(
        "{}: 1 Seite, {} bytes",
        printed.file_name,
        printed.pdf.len()
    ));
    Ok(SUCCESS)
}

/// `eakte import-akte`: take the package sent; print what was taken (the
/// receipt is in the JSON, and written by the command line with `--receipt`).
#[allow(clippy::too_many_arguments)]
fn import_akte(
    services: &Services,
    config: &Config,
    actor: &Actor,
    file: &str,
    json: bool,
    receipt: bool,
    files: &mut dyn Files,
    console: &mut dyn Console,
) -> Result<u8, CommandError> {
    let bytes = sent(file, files).map_err(CommandError::File)?;
    let scratch = services
        .store()
        .blobs()
        .scratch()
        .map_err(|e| CommandError::File(format!("cannot unpack {file}: {e}")))?;
    let path = scratch.path().join("package.zip");
    std::fs::write(&path, &bytes)
        .map_err(|e| CommandError::File(format!("cannot unpack {file}: {e}")))?;
    drop(bytes);
    let imported = match services.running() {
        Some(running) => {
            let imported =
                crate::service::exchange::import(services, &running.pipeline, actor, &path)?;
            running.indexing.commit()?;
            imported
        }
        None => {
            let store = services.store().clone();
            let (pipeline, mut indexer) = Pipeline::with_store(config, store.clone())?;
            let imported = crate::service::exchange::import(services, &pipeline, actor, &path)?;
            indexer.drain_queue(&store)?;
            indexer.finish()?;
            imported
        }
    };
    if json {
        console.out(&serde_json::to_string(&imported).expect("an import serialises"));
    } else {
        let t = &imported.taken;
        let whom = match (&t.bg, &t.clearing) {
            (Some(bg), _) => format!("into BG {bg}"),
            (None, Some(why)) => format!("for the clearing office ({why})"),
            (None, None) => "for the clearing office".into(),
        };
        console.out(&format!(
            "{}{} documents from {} {whom}; item {} in {}",
            if t.already {
                "taken before, nothing changed: "
            } else {
                ""
            },
            t.documents.len(),
            imported.sender.name,
            t.item.map(|i| i.to_string()).unwrap_or_else(|| "-".into()),
            t.postbox,
        ));
    }
    if receipt {
        console
            .file(imported.receipt.as_bytes())
            .map_err(|e| CommandError::File(format!("cannot write the receipt: {e}")))?;
    }
    Ok(SUCCESS)
}

fn check(
    services: &Services,
    actor: &Actor,
    json: bool,
    console: &mut dyn Console,
) -> Result<u8, CommandError> {
    let report = maintenance::check(services, actor, console.progress().as_ref())?;
    if json {
        console.out(&serde_json::to_string_pretty(&report).expect("reports serialise"));
    } else {
        console.out(&format!(
            "{} document(s), {} arrival(s), {} blob(s) verified",
            report.documents, report.arrivals, report.blobs_verified
        ));
        for note in &report.notes {
            console.out(&format!("note: {note}"));
        }
        for problem in &report.problems {
            console.out(&format!("PROBLEM: {problem}"));
        }
        console.out(if report.ok() { "OK" } else { "FAILED" });
    }
    Ok(if report.ok() { SUCCESS } else { FAILURE })
}

/// What an access change on the command line came to: operators act at
/// once, so a change is never left waiting for a second admin here.
fn done<T>(granted: admin::Granted<T>) -> Result<T, CommandError> {
    match granted {
        admin::Granted::Done(t) => Ok(t),
        admin::Granted::Pending(p) => Err(CommandError::File(format!(
            "the change waits for a second admin (pending change {})",
            p.id
        ))),
    }
}

/// The bytes of `file`, the next the command line sent, or why there are none.
fn sent(file: &str, files: &mut dyn Files) -> Result<Vec<u8>, String> {
    match files.next_file().map(|named| named.content) {
        Some(Content::Read { bytes, .. }) => Ok(bytes),
        Some(Content::Rejected(rejection)) => Err(rejection.to_string()),
        Some(Content::Failed(message)) => Err(message),
        None => Err(format!("{file} was not sent")),
    }
}

#[allow(clippy::too_many_arguments)]
fn import(
    services: &Services,
    actor: &Actor,
    table: Table,
    file: &str,
    dry_run: bool,
    json: bool,
    files: &mut dyn Files,
    console: &mut dyn Console,
) -> Result<u8, CommandError> {
    let csv = sent(file, files).map_err(|message| CommandError::Import {
        file: file.to_string(),
        message,
    })?;
    let progress = console.progress();
    let report = match admin::import(services, actor, table, &csv, dry_run, progress.as_ref()) {
        Ok(granted) => done(granted)?,
        Err(ServiceError::Import(crate::registry::import::ImportError::NoValidRows {
            rejected,
        })) => {
            for r in &rejected {
                console.err(&format!("line {}: {}", r.line, r.reason));
            }
            return Err(CommandError::NoValidRows {
                file: file.to_string(),
            });
        }
        Err(ServiceError::Import(e)) => {
            return Err(CommandError::Import {
                file: file.to_string(),
                message: e.to_string(),
            })
        }
        Err(e) => return Err(e.into()),
    };
    print_report(&report, json, console);
    Ok(if report.rejected.is_empty() {
        SUCCESS
    } else {
        FAILURE
    })
}

fn print_report(report: &ImportReport, json: bool, console: &mut dyn Console) {
    if json {
        console.out(&serde_json::to_string_pretty(report).expect("reports serialise"));
        return;
    }
    let what = if report.applied {
        ""
    } else {
        " (dry run: nothing changed)"
    };
    console.out(&format!(
        "{} added, {} changed, {} unchanged, {} rejected{what}",
        report.added,
        report.changed,
        report.unchanged,
        report.rejected.len()
    ));
    for r in &report.rejected {
        console.out(&format!("rejected line {}: {}", r.line, r.reason));
    }
    for note in &report.notes {
        console.out(&format!("note: {note}"));
    }
}

fn list_caseworkers(
    services: &Services,
    actor: &Actor,
    console: &mut dyn Console,
) -> Result<u8, CommandError> {
    let registry = services.registry()?;
    let today = crate::clock::today();
    for cw in admin::caseworkers(services, actor)? {
        let team = cw
            .team
            .as_deref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default();
        console.out(&format!("{}  {}{team}", cw.kennung, cw.name));
        for a in &cw.assignments {
            console.out(&format!("    {}: {}–{}", a.standort, a.von, a.bis));
        }
        if let Some(absence) = registry.absence_on(&cw.kennung, today) {
            console.out(&format!(
                "    absent {} to {}, deputy {}",
                absence.from, absence.to, absence.deputy
            ));
        }
    }
    Ok(SUCCESS)
}

fn list_postbox(
    services: &Services,
    actor: &Actor,
    postbox: &crate::model::PostboxId,
    all: bool,
    json: bool,
    console: &mut dyn Console,
) -> Result<u8, CommandError> {
    let items = postbox::list(services, actor, postbox, all)?;
    if json {
        for listed in &items {
            console.out(&serde_json::to_string(listed).expect("items serialise"));
        }
        return Ok(SUCCESS);
    }
    console.out(&format!("postbox {postbox}: {} item(s)", items.len()));
    for listed in &items {
        let i = &listed.item;
        let urgent = if i.urgent { "EILT " } else { "" };
        let bg = i.bg.as_ref().map_or("-".to_string(), |b| b.to_string());
        let deputy = listed
            .deputising_for
            .as_ref()
            .map(|k| format!("  (Vertretung für {k})"))
            .unwrap_or_default();
        let resubmit = i
            .resubmit_until
            .map(|d| format!("  Wiedervorlage {d}"))
            .unwrap_or_default();
        console.out(&format!(
            "#{}  {urgent}{:?}  {}  BG {bg}  {} / {}  document {}{resubmit}{deputy}",
            i.id, i.state, i.received_at, i.doc_type, i.schlagwort, i.document_id
        ));
    }
    Ok(SUCCESS)
}

fn explain(
    services: &Services,
    actor: &Actor,
    id: crate::model::DocumentId,
    json: bool,
    console: &mut dyn Console,
) -> Result<u8, CommandError> {
    let shown = read(services, actor, id, documents::Read::Route)?;
    let (doc, item) = (shown.document, shown.item);
    if json {
        let out = serde_json::json!({
            "document_id": id,
            "classification": doc.classification,
            "item": item,
        });
        console.out(&serde_json::to_string_pretty(&out).expect("routes serialise"));
        return Ok(SUCCESS);
    }
    console.out(&format!(
        "document {id} ({}, site {})",
        doc.original_name,
        doc.site.as_deref().unwrap_or("-")
    ));
    if let Some(c) = &doc.classification {
        console.out(&format!(
            "recipient: {}",
            describe_recognition(&c.recipient)
        ));
        console.out(&format!(
            "type:      {} (Schlagwort {})",
            c.doc_type, c.schlagwort
        ));
        for e in &c.type_evidence {
            console.out(&format!("           {e}"));
        }
        if let Some(reason) = &c.urgent_reason {
            console.out(&format!("urgent:    {reason}"));
        }
    }
    match &item {
        Some(item) => print_item(item, console),
        None => console.out("no postbox item (recorded before routing existed, or a duplicate)"),
    }
    Ok(SUCCESS)
}

fn print_item(item: &Item, console: &mut dyn Console) {
    console.out(&format!(
        "item {}: postbox {}, {:?}",
        item.id, item.postbox, item.state
    ));
    console.out(&format!("route:     {}", item.route.explanation));
    for event in &item.history {
        let by = event
            .by
            .as_ref()
            .map_or("eakte".to_string(), |k| k.to_string());
        let note = event
            .note
            .as_deref()
            .map(|n| format!(" — {n}"))
            .unwrap_or_default();
        console.out(&format!(
            "  {} {by}: {}{note}",
            event.at,
            serde_json::to_string(&event.action).unwrap_or_default()
        ));
    }
}

/// The recognition in one line.
pub fn describe_recognition(r: &Recognition) -> String {
    match r {
        Recognition::Identified {
            bg,
            method,
            matched,
            confidence,
            ..
        } => {
            format!("BG {bg} by {method:?} ({matched:?}, confidence {confidence:.2})")
        }
        Recognition::Ambiguous {
            candidates,
            evidence,
        } => {
            let list: Vec<&str> = candidates.iter().map(|c| c.as_str()).collect();
            format!("ambiguous: {} — {}", list.join(", "), evidence.join("; "))
        }
        Recognition::NotFound { evidence } => format!("not recognised — {}", evidence.join("; ")),
        Recognition::Assigned { bg, by, at } => format!("BG {bg}, assigned by {by} at {at}"),
    }
}

/// Every entry that touched `bg`, or every search that held the words of
/// `searched`, oldest first, page after page.
fn audit_entries(
    services: &Services,
    actor: &Actor,
    bg: Option<String>,
    searched: Option<String>,
    json: bool,
    console: &mut dyn Console,
) -> Result<u8, CommandError> {
    let bg = match bg {
        Some(typed) => Some(BgNummer::parse(&typed).ok_or_else(|| {
            ServiceError::BadRequest(format!("{typed:?} is not a BG number like 07450BG0160367"))
        })?),
        None => None,
    };
    let mut filter = crate::audit::Filter {
        bg,
        searched,
        limit: Some(trail::MAX_LIMIT),
        ..Default::default()
    };
    let mut found = 0;
    loop {
        let page = trail::entries(services, actor, &filter)?;
        for entry in &page {
            if json {
                console.out(&serde_json::to_string(entry).expect("entries serialise"));
            } else {
                let e = &entry.event;
                console.out(&format!(
                    "{}  #{}  {}  {}  {}  {}  {}",
                    entry.at,
                    entry.seq,
                    e.who,
                    e.role.as_deref().unwrap_or("-"),
                    e.action,
                    e.target,
                    e.outcome
                ));
            }
        }
        found += page.len();
        match page.last() {
            Some(last) if page.len() == trail::MAX_LIMIT => filter.after = Some(last.seq),
            _ => break,
        }
    }
    if !json {
        console.out(&format!("{found} entries"));
    }
    Ok(SUCCESS)
}

fn verify_audit(
    services: &Services,
    actor: &Actor,
    json: bool,
    anchor: Option<&[u8]>,
    console: &mut dyn Console,
) -> Result<u8, CommandError> {
    let v = trail::verify(services, actor, anchor)?;
    if json {
        console.out(&serde_json::to_string_pretty(&v).expect("verifications serialise"));
    } else {
        console.out(&format!("{} audit entries", v.entries));
        if let Some((seq, hash)) = &v.head {
            console.out(&format!("head: entry {seq}, {hash}"));
        }
        if let Some(anchors) = v.anchors {
            console.out(&format!("checked against {anchors} anchor(s)"));
        }
        for p in &v.problems {
            console.out(&format!("PROBLEM: {p}"));
        }
    }
    if !v.problems.is_empty() {
        if !json {
            return Err(CommandError::Tampered);
        }
        return Ok(FAILURE);
    }
    if !json {
        console.out("OK");
    }
    Ok(SUCCESS)
}
