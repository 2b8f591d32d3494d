//! Wake-ups for long-polls, per postbox.
//!
//! A long-poll waits for changes to the postboxes in its caller's scope. One
//! shared signal for all changes would wake every waiting poll for every routed
//! letter: with a thousand caseworkers' clients polling, a thousand database
//! reads per letter, for one client with news. Here a poll subscribes to its
//! postboxes and only a change to one of them wakes it.

use crate::model::PostboxId;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;
use tokio::sync::Notify;

pub struct ChangeHub {
    /// The latest change published.
    last: AtomicU64,
    /// Bumped whenever a user is written (a token revoked, say): running
    /// long-polls look whether theirs still holds.
    accounts: tokio::sync::watch::Sender<u64>,
    waiting: Mutex<HashMap<PostboxId, Vec<Weak<Notify>>>>,
    /// When the latest changes were published, for the delivery-latency metric.
    published: Mutex<VecDeque<(u64, Instant)>>,
}

/// How many publish times are remembered.
const PUBLISHED_KEPT: usize = 4096;

impl ChangeHub {
    pub fn new(last: u64) -> ChangeHub {
        ChangeHub {
            last: AtomicU64::new(last),
            accounts: tokio::sync::watch::Sender::new(0),
            waiting: Mutex::default(),
            published: Mutex::default(),
        }
    }

    /// The latest change published.
    pub fn last(&self) -> u64 {
        self.last.load(Ordering::SeqCst)
    }

    /// Change `seq`, which touched `postboxes`, is durable: wake their polls.
    pub fn publish(&self, seq: u64, postboxes: &[&PostboxId]) {
        self.last.fetch_max(seq, Ordering::SeqCst);
        {
            let mut published = self.published.lock().unwrap_or_else(|e| e.into_inner());
            if published.len() == PUBLISHED_KEPT {
                published.pop_front();
            }
            published.push_back((seq, Instant::now()));
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        for postbox in postboxes {
            let Some(polls) = waiting.get_mut(*postbox) else {
                continue;
            };
            polls.retain(|poll| match poll.upgrade() {
                Some(wake) => {
                    wake.notify_one();
                    true
                }
                None => false,
            });
            if polls.is_empty() {
                waiting.remove(*postbox);
            }
        }
    }

    /// A user was written.
    pub fn accounts_changed(&self) {
        self.accounts.send_modify(|n| *n += 1);
    }

    /// Wakes when a user is written.
    pub fn accounts(&self) -> tokio::sync::watch::Receiver<u64> {
        self.accounts.subscribe()
    }

    /// When change `seq` was published, if it was recently.
    pub fn published_at(&self, seq: u64) -> Option<Instant> {
        let published = self.published.lock().unwrap_or_else(|e| e.into_inner());
        published
            .iter()
            .rev()
            .find(|(s, _)| *s == seq)
            .map(|(_, at)| *at)
    }

    /// A wake-up for every change to one of `postboxes` published from now on
    /// (one published before the subscriber waits is kept for it). Dropping it
    /// ends the subscription.
    pub fn subscribe(&self, postboxes: &[PostboxId]) -> Arc<Notify> {
        let wake = Arc::new(Notify::new());
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        for postbox in postboxes {
            let polls = waiting.entry(postbox.clone()).or_default();
            polls.retain(|poll| poll.strong_count() > 0);
            polls.push(Arc::downgrade(&wake));
        }
        wake
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kennung;

    fn caseworker(k: &str) -> PostboxId {
        PostboxId::Caseworker(Kennung::parse(k).unwrap())
    }

    #[tokio::test]
    async fn only_polls_of_the_changed_postbox_wake() {
        let hub = ChangeHub::new(7);
        let (a, b) = (caseworker("sb-a"), caseworker("sb-b"));
        let on_a = hub.subscribe(std::slice::from_ref(&a));
        let on_b = hub.subscribe(std::slice::from_ref(&b));
        hub.publish(8, &[&a]);
        assert_eq!(hub.last(), 8);
        // The change to a was kept for on_a although it was not waiting yet.
        tokio::time::timeout(std::time::Duration::from_secs(1), on_a.notified())
            .await
            .expect("a's poll wakes");
        let b_woke =
            tokio::time::timeout(std::time::Duration::from_millis(50), on_b.notified()).await;
        assert!(b_woke.is_err(), "b's poll must not wake for a change to a");
    }

    #[test]
    fn ended_polls_are_forgotten() {
        let hub = ChangeHub::new(0);
        let a = caseworker("sb-a");
        drop(hub.subscribe(std::slice::from_ref(&a)));
        hub.publish(1, &[&a]);
        assert!(hub.waiting.lock().unwrap().is_empty());
    }
}
