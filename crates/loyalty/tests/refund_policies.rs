//! Properties of the three refund policies (`debt`, `void_unredeemed`, `clamp`) over random
//! histories of earnings, vouchers bought with points, vouchers used at the till and
//! refunds: nothing is given away, nothing is taken twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use regulars_domain::{EventKey, Points};
use regulars_loyalty::ledger::{
    EntryKind, Ledger, LedgerError, RefundFraction, RefundPolicy, Reversal, check, fold,
};
use std::collections::BTreeSet;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const START: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

#[derive(Clone, Debug)]
enum Step {
    Earn {
        points: i64,
    },
    /// Buys a voucher with points (refused when the balance is short).
    Buy {
        points: i64,
    },
    /// The till redeems one of the vouchers still held.
    Use {
        which: prop::sample::Index,
    },
    Refund {
        which: prop::sample::Index,
        per_mille: i64,
        policy: RefundPolicy,
    },
    Wait {
        hours: i64,
    },
}

fn policy() -> impl Strategy<Value = RefundPolicy> {
    prop_oneof![
        Just(RefundPolicy::Debt),
        Just(RefundPolicy::VoidUnredeemed),
        Just(RefundPolicy::Clamp)
    ]
}

fn step(policy: BoxedStrategy<RefundPolicy>) -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (1i64..=500).prop_map(|points| Step::Earn { points }),
        3 => (1i64..=400).prop_map(|points| Step::Buy { points }),
        1 => any::<prop::sample::Index>().prop_map(|which| Step::Use { which }),
        3 => (any::<prop::sample::Index>(), 1i64..=1000, policy)
            .prop_map(|(which, per_mille, policy)| Step::Refund { which, per_mille, policy }),
        1 => (0i64..=48).prop_map(|hours| Step::Wait { hours }),
    ]
}

fn history(policy: BoxedStrategy<RefundPolicy>) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(step(policy), 0..50)
}

/// A customer: the ledger, and what the service keeps beside it (vouchers and their
/// state, how much of each order is refunded).
#[derive(Default)]
struct Customer {
    ledger: Ledger,
    now: Option<OffsetDateTime>,
    orders: Vec<(EventKey, i64)>,
    /// Vouchers bought with points: (ledger reference, points, state).
    vouchers: Vec<(String, i64, Held)>,
    /// Every reference a refund restored, in order.
    restored: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    Issued,
    Used,
    Voided,
}

impl Customer {
    fn now(&self) -> OffsetDateTime {
        self.now.unwrap_or(START)
    }

    fn earn(&mut self, points: i64) -> EventKey {
        let key = EventKey::new("pos:test", format!("o-{}", self.orders.len())).unwrap();
        let expires_at = Some(self.now() + Duration::days(30));
        self.ledger
            .earn(key.clone(), Points::new(points), self.now(), expires_at)
            .unwrap();
        self.orders.push((key.clone(), 0));
        key
    }

    fn buy(&mut self, points: i64) -> bool {
        let reference = format!("voucher:{}", self.vouchers.len());
        match self
            .ledger
            .redeem(Points::new(points), self.now(), reference.clone())
        {
            Ok(_) => {
                self.vouchers.push((reference, points, Held::Issued));
                true
            }
            Err(LedgerError::InsufficientPoints { .. }) => false,
            Err(other) => panic!("redeem: {other}"),
        }
    }

    /// Every voucher not used at the till: voided ones too, so that a second restoration
    /// would be tried if the ledger allowed it.
    fn unredeemed(&self) -> Vec<String> {
        self.vouchers
            .iter()
            .filter(|(_, _, held)| *held != Held::Used)
            .map(|(reference, _, _)| reference.clone())
            .collect()
    }

    /// Refunds `per_mille` more of order `index` under `policy`; `None` when refused.
    fn refund(&mut self, index: usize, per_mille: i64, policy: RefundPolicy) -> Option<Reversal> {
        let (key, refunded) = self.orders.get(index)?.clone();
        if refunded >= 1000 {
            return None;
        }
        let refunded = (refunded + per_mille).min(1000);
        let share = RefundFraction::new(refunded, 1000).unwrap();
        let now = self.now();
        let reversal = match policy {
            RefundPolicy::VoidUnredeemed => {
                let unredeemed = self.unredeemed();
                let expires_at = Some(now + Duration::days(30));
                self.ledger
                    .reverse_order_voiding(&key, share, now, &unredeemed, expires_at)
                    .unwrap()
            }
            other => {
                let entries = self
                    .ledger
                    .reverse_order_partial(&key, share, now, other)
                    .unwrap();
                Reversal {
                    entries,
                    ..Reversal::default()
                }
            }
        };
        self.orders[index].1 = refunded;
        for reference in &reversal.restored {
            let voucher = self
                .vouchers
                .iter_mut()
                .find(|(r, _, _)| r == reference)
                .unwrap();
            voucher.2 = Held::Voided;
            self.restored.push(reference.clone());
        }
        Some(reversal)
    }

