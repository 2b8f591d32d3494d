//! `/dokumente/{id}`: the recognised text beside the facts, why eakte
//! classified and routed it so, its history and what can be done with it.

use super::super::error::WebError;
use super::super::view::{clearing_reason, german_time, route_in_german, state_name, Me, SignedIn};
use super::super::WebState;
use super::page;
use crate::model::{Action, DocumentId, Item, ItemState, PageSource};
use crate::service::documents::{self, Read};
use crate::service::recipients;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, Response};
use axum::Form;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "dokument.html")]
struct DocumentPage {
    me: Me,
    nav: &'static str,
    doc: DocView,
    item: Option<ItemView>,
    /// For the clearing office: assigning the recipient and the type.
    assign: Option<AssignView>,
}

struct AssignView {
    types: Vec<String>,
    /// The registry search, when one was made: what was typed and who was found.
    searched: Option<String>,
    found: Vec<FoundView>,
}

struct FoundView {
    bg: String,
    name: String,
    born: String,
    kundennummer: String,
    address: String,
}

struct DocView {
    id: u64,
    title: String,
    received: String,
    doc_type: String,
    schlagwort: String,
    bg: Option<String>,
    site: String,
    file_name: String,
    size: String,
    evidence: Vec<String>,
    pages: Vec<PageView>,
    /// "Teil 2 von 3 eines Stapelscans, Seiten 5–6 des Stapels".
    from_stack: Option<String>,
    /// The pages left out as empty ("2, 4"), if any.
    blank: Option<String>,
    /// "Eintrag 1 der vereinbarten Kennwörter" for an encrypted PDF.
    opened_with: Option<String>,
}

struct PageView {
    number: u32,
    text: String,
    confidence: Option<u32>,
    /// What a page not read as text is, in the scan office's words.
    left_out: Option<&'static str>,
}

struct ItemView {
    id: u64,
    state: &'static str,
    /// Why it went to the clearing office, if it did.
    clearing: Option<String>,
    open: bool,
    resubmit: Option<String>,
    route: String,
    history: Vec<HistoryView>,
    /// The item a Deckblatt said this one answers.
    answers: Option<u64>,
}

struct HistoryView {
    at: String,
    what: String,
    by: Option<String>,
}

fn what_happened(action: &Action) -> String {
    match action {
        Action::Routed { to, .. } => format!("eingegangen, an {to}"),
        Action::Started => "in Bearbeitung genommen".into(),
        Action::Done => "zdA (erledigt)".into(),
        Action::Forwarded { from, to } => format!("weitergeleitet von {from} an {to}"),
        Action::Resubmitted { until } => {
            format!("Wiedervorlage am {}", crate::timefmt::german_day(*until))
        }
        Action::Corrected { changes, to, .. } => {
            format!("berichtigt ({}), jetzt bei {to}", changes.join(", "))
        }
    }
}

fn item_view(item: &Item) -> ItemView {
    ItemView {
        id: item.id.0,
        state: state_name(item.state),
        clearing: item.route.clearing.as_ref().map(clearing_reason),
        open: item.state != ItemState::Done,
        resubmit: item.resubmit_until.map(crate::timefmt::german_day),
        route: route_in_german(&item.route, item.bg.as_ref()),
        answers: item.answers.map(|a| a.0),
        history: item
            .history
            .iter()
            .map(|h| HistoryView {
                at: german_time(&h.at),
                what: match &h.note {
                    Some(note) => format!("{}: „{note}“", what_happened(&h.action)),
                    None => what_happened(&h.action),
                },
                by: h.by.clone(),
            })
            .collect(),
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} Bytes"),
        1024..1_048_576 => format!("{} kB", bytes / 1024),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0).replace('.', ","),
    }
}

/// The page shows the text: it is recorded as the API's text read.
pub async fn dokument(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Path(id): Path<u64>,
) -> Result<Html<String>, WebError> {
    render(&web, signed_in, id, None).await
}

#[derive(Deserialize)]
pub struct RecipientSearch {
    csrf: String,
    suche: String,
}

/// The clearing office's registry search, beside the letter.
pub async fn find_recipient(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Path(id): Path<u64>,
    Form(form): Form<RecipientSearch>,
) -> Result<Html<String>, WebError> {
    signed_in.check_csrf(&form.csrf)?;
    let words = form.suche.split_whitespace().count();
    if words == 0 || words > recipients::MAX_WORDS || form.suche.len() > recipients::MAX_QUERY_BYTES
    {
        return Err(WebError::input(format!(
            "Bitte suchen Sie mit einem Namen, einem Geburtsdatum, einer BG-Nummer oder einer \
             Kundennummer (höchstens {} Wörter).",
            recipients::MAX_WORDS
        )));
    }
    render(&web, signed_in, id, Some(form.suche)).await
}

