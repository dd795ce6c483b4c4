//! Scenario tests of the ledger rules; the properties live in `tests/ledger_*.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use regulars_domain::{Currency, EventKey, Money, Points};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

fn day(n: i64) -> OffsetDateTime {
    T0 + Duration::days(n)
}

fn key(id: &str) -> EventKey {
    EventKey::new("pos:test", id).unwrap()
}

fn pts(n: i64) -> Points {
    Points::new(n)
}

/// `(seq, remaining)` of the open lots in consumption order.
fn lots(ledger: &Ledger) -> Vec<(u64, i64)> {
    ledger
        .state()
        .lots()
        .map(|lot| (lot.seq, lot.remaining.value()))
        .collect()
}

fn assert_consistent(ledger: &Ledger) {
    let state = ledger.state();
    let sum = Points::checked_sum(ledger.entries().iter().map(|e| e.amount)).unwrap();
    assert_eq!(state.balance(), sum, "balance is the sum of entries");
    let lots = Points::checked_sum(state.lots().map(|l| l.remaining)).unwrap();
    assert_eq!(state.balance(), lots.checked_sub(state.debt()).unwrap());
    assert!(!state.debt().is_negative());
    assert!(state.debt() == Points::ZERO || state.lots().next().is_none());
    assert_eq!(&fold(ledger.entries()).unwrap(), state);
}

#[test]
fn debits_consume_first_expiring_first_never_expiring_last_ties_by_seq() {
    let mut l = Ledger::new();
    l.earn(key("A"), pts(10), day(0), Some(day(10))).unwrap(); // seq 0
    l.earn(key("B"), pts(10), day(0), None).unwrap(); // seq 1
    l.earn(key("C"), pts(10), day(0), Some(day(5))).unwrap(); // seq 2
    l.earn(key("D"), pts(10), day(0), Some(day(5))).unwrap(); // seq 3
    assert_eq!(lots(&l), vec![(2, 10), (3, 10), (0, 10), (1, 10)]);
    l.redeem(pts(15), day(1), "reward:1").unwrap();
    assert_eq!(lots(&l), vec![(3, 5), (0, 10), (1, 10)]);
    l.redeem(pts(16), day(1), "reward:2").unwrap();
    assert_eq!(lots(&l), vec![(1, 9)]);
    assert_consistent(&l);
}

#[test]
fn expire_due_removes_exactly_the_due_lots_in_expiry_order() {
    let mut l = Ledger::new();
    l.earn(key("A"), pts(30), day(0), Some(day(7))).unwrap();
    l.earn(key("B"), pts(20), day(0), Some(day(3))).unwrap();
    l.earn(key("C"), pts(40), day(0), Some(day(9))).unwrap();
    l.earn(key("D"), pts(50), day(0), None).unwrap();
    l.redeem(pts(25), day(1), "reward:1").unwrap(); // B empty, A 25
    let expired = l.expire_due(day(7)).unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].kind, EntryKind::Expire { lot: 0 });
    assert_eq!(expired[0].amount, pts(-25));
    assert_eq!(expired[0].at, day(7));
    assert_eq!(lots(&l), vec![(2, 40), (3, 50)]);
    assert!(l.expire_due(day(8)).unwrap().is_empty());
    let expired = l.expire_due(day(400)).unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(lots(&l), vec![(3, 50)]);
    assert_eq!(l.balance(), pts(50));
    assert_consistent(&l);
}

#[test]
fn redeem_sweeps_expired_lots_first_and_never_spends_them() {
    let mut l = Ledger::new();
    l.earn(key("A"), pts(100), day(0), Some(day(1))).unwrap();
    l.earn(key("B"), pts(30), day(0), None).unwrap();
    assert_eq!(l.state().available_at(day(2)), pts(30));
    let before = l.clone();
    assert_eq!(
        l.redeem(pts(50), day(2), "reward:1"),
        Err(LedgerError::InsufficientPoints {
            available: pts(30),
            requested: pts(50)
        })
    );
    assert_eq!(
        l, before,
        "a refused command changes nothing, not even expiry"
    );
    let new = l.redeem(pts(20), day(2), "reward:1").unwrap();
    assert_eq!(
        new.iter().map(|e| e.kind.name()).collect::<Vec<_>>(),
        ["expire", "redeem"]
    );
    assert_eq!(new[0].amount, pts(-100));
    assert_eq!(new[1].seq, 3);
    assert_eq!(lots(&l), vec![(1, 10)]);
    assert_consistent(&l);
}

