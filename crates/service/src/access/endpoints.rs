//! Webhook endpoints kept in memory for a moment.
//!
//! Every webhook needs its integration (with the secret opened) and its brand's
//! settings before its signature can be checked: a transaction of two reads, on the
//! same connection pool the orders are written through (SQLite has one connection).
//! A POS delivering a busy shop's orders asks for the same endpoint many times a
//! second, so an opened endpoint is kept for [`ENDPOINT_TTL`].
//!
//! What changes an endpoint through these use cases forgets it at once: revoking the
//! integration, new POS API credentials, and a change to its brand's settings. A change
//! made by another process (another server on the same database, the command line) is
//! seen once the kept copy is older than [`ENDPOINT_TTL`] — so a revocation reaches
//! every process within that time (`docs/operations.md`). Re-sealing the secrets under
//! a new server key leaves the opened secret as it was.

use super::integrations::WebhookEndpoint;
use regulars_domain::{BrandId, IntegrationId};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long an opened endpoint is used before it is read again.
pub const ENDPOINT_TTL: Duration = Duration::from_secs(1);

/// Endpoints opened lately, by integration.
#[derive(Default)]
pub(crate) struct EndpointCache {
    kept: Mutex<HashMap<IntegrationId, (Instant, WebhookEndpoint)>>,
    /// Moved by every forget: a read begun before a forget is not kept.
    generation: AtomicU64,
}

/// When a read of an endpoint began: see [`EndpointCache::put`].
pub(crate) struct ReadStart {
    at: Instant,
    generation: u64,
}

impl EndpointCache {
    /// The endpoint kept for `id`, while it is younger than [`ENDPOINT_TTL`].
    pub(crate) fn get(&self, id: IntegrationId) -> Option<WebhookEndpoint> {
        let kept = self.kept.lock().ok()?;
        let (at, endpoint) = kept.get(&id)?;
        (at.elapsed() < ENDPOINT_TTL).then(|| endpoint.clone())
    }

    /// Notes the start of a read, before it begins.
    pub(crate) fn read_start(&self) -> ReadStart {
        ReadStart {
            at: Instant::now(),
            generation: self.generation.load(Ordering::SeqCst),
        }
    }

    /// Keeps `endpoint`, whose read began at `start`: its age counts from the start of
    /// the read, and nothing is kept when something was forgotten since the read began
    /// (the read may have seen the integration as it was before that change).
    pub(crate) fn put(&self, start: &ReadStart, endpoint: &WebhookEndpoint) {
        if let Ok(mut kept) = self.kept.lock() {
            if self.generation.load(Ordering::SeqCst) != start.generation {
                return;
            }
            // Whatever expired goes, so integrations that stopped calling are not kept.
            kept.retain(|_, (at, _)| at.elapsed() < ENDPOINT_TTL);
            kept.insert(endpoint.integration, (start.at, endpoint.clone()));
        }
    }

    /// Forgets the endpoint of one integration (after its change committed).
    pub(crate) fn forget(&self, id: IntegrationId) {
        self.forget_where(|endpoint| endpoint.integration == id);
    }

    /// Forgets every endpoint of a brand (its settings changed).
    pub(crate) fn forget_brand(&self, brand: BrandId) {
        self.forget_where(|endpoint| endpoint.brand == brand);
    }

    fn forget_where(&self, gone: impl Fn(&WebhookEndpoint) -> bool) {
        if let Ok(mut kept) = self.kept.lock() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            kept.retain(|_, (_, endpoint)| !gone(endpoint));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use regulars_ports::IntegrationKind;

    fn endpoint(brand: BrandId) -> WebhookEndpoint {
        WebhookEndpoint {
            brand,
            integration: IntegrationId::from_uuid(rand_id()),
            kind: IntegrationKind::Generic,
            secret: b"secret".to_vec(),
            access: None,
            settings: crate::tests::brand(brand),
        }
    }

    /// A fresh id for each call.
    fn rand_id() -> uuid::Uuid {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        uuid::Uuid::from_u128(u128::from(NEXT.fetch_add(1, Ordering::SeqCst)))
    }

    fn brand() -> BrandId {
        BrandId::from_uuid(rand_id())
    }

    #[test]
    fn a_kept_endpoint_is_given_until_it_is_forgotten() {
        let cache = EndpointCache::default();
        let (a, b) = (endpoint(brand()), endpoint(brand()));
        assert!(cache.get(a.integration).is_none());
        cache.put(&cache.read_start(), &a);
        cache.put(&cache.read_start(), &b);
        assert_eq!(cache.get(a.integration), Some(a.clone()));
        cache.forget(a.integration);
        assert!(cache.get(a.integration).is_none());
        assert_eq!(cache.get(b.integration), Some(b.clone()));
        cache.forget_brand(b.brand);
        assert!(cache.get(b.integration).is_none());
    }

    #[test]
    fn a_read_begun_before_a_change_is_not_kept() {
        let cache = EndpointCache::default();
        let a = endpoint(brand());
        let start = cache.read_start();
        // Another integration's revocation commits while this read runs.
        cache.forget(IntegrationId::from_uuid(rand_id()));
        cache.put(&start, &a);
        assert!(cache.get(a.integration).is_none());
        cache.put(&cache.read_start(), &a);
        assert!(cache.get(a.integration).is_some());
    }

    #[test]
    fn an_endpoint_older_than_its_time_to_live_is_read_again() {
        let cache = EndpointCache::default();
        let a = endpoint(brand());
        let old = ReadStart {
            at: Instant::now()
                .checked_sub(ENDPOINT_TTL + Duration::from_millis(1))
                .expect("a monotonic clock older than a second"),
            generation: cache.generation.load(Ordering::SeqCst),
        };
        cache.put(&old, &a);
        assert!(cache.get(a.integration).is_none());
    }
}
