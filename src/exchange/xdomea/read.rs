//! Reading a message `Abgabe.Abgabe.0401` (already checked against the
//! schema) into an [`Abgabe`]. Other E-Akte products structure an Akte more
//! freely than eakte writes it: documents straight in the Akte, Teilakten,
//! Teilvorgänge. All of it is taken; each Vorgang's documents are filed
//! under its Betreff as the Schlagwort, documents outside a Vorgang under
//! the Akte's.

use super::{Abgabe, Akte, Authority, Dokument, File, Format, History, Member, Vorgang};
use super::{ABGABE, EXTENSION_AKTE, EXTENSION_DOKUMENT, NAMESPACE};
use crate::exchange::ids::Uuid;
use crate::exchange::ExchangeError;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

/// Deeper than any xdomea message nests (Akte, Teilakte, Vorgang,
/// Teilvorgang, Dokument, Anlage, Version, Format… stay under 30).
const MAX_DEPTH: usize = 64;
/// More elements than any Akte's message has (a thousand documents are
/// some 60,000): the rest would only fill memory.
const MAX_ELEMENTS: usize = 2_000_000;

/// An element: its local name (xdomea's namespace or none), text, children.
#[derive(Debug, Default)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text at the path of child names, trimmed.
    fn text_at(&self, path: &[&str]) -> Option<String> {
        let mut here = self;
        for name in path {
            here = here.child(name)?;
        }
        let text = here.text.trim();
        (!text.is_empty()).then(|| text.to_string())
    }
}

fn invalid(detail: impl Into<String>) -> ExchangeError {
    ExchangeError::Message(detail.into())
}

/// Parse the XML into elements (xdomea's, and the code lists' `code` and
/// `name`, which have no namespace).
fn parse(xml: &[u8]) -> Result<Element, ExchangeError> {
    let mut reader = quick_xml::NsReader::from_reader(xml);
    let mut stack: Vec<Element> = vec![Element::default()];
    let mut buf = Vec::new();
    let mut elements = 0usize;
    loop {
        let (ns, event) = reader
            .read_resolved_event_into(&mut buf)
            .map_err(|e| invalid(format!("not well-formed XML: {e}")))?;
        let ours = |ns: &ResolveResult| match ns {
            ResolveResult::Bound(n) => n.as_ref() == NAMESPACE.as_bytes(),
            ResolveResult::Unbound => true,
            ResolveResult::Unknown(_) => false,
        };
        match event {
            Event::Start(start) => {
                if stack.len() > MAX_DEPTH {
                    return Err(invalid("the XML nests deeper than any xdomea message"));
                }
                if !ours(&ns) {
                    // Another vocabulary (AnwendungsspezifischeErweiterungXML):
                    // eakte reads nothing of it, so it is skipped unbuilt.
                    let end = start.to_end().into_owned();
                    let mut skipped = Vec::new();
                    reader
                        .read_to_end_into(end.name(), &mut skipped)
                        .map_err(|e| invalid(format!("not well-formed XML: {e}")))?;
                    buf.clear();
                    continue;
                }
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(invalid("the XML has more elements than any Akte's message"));
                }
                stack.push(Element {
                    name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
                    ..Element::default()
                });
            }
            Event::Empty(start) => {
                if !ours(&ns) {
                    buf.clear();
                    continue;
                }
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(invalid("the XML has more elements than any Akte's message"));
                }
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(Element {
                        name,
                        ..Element::default()
                    });
                }
            }
            Event::End(_) => {
                let done = stack.pop().ok_or_else(|| invalid("unbalanced XML"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Err(invalid("unbalanced XML")),
                }
            }
            Event::Text(text) => {
                let text = text
                    .xml10_content()
                    .map_err(|e| invalid(format!("text that is not UTF-8: {e}")))?;
                if let Some(here) = stack.last_mut() {
                    here.text.push_str(&text);
                }
            }
            Event::CData(data) => {
                if let Some(here) = stack.last_mut() {
                    here.text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => {
                        let name = String::from_utf8_lossy(&reference).into_owned();
                        quick_xml::escape::resolve_xml_entity(&name)
                            .ok_or_else(|| invalid(format!("an unknown entity &{name};")))?
                            .to_string()
                    }
                };
                if let Some(here) = stack.last_mut() {
                    here.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::DocType(_) => {
                return Err(invalid("a DOCTYPE, which xdomea messages never have"))
            }
        }
        buf.clear();
    }
    let mut document = stack.pop().ok_or_else(|| invalid("unbalanced XML"))?;
    if !stack.is_empty() {
        return Err(invalid("the XML ends inside an element"));
    }
    document
        .children
        .pop()
        .ok_or_else(|| invalid("no root element"))
}

