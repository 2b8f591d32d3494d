//! The registry's records, as the specialist software (Fachverfahren) exports
//! them: benefit recipients grouped in Bedarfsgemeinschaften (BG), caseworkers
//! with their surname ranges per site, and absences with their deputies.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The number of a Bedarfsgemeinschaft, canonical form `07450BG0160367`: the
/// 5-digit office number, `BG`, the 7-digit running number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BgNummer(String);

/// A person's customer number, canonical form `123D456789`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Kundennummer(String);

/// A caseworker's login id (Kennung), lower case, e.g. `sb-husum-2`. Read
/// through [`Kennung::parse`], so that one from a request is always valid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Kennung(String);

impl BgNummer {
    /// Accept `07450BG0160367`, `07450 BG 0160367`, `07450//0160367`, `07450/0160367`.
    pub fn parse(s: &str) -> Option<BgNummer> {
        let compact: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        let (office, number) = compact
            .split_once("BG")
            .or_else(|| compact.split_once("//"))
            .or_else(|| compact.split_once('/'))?;
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        (digits(office, 5) && digits(number, 7)).then(|| BgNummer(format!("{office}BG{number}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Kundennummer {
    /// Accept `123D456789` (letter in either case, spaces ignored).
    pub fn parse(s: &str) -> Option<Kundennummer> {
        let compact: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        let b = compact.as_bytes();
        let ok = b.len() == 10
            && b[..3].iter().all(u8::is_ascii_digit)
            && b[3].is_ascii_uppercase()
            && b[4..].iter().all(u8::is_ascii_digit);
        ok.then_some(Kundennummer(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest Kennung.
pub const KENNUNG_MAX_CHARS: usize = 32;

/// Why a text is not a Kennung, in words an admin can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidKennung {
    #[error("a Kennung must not be empty")]
    Empty,
    #[error("{0:?} is longer than {KENNUNG_MAX_CHARS} characters")]
    TooLong(String),
    /// Umlauts and other letters outside a–z are refused rather than folded:
    /// Kennungen are login ids, appear in paths and logs, and two that differ
    /// only by look-alike letters (Latin a, Cyrillic а) must never both exist.
    #[error(
        "{text:?} contains {found:?}: a Kennung may use only the letters a–z, the digits 0–9 \
         and . _ - (write umlauts as ae, oe, ue and ß as ss, e.g. \"toen-sb1\" for Tönning)"
    )]
    Character { text: String, found: char },
}

impl Kennung {
    /// Letters a–z, digits, `.`, `_`, `-`; at most 32 characters; case-insensitive.
    pub fn parse(s: &str) -> Option<Kennung> {
        Kennung::check(s).ok()
    }

    /// Like [`Kennung::parse`], saying what is wrong.
    pub fn check(s: &str) -> Result<Kennung, InvalidKennung> {
        let s = s.trim();
        if s.is_empty() {
            return Err(InvalidKennung::Empty);
        }
        if let Some(found) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(InvalidKennung::Character {
                text: s.to_string(),
                found,
            });
        }
        if s.len() > KENNUNG_MAX_CHARS {
            return Err(InvalidKennung::TooLong(s.to_string()));
        }
        Ok(Kennung(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Kennung {
    type Error = InvalidKennung;
    fn try_from(s: String) -> Result<Kennung, InvalidKennung> {
        Kennung::check(&s)
    }
}

impl From<Kennung> for String {
    fn from(k: Kennung) -> String {
        k.0
    }
}

impl std::str::FromStr for Kennung {
    type Err = InvalidKennung;
    fn from_str(s: &str) -> Result<Self, InvalidKennung> {
        Kennung::check(s)
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
display_as_str!(BgNummer, Kundennummer, Kennung);

macro_rules! from_str_by_parse {
    ($($t:ty: $example:literal),*) => {$(
        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::parse(s).ok_or_else(|| {
                    format!("{s:?} is not a valid {} (like {})", stringify!($t), $example)
                })
            }
        }
    )*};
}
from_str_by_parse!(BgNummer: "07450BG0160367", Kundennummer: "123D456789");

/// A benefit recipient: one member of one Bedarfsgemeinschaft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub kundennummer: Kundennummer,
    pub bg: BgNummer,
    pub nachname: String,
    pub vorname: String,
    pub geburtsdatum: Date,
    pub strasse: String,
    pub plz: String,
    pub ort: String,
    /// The site (Sozialzentrum) responsible for the BG.
    pub standort: String,
    /// An explicit assignment to a caseworker, overriding surname ranges.
    pub sachbearbeiter: Option<Kennung>,
    /// The BG's Antragsteller (applicant), whose surname decides the surname
    /// range (see `route::responsible`).
    #[serde(default)]
    pub antragsteller: bool,
    /// Order of first import (members are listed in it).
    pub position: u64,
}

/// A surname range a caseworker handles at a site: initial letters `von`–`bis`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub standort: String,
    pub von: String,
    pub bis: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caseworker {
    pub kennung: Kennung,
    pub name: String,
    pub team: Option<String>,
    pub assignments: Vec<Assignment>,
}

/// An absence: from `from` to `to` (inclusive) `deputy` receives the new items
/// and sees the open ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Absence {
    pub id: u64,
    pub kennung: Kennung,
    pub from: Date,
    pub to: Date,
    pub deputy: Kennung,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bg_numbers_in_every_written_form() {
        let canonical = Some(BgNummer("07450BG0160367".into()));
        assert_eq!(BgNummer::parse("07450BG0160367"), canonical);
        assert_eq!(BgNummer::parse("07450 BG 0160367"), canonical);
        assert_eq!(BgNummer::parse("07450bg0160367"), canonical);
        assert_eq!(BgNummer::parse("07450//0160367"), canonical);
        assert_eq!(BgNummer::parse("07450/0160367"), canonical);
        assert_eq!(BgNummer::parse("0745BG0160367"), None);
        assert_eq!(BgNummer::parse("07450BG016036X"), None);
    }

    #[test]
    fn kundennummern_and_kennungen() {
        assert_eq!(
            Kundennummer::parse("123d456789").unwrap().as_str(),
            "123D456789"
        );
        assert_eq!(Kundennummer::parse("1234456789"), None);
        assert_eq!(
            Kennung::parse(" SB-Husum-2 ").unwrap().as_str(),
            "sb-husum-2"
        );
        assert_eq!(Kennung::parse("klaerung:husum"), None);
    }

    #[test]
    fn a_kennung_with_an_umlaut_is_refused_with_the_allowed_characters() {
        let err = Kennung::check("tön-sb1").unwrap_err();
        assert_eq!(
            err,
            InvalidKennung::Character {
                text: "tön-sb1".into(),
                found: 'ö'
            }
        );
        let message = err.to_string();
        assert!(message.contains("'ö'"), "{message}");
        assert!(
            message.contains("a–z") && message.contains("toen-sb1"),
            "{message}"
        );
        assert!(Kennung::check("toen-sb1").is_ok());
        // Look-alike letters of other scripts are refused alike.
        assert!(Kennung::check("sb-а1").is_err(), "Cyrillic а");
    }
}
