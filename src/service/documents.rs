//! Documents and Akten: reading a document (its metadata, text or original),
//! an Akte, searching, and filing into an Akte.

use super::{Actor, ServiceError, Services, Ticket, Visibility};
use crate::index::{SearchIndex, SearchRequest, SearchResults};
use crate::model::{BgNummer, Document, DocumentId, FileKind, Item, Role};
use crate::pipeline::upload::{self, Filed, Upload};
use serde::Serialize;
use std::collections::BTreeMap;

/// Who may read documents at all.
const READERS: &[Role] = &[Role::Caseworker, Role::Clearing, Role::Teamlead];

/// What a read of a document is recorded as.
#[derive(Debug, Clone, Copy)]
pub enum Read {
    Metadata,
    Text,
    Original,
    /// The routing decision (`eakte route explain`).
    Route,
    /// A page of the original as an image (the web UI).
    PageImage,
}

impl Read {
    fn action(self) -> &'static str {
        match self {
            Read::Metadata => "read_document",
            Read::Text => "read_text",
            Read::Original => "download_original",
            Read::Route => "read_route",
            Read::PageImage => "read_page_image",
        }
    }
}

/// A document with its postbox item, as read.
#[derive(Debug)]
pub struct Shown {
    pub document: Document,
    pub item: Option<Item>,
    /// The original bytes, when they were asked for.
    pub original: Option<Vec<u8>>,
}

/// Read document `id` if `actor` may see it, recording the read (or its
/// refusal). Blocking.
pub fn read(
    services: &Services,
    actor: &Actor,
    id: DocumentId,
    what: Read,
) -> Result<Shown, ServiceError> {
    services.audited(
        actor,
        what.action(),
        format!("document {id}"),
        |_| None,
        |ticket| {
            actor.require(READERS)?;
            let visibility = services.visibility(actor)?;
            let store = services.store();
            let document = store.documents().get(id)?.ok_or(ServiceError::NotFound)?;
            // Named also when refused: an attempt on a recipient's data is
            // part of what § 83 SGB X lets them ask about.
            if let Some(bg) = document.classification.as_ref().and_then(|c| c.bg()) {
                ticket.concerns(bg);
            }
            if !visibility.sees_document(store, &document)? {
                return Err(ServiceError::NotFound);
            }
            let item = store.postboxes().item_of_document(id)?;
            let original = match what {
                Read::Original => Some(store.blobs().get(&document.sha256).map_err(|source| {
                    crate::store::StoreError::Io {
                        path: store.blobs().path(&document.sha256),
                        source,
                    }
                })?),
                Read::Metadata | Read::Text | Read::Route | Read::PageImage => None,
            };
            Ok(Shown {
                document,
                item,
                original,
            })
        },
    )
}

/// An Akte: the BG's members and its documents grouped by Schlagwort.
#[derive(Debug, Serialize)]
pub struct Akte {
    pub bg: BgNummer,
    pub members: Vec<Member>,
    pub schlagworte: Vec<Group>,
}

#[derive(Debug, Serialize)]
pub struct Member {
    pub kundennummer: String,
    pub vorname: String,
    pub nachname: String,
    pub geburtsdatum: String,
    pub strasse: String,
    pub plz: String,
    pub ort: String,
    pub standort: String,
    pub antragsteller: bool,
}

#[derive(Debug, Serialize)]
pub struct Group {
    pub schlagwort: String,
    /// Newest first (by Eingangsdatum).
    pub documents: Vec<Entry>,
}

#[derive(Debug, Serialize)]
pub struct Entry {
    pub id: DocumentId,
    pub name: String,
    pub doc_type: String,
    pub kind: FileKind,
    pub received_at: String,
    pub attachments: Vec<DocumentId>,
}

/// The BG `bg` (as typed) if `actor` may see its Akte; the ticket names it
/// either way.
pub(super) fn visible_bg(
    services: &Services,
    actor: &Actor,
    bg: &str,
    ticket: &Ticket,
) -> Result<BgNummer, ServiceError> {
    actor.require(&[Role::Caseworker, Role::Teamlead])?;
    let bg = BgNummer::parse(bg).ok_or(ServiceError::NotFound)?;
    ticket.concerns(&bg);
    if !services.visibility(actor)?.sees_bg(&bg) {
        return Err(ServiceError::NotFound);
    }
    Ok(bg)
}

