//! Stable hashes: the hold-out group, the order customers draw on caps and budget in,
//! and the fast hasher of the planner's own maps.

use regulars_domain::{CampaignId, CustomerId};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A stable 64-bit hash (FNV-1a, then the SplitMix64 finaliser): the same on every
/// platform and in every release, unlike `std`'s hasher.
pub(crate) fn stable_hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// FNV-1a for the planner's own maps, keyed by customer ids (random UUIDs) and phone
/// numbers: several times cheaper than SipHash on such short keys.
#[derive(Clone, Copy)]
pub(super) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

pub(super) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;
pub(super) type FastSet<K> = HashSet<K, BuildHasherDefault<Fnv>>;

/// Whether a customer is in a campaign's hold-out group of share `fraction`: decided by a
/// hash of (campaign id, customer id) alone, so stable across runs and input orders.
///
/// ```
/// use regulars_campaigns::plan::in_holdout;
/// use regulars_domain::{CampaignId, CustomerId};
/// let campaign = CampaignId::from_bytes([7; 16]);
/// let held = (0..10_000u32)
///     .filter(|i| {
///         let mut b = [0u8; 16];
///         b[..4].copy_from_slice(&i.to_le_bytes());
///         in_holdout(campaign, CustomerId::from_bytes(b), 0.1)
///     })
///     .count();
/// assert!((900..1100).contains(&held));
/// ```
pub fn in_holdout(campaign: CampaignId, customer: CustomerId, fraction: f64) -> bool {
    let h = stable_hash(&[
        b"holdout",
        campaign.as_uuid().as_bytes(),
        customer.as_uuid().as_bytes(),
    ]);
    ((h >> 11) as f64 / (1u64 << 53) as f64) < fraction
}

/// Order in which customers draw on caps and budget: a hash, so no group of ids is
/// always first, and the same whatever the input order.
pub(super) fn priority(campaign: CampaignId, customer: CustomerId) -> u64 {
    stable_hash(&[
        b"priority",
        campaign.as_uuid().as_bytes(),
        customer.as_uuid().as_bytes(),
    ])
}