async fn render(
    web: &WebState,
    signed_in: SignedIn,
    id: u64,
    search: Option<String>,
) -> Result<Html<String>, WebError> {
    let services = web.api.services.clone();
    let actor = signed_in.actor.clone();
    let query = search.clone();
    let (shown, found) = crate::api::blocking(move || {
        // The letter first: a search beside a letter the caller may not
        // see is not made.
        let shown = documents::read(&services, &actor, DocumentId(id), Read::Text)?;
        // Only where the page shows it: beside an open letter, for the
        // clearing office (the service refuses other roles anyway).
        let open = shown
            .item
            .as_ref()
            .is_some_and(|i| i.state != ItemState::Done);
        let found = match &query {
            Some(q) if open => Some(recipients::find(&services, &actor, q)?),
            _ => None,
        };
        Ok::<_, crate::service::ServiceError>((shown, found))
    })
    .await?;
    let d = &shown.document;
    let class = d.classification.as_ref();
    let doc_type = class.map_or_else(|| "unbekannt".to_string(), |c| c.doc_type.clone());
    let doc = DocView {
        id: d.id.0,
        title: format!("{doc_type} vom {}", german_time(&d.received_at)),
        received: german_time(&d.received_at),
        doc_type,
        schlagwort: class.map(|c| c.schlagwort.clone()).unwrap_or_default(),
        bg: class.and_then(|c| c.bg()).map(|bg| bg.to_string()),
        site: d.site.clone().unwrap_or_else(|| "–".into()),
        file_name: d.original_name.clone(),
        size: size(d.size),
        evidence: class.map(|c| c.type_evidence.clone()).unwrap_or_default(),
        pages: d
            .pages
            .iter()
            .map(|p| PageView {
                number: p.number,
                text: p.text.clone(),
                confidence: p.confidence.map(|c| c.round() as u32),
                left_out: match p.source {
                    PageSource::Blank => Some("Leerseite – nicht gelesen"),
                    PageSource::Separator => Some("Trennblatt – nicht gelesen"),
                    PageSource::CoverSheet => Some("Deckblatt – Code gelesen, Empfänger daraus"),
                    _ => None,
                },
            })
            .collect(),
        from_stack: d.batch.as_ref().map(|b| {
            format!(
                "Teil {} von {} eines Stapelscans (Stapel Nr. {}), Seiten {} des Stapels",
                b.part,
                b.parts,
                b.batch.0,
                crate::pipeline::batch::page_list(&b.pages)
            )
        }),
        blank: {
            let blank: Vec<u32> = d
                .pages
                .iter()
                .filter(|p| p.source == PageSource::Blank)
                .map(|p| p.number)
                .collect();
            (!blank.is_empty()).then(|| crate::pipeline::batch::page_list(&blank))
        },
        opened_with: d.opened_with.map(|n| {
            format!("verschlüsselt, geöffnet mit Eintrag {n} der vereinbarten Kennwörter")
        }),
    };
    let open = shown
        .item
        .as_ref()
        .is_some_and(|i| i.state != ItemState::Done);
    let assign = (signed_in.me.klaerung && open).then(|| AssignView {
        types: web
            .api
            .services
            .rules()
            .types()
            .map(|t| t.name.clone())
            .collect(),
        searched: search,
        found: found
            .unwrap_or_default()
            .into_iter()
            .map(|p| FoundView {
                bg: p.bg.to_string(),
                name: format!("{}, {}", p.nachname, p.vorname),
                born: crate::timefmt::german_day(p.geburtsdatum),
                kundennummer: p.kundennummer.to_string(),
                address: format!("{}, {} {}", p.strasse, p.plz, p.ort),
            })
            .collect(),
    });
    page(&DocumentPage {
        me: signed_in.me,
        nav: "",
        doc,
        item: shown.item.as_ref().map(item_view),
        assign,
    })
}

/// The original, as a download (recorded as the API's download).
pub async fn original(
    State(web): State<WebState>,
    signed_in: SignedIn,
    Path(id): Path<u64>,
) -> Result<Response, WebError> {
    let services = web.api.services.clone();
    let actor = signed_in.actor.clone();
    let shown = crate::api::blocking(move || {
        documents::read(&services, &actor, DocumentId(id), Read::Original)
    })
    .await?;
    Ok(crate::api::documents::original_download(shown))
}
