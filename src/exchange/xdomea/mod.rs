//! xdomea 3.0.0, the standard German authorities hand Schriftgut over in:
//! the message `Abgabe.Abgabe.0401` (an Akte given to another authority) and
//! its answer `Abgabe.ImportBestaetigen.0402`. [`Abgabe`] is the message as
//! eakte understands it, written by [`write`] and read back by [`read`] (from
//! eakte or from another E-Akte product), so that what one eakte writes the
//! next one reads whole.
//!
//! How an eakte Akte maps onto xdomea: one `Akte` per BG (Kennzeichen = BG
//! number, the members as `Kontakt`), one `Vorgang` per Schlagwort, one
//! `Dokument` per document, an e-mail's attachments as its `Anlage`n. What
//! xdomea has no element for (the exact Eingangszeitpunkt, the SHA-256 of a
//! file, the Kundennummern) travels in eakte's `AnwendungsspezifischeErweiterung`,
//! which a receiver that does not know it keeps without reading.

pub mod read;
pub mod receipt;
pub mod schema;
pub mod write;

use super::ids::Uuid;

/// The xdomea namespace; the prefix `xdomea` is mandatory by the specification.
pub const NAMESPACE: &str = "urn:xoev-de:xdomea:schema:3.0.0";
/// The message's name, as its root element and its file names carry it.
pub const ABGABE: &str = "Abgabe.Abgabe.0401";
pub const IMPORT_BESTAETIGEN: &str = "Abgabe.ImportBestaetigen.0402";
/// The Kennung of eakte's extensions.
pub const EXTENSION_AKTE: &str = "urn:eakte:xdomea:erweiterung:akte:1";
pub const EXTENSION_DOKUMENT: &str = "urn:eakte:xdomea:erweiterung:dokument:1";

/// The package's name: `<ProzessID>_Abgabe.Abgabe.0401.zip`.
pub fn package_name(prozess: &Uuid) -> String {
    format!("{prozess}_{ABGABE}.zip")
}

/// The message's name inside the package.
pub fn message_name(prozess: &Uuid) -> String {
    format!("{prozess}_{ABGABE}.xml")
}

/// An authority (Behörde) sending or receiving.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Authority {
    /// DVDV Präfix (the class of authority, e.g. `ags`) and the
    /// Behördenschlüssel within it.
    pub praefix: String,
    pub schluessel: String,
    pub name: String,
    /// Organisationseinheit.
    pub unit: String,
}

/// A message `Abgabe.Abgabe.0401` holding one Akte.
#[derive(Debug, Clone, PartialEq)]
pub struct Abgabe {
    pub prozess: Uuid,
    /// Erstellungszeitpunkt, RFC 3339.
    pub created_at: String,
    pub sender: Authority,
    pub receiver: Authority,
    /// The product and version that wrote it (`SendendesSystem`).
    pub system: Option<String>,
    pub note: Option<String>,
    pub akte: Akte,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Akte {
    pub id: Uuid,
    /// Kennzeichen: the BG number in eakte.
    pub kennzeichen: String,
    pub betreff: String,
    /// Laufzeit: first and last receipt day.
    pub begins: Option<String>,
    pub ends: Option<String>,
    pub members: Vec<Member>,
    pub vorgaenge: Vec<Vorgang>,
}

/// A member of the BG (a `Kontakt` of the Akte).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Member {
    pub vorname: String,
    pub nachname: String,
    /// `YYYY-MM-DD`.
    pub geburtsdatum: Option<String>,
    pub strasse: String,
    pub plz: String,
    pub ort: String,
    pub kundennummer: Option<String>,
}

