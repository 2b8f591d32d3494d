//! Filing documents into an Akte directly (through the API): e-mails with their
//! attachments, born-digital PDFs (Bescheide) and notes (Vermerke).
//!
//! Unlike scans, these arrive with their BG and Schlagwort given by the caseworker
//! who files them, so they get no postbox item. Each becomes a stored document
//! like any other (original bytes by SHA-256, text, index). An e-mail's
//! attachments are stored as documents of their own (PDFs and images are read,
//! other formats kept without text) and listed on the e-mail's document.

use crate::classify::{Classification, Recognition};
use crate::extract::{sniff, ExtractError, FileKind, Page, PageSource, Rejection, Sniffed};
use crate::pipeline::{Pipeline, PipelineError};
use crate::registry::BgNummer;
use crate::store::{DocumentId, NewArrival, NewDocument, Recorded, Sha256};
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
    #[error("{0}")]
    Invalid(String),
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
            ExtractError::System(m) => UploadError::Pipeline(PipelineError::System(m)),
        }
    }
}

impl From<crate::store::StoreError> for UploadError {
    fn from(e: crate::store::StoreError) -> UploadError {
        UploadError::Pipeline(e.into())
    }
}

/// File `upload`; returns every stored document, the main one last. Blocking.
pub fn file(pipeline: &Pipeline, upload: Upload) -> Result<Vec<Filed>, UploadError> {
    if upload.schlagwort.trim().is_empty() || upload.schlagwort.chars().count() > 100 {
        return Err(UploadError::Invalid(
            "schlagwort must be 1 to 100 characters".into(),
        ));
    }
    if let Some(t) = &upload.doc_type {
        pipeline
            .rules()
            .by_name(t)
            .ok_or_else(|| UploadError::UnknownType(t.clone()))?;
    }
    match &upload.content {
        Content::Note(text) => {
            if text.trim().is_empty() {
                return Err(UploadError::Invalid("the note is empty".into()));
            }
            let name = upload.title.clone().unwrap_or_else(|| "Vermerk".into());
            let pages = vec![text_page(text)];
            Ok(vec![record(
                pipeline,
                &upload,
                text.as_bytes(),
                FileKind::Text,
                name,
                pages,
                Vec::new(),
            )?])
        }
        Content::Pdf(bytes) => {
            if sniff(bytes) != Sniffed::Accepted(FileKind::Pdf) {
                return Err(UploadError::Invalid("the body is not a PDF".into()));
            }
            let extracted = pipeline.extractor().extract(bytes)?;
            let name = upload
                .title
                .clone()
                .unwrap_or_else(|| "Dokument.pdf".into());
            Ok(vec![record(
                pipeline,
                &upload,
                bytes,
                FileKind::Pdf,
                name,
                extracted.pages,
                Vec::new(),
            )?])
        }
        Content::Email(bytes) => file_email(pipeline, &upload, bytes),
    }
}

