//! State-machine test of the points ledger.
//!
//! A deliberately naive model (a `Vec` of lots searched and sorted on every step, plus a
//! debt counter) and the real [`Ledger`] are driven by the same random sequence of earns,
//! redemptions, clock advances, expiry sweeps, full and partial refunds, adjustments and
//! backdated commands. After every step the two must agree on the outcome (the entries
//! returned, or the exact error), the balance, the debt, the open lots and every order's
//! tally, and the ledger must fold from its own entries to the same state.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use regulars_domain::{EventKey, Points};
use regulars_loyalty::ledger::{
    EntryKind, Ledger, LedgerEntry, LedgerError, Overdraft, RefundFraction, RefundPolicy, fold,
};
use std::collections::BTreeMap;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const START: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);
/// Few orders, so that duplicates, unknown orders and repeated refunds all happen.
const ORDERS: u8 = 6;
/// Every order's paid total; partial refunds add to a cumulative share of it.
const ORDER_TOTAL: i64 = 1000;

fn order_key(order: u8) -> EventKey {
    EventKey::new("pos:test", format!("order-{order}")).unwrap()
}

#[derive(Clone, Debug)]
enum Op {
    Earn {
        order: u8,
        points: i64,
        expires_in_hours: Option<i64>,
    },
    Redeem {
        points: i64,
    },
    AdvanceTime {
        minutes: i64,
    },
    ExpireDue,
    RefundFull {
        order: u8,
        policy: RefundPolicy,
    },
    /// Refunds `add` more of the order's total (capped at the total).
    RefundPartial {
        order: u8,
        add: i64,
        policy: RefundPolicy,
    },
    Adjust {
        delta: i64,
        expires_in_hours: Option<i64>,
        overdraft: Overdraft,
    },
    /// A redemption of one point dated `seconds` before the last entry.
    Backdated {
        seconds: i64,
    },
}

/// An entry as the model predicts it (seq and time are checked separately).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Emitted {
    Earn(i64),
    Redeem(i64),
    Expire { lot: u64, amount: i64 },
    Reverse { amount: i64, unrecovered: i64 },
    Adjust(i64),
    Restore(i64),
}