#[test]
fn reversal_takes_from_the_orders_own_lot_first_then_fifo_then_debt() {
    let mut l = Ledger::new();
    l.earn(key("A"), pts(100), day(0), Some(day(10))).unwrap(); // seq 0
    l.earn(key("B"), pts(50), day(0), Some(day(5))).unwrap(); // seq 1
    l.earn(key("C"), pts(40), day(0), None).unwrap(); // seq 2
    // B's own lot, although A's would be first in FIFO order.
    l.reverse_order(&key("B"), day(1), RefundPolicy::Debt)
        .unwrap();
    assert_eq!(lots(&l), vec![(0, 100), (2, 40)]);
    l.redeem(pts(120), day(1), "reward:1").unwrap(); // A empty, C 20
    // A's lot is gone: 100 come from C (20) and then debt (80).
    l.reverse_order(&key("A"), day(2), RefundPolicy::Debt)
        .unwrap();
    assert_eq!(l.balance(), pts(-80));
    assert_eq!(l.state().debt(), pts(80));
    assert!(lots(&l).is_empty());
    assert_consistent(&l);
    // The next credits pay the debt before opening a lot.
    l.earn(key("D"), pts(50), day(3), Some(day(30))).unwrap();
    assert_eq!(l.state().debt(), pts(30));
    assert!(lots(&l).is_empty());
    assert_eq!(
        l.redeem(pts(1), day(3), "reward:2"),
        Err(LedgerError::InsufficientPoints {
            available: pts(0),
            requested: pts(1)
        })
    );
    l.adjust(
        pts(45),
        day(3),
        "goodwill",
        "staff:1",
        None,
        Overdraft::Refuse,
    )
    .unwrap();
    assert_eq!(l.state().debt(), Points::ZERO);
    assert_eq!(lots(&l), vec![(7, 15)]);
    assert_eq!(l.balance(), pts(15));
    assert_consistent(&l);
}

#[test]
fn clamp_policy_records_what_it_could_not_take_back() {
    let mut l = Ledger::new();
    l.earn(key("A"), pts(100), day(0), None).unwrap();
    l.redeem(pts(70), day(1), "reward:1").unwrap();
    let new = l
        .reverse_order(&key("A"), day(2), RefundPolicy::Clamp)
        .unwrap();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].amount, pts(-30));
    assert_eq!(
        new[0].kind,
        EntryKind::Reverse {
            order: key("A"),
            unrecovered: pts(70)
        }
    );
    assert_eq!(l.balance(), Points::ZERO);
    let tally = l.state().order(&key("A")).unwrap();
    assert_eq!(
        (tally.earned, tally.reversed, tally.unrecovered),
        (pts(100), pts(100), pts(70))
    );
    assert_eq!(
        l.reverse_order(&key("A"), day(3), RefundPolicy::Clamp),
        Err(LedgerError::AlreadyReversed { order: key("A") })
    );
    assert_consistent(&l);
}

#[test]
fn clamp_policy_in_debt_takes_nothing_and_records_everything() {
    let mut l = Ledger::new();
    l.earn(key("A"), pts(10), day(0), None).unwrap();
    l.earn(key("B"), pts(10), day(0), None).unwrap();
    l.redeem(pts(20), day(0), "reward:1").unwrap();
    l.reverse_order(&key("A"), day(0), RefundPolicy::Debt)
        .unwrap();
    let new = l
        .reverse_order(&key("B"), day(0), RefundPolicy::Clamp)
        .unwrap();
    assert_eq!(new[0].amount, Points::ZERO);
    assert_eq!(l.balance(), pts(-10));
    assert_consistent(&l);
}

