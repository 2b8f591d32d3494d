//! The answer to an Abgabe: `Abgabe.ImportBestaetigen.0402`, one entry per
//! object of the message (the Akte, each Vorgang, each Dokument and
//! Anlage) saying whether it was taken. eakte takes a message whole or not
//! at all, so either every object was imported or none was, with the reason.

use super::write::Xml;
use super::{Abgabe, Authority, IMPORT_BESTAETIGEN};
use crate::exchange::ids::Uuid;
use std::io::{self, Write};

/// The answer's file name: `<ProzessID>_Abgabe.ImportBestaetigen.0402.xml`.
pub fn file_name(prozess: &Uuid) -> String {
    format!("{prozess}_{IMPORT_BESTAETIGEN}.xml")
}

/// Every object of `abgabe` by its UUID, the Akte first.
pub fn objects(abgabe: &Abgabe) -> Vec<Uuid> {
    let mut ids = vec![abgabe.akte.id];
    for v in &abgabe.akte.vorgaenge {
        ids.push(v.id);
        for d in &v.dokumente {
            ids.push(d.id);
            ids.extend(d.anlagen.iter().map(|a| a.id));
        }
    }
    ids
}

/// Write the answer to the message `prozess` from `sender` (us) to
/// `receiver` (who sent it): `objects` all taken, or none with `refusal`.
pub fn write(
    prozess: &Uuid,
    sender: &Authority,
    receiver: &Authority,
    objects: &[Uuid],
    refusal: Option<&str>,
    out: impl Write,
) -> io::Result<()> {
    let mut x = Xml::new(io::BufWriter::new(out));
    x.root(IMPORT_BESTAETIGEN)?;
    x.kopf_start(
        &prozess.to_string(),
        ("0402", "Abgabe.ImportBestaetigen"),
        &crate::clock::now_rfc3339(),
        sender,
        receiver,
    )?;
    x.close("Kopf")?;
    for id in objects {
        x.open("AbgegebenesObjekt")?;
        x.text("IDSGO", &id.to_string())?;
        x.text("Erfolgreich", if refusal.is_some() { "0" } else { "1" })?;
        if let Some(reason) = refusal {
            x.text("Fehlermeldung", reason)?;
        }
        x.close("AbgegebenesObjekt")?;
    }
    x.end_root(IMPORT_BESTAETIGEN)
}