fn emitted(entry: &LedgerEntry) -> Emitted {
    let amount = entry.amount.value();
    match &entry.kind {
        EntryKind::Earn { .. } => Emitted::Earn(amount),
        EntryKind::Redeem { .. } => Emitted::Redeem(amount),
        EntryKind::Expire { lot } => Emitted::Expire { lot: *lot, amount },
        EntryKind::Reverse { unrecovered, .. } => Emitted::Reverse {
            amount,
            unrecovered: unrecovered.value(),
        },
        EntryKind::Adjust { .. } => Emitted::Adjust(amount),
        EntryKind::Restore { .. } => Emitted::Restore(amount),
        // The model issues no campaign bonus (their properties are in `campaign_bonus.rs`).
        EntryKind::CampaignBonus { .. } => Emitted::Adjust(amount),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct ModelLot {
    seq: u64,
    expires_at: Option<OffsetDateTime>,
    remaining: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct ModelOrder {
    earn_seq: u64,
    earned: i64,
    reversed: i64,
    unrecovered: i64,
    /// Cumulative refunded share numerator (over `ORDER_TOTAL`) of partial refunds.
    refunded: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Entries(Vec<Emitted>),
    Refused(LedgerError),
}

#[derive(Clone, Debug)]
struct Model {
    now: OffsetDateTime,
    last_at: Option<OffsetDateTime>,
    /// Open lots in the order they were opened; sorted only when needed.
    lots: Vec<ModelLot>,
    debt: i64,
    orders: BTreeMap<u8, ModelOrder>,
    next_seq: u64,
    /// What the last operation returned.
    last: Outcome,
    /// Whether the last operation debited (and so must have swept first).
    last_debited: bool,
}

impl Model {
    fn balance(&self) -> i64 {
        self.lots.iter().map(|l| l.remaining).sum::<i64>() - self.debt
    }

    /// Lots sorted the way debits consume them.
    fn fifo(&self) -> Vec<ModelLot> {
        let mut lots = self.lots.clone();
        lots.sort_by_key(|l| (l.expires_at.is_none(), l.expires_at, l.seq));
        lots
    }

    fn take_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq - 1
    }

    fn sweep(&mut self, out: &mut Vec<Emitted>) {
        let now = self.now;
        let mut due: Vec<ModelLot> = self
            .lots
            .iter()
            .filter(|l| l.expires_at.is_some_and(|at| at <= now))
            .cloned()
            .collect();
        due.sort_by_key(|l| (l.expires_at, l.seq));
        for lot in due {
            self.lots.retain(|l| l.seq != lot.seq);
            self.take_seq();
            out.push(Emitted::Expire {
                lot: lot.seq,
                amount: -lot.remaining,
            });
        }
    }

    fn credit(&mut self, seq: u64, amount: i64, expires_at: Option<OffsetDateTime>) {
        let paid = amount.min(self.debt);
        self.debt -= paid;
        if amount > paid {
            self.lots.push(ModelLot {
                seq,
                expires_at,
                remaining: amount - paid,
            });
        }
    }

    fn debit(&mut self, amount: i64, own_lot: Option<u64>) {
        let mut order: Vec<u64> = own_lot.into_iter().collect();
        order.extend(self.fifo().iter().map(|l| l.seq));
        let mut rest = amount;
        for seq in order {
            if let Some(lot) = self.lots.iter_mut().find(|l| l.seq == seq) {
                let taken = lot.remaining.min(rest);
                lot.remaining -= taken;
                rest -= taken;
            }
        }
        self.lots.retain(|l| l.remaining > 0);
        self.debt += rest;
    }

    fn available(&self) -> i64 {
        self.balance().max(0)
    }

    fn reverse(
        &mut self,
        order: u8,
        target: i64,
        policy: RefundPolicy,
        out: &mut Vec<Emitted>,
    ) -> Result<(), LedgerError> {
        let tally = self.orders[&order].clone();
        let claim = target - tally.reversed;
        if claim == 0 {
            return Ok(());
        }
        self.sweep(out);
        // Without vouchers to void, `void_unredeemed` leaves the shortfall as debt.
        let recovered = match policy {
            RefundPolicy::Debt | RefundPolicy::VoidUnredeemed => claim,
            RefundPolicy::Clamp => claim.min(self.available()),
        };
        self.debit(recovered, Some(tally.earn_seq));
        self.take_seq();
        let tally = self.orders.get_mut(&order).unwrap();
        tally.reversed += claim;
        tally.unrecovered += claim - recovered;
        out.push(Emitted::Reverse {
            amount: -recovered,
            unrecovered: claim - recovered,
        });
        self.last_debited = true;
        Ok(())
    }

    fn run(&mut self, op: &Op) -> Result<Vec<Emitted>, LedgerError> {
        let mut out = Vec::new();
        let now = self.now;
        let hours = |h: &Option<i64>| h.map(|h| now + Duration::hours(h));
        match op {
            Op::Earn {
                order,
                points,
                expires_in_hours,
            } => {
                if self.orders.contains_key(order) {
                    return Err(LedgerError::DuplicateEarn {
                        order: order_key(*order),
                    });
                }
                let seq = self.take_seq();
                self.credit(seq, *points, hours(expires_in_hours));
                self.orders.insert(
                    *order,
                    ModelOrder {
                        earn_seq: seq,
                        earned: *points,
                        reversed: 0,
                        unrecovered: 0,
                        refunded: 0,
                    },
                );
                out.push(Emitted::Earn(*points));
            }
            Op::Redeem { points } => {
                self.sweep(&mut out);
                if *points > self.available() {
                    return Err(LedgerError::InsufficientPoints {
                        available: Points::new(self.available()),
                        requested: Points::new(*points),
                    });
                }
                self.debit(*points, None);
                self.take_seq();
                out.push(Emitted::Redeem(-points));
                self.last_debited = true;
            }
            Op::AdvanceTime { minutes } => self.now += Duration::minutes(*minutes),
            Op::ExpireDue => self.sweep(&mut out),
            Op::RefundFull { order, policy } => {
                let tally = self.orders.get(order).ok_or(LedgerError::UnknownOrder {
                    order: order_key(*order),
                })?;
                if tally.reversed >= tally.earned {
                    return Err(LedgerError::AlreadyReversed {
                        order: order_key(*order),
                    });
                }
                let earned = tally.earned;
                self.reverse(*order, earned, *policy, &mut out)?;
            }
            Op::RefundPartial { order, add, policy } => {
                let tally = self.orders.get(order).ok_or(LedgerError::UnknownOrder {
                    order: order_key(*order),
                })?;
                let refunded = (tally.refunded + add).min(ORDER_TOTAL);
                let target = tally.earned * refunded / ORDER_TOTAL;
                if target < tally.reversed {
                    return Err(LedgerError::RefundNotCumulative {
                        order: order_key(*order),
                        target: Points::new(target),
                        reversed: Points::new(tally.reversed),
                    });
                }
                self.reverse(*order, target, *policy, &mut out)?;
                self.orders.get_mut(order).unwrap().refunded = refunded;
            }
            Op::Adjust {
                delta,
                expires_in_hours,
                overdraft,
            } => {
                if *delta < 0 {
                    if expires_in_hours.is_some() {
                        return Err(LedgerError::ExpiryOnDebit);
                    }
                    self.sweep(&mut out);
                    if *overdraft == Overdraft::Refuse && -delta > self.available() {
                        return Err(LedgerError::InsufficientPoints {
                            available: Points::new(self.available()),
                            requested: Points::new(-delta),
                        });
                    }
                    self.debit(-delta, None);
                    self.take_seq();
                    self.last_debited = true;
                } else if *delta > 0 {
                    let seq = self.take_seq();
                    self.credit(seq, *delta, hours(expires_in_hours));
                } else {
                    return Err(LedgerError::ZeroAdjustment);
                }
                out.push(Emitted::Adjust(*delta));
            }
            Op::Backdated { seconds } => {
                let at = self.last_at.unwrap_or(now) - Duration::seconds(*seconds);
                return Err(match self.last_at {
                    Some(last) => LedgerError::OutOfOrder { last, at },
                    // An empty ledger has nothing to spend.
                    None => LedgerError::InsufficientPoints {
                        available: Points::ZERO,
                        requested: Points::new(1),
                    },
                });
            }
        }
        if !out.is_empty() {
            self.last_at = Some(now);
        }
        Ok(out)
    }
}

struct LedgerModel;

impl ReferenceStateMachine for LedgerModel {
    type State = Model;
    type Transition = Op;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model {
            now: START,
            last_at: None,
            lots: Vec::new(),
            debt: 0,
            orders: BTreeMap::new(),
            next_seq: 0,
            last: Outcome::Entries(Vec::new()),
            last_debited: false,
        })
        .boxed()
    }

    fn transitions(_: &Model) -> BoxedStrategy<Op> {
        let policy = prop_oneof![
            Just(RefundPolicy::Debt),
            Just(RefundPolicy::VoidUnredeemed),
            Just(RefundPolicy::Clamp)
        ];
        let overdraft = prop_oneof![Just(Overdraft::Refuse), Just(Overdraft::Allow)];
        // Whole hours on a half-hour clock: many lots share an expiry, so ties matter.
        let expiry = proptest::option::weighted(0.8, 1i64..=6);
        prop_oneof![
            4 => (0..ORDERS, 1i64..=300, expiry.clone()).prop_map(
                |(order, points, expires_in_hours)| Op::Earn { order, points, expires_in_hours }
            ),
            3 => (1i64..=400).prop_map(|points| Op::Redeem { points }),
            3 => prop::sample::select(vec![0i64, 30, 60, 120, 240])
                .prop_map(|minutes| Op::AdvanceTime { minutes }),
            1 => Just(Op::ExpireDue),
            2 => (0..ORDERS, policy.clone())
                .prop_map(|(order, policy)| Op::RefundFull { order, policy }),
            2 => (0..ORDERS, 1i64..=600, policy)
                .prop_map(|(order, add, policy)| Op::RefundPartial { order, add, policy }),
            2 => (-300i64..=300, proptest::option::weighted(0.3, 1i64..=6), overdraft).prop_map(
                |(delta, expires_in_hours, overdraft)| Op::Adjust {
                    delta,
                    expires_in_hours,
                    overdraft,
                }
            ),
            1 => (1i64..=3600).prop_map(|seconds| Op::Backdated { seconds }),
        ]
        .boxed()
    }

    fn apply(state: Model, op: &Op) -> Model {
        let mut draft = state.clone();
        draft.last_debited = false;
        match draft.run(op) {
            Ok(entries) => {
                draft.last = Outcome::Entries(entries);
                draft
            }
            // A refused command changes nothing.
            Err(error) => Model {
                last: Outcome::Refused(error),
                last_debited: false,
                ..state
            },
        }
    }
}

