//! Writing an [`Abgabe`] as xdomea 3.0.0 XML, element by element in the
//! order the schema's sequences demand (xdomea is strict about order: an
//! Akte's `Kontakt` comes after its content, an `Anlage`'s `Nummer` last).
//! Text from outside (names, subjects) is escaped, and characters XML 1.0
//! cannot carry at all are dropped.

use super::{Abgabe, Akte, Authority, Dokument, History, Member, Vorgang, ABGABE, NAMESPACE};
use super::{EXTENSION_AKTE, EXTENSION_DOKUMENT};
use std::io::{self, Write};

/// The code lists eakte writes codes of.
const NACHRICHTENTYP: (&str, &str) = ("urn:xoev-de:xdomea:codeliste:nachrichtentyp", "2.0");
const DATEIFORMAT: (&str, &str) = ("urn:xoev-de:xdomea:codeliste:dateiformat", "1.0");
const VERTRAULICHKEIT: (&str, &str) = ("urn:xoev-de:xdomea:codeliste:vertraulichkeitsstufe", "1.0");
const MEDIUM: (&str, &str) = ("urn:xoev-de:xdomea:codeliste:medium", "1.0");
const DATENTYP: (&str, &str) = ("urn:xoev-de:xdomea:codeliste:datentyp", "1.1");

/// An XML writer that indents and escapes; every element is in the
/// `xdomea` namespace but the code lists' `code` and `name`.
pub(super) struct Xml<W: Write> {
    out: W,
    depth: usize,
}

impl<W: Write> Xml<W> {
    pub(super) fn new(out: W) -> Xml<W> {
        Xml { out, depth: 0 }
    }

    fn indent(&mut self) -> io::Result<()> {
        write!(self.out, "\n{:width$}", "", width = self.depth * 2)
    }

    /// The root element `name` with the namespace declarations.
    pub(super) fn root(&mut self, name: &str) -> io::Result<()> {
        write!(
            self.out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xdomea:{name} xmlns:xdomea=\"{NAMESPACE}\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xsi:schemaLocation=\"{NAMESPACE} xdomea-Nachrichten-AbgabeDurchfuehren.xsd\">"
        )?;
        self.depth = 1;
        Ok(())
    }

    pub(super) fn end_root(&mut self, name: &str) -> io::Result<()> {
        write!(self.out, "\n</xdomea:{name}>\n")?;
        self.out.flush()
    }

    pub(super) fn open(&mut self, name: &str) -> io::Result<()> {
        self.indent()?;
        write!(self.out, "<xdomea:{name}>")?;
        self.depth += 1;
        Ok(())
    }

    pub(super) fn close(&mut self, name: &str) -> io::Result<()> {
        self.depth -= 1;
        self.indent()?;
        write!(self.out, "</xdomea:{name}>")
    }

    /// `<xdomea:name>text</xdomea:name>`.
    pub(super) fn text(&mut self, name: &str, text: &str) -> io::Result<()> {
        self.indent()?;
        write!(self.out, "<xdomea:{name}>{}</xdomea:{name}>", escape(text))
    }

    /// [`Self::text`] unless `text` is empty (an optional element left out).
    pub(super) fn optional(&mut self, name: &str, text: &str) -> io::Result<()> {
        if text.trim().is_empty() {
            return Ok(());
        }
        self.text(name, text)
    }

    /// A code of the list `(uri, version)`, with its name if the list allows one.
    pub(super) fn code(
        &mut self,
        name: &str,
        list: (&str, &str),
        code: &str,
        label: Option<&str>,
    ) -> io::Result<()> {
        self.indent()?;
        write!(
            self.out,
            "<xdomea:{name} listURI=\"{}\" listVersionID=\"{}\"><code>{}</code>",
            list.0,
            list.1,
            escape(code)
        )?;
        if let Some(label) = label {
            write!(self.out, "<name>{}</name>", escape(label))?;
        }
        write!(self.out, "</xdomea:{name}>")
    }

    /// A code of a list xdomea does not fix (the Behördenkennung's).
    fn bare_code(&mut self, name: &str, code: &str) -> io::Result<()> {
        self.indent()?;
        write!(
            self.out,
            "<xdomea:{name}><code>{}</code></xdomea:{name}>",
            escape(code)
        )
    }

    /// A `Kontakt` of an authority (Absender, Empfänger).
    pub(super) fn authority(&mut self, element: &str, a: &Authority) -> io::Result<()> {
        self.open(element)?;
        if !a.schluessel.is_empty() || !a.praefix.is_empty() {
            self.open("Behoerdenkennung")?;
            if !a.schluessel.is_empty() {
                self.bare_code("Behoerdenschluessel", &a.schluessel)?;
            }
            if !a.praefix.is_empty() {
                self.bare_code("Praefix", &a.praefix)?;
            }
            self.close("Behoerdenkennung")?;
        }
        if !a.name.is_empty() {
            self.open("Institution")?;
            self.text("Name", &a.name)?;
            self.close("Institution")?;
        }
        if !a.unit.is_empty() {
            self.open("Organisationseinheit")?;
            self.text("Name", &a.unit)?;
            self.close("Organisationseinheit")?;
        }
        self.close(element)
    }

