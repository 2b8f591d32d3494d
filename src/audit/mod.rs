//! The audit trail: who read or changed what, when, from where.
//!
//! Append-only and hash-chained: entry `n` stores the SHA-256 of entry `n-1`
//! and its own hash over its content and that link; the store also keeps the
//! head (last sequence number and hash). Changing an entry breaks its hash,
//! removing one leaves a gap or a broken link, cutting off the end no longer
//! matches the head. [`verify`] finds all three. The chain makes tampering
//! evident, not impossible: whoever can rewrite the whole store can rewrite the
//! chain too, so the head hash is also logged at every start and stop of the
//! daemon for outside comparison.
//!
//! Entries are written (and flushed) before the response that they describe is
//! sent: a read nobody recorded did not happen. A change and its entry are
//! written in one transaction (the store takes the entry with the change, see
//! [`crate::store::Store::transact`]); reads and refusals, which change nothing,
//! go through [`Audit`], which groups the entries of concurrent requests.
//! The chain itself is laid out by [`crate::store::audit`].

pub mod anchor;
pub mod words;

use crate::model::{AuditEntry, AuditEvent, BgNummer};
use crate::store::audit::{hash_of, GENESIS};
use crate::store::{Store, StoreError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::{mpsc, Mutex};

/// Appends to the trail with group commit: requests that arrive while a batch
/// is being written wait, and the next batch writes all of them in one
/// transaction and one flush. Every request still returns only once its entry
/// is durable, but a thousand clients reading at once share fsyncs instead of
/// queueing for one each.
pub struct Audit {
    store: Store,
    pending: Mutex<Pending>,
}

/// If the writing request panics, the next request writes instead (and the
/// waiting ones get an error) rather than all waiting forever.
struct PanicGuard<'a>(&'a Mutex<Pending>);

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut pending = self.0.lock().unwrap_or_else(|e| e.into_inner());
            pending.writing = false;
            pending.events.clear();
        }
    }
}

#[derive(Default)]
struct Pending {
    events: Vec<(AuditEvent, mpsc::Sender<Result<AuditEntry, StoreError>>)>,
    /// A request is writing batches; the others only wait for their answer.
    writing: bool,
}

impl Audit {
    pub fn new(store: Store) -> Audit {
        Audit {
            store,
            pending: Mutex::default(),
        }
    }

    /// Append `event` durably; returns the entry.
    pub fn record(&self, event: AuditEvent) -> Result<AuditEntry, StoreError> {
        let (answer, answered) = mpsc::channel();
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.events.push((event, answer));
        if pending.writing {
            drop(pending);
            return answered.recv().unwrap_or_else(|_| {
                Err(StoreError::Inconsistent {
                    tree: "audit",
                    detail: "the request writing the batch ended without an answer".into(),
                })
            });
        }
        // Write batches until no request waits; ours is in the first.
        pending.writing = true;
        let _unstuck = PanicGuard(&self.pending);
        let mut mine = None;
        loop {
            let batch = std::mem::take(&mut pending.events);
            if batch.is_empty() {
                pending.writing = false;
                break;
            }
            drop(pending);
            let (events, answers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
            let written = self.append(&events);
            match written {
                Ok(entries) => {
                    for (entry, answer) in entries.into_iter().zip(answers) {
                        if mine.is_none() {
                            mine = Some(Ok(entry));
                        } else {
                            let _ = answer.send(Ok(entry));
                        }
                    }
                }
                Err(e) => {
                    for answer in answers.iter().skip(usize::from(mine.is_none())) {
                        let _ = answer.send(Err(shared(&e)));
                    }
                    mine.get_or_insert(Err(e));
                }
            }
            pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        }
        mine.expect("the first batch holds our event")
    }

    /// Append `events` in order, in one transaction, flushed; returns their
    /// entries. Only the request that is writing calls this, so that one
    /// fsync serves the whole batch.
    fn append(&self, events: &[AuditEvent]) -> Result<Vec<AuditEntry>, StoreError> {
        self.store.ensure_writable()?;
        self.store.audit().append(events)
    }

    /// The head of the chain: last sequence number and hash.
    pub fn head(&self) -> Result<Option<(u64, String)>, StoreError> {
        self.store.audit().head()
    }
}

/// The failure of a batch as each of its waiting requests gets it: a store
/// that cannot be written stays that (it answers 503, not 500).
fn shared(e: &StoreError) -> StoreError {
    match e {
        StoreError::NotWritable { path, reason } => StoreError::NotWritable {
            path: path.clone(),
            reason: reason.clone(),
        },
        StoreError::Sled(e) => StoreError::Sled(e.clone()),
        other => StoreError::Inconsistent {
            tree: "audit",
            detail: other.to_string(),
        },
    }
}

/// Which entries to read.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Filter {
    /// Only entries after this sequence number.
    pub after: Option<u64>,
    pub who: Option<String>,
    pub action: Option<String>,
    /// Substring of the target, e.g. `document 12` or a BG number.
    pub target: Option<String>,
    /// Entries that touched this BG's social data (in any spelling of it):
    /// "who read Akte X?".
    #[serde(default, deserialize_with = "bg_number")]
    pub bg: Option<BgNummer>,
    /// Searches whose query held all these words (see [`words`]).
    pub searched: Option<String>,
    /// Bounds on the time, read as RFC 3339 with any offset.
    #[serde(default, deserialize_with = "rfc3339")]
    pub from: Option<Timestamp>,
    #[serde(default, deserialize_with = "rfc3339")]
    pub to: Option<Timestamp>,
    pub limit: Option<usize>,
}

