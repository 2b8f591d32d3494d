//! How records and numbers are laid out in sled: records as JSON, counters and
//! sequence numbers as big-endian bytes (so that keys sort as numbers).

use super::StoreError;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub(crate) fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("store records serialise")
}

pub(crate) fn from_json<T: DeserializeOwned>(
    tree: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt { tree, source })
}

pub(crate) fn get_json<T: DeserializeOwned>(
    tree: &sled::Tree,
    name: &'static str,
    key: &[u8],
) -> Result<Option<T>, StoreError> {
    match tree.get(key)? {
        None => Ok(None),
        Some(v) => from_json(name, &v).map(Some),
    }
}

/// Every record of a tree, in key order.
pub(crate) fn all_json<T: DeserializeOwned>(
    tree: &sled::Tree,
    name: &'static str,
) -> Result<Vec<T>, StoreError> {
    tree.iter().values().map(|v| from_json(name, &v?)).collect()
}

/// A big-endian `u64` (counters, sequence numbers, ids in keys); `None` if
/// the bytes are not eight.
pub(crate) fn be_u64(bytes: &[u8]) -> Option<u64> {
    bytes.try_into().ok().map(u64::from_be_bytes)
}

/// A big-endian `u32` (attempt counters).
pub(crate) fn be_u32(bytes: &[u8]) -> Option<u32> {
    bytes.try_into().ok().map(u32::from_be_bytes)
}
