//! An Akte handed over and taken over: the xdomea export (and the PDF of an
//! Akte) for whoever may read the Akte, the import for admins. Each is
//! recorded in the audit trail with its scope, the other authority and the
//! SHA-256 of the file that left or arrived.

use super::documents::{akte_target, visible_bg};
use super::{Actor, ServiceError, Services};
use crate::exchange::export::{self, Handover, Source};
use crate::exchange::package::{Limits, Package};
use crate::exchange::xdomea::{self, Authority, History, Member};
use crate::exchange::{ExchangeError, Scope, Uuid};
use crate::model::{BgNummer, Document, DocumentId, Role, Sha256};
use crate::pipeline::transfer::{self, Taken, TransferError};
use crate::pipeline::Pipeline;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Xdomea,
    Pdf,
}

#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub format: Format,
    pub scope: Scope,
    /// The authority receiving it (for a PDF: who it is for, e.g. the
    /// Sozialgericht).
    pub receiver: Authority,
    pub note: Option<String>,
}

impl ExportRequest {
    /// The request a query string makes (the API's, the command line's),
    /// read from its pairs (`schlagwort` repeats).
    pub fn from_query(query: &str) -> Result<ExportRequest, String> {
        let mut request = ExportRequest {
            format: Format::Xdomea,
            scope: Scope::default(),
            receiver: Authority::default(),
            note: None,
        };
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim().to_string();
            match key.as_ref() {
                "format" => {
                    request.format = match value.as_str() {
                        "xdomea" => Format::Xdomea,
                        "pdf" => Format::Pdf,
                        other => return Err(format!("format {other:?} is not xdomea or pdf")),
                    }
                }
                "from" => {
                    request.scope.from =
                        Some(crate::timefmt::day(&value).map_err(|e| e.to_string())?)
                }
                "to" => {
                    request.scope.to = Some(crate::timefmt::day(&value).map_err(|e| e.to_string())?)
                }
                "schlagwort" if !value.is_empty() => request.scope.schlagworte.push(value),
                "schlagwort" => {}
                "empfaenger" => request.receiver.name = value,
                "empfaenger_einheit" => request.receiver.unit = value,
                "empfaenger_praefix" => request.receiver.praefix = value,
                "empfaenger_schluessel" => request.receiver.schluessel = value,
                "hinweis" if !value.is_empty() => request.note = Some(value),
                "hinweis" => {}
                other => return Err(format!("unknown parameter {other:?}")),
            }
        }
        if let (Some(from), Some(to)) = (request.scope.from, request.scope.to) {
            if from > to {
                return Err(format!("from {from} is after to {to}"));
            }
        }
        Ok(request)
    }
}

/// A file made for export, in a scratch folder that goes when this does.
pub struct Exported {
    _scratch: tempfile::TempDir,
    pub path: PathBuf,
    /// The name to save it as.
    pub file_name: String,
    pub content_type: &'static str,
    pub sha256: Sha256,
    pub size: u64,
    pub documents: usize,
}

/// The sender of everything this jobcenter hands over.
pub fn this_jobcenter(services: &Services) -> Authority {
    let j = services.jobcenter();
    Authority {
        praefix: j.praefix.clone(),
        schluessel: j.schluessel.clone(),
        name: j.name.clone(),
        unit: j.unit.clone(),
    }
}