#[test]
fn partial_reversals_are_cumulative_and_complete_exactly() {
    let mut l = Ledger::new();
    l.earn(key("A"), pts(45), day(0), None).unwrap();
    let share = |n| RefundFraction::new(n, 100).unwrap();
    let policy = RefundPolicy::Debt;
    l.reverse_order_partial(&key("A"), share(30), day(1), policy)
        .unwrap();
    assert_eq!(l.state().order(&key("A")).unwrap().reversed, pts(13));
    // 31% adds nothing whole: no entry at all.
    assert!(
        l.reverse_order_partial(&key("A"), share(31), day(1), policy)
            .unwrap()
            .is_empty()
    );
    l.reverse_order_partial(&key("A"), share(60), day(1), policy)
        .unwrap();
    assert_eq!(l.state().order(&key("A")).unwrap().reversed, pts(27));
    assert_eq!(
        l.reverse_order_partial(&key("A"), share(50), day(1), policy),
        Err(LedgerError::RefundNotCumulative {
            order: key("A"),
            target: pts(22),
            reversed: pts(27)
        })
    );
    l.reverse_order(&key("A"), day(2), policy).unwrap();
    assert_eq!(l.state().order(&key("A")).unwrap().reversed, pts(45));
    assert_eq!(l.balance(), Points::ZERO);
    assert!(
        l.reverse_order_partial(&key("A"), RefundFraction::FULL, day(2), policy)
            .unwrap()
            .is_empty()
    );
    assert_consistent(&l);
}

#[test]
fn refund_fraction_is_validated_and_exact() {
    assert!(RefundFraction::new(1, 0).is_err());
    assert!(RefundFraction::new(-1, 10).is_err());
    assert!(RefundFraction::new(11, 10).is_err());
    let f = RefundFraction::new(i64::MAX - 1, i64::MAX).unwrap();
    assert_eq!(f.reversal_target(pts(i64::MAX)).unwrap(), pts(i64::MAX - 1));
    let usd = |c| Money::from_minor_units(c, Currency::USD);
    let f = RefundFraction::from_money(&usd(1_99), &usd(5_00)).unwrap();
    assert_eq!((f.refunded(), f.total()), (199, 500));
    let vnd = Money::from_minor_units(1000, Currency::VND);
    assert!(matches!(
        RefundFraction::from_money(&vnd, &usd(5_00)),
        Err(LedgerError::Domain(_))
    ));
}

#[test]
fn commands_refuse_bad_input_and_leave_the_ledger_unchanged() {
    let mut l = Ledger::new();
    l.earn(key("A"), pts(100), day(1), Some(day(10))).unwrap();
    let before = l.clone();
    let cases: Vec<(Result<Vec<LedgerEntry>, LedgerError>, LedgerError)> = vec![
        (
            l.clone().earn(key("A"), pts(5), day(1), None),
            LedgerError::DuplicateEarn { order: key("A") },
        ),
        (
            l.clone().earn(key("B"), pts(0), day(1), None),
            LedgerError::NonPositivePoints { points: pts(0) },
        ),
        (
            l.clone().earn(key("B"), pts(5), day(2), Some(day(2))),
            LedgerError::ExpiryNotAfterCredit {
                at: day(2),
                expires_at: day(2),
            },
        ),
        (
            l.clone().earn(key("B"), pts(5), day(0), None),
            LedgerError::OutOfOrder {
                last: day(1),
                at: day(0),
            },
        ),
        (
            l.clone().redeem(pts(-5), day(1), "r"),
            LedgerError::NonPositivePoints { points: pts(-5) },
        ),
        (
            l.clone().redeem(pts(5), day(1), "  "),
            LedgerError::EmptyField { field: "reference" },
        ),
        (
            l.clone().expire_due(day(0)),
            LedgerError::OutOfOrder {
                last: day(1),
                at: day(0),
            },
        ),
        (
            l.clone()
                .reverse_order(&key("Z"), day(1), RefundPolicy::Debt),
            LedgerError::UnknownOrder { order: key("Z") },
        ),
        (
            l.clone()
                .adjust(pts(5), day(1), "", "staff:1", None, Overdraft::Refuse),
            LedgerError::EmptyField { field: "reason" },
        ),
        (
            l.clone()
                .adjust(pts(5), day(1), "why", " ", None, Overdraft::Refuse),
            LedgerError::EmptyField { field: "actor" },
        ),
        (
            l.clone()
                .adjust(pts(0), day(1), "why", "staff:1", None, Overdraft::Refuse),
            LedgerError::ZeroAdjustment,
        ),
        (
            l.clone().adjust(
                pts(-5),
                day(1),
                "why",
                "staff:1",
                Some(day(9)),
                Overdraft::Refuse,
            ),
            LedgerError::ExpiryOnDebit,
        ),
        (
            l.clone()
                .adjust(pts(-101), day(1), "why", "staff:1", None, Overdraft::Refuse),
            LedgerError::InsufficientPoints {
                available: pts(100),
                requested: pts(101),
            },
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, Err(want));
    }
    let bad_key = EventKey {
        source: String::new(),
        external_id: "A".into(),
    };
    assert!(matches!(
        l.earn(bad_key, pts(5), day(1), None),
        Err(LedgerError::Domain(_))
    ));
    assert_eq!(l, before);
}

