//! Benchmarks of the points ledger.
//!
//! `ledger/fold_10000_entries` rebuilds a customer's state from 10,000 stored entries, as
//! loading a ledger or `check-ledger` does: earns with expiry, redemptions, expiry sweeps,
//! full and partial refunds and manual adjustments. The entries are built once, outside the
//! timed loop.

#![allow(clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use regulars_domain::{EventKey, Points};
use regulars_loyalty::ledger::{
    Ledger, LedgerEntry, Overdraft, RefundFraction, RefundPolicy, fold,
};
use std::hint::black_box;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const ENTRIES: usize = 10_000;

/// A small deterministic generator, so every run folds the same ledger.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// A regular customer: a visit every half day or so, points valid for 90 days, a reward
/// when they can afford one, a monthly expiry job, now and then a refund or a bonus.
fn regular_customer_ledger() -> Vec<LedgerEntry> {
    let mut rng = Lcg(0x5eed);
    let mut ledger = Ledger::new();
    let mut now: OffsetDateTime = datetime!(2020-01-01 08:00 +07:00);
    let mut last_sweep = now;
    let mut visit = 0u64;
    while ledger.entries().len() < ENTRIES {
        visit += 1;
        now += Duration::minutes(360 + rng.below(720) as i64);
        let order = EventKey::new("pos:kiotviet", format!("HD{visit:07}")).expect("valid key");
        let points = Points::new(10 + rng.below(60) as i64);
        ledger
            .earn(order, points, now, Some(now + Duration::days(90)))
            .expect("earn");
        if rng.below(3) == 0 && ledger.balance() >= Points::new(120) {
            let cost = Points::new(50 + 10 * rng.below(8) as i64);
            ledger
                .redeem(cost, now, "reward:free-drink")
                .expect("affordable redemption");
        }
        if now - last_sweep >= Duration::days(30) {
            ledger.expire_due(now).expect("monthly expiry");
            last_sweep = now;
        }
        if visit.is_multiple_of(97) {
            // A refund of an order from a few visits ago: full, or half of it.
            let earlier =
                EventKey::new("pos:kiotviet", format!("HD{:07}", visit - 3)).expect("valid key");
            let share = if visit.is_multiple_of(2) {
                RefundFraction::FULL
            } else {
                RefundFraction::new(1, 2).expect("valid share")
            };
            ledger
                .reverse_order_partial(&earlier, share, now, RefundPolicy::Clamp)
                .expect("refund");
        }
        if visit.is_multiple_of(365) {
            ledger
                .adjust(
                    Points::new(100),
                    now,
                    "birthday bonus",
                    "system:campaigns",
                    Some(now + Duration::days(30)),
                    Overdraft::Refuse,
                )
                .expect("bonus");
        }
    }
    let mut entries = ledger.into_entries();
    // Any prefix of a valid ledger is a valid ledger.
    entries.truncate(ENTRIES);
    entries
}

fn fold_bench(c: &mut Criterion) {
    let entries = regular_customer_ledger();
    let state = fold(&entries).expect("the generated ledger folds");
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    for entry in &entries {
        *kinds.entry(entry.kind.name()).or_default() += 1;
    }
    eprintln!(
        "ledger/fold_10000_entries: {kinds:?}, {} open lots, balance {}",
        state.lots().count(),
        state.balance()
    );
    c.bench_function("ledger/fold_10000_entries", |b| {
        b.iter(|| fold(black_box(&entries)))
    });
    // The floor any fold over the same entries has to pay: touching every amount once.
    c.bench_function("baseline/sum_10000_i64", |b| {
        b.iter(|| {
            black_box(&entries)
                .iter()
                .map(|e| e.amount.value())
                .fold(0i64, i64::wrapping_add)
        })
    });
}

criterion_group!(benches, fold_bench);
criterion_main!(benches);