/// The documents under one Schlagwort.
#[derive(Debug, Clone, PartialEq)]
pub struct Vorgang {
    pub id: Uuid,
    /// Betreff: the Schlagwort.
    pub schlagwort: String,
    pub dokumente: Vec<Dokument>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dokument {
    pub id: Uuid,
    pub betreff: String,
    /// Eingangsdatum, exact (RFC 3339); xdomea's Posteingangsdatum is its day.
    pub received_at: String,
    /// Dokumenttyp (`Typ`).
    pub doc_type: String,
    pub file: File,
    pub history: Vec<History>,
    /// An e-mail's attachments (`Anlage`).
    pub anlagen: Vec<Dokument>,
}

/// A primary file (`Primaerdokument`) and its format.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    /// The entry in the package: `<UUID>_<name>.<ext>`.
    pub name: String,
    /// The name it was received under.
    pub original_name: String,
    pub format: Format,
    /// Lower-case hex SHA-256, when the sender gave it.
    pub sha256: Option<String>,
}

/// The file formats eakte keeps, with their code in the xdomea code list
/// Dateiformat 1.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Tiff,
    Png,
    Jpeg,
    Eml,
    Text,
    Other,
}

impl Format {
    pub fn code(self) -> &'static str {
        match self {
            Format::Pdf => "018",
            Format::Tiff => "024",
            Format::Png => "019",
            Format::Jpeg => "010",
            Format::Eml => "006",
            Format::Text => "045",
            Format::Other => "100",
        }
    }

    /// The format of a code (each spelling of an extension has its own).
    pub fn of_code(code: &str) -> Format {
        match code.trim() {
            "018" | "044" => Format::Pdf,
            "023" | "024" => Format::Tiff,
            "019" => Format::Png,
            "009" | "010" | "011" => Format::Jpeg,
            "006" => Format::Eml,
            "045" => Format::Text,
            _ => Format::Other,
        }
    }

    /// The file name extension eakte gives it.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Tiff => "tiff",
            Format::Png => "png",
            Format::Jpeg => "jpeg",
            Format::Eml => "eml",
            Format::Text => "txt",
            Format::Other => "bin",
        }
    }

    /// `Format/Version`: mandatory; eakte does not tell PDF versions apart.
    pub fn version(self) -> &'static str {
        match self {
            Format::Eml => "RFC 5322",
            Format::Text => "UTF-8",
            _ => "",
        }
    }
}

/// One entry of an object's history (`HistorienProtokollInformation`).
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    pub by: String,
    /// RFC 3339.
    pub at: String,
    pub action: String,
    pub note: Option<String>,
}