#[test]
fn negative_adjustment_may_overdraw_only_when_allowed() {
    let mut l = Ledger::new();
    l.earn(key("A"), pts(10), day(0), Some(day(5))).unwrap();
    l.earn(key("B"), pts(10), day(0), None).unwrap();
    let new = l
        .adjust(
            pts(-25),
            day(6),
            "fraud clawback",
            "staff:7",
            None,
            Overdraft::Allow,
        )
        .unwrap();
    assert_eq!(
        new.iter().map(|e| e.kind.name()).collect::<Vec<_>>(),
        ["expire", "adjust"]
    );
    assert_eq!(l.balance(), pts(-15));
    assert_eq!(l.state().debt(), pts(15));
    assert_consistent(&l);
}

#[test]
fn overflow_is_an_error_not_a_wrap() {
    let mut l = Ledger::new();
    l.earn(key("A"), pts(i64::MAX), day(0), None).unwrap();
    let before = l.clone();
    assert_eq!(
        l.earn(key("B"), pts(1), day(0), None),
        Err(LedgerError::Overflow)
    );
    assert_eq!(l, before);
    l.redeem(pts(i64::MAX), day(0), "everything").unwrap();
    l.adjust(
        pts(-i64::MAX),
        day(0),
        "test",
        "staff:1",
        None,
        Overdraft::Allow,
    )
    .unwrap();
    assert_eq!(
        l.adjust(pts(-2), day(0), "test", "staff:1", None, Overdraft::Allow),
        Err(LedgerError::Overflow)
    );
    assert_consistent(&l);
}

/// A small valid ledger touching every entry kind.
fn sample() -> Ledger {
    let mut l = Ledger::new();
    l.earn(key("A"), pts(100), day(0), Some(day(10))).unwrap(); // 0
    l.earn(key("B"), pts(50), day(1), None).unwrap(); // 1
    l.redeem(pts(30), day(2), "reward:1").unwrap(); // 2
    l.adjust(
        pts(5),
        day(2),
        "birthday",
        "system",
        Some(day(20)),
        Overdraft::Refuse,
    )
    .unwrap(); // 3
    l.expire_due(day(11)).unwrap(); // 4: expires A (70)
    l.reverse_order(&key("B"), day(12), RefundPolicy::Clamp)
        .unwrap(); // 5
    l
}

fn fold_error(entries: &[LedgerEntry]) -> (u64, LedgerError) {
    match fold(entries) {
        Err(LedgerError::InvalidEntry { seq, reason }) => (seq, *reason),
        other => panic!("expected an invalid entry, got {other:?}"),
    }
}

#[test]
fn fold_rebuilds_the_state_and_check_compares_the_cache() {
    let l = sample();
    assert_eq!(l.entries().len(), 6);
    assert_eq!(l.balance(), pts(5));
    assert_eq!(&fold(l.entries()).unwrap(), l.state());
    assert_eq!(
        Ledger::from_entries(l.entries().to_vec()).unwrap(),
        l.clone()
    );
    assert!(check(l.entries(), pts(5)).is_ok());
    assert_eq!(
        check(l.entries(), pts(6)),
        Err(LedgerError::BalanceMismatch {
            cached: pts(6),
            computed: pts(5)
        })
    );
}