/// Export the Akte of `bg` (as typed) if `actor` may read it. Blocking.
pub fn export(
    services: &Services,
    actor: &Actor,
    bg: &str,
    request: ExportRequest,
) -> Result<Exported, ServiceError> {
    let format = request.format;
    let described = format!(
        "{} ({}) for {}",
        match format {
            Format::Xdomea => "xdomea 0401",
            Format::Pdf => "pdf",
        },
        request.scope.describe(),
        crate::untrusted::escaped(&request.receiver.name),
    );
    let detail = |done: Option<&Exported>| {
        Some(match done {
            Some(e) => format!(
                "{described}: {} documents, {} bytes, sha256 {}",
                e.documents, e.size, e.sha256
            ),
            None => described.clone(),
        })
    };
    services.audited(actor, "export_akte", akte_target(bg), detail, |ticket| {
        let bg = visible_bg(services, actor, bg, ticket)?;
        if request.receiver.name.trim().is_empty() {
            return Err(ServiceError::BadRequest(
                "name the authority that receives the Akte (empfaenger)".into(),
            ));
        }
        let store = services.store();
        let all = store.documents().of_bg(&bg)?;
        // An operator sees every BG: one that has neither people nor
        // documents is no Akte to hand over.
        if all.is_empty() && services.registry()?.members(&bg).next().is_none() {
            return Err(ServiceError::NotFound);
        }
        let documents: Vec<Document> = all
            .into_iter()
            .filter(|d| request.scope.includes(d))
            .collect();
        let count = documents.len();
        let scratch = store.blobs().scratch().map_err(io_error)?;
        // The PDF carries no history: only the xdomea message reads the trail.
        let handover = handover(services, &bg, documents, &request, format == Format::Xdomea)?;
        let (path, file_name, content_type) = match format {
            Format::Xdomea => {
                let (abgabe, files) = export::abgabe(handover, Uuid::random().map_err(io_error)?);
                let path = export::write_package(&abgabe, &files, scratch.path())
                    .map_err(|e| internal(format!("the export could not be written: {e}")))?;
                let name = xdomea::package_name(&abgabe.prozess);
                (path, name, "application/zip")
            }
            Format::Pdf => {
                let path = printed(services, actor, &bg, handover, &request, scratch.path())?;
                (path, format!("Akte_{bg}.pdf"), "application/pdf")
            }
        };
        let (sha256, size) = Sha256::of_file(&path).map_err(io_error)?;
        Ok(Exported {
            _scratch: scratch,
            path,
            file_name,
            content_type,
            sha256,
            size,
            documents: count,
        })
    })
}

/// eakte's own trouble: the caller is told to look at the log, where the
/// detail (paths, tool messages) goes.
fn internal(detail: String) -> ServiceError {
    io_error(std::io::Error::other(detail))
}

fn io_error(e: std::io::Error) -> ServiceError {
    ServiceError::Pipeline(crate::pipeline::PipelineError::Blob(e))
}

/// The Akte as one paginated PDF (see [`crate::exchange::pdf`]).
fn printed(
    services: &Services,
    actor: &Actor,
    bg: &BgNummer,
    handover: Handover,
    request: &ExportRequest,
    scratch: &Path,
) -> Result<PathBuf, ServiceError> {
    let registry = services.registry()?;
    let members = registry
        .members(bg)
        .map(|p| {
            format!(
                "{}, {} (geb. {})",
                p.nachname,
                p.vorname,
                crate::timefmt::german_day(p.geburtsdatum)
            )
        })
        .collect();
    let cover = crate::exchange::pdf::Cover {
        jobcenter: services.jobcenter().name.clone(),
        bg: bg.to_string(),
        members,
        exported_by: match actor.user() {
            Some(user) => format!("{} ({})", user.name, actor.history_name()),
            None => actor.history_name(),
        },
        at: crate::timefmt::german_time(crate::clock::now()),
        scope: request.scope.in_german(),
        receiver: request.receiver.name.clone(),
    };
    let mut entries: Vec<crate::exchange::pdf::Entry> = handover
        .documents
        .into_iter()
        .map(|s| crate::exchange::pdf::Entry {
            document: s.document,
            original: s.original,
        })
        .collect();
    entries.sort_by(|a, b| {
        (&a.document.received_at, a.document.id).cmp(&(&b.document.received_at, b.document.id))
    });
    crate::exchange::pdf::build(&cover, &entries, scratch, PDF_TIMEOUT)
        .map_err(|e| internal(format!("the PDF could not be made: {e}")))
}

