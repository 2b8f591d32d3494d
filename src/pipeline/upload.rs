//! Filing documents into an Akte directly (through the API): e-mails with their
//! attachments, born-digital PDFs (Bescheide) and notes (Vermerke).
//!
//! Unlike scans, these arrive with their BG and Schlagwort given by the caseworker
//! who files them, so they get no postbox item. Each becomes a stored document
//! like any other (original bytes by SHA-256, text, index). An e-mail's
//! attachments are stored as documents of their own (PDFs and images are read,
//! other formats kept without text) and listed on the e-mail's document; the
//! e-mail, its attachments and the audit entry of the filing are recorded in
//! one transaction.

use super::arrival::Origin;
use super::{Pipeline, PipelineError, UPLOAD};
use crate::extract::{sniff, ExtractError, Rejection, Sniffed};
use crate::model::{AuditEvent, BgNummer, DocumentId, FileKind, Page, PageSource, Sha256};
use crate::store::{NewDocument, Recorded, Recording};
use serde::Serialize;

/// What is being filed.
#[derive(Debug, Clone)]
pub enum Content {
    /// An e-mail as received (`.eml`).
    Email(Vec<u8>),
    /// A born-digital PDF.
    Pdf(Vec<u8>),
    /// A note written in the E-Akte.
    Note(String),
}

/// A document to file into an Akte.
#[derive(Debug, Clone)]
pub struct Upload {
    pub bg: BgNummer,
    pub schlagwort: String,
    /// A document type from the rules; `None` lets the rules decide.
    pub doc_type: Option<String>,
    /// A name for the document; default: the e-mail's subject, "Vermerk", …
    pub title: Option<String>,
    pub content: Content,
    /// Who files it (a caseworker's Kennung or a user's name).
    pub by: String,
    /// Most attachments of an e-mail (`limits.max_attachments_per_mail`).
    pub max_attachments: usize,
}

/// One stored document of an upload.
#[derive(Debug, Clone, Serialize)]
pub struct Filed {
    pub document_id: DocumentId,
    pub name: String,
    pub kind: FileKind,
    /// `stored`, or `duplicate` when the same bytes are already in this Akte.
    pub status: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("schlagwort must be 1 to 100 characters")]
    BadSchlagwort,
    #[error("the note is empty")]
    EmptyNote,
    #[error("the body is not a PDF")]
    NotPdf,
    #[error("the body is not an e-mail (RFC 5322)")]
    NotEmail,
    #[error("the e-mail has {found} attachments; at most {max} are filed with one e-mail")]
    TooManyAttachments { found: usize, max: usize },
    #[error("{0}")]
    Rejected(Rejection),
    #[error("there is no document type {0:?}")]
    UnknownType(String),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

impl From<ExtractError> for UploadError {
    fn from(e: ExtractError) -> UploadError {
        match e {
            ExtractError::Rejected(r) => UploadError::Rejected(r),
            ExtractError::Environment(e) => UploadError::Pipeline(e.into()),
        }
    }
}

impl From<crate::store::StoreError> for UploadError {
    fn from(e: crate::store::StoreError) -> UploadError {
        UploadError::Pipeline(e.into())
    }
}

/// One document of an upload, read and ready to record.
struct Part {
    name: String,
    kind: FileKind,
    bytes: Vec<u8>,
    pages: Vec<Page>,
}

/// The ids an upload's documents will get (new ones), known before it is
/// recorded, so that its audit entry can name them.
pub struct Prepared {
    upload: Upload,
    parts: Vec<Part>,
    ids: Vec<DocumentId>,
}

impl Prepared {
    /// The documents this upload files, as they will be recorded (an id of a
    /// document the Akte already holds if the same bytes were filed before).
    pub fn document_ids(&self) -> &[DocumentId] {
        &self.ids
    }
}

