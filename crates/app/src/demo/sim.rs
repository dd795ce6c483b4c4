//! The demo's simulated time, seeded ids and random draws.

use super::*;

/// A clock the demo moves forward event by event.
pub(super) struct SimClock(pub(super) AtomicI64);

impl SimClock {
    pub(super) fn set(&self, at: OffsetDateTime) {
        self.0
            .store((at.unix_timestamp_nanos() / 1_000) as i64, Ordering::SeqCst);
    }
}

impl Clock for SimClock {
    fn now(&self) -> OffsetDateTime {
        let micros = self.0.load(Ordering::SeqCst);
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// Ids and random bytes from the seed: UUID v7 stamped with the simulated time (so rows
/// stay time-ordered as the real generator keeps them), the rest from a SplitMix64 stream.
/// Only for the demo: its voucher codes are as predictable as its seed.
pub(super) struct SeededIds {
    state: std::sync::Mutex<u64>,
    clock: Arc<SimClock>,
}

impl SeededIds {
    pub(super) fn new(seed: u64, stream: u64, clock: Arc<SimClock>) -> SeededIds {
        let state = seed ^ stream.wrapping_add(1).wrapping_mul(0xD1B5_4A32_D192_ED03);
        SeededIds {
            state: std::sync::Mutex::new(state),
            clock,
        }
    }

    fn next(&self) -> u64 {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl IdGen for SeededIds {
    fn new_id(&self) -> uuid::Uuid {
        let millis =
            u64::try_from(self.clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let mut random = [0_u8; 10];
        self.fill_bytes(&mut random);
        uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
    }

    fn fill_bytes(&self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// Extra draws the demo needs on top of the models' generator.
pub(super) trait Draw {
    fn below(&mut self, n: usize) -> usize;
    fn chance(&mut self, p: f64) -> bool;
}

impl Draw for Rng {
    fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n.saturating_sub(1))
    }
    fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }
}
