//! Properties of stamp counting: under any mix of orders, repeated deliveries, partial
//! and full refunds and redeemed vouchers, the stamps match a simple reference fold;
//! the card never holds a negative or a full count; every completion issues exactly one
//! voucher; refunding everything brings the card back to zero.

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use regulars_domain::{BrandId, Currency, EventKey, LineItem, Money, Order, RewardId, VoucherId};
use regulars_loyalty::ledger::RefundFraction;
use regulars_loyalty::stamps::{
    OrderStamps, StampCard, StampEarning, StampEvent, StampEventKind, StampState, earn, refund,
};
use std::collections::BTreeSet;
use time::{Duration, OffsetDateTime};

const ORDERS: usize = 8;
/// Every order totals this many đồng, so a refund share is a percentage.
const TOTAL: i64 = 100;

fn config() -> Config {
    Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/stamps_props.txt",
        ))),
        ..Config::default()
    }
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

fn vnd(n: i64) -> Money {
    Money::from_minor_units(n, Currency::VND)
}

fn card(needed: u32, cap: Option<u32>, expiry_days: Option<u32>) -> StampCard {
    StampCard {
        code: "coffee".into(),
        name: "Coffee card".into(),
        stamps_needed: needed,
        earn: StampEarning::Item {
            skus: vec!["CF".into()],
            categories: vec![],
        },
        max_per_order: cap,
        reward: RewardId::from_bytes([9; 16]),
        expiry_days,
        active: true,
    }
}

fn line(sku: &str, quantity: u32) -> LineItem {
    LineItem {
        sku: sku.into(),
        name: sku.into(),
        category: None,
        quantity,
        unit_price: vnd(1),
        modifiers: vec![],
    }
}

/// Order `i`: always the same contents, so a repeated delivery is a true duplicate.
fn order(i: usize, quantities: &[u32], at: OffsetDateTime) -> Result<Order, TestCaseError> {
    let qty = quantities.get(i).copied().unwrap_or(0);
    let mut lines = vec![line("TEA", 1)];
    if qty > 0 {
        lines.push(line("CF", qty));
    }
    Ok(Order {
        brand_id: BrandId::from_bytes([1; 16]),
        key: EventKey::new("pos", format!("o{i}")).map_err(fail)?,
        location: None,
        customer_phone: None,
        placed_at: at,
        lines,
        total: vnd(TOTAL),
    })
}

#[derive(Debug, Clone, Copy)]
enum Op {
    /// Deliver order `i` (again, perhaps).
    Order(usize),
    /// Refund `n` more percent of order `i`.
    Refund(usize, i64),
    /// The customer redeems their oldest unused stamp voucher.
    Redeem,
}

fn op(redeem: bool) -> impl Strategy<Value = Op> {
    let redeem_weight = if redeem { 1 } else { 0 };
    prop_oneof![
        3 => (0..ORDERS).prop_map(Op::Order),
        2 => (0..ORDERS, 1_i64..=TOTAL).prop_map(|(i, n)| Op::Refund(i, n)),
        redeem_weight => Just(Op::Redeem),
    ]
}

/// A customer's card driven through the pure commands, as the service drives it.
struct Sim {
    card: StampCard,
    quantities: Vec<u32>,
    state: StampState,
    events: Vec<StampEvent>,
    seen: [bool; ORDERS],
    refunded: [i64; ORDERS],
    used: BTreeSet<VoucherId>,
    vouchers: u32,
    clock: OffsetDateTime,
}

impl Sim {
    fn new(card: StampCard, quantities: Vec<u32>) -> Self {
        Sim {
            card,
            quantities,
            state: StampState::default(),
            events: Vec::new(),
            seen: [false; ORDERS],
            refunded: [0; ORDERS],
            used: BTreeSet::new(),
            vouchers: 0,
            clock: OffsetDateTime::UNIX_EPOCH + Duration::days(20_000),
        }
    }

    fn record(&mut self, events: Vec<StampEvent>) -> Result<(), TestCaseError> {
        for event in &events {
            self.state.apply(event).map_err(fail)?;
        }
        self.events.extend(events);
        Ok(())
    }

    fn key(i: usize) -> Result<EventKey, TestCaseError> {
        EventKey::new("pos", format!("o{i}")).map_err(fail)
    }

    /// Unused vouchers of completed, not reopened cards, newest first.
    fn unused(&self) -> Vec<VoucherId> {
        let reopened: BTreeSet<VoucherId> = self
            .events
            .iter()
            .filter_map(|e| match e.kind {
                StampEventKind::Reopened { voucher, .. } => Some(voucher),
                _ => None,
            })
            .collect();
        self.events
            .iter()
            .rev()
            .filter_map(|e| match e.kind {
                StampEventKind::Completed { voucher, .. } => Some(voucher),
                _ => None,
            })
            .filter(|v| !reopened.contains(v) && !self.used.contains(v))
            .collect()
    }

