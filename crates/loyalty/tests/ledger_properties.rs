//! Properties of the points ledger over random histories: conservation, exact refunds,
//! no overdraft, expiry order, cumulative partial refunds, a deterministic fold, and the
//! day each earning counts toward.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use regulars_domain::{EventKey, Points};
use regulars_loyalty::ledger::{
    EntryKind, Ledger, LedgerEntry, LedgerError, LedgerState, Overdraft, RefundFraction,
    RefundPolicy, check, fold,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const START: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

/// One step of a customer's history. Failures (an overdraft refused, a refund share going
/// down, ...) are part of the history: the step simply records nothing.
#[derive(Clone, Debug)]
enum Step {
    Earn {
        points: i64,
        expires_in_days: Option<i64>,
    },
    Redeem {
        points: i64,
    },
    Wait {
        hours: i64,
    },
    ExpireDue,
    Refund {
        which: prop::sample::Index,
        per_mille: i64,
        policy: RefundPolicy,
    },
    Adjust {
        delta: i64,
        expires_in_days: Option<i64>,
        overdraft: Overdraft,
    },
}

fn policy() -> impl Strategy<Value = RefundPolicy> {
    prop_oneof![
        Just(RefundPolicy::Debt),
        Just(RefundPolicy::VoidUnredeemed),
        Just(RefundPolicy::Clamp)
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let overdraft = prop_oneof![Just(Overdraft::Refuse), Just(Overdraft::Allow)];
    prop_oneof![
        4 => (1i64..=500, proptest::option::weighted(0.8, 1i64..=10))
            .prop_map(|(points, expires_in_days)| Step::Earn { points, expires_in_days }),
        3 => (1i64..=600).prop_map(|points| Step::Redeem { points }),
        3 => (0i64..=72).prop_map(|hours| Step::Wait { hours }),
        1 => Just(Step::ExpireDue),
        2 => (any::<prop::sample::Index>(), 1i64..=1000, policy())
            .prop_map(|(which, per_mille, policy)| Step::Refund { which, per_mille, policy }),
        1 => (-400i64..=400, proptest::option::weighted(0.5, 1i64..=10), overdraft).prop_map(
            |(delta, expires_in_days, overdraft)| Step::Adjust {
                delta,
                // Only credits may carry an expiry.
                expires_in_days: expires_in_days.filter(|_| delta > 0),
                overdraft,
            }
        ),
    ]
}

fn history() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(step(), 0..60)
}

fn order(n: usize) -> EventKey {
    EventKey::new("pos:test", format!("order-{n}")).unwrap()
}

/// A customer replaying a history, with the caller's clock and known orders.
struct Customer {
    ledger: Ledger,
    now: OffsetDateTime,
    orders: Vec<EventKey>,
}

impl Customer {
    fn new() -> Self {
        Customer {
            ledger: Ledger::new(),
            now: START,
            orders: Vec::new(),
        }
    }

    fn replay(steps: &[Step]) -> Self {
        let mut customer = Customer::new();
        for step in steps {
            customer.step(step);
        }
        customer
    }

    fn fresh_order(&mut self) -> EventKey {
        let key = order(self.orders.len());
        self.orders.push(key.clone());
        key
    }

    fn step(&mut self, step: &Step) {
        let now = self.now;
        let days = |d: &Option<i64>| d.map(|d| now + Duration::days(d));
        // Refusals are expected in random histories; only the accepted steps matter.
        let _ = match step {
            Step::Earn {
                points,
                expires_in_days,
            } => {
                let key = self.fresh_order();
                self.ledger
                    .earn(key, Points::new(*points), now, days(expires_in_days))
            }
            Step::Redeem { points } => self.ledger.redeem(Points::new(*points), now, "reward:1"),
            Step::Wait { hours } => {
                self.now += Duration::hours(*hours);
                Ok(Vec::new())
            }
            Step::ExpireDue => self.ledger.expire_due(now),
            Step::Refund {
                which,
                per_mille,
                policy,
            } => {
                if self.orders.is_empty() {
                    return;
                }
                let key = self.orders[which.index(self.orders.len())].clone();
                let share = RefundFraction::new(*per_mille, 1000).unwrap();
                self.ledger.reverse_order_partial(&key, share, now, *policy)
            }
            Step::Adjust {
                delta,
                expires_in_days,
                overdraft,
            } => self.ledger.adjust(
                Points::new(*delta),
                now,
                "goodwill",
                "staff:1",
                days(expires_in_days),
                *overdraft,
            ),
        };
    }
}

/// Lots as `(expires_at, remaining)` in consumption order, without seqs.
fn lot_shapes(state: &LedgerState) -> Vec<(Option<OffsetDateTime>, Points)> {
    state.lots().map(|l| (l.expires_at, l.remaining)).collect()
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/ledger_properties.txt",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// The balance is the sum of the entries, the fold of the entries, and the open lots
    /// minus the debt; debt and open lots never coexist.
    #[test]
    fn balance_is_the_sum_of_entries_and_of_lots_minus_debt(steps in history()) {
        let customer = Customer::replay(&steps);
        let ledger = &customer.ledger;
        let state = ledger.state();
        let sum = Points::checked_sum(ledger.entries().iter().map(|e| e.amount)).unwrap();
        prop_assert_eq!(state.balance(), sum);
        prop_assert_eq!(fold(ledger.entries()).unwrap().balance(), sum);
        let in_lots = Points::checked_sum(state.lots().map(|l| l.remaining)).unwrap();
        prop_assert_eq!(state.balance(), in_lots.checked_sub(state.debt()).unwrap());
        prop_assert!(!state.debt().is_negative());
        prop_assert!(state.debt() == Points::ZERO || state.lots().next().is_none());
        prop_assert!(check(ledger.entries(), sum).is_ok());
    }

    /// Folding is a pure function of the entries: twice, after a JSON round trip, and the
    /// state the commands built incrementally are all the same.
    #[test]
    fn fold_is_deterministic(steps in history()) {
        let customer = Customer::replay(&steps);
        let entries = customer.ledger.entries();
        let once = fold(entries).unwrap();
        prop_assert_eq!(&once, &fold(entries).unwrap());
        prop_assert_eq!(&once, customer.ledger.state());
        let json = serde_json::to_string(entries).unwrap();
        let back: Vec<LedgerEntry> = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, entries);
        prop_assert_eq!(&fold(&back).unwrap(), &once);
    }

    /// Changing the amount of any one stored entry never goes unnoticed by the check.
    #[test]
    fn check_detects_a_tampered_amount(
        steps in history(),
        which in any::<prop::sample::Index>(),
        delta in prop_oneof![-1000i64..=-1, 1i64..=1000],
    ) {
        let customer = Customer::replay(&steps);
        let mut entries = customer.ledger.entries().to_vec();
        prop_assume!(!entries.is_empty());
        let i = which.index(entries.len());
        entries[i].amount = entries[i].amount.checked_add(Points::new(delta)).unwrap();
        prop_assert!(check(&entries, customer.ledger.balance()).is_err());
    }

    /// Earning and then fully refunding the same order, with nothing spent in between,
    /// restores the balance, the debt and every lot exactly. Under the clamp policy this
    /// holds when there was no debt to absorb part of the earn.
    #[test]
    fn earn_then_full_reverse_restores_the_prior_state(
        steps in history(),
        points in 1i64..=1000,
        expires_in_days in proptest::option::of(1i64..=10),
        policy in policy(),
    ) {
        let mut customer = Customer::replay(&steps);
        let now = customer.now;
        customer.ledger.expire_due(now).unwrap();
        let before = customer.ledger.state().clone();
        prop_assume!(policy != RefundPolicy::Clamp || before.debt() == Points::ZERO);
        let key = customer.fresh_order();
        let ledger = &mut customer.ledger;
        let expires_at = expires_in_days.map(|d| now + Duration::days(d));
        ledger.earn(key.clone(), Points::new(points), now, expires_at).unwrap();
        let reversal = ledger.reverse_order(&key, now, policy).unwrap();
        prop_assert_eq!(reversal.len(), 1);
        let after = ledger.state();
        prop_assert_eq!(after.balance(), before.balance());
        prop_assert_eq!(after.debt(), before.debt());
        prop_assert_eq!(after.lots().collect::<Vec<_>>(), before.lots().collect::<Vec<_>>());
        let tally = after.order(&key).unwrap();
        prop_assert_eq!((tally.earned, tally.reversed, tally.unrecovered),
                        (Points::new(points), Points::new(points), Points::ZERO));
    }

    /// A redemption either takes exactly what was asked from unexpired lots, leaving a
    /// non-negative balance, or is refused with what was really available and changes
    /// nothing. Expired lots are expired in full, never spent.
    #[test]
    fn redemption_never_overdraws_nor_spends_expired_points(
        steps in history(),
        points in 1i64..=1500,
        wait_hours in 0i64..=300,
    ) {
        let mut customer = Customer::replay(&steps);
        let now = customer.now + Duration::hours(wait_hours);
        let before = customer.ledger.clone();
        let lots_before = before.state();
        match customer.ledger.redeem(Points::new(points), now, "reward:1") {
            Ok(new) => {
                let (redeem, expiries) = new.split_last().unwrap();
                prop_assert_eq!(redeem.amount, Points::new(-points));
                // Every due lot, and only those, expired in full before the redemption.
                let due: Vec<_> = lots_before.due_lots(now).collect();
                prop_assert_eq!(expiries.len(), due.len());
                for (entry, lot) in expiries.iter().zip(&due) {
                    prop_assert_eq!(&entry.kind, &EntryKind::Expire { lot: lot.seq });
                    prop_assert_eq!(entry.amount, Points::new(-lot.remaining.value()));
                }
                let after = customer.ledger.state();
                prop_assert!(!after.balance().is_negative());
                prop_assert!(after.due_lots(now).next().is_none());
                // What the redemption took came out of unexpired lots only.
                let unexpired = Points::checked_sum(
                    lots_before
                        .lots()
                        .filter(|l| l.expires_at.is_none_or(|at| at > now))
                        .map(|l| l.remaining),
                ).unwrap();
                let left = Points::checked_sum(after.lots().map(|l| l.remaining)).unwrap();
                prop_assert_eq!(unexpired.checked_sub(left).unwrap(), Points::new(points));
            }
            Err(LedgerError::InsufficientPoints { available, requested }) => {
                prop_assert_eq!(requested, Points::new(points));
                prop_assert!(available < requested);
                prop_assert_eq!(available, lots_before.available_at(now));
                prop_assert_eq!(&customer.ledger, &before);
            }
            Err(other) => prop_assert!(false, "unexpected error {:?}", other),
        }
    }

    /// A sweep removes exactly the lots due, in expiry order (ties by seq), each in full,
    /// and leaves every other lot exactly as it was.
    #[test]
    fn expiry_follows_expiry_order_and_spares_unexpired_lots(
        steps in history(),
        ahead_hours in 0i64..=400,
    ) {
        let mut customer = Customer::replay(&steps);
        let now = customer.now + Duration::hours(ahead_hours);
        let before = customer.ledger.state().clone();
        let new = customer.ledger.expire_due(now).unwrap();
        let mut due: Vec<_> = before
            .lots()
            .filter(|l| l.expires_at.is_some_and(|at| at <= now))
            .collect();
        due.sort_by_key(|l| (l.expires_at, l.seq));
        let expected: Vec<_> = due
            .iter()
            .map(|l| (EntryKind::Expire { lot: l.seq }, Points::new(-l.remaining.value()), now))
            .collect();
        let got: Vec<_> = new.iter().map(|e| (e.kind.clone(), e.amount, e.at)).collect();
        prop_assert_eq!(got, expected);
        let spared: Vec<_> = before
            .lots()
            .filter(|l| l.expires_at.is_none_or(|at| at > now))
            .collect();
        prop_assert_eq!(customer.ledger.state().lots().collect::<Vec<_>>(), spared);
    }

    /// However an order's refund is split, and whatever happens in between, the reversals
    /// never exceed what it earned, each step lands on floor(earned * share), and the final
    /// full refund brings the total to exactly what it earned.
    #[test]
    fn partial_reversals_never_exceed_and_finally_equal_the_earn(
        steps in history(),
        points in 1i64..=1000,
        mut shares in prop::collection::vec(0i64..=1000, 0..6),
        between in prop::collection::vec(step(), 6),
        policy in policy(),
    ) {
        let mut customer = Customer::replay(&steps);
        let key = customer.fresh_order();
        let now = customer.now;
        let expires_at = Some(now + Duration::days(3));
        customer.ledger.earn(key.clone(), Points::new(points), now, expires_at).unwrap();
        shares.sort_unstable();
        for (share, step) in shares.iter().zip(&between) {
            // Other activity, but no other refund share of this order.
            if !matches!(step, Step::Refund { .. }) {
                customer.step(step);
            }
            let fraction = RefundFraction::new(*share, 1000).unwrap();
            customer.ledger.reverse_order_partial(&key, fraction, customer.now, policy).unwrap();
            let tally = customer.ledger.state().order(&key).copied().unwrap();
            prop_assert_eq!(tally.reversed.value(), points * share / 1000);
            prop_assert!(tally.reversed <= tally.earned);
        }
        customer.ledger
            .reverse_order_partial(&key, RefundFraction::FULL, customer.now, policy)
            .unwrap();
        let tally = customer.ledger.state().order(&key).copied().unwrap();
        prop_assert_eq!(tally.reversed, Points::new(points));
        // The Reverse entries of the order account for exactly what it earned.
        let claimed: i64 = customer.ledger.entries().iter().filter_map(|e| match &e.kind {
            EntryKind::Reverse { order, unrecovered } if *order == key =>
                Some(-e.amount.value() + unrecovered.value()),
            _ => None,
        }).sum();
        prop_assert_eq!(claimed, points);
        prop_assert_eq!(
            customer.ledger.reverse_order(&key, customer.now, policy),
            Err(LedgerError::AlreadyReversed { order: key.clone() })
        );
    }

    /// Whether or not an expiry job ran in between, the same commands leave the customer
    /// with the same balance, debt, lots and order tallies once both ledgers are swept to
    /// the same time: debits sweep first, so no command sees a different state.
    #[test]
    fn outcome_does_not_depend_on_when_expiry_ran(
        steps in history(),
        sweeps in prop::collection::vec(any::<bool>(), 60),
    ) {
        let mut plain = Customer::replay(&steps);
        let mut swept = Customer::new();
        for (step, sweep) in steps.iter().zip(&sweeps) {
            if *sweep {
                swept.ledger.expire_due(swept.now).unwrap();
            }
            swept.step(step);
        }
        // Until swept, the balance still counts expired points; compare at the same sweep.
        plain.ledger.expire_due(plain.now).unwrap();
        swept.ledger.expire_due(swept.now).unwrap();
        let (a, b) = (plain.ledger.state(), swept.ledger.state());
        prop_assert_eq!(a.balance(), b.balance());
        prop_assert_eq!(a.debt(), b.debt());
        prop_assert_eq!(lot_shapes(a), lot_shapes(b));
        let tallies = |s: &LedgerState| s
            .orders()
            .map(|(k, t)| (k.clone(), t.earned, t.reversed, t.unrecovered))
            .collect::<Vec<_>>();
        prop_assert_eq!(tallies(a), tallies(b));
    }

    /// The daily cap's count: whatever order orders arrive in (late, back-dated, or on
    /// time), the points earned on a local day are those of the orders placed that day,
    /// and that survives storing the entries and loading them again.
    #[test]
    fn earnings_count_toward_the_day_the_order_was_placed(
        orders in prop::collection::vec((0i64..4, 0i64..24 * 60, 1i64..500), 1..20),
        offset_hours in -12i8..=14,
    ) {
        let offset = time::UtcOffset::from_hms(offset_hours, 0, 0).unwrap();
        let mut ledger = Ledger::new();
        let mut last = START;
        let mut expected = std::collections::BTreeMap::<time::Date, i64>::new();
        for (n, (day, minute, points)) in orders.iter().enumerate() {
            let placed = START + Duration::days(*day) + Duration::minutes(*minute);
            // Recorded no earlier than the last entry, as storage records a late order.
            let at = last.max(placed);
            ledger
                .earn_placed(order(n), Points::new(*points), at, None, Some(placed))
                .unwrap();
            last = at;
            let local = placed.to_offset(offset).date();
            *expected.entry(local).or_default() += points;
        }
        let reloaded = Ledger::from_entries(
            serde_json::from_value(serde_json::to_value(ledger.entries()).unwrap()).unwrap(),
        )
        .unwrap();
        for shift in -2..6 {
            let day = (START + Duration::days(shift)).to_offset(offset).date();
            let want = Points::new(expected.get(&day).copied().unwrap_or(0));
            prop_assert_eq!(ledger.earned_on_day(day, offset), want);
            prop_assert_eq!(reloaded.earned_on_day(day, offset), want);
        }
    }
}