/// Check and read `upload` (extract text, split an e-mail into its parts);
/// nothing is written yet. Blocking.
pub fn prepare(pipeline: &Pipeline, upload: Upload) -> Result<Prepared, UploadError> {
    if upload.schlagwort.trim().is_empty() || upload.schlagwort.chars().count() > 100 {
        return Err(UploadError::BadSchlagwort);
    }
    if let Some(t) = &upload.doc_type {
        pipeline
            .rules()
            .by_name(t)
            .ok_or_else(|| UploadError::UnknownType(t.clone()))?;
    }
    let parts = match &upload.content {
        Content::Note(text) => {
            if text.trim().is_empty() {
                return Err(UploadError::EmptyNote);
            }
            vec![Part {
                name: upload.title.clone().unwrap_or_else(|| "Vermerk".into()),
                kind: FileKind::Text,
                bytes: text.as_bytes().to_vec(),
                pages: vec![text_page(text)],
            }]
        }
        Content::Pdf(bytes) => {
            if sniff(bytes) != Sniffed::Accepted(FileKind::Pdf) {
                return Err(UploadError::NotPdf);
            }
            let extracted = pipeline.extractor().extract(bytes)?;
            vec![Part {
                name: upload
                    .title
                    .clone()
                    .unwrap_or_else(|| "Dokument.pdf".into()),
                kind: FileKind::Pdf,
                bytes: bytes.clone(),
                pages: extracted.pages,
            }]
        }
        Content::Email(bytes) => email_parts(pipeline, &upload, bytes)?,
    };
    let documents = pipeline.store().documents();
    let mut ids = Vec::with_capacity(parts.len());
    // Two attachments with the same bytes are one document.
    let mut in_batch = std::collections::HashMap::new();
    for part in &parts {
        let key = content_key(&Sha256::of(&part.bytes), &upload.bg);
        let id = match in_batch.get(&key) {
            Some(&id) => id,
            None => match documents.by_key(&key)? {
                Some(id) => id,
                None => documents.new_id()?,
            },
        };
        in_batch.insert(key, id);
        ids.push(id);
    }
    Ok(Prepared { upload, parts, ids })
}

/// Record a prepared upload and `audit` of it in one transaction; returns
/// every stored document, the main one last. Blocking.
pub fn file(
    pipeline: &Pipeline,
    prepared: Prepared,
    audit: &[AuditEvent],
) -> Result<Vec<Filed>, UploadError> {
    let Prepared { upload, parts, ids } = prepared;
    let store = pipeline.store();
    let at = crate::clock::now_rfc3339();
    let last = parts.len() - 1;
    let mut batch = Vec::with_capacity(parts.len());
    let shas: Vec<Sha256> = parts.iter().map(|p| Sha256::of(&p.bytes)).collect();
    for (i, (part, (sha, id))) in parts.iter().zip(shas.iter().zip(&ids)).enumerate() {
        let doc_type = match &upload.doc_type {
            Some(t) => pipeline
                .rules()
                .by_name(t)
                .ok_or_else(|| UploadError::UnknownType(t.clone()))?,
            None => {
                pipeline
                    .rules()
                    .classify(&crate::model::pages_text(&part.pages))
                    .doc_type
            }
        };
        let classification = crate::classify::filed(
            upload.bg.clone(),
            &upload.by,
            &at,
            doc_type,
            upload.schlagwort.trim(),
        );
        batch.push(Recording {
            arrival: Origin::filing(
                store.documents().new_arrival_id()?,
                part.name.clone(),
                &upload.by,
                &upload.bg,
            ),
            key: content_key(sha, &upload.bg),
            document: Some(NewDocument {
                id: *id,
                sha256: sha.clone(),
                size: part.bytes.len() as u64,
                kind: part.kind,
                pages: part.pages.clone(),
                classification: Some(classification),
                item: None,
                // The e-mail (last) lists the parts before it.
                batch: None,
                parts_in_batch: Vec::new(),
                opened_with: None,
                attachments_in_batch: if i == last {
                    (0..last).collect()
                } else {
                    Vec::new()
                },
            }),
        });
    }
    let originals: Vec<(&Sha256, &[u8])> = shas
        .iter()
        .zip(&parts)
        .map(|(sha, part)| (sha, part.bytes.as_slice()))
        .collect();
    let recorded = pipeline.record(&originals, || Ok(batch), audit, UPLOAD)?;
    Ok(parts
        .iter()
        .zip(recorded)
        .map(|(part, recorded)| Filed {
            document_id: recorded.document_id(),
            // As stored (see `Origin::arrived`).
            name: crate::untrusted::file_name(&part.name),
            kind: part.kind,
            status: match recorded {
                Recorded::New(_) | Recorded::AlreadyRecorded(_) => "stored",
                Recorded::Duplicate(_) => "duplicate",
            },
        })
        .collect())
}

