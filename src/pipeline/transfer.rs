//! An Akte taken over from another authority (an xdomea Abgabe, see
//! [`crate::exchange`]): every document stored bit-exact with its
//! Eingangsdatum, Schlagwort and type, read for the index, and filed into the
//! BG the registry knows for its people, or, when it knows none or several,
//! left for the clearing office. The message itself is stored too, as the
//! document of the one postbox item "Akte übernommen" that tells the
//! responsible caseworker (or clearing) about the whole Akte, with every
//! document taken as its attachment.
//!
//! All or nothing: every original is checked (its SHA-256, when the sender
//! gave one) and written to the blob store first; the documents, the item and
//! the audit entry are then recorded in one transaction. A crash before it
//! leaves blobs nobody points to (the store's check reports them, a new
//! import reuses them) and no record; after it, everything. The message's
//! ProzessID is its key: taking the same message again changes nothing.

use super::arrival::Origin;
use super::upload::{content_key, email_text, text_page};
use super::{Failpoints, Pipeline, PipelineError};
use crate::exchange::xdomea::{Abgabe, Format};
use crate::exchange::ExchangeError;
use crate::extract::{sniff, ExtractError, Sniffed};
use crate::model::{
    AuditEvent, BgNummer, Classification, DocumentId, FileKind, Item, ItemId, Page, PostboxId,
    Recognition, Sha256,
};
use crate::store::{NewDocument, Recording};

const IMPORT: Failpoints = Failpoints {
    after_blobs: "after-import-blobs",
    after_record: "after-import-store",
};

/// The type and Schlagwort of the message's own document.
pub const TAKEOVER_TYPE: &str = "Aktenübernahme";

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(transparent)]
    Package(#[from] ExchangeError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

impl From<crate::store::StoreError> for TransferError {
    fn from(e: crate::store::StoreError) -> TransferError {
        TransferError::Pipeline(e.into())
    }
}

/// What an import took.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Taken {
    /// The stored message, the item's document.
    pub message_document: DocumentId,
    /// The documents taken, in the message's order.
    pub documents: Vec<DocumentId>,
    pub bg: Option<BgNummer>,
    /// Where the item "Akte übernommen" went.
    pub postbox: PostboxId,
    pub item: Option<ItemId>,
    /// Why it went to clearing, if it did.
    pub clearing: Option<String>,
    /// The message had been taken before; nothing was changed.
    pub already: bool,
}

/// The key of a message's own document: its ProzessID.
fn message_key(abgabe: &Abgabe) -> String {
    format!("xdomea {}", abgabe.prozess)
}

/// A document read from the package, its original durable in the blob store.
struct Part {
    name: String,
    received_at: String,
    sha: Sha256,
    size: u64,
    kind: FileKind,
    pages: Vec<Page>,
    doc_type: String,
    schlagwort: String,
    /// For an Anlage: the position of its e-mail among the parts.
    anlage_of: Option<usize>,
}