/// A time bound as a moment, not as text: `…T06:00:00+01:00` and
/// `…T05:00:00Z` are the same, and a malformed bound is an error, not a
/// filter that silently matches nothing.
fn rfc3339<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let text = String::deserialize(d)?;
    crate::timefmt::parse(&text)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not an RFC 3339 time")))
}

fn bg_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<BgNummer>, D::Error> {
    let text = String::deserialize(d)?;
    BgNummer::parse(&text).map(Some).ok_or_else(|| {
        serde::de::Error::custom(format!("{text:?} is not a BG number like 07450BG0160367"))
    })
}

/// Whether `event` touched the social data of `bg`: it names the BG, or
/// (entries written before BGs were named) its target is that BG's Akte in
/// whatever spelling it was typed.
pub fn concerns(event: &AuditEvent, bg: &BgNummer) -> bool {
    event.bgs.contains(bg)
        || event
            .target
            .strip_prefix("akte ")
            .and_then(BgNummer::parse)
            .is_some_and(|typed| &typed == bg)
}

/// Entries matching `filter`, oldest first.
pub fn entries(store: &Store, filter: &Filter) -> Result<Vec<AuditEntry>, StoreError> {
    let start = filter.after.map_or(0, |a| a.saturating_add(1));
    let limit = filter.limit.unwrap_or(100);
    let suspicion = match &filter.searched {
        Some(text) => match words::Suspicion::of(store, text)? {
            Some(suspicion) => Some(suspicion),
            // No words: no search can have held them.
            None => return Ok(Vec::new()),
        },
        None => None,
    };
    let mut out = Vec::new();
    for entry in store.audit().from(start) {
        let entry = entry?;
        let keep = filter.who.as_ref().is_none_or(|w| &entry.event.who == w)
            && filter
                .action
                .as_ref()
                .is_none_or(|a| &entry.event.action == a)
            && filter
                .target
                .as_ref()
                .is_none_or(|t| entry.event.target.contains(t.as_str()))
            && filter
                .bg
                .as_ref()
                .is_none_or(|bg| concerns(&entry.event, bg))
            && suspicion.as_ref().is_none_or(|s| {
                entry.event.action == "search" && s.found_in(entry.event.detail.as_deref())
            })
            && within(&entry.at, filter.from, filter.to);
        if keep {
            out.push(entry);
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}

/// Whether the entry time `at` lies within the bounds (inclusive).
fn within(at: &str, from: Option<Timestamp>, to: Option<Timestamp>) -> bool {
    if from.is_none() && to.is_none() {
        return true;
    }
    let Some(at) = crate::timefmt::parse(at) else {
        return false;
    };
    from.is_none_or(|f| at >= f) && to.is_none_or(|t| at <= t)
}

/// What [`verify`] found.
#[derive(Debug, Default, Serialize)]
pub struct Verification {
    pub entries: u64,
    pub head: Option<(u64, String)>,
    /// How many anchors the trail was checked against, if any were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchors: Option<usize>,
    pub problems: Vec<String>,
}

/// Walk the whole chain and report every altered, removed or cut-off entry.
pub fn verify(store: &Store) -> Result<Verification, StoreError> {
    let mut v = Verification {
        head: store.audit().head()?,
        ..Verification::default()
    };
    let (mut expected_seq, mut prev) = (1u64, GENESIS.to_string());
    for item in store.audit().raw() {
        let (key_seq, raw) = item?;
        let entry: AuditEntry = match serde_json::from_slice(&raw) {
            Ok(e) => e,
            Err(e) => {
                v.problems
                    .push(format!("entry {key_seq} cannot be read: {e}"));
                continue;
            }
        };
        v.entries += 1;
        if entry.seq != key_seq {
            v.problems
                .push(format!("entry {key_seq} claims to be entry {}", entry.seq));
        }
        if entry.seq > expected_seq {
            v.problems.push(format!(
                "entries {expected_seq} to {} are missing",
                entry.seq - 1
            ));
        }
        if entry.prev != prev {
            v.problems.push(format!(
                "entry {} does not follow the entry before it (broken link)",
                entry.seq
            ));
        }
        if hash_of(entry.seq, &entry.at, &entry.event, &entry.prev) != entry.hash {
            v.problems.push(format!(
                "entry {} was altered (its hash does not match its content)",
                entry.seq
            ));
        }
        expected_seq = entry.seq + 1;
        prev = entry.hash.clone();
    }
    match &v.head {
        Some((seq, hash)) if *seq != expected_seq - 1 || *hash != prev => v.problems.push(format!(
            "the trail ends at entry {} but its head says {seq}: entries at the end were removed or altered",
            expected_seq - 1
        )),
        None if v.entries > 0 => v.problems.push("the trail has entries but no head".into()),
        _ => {}
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bounds_compare_moments_not_text() {
        let t = |s: &str| crate::timefmt::parse(s);
        // 06:00 in Husum (CET) is 05:00 UTC; fractions sort as time, not as text.
        assert!(within(
            "2026-11-27T05:00:00Z",
            t("2026-11-27T06:00:00+01:00"),
            None
        ));
        assert!(!within(
            "2026-11-27T04:59:59.9Z",
            t("2026-11-27T06:00:00+01:00"),
            None
        ));
        assert!(within(
            "2026-11-27T05:00:00.5Z",
            None,
            t("2026-11-27T05:00:01Z")
        ));
        let bad: Result<Filter, _> = serde_json::from_str(r#"{"to":"null"}"#);
        assert!(bad
            .unwrap_err()
            .to_string()
            .contains("not an RFC 3339 time"));
    }

    /// A caseworker's read of document `n` (also for the anchor's tests).
    pub(super) fn event(n: u32) -> AuditEvent {
        AuditEvent {
            who: "Anna (1)".into(),
            role: Some("caseworker".into()),
            address: "127.0.0.1".into(),
            action: "read_document".into(),
            target: format!("document {n}"),
            bgs: Vec::new(),
            outcome: "ok".into(),
            detail: None,
        }
    }

    #[test]
    fn a_clean_chain_verifies_and_tampering_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let audit = Audit::new(store.clone());
        for n in 1..=5 {
            audit.record(event(n)).unwrap();
        }
        assert!(verify(&store).unwrap().problems.is_empty());
        assert_eq!(
            entries(
                &store,
                &Filter {
                    target: Some("document 3".into()),
                    ..Filter::default()
                }
            )
            .unwrap()
            .len(),
            1
        );

        let tree = store.audit().tree_for_tamper_tests().clone();
        let mut third: AuditEntry =
            serde_json::from_slice(&tree.get(3u64.to_be_bytes()).unwrap().unwrap()).unwrap();
        third.event.who = "Mallory".into();
        tree.insert(3u64.to_be_bytes(), serde_json::to_vec(&third).unwrap())
            .unwrap();
        let problems = verify(&store).unwrap().problems;
        assert!(
            problems.iter().any(|p| p.contains("entry 3 was altered")),
            "{problems:?}"
        );

        tree.remove(3u64.to_be_bytes()).unwrap();
        let problems = verify(&store).unwrap().problems;
        assert!(
            problems
                .iter()
                .any(|p| p.contains("entries 3 to 3 are missing")),
            "{problems:?}"
        );

        tree.remove(5u64.to_be_bytes()).unwrap();
        let problems = verify(&store).unwrap().problems;
        assert!(
            problems.iter().any(|p| p.contains("removed")),
            "{problems:?}"
        );
    }

    #[test]
    fn concurrent_requests_are_batched_into_one_unbroken_chain() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let audit = std::sync::Arc::new(Audit::new(store.clone()));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let audit = audit.clone();
                std::thread::spawn(move || {
                    (0..50)
                        .map(|n| audit.record(event(t * 100 + n)).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut seqs = Vec::new();
        for t in threads {
            for entry in t.join().unwrap() {
                // Each request got its own entry back.
                let stored = entries(
                    &store,
                    &Filter {
                        after: Some(entry.seq - 1),
                        limit: Some(1),
                        ..Filter::default()
                    },
                )
                .unwrap();
                assert_eq!(stored, vec![entry.clone()]);
                seqs.push(entry.seq);
            }
        }
        seqs.sort();
        assert_eq!(seqs, (1..=400).collect::<Vec<u64>>());
        assert!(verify(&store).unwrap().problems.is_empty());
    }
}