/// How long making an Akte's PDF may take (a thousand pages take seconds).
const PDF_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// The documents of `bg` with their history, its members, the parties.
fn handover(
    services: &Services,
    bg: &BgNummer,
    documents: Vec<Document>,
    request: &ExportRequest,
    with_history: bool,
) -> Result<Handover, ServiceError> {
    let store = services.store();
    let registry = services.registry()?;
    let members = registry
        .members(bg)
        .map(|p| Member {
            vorname: p.vorname.clone(),
            nachname: p.nachname.clone(),
            geburtsdatum: Some(p.geburtsdatum.to_string()),
            strasse: p.strasse.clone(),
            plz: p.plz.clone(),
            ort: p.ort.clone(),
            kundennummer: Some(p.kundennummer.to_string()),
        })
        .collect();
    let mut reads = if with_history {
        audit_history(services, &documents)?
    } else {
        HashMap::new()
    };
    let mut sources = Vec::with_capacity(documents.len());
    for document in documents {
        let mut history = Vec::new();
        for arrival in document.arrivals.iter().filter(|_| with_history) {
            if let Some(a) = store.documents().arrival(*arrival)? {
                history.push(History {
                    by: match &a.site {
                        Some(site) => format!("Scanstelle {site}"),
                        None => "eakte".into(),
                    },
                    at: a.received_at.clone(),
                    action: "Eingang".into(),
                    note: Some(a.source.clone()),
                });
            }
        }
        if with_history {
            if let Some(item) = store.postboxes().item_of_document(document.id)? {
                history.extend(export::item_history(&item.history));
            }
        }
        history.extend(reads.remove(&document.id).unwrap_or_default());
        history.sort_by(|a, b| a.at.cmp(&b.at));
        sources.push(Source {
            original: store.blobs().path(&document.sha256),
            document,
            history,
        });
    }
    Ok(Handover {
        sender: this_jobcenter(services),
        receiver: request.receiver.clone(),
        note: request.note.clone(),
        bg: bg.to_string(),
        betreff: format!("Leistungsakte SGB II, BG {bg}"),
        members,
        documents: sources,
    })
}

/// Who read or filed each of `documents`, from the audit trail (one pass
/// over it; only what succeeded).
fn audit_history(
    services: &Services,
    documents: &[Document],
) -> Result<HashMap<DocumentId, Vec<History>>, ServiceError> {
    let wanted: std::collections::HashSet<DocumentId> = documents.iter().map(|d| d.id).collect();
    let mut out: HashMap<DocumentId, Vec<History>> = HashMap::new();
    for entry in services.store().audit().from(0) {
        let entry = entry?;
        let event = &entry.event;
        if event.outcome != "ok" {
            continue;
        }
        let Some(action) = export::audit_action(&event.action) else {
            continue;
        };
        let ids: Vec<DocumentId> = match event.target.strip_prefix("document ") {
            Some(id) => id.parse().ok().into_iter().collect(),
            None => event
                .detail
                .as_deref()
                .and_then(|d| d.strip_prefix("documents "))
                .map(|list| list.split(", ").filter_map(|id| id.parse().ok()).collect())
                .unwrap_or_default(),
        };
        for id in ids.into_iter().filter(|id| wanted.contains(id)) {
            out.entry(id).or_default().push(History {
                by: event.who.clone(),
                at: entry.at.clone(),
                action: action.into(),
                note: None,
            });
        }
    }
    Ok(out)
}

/// What an import took, and the receipt (0402) for the sender.
#[derive(Debug, serde::Serialize)]
pub struct Imported {
    pub prozess: String,
    pub sender: Authority,
    #[serde(flatten)]
    pub taken: Taken,
    /// The receipt's file name and its XML.
    pub receipt_name: String,
    pub receipt: String,
}

/// How much of a package an import reads at most: a large Akte's thousand
/// documents, each as large as a scan may be.
fn limits(services: &Services) -> Limits {
    Limits {
        max_entries: 20_000,
        max_entry_bytes: services.max_file_bytes(),
        max_total_bytes: 16 * 1024 * 1024 * 1024,
    }
}

/// The largest message read (its XML; the originals are files beside it).
const MAX_MESSAGE_BYTES: u64 = 64 * 1024 * 1024;