/// The real ledger plus what the caller keeps besides it: the clock and the cumulative
/// refunded share of each order.
struct Sut {
    ledger: Ledger,
    now: OffsetDateTime,
    refunded: BTreeMap<u8, i64>,
}

impl Sut {
    fn run(&mut self, op: &Op) -> Result<Vec<LedgerEntry>, LedgerError> {
        let now = self.now;
        let hours = |h: &Option<i64>| h.map(|h| now + Duration::hours(h));
        match op {
            Op::Earn {
                order,
                points,
                expires_in_hours,
            } => self.ledger.earn(
                order_key(*order),
                Points::new(*points),
                now,
                hours(expires_in_hours),
            ),
            Op::Redeem { points } => {
                self.ledger
                    .redeem(Points::new(*points), now, "reward:free-drink")
            }
            Op::AdvanceTime { minutes } => {
                self.now += Duration::minutes(*minutes);
                Ok(Vec::new())
            }
            Op::ExpireDue => self.ledger.expire_due(now),
            Op::RefundFull { order, policy } => {
                self.ledger.reverse_order(&order_key(*order), now, *policy)
            }
            Op::RefundPartial { order, add, policy } => {
                let refunded =
                    (self.refunded.get(order).copied().unwrap_or(0) + add).min(ORDER_TOTAL);
                let share = RefundFraction::new(refunded, ORDER_TOTAL)?;
                let result =
                    self.ledger
                        .reverse_order_partial(&order_key(*order), share, now, *policy);
                if result.is_ok() {
                    self.refunded.insert(*order, refunded);
                }
                result
            }
            Op::Adjust {
                delta,
                expires_in_hours,
                overdraft,
            } => self.ledger.adjust(
                Points::new(*delta),
                now,
                "goodwill",
                "staff:test",
                hours(expires_in_hours),
                *overdraft,
            ),
            Op::Backdated { seconds } => {
                let at = self.ledger.state().last_at().unwrap_or(now) - Duration::seconds(*seconds);
                self.ledger.redeem(Points::new(1), at, "reward:late")
            }
        }
    }
}