    /// The Kopf's first elements, as every Abgabe message has them.
    pub(super) fn kopf_start(
        &mut self,
        prozess: &str,
        (code, label): (&str, &str),
        created_at: &str,
        sender: &Authority,
        receiver: &Authority,
    ) -> io::Result<()> {
        self.open("Kopf")?;
        self.text("ProzessID", prozess)?;
        self.code("Nachrichtentyp", NACHRICHTENTYP, code, Some(label))?;
        self.text("Erstellungszeitpunkt", created_at)?;
        self.authority("Absender", sender)?;
        self.authority("Empfaenger", receiver)?;
        self.open("SendendesSystem")?;
        self.text("Produktname", "eakte")?;
        self.text("Version", env!("CARGO_PKG_VERSION"))?;
        self.close("SendendesSystem")
    }

    fn history(&mut self, entries: &[History]) -> io::Result<()> {
        for h in entries {
            self.open("HistorienProtokollInformation")?;
            self.text("Akteur", &h.by)?;
            self.text("DatumUhrzeit", &h.at)?;
            if let Some(note) = &h.note {
                self.optional("Bemerkung", note)?;
            }
            self.text("Aktion", &h.action)?;
            self.close("HistorienProtokollInformation")?;
        }
        Ok(())
    }

    /// An `AnwendungsspezifischeErweiterung` of eakte with `fields` (name,
    /// Datentyp code, value).
    fn extension(
        &mut self,
        kennung: &str,
        name: &str,
        fields: &[(&str, &str, &str)],
    ) -> io::Result<()> {
        if fields.is_empty() {
            return Ok(());
        }
        self.open("AnwendungsspezifischeErweiterung")?;
        self.text("Kennung", kennung)?;
        self.text("Name", name)?;
        for (field, datentyp, value) in fields {
            self.open("Feld")?;
            self.text("Name", field)?;
            self.code("Datentyp", DATENTYP, datentyp, None)?;
            self.text("Wert", value)?;
            self.close("Feld")?;
        }
        self.close("AnwendungsspezifischeErweiterung")
    }
}

/// Datentyp codes of the fields eakte writes.
const STRING: &str = "038";
const HEX: &str = "018";
const DATE_TIME: &str = "006";

/// Write `abgabe` as a message `Abgabe.Abgabe.0401` to `out`.
pub fn write(abgabe: &Abgabe, out: impl Write) -> io::Result<()> {
    let mut x = Xml::new(io::BufWriter::new(out));
    x.root(ABGABE)?;
    x.kopf_start(
        &abgabe.prozess.to_string(),
        ("0401", "Abgabe.Abgabe"),
        &abgabe.created_at,
        &abgabe.sender,
        &abgabe.receiver,
    )?;
    if let Some(note) = &abgabe.note {
        x.optional("Hinweis", note)?;
    }
    // eakte always asks for both answers: the sender's record of the
    // handover is complete only with them.
    x.text("Importbestaetigung", "1")?;
    x.text("Empfangsbestaetigung", "1")?;
    x.close("Kopf")?;
    x.open("Schriftgutobjekt")?;
    akte(&mut x, &abgabe.akte)?;
    x.close("Schriftgutobjekt")?;
    x.end_root(ABGABE)
}

fn akte<W: Write>(x: &mut Xml<W>, akte: &Akte) -> io::Result<()> {
    x.open("Akte")?;
    identification(x, &akte.id.to_string(), None)?;
    x.open("AllgemeineMetadaten")?;
    x.optional("Betreff", &akte.betreff)?;
    x.text("Kennzeichen", &akte.kennzeichen)?;
    // Sozialdaten: VS – nur für den Dienstgebrauch.
    x.code("Vertraulichkeitsstufe", VERTRAULICHKEIT, "002", None)?;
    x.code("Medium", MEDIUM, "001", None)?;
    x.close("AllgemeineMetadaten")?;
    x.text("Typ", "Leistungsakte SGB II")?;
    if akte.begins.is_some() || akte.ends.is_some() {
        x.open("Laufzeit")?;
        if let Some(day) = &akte.begins {
            x.text("Beginn", day)?;
        }
        if let Some(day) = &akte.ends {
            x.text("Ende", day)?;
        }
        x.close("Laufzeit")?;
    }
    if !akte.vorgaenge.is_empty() {
        x.open("Akteninhalt")?;
        for (n, v) in akte.vorgaenge.iter().enumerate() {
            vorgang(x, v, n + 1)?;
        }
        x.close("Akteninhalt")?;
    }
    for m in &akte.members {
        member(x, m)?;
    }
    let numbers: Vec<(String, &str)> = akte
        .members
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            Some((
                format!("Kundennummer {}", i + 1),
                m.kundennummer.as_deref()?,
            ))
        })
        .collect();
    let fields: Vec<(&str, &str, &str)> = numbers
        .iter()
        .map(|(name, number)| (name.as_str(), STRING, *number))
        .collect();
    x.extension(EXTENSION_AKTE, "eakte: Kundennummern der Kontakte", &fields)?;
    x.close("Akte")
}

