//! Counting what each key holds at once (connections per address, long-polls
//! per user), with a cap: a share is taken before the work and given back
//! when its guard drops, however the work ends.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

/// At most `max` shares per key.
pub struct Tally<K> {
    max: usize,
    held: Arc<Mutex<HashMap<K, usize>>>,
}

/// One share of a key; given back on drop.
pub struct Share<K: Hash + Eq> {
    held: Arc<Mutex<HashMap<K, usize>>>,
    key: K,
}

fn lock<K>(held: &Mutex<HashMap<K, usize>>) -> MutexGuard<'_, HashMap<K, usize>> {
    held.lock().unwrap_or_else(|e| e.into_inner())
}

impl<K: Hash + Eq + Clone> Tally<K> {
    pub fn new(max: usize) -> Tally<K> {
        Tally {
            max,
            held: Arc::default(),
        }
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// A share of `key`, or `None` when it holds `max` already.
    pub fn take(&self, key: K) -> Option<Share<K>> {
        let mut held = lock(&self.held);
        let count = held.entry(key.clone()).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Share {
            held: self.held.clone(),
            key,
        })
    }
}

impl<K: Hash + Eq> Drop for Share<K> {
    fn drop(&mut self) {
        let mut held = lock(&self.held);
        if let Some(count) = held.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_capped_per_key_and_given_back() {
        let tally = Tally::new(2);
        let a1 = tally.take("a").unwrap();
        let _a2 = tally.take("a").unwrap();
        assert!(tally.take("a").is_none());
        let _b = tally.take("b").unwrap();
        drop(a1);
        assert!(tally.take("a").is_some());
        drop(_b);
        assert!(
            !lock(&tally.held).contains_key("b"),
            "empty keys are forgotten"
        );
    }
}
