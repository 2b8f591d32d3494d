//! The one way eakte's tasks learn that the daemon stops (after mini-redis's
//! `Shutdown`): a signal sets it once, every task holds a clone and looks at
//! it or waits for it. Async tasks await [`Shutdown::triggered`]; plain threads
//! that block on something else register a hook that wakes them.

use std::sync::{Arc, Mutex};
use tokio::sync::watch;

type Hook = Box<dyn Fn() + Send + Sync>;

#[derive(Clone)]
pub struct Shutdown {
    state: Arc<State>,
    triggered: watch::Receiver<bool>,
}

struct State {
    trigger: watch::Sender<bool>,
    hooks: Mutex<Vec<Hook>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

impl Shutdown {
    pub fn new() -> Shutdown {
        let (trigger, triggered) = watch::channel(false);
        Shutdown {
            state: Arc::new(State {
                trigger,
                hooks: Mutex::default(),
            }),
            triggered,
        }
    }

    /// Start the shutdown: every task sees it from now on. Idempotent.
    pub fn trigger(&self) {
        if self.state.trigger.send_replace(true) {
            return;
        }
        for hook in self
            .state
            .hooks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            hook();
        }
    }

    pub fn is_triggered(&self) -> bool {
        *self.triggered.borrow()
    }

    /// Completes once the shutdown has started (at once if it has).
    pub async fn triggered(&self) {
        let mut triggered = self.triggered.clone();
        // The sender lives as long as any clone of this, so this only ends
        // when the value turns true.
        let _ = triggered.wait_for(|&t| t).await;
    }

    /// Run `hook` when the shutdown starts (at once if it has): for a thread
    /// that blocks on a channel and must be woken to see it.
    pub fn on_trigger(&self, hook: impl Fn() + Send + Sync + 'static) {
        let mut hooks = self.state.hooks.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_triggered() {
            hook();
        } else {
            hooks.push(Box::new(hook));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn every_clone_sees_it_and_hooks_run_once() {
        let shutdown = Shutdown::new();
        let woken = Arc::new(AtomicUsize::new(0));
        let w = woken.clone();
        shutdown.on_trigger(move || {
            w.fetch_add(1, Ordering::SeqCst);
        });
        let waiting = tokio::spawn({
            let s = shutdown.clone();
            async move { s.triggered().await }
        });
        assert!(!shutdown.is_triggered());
        shutdown.trigger();
        shutdown.trigger();
        tokio::time::timeout(std::time::Duration::from_secs(1), waiting)
            .await
            .expect("the waiting task ends")
            .unwrap();
        assert_eq!(woken.load(Ordering::SeqCst), 1);
        // A hook registered late runs at once.
        let w = woken.clone();
        shutdown.on_trigger(move || {
            w.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(woken.load(Ordering::SeqCst), 2);
    }
}
