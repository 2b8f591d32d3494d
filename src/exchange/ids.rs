//! Stable identifiers of what eakte hands over: xdomea gives every object
//! (Akte, Vorgang, Dokument) a UUID, and a receiver recognises an object it
//! got before by it. So the same document has the same UUID in every export
//! of this jobcenter: a name-based UUID (RFC 9562 version 8) from SHA-256 of
//! the jobcenter's Behördenkennung, the kind of object and its key here.

use sha2::{Digest, Sha256};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Uuid([u8; 16]);

impl Uuid {
    /// The UUID of object `kind` (`akte`, `vorgang`, `dokument`, `nachricht`)
    /// with `key` at the authority `behoerde`.
    pub fn stable(behoerde: &str, kind: &str, key: &str) -> Uuid {
        let mut hash = Sha256::new();
        // Lengths first, so that no two (behoerde, kind, key) run together.
        for part in [behoerde, kind, key] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        let digest = hash.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
        bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant RFC 9562
        Uuid(bytes)
    }

    /// A new random UUID (version 4), for a message: every export is a new
    /// process, even of the same Akte.
    pub fn random() -> std::io::Result<Uuid> {
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&crate::users::random_secret()?[..16]);
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Ok(Uuid(bytes))
    }

    /// Read the canonical form (`8-4-4-4-12` hex digits, any case).
    pub fn parse(text: &str) -> Option<Uuid> {
        let hex: String = text.chars().filter(|c| *c != '-').collect();
        let groups: Vec<usize> = text.split('-').map(str::len).collect();
        if groups != [8, 4, 4, 4, 12] {
            return None;
        }
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(&hex, &mut bytes).ok()?;
        Some(Uuid(bytes))
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = hex::encode(self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_object_gets_the_same_uuid_and_others_differ() {
        let a = Uuid::stable("jc-nf", "dokument", "17");
        assert_eq!(a, Uuid::stable("jc-nf", "dokument", "17"));
        assert_ne!(a, Uuid::stable("jc-nf", "dokument", "18"));
        assert_ne!(a, Uuid::stable("jc-nf", "vorgang", "17"));
        assert_ne!(a, Uuid::stable("jc-sl", "dokument", "17"));
        assert_ne!(Uuid::stable("a", "bc", "d"), Uuid::stable("ab", "c", "d"));
    }

    #[test]
    fn uuids_print_and_parse_in_canonical_form() {
        let a = Uuid::stable("jc-nf", "akte", "07450BG0000102");
        let text = a.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(&text[14..15], "8", "version 8: {text}");
        assert!(
            matches!(&text[19..20], "8" | "9" | "a" | "b"),
            "variant: {text}"
        );
        assert_eq!(Uuid::parse(&text), Some(a));
        assert_eq!(Uuid::parse(&text.to_uppercase()), Some(a));
        assert_eq!(Uuid::parse("nicht-eine-uuid"), None);
        let r = Uuid::random().unwrap().to_string();
        assert_eq!(&r[14..15], "4");
        assert_ne!(Uuid::random().unwrap(), Uuid::random().unwrap());
    }
}