    fn apply(&mut self, step: &Step) {
        match step {
            Step::Earn { points } => {
                self.earn(*points);
            }
            Step::Buy { points } => {
                self.buy(*points);
            }
            Step::Use { which } => {
                let issued: Vec<usize> = (0..self.vouchers.len())
                    .filter(|&i| self.vouchers[i].2 == Held::Issued)
                    .collect();
                if !issued.is_empty() {
                    let i = issued[which.index(issued.len())];
                    self.vouchers[i].2 = Held::Used;
                }
            }
            Step::Refund {
                which,
                per_mille,
                policy,
            } => {
                if !self.orders.is_empty() {
                    let index = which.index(self.orders.len());
                    self.refund(index, *per_mille, *policy);
                }
            }
            Step::Wait { hours } => {
                self.now = Some(self.now() + Duration::hours(*hours));
                self.ledger.expire_due(self.now()).unwrap();
            }
        }
    }

    fn replay(steps: &[Step]) -> Customer {
        let mut customer = Customer::default();
        for step in steps {
            customer.apply(step);
        }
        customer
    }

    fn sum_of_entries(&self) -> i64 {
        self.ledger.entries().iter().map(|e| e.amount.value()).sum()
    }

    fn lots(&self) -> i64 {
        self.ledger
            .state()
            .lots()
            .map(|l| l.remaining.value())
            .sum()
    }
}

