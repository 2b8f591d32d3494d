//! An Akte as it leaves: its documents (within a [`Scope`]) grouped into an
//! [`Abgabe`] with stable UUIDs and their history, and the package written
//! file by file (the message first checked against the schema). The caller
//! reads the store; nothing here knows where documents live.

use super::package::Writer;
use super::xdomea::{
    self, Abgabe, Akte, Authority, Dokument, File, Format, History, Member, Vorgang,
};
use super::{ExchangeError, Uuid};
use crate::model::{Action, Document, FileKind, HistoryEvent, PostboxId};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

/// One document to hand over, with what happened to it.
pub struct Source {
    pub document: Document,
    /// Who did what when, oldest first.
    pub history: Vec<History>,
    /// Where its original is.
    pub original: PathBuf,
}

/// What goes into one message.
pub struct Handover {
    pub sender: Authority,
    pub receiver: Authority,
    pub note: Option<String>,
    pub bg: String,
    pub betreff: String,
    pub members: Vec<Member>,
    pub documents: Vec<Source>,
}

/// The key objects get their stable UUIDs under: the sender's Behördenkennung.
fn issuer(sender: &Authority) -> String {
    format!("{}:{}:{}", sender.praefix, sender.schluessel, sender.name)
}

/// The format a stored document travels as.
pub fn format_of(kind: FileKind) -> Format {
    match kind {
        FileKind::Pdf => Format::Pdf,
        FileKind::Tiff => Format::Tiff,
        FileKind::Png => Format::Png,
        FileKind::Jpeg => Format::Jpeg,
        FileKind::Eml => Format::Eml,
        FileKind::Text => Format::Text,
        FileKind::Other => Format::Other,
    }
}

/// The message for `handover`, and the package entry of each original.
pub fn abgabe(handover: Handover, prozess: Uuid) -> (Abgabe, Vec<(String, PathBuf)>) {
    let Handover {
        sender,
        receiver,
        note,
        bg,
        betreff,
        members,
        documents,
    } = handover;
    let issuer = issuer(&sender);
    // An e-mail's attachments travel as its Anlagen, not on their own.
    let ids: HashSet<_> = documents.iter().map(|s| s.document.id).collect();
    let nested: HashSet<_> = documents
        .iter()
        .flat_map(|s| s.document.attachments.iter().copied())
        .filter(|id| ids.contains(id))
        .collect();
    let mut by_id: HashMap<_, Source> = documents.into_iter().map(|s| (s.document.id, s)).collect();
    let mut files = Vec::new();
    let mut days: Vec<String> = Vec::new();
    let mut one = |source: Source, files: &mut Vec<(String, PathBuf)>| {
        let d = &source.document;
        let uuid = Uuid::stable(&issuer, "dokument", &d.id.to_string());
        let format = format_of(d.kind);
        let name = format!(
            "{}_{}.{}",
            Uuid::stable(&issuer, "datei", &d.id.to_string()),
            safe_stem(&d.original_name),
            format.extension()
        );
        files.push((name.clone(), source.original.clone()));
        days.extend(xdomea::write::german_day(&d.received_at));
        Dokument {
            id: uuid,
            betreff: d.original_name.clone(),
            received_at: d.received_at.clone(),
            doc_type: d
                .classification
                .as_ref()
                .map(|c| c.doc_type.clone())
                .unwrap_or_default(),
            file: File {
                name,
                original_name: d.original_name.clone(),
                format,
                sha256: Some(d.sha256.to_string()),
            },
            history: source.history,
            anlagen: Vec::new(),
        }
    };
    let mut order: Vec<_> = by_id
        .values()
        .filter(|s| !nested.contains(&s.document.id))
        .map(|s| (s.document.received_at.clone(), s.document.id))
        .collect();
    order.sort();
    let mut groups: BTreeMap<String, Vec<Dokument>> = BTreeMap::new();
    for (_, id) in order {
        let Some(source) = by_id.remove(&id) else {
            continue;
        };
        let schlagwort = source
            .document
            .classification
            .as_ref()
            .map(|c| c.schlagwort.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "Allgemein".into());
        let attachments = source.document.attachments.clone();
        let mut dokument = one(source, &mut files);
        let mut seen = HashSet::new();
        for a in attachments {
            if !seen.insert(a) {
                continue;
            }
            if let Some(attachment) = by_id.remove(&a) {
                dokument.anlagen.push(one(attachment, &mut files));
            }
        }
        groups.entry(schlagwort).or_default().push(dokument);
    }
    days.sort();
    let vorgaenge = groups
        .into_iter()
        .map(|(schlagwort, dokumente)| Vorgang {
            id: Uuid::stable(&issuer, "vorgang", &format!("{bg}/{schlagwort}")),
            schlagwort,
            dokumente,
        })
        .collect();
    let abgabe = Abgabe {
        prozess,
        created_at: crate::clock::now_rfc3339(),
        system: Some(format!("eakte {}", env!("CARGO_PKG_VERSION"))),
        note,
        akte: Akte {
            id: Uuid::stable(&issuer, "akte", &bg),
            kennzeichen: bg,
            betreff,
            begins: days.first().cloned(),
            ends: days.last().cloned(),
            members,
            vorgaenge,
        },
        sender,
        receiver,
    };
    (abgabe, files)
}