/// Read a message `Abgabe.Abgabe.0401`.
pub fn read(xml: &[u8]) -> Result<Abgabe, ExchangeError> {
    let root = parse(xml)?;
    if root.name != ABGABE {
        return Err(ExchangeError::NotAbgabe(root.name));
    }
    let kopf = root.child("Kopf").ok_or_else(|| invalid("no Kopf"))?;
    let prozess = kopf
        .text_at(&["ProzessID"])
        .and_then(|t| Uuid::parse(&t))
        .ok_or_else(|| invalid("the Kopf has no ProzessID that is a UUID"))?;
    let mut objects = root.all("Schriftgutobjekt");
    let akte = match (objects.next(), objects.next()) {
        (Some(one), None) => one.child("Akte").ok_or(ExchangeError::NoAkte)?,
        (None, _) => return Err(ExchangeError::NoAkte),
        (Some(_), Some(_)) => return Err(ExchangeError::SeveralAkten),
    };
    Ok(Abgabe {
        prozess,
        created_at: kopf.text_at(&["Erstellungszeitpunkt"]).unwrap_or_default(),
        sender: authority(kopf.child("Absender")),
        receiver: authority(kopf.child("Empfaenger")),
        system: kopf.text_at(&["SendendesSystem", "Produktname"]).map(|p| {
            match kopf.text_at(&["SendendesSystem", "Version"]) {
                Some(v) => format!("{p} {v}"),
                None => p,
            }
        }),
        note: kopf.text_at(&["Hinweis"]),
        akte: read_akte(akte)?,
    })
}

fn authority(contact: Option<&Element>) -> Authority {
    let Some(c) = contact else {
        return Authority::default();
    };
    Authority {
        praefix: c
            .text_at(&["Behoerdenkennung", "Praefix", "code"])
            .unwrap_or_default(),
        schluessel: c
            .text_at(&["Behoerdenkennung", "Behoerdenschluessel", "code"])
            .unwrap_or_default(),
        name: c.text_at(&["Institution", "Name"]).unwrap_or_default(),
        unit: c
            .text_at(&["Organisationseinheit", "Name"])
            .unwrap_or_default(),
    }
}

fn id_of(e: &Element) -> Result<Uuid, ExchangeError> {
    e.text_at(&["Identifikation", "ID"])
        .and_then(|t| Uuid::parse(&t))
        .ok_or_else(|| invalid(format!("a {} without an ID that is a UUID", e.name)))
}

/// The fields of eakte's extension `kennung` on `e`, by name.
fn fields(e: &Element, kennung: &str) -> Vec<(String, String)> {
    e.all("AnwendungsspezifischeErweiterung")
        .filter(|x| x.text_at(&["Kennung"]).as_deref() == Some(kennung))
        .flat_map(|x| x.all("Feld"))
        .filter_map(|f| Some((f.text_at(&["Name"])?, f.text_at(&["Wert"])?)))
        .collect()
}

fn read_akte(akte: &Element) -> Result<Akte, ExchangeError> {
    let id = id_of(akte)?;
    let betreff = akte
        .text_at(&["AllgemeineMetadaten", "Betreff"])
        .unwrap_or_default();
    let numbers = fields(akte, EXTENSION_AKTE);
    let members = akte
        .all("Kontakt")
        .enumerate()
        .map(|(i, k)| {
            let wanted = format!("Kundennummer {}", i + 1);
            Member {
                vorname: k.text_at(&["Name", "Vorname", "Name"]).unwrap_or_default(),
                nachname: k
                    .text_at(&["Name", "Familienname", "Name"])
                    .unwrap_or_default(),
                geburtsdatum: k.text_at(&["Geburt", "Datum"]),
                strasse: k.text_at(&["Anschrift", "Strasse"]).unwrap_or_default(),
                plz: k
                    .text_at(&["Anschrift", "Postleitzahl"])
                    .unwrap_or_default(),
                ort: k.text_at(&["Anschrift", "Ort"]).unwrap_or_default(),
                kundennummer: numbers
                    .iter()
                    .find(|(name, _)| *name == wanted)
                    .map(|(_, v)| v.clone()),
            }
        })
        .collect();
    let mut vorgaenge = Vec::new();
    if let Some(content) = akte.child("Akteninhalt") {
        collect(content, &betreff, id, &mut vorgaenge)?;
    }
    Ok(Akte {
        id,
        kennzeichen: akte
            .text_at(&["AllgemeineMetadaten", "Kennzeichen"])
            .unwrap_or_default(),
        betreff,
        begins: akte.text_at(&["Laufzeit", "Beginn"]),
        ends: akte.text_at(&["Laufzeit", "Ende"]),
        members,
        vorgaenge,
    })
}

