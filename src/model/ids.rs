//! Identifiers. Newtypes keep a document id from ever being used as an arrival id;
//! the SHA-256 of an original is the key of its blob.

use crate::model::registry::Kennung;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A stored document: one per distinct content (SHA-256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DocumentId(pub u64);

/// One arrival of a scan or upload. The same bytes arriving twice make two arrivals
/// of one document. The arrival id is also the idempotency key of the pipeline: it is
/// fixed when a scan is claimed and survives crashes in the claimed file's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ArrivalId(pub u64);

/// A postbox item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemId(pub u64);

/// A lower-case hex SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sha256(String);

macro_rules! u64_id {
    ($name:ident) => {
        impl $name {
            pub fn to_key(self) -> [u8; 8] {
                self.0.to_be_bytes()
            }
            pub fn from_key(key: &[u8]) -> Option<Self> {
                key.try_into().ok().map(|b| Self(u64::from_be_bytes(b)))
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map(Self)
            }
        }
    };
}
u64_id!(DocumentId);
u64_id!(ArrivalId);
u64_id!(ItemId);

impl Sha256 {
    /// Hash `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256 {
        use sha2::Digest;
        Sha256(hex::encode(sha2::Sha256::digest(bytes)))
    }
    /// Hash a file by streaming it; returns the digest and the file's length.
    pub fn of_file(path: &std::path::Path) -> std::io::Result<(Sha256, u64)> {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        let size = std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
        Ok((Sha256(hex::encode(hasher.finalize())), size))
    }

    /// Accept a lower-case hex digest (e.g. a blob's file name).
    pub fn parse(s: &str) -> Option<Sha256> {
        (s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| Sha256(s.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Name of the clearing postboxes (Klärungsstelle).
pub const CLEARING: &str = "klaerung";

/// A postbox: a caseworker's, or a site's clearing postbox.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PostboxId {
    Caseworker(Kennung),
    Clearing { site: Option<String> },
}

impl PostboxId {
    /// `sb-h1`, `klaerung:husum` or `klaerung`.
    pub fn parse(s: &str) -> Option<PostboxId> {
        let s = s.trim();
        if s.eq_ignore_ascii_case(CLEARING) {
            return Some(PostboxId::Clearing { site: None });
        }
        if let Some(site) = s.strip_prefix(CLEARING).and_then(|r| r.strip_prefix(':')) {
            return (!site.is_empty()).then(|| PostboxId::Clearing {
                site: Some(site.to_string()),
            });
        }
        Kennung::parse(s).map(PostboxId::Caseworker)
    }
}

impl fmt::Display for PostboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PostboxId::Caseworker(k) => write!(f, "{k}"),
            PostboxId::Clearing { site: None } => f.write_str(CLEARING),
            PostboxId::Clearing { site: Some(site) } => write!(f, "{CLEARING}:{site}"),
        }
    }
}

impl std::str::FromStr for PostboxId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PostboxId::parse(s).ok_or_else(|| {
            format!("{s:?} is not a postbox (a Kennung, `klaerung` or `klaerung:<site>`)")
        })
    }
}

impl Serialize for PostboxId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PostboxId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PostboxId::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid postbox {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_numerically() {
        assert!(DocumentId(2).to_key() < DocumentId(10).to_key());
        assert_eq!(
            DocumentId::from_key(&DocumentId(77).to_key()),
            Some(DocumentId(77))
        );
    }

    #[test]
    fn postbox_names_round_trip() {
        for s in ["sb-h1", "klaerung", "klaerung:husum", "klaerung:Föhr"] {
            assert_eq!(PostboxId::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(PostboxId::parse("klaerung:"), None);
        assert_eq!(PostboxId::parse("a b"), None);
    }

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            Sha256::of(b"abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
