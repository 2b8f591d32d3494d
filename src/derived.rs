//! Values derived from the registry (the loaded registry itself, who is
//! responsible for which BG), kept until the registry changes.

use std::sync::{Arc, Mutex, RwLock};

/// A cached value that one caller at a time recomputes when it is stale.
///
/// Why one at a time: after a registry import, a thousand long-polls reconnect
/// together; had each built its own copy of a county's registry, the daemon
/// would have needed gigabytes for a moment (it did, and was killed for it).
pub struct Derived<T> {
    value: RwLock<Option<Arc<T>>>,
    computing: Mutex<()>,
}

impl<T> Default for Derived<T> {
    fn default() -> Self {
        Derived {
            value: RwLock::new(None),
            computing: Mutex::new(()),
        }
    }
}

impl<T> Derived<T> {
    /// The cached value if `fresh` says it still is, else the one `compute`
    /// makes (which is then cached). Concurrent callers with a stale value wait
    /// for a single computation.
    pub fn get<E>(
        &self,
        fresh: impl Fn(&T) -> bool,
        compute: impl FnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        let current = || {
            self.value
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .filter(|v| fresh(v))
        };
        if let Some(value) = current() {
            return Ok(value);
        }
        let _one_at_a_time = self.computing.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(value) = current() {
            return Ok(value);
        }
        let value = Arc::new(compute()?);
        *self.value.write().unwrap_or_else(|e| e.into_inner()) = Some(value.clone());
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn concurrent_callers_share_one_computation() {
        let derived = Arc::new(Derived::<u64>::default());
        let computed = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (derived, computed) = (derived.clone(), computed.clone());
                std::thread::spawn(move || {
                    derived
                        .get(
                            |v| *v == 7,
                            || {
                                computed.fetch_add(1, Ordering::SeqCst);
                                std::thread::sleep(std::time::Duration::from_millis(50));
                                Ok::<_, ()>(7)
                            },
                        )
                        .unwrap()
                })
            })
            .collect();
        for t in threads {
            assert_eq!(*t.join().unwrap(), 7);
        }
        assert_eq!(computed.load(Ordering::SeqCst), 1);
        // Stale: computed again.
        let eight = derived.get(|v| *v == 8, || Ok::<_, ()>(8)).unwrap();
        assert_eq!(*eight, 8);
    }
}