/// Write the package of `abgabe` into `dir` (a private temporary
/// directory): the message, checked against the schema, then every
/// original. Returns the package's path.
pub fn write_package(
    abgabe: &Abgabe,
    files: &[(String, PathBuf)],
    dir: &Path,
) -> Result<PathBuf, ExportError> {
    let message = dir.join(xdomea::message_name(&abgabe.prozess));
    xdomea::write::write(abgabe, std::fs::File::create(&message)?)?;
    xdomea::schema::validate(&message, dir).map_err(ExchangeError::from)?;
    let path = dir.join(xdomea::package_name(&abgabe.prozess));
    let mut zip = Writer::new(std::fs::File::create(&path)?);
    zip.entry_from_file(&xdomea::message_name(&abgabe.prozess), true, &message)?;
    for (name, original) in files {
        let compress = name.ends_with(".eml") || name.ends_with(".txt");
        zip.entry_from_file(name, compress, original)?;
    }
    let file = zip.finish()?;
    file.sync_all()?;
    std::fs::remove_file(&message)?;
    Ok(path)
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing the package failed: {0}")]
    Io(#[from] io::Error),
    /// eakte wrote a message the schema refuses: a bug, said as such.
    #[error("eakte's own message failed the schema check: {0}")]
    Invalid(#[from] ExchangeError),
}

/// A file name's stem as the package names files: ASCII letters, digits,
/// `-` and `_`, umlauts spelled out, at most 60 characters.
fn safe_stem(name: &str) -> String {
    let stem = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 5 => stem,
        _ => name,
    };
    let mut out = String::new();
    for c in stem.chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'Ä' => out.push_str("Ae"),
            'Ö' => out.push_str("Oe"),
            'Ü' => out.push_str("Ue"),
            'ß' => out.push_str("ss"),
            c if c.is_ascii_alphanumeric() || c == '-' || c == '_' => out.push(c),
            _ => out.push('_'),
        }
    }
    let out: String = out.chars().take(60).collect();
    if out.trim_matches('_').is_empty() {
        "Dokument".into()
    } else {
        out
    }
}

/// A postbox item's history as the receiver reads it (German, the words
/// of the Postkorb).
pub fn item_history(events: &[HistoryEvent]) -> Vec<History> {
    events
        .iter()
        .map(|e| {
            let (action, note) = match &e.action {
                Action::Routed { to, explanation } => (
                    format!("zugestellt an {}", postbox(to)),
                    Some(explanation.clone()),
                ),
                Action::Started => ("in Bearbeitung".into(), None),
                Action::Done => ("zdA".into(), None),
                Action::Forwarded { from, to } => (
                    format!("weitergeleitet von {} an {}", postbox(from), postbox(to)),
                    None,
                ),
                Action::Resubmitted { until } => (
                    format!("Wiedervorlage bis {}", crate::timefmt::german_day(*until)),
                    None,
                ),
                Action::Corrected {
                    changes, from, to, ..
                } => (
                    format!(
                        "korrigiert ({}), {} an {}",
                        changes.join(", "),
                        postbox(from),
                        postbox(to)
                    ),
                    None,
                ),
            };
            History {
                by: e.by.clone().unwrap_or_else(|| "eakte".into()),
                at: e.at.clone(),
                action,
                note: e.note.clone().or(note),
            }
        })
        .collect()
}

fn postbox(p: &PostboxId) -> String {
    match p {
        PostboxId::Caseworker(k) => format!("Postkorb {k}"),
        PostboxId::Clearing { site: Some(site) } => format!("Klärungsstelle {site}"),
        PostboxId::Clearing { site: None } => "Klärungsstelle".into(),
    }
}

/// What an audit action says to the receiver; `None` for what is not part
/// of a document's history (searches, refusals).
pub fn audit_action(action: &str) -> Option<&'static str> {
    Some(match action {
        "read_document" => "Metadaten gelesen",
        "read_text" => "Text gelesen",
        "download_original" => "Original geöffnet",
        "read_page_image" => "Seite angesehen",
        "read_route" => "Zuordnung angesehen",
        "file_document" => "abgelegt",
        "export_akte" => "abgegeben",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_file_names_are_plain_ascii() {
        assert_eq!(
            safe_stem("Kontoauszüge Dezember.eml"),
            "Kontoauszuege_Dezember"
        );
        assert_eq!(safe_stem("../../etc/passwd"), "______etc_passwd");
        assert_eq!(safe_stem("???.pdf"), "Dokument");
        assert_eq!(safe_stem(&"x".repeat(100)).len(), 60);
    }
}