/// Take the xdomea package at `package` (as received: `sha256`) into the
/// store through `pipeline`, if `actor` may import. Blocking.
pub fn import(
    services: &Services,
    pipeline: &Pipeline,
    actor: &Actor,
    package: &Path,
) -> Result<Imported, ServiceError> {
    let (sha256, size) = Sha256::of_file(package).map_err(io_error)?;
    let described = format!("xdomea package of {size} bytes, sha256 {sha256}");
    let detail = |done: Option<&Imported>| {
        Some(match done {
            Some(i) => format!(
                "{described}: process {} from {}, {} documents{}",
                i.prozess,
                crate::untrusted::escaped(&i.sender.name),
                i.taken.documents.len(),
                if i.taken.already {
                    ", taken before: nothing changed"
                } else {
                    ""
                }
            ),
            None => described.clone(),
        })
    };
    services.audited(
        actor,
        "import_akte",
        "xdomea import".into(),
        detail,
        |ticket| {
            actor.require(&[Role::Admin])?;
            let Opened {
                mut zip,
                abgabe,
                message,
            } = open(services, package)?;
            // The BG is named in the entry, found as the import will find it.
            let registry = services.registry()?;
            if let Some(bg) = transfer::recipient_of(&abgabe, &registry).0.bg() {
                ticket.concerns(bg);
            }
            let events = ticket.events(Some(format!(
                "{described}: process {} from {}, {} documents",
                abgabe.prozess,
                crate::untrusted::escaped(&abgabe.sender.name),
                abgabe.documents().count()
            )));
            let mut read = |name: &str| zip.read(name);
            let taken = transfer::take(
                pipeline,
                &abgabe,
                &message,
                &mut read,
                &actor.history_name(),
                &events,
            )
            .map_err(|e| match e {
                TransferError::Package(e) => refused(e),
                TransferError::Pipeline(e) => ServiceError::Pipeline(e),
            })?;
            let us = this_jobcenter(services);
            let mut receipt = Vec::new();
            xdomea::receipt::write(
                &abgabe.prozess,
                &us,
                &abgabe.sender,
                &xdomea::receipt::objects(&abgabe),
                None,
                &mut receipt,
            )
            .map_err(io_error)?;
            Ok(Imported {
                prozess: abgabe.prozess.to_string(),
                receipt_name: xdomea::receipt::file_name(&abgabe.prozess),
                receipt: String::from_utf8_lossy(&receipt).into_owned(),
                sender: abgabe.sender,
                taken,
            })
        },
    )
}

/// A package opened and its message read and checked against the schema.
struct Opened {
    zip: Package<std::fs::File>,
    abgabe: xdomea::Abgabe,
    message: Vec<u8>,
}

fn refused(e: ExchangeError) -> ServiceError {
    ServiceError::Invalid(format!("{e}; nothing was changed"))
}

fn open(services: &Services, package: &Path) -> Result<Opened, ServiceError> {
    let file = std::fs::File::open(package).map_err(io_error)?;
    let mut zip = Package::open(file, limits(services)).map_err(refused)?;
    let (prozess_named, message_name) = message_of(&zip.names()).map_err(refused)?;
    let message = zip.read(&message_name).map_err(refused)?;
    if message.len() as u64 > MAX_MESSAGE_BYTES {
        return Err(refused(ExchangeError::TooLarge {
            name: message_name,
            max: MAX_MESSAGE_BYTES,
        }));
    }
    let scratch = services.store().blobs().scratch().map_err(io_error)?;
    let on_disk = scratch.path().join("message.xml");
    std::fs::write(&on_disk, &message).map_err(io_error)?;
    match xdomea::schema::validate(&on_disk, scratch.path()) {
        Ok(()) => {}
        Err(e @ xdomea::schema::SchemaError::Invalid(_)) => return Err(refused(e.into())),
        Err(e) => return Err(internal(e.to_string())),
    }
    let abgabe = xdomea::read::read(&message).map_err(refused)?;
    let documents = abgabe.documents().count();
    if documents > limits(services).max_entries {
        return Err(refused(ExchangeError::TooManyEntries {
            found: documents,
            max: limits(services).max_entries,
        }));
    }
    if abgabe.prozess.to_string() != prozess_named.to_ascii_lowercase() {
        return Err(refused(ExchangeError::WrongProcess {
            named: prozess_named,
            inside: abgabe.prozess.to_string(),
        }));
    }
    Ok(Opened {
        zip,
        abgabe,
        message,
    })
}

