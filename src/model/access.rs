//! Changes that widen someone's access, waiting for a second admin (four
//! eyes): a new account, a deputy, an import that moves responsibilities.

use crate::model::registry::Kennung;
use crate::model::user::NewUser;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// A registry table an import replaces or updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistryTable {
    Recipients,
    Caseworkers,
}

/// What is to change once a second admin approves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AccessChange {
    AddUser {
        user: NewUser,
    },
    AddAbsence {
        kennung: Kennung,
        from: Date,
        to: Date,
        deputy: Kennung,
    },
    Import {
        table: RegistryTable,
        /// The file as sent (hex, so that any encoding survives).
        #[serde(with = "hex_bytes")]
        csv: Vec<u8>,
        /// What the import would do, as planned when it was asked for.
        summary: String,
    },
}

/// A change waiting for its second admin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingChange {
    pub id: u64,
    pub change: AccessChange,
    /// The admin who asked for it (user id and name): not the one who may
    /// approve it.
    pub requested_by: u64,
    pub requested_by_name: String,
    pub requested_at: String,
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        hex::decode(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}
