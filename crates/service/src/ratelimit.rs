//! Per-caller rate limits: one token bucket per API key, per POS integration, and per
//! client address for failed attempts. Shared by the JSON API and the dashboard.
//!
//! A bucket holds at most `burst` tokens and gains `per_second` tokens a second; each
//! request takes one. An empty bucket answers 429 with `Retry-After` (whole seconds until
//! a token is back). Buckets live in this process's memory: several servers behind a load
//! balancer each allow the full rate.
//!
//! Memory stays bounded: callers are limited only once authenticated (a valid key, a
//! known integration), so a bucket exists only for a real caller; and a bucket that has
//! refilled completely is the same as no bucket, so such buckets are dropped whenever the
//! table grows past [`RateLimiter::PRUNE_AT`].
//!
//! ```
//! use regulars_service::ratelimit::{RateLimit, RateLimiter};
//! use time::macros::datetime;
//!
//! let limiter = RateLimiter::new(Some(RateLimit { per_second: 1, burst: 2 }));
//! let now = datetime!(2026-01-01 0:00 UTC);
//! assert!(limiter.check("key:a", now).is_ok());
//! assert!(limiter.check("key:a", now).is_ok());
//! assert_eq!(limiter.check("key:a", now), Err(1)); // retry after 1 s
//! assert!(limiter.check("key:b", now).is_ok()); // another key has its own bucket
//! assert!(limiter.check("key:a", now + time::Duration::seconds(1)).is_ok());
//! ```

use std::collections::HashMap;
use std::sync::Mutex;
use time::OffsetDateTime;

/// How fast one caller may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per second (tokens added per second); at least 1.
    pub per_second: u32,
    /// Requests that may come at once (bucket size); at least 1.
    pub burst: u32,
}

impl RateLimit {
    /// The default: 50 requests a second, bursts of 200 — far above what a till or a
    /// POS's webhook sender does, low enough to stop a runaway loop.
    pub const DEFAULT: RateLimit = RateLimit {
        per_second: 50,
        burst: 200,
    };
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: OffsetDateTime,
}

/// Token buckets keyed by caller; `None` limit: everything passes.
#[derive(Debug)]
pub struct RateLimiter {
    limit: Option<RateLimit>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// Above this many buckets, full (idle) buckets are dropped.
    pub const PRUNE_AT: usize = 4096;