/// What a package holds, shown before it is taken (the admin's import page).
#[derive(Debug, serde::Serialize)]
pub struct Preview {
    pub prozess: String,
    pub sender: Authority,
    pub created_at: String,
    pub kennzeichen: String,
    pub betreff: String,
    /// "Nachname, Vorname (geb. …)".
    pub members: Vec<String>,
    /// Schlagwort and number of documents.
    pub vorgaenge: Vec<(String, usize)>,
    pub documents: usize,
    pub bytes: u64,
    pub note: Option<String>,
    /// Whether a BG here fits (its number is not shown: an admin sees no
    /// social data of this jobcenter), or why it would go to clearing.
    pub known: bool,
    pub clearing: Option<String>,
    pub postbox: String,
    pub taken_before: bool,
}

/// Open the package at `package` and say what it holds and where it would
/// go, checking every file against the message (nothing is stored).
/// Blocking.
pub fn preview(
    services: &Services,
    actor: &Actor,
    package: &Path,
) -> Result<Preview, ServiceError> {
    let (sha256, size) = Sha256::of_file(package).map_err(io_error)?;
    let described = format!("xdomea package of {size} bytes, sha256 {sha256}");
    let detail = |_: Option<&Preview>| Some(described.clone());
    services.audited(
        actor,
        "preview_akte_import",
        "xdomea import".into(),
        detail,
        |ticket| {
            actor.require(&[Role::Admin])?;
            let Opened {
                mut zip, abgabe, ..
            } = open(services, package)?;
            for d in abgabe.documents() {
                let bytes = zip.read(&d.file.name).map_err(refused)?;
                if let Some(expected) = &d.file.sha256 {
                    let found = Sha256::of(&bytes);
                    if expected != found.as_str() {
                        return Err(refused(ExchangeError::Checksum {
                            name: d.file.name.clone(),
                            expected: expected.clone(),
                            found: found.to_string(),
                        }));
                    }
                }
            }
            let registry = services.registry()?;
            let (recipient, route) = transfer::recipient_of(&abgabe, &registry);
            if let Some(bg) = recipient.bg() {
                ticket.concerns(bg);
            }
            let a = &abgabe.akte;
            let born = |m: &Member| {
                m.geburtsdatum
                    .as_deref()
                    .and_then(crate::timefmt::parse_date)
            };
            Ok(Preview {
                prozess: abgabe.prozess.to_string(),
                created_at: abgabe.created_at.clone(),
                kennzeichen: a.kennzeichen.clone(),
                betreff: a.betreff.clone(),
                members: a
                    .members
                    .iter()
                    .map(|m| match born(m) {
                        Some(day) => format!(
                            "{}, {} (geb. {})",
                            m.nachname,
                            m.vorname,
                            crate::timefmt::german_day(day)
                        ),
                        None => format!("{}, {}", m.nachname, m.vorname),
                    })
                    .collect(),
                vorgaenge: a
                    .vorgaenge
                    .iter()
                    .map(|v| {
                        let n = v.dokumente.iter().map(|d| 1 + d.anlagen.len()).sum();
                        (v.schlagwort.clone(), n)
                    })
                    .collect(),
                documents: abgabe.documents().count(),
                bytes: size,
                note: abgabe.note.clone(),
                known: recipient.bg().is_some(),
                clearing: route.clearing.as_ref().map(|_| route.explanation.clone()),
                postbox: route.postbox.to_string(),
                taken_before: transfer::taken_before(services.store(), &abgabe)?,
                sender: abgabe.sender,
            })
        },
    )
}

/// The one message of a package: `<ProzessID>_Abgabe.Abgabe.0401.xml`.
fn message_of(names: &[String]) -> Result<(String, String), ExchangeError> {
    let suffix = format!("_{}.xml", xdomea::ABGABE);
    let found: Vec<&String> = names.iter().filter(|n| n.ends_with(&suffix)).collect();
    match found.as_slice() {
        [] => Err(ExchangeError::NoMessage),
        [one] => Ok((one[..one.len() - suffix.len()].to_string(), one.to_string())),
        several => Err(ExchangeError::SeveralMessages(
            several
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}