    fn run(&mut self, op: Op, step: Duration) -> Result<(), TestCaseError> {
        self.clock += step;
        match op {
            Op::Order(i) => {
                let order = order(i, &self.quantities, self.clock)?;
                let tally = OrderStamps::of(&order.key, &self.events);
                let vouchers = &mut self.vouchers;
                let mut next = || {
                    *vouchers += 1;
                    let mut bytes = [0_u8; 16];
                    bytes[..4].copy_from_slice(&vouchers.to_be_bytes());
                    VoucherId::from_bytes(bytes)
                };
                let events = earn(
                    &self.card,
                    &self.state,
                    &order,
                    &tally,
                    self.clock,
                    &mut next,
                )
                .map_err(fail)?;
                self.seen[i] = true;
                self.record(events)
            }
            Op::Refund(i, n) => {
                if !self.seen[i] || self.refunded[i] == TOTAL {
                    return Ok(()); // the service refuses these before counting
                }
                self.refunded[i] = (self.refunded[i] + n).min(TOTAL);
                self.refund_to(i, self.refunded[i])
            }
            Op::Redeem => {
                if let Some(oldest) = self.unused().last().copied() {
                    self.used.insert(oldest);
                }
                Ok(())
            }
        }
    }

    fn refund_to(&mut self, i: usize, refunded: i64) -> Result<(), TestCaseError> {
        let key = Self::key(i)?;
        let tally = OrderStamps::of(&key, &self.events);
        let share = RefundFraction::new(refunded, TOTAL).map_err(fail)?;
        let unused = self.unused();
        let events = refund(
            &self.card,
            &self.state,
            &key,
            &tally,
            share,
            &unused,
            self.clock,
        )
        .map_err(fail)?;
        self.record(events)
    }

    /// The reference: what the delivered orders keep after their refunds.
    fn kept(&self) -> Result<u64, TestCaseError> {
        let mut kept = 0_u64;
        for i in 0..ORDERS {
            if !self.seen[i] {
                continue;
            }
            let earned = self
                .card
                .stamps_for(&order(i, &self.quantities, self.clock)?);
            let gone = i64::from(earned) * self.refunded[i] / TOTAL;
            kept += u64::try_from(i64::from(earned) - gone).map_err(fail)?;
        }
        Ok(kept)
    }

    fn forgiven(&self) -> u64 {
        self.events
            .iter()
            .map(|e| match e.kind {
                StampEventKind::Removed { forgiven, .. } => u64::from(forgiven),
                _ => 0,
            })
            .sum()
    }

    /// On the card plus held in live completed cards.
    fn held(&self) -> u64 {
        let live = u64::from(self.state.completed) - u64::from(self.state.reopened);
        u64::from(self.state.stamps) + u64::from(self.card.stamps_needed) * live
    }

    fn check_common(&self) -> Result<(), TestCaseError> {
        prop_assert_eq!(&StampState::fold(&self.events).map_err(fail)?, &self.state);
        prop_assert!(self.state.stamps < self.card.stamps_needed);
        prop_assert!(self.state.reopened <= self.state.completed);
        // Each completion issues exactly one voucher, never one twice.
        let completions: Vec<VoucherId> = self
            .events
            .iter()
            .filter_map(|e| match e.kind {
                StampEventKind::Completed { voucher, .. } => Some(voucher),
                _ => None,
            })
            .collect();
        let distinct: BTreeSet<_> = completions.iter().collect();
        prop_assert_eq!(completions.len(), distinct.len());
        prop_assert_eq!(completions.len(), self.state.completed as usize);
        // A reopened card's voucher was unused, and is reopened once.
        let mut reopened = BTreeSet::new();
        for event in &self.events {
            if let StampEventKind::Reopened { voucher, .. } = event.kind {
                prop_assert!(!self.used.contains(&voucher));
                prop_assert!(reopened.insert(voucher));
            }
        }
        Ok(())
    }
}

fn quantities() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(0_u32..=15, ORDERS)
}