impl StateMachineTest for Sut {
    type SystemUnderTest = Sut;
    type Reference = LedgerModel;

    fn init_test(_: &Model) -> Sut {
        Sut {
            ledger: Ledger::new(),
            now: START,
            refunded: BTreeMap::new(),
        }
    }

    fn apply(mut sut: Sut, model: &Model, op: Op) -> Sut {
        let before = sut.ledger.clone();
        let result = sut.run(&op);
        match (&result, &model.last) {
            (Ok(entries), Outcome::Entries(expected)) => {
                assert_eq!(
                    &entries.iter().map(emitted).collect::<Vec<_>>(),
                    expected,
                    "entries of {op:?}"
                );
                let tail = &sut.ledger.entries()[before.entries().len()..];
                assert_eq!(
                    tail,
                    entries.as_slice(),
                    "returned entries are the appended ones"
                );
                for (i, entry) in entries.iter().enumerate() {
                    assert_eq!(entry.seq, before.state().next_seq() + i as u64);
                    assert_eq!(entry.at, sut.now);
                }
            }
            (Err(error), Outcome::Refused(expected)) => {
                assert_eq!(error, expected, "error of {op:?}");
                assert_eq!(sut.ledger, before, "a refused {op:?} changed the ledger");
            }
            (got, want) => panic!("{op:?}: ledger gave {got:?}, model expected {want:?}"),
        }
        if model.last_debited {
            assert!(
                sut.ledger.state().due_lots(sut.now).next().is_none(),
                "{op:?} debited while an expired lot was still open"
            );
        }
        sut
    }

    fn check_invariants(sut: &Sut, model: &Model) {
        let state = sut.ledger.state();
        assert_eq!(sut.now, model.now);
        assert_eq!(state.balance().value(), model.balance(), "balance");
        assert_eq!(state.debt().value(), model.debt, "debt");
        let lots: Vec<ModelLot> = state
            .lots()
            .map(|l| ModelLot {
                seq: l.seq,
                expires_at: l.expires_at,
                remaining: l.remaining.value(),
            })
            .collect();
        assert_eq!(lots, model.fifo(), "open lots, in consumption order");
        for (order, tally) in &model.orders {
            let got = state.order(&order_key(*order)).expect("order is known");
            assert_eq!(
                (
                    got.earn_seq,
                    got.earned.value(),
                    got.reversed.value(),
                    got.unrecovered.value()
                ),
                (
                    tally.earn_seq,
                    tally.earned,
                    tally.reversed,
                    tally.unrecovered
                ),
                "tally of order {order}"
            );
            assert!(got.reversed <= got.earned);
            assert!(got.unrecovered <= got.reversed);
        }
        assert_eq!(state.orders().count(), model.orders.len());
        assert_eq!(state.next_seq(), model.next_seq);
        assert_eq!(state.last_at(), model.last_at);

        // Conservation: the balance is the sum of the entries, the lots and the debt.
        let entries = sut.ledger.entries();
        assert_eq!(entries.len() as u64, state.next_seq());
        let sum = Points::checked_sum(entries.iter().map(|e| e.amount)).unwrap();
        assert_eq!(state.balance(), sum, "balance is the sum of entries");
        let in_lots = Points::checked_sum(state.lots().map(|l| l.remaining)).unwrap();
        assert_eq!(state.balance(), in_lots.checked_sub(state.debt()).unwrap());
        assert!(!state.debt().is_negative());
        assert!(state.debt() == Points::ZERO || state.lots().next().is_none());
        assert!(state.lots().all(|l| l.remaining.is_positive()));

        // The stored entries alone rebuild the same state.
        assert_eq!(&fold(entries).unwrap(), state, "fold of the entries");
    }
}

prop_state_machine! {
    #![proptest_config(Config {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/ledger_state_machine.txt",
        ))),
        ..Config::default()
    })]

    #[test]
    fn ledger_agrees_with_a_naive_model(sequential 1..40 => Sut);
}