/// The Akte of `bg` (as typed), if `actor` may see it. Blocking.
pub fn akte(services: &Services, actor: &Actor, bg: &str) -> Result<Akte, ServiceError> {
    services.audited(
        actor,
        "read_akte",
        akte_target(bg),
        |_| None,
        |ticket| {
            let bg = visible_bg(services, actor, bg, ticket)?;
            let registry = services.registry()?;
            let members = registry
                .members(&bg)
                .map(|p| Member {
                    kundennummer: p.kundennummer.to_string(),
                    vorname: p.vorname.clone(),
                    nachname: p.nachname.clone(),
                    geburtsdatum: p.geburtsdatum.to_string(),
                    strasse: p.strasse.clone(),
                    plz: p.plz.clone(),
                    ort: p.ort.clone(),
                    standort: p.standort.clone(),
                    antragsteller: p.antragsteller,
                })
                .collect();
            let mut groups: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
            for doc in services.store().documents().of_bg(&bg)? {
                let c = doc.classification.as_ref();
                groups
                    .entry(c.map(|c| c.schlagwort.clone()).unwrap_or_default())
                    .or_default()
                    .push(Entry {
                        id: doc.id,
                        name: doc.original_name.clone(),
                        doc_type: c.map(|c| c.doc_type.clone()).unwrap_or_default(),
                        kind: doc.kind,
                        received_at: doc.received_at.clone(),
                        attachments: doc.attachments.clone(),
                    });
            }
            let schlagworte = groups
                .into_iter()
                .map(|(schlagwort, mut documents)| {
                    documents.sort_by(|a, b| b.received_at.cmp(&a.received_at));
                    Group {
                        schlagwort,
                        documents,
                    }
                })
                .collect();
            Ok(Akte {
                bg,
                members,
                schlagworte,
            })
        },
    )
}

/// The audit target of an Akte given as `typed`: the BG in its one normal
/// form (`07766bg0051631` and `07766//0051631` are the same Akte), and
/// nothing of the text when it is no BG number (it may be a name).
pub(super) fn akte_target(typed: &str) -> String {
    match BgNummer::parse(typed) {
        Some(bg) => format!("akte {bg}"),
        None => "akte (not a BG number)".into(),
    }
}

/// What to file into an Akte, as a caller gives it.
pub struct Filing {
    pub schlagwort: String,
    pub doc_type: Option<String>,
    pub title: Option<String>,
    pub content: upload::Content,
}

/// File a document into the Akte of `bg` (as typed); the documents and the
/// audit entry are recorded in one transaction. Blocking.
pub fn file(
    services: &Services,
    actor: &Actor,
    bg: &str,
    filing: Filing,
) -> Result<Vec<Filed>, ServiceError> {
    let ids = |filed: Option<&Vec<Filed>>| {
        filed.map(|filed| documents_detail(filed.iter().map(|f| f.document_id)))
    };
    services.audited(actor, "file_document", akte_target(bg), ids, |ticket| {
        let bg = visible_bg(services, actor, bg, ticket)?;
        let Some(running) = services.running() else {
            return Err(ServiceError::Conflict(
                "documents are filed into an Akte by the running daemon".into(),
            ));
        };
        let Filing {
            schlagwort,
            doc_type,
            title,
            content,
        } = filing;
        let upload = Upload {
            bg,
            schlagwort,
            doc_type,
            title,
            content,
            by: actor.history_name(),
            max_attachments: services.max_attachments(),
        };
        let prepared = upload::prepare(&running.pipeline, upload)?;
        // Documents are content-addressed: these are the ids recorded
        // below, new or already in the Akte.
        let detail = documents_detail(prepared.document_ids().iter().copied());
        let filed = upload::file(&running.pipeline, prepared, &ticket.events(Some(detail)))?;
        running.indexing.wake();
        Ok(filed)
    })
}

/// The audit detail of a filing: which documents it concerns.
fn documents_detail(ids: impl Iterator<Item = DocumentId>) -> String {
    let ids: Vec<String> = ids.map(|id| id.to_string()).collect();
    format!("documents {}", ids.join(", "))
}

