//! A short fuzz run on stable Rust in every CI run: each fuzz target of
//! `fuzz/` (see RELIABILITY.md) gets its kept corpus and a few thousand
//! deterministic mutations of it. Longer, coverage-guided runs use cargo-fuzz.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MUTATIONS: usize = 20_000;
/// A whole replay takes a few seconds; one that takes this long hangs.
const TIME_LIMIT: Duration = Duration::from_secs(300);

/// A deterministic random source (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that make parsers work: delimiters, quotes, digits, umlauts, magic.
const DICTIONARY: &[&[u8]] = &[
    b",",
    b";",
    b"\"",
    b"\n",
    b"\r\n",
    b"-",
    b"/",
    b"BG",
    b"07450",
    b"\xc3\xbc",
    b"\xff",
    b"%PDF-",
    b"\x89PNG",
    b"II*\0",
    b"\xff\xd8\xff",
    b"\0\0\xff\xff",
    b"ja",
    b"*",
    b"'",
];

fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut data = corpus[rng.below(corpus.len())].clone();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(data.len() + 1);
        match rng.below(6) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 => data.insert(at, rng.next() as u8),
            2 if at < data.len() => {
                let end = (at + 1 + rng.below(16)).min(data.len());
                data.drain(at..end);
            }
            3 => {
                let word = DICTIONARY[rng.below(DICTIONARY.len())];
                data.splice(at..at, word.iter().copied());
            }
            4 => {
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len() + 1);
                let piece = &other[from..(from + rng.below(64)).min(other.len())];
                data.splice(at..at, piece.iter().copied());
            }
            _ => data.truncate(at),
        }
    }
    data
}

/// Replay the kept corpus of `target` and its mutations through `run`, which
/// asserts the target's properties (a panic is a finding). The replay runs on
/// a thread of its own, so that an input that hangs fails the test, naming the
/// input, instead of hanging CI.
fn smoke(target: &'static str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut corpus: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect();
    corpus.push(Vec::new());
    let current = Arc::new(Mutex::new((0usize, Vec::new())));
    let (done, finished) = std::sync::mpsc::channel();
    let replaying = current.clone();
    std::thread::spawn(move || {
        let mut rng = Rng(0x5eed ^ target.len() as u64);
        let inputs = corpus
            .clone()
            .into_iter()
            .chain((0..MUTATIONS).map(|_| mutate(&mut rng, &corpus)));
        for (n, input) in inputs.enumerate() {
            *replaying.lock().unwrap() = (n, input.clone());
            if catch_unwind(AssertUnwindSafe(|| run(&input))).is_err() {
                let _ = done.send(Err(format!(
                    "{target} failed on input {n} ({} bytes): {:?}",
                    input.len(),
                    String::from_utf8_lossy(&input)
                )));
                return;
            }
        }
        let _ = done.send(Ok(()));
    });
    match finished.recv_timeout(TIME_LIMIT) {
        Ok(Ok(())) => {}
        Ok(Err(finding)) => panic!("{finding}"),
        Err(_) => {
            let (n, input) = current.lock().unwrap().clone();
            panic!(
                "{target} did not finish within {} s; input {n} ({} bytes) may hang: {:?}",
                TIME_LIMIT.as_secs(),
                input.len(),
                String::from_utf8_lossy(&input)
            );
        }
    }
}

#[test]
fn recipient_numbers() {
    smoke("recipient_numbers", eakte::fuzzing::recipient_numbers);
}

#[test]
fn file_type() {
    smoke("file_type", eakte::fuzzing::file_type);
}

#[test]
fn csv_import() {
    smoke("csv_import", eakte::fuzzing::csv_import);
}

#[test]
fn query() {
    smoke("query", eakte::fuzzing::query);
}