/// The Vorgänge of a container (an Akteninhalt, a Teilakte's, a Vorgang
/// with Teilvorgängen), flattened; documents held directly are a Vorgang
/// of their own under `betreff`.
fn collect(
    container: &Element,
    betreff: &str,
    id: Uuid,
    out: &mut Vec<Vorgang>,
) -> Result<(), ExchangeError> {
    let dokumente = container
        .all("Dokument")
        .map(dokument)
        .collect::<Result<Vec<_>, _>>()?;
    if !dokumente.is_empty() {
        out.push(Vorgang {
            id,
            schlagwort: betreff.to_string(),
            dokumente,
        });
    }
    for v in container.all("Vorgang").chain(container.all("Teilvorgang")) {
        let betreff = v
            .text_at(&["AllgemeineMetadaten", "Betreff"])
            .unwrap_or_else(|| betreff.to_string());
        collect(v, &betreff, id_of(v)?, out)?;
    }
    for t in container.all("Teilakte") {
        if let Some(content) = t.child("Akteninhalt") {
            let betreff = t
                .text_at(&["AllgemeineMetadaten", "Betreff"])
                .unwrap_or_else(|| betreff.to_string());
            collect(content, &betreff, id_of(t)?, out)?;
        }
    }
    Ok(())
}

fn dokument(d: &Element) -> Result<Dokument, ExchangeError> {
    let id = id_of(d)?;
    let extension = fields(d, EXTENSION_DOKUMENT);
    let field = |name: &str| {
        extension
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    // The first Format of the newest Version is the document's file; xdomea
    // allows several (renditions), eakte keeps the primary one.
    let version = d
        .all("Version")
        .last()
        .ok_or_else(|| invalid(format!("the Dokument {id} has no Version with a file")))?;
    let format = version
        .child("Format")
        .ok_or_else(|| invalid(format!("the Dokument {id} has no Format")))?;
    let primary = format.child("Primaerdokument");
    let name = primary
        .and_then(|p| p.text_at(&["Dateiname"]))
        .ok_or_else(|| invalid(format!("the Dokument {id} names no file")))?;
    let posteingang = d.text_at(&["Posteingangsdatum"]);
    let received_at = field("Eingangszeitpunkt")
        .filter(|t| crate::timefmt::parse(t).is_some())
        .or_else(|| {
            posteingang
                .as_deref()
                .and_then(crate::timefmt::parse_date)
                .map(|day| crate::clock::german_midnight(day).to_string())
        })
        .or_else(|| primary.and_then(|p| p.text_at(&["DatumUhrzeit"])))
        .filter(|t| crate::timefmt::parse(t).is_some())
        .ok_or_else(|| invalid(format!("the Dokument {id} has no Posteingangsdatum")))?;
    // An Anlage may have Anlagen of its own; eakte keeps them all beside
    // each other, with the document they came with.
    let mut anlagen = Vec::new();
    for a in d.all("Anlage") {
        let mut anlage = dokument(a)?;
        let nested = std::mem::take(&mut anlage.anlagen);
        anlagen.push(anlage);
        anlagen.extend(nested);
    }
    Ok(Dokument {
        id,
        betreff: d
            .text_at(&["AllgemeineMetadaten", "Betreff"])
            .unwrap_or_default(),
        received_at,
        doc_type: d.text_at(&["Typ"]).unwrap_or_default(),
        file: File {
            original_name: primary
                .and_then(|p| p.text_at(&["DateinameOriginal"]))
                .unwrap_or_else(|| name.clone()),
            name,
            format: Format::of_code(&format.text_at(&["Name", "code"]).unwrap_or_default()),
            sha256: field("SHA-256").map(|s| s.to_ascii_lowercase()),
        },
        history: d
            .all("HistorienProtokollInformation")
            .map(|h| History {
                by: h.text_at(&["Akteur"]).unwrap_or_default(),
                at: h.text_at(&["DatumUhrzeit"]).unwrap_or_default(),
                action: h.text_at(&["Aktion"]).unwrap_or_default(),
                note: h.text_at(&["Bemerkung"]),
            })
            .collect(),
        anlagen,
    })
}