fn identification<W: Write>(x: &mut Xml<W>, id: &str, number: Option<usize>) -> io::Result<()> {
    x.open("Identifikation")?;
    x.text("ID", id)?;
    if let Some(n) = number {
        x.text("NummerImUebergeordnetenContainer", &n.to_string())?;
    }
    x.close("Identifikation")
}

fn vorgang<W: Write>(x: &mut Xml<W>, v: &Vorgang, number: usize) -> io::Result<()> {
    x.open("Vorgang")?;
    identification(x, &v.id.to_string(), Some(number))?;
    x.open("AllgemeineMetadaten")?;
    x.text("Betreff", &v.schlagwort)?;
    x.close("AllgemeineMetadaten")?;
    x.text("Typ", "Schlagwort")?;
    for (n, d) in v.dokumente.iter().enumerate() {
        x.open("Dokument")?;
        dokument(x, d, &v.schlagwort, n + 1)?;
        x.close("Dokument")?;
    }
    x.close("Vorgang")
}

/// The content of a `Dokument` or `Anlage` element (an `Anlage` adds its
/// `Nummer` after all of it).
fn dokument<W: Write>(
    x: &mut Xml<W>,
    d: &Dokument,
    schlagwort: &str,
    number: usize,
) -> io::Result<()> {
    identification(x, &d.id.to_string(), Some(number))?;
    x.open("AllgemeineMetadaten")?;
    x.optional("Betreff", &d.betreff)?;
    x.close("AllgemeineMetadaten")?;
    if let Some(day) = german_day(&d.received_at) {
        x.text("Posteingangsdatum", &day)?;
    }
    x.optional("Typ", &d.doc_type)?;
    x.history(&d.history)?;
    x.open("Version")?;
    x.text("Nummer", "1")?;
    x.open("Format")?;
    x.code("Name", DATEIFORMAT, d.file.format.code(), None)?;
    if d.file.format == super::Format::Other {
        x.text("SonstigerName", "unbekannt")?;
    }
    x.text("Version", d.file.format.version())?;
    x.open("Primaerdokument")?;
    x.text("Dateiname", &d.file.name)?;
    x.optional("DateinameOriginal", &d.file.original_name)?;
    x.text("DatumUhrzeit", &d.received_at)?;
    x.close("Primaerdokument")?;
    x.close("Format")?;
    x.close("Version")?;
    for (n, a) in d.anlagen.iter().enumerate() {
        x.open("Anlage")?;
        dokument(x, a, schlagwort, n + 1)?;
        x.text("Nummer", &(n + 1).to_string())?;
        x.close("Anlage")?;
    }
    let mut fields = vec![
        ("Eingangszeitpunkt", DATE_TIME, d.received_at.as_str()),
        ("Schlagwort", STRING, schlagwort),
    ];
    if let Some(sha) = &d.file.sha256 {
        fields.push(("SHA-256", HEX, sha.as_str()));
    }
    x.extension(EXTENSION_DOKUMENT, "eakte: Eingang und Prüfsumme", &fields)
}

fn member<W: Write>(x: &mut Xml<W>, m: &Member) -> io::Result<()> {
    x.open("Kontakt")?;
    x.open("Name")?;
    for (element, name) in [("Familienname", &m.nachname), ("Vorname", &m.vorname)] {
        if !name.is_empty() {
            x.open(element)?;
            x.text("Name", name)?;
            x.close(element)?;
        }
    }
    x.close("Name")?;
    if !(m.strasse.is_empty() && m.plz.is_empty() && m.ort.is_empty()) {
        x.open("Anschrift")?;
        x.optional("Strasse", &m.strasse)?;
        x.optional("Postleitzahl", &m.plz)?;
        x.optional("Ort", &m.ort)?;
        x.close("Anschrift")?;
    }
    if let Some(day) = &m.geburtsdatum {
        x.open("Geburt")?;
        x.text("Datum", day)?;
        x.close("Geburt")?;
    }
    x.close("Kontakt")
}

/// The German calendar day of an RFC 3339 time, as xs:date.
pub fn german_day(at: &str) -> Option<String> {
    crate::timefmt::parse(at).map(|t| crate::clock::german_date(t).to_string())
}

/// `text` escaped for XML content and attributes, without the characters
/// XML 1.0 forbids (control characters other than tab and line breaks).
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}