fn file_email(
    pipeline: &Pipeline,
    upload: &Upload,
    bytes: &[u8],
) -> Result<Vec<Filed>, UploadError> {
    use mail_parser::MimeHeaders;
    let message = mail_parser::MessageParser::default()
        .parse(bytes)
        .filter(|m| m.subject().is_some() || m.from().is_some())
        .ok_or_else(|| UploadError::Invalid("the body is not an e-mail (RFC 5322)".into()))?;
    let mut filed = Vec::new();
    for (n, part) in message.attachments().enumerate() {
        let content = part.contents();
        let name = part
            .attachment_name()
            .map(str::to_string)
            .unwrap_or_else(|| format!("Anhang {}", n + 1));
        let (kind, pages) = match sniff(content) {
            Sniffed::Accepted(kind) => match pipeline.extractor().extract(content) {
                Ok(extracted) => (kind, extracted.pages),
                // An attachment eakte cannot read is still kept, without text.
                Err(ExtractError::Rejected(_)) => (FileKind::Other, Vec::new()),
                Err(e) => return Err(e.into()),
            },
            _ => (FileKind::Other, Vec::new()),
        };
        let attachment = Upload {
            title: None,
            ..upload.clone()
        };
        filed.push(record(
            pipeline,
            &attachment,
            content,
            kind,
            name,
            pages,
            Vec::new(),
        )?);
    }
    let address = |a: Option<&mail_parser::Address>| {
        a.and_then(|a| a.first())
            .map(|a| match (a.name(), a.address()) {
                (Some(n), Some(addr)) => format!("{n} <{addr}>"),
                (n, addr) => n.or(addr).unwrap_or_default().to_string(),
            })
            .unwrap_or_default()
    };
    let subject = message.subject().unwrap_or("(ohne Betreff)").to_string();
    let header = format!(
        "Betreff: {subject}\nVon: {}\nAn: {}\nDatum: {}\n",
        address(message.from()),
        address(message.to()),
        message.date().map(|d| d.to_rfc3339()).unwrap_or_default()
    );
    let mut text = header;
    if let Some(body) = message.body_text(0) {
        text.push('\n');
        text.push_str(&body);
    }
    let name = upload
        .title
        .clone()
        .unwrap_or_else(|| format!("{subject}.eml"));
    let attachments = filed.iter().map(|f| f.document_id).collect();
    filed.push(record(
        pipeline,
        upload,
        bytes,
        FileKind::Eml,
        name,
        vec![text_page(&text)],
        attachments,
    )?);
    Ok(filed)
}

fn text_page(text: &str) -> Page {
    Page {
        number: 1,
        text: text.to_string(),
        confidence: None,
        source: PageSource::TextLayer,
        rotation: 0,
    }
}

fn record(
    pipeline: &Pipeline,
    upload: &Upload,
    bytes: &[u8],
    kind: FileKind,
    name: String,
    pages: Vec<Page>,
    attachments: Vec<DocumentId>,
) -> Result<Filed, UploadError> {
    let store = pipeline.store();
    let sha = Sha256::of(bytes);
    // The same file in another Akte is another document: whether it exists
    // elsewhere is none of this caller's business.
    let key = format!("{sha}@{}", upload.bg);
    let doc_type = match &upload.doc_type {
        Some(t) => pipeline
            .rules()
            .by_name(t)
            .ok_or_else(|| UploadError::UnknownType(t.clone()))?,
        None => {
            pipeline
                .rules()
                .classify(&crate::extract::pages_text(&pages))
                .doc_type
        }
    };
    let now = crate::timefmt::now();
    let classification = Classification {
        recipient: Recognition::Assigned {
            bg: upload.bg.clone(),
            by: upload.by.clone(),
            at: now.clone(),
        },
        doc_type: doc_type.name.clone(),
        schlagwort: upload.schlagwort.trim().to_string(),
        urgent: false,
        urgent_reason: None,
        type_evidence: vec![format!("filed by {}", upload.by)],
    };
    store.blobs().put(&sha, bytes).map_err(|e| {
        PipelineError::System(format!("cannot write the original to the blob store: {e}"))
    })?;
    let arrival = NewArrival {
        id: store.new_arrival_id()?,
        original_name: name.clone(),
        site: None,
        received_at: now,
        source: format!("filed by {} into {}", upload.by, upload.bg),
    };
    let document = NewDocument {
        sha256: sha.clone(),
        size: bytes.len() as u64,
        kind,
        pages,
        classification: Some(classification),
        route: None,
        attachments,
    };
    let (document_id, status) = match store.record(arrival, Some(document), &key)? {
        Recorded::New(id) | Recorded::AlreadyRecorded(id) => (id, "stored"),
        Recorded::Duplicate(id) => (id, "duplicate"),
    };
    Ok(Filed {
        document_id,
        name,
        kind,
        status,
    })
}