/// The same file in another Akte is another document: whether it exists
/// elsewhere is none of this caller's business.
pub(super) fn content_key(sha: &Sha256, bg: &BgNummer) -> String {
    format!("{sha}@{bg}")
}

fn email_parts(
    pipeline: &Pipeline,
    upload: &Upload,
    bytes: &[u8],
) -> Result<Vec<Part>, UploadError> {
    use mail_parser::MimeHeaders;
    let message = mail_parser::MessageParser::default()
        .parse(bytes)
        .filter(|m| m.subject().is_some() || m.from().is_some())
        .ok_or(UploadError::NotEmail)?;
    let found = message.attachment_count();
    if found > upload.max_attachments {
        return Err(UploadError::TooManyAttachments {
            found,
            max: upload.max_attachments,
        });
    }
    let mut parts: Vec<Part> = Vec::new();
    // The same file attached twice is read once.
    let mut read: std::collections::HashMap<Sha256, usize> = std::collections::HashMap::new();
    for (n, attachment) in message.attachments().enumerate() {
        let content = attachment.contents();
        let name = attachment
            .attachment_name()
            .map(str::to_string)
            .unwrap_or_else(|| format!("Anhang {}", n + 1));
        let sha = Sha256::of(content);
        let (kind, pages) = match read.get(&sha) {
            Some(&earlier) => (parts[earlier].kind, parts[earlier].pages.clone()),
            None => match sniff(content) {
                Sniffed::Accepted(kind) => match pipeline.extractor().extract(content) {
                    Ok(extracted) => (kind, extracted.pages),
                    // An attachment eakte cannot read is still kept, without text.
                    Err(ExtractError::Rejected(_)) => (FileKind::Other, Vec::new()),
                    Err(e) => return Err(e.into()),
                },
                _ => (FileKind::Other, Vec::new()),
            },
        };
        read.entry(sha).or_insert(parts.len());
        parts.push(Part {
            name,
            kind,
            bytes: content.to_vec(),
            pages,
        });
    }
    let subject = message.subject().unwrap_or("(ohne Betreff)").to_string();
    let text = text_of(&message);
    parts.push(Part {
        name: upload
            .title
            .clone()
            .unwrap_or_else(|| format!("{subject}.eml")),
        kind: FileKind::Eml,
        bytes: bytes.to_vec(),
        pages: vec![text_page(&text)],
    });
    Ok(parts)
}

/// An e-mail's text as eakte keeps it: the header lines a reader looks for,
/// then the body. `None` when `bytes` is no e-mail.
pub(super) fn email_text(bytes: &[u8]) -> Option<String> {
    mail_parser::MessageParser::default()
        .parse(bytes)
        .filter(|m| m.subject().is_some() || m.from().is_some())
        .map(|m| text_of(&m))
}

fn text_of(message: &mail_parser::Message<'_>) -> String {
    let address = |a: Option<&mail_parser::Address>| {
        a.and_then(|a| a.first())
            .map(|a| match (a.name(), a.address()) {
                (Some(n), Some(addr)) => format!("{n} <{addr}>"),
                (n, addr) => n.or(addr).unwrap_or_default().to_string(),
            })
            .unwrap_or_default()
    };
    let subject = message.subject().unwrap_or("(ohne Betreff)");
    let mut text = format!(
        "Betreff: {subject}\nVon: {}\nAn: {}\nDatum: {}\n",
        address(message.from()),
        address(message.to()),
        message.date().map(|d| d.to_rfc3339()).unwrap_or_default()
    );
    if let Some(body) = message.body_text(0) {
        text.push('\n');
        text.push_str(&body);
    }
    text
}

pub(super) fn text_page(text: &str) -> Page {
    Page {
        number: 1,
        text: text.to_string(),
        confidence: None,
        source: PageSource::TextLayer,
        rotation: 0,
        code: None,
    }
}