proptest! {
    #![proptest_config(config())]

    /// With every voucher unused, the card and its live completions hold exactly what
    /// the orders keep; refunding every order in full brings everything back to zero.
    #[test]
    fn counting_matches_the_reference_fold(
        needed in 2_u32..=12,
        cap in prop::option::of(1_u32..=20),
        quantities in quantities(),
        ops in prop::collection::vec(op(false), 0..60),
    ) {
        let mut sim = Sim::new(card(needed, cap, None), quantities);
        for op in ops {
            sim.run(op, Duration::hours(1))?;
            sim.check_common()?;
            prop_assert_eq!(sim.forgiven(), 0);
            prop_assert_eq!(sim.held(), sim.kept()?);
        }
        for i in 0..ORDERS {
            if sim.seen[i] {
                sim.refunded[i] = TOTAL;
                sim.refund_to(i, TOTAL)?;
            }
        }
        sim.check_common()?;
        prop_assert_eq!(sim.state.stamps, 0);
        prop_assert_eq!(sim.state.completed, sim.state.reopened);
        prop_assert_eq!(sim.kept()?, 0);
    }

    /// Delivering an order again, any number of times, adds nothing.
    #[test]
    fn duplicates_add_nothing(
        needed in 2_u32..=12,
        quantities in quantities(),
        repeats in prop::collection::vec(0..ORDERS, 0..30),
    ) {
        let mut once = Sim::new(card(needed, None, None), quantities.clone());
        let mut again = Sim::new(card(needed, None, None), quantities);
        for i in 0..ORDERS {
            once.run(Op::Order(i), Duration::hours(1))?;
            again.run(Op::Order(i), Duration::hours(1))?;
        }
        for i in repeats {
            again.run(Op::Order(i), Duration::hours(1))?;
        }
        prop_assert_eq!(once.state.stamps, again.state.stamps);
        prop_assert_eq!(once.state.completed, again.state.completed);
        prop_assert_eq!(once.events.len(), again.events.len());
    }

    /// With vouchers redeemed along the way, what a refund cannot take back is
    /// forgiven, never taken below zero: held = kept + forgiven.
    #[test]
    fn redeemed_vouchers_are_never_reopened(
        needed in 2_u32..=12,
        quantities in quantities(),
        ops in prop::collection::vec(op(true), 0..60),
    ) {
        let mut sim = Sim::new(card(needed, None, None), quantities);
        for op in ops {
            sim.run(op, Duration::hours(1))?;
            sim.check_common()?;
            prop_assert_eq!(sim.held(), sim.kept()? + sim.forgiven());
        }
    }

    /// Stamps that expire leave the card; the fold, the bounds and the one-voucher rule
    /// hold whatever the time between events.
    #[test]
    fn expiry_keeps_the_bounds(
        needed in 2_u32..=12,
        days in 1_u32..=10,
        quantities in quantities(),
        ops in prop::collection::vec((op(true), 0_i64..=96), 0..60),
    ) {
        let mut sim = Sim::new(card(needed, None, Some(days)), quantities);
        for (op, hours) in ops {
            sim.run(op, Duration::hours(hours))?;
            sim.check_common()?;
            if let Some(expiry) = sim.state.expires_at(&sim.card) {
                let start = sim.state.card_started_at.unwrap_or(expiry);
                prop_assert_eq!(expiry - start, Duration::days(i64::from(days)));
            }
        }
    }
}

#[test]
fn a_refund_after_completion_voids_the_unused_voucher() -> Result<(), TestCaseError> {
    let mut sim = Sim::new(card(10, None, None), vec![9, 3, 0, 0, 0, 0, 0, 0]);
    sim.run(Op::Order(0), Duration::hours(1))?;
    sim.run(Op::Order(1), Duration::hours(1))?;
    assert_eq!((sim.state.stamps, sim.state.completed), (2, 1));
    sim.run(Op::Refund(1, TOTAL), Duration::hours(1))?;
    // The card reopens: 2 + 10 − 3 = 9 stamps, the voucher voided.
    assert_eq!((sim.state.stamps, sim.state.reopened), (9, 1));
    Ok(())
}

#[test]
fn a_refund_after_the_voucher_was_used_leaves_the_rest() -> Result<(), TestCaseError> {
    let mut sim = Sim::new(card(10, None, None), vec![9, 3, 0, 0, 0, 0, 0, 0]);
    sim.run(Op::Order(0), Duration::hours(1))?;
    sim.run(Op::Order(1), Duration::hours(1))?;
    sim.run(Op::Redeem, Duration::hours(1))?;
    sim.run(Op::Refund(1, TOTAL), Duration::hours(1))?;
    // Two stamps can be taken, one is forgiven; the card never goes negative.
    assert_eq!(
        (sim.state.stamps, sim.state.reopened, sim.forgiven()),
        (0, 0, 1)
    );
    Ok(())
}

#[test]
fn a_visit_card_honours_its_minimum() -> Result<(), TestCaseError> {
    let mut visit = card(5, None, None);
    visit.earn = StampEarning::Visit {
        min_total: Some(vnd(150)),
    };
    let at = OffsetDateTime::UNIX_EPOCH;
    assert_eq!(visit.stamps_for(&order(0, &[3], at)?), 0);
    visit.earn = StampEarning::Visit {
        min_total: Some(vnd(100)),
    };
    assert_eq!(visit.stamps_for(&order(0, &[3], at)?), 1);
    Ok(())
}
