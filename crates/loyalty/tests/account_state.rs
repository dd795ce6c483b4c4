//! The stored account state agrees with the fold of the whole ledger.
//!
//! Random sequences of earns (some delivered late), redemptions and voucher purchases,
//! expiry sweeps, full and partial refunds under every policy, adjustments and campaign
//! bonuses (most of them replays of a message already credited) run twice:
//! on a ledger that keeps every entry, and on one resumed before each command from the
//! stored account state (written to JSON and read back, as storage does) with only the
//! tallies the command may look up, its changed tallies written back to a table. After
//! every step both give the same outcome, the stored state equals the fold of all the
//! entries, the tally table equals the fold's tallies, and the daily earnings the state
//! keeps equal the ones counted from the entries.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use regulars_domain::{EventKey, Points};
use regulars_loyalty::ledger::{
    AccountState, Ledger, LedgerEntry, LedgerError, Lot, LotsWanted, Overdraft, RefundFraction,
    RefundPolicy, Tally, fold,
};
use std::collections::BTreeMap;
use time::macros::{datetime, offset};
use time::{Duration, OffsetDateTime};

const START: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);
const ORDERS: u8 = 8;
const VOUCHERS: u8 = 4;
const TOTAL: i64 = 1000;
const MESSAGES: u8 = 4;

#[derive(Clone, Debug)]
enum Op {
    Earn {
        order: u8,
        points: i64,
        valid_days: Option<i64>,
        late_minutes: i64,
    },
    Redeem {
        points: i64,
        voucher: Option<u8>,
    },
    Advance {
        minutes: i64,
    },
    Expire,
    Refund {
        order: u8,
        add: i64,
        policy: RefundPolicy,
    },
    Adjust {
        delta: i64,
        overdraft: Overdraft,
    },
    /// A campaign message's bonus credited; few message ids, so most are replays.
    Bonus {
        message: u8,
        points: i64,
        valid_days: Option<i64>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let policy = prop_oneof![
        Just(RefundPolicy::Debt),
        Just(RefundPolicy::Clamp),
        Just(RefundPolicy::VoidUnredeemed)
    ];
    prop_oneof![
        4 => (0..ORDERS, 1..400i64, proptest::option::of(1..40i64), prop_oneof![Just(0i64), 0..5000i64])
            .prop_map(|(order, points, valid_days, late_minutes)| Op::Earn { order, points, valid_days, late_minutes }),
        2 => (1..300i64, proptest::option::of(0..VOUCHERS))
            .prop_map(|(points, voucher)| Op::Redeem { points, voucher }),
        3 => (1..6000i64).prop_map(|minutes| Op::Advance { minutes }),
        1 => Just(Op::Expire),
        2 => (0..ORDERS, 1..=TOTAL, policy).prop_map(|(order, add, policy)| Op::Refund { order, add, policy }),
        1 => (-300..300i64, prop_oneof![Just(Overdraft::Refuse), Just(Overdraft::Allow)])
            .prop_filter("non-zero", |(d, _)| *d != 0)
            .prop_map(|(delta, overdraft)| Op::Adjust { delta, overdraft }),
        2 => (0..MESSAGES, 1..300i64, proptest::option::of(1..40i64))
            .prop_map(|(message, points, valid_days)| Op::Bonus { message, points, valid_days }),
    ]
}

fn key(order: u8) -> EventKey {
    EventKey::new("pos:test", format!("o-{order}")).unwrap()
}

fn message(n: u8) -> String {
    format!("msg-{n}")
}

fn voucher(n: u8) -> String {
    format!("voucher:{n}")
}

/// The harness's clock and what each order has been refunded so far.
struct World {
    now: OffsetDateTime,
    refunded: BTreeMap<u8, i64>,
}

impl World {
    /// Runs one operation on `ledger`; `None` when it only moves the clock.
    fn run(&self, ledger: &mut Ledger, op: &Op) -> Option<Result<Vec<LedgerEntry>, LedgerError>> {
        let at = match ledger.state().last_at() {
            Some(last) if last > self.now => last,
            _ => self.now,
        };
        Some(match op {
            Op::Advance { .. } => return None,
            Op::Earn {
                order,
                points,
                valid_days,
                late_minutes,
            } => ledger.earn_placed(
                key(*order),
                Points::new(*points),
                at,
                valid_days.map(|d| at + Duration::days(d)),
                Some(self.now - Duration::minutes(*late_minutes)),
            ),
            Op::Redeem { points, voucher: v } => {
                let reference = v.map_or_else(|| "reward:cake".to_owned(), voucher);
                ledger.redeem(Points::new(*points), at, reference)
            }
            Op::Expire => ledger.expire_due(at),
            Op::Refund { order, add, policy } => {
                let so_far = self.refunded.get(order).copied().unwrap_or(0);
                let share = RefundFraction::new((so_far + add).min(TOTAL), TOTAL).unwrap();
                match policy {
                    RefundPolicy::VoidUnredeemed => {
                        let refs: Vec<String> = (0..VOUCHERS).map(voucher).collect();
                        ledger
                            .reverse_order_voiding(&key(*order), share, at, &refs, None)
                            .map(|r| r.entries)
                    }
                    other => ledger.reverse_order_partial(&key(*order), share, at, *other),
                }
            }
            Op::Adjust { delta, overdraft } => ledger.adjust(
                Points::new(*delta),
                at,
                "correction",
                "staff:test",
                None,
                *overdraft,
            ),
            Op::Bonus {
                message: m,
                points,
                valid_days,
            } => ledger.credit_bonus(
                regulars_domain::CampaignId::from_bytes([9; 16]),
                &message(*m),
                Points::new(*points),
                at,
                valid_days.map(|d| at + Duration::days(d)),
            ),
        })
    }

