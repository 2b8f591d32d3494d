//! The return cover sheet (Deckblatt): its code issued with the deployment's
//! key, and checked when a scan comes back with it on top. The code's format is
//! [`crate::model::CoverCode`]; the PDF is [`crate::exchange::deckblatt`].

use crate::keyed;
use crate::model::{BgNummer, CoverCode, ItemId};
use crate::store::{Store, StoreError};

/// The code for a Deckblatt of `bg` (answering `item`, if given), issued by
/// the jobcenter with the key `jobcenter`.
pub fn issue(
    store: &Store,
    bg: &BgNummer,
    item: Option<ItemId>,
    jobcenter: &str,
) -> Result<CoverCode, StoreError> {
    let key = store.audit().cover_sheet_key()?;
    let item = item.map(|i| i.0);
    let signed = CoverCode::signed_part(bg.as_str(), item, jobcenter);
    Ok(CoverCode {
        bg: bg.as_str().to_string(),
        item,
        jobcenter: jobcenter.to_string(),
        mac: keyed::short_mac(&key, signed.as_bytes()),
    })
}

/// What a Deckblatt read from a scan says, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Printed by this deployment for this BG (and item).
    Trusted { bg: BgNummer, item: Option<ItemId> },
    /// Not: the check value does not match what it says (or it says nothing
    /// usable). `printed` is the BG as the sheet has it.
    Untrusted { printed: String },
}

/// Check the code `text` read from a Deckblatt.
pub fn check(store: &Store, text: &str) -> Result<Verdict, StoreError> {
    let Some(code) = CoverCode::parse(text) else {
        return Ok(Verdict::Untrusted {
            printed: String::new(),
        });
    };
    let key = store.audit().cover_sheet_key()?;
    let signed = CoverCode::signed_part(&code.bg, code.item, &code.jobcenter);
    let expected = keyed::short_mac(&key, signed.as_bytes());
    let untrusted = Verdict::Untrusted {
        printed: code.bg.clone(),
    };
    if !keyed::same_mac(&expected, &code.mac) {
        return Ok(untrusted);
    }
    Ok(match BgNummer::parse(&code.bg) {
        Some(bg) => Verdict::Trusted {
            bg,
            item: code.item.map(ItemId),
        },
        None => untrusted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_code_is_trusted_and_any_change_to_it_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let bg = BgNummer::parse("07450BG0000001").unwrap();
        let code = issue(&store, &bg, Some(ItemId(42)), "01054").unwrap();
        assert_eq!(
            check(&store, &code.text()).unwrap(),
            Verdict::Trusted {
                bg: bg.clone(),
                item: Some(ItemId(42))
            }
        );
        let other_bg = code.text().replace("0000001", "0000002");
        assert_eq!(
            check(&store, &other_bg).unwrap(),
            Verdict::Untrusted {
                printed: "07450BG0000002".into()
            }
        );
        let other_item = code.text().replace("IT=42", "IT=43");
        assert!(matches!(
            check(&store, &other_item).unwrap(),
            Verdict::Untrusted { .. }
        ));
        // Another deployment's key makes other check values.
        let elsewhere = tempfile::tempdir().unwrap();
        let other_store = Store::open(elsewhere.path()).unwrap();
        assert!(matches!(
            check(&other_store, &code.text()).unwrap(),
            Verdict::Untrusted { .. }
        ));
    }
}