#[test]
fn fold_rejects_ledgers_that_break_a_rule() {
    let good = sample().into_entries();
    let tamper = |f: &dyn Fn(&mut Vec<LedgerEntry>)| {
        let mut e = good.clone();
        f(&mut e);
        fold_error(&e)
    };
    assert_eq!(
        tamper(&|e| {
            e.remove(1);
        }),
        (
            2,
            LedgerError::SeqMismatch {
                expected: 1,
                found: 2
            }
        )
    );
    assert_eq!(
        tamper(&|e| e[2].at = day(0)),
        (
            2,
            LedgerError::OutOfOrder {
                last: day(1),
                at: day(0)
            }
        )
    );
    assert_eq!(
        tamper(&|e| e[0].amount = pts(-100)),
        (0, LedgerError::Malformed("an earn must credit points"))
    );
    assert_eq!(
        tamper(&|e| e[1].kind = good[0].kind.clone()),
        (1, LedgerError::DuplicateEarn { order: key("A") })
    );
    assert_eq!(
        tamper(&|e| e[2].amount = pts(-151)),
        (
            2,
            LedgerError::InsufficientPoints {
                available: pts(150),
                requested: pts(151)
            }
        )
    );
    assert_eq!(
        tamper(&|e| e[4].at = day(9)),
        (4, LedgerError::LotNotDue { lot: 0 })
    );
    assert_eq!(
        tamper(&|e| e[4].kind = EntryKind::Expire { lot: 1 }),
        (4, LedgerError::LotNotDue { lot: 1 })
    );
    assert_eq!(
        tamper(&|e| e[4].kind = EntryKind::Expire { lot: 2 }),
        (4, LedgerError::LotNotOpen { lot: 2 })
    );
    assert_eq!(
        tamper(&|e| e[4].amount = pts(-60)),
        (
            4,
            LedgerError::ExpireMismatch {
                lot: 0,
                amount: pts(60),
                remaining: pts(70)
            }
        )
    );
    // The reversal without the expiry before it would spend the expired lot A.
    assert_eq!(
        tamper(&|e| {
            e.remove(4);
            e[4].seq = 4;
        }),
        (4, LedgerError::ExpiredLotUnswept { lot: 0 })
    );
    assert_eq!(
        tamper(&|e| e[5].amount = pts(-51)),
        (
            5,
            LedgerError::OverReversal {
                order: key("B"),
                earned: pts(50),
                reversed: pts(51)
            }
        )
    );
    assert_eq!(
        tamper(&|e| {
            e[5].amount = pts(-40);
            e[5].kind = EntryKind::Reverse {
                order: key("B"),
                unrecovered: pts(10),
            };
        }),
        (
            5,
            LedgerError::UnrecoveredWhileAvailable {
                unrecovered: pts(10),
                available: pts(55)
            }
        )
    );
    assert_eq!(
        tamper(&|e| e[5].amount = Points::ZERO),
        (
            5,
            LedgerError::Malformed("a reversal must reverse some points")
        )
    );
    assert_eq!(
        tamper(&|e| e[3].kind = EntryKind::Redeem {
            reference: "".into()
        }),
        (3, LedgerError::EmptyField { field: "reference" })
    );
}

#[test]
fn entries_serialise_as_tagged_json_and_refuse_unknown_fields() {
    let l = sample();
    let json = serde_json::to_value(l.entries()).unwrap();
    assert_eq!(
        json[5],
        serde_json::json!({
            "seq": 5,
            "at": "2026-01-13T00:00:00Z",
            "amount": -50,
            "kind": {
                "type": "reverse",
                "order": { "source": "pos:test", "external_id": "B" },
                "unrecovered": 0
            }
        })
    );
    assert_eq!(json[1]["kind"]["expires_at"], serde_json::Value::Null);
    let back: Vec<LedgerEntry> = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, l.entries());
    let mut extra = json[2].clone();
    extra["kind"]["surprise"] = serde_json::json!(1);
    assert!(serde_json::from_value::<LedgerEntry>(extra).is_err());
    // An earn without expires_at reads as never expiring.
    let earn = serde_json::json!({
        "seq": 0, "at": "2026-01-01T07:00:00+07:00", "amount": 5,
        "kind": { "type": "earn", "order": { "source": "csv", "external_id": "1" } }
    });
    let entry: LedgerEntry = serde_json::from_value(earn).unwrap();
    assert_eq!(entry.at, T0);
    assert!(matches!(
        entry.kind,
        EntryKind::Earn {
            expires_at: None,
            ..
        }
    ));
}