/// Take `abgabe` (its message `message` as received) with its files, read
/// by `file` one at a time; `audit` is recorded with it. Blocking (reads
/// and OCRs every document).
pub fn take(
    pipeline: &Pipeline,
    abgabe: &Abgabe,
    message: &[u8],
    file: &mut dyn FnMut(&str) -> Result<Vec<u8>, ExchangeError>,
    by: &str,
    audit: &[AuditEvent],
) -> Result<Taken, TransferError> {
    let store = pipeline.store();
    // One import of a message at a time: a second (a double click, a
    // client's retry) waits, then finds the first one's result.
    let message_sha = Sha256::of(message);
    let _only_one_at_a_time = pipeline.in_flight.enter(&message_sha);
    if let Some(taken) = earlier(pipeline, abgabe)? {
        // Nothing changes; the repeat is recorded all the same.
        store
            .documents()
            .record(&[], audit, crate::store::Durability::Flushed)?;
        return Ok(taken);
    }
    let registry = pipeline.registry()?;
    let parts = read_parts(pipeline, abgabe, file)?;
    store
        .blobs()
        .put(&message_sha, message)
        .map_err(PipelineError::Blob)?;
    let (recipient, route) = recipient_of(abgabe, &registry);
    let bg = recipient.bg().cloned();
    let clearing = route.clearing.as_ref().map(|_| route.explanation.clone());
    let postbox = route.postbox.clone();
    let source = format!(
        "xdomea {} from {}, taken by {by}",
        abgabe.prozess,
        crate::untrusted::escaped(&abgabe.sender.name)
    );
    let key = |sha: &Sha256| match &bg {
        Some(bg) => content_key(sha, bg),
        // Not in any Akte yet: these bytes of this message.
        None => format!("{sha}@xdomea {}", abgabe.prozess),
    };
    let documents = store.documents();
    // Each e-mail's Anlagen are recorded right before it, so that it can
    // list them.
    let order = order_of(&parts);
    let mut position = vec![0; parts.len()];
    for (at, &part) in order.iter().enumerate() {
        position[part] = at;
    }
    let make = || -> Result<Vec<Recording>, PipelineError> {
        let mut batch = Vec::with_capacity(parts.len() + 1);
        for &p in &order {
            let part = &parts[p];
            let mut classification = classification_of(pipeline, part, &recipient);
            classification.schlagwort = part.schlagwort.clone();
            let origin = Origin {
                id: documents.new_arrival_id()?,
                name: part.name.clone(),
                site: None,
                source: source.clone(),
            };
            batch.push(Recording {
                arrival: origin.arrived(part.received_at.clone()),
                key: key(&part.sha),
                document: Some(NewDocument {
                    id: documents.new_id()?,
                    sha256: part.sha.clone(),
                    size: part.size,
                    kind: part.kind,
                    pages: part.pages.clone(),
                    classification: Some(classification),
                    item: None,
                    batch: None,
                    parts_in_batch: Vec::new(),
                    opened_with: None,
                    attachments_in_batch: parts
                        .iter()
                        .enumerate()
                        .filter(|(_, q)| q.anlage_of == Some(p))
                        .map(|(j, _)| position[j])
                        .collect(),
                }),
            });
        }
        let at = crate::clock::now_rfc3339();
        let mut classification = crate::classify::unclassified();
        classification.recipient = recipient.clone();
        classification.doc_type = TAKEOVER_TYPE.into();
        classification.schlagwort = TAKEOVER_TYPE.into();
        classification.type_evidence = vec![format!("xdomea Abgabe {}", abgabe.prozess)];
        let id = documents.new_id()?;
        let mut item = Item::routed(
            ItemId(store.generate_id()?),
            id,
            &at,
            Some(&classification),
            route.clone(),
        );
        item.doc_type = "Akte übernommen".into();
        let summary = summary(abgabe, parts.len());
        let origin = Origin {
            id: documents.new_arrival_id()?,
            name: crate::exchange::xdomea::message_name(&abgabe.prozess),
            site: None,
            source: source.clone(),
        };
        let top_level: Vec<usize> = (0..batch.len())
            .filter(|&at| parts[order[at]].anlage_of.is_none())
            .collect();
        batch.push(Recording {
            arrival: origin.arrived(at),
            key: message_key(abgabe),
            document: Some(NewDocument {
                id,
                sha256: message_sha.clone(),
                size: message.len() as u64,
                kind: FileKind::Other,
                pages: vec![text_page(&summary)],
                classification: Some(classification),
                item: Some(item),
                batch: None,
                parts_in_batch: Vec::new(),
                opened_with: None,
                attachments_in_batch: top_level,
            }),
        });
        Ok(batch)
    };
    let recorded = pipeline.record(&[], make, audit, IMPORT)?;
    let (message_recorded, documents_recorded) =
        recorded.split_last().expect("the message is recorded");
    let mut taken_ids = vec![DocumentId(0); parts.len()];
    for (at, r) in documents_recorded.iter().enumerate() {
        taken_ids[order[at]] = r.document_id();
    }
    let item = store
        .postboxes()
        .item_of_document(message_recorded.document_id())?;
    Ok(Taken {
        message_document: message_recorded.document_id(),
        documents: taken_ids,
        bg,
        postbox,
        item: item.map(|i| i.id),
        clearing,
        already: false,
    })
}