/// Filters as the audit entry names them: (name, value).
type Named<T> = Vec<(&'static str, T)>;

/// A search's filters for its audit entry: those a caller types freely
/// (hashed) and the others (a BG, days, the page).
fn filters<'a>(request: &SearchRequest<'a>) -> (Named<&'a str>, Named<String>) {
    let typed = [
        ("type", request.doc_type),
        ("schlagwort", request.schlagwort),
        ("site", request.site),
    ];
    let hidden = typed
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect();
    let mut clear = Vec::new();
    if let Some(bg) = request.bg {
        clear.push(("bg", bg.to_string()));
    }
    for (name, bound) in [("from", request.from), ("to", request.to)] {
        if let Some(bound) = bound {
            clear.push((name, bound.to_string()));
        }
    }
    clear.push(("offset", request.offset.to_string()));
    (hidden, clear)
}

/// The most hits one search shows a user (a screenful or two) and an
/// operator (a list to work through on the command line).
pub const MAX_LIMIT: usize = 100;
pub const MAX_OPERATOR_LIMIT: usize = 10_000;
/// How deep a search may page: the index collects `offset + limit` hits.
pub const MAX_OFFSET: usize = 10_000;

/// Search within what `actor` may see (the request's `within` is replaced by
/// the caller's scope); every hit shown is checked against the store (the
/// index may lag behind a correction). Blocking.
pub fn search(
    services: &Services,
    index: &SearchIndex,
    actor: &Actor,
    request: SearchRequest<'_>,
) -> Result<SearchResults, ServiceError> {
    actor.require(READERS)?;
    let max_limit = match actor {
        Actor::User { .. } => MAX_LIMIT,
        Actor::Operator { .. } => MAX_OPERATOR_LIMIT,
    };
    if request.limit == 0 || request.limit > max_limit {
        return Err(ServiceError::BadRequest(format!(
            "limit must be between 1 and {max_limit}"
        )));
    }
    if request.offset > MAX_OFFSET {
        return Err(ServiceError::BadRequest(format!(
            "offset must be at most {MAX_OFFSET}; narrow the search instead"
        )));
    }
    let visibility = services.visibility(actor)?;
    let store = services.store();
    let (bgs, ids);
    // Shorter-lived than the caller's request: it borrows the scope below.
    let mut request = SearchRequest {
        within: None,
        ..request
    };
    if let Visibility::Scoped(scope) = &visibility {
        bgs = scope.bgs.iter().cloned().collect::<Vec<_>>();
        let mut in_postboxes = Vec::new();
        for postbox in &scope.postboxes {
            in_postboxes.extend(store.postboxes().document_ids_in(postbox)?);
        }
        ids = in_postboxes;
        request.within = Some((&bgs, &ids));
    }
    let mut results = index.search_with(&request)?;
    let mut shown = Vec::with_capacity(results.hits.len());
    for mut hit in std::mem::take(&mut results.hits) {
        let visible = match store.documents().get(hit.id)? {
            Some(doc) => visibility.sees_document(store, &doc)?,
            None => false,
        };
        if visible {
            // Scores computed on the whole index would tell how common a
            // word is outside the caller's scope.
            if matches!(visibility, Visibility::Scoped(_)) {
                hit.score = None;
            }
            shown.push(hit);
        }
    }
    results.hits = shown;
    // The BG searched for, and those of the hits shown.
    let mut bgs: Vec<BgNummer> = Vec::new();
    for bg in request
        .bg
        .into_iter()
        .chain(results.hits.iter().filter_map(|h| h.bg.as_deref()))
    {
        if let Some(bg) = BgNummer::parse(bg).filter(|bg| !bgs.contains(bg)) {
            bgs.push(bg);
        }
    }
    let ids: Vec<String> = results.hits.iter().map(|h| h.id.to_string()).collect();
    let detail = format!(
        "{}; shown: {}",
        {
            let (hidden, clear) = filters(&request);
            crate::audit::words::describe(services.store(), request.query, &hidden, &clear)?
        },
        ids.join(",")
    );
    services.record(
        actor,
        "search",
        format!("{} hit(s)", results.total),
        Some(detail),
        bgs,
    )?;
    Ok(results)
}
