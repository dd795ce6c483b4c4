//! What keeps unauthenticated callers cheap: a garbage API key must not cost a database
//! transaction each.
//!
//! [`Services::authenticate`](crate::Services::authenticate) checks a key's shape first
//! (free), then a short-lived cache of keys recently refused (free), then the client
//! address's budget of failures: an address that failed too often is answered 429
//! without a look-up, except for key prefixes that authenticated in this process
//! recently (so a till behind the same proxy as an attacker keeps working). Only then is
//! the key looked up. Every table here is bounded.

use crate::ratelimit::{RateLimit, RateLimiter};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use time::{Duration, OffsetDateTime};

/// Failed key checks allowed per client address: 1 a second, bursts of 20.
pub const AUTH_FAILURES: RateLimit = RateLimit {
    per_second: 1,
    burst: 20,
};

/// How long a refused key is answered from memory.
pub const REFUSED_TTL: Duration = Duration::seconds(30);

/// How long a key prefix that authenticated passes an address's exhausted budget.
pub const TRUSTED_TTL: Duration = Duration::minutes(10);

/// Entries a cache holds at most.
pub const CACHE_CAPACITY: usize = 4096;

/// A set of keys that expire, holding at most [`CACHE_CAPACITY`]: expired entries are
/// swept when it is full, and when none has expired the oldest half goes.
#[derive(Debug)]
pub(crate) struct ExpiringSet<K> {
    entries: Mutex<HashMap<K, OffsetDateTime>>,
    ttl: Duration,
}

impl<K: Eq + Hash + Clone> ExpiringSet<K> {
    pub(crate) fn new(ttl: Duration) -> Self {
        ExpiringSet {
            entries: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    pub(crate) fn contains(&self, key: &K, now: OffsetDateTime) -> bool {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.get(key).is_some_and(|until| *until > now)
    }

    pub(crate) fn insert(&self, key: K, now: OffsetDateTime) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= CACHE_CAPACITY && !entries.contains_key(&key) {
            entries.retain(|_, until| *until > now);
            if entries.len() >= CACHE_CAPACITY {
                let mut times: Vec<OffsetDateTime> = entries.values().copied().collect();
                times.sort_unstable();
                let cut = times[times.len() / 2];
                entries.retain(|_, until| *until > cut);
            }
        }
        entries.insert(key, now.checked_add(self.ttl).unwrap_or(now));
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

/// The state of [`Services::authenticate`](crate::Services::authenticate)'s guard.
#[derive(Debug)]
pub(crate) struct AuthGuard {
    pub(crate) failures: RateLimiter,
    pub(crate) refused: ExpiringSet<[u8; 32]>,
    pub(crate) trusted: ExpiringSet<String>,
    pub(crate) lookups: AtomicU64,
}

impl Default for AuthGuard {
    fn default() -> Self {
        AuthGuard::with_failure_limit(Some(AUTH_FAILURES))
    }
}

impl AuthGuard {
    pub(crate) fn with_failure_limit(limit: Option<RateLimit>) -> Self {
        AuthGuard {
            failures: RateLimiter::new(limit),
            refused: ExpiringSet::new(REFUSED_TTL),
            trusted: ExpiringSet::new(TRUSTED_TTL),
            lookups: AtomicU64::new(0),
        }
    }
}

impl AuthGuard {
    pub(crate) fn digest(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    pub(crate) fn counted_lookup(&self) {
        self.lookups.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn lookups(&self) -> u64 {
        self.lookups.load(Ordering::Relaxed)
    }

    /// Records a failure of `client`; `Err(seconds)` when its budget is now spent.
    pub(crate) fn failed(&self, client: &str, now: OffsetDateTime) -> Result<(), u64> {
        self.failures.check(&format!("auth:{client}"), now)
    }

    /// `Some(seconds)` when `client` has no failures left.
    pub(crate) fn exhausted(&self, client: &str, now: OffsetDateTime) -> Option<u64> {
        self.failures.blocked(&format!("auth:{client}"), now)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-01 8:00 UTC);

    #[test]
    fn entries_expire() {
        let set = ExpiringSet::new(Duration::seconds(30));
        set.insert(1u32, T0);
        assert!(set.contains(&1, T0 + Duration::seconds(29)));
        assert!(!set.contains(&1, T0 + Duration::seconds(30)));
        assert!(!set.contains(&2, T0));
    }

    #[test]
    fn the_set_stays_bounded() {
        let set = ExpiringSet::new(Duration::seconds(30));
        for i in 0..(3 * CACHE_CAPACITY) {
            set.insert(i, T0 + Duration::milliseconds(i as i64));
            assert!(set.len() <= CACHE_CAPACITY);
        }
        // The newest entry is kept.
        let last = 3 * CACHE_CAPACITY - 1;
        assert!(set.contains(&last, T0 + Duration::milliseconds(last as i64)));
    }
}