/// Whose Akte `abgabe` is here, and where its item goes.
pub fn recipient_of(
    abgabe: &Abgabe,
    registry: &crate::registry::Registry,
) -> (Recognition, crate::model::Route) {
    let people: Vec<crate::classify::akte::Named<'_>> = abgabe
        .akte
        .members
        .iter()
        .map(|m| crate::classify::akte::Named {
            kundennummer: m.kundennummer.as_deref(),
            nachname: &m.nachname,
            vorname: &m.vorname,
            geburtsdatum: m
                .geburtsdatum
                .as_deref()
                .and_then(crate::timefmt::parse_date),
        })
        .collect();
    let recipient = crate::classify::akte::recognise(&abgabe.akte.kennzeichen, &people, registry);
    let route = crate::route::route(&recipient, None, registry, crate::clock::today());
    (recipient, route)
}

/// Whether the message `abgabe` was taken before (its ProzessID is known).
pub fn taken_before(
    store: &crate::store::Store,
    abgabe: &Abgabe,
) -> Result<bool, crate::store::StoreError> {
    Ok(store.documents().by_key(&message_key(abgabe))?.is_some())
}

/// The parts in recording order: each e-mail's Anlagen right before it (so
/// that the e-mail can list them), otherwise as in the message.
fn order_of(parts: &[Part]) -> Vec<usize> {
    let mut order = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        if part.anlage_of.is_some() {
            continue;
        }
        order.extend(
            parts
                .iter()
                .enumerate()
                .filter(|(_, p)| p.anlage_of == Some(i))
                .map(|(j, _)| j),
        );
        order.push(i);
    }
    order
}

/// What an earlier import of the message `abgabe` took, if one did.
pub fn earlier(pipeline: &Pipeline, abgabe: &Abgabe) -> Result<Option<Taken>, TransferError> {
    let store = pipeline.store();
    let Some(id) = store.documents().by_key(&message_key(abgabe))? else {
        return Ok(None);
    };
    let document = store
        .documents()
        .get(id)?
        .ok_or(crate::store::StoreError::Inconsistent {
            tree: "documents",
            detail: format!("the key of message document {id} points nowhere"),
        })?;
    let item = store.postboxes().item_of_document(id)?;
    let bg = document
        .classification
        .as_ref()
        .and_then(|c| c.bg().cloned());
    Ok(Some(Taken {
        message_document: id,
        documents: document.attachments.clone(),
        bg,
        postbox: item
            .as_ref()
            .map(|i| i.postbox.clone())
            .unwrap_or(PostboxId::Clearing { site: None }),
        item: item.map(|i| i.id),
        clearing: None,
        already: true,
    }))
}

/// Read every document of `abgabe` from the package, check it and write
/// its original to the blob store, one at a time (an Akte is never in
/// memory whole).
fn read_parts(
    pipeline: &Pipeline,
    abgabe: &Abgabe,
    file: &mut dyn FnMut(&str) -> Result<Vec<u8>, ExchangeError>,
) -> Result<Vec<Part>, TransferError> {
    let mut parts = Vec::new();
    for vorgang in &abgabe.akte.vorgaenge {
        for dokument in &vorgang.dokumente {
            let mail = parts.len();
            let schlagwort = schlagwort_of(&vorgang.schlagwort);
            parts.push(read_part(pipeline, dokument, &schlagwort, None, file)?);
            for anlage in &dokument.anlagen {
                parts.push(read_part(pipeline, anlage, &schlagwort, Some(mail), file)?);
            }
        }
    }
    Ok(parts)
}

/// A Schlagwort as eakte keeps them: 1 to 100 characters.
fn schlagwort_of(betreff: &str) -> String {
    let s: String = betreff.trim().chars().take(100).collect();
    if s.is_empty() {
        "Allgemein".into()
    } else {
        s
    }
}