fn any_policy() -> BoxedStrategy<RefundPolicy> {
    policy().boxed()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    /// Under every policy the balance is the fold of the entries (and their sum), the
    /// stored ledger checks clean, and `balance == open lots - debt`.
    #[test]
    fn the_balance_is_the_fold_of_the_entries(steps in history(any_policy())) {
        let customer = Customer::replay(&steps);
        let ledger = &customer.ledger;
        let state = check(ledger.entries(), ledger.balance()).unwrap();
        prop_assert_eq!(&state, ledger.state());
        prop_assert_eq!(ledger.balance().value(), customer.sum_of_entries());
        prop_assert_eq!(ledger.balance().value(), customer.lots() - state.debt().value());
    }

    /// When nothing was spent, a full refund under any policy takes back exactly what the
    /// order earned: no debt, nothing unrecovered, no voucher voided.
    #[test]
    fn a_refund_is_the_exact_inverse_when_nothing_was_spent(
        earns in prop::collection::vec(1i64..=500, 1..8),
        which in any::<prop::sample::Index>(),
        policy in policy(),
    ) {
        let mut customer = Customer::default();
        for points in &earns {
            customer.earn(*points);
        }
        let before = customer.ledger.balance().value();
        let index = which.index(earns.len());
        let reversal = customer.refund(index, 1000, policy).unwrap();
        prop_assert_eq!(customer.ledger.balance().value(), before - earns[index]);
        prop_assert_eq!(customer.ledger.state().debt(), Points::ZERO);
        prop_assert!(reversal.restored.is_empty());
        let tally = *customer.ledger.state().order(&customer.orders[index].0).unwrap();
        prop_assert_eq!(tally.reversed, Points::new(earns[index]));
        prop_assert_eq!(tally.unrecovered, Points::ZERO);
    }

    /// Under `debt`, points spent before their order is refunded become debt, and the
    /// next earnings repay it before any of them can be spent.
    #[test]
    fn debt_is_repaid_first_by_later_earnings(
        steps in history(Just(RefundPolicy::Debt).boxed()),
        earned in 1i64..=500,
        later in 1i64..=1000,
    ) {
        let mut customer = Customer::replay(&steps);
        let key_index = customer.orders.len();
        customer.earn(earned);
        let available = customer.ledger.balance().value().max(0);
        if available > 0 {
            prop_assert!(customer.buy(available));
        }
        let debt_before = customer.ledger.state().debt().value();
        let balance_before = customer.ledger.balance().value();
        customer.refund(key_index, 1000, RefundPolicy::Debt).unwrap();
        let debt = customer.ledger.state().debt().value();
        prop_assert_eq!(customer.ledger.balance().value(), balance_before - earned);
        prop_assert_eq!(debt, debt_before + earned);

        customer.earn(later);
        let state = customer.ledger.state();
        prop_assert_eq!(state.debt().value(), (debt - later).max(0));
        prop_assert_eq!(customer.lots(), (later - debt).max(0));
        prop_assert_eq!(customer.ledger.balance().value(), -debt + later);
    }

    /// Under `void_unredeemed` no voucher is ever voided twice nor after it was used;
    /// each restoration gives back exactly what its voucher cost; the vouchers voided are
    /// the newest ones, no more than needed; and when the unused vouchers cover the
    /// shortfall the refund leaves no new debt.
    #[test]
    fn void_unredeemed_voids_each_voucher_at_most_once_and_only_as_needed(
        steps in history(Just(RefundPolicy::VoidUnredeemed).boxed()),
        earned in 1i64..=500,
    ) {
        let mut customer = Customer::replay(&steps);
        // A final earn, spend and full refund: the exploit itself.
        let index = customer.orders.len();
        customer.earn(earned);
        let available = customer.ledger.balance().value().max(0);
        if available > 0 {
            prop_assert!(customer.buy(available));
        }
        let debt_before = customer.ledger.state().debt().value();
        let issued: i64 = customer.vouchers.iter()
            .filter(|(_, _, held)| *held == Held::Issued)
            .map(|(_, points, _)| points)
            .sum();
        let available = customer.ledger.balance().value().max(0);
        let claim = customer.ledger.state().order(&customer.orders[index].0).map(|t| {
            t.earned.value() - t.reversed.value()
        }).unwrap();
        let reversal = customer.refund(index, 1000, RefundPolicy::VoidUnredeemed).unwrap();
        let shortfall = claim - available;
        let costs: Vec<i64> = reversal.restored.iter()
            .map(|r| customer.vouchers.iter().find(|(v, _, _)| v == r).unwrap().1)
            .collect();
        let total: i64 = costs.iter().sum();
        if !reversal.restored.is_empty() {
            // No more than needed: without the last one the shortfall was not covered.
            prop_assert!(total - costs[costs.len() - 1] < shortfall);
        }
        if issued >= shortfall {
            prop_assert!(customer.ledger.state().debt().value() <= debt_before);
        }
        // Newest redemption first.
        let seqs: Vec<u64> = reversal.restored.iter()
            .map(|r| customer.ledger.state().redemption(r).unwrap().seq)
            .collect();
        prop_assert!(seqs.windows(2).all(|w| w[0] > w[1]));

        let distinct: BTreeSet<&String> = customer.restored.iter().collect();
        prop_assert_eq!(distinct.len(), customer.restored.len());
        for (reference, points, held) in &customer.vouchers {
            let restores: Vec<i64> = customer.ledger.entries().iter()
                .filter(|e| matches!(&e.kind, EntryKind::Restore { reference: r, .. } if r == reference))
                .map(|e| e.amount.value())
                .collect();
            match held {
                Held::Voided => prop_assert_eq!(restores, vec![*points]),
                Held::Issued | Held::Used => prop_assert!(restores.is_empty()),
            }
        }
        fold(customer.ledger.entries()).unwrap();
    }

    /// A stored ledger cannot restore a redemption twice, nor for another amount: `fold`
    /// refuses the entry.
    #[test]
    fn a_second_restoration_never_folds(
        steps in history(Just(RefundPolicy::VoidUnredeemed).boxed()),
        extra in 0i64..=2,
    ) {
        let customer = Customer::replay(&steps);
        let Some(reference) = customer.restored.first() else {
            return Ok(());
        };
        let mut entries = customer.ledger.entries().to_vec();
        let first = entries.iter()
            .find(|e| matches!(&e.kind, EntryKind::Restore { reference: r, .. } if r == reference))
            .unwrap()
            .clone();
        let last = entries.last().unwrap().clone();
        let mut again = first.clone();
        again.seq = last.seq + 1;
        again.at = last.at;
        again.amount = Points::new(first.amount.value() + extra);
        again.kind = EntryKind::Restore { reference: reference.clone(), expires_at: None };
        entries.push(again);
        let refused = fold(&entries).unwrap_err();
        let LedgerError::InvalidEntry { reason, .. } = refused else {
            panic!("not an entry error: {refused}");
        };
        let twice = matches!(*reason, LedgerError::AlreadyRestored { .. });
        prop_assert!(twice, "refused for another reason: {}", reason);
    }

    /// Under `clamp` the balance never goes below zero: spent points are recorded as
    /// unrecovered instead.
    #[test]
    fn clamp_never_takes_the_balance_below_zero(
        steps in history(Just(RefundPolicy::Clamp).boxed()),
    ) {
        let mut customer = Customer::default();
        for step in &steps {
            customer.apply(step);
            prop_assert!(customer.ledger.balance().value() >= 0);
            prop_assert_eq!(customer.ledger.state().debt(), Points::ZERO);
        }
        let unrecovered: i64 = customer.ledger.state().orders()
            .map(|(_, t)| t.unrecovered.value())
            .sum();
        let reversed: i64 = customer.ledger.entries().iter()
            .filter(|e| matches!(e.kind, EntryKind::Reverse { .. }))
            .map(|e| -e.amount.value())
            .sum();
        let claimed: i64 = customer.ledger.state().orders()
            .map(|(_, t)| t.reversed.value())
            .sum();
        prop_assert_eq!(reversed + unrecovered, claimed);
    }
}