impl Abgabe {
    /// Every document of the message, attachments after their e-mail.
    pub fn documents(&self) -> impl Iterator<Item = &Dokument> {
        self.akte
            .vorgaenge
            .iter()
            .flat_map(|v| v.dokumente.iter())
            .flat_map(|d| std::iter::once(d).chain(d.anlagen.iter()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dokument(n: u32, format: Format, anlagen: Vec<Dokument>) -> Dokument {
        let id = Uuid::stable("t", "dokument", &n.to_string());
        Dokument {
            id,
            betreff: format!("Brief <{n}> & Co"),
            received_at: format!("2026-11-0{n}T08:15:3{n}.123456Z"),
            doc_type: "Widerspruch".into(),
            file: File {
                name: format!(
                    "{}_Brief.{}",
                    Uuid::stable("t", "datei", &n.to_string()),
                    format.extension()
                ),
                original_name: format!("Brief {n}.{}", format.extension()),
                format,
                sha256: Some(format!("{n:064}")),
            },
            history: vec![History {
                by: "sb-h1".into(),
                at: "2026-11-02T09:00:00Z".into(),
                action: "gelesen".into(),
                note: Some("im Postkorb".into()),
            }],
            anlagen,
        }
    }

    fn sample() -> Abgabe {
        let authority = |name: &str| Authority {
            praefix: "ags".into(),
            schluessel: "01054000".into(),
            name: name.into(),
            unit: "Team 1".into(),
        };
        Abgabe {
            prozess: Uuid::random().unwrap(),
            created_at: "2026-12-01T10:00:00Z".into(),
            sender: authority("Jobcenter Nordfriesland"),
            receiver: authority("Jobcenter Kiel"),
            system: Some(format!("eakte {}", env!("CARGO_PKG_VERSION"))),
            note: Some("Umzug".into()),
            akte: Akte {
                id: Uuid::stable("t", "akte", "07450BG0000102"),
                kennzeichen: "07450BG0000102".into(),
                betreff: "Leistungsakte 07450BG0000102".into(),
                begins: Some("2026-11-01".into()),
                ends: Some("2026-11-03".into()),
                members: vec![Member {
                    vorname: "Maria".into(),
                    nachname: "Albers".into(),
                    geburtsdatum: Some("1980-02-03".into()),
                    strasse: "Hafenstraße 1".into(),
                    plz: "25813".into(),
                    ort: "Husum".into(),
                    kundennummer: Some("102D000001".into()),
                }],
                vorgaenge: vec![
                    Vorgang {
                        id: Uuid::stable("t", "vorgang", "Leistung"),
                        schlagwort: "Leistung".into(),
                        dokumente: vec![
                            dokument(1, Format::Pdf, Vec::new()),
                            dokument(2, Format::Eml, vec![dokument(3, Format::Jpeg, Vec::new())]),
                        ],
                    },
                    Vorgang {
                        id: Uuid::stable("t", "vorgang", "Widerspruch"),
                        schlagwort: "Widerspruch".into(),
                        dokumente: vec![dokument(4, Format::Tiff, Vec::new())],
                    },
                ],
            },
        }
    }

    #[test]
    fn a_message_validates_against_the_schema_and_reads_back_whole() {
        let abgabe = sample();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(message_name(&abgabe.prozess));
        write::write(&abgabe, std::fs::File::create(&path).unwrap()).unwrap();
        schema::validate(&path, dir.path()).unwrap();
        let read = read::read(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(read, abgabe);
        assert_eq!(read.documents().count(), 4);
    }

    #[test]
    fn the_schema_check_names_what_is_wrong() {
        let abgabe = sample();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.xml");
        let mut xml = Vec::new();
        write::write(&abgabe, &mut xml).unwrap();
        let broken = String::from_utf8(xml).unwrap().replace(
            "<xdomea:Importbestaetigung>1",
            "<xdomea:Importbestaetigung>0",
        );
        std::fs::write(&path, broken).unwrap();
        let e = schema::validate(&path, dir.path()).unwrap_err().to_string();
        assert!(e.contains("Importbestaetigung"), "{e}");
        assert!(!e.contains(&dir.path().display().to_string()), "{e}");
    }

    #[test]
    fn the_receipt_validates_against_the_schema() {
        let abgabe = sample();
        let dir = tempfile::tempdir().unwrap();
        for refusal in [None, Some("Die Datei fehlt.")] {
            let path = dir.path().join(receipt::file_name(&abgabe.prozess));
            let objects = receipt::objects(&abgabe);
            assert_eq!(objects.len(), 1 + 2 + 4);
            receipt::write(
                &abgabe.prozess,
                &abgabe.receiver,
                &abgabe.sender,
                &objects,
                refusal,
                std::fs::File::create(&path).unwrap(),
            )
            .unwrap();
            schema::validate(&path, dir.path()).unwrap();
        }
    }

    #[test]
    fn another_products_akte_is_read_with_its_vorgaenge_flattened() {
        // The helper's sample of a foreign product (Teil-structure, no eakte
        // extension but a SHA-256 in another one).
        let xml = include_str!("../../../tests/fixtures/xdomea/fremdes-produkt-0401.xml");
        let read = read::read(xml.as_bytes()).unwrap();
        assert_eq!(read.akte.kennzeichen, "421-12345BG0004711");
        let schlagworte: Vec<_> = read
            .akte
            .vorgaenge
            .iter()
            .map(|v| v.schlagwort.as_str())
            .collect();
        assert_eq!(
            schlagworte,
            [
                "Erstantrag Bürgergeld 2024",
                "Weiterbewilligungsantrag 2025"
            ]
        );
        assert_eq!(read.documents().count(), 5);
        let first = &read.akte.vorgaenge[0].dokumente[0];
        // No exact time given: the German midnight of the Posteingangsdatum.
        assert_eq!(first.received_at, "2024-01-31T23:00:00Z");
        assert_eq!(
            read.akte.members[0].geburtsdatum.as_deref(),
            Some("1985-07-23")
        );
    }
}