fn read_part(
    pipeline: &Pipeline,
    d: &crate::exchange::xdomea::Dokument,
    schlagwort: &str,
    anlage_of: Option<usize>,
    file: &mut dyn FnMut(&str) -> Result<Vec<u8>, ExchangeError>,
) -> Result<Part, TransferError> {
    let bytes = file(&d.file.name)?;
    let sha = Sha256::of(&bytes);
    if let Some(expected) = &d.file.sha256 {
        if expected != sha.as_str() {
            return Err(ExchangeError::Checksum {
                name: d.file.name.clone(),
                expected: expected.clone(),
                found: sha.to_string(),
            }
            .into());
        }
    }
    let (kind, pages) = read_content(pipeline, d.file.format, &bytes)?;
    pipeline
        .store()
        .blobs()
        .put(&sha, &bytes)
        .map_err(PipelineError::Blob)?;
    Ok(Part {
        name: d.file.original_name.clone(),
        received_at: d.received_at.clone(),
        size: bytes.len() as u64,
        sha,
        kind,
        pages,
        doc_type: d.doc_type.clone(),
        schlagwort: schlagwort.to_string(),
        anlage_of,
    })
}

/// What eakte makes of a file of `format`: scans and PDFs are read (in a
/// child process: the file comes from outside), e-mails and notes as text;
/// what it cannot read is kept without text, as an unreadable attachment is.
fn read_content(
    pipeline: &Pipeline,
    format: Format,
    bytes: &[u8],
) -> Result<(FileKind, Vec<Page>), TransferError> {
    if let Sniffed::Accepted(kind) = sniff(bytes) {
        return match pipeline.extractor().extract_isolated(bytes) {
            Ok(extracted) => Ok((kind, extracted.pages)),
            Err(ExtractError::Rejected(_)) => Ok((FileKind::Other, Vec::new())),
            Err(ExtractError::Environment(e)) => Err(PipelineError::from(e).into()),
        };
    }
    Ok(match format {
        Format::Eml => match email_text(bytes) {
            Some(text) => (FileKind::Eml, vec![text_page(&text)]),
            None => (FileKind::Other, Vec::new()),
        },
        Format::Text => match std::str::from_utf8(bytes) {
            Ok(text) if !text.trim().is_empty() => (FileKind::Text, vec![text_page(text)]),
            _ => (FileKind::Other, Vec::new()),
        },
        _ => (FileKind::Other, Vec::new()),
    })
}

/// A taken document's classification: the Akte's recipient; the sender's
/// type if eakte has it, else the type eakte's rules read from its text.
fn classification_of(pipeline: &Pipeline, part: &Part, recipient: &Recognition) -> Classification {
    let mut classification = crate::classify::unclassified();
    let rules = pipeline.rules();
    match rules.by_name(&part.doc_type) {
        Some(t) => t.assign_to(&mut classification, vec!["Typ beim Absender".into()]),
        None => {
            let typed = rules.classify(&crate::model::pages_text(&part.pages));
            let mut evidence = vec![format!("Typ beim Absender: {:?}", part.doc_type)];
            evidence.extend(typed.evidence.iter().map(|e| e.to_string()));
            typed.doc_type.assign_to(&mut classification, evidence);
        }
    }
    // Taken as it was filed there: no letter to act on by itself.
    classification.urgent = false;
    classification.urgent_reason = None;
    classification.recipient = recipient.clone();
    classification
}

/// The German text of the message's document: what was taken from whom.
fn summary(abgabe: &Abgabe, documents: usize) -> String {
    let a = &abgabe.akte;
    let mut text = format!(
        "Akte übernommen\n\nAbgebende Stelle: {}{}\nAkte: {} ({})\nDokumente: {documents}\nVorgänge: {}\nProzess-ID: {}\n",
        abgabe.sender.name,
        if abgabe.sender.unit.is_empty() { String::new() } else { format!(", {}", abgabe.sender.unit) },
        a.kennzeichen,
        a.betreff,
        a.vorgaenge.iter().map(|v| v.schlagwort.as_str()).collect::<Vec<_>>().join(", "),
        abgabe.prozess,
    );
    for m in &a.members {
        text.push_str(&format!(
            "Person: {}, {}{}\n",
            m.nachname,
            m.vorname,
            m.geburtsdatum
                .as_deref()
                .map(|d| format!(", geboren {d}"))
                .unwrap_or_default()
        ));
    }
    if let Some(note) = &abgabe.note {
        text.push_str(&format!("Hinweis: {note}\n"));
    }
    text
}