    /// A limiter applying `limit` to each caller (`None`: off).
    pub fn new(limit: Option<RateLimit>) -> RateLimiter {
        let limit = limit.map(|l| RateLimit {
            per_second: l.per_second.max(1),
            burst: l.burst.max(1),
        });
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The limit applied, if any.
    pub fn limit(&self) -> Option<RateLimit> {
        self.limit
    }

    /// Takes a token from `caller`'s bucket at time `now`; `Err(seconds)` when it is
    /// empty, with the whole seconds (at least 1) until the next token.
    pub fn check(&self, caller: &str, now: OffsetDateTime) -> Result<(), u64> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let rate = f64::from(limit.per_second);
        let burst = f64::from(limit.burst);
        // A poisoned lock only means another request panicked mid-update; the table is
        // still a valid map of buckets.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= Self::PRUNE_AT && !buckets.contains_key(caller) {
            buckets.retain(|_, b| refilled(b, now, rate, burst) < burst);
        }
        let bucket = buckets.entry(caller.to_owned()).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let tokens = refilled(bucket, now, rate, burst);
        // A clock that went backwards must not refill anything.
        bucket.updated = bucket.updated.max(now);
        if tokens >= 1.0 {
            bucket.tokens = tokens - 1.0;
            Ok(())
        } else {
            bucket.tokens = tokens;
            let wait = ((1.0 - tokens) / rate).ceil();
            Err((wait as u64).max(1))
        }
    }

    /// Whether `caller`'s bucket is empty at `now`, without taking a token: `Some(seconds)`
    /// until the next token when it is.
    pub fn blocked(&self, caller: &str, now: OffsetDateTime) -> Option<u64> {
        let limit = self.limit?;
        let rate = f64::from(limit.per_second);
        let burst = f64::from(limit.burst);
        let buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tokens = refilled(buckets.get(caller)?, now, rate, burst);
        (tokens < 1.0).then(|| (((1.0 - tokens) / rate).ceil() as u64).max(1))
    }

    /// How many buckets are held now.
    pub fn len(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Whether no bucket is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn refilled(bucket: &Bucket, now: OffsetDateTime, rate: f64, burst: f64) -> f64 {
    let elapsed = (now - bucket.updated).as_seconds_f64().max(0.0);
    (bucket.tokens + elapsed * rate).min(burst)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-01 8:00 UTC);

    #[test]
    fn a_burst_passes_then_429_until_a_token_is_back() {
        let limiter = RateLimiter::new(Some(RateLimit {
            per_second: 2,
            burst: 5,
        }));
        for _ in 0..5 {
            assert_eq!(limiter.check("k", T0), Ok(()));
        }
        assert_eq!(limiter.check("k", T0), Err(1));
        // Another caller is unaffected.
        assert_eq!(limiter.check("other", T0), Ok(()));
        // Half a second brings one token at 2/s.
        assert_eq!(limiter.check("k", T0 + Duration::milliseconds(400)), Err(1));
        assert_eq!(limiter.check("k", T0 + Duration::milliseconds(500)), Ok(()));
        assert_eq!(limiter.check("k", T0 + Duration::milliseconds(500)), Err(1));
        // A long pause refills to the burst, never more.
        let later = T0 + Duration::hours(1);
        for _ in 0..5 {
            assert_eq!(limiter.check("k", later), Ok(()));
        }
        assert_eq!(limiter.check("k", later), Err(1));
    }

    #[test]
    fn retry_after_counts_whole_seconds_to_the_next_token() {
        let limiter = RateLimiter::new(Some(RateLimit {
            per_second: 1,
            burst: 1,
        }));
        assert_eq!(limiter.check("k", T0), Ok(()));
        assert_eq!(limiter.check("k", T0), Err(1));
        assert_eq!(limiter.check("k", T0 + Duration::milliseconds(999)), Err(1));
        assert_eq!(limiter.check("k", T0 + Duration::seconds(1)), Ok(()));
    }

    #[test]
    fn off_never_refuses() {
        let limiter = RateLimiter::new(None);
        for _ in 0..10_000 {
            assert_eq!(limiter.check("k", T0), Ok(()));
        }
        assert!(limiter.is_empty());
    }

    #[test]
    fn a_clock_going_backwards_refills_nothing() {
        let limiter = RateLimiter::new(Some(RateLimit {
            per_second: 1,
            burst: 1,
        }));
        assert_eq!(limiter.check("k", T0), Ok(()));
        assert_eq!(limiter.check("k", T0 - Duration::hours(1)), Err(1));
        assert_eq!(limiter.check("k", T0 + Duration::seconds(1)), Ok(()));
    }

    #[test]
    fn idle_buckets_are_dropped_so_memory_stays_bounded() {
        let limiter = RateLimiter::new(Some(RateLimit {
            per_second: 10,
            burst: 10,
        }));
        for i in 0..RateLimiter::PRUNE_AT {
            assert_eq!(limiter.check(&format!("k{i}"), T0), Ok(()));
        }
        assert_eq!(limiter.len(), RateLimiter::PRUNE_AT);
        // One second later every bucket has refilled; a new caller sweeps them away.
        let later = T0 + Duration::seconds(1);
        assert_eq!(limiter.check("new", later), Ok(()));
        assert_eq!(limiter.len(), 1);
    }

    #[test]
    fn busy_buckets_survive_a_sweep() {
        let limiter = RateLimiter::new(Some(RateLimit {
            per_second: 1,
            burst: 1,
        }));
        for i in 0..RateLimiter::PRUNE_AT {
            assert_eq!(limiter.check(&format!("k{i}"), T0), Ok(()));
        }
        assert_eq!(limiter.check("new", T0), Ok(()));
        assert_eq!(limiter.len(), RateLimiter::PRUNE_AT + 1);
        assert_eq!(limiter.check("k0", T0), Err(1));
    }
}
