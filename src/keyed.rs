//! Keyed hashes: HMAC-SHA256 (RFC 2104) under one of the store's secrets, for
//! the search words of the audit trail and the check value of a Deckblatt.

use sha2::{Digest, Sha256};

/// HMAC-SHA256 of `message` under the 32-byte `key`.
pub fn hmac(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The first 64 bits of the HMAC, in hex: enough that nobody guesses one, short
/// enough for a QR code or an audit entry.
pub fn short_mac(key: &[u8; 32], message: &[u8]) -> String {
    hex::encode(&hmac(key, message)[..8])
}

/// Whether two MACs in hex are equal, in time independent of where they differ.
pub fn same_mac(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len()
        && a.iter().zip(b).fold(0u8, |diff, (x, y)| {
            diff | (x.to_ascii_lowercase() ^ y.to_ascii_lowercase())
        }) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 test case 2 has a 4-byte key; HMAC pads keys with zeros,
        // so the same key zero-padded to 32 bytes gives the same MAC.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        assert_eq!(
            hex::encode(hmac(&key, b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            short_mac(&key, b"what do ya want for nothing?"),
            "5bdcc146bf60754e"
        );
    }

    #[test]
    fn macs_compare_ignoring_case_and_not_by_prefix() {
        assert!(same_mac("5bdcc146bf60754e", "5BDCC146BF60754E"));
        assert!(!same_mac("5bdcc146bf60754e", "5bdcc146bf60754f"));
        assert!(!same_mac("5bdcc146", "5bdcc146bf60754e"));
    }
}