    fn after(&mut self, op: &Op) {
        match op {
            Op::Advance { minutes } => self.now += Duration::minutes(*minutes),
            Op::Refund { order, add, .. } => {
                let so_far = self.refunded.entry(*order).or_insert(0);
                *so_far = (*so_far + add).min(TOTAL);
            }
            _ => {}
        }
    }
}

/// The stored tallies a command may look up: the order an earn credits (storage refuses a
/// second earn by the order's unique key before the ledger sees it), the order a refund
/// reverses and the vouchers it may restore; nothing for the others.
fn needed(op: &Op, table: &BTreeMap<String, Tally>) -> Vec<Tally> {
    let keys: Vec<String> = match op {
        Op::Earn { order, .. } => vec![Tally::order_key(&key(*order))],
        Op::Refund { order, .. } => std::iter::once(Tally::order_key(&key(*order)))
            .chain((0..VOUCHERS).map(|v| Tally::redemption_key(&voucher(v))))
            .collect(),
        Op::Bonus { message: m, .. } => vec![Tally::bonus_key(&message(*m))],
        _ => Vec::new(),
    };
    keys.iter().filter_map(|k| table.get(k).cloned()).collect()
}

fn stored(state: &AccountState) -> AccountState {
    let json = serde_json::to_string(state).unwrap();
    serde_json::from_str(&json).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn stored_state_is_the_fold_after_every_step(ops in proptest::collection::vec(op(), 1..60)) {
        let mut world = World { now: START, refunded: BTreeMap::new() };
        let mut full = Ledger::new();
        let mut account = AccountState::default();
        let mut table: BTreeMap<String, Tally> = BTreeMap::new();
        for op in &ops {
            let mut resumed = Ledger::resume(stored(&account), needed(op, &table));
            let expected = world.run(&mut full, op);
            let got = world.run(&mut resumed, op);
            prop_assert_eq!(&expected, &got, "outcome of {:?}", op);
            if let Some(Ok(_)) = got {
                account = stored(resumed.state().account());
                for tally in resumed.changed_tallies() {
                    table.insert(tally.key(), tally);
                }
            }
            world.after(op);

            let folded = fold(full.entries()).unwrap();
            prop_assert_eq!(&account, folded.account());
            prop_assert_eq!(&account, full.state().account());
            let tallies: BTreeMap<String, Tally> =
                folded.tallies().into_iter().map(|t| (t.key(), t)).collect();
            prop_assert_eq!(&table, &tallies);
            for offset in [offset!(UTC), offset!(+7), offset!(-5:30)] {
                let today = world.now.to_offset(offset).date();
                for day in [today.previous_day().unwrap(), today, today.next_day().unwrap()] {
                    if let Some(kept) = account.earned_on_day(day, offset) {
                        prop_assert_eq!(kept, full.earned_on_day(day, offset), "{} at {}", day, offset);
                    }
                }
            }
        }
    }
}

/// The lots a command may touch, by the rule storage is asked with (as the service asks).
fn wanted(op: &Op, at: OffsetDateTime, table: &BTreeMap<String, Tally>) -> LotsWanted {
    match op {
        Op::Redeem { points, .. } => LotsWanted::debit(at, Points::new(*points)),
        Op::Expire => LotsWanted::sweep(at),
        Op::Adjust { delta, .. } if *delta < 0 => LotsWanted::debit(at, Points::new(-*delta)),
        Op::Refund { order, .. } => match table.get(&Tally::order_key(&key(*order))) {
            Some(Tally::Order { points, .. }) => LotsWanted::refund(
                at,
                points.earned.checked_sub(points.reversed).unwrap(),
                points.earn_seq,
            ),
            _ => LotsWanted::none(),
        },
        _ => LotsWanted::none(),
    }
}

/// Lots as storage keeps them, by seq.
type LotRows = BTreeMap<u64, Lot>;

/// The rows in consumption order: earliest expiry first, never-expiring last, then seq.
fn in_order(rows: &LotRows) -> Vec<Lot> {
    let mut lots: Vec<Lot> = rows.values().copied().collect();
    lots.sort_by_key(|l| (l.expires_at.is_none(), l.expires_at, l.seq));
    lots
}

/// Resumes from the figures alone plus the lot rows a command needs, as storage does;
/// with `first_known`, also told the earliest dated expiry (as the locking statement
/// tells it).
fn resume_partial(
    account: &AccountState,
    rows: &LotRows,
    wanted: &LotsWanted,
    tallies: Vec<Tally>,
    first_known: bool,
) -> Ledger {
    let figures = stored(&account.without_lots());
    let mut ledger = Ledger::resume(figures, tallies);
    if first_known {
        let first = rows.values().filter_map(|l| l.expires_at).min();
        ledger.no_lot_expires_before(first);
    }
    if !ledger.holds_lots_for(wanted) {
        ledger
            .add_lots(wanted, wanted.select(in_order(rows)))
            .unwrap();
    }
    ledger
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The money-critical proof for lots as rows: a ledger resumed before each command
    /// with only the lots the rule says the command needs gives the same outcome as the
    /// whole ledger (so it never refuses for a missing lot), and the rows it writes back
    /// (changed lots upserted, closed ones deleted) are the fold's open lots after every
    /// step: same expiry order, no overdraw, refunds exact, every point accounted for.
    #[test]
    fn partial_lots_give_the_fold_after_every_step(
        ops in proptest::collection::vec((op(), any::<bool>()), 1..60),
    ) {
        let mut world = World { now: START, refunded: BTreeMap::new() };
        let mut full = Ledger::new();
        let mut account = AccountState::default();
        let mut rows = LotRows::new();
        let mut table: BTreeMap<String, Tally> = BTreeMap::new();
        for (op, first_known) in &ops {
            let at = match account.last_at() {
                Some(last) if last > world.now => last,
                _ => world.now,
            };
            let wanted = wanted(op, at, &table);
            let mut resumed =
                resume_partial(&account, &rows, &wanted, needed(op, &table), *first_known);
            let expected = world.run(&mut full, op);
            let got = world.run(&mut resumed, op);
            prop_assert_eq!(&expected, &got, "outcome of {:?} with {:?}", op, wanted);
            if let Some(Ok(_)) = got {
                let state = resumed.state().account();
                let changes = state.lot_changes();
                if changes.replace_all {
                    rows.clear();
                }
                for seq in changes.delete {
                    rows.remove(&seq);
                }
                for lot in changes.write {
                    rows.insert(lot.seq, lot);
                }
                account = stored(&state.without_lots());
                for tally in resumed.changed_tallies() {
                    table.insert(tally.key(), tally);
                }
            }
            world.after(op);

            let folded = fold(full.entries()).unwrap();
            prop_assert_eq!(account.balance(), folded.balance());
            prop_assert_eq!(account.debt(), folded.debt());
            prop_assert_eq!(account.next_seq(), folded.next_seq());
            prop_assert_eq!(account.last_at(), folded.last_at());
            prop_assert_eq!(in_order(&rows), folded.lots().collect::<Vec<_>>());
            let held: i64 = rows.values().map(|l| l.remaining.value()).sum();
            prop_assert_eq!(held - folded.debt().value(), folded.balance().value());
            prop_assert!(rows.values().all(|l| l.remaining.is_positive()));
            let tallies: BTreeMap<String, Tally> =
                folded.tallies().into_iter().map(|t| (t.key(), t)).collect();
            prop_assert_eq!(&table, &tallies);
        }
    }
}

/// A state resumed without its lots refuses a debit it cannot see through, rather than
/// guessing: the caller loads the lots and runs it again.
#[test]
fn a_debit_past_the_held_lots_is_refused_not_guessed() {
    let mut ledger = Ledger::new();
    let at = datetime!(2026-03-02 09:00 UTC);
    ledger
        .earn(key(1), Points::new(40), at, Some(at + Duration::days(30)))
        .unwrap();
    ledger.earn(key(2), Points::new(60), at, None).unwrap();
    let figures = stored(&ledger.state().account().without_lots());
    let mut resumed = Ledger::resume(figures.clone(), []);
    assert_eq!(
        resumed.redeem(Points::new(10), at, "reward:cake"),
        Err(LedgerError::LotsNotLoaded)
    );
    assert_eq!(resumed.expire_due(at), Err(LedgerError::LotsNotLoaded));
    // A credit needs no lot.
    resumed.earn(key(3), Points::new(5), at, None).unwrap();
    // With the run up to the debit loaded, the debit takes from the first-expiring lot.
    let rows: Vec<Lot> = ledger.state().lots().collect();
    let wanted = LotsWanted::debit(at, Points::new(10));
    let mut resumed = Ledger::resume(figures, []);
    resumed.add_lots(&wanted, wanted.select(rows)).unwrap();
    assert_eq!(resumed.state().lots().count(), 1);
    resumed.redeem(Points::new(10), at, "reward:cake").unwrap();
    let changes = resumed.state().account().lot_changes();
    assert_eq!(changes.write.len(), 1);
    assert_eq!(changes.write[0].remaining, Points::new(30));
    assert!(changes.delete.is_empty() && !changes.replace_all);
}

/// Yesterday and today are always kept: the state answers the daily cap for them.
#[test]
fn recent_days_are_kept() {
    let mut ledger = Ledger::new();
    let at = datetime!(2026-03-02 23:00 +07:00);
    ledger
        .earn_placed(
            key(1),
            Points::new(40),
            at,
            None,
            Some(at - Duration::hours(30)),
        )
        .unwrap();
    ledger.earn(key(2), Points::new(10), at, None).unwrap();
    let state = stored(ledger.state().account());
    let yesterday = datetime!(2026-03-01 12:00 UTC).date();
    assert_eq!(
        state.earned_on_day(yesterday, offset!(+7)),
        Some(Points::new(40))
    );
    assert_eq!(
        state.earned_on_day(yesterday.next_day().unwrap(), offset!(+7)),
        Some(Points::new(10))
    );
    // A week back is no longer kept: the caller counts from the entries.
    assert_eq!(
        state.earned_on_day(yesterday - Duration::days(7), offset!(+7)),
        None
    );
}

/// A stored state that breaks an invariant is refused when read.
#[test]
fn a_broken_stored_state_is_refused() {
    let broken = r#"{"balance":10,"debt":0,"next_seq":1,"last_at":null,"lots":[],"earned":[]}"#;
    assert!(serde_json::from_str::<AccountState>(broken).is_err());
}

/// A fold writes its open lots afresh: every open lot, with what it holds, replacing the
/// stored ones, and nothing left over from the lots it closed on the way (spent, expired
/// or taken back by a refund), then a command after it tracks its own changes again.
#[test]
fn a_fold_replaces_the_stored_lots_with_exactly_its_open_lots() {
    let mut ledger = Ledger::new();
    let mut at = START;
    for order in 1..=6u8 {
        let expiry = (order % 2 == 0).then(|| at + Duration::days(3));
        ledger
            .earn(key(order), Points::new(10 * i64::from(order)), at, expiry)
            .unwrap();
        at += Duration::days(1);
    }
    ledger.redeem(Points::new(25), at, "reward:cake").unwrap();
    ledger
        .reverse_order_partial(&key(5), RefundFraction::FULL, at, RefundPolicy::Debt)
        .unwrap();
    at += Duration::days(5);
    ledger.expire_due(at).unwrap();
    let state = fold(ledger.entries()).unwrap();
    let changes = state.account().lot_changes();
    assert!(changes.replace_all && changes.delete.is_empty());
    let open: Vec<Lot> = state.lots().collect();
    let mut written = changes.write.clone();
    written.sort_by_key(|lot| lot.seq);
    let mut expected = open.clone();
    expected.sort_by_key(|lot| lot.seq);
    assert_eq!(written, expected);
    assert!(!open.is_empty() && open.len() < 6, "{open:?}");

    // Resumed from the fold, a command reports only what it changed.
    let mut resumed = Ledger::resume(state.account().clone(), []);
    resumed.lots_saved();
    resumed
        .redeem(Points::new(1), at, "reward:sticker")
        .unwrap();
    let changes = resumed.state().account().lot_changes();
    assert!(!changes.replace_all);
    assert_eq!(changes.write.len() + changes.delete.len(), 1);
}
