//! The reads of a customer's points that do not walk the whole ledger, against the fold
//! of the entries for random operation sequences: each customer's next expiring lots
//! for a page of customers in one statement, what can be spent at an instant, a page of
//! entries and the entries of a window.

use crate::support::{brand, customer, key};
use crate::{Store, TestResult};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use regulars_domain::{CustomerId, Points};
use regulars_loyalty::ledger::{Ledger, LedgerEntry, Lot, RefundFraction, RefundPolicy, fold};
use regulars_ports::UnitOfWork;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const AT: OffsetDateTime = datetime!(2026-05-06 08:30:15.250001 UTC);
/// Sequences tried, one customer each, all read back in one statement.
const CASES: u8 = 24;

#[derive(Clone, Debug)]
enum Op {
    /// Points of order `order` valid until `day` days (and `nanos` ns) after [`AT`]:
    /// few instants, so lots often expire together.
    Earn {
        order: u8,
        points: i64,
        expiry: Option<(i64, i64)>,
    },
    Redeem {
        points: i64,
    },
    Refund {
        order: u8,
        share: i64,
        policy: RefundPolicy,
    },
    Expire,
    Advance {
        hours: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let policy = prop_oneof![
        Just(RefundPolicy::Debt),
        Just(RefundPolicy::Clamp),
        Just(RefundPolicy::VoidUnredeemed)
    ];
    let expiry = proptest::option::weighted(0.85, (0..8i64, prop_oneof![Just(0i64), Just(777)]));
    prop_oneof![
        5 => (0..12u8, 1..300i64, expiry)
            .prop_map(|(order, points, expiry)| Op::Earn { order, points, expiry }),
        2 => (1..250i64).prop_map(|points| Op::Redeem { points }),
        2 => (0..12u8, 1..=4i64, policy)
            .prop_map(|(order, share, policy)| Op::Refund { order, share, policy }),
        1 => Just(Op::Expire),
        2 => (1..60i64).prop_map(|hours| Op::Advance { hours }),
    ]
}

/// Runs `ops` on a ledger, storing each command's entries with the state they fold to
/// (as the service does); the ledger in memory is returned with the entries.
async fn store_ops(
    store: &Store,
    c: CustomerId,
    ops: &[Op],
) -> Result<Ledger, Box<dyn std::error::Error + Send + Sync>> {
    let brand = brand(1).id;
    let mut ledger = Ledger::new();
    let mut now = AT;
    for op in ops {
        let at = match ledger.state().last_at() {
            Some(last) if last > now => last,
            _ => now,
        };
        let done = match op {
            Op::Advance { hours } => {
                now += Duration::hours(*hours);
                continue;
            }
            Op::Earn {
                order,
                points,
                expiry,
            } => ledger.earn(
                key("pos:test", &format!("o-{order}")),
                Points::new(*points),
                at,
                expiry
                    .map(|(days, nanos)| AT + Duration::days(days) + Duration::nanoseconds(nanos)),
            ),
            Op::Redeem { points } => ledger.redeem(Points::new(*points), at, "reward:cake"),
            Op::Refund {
                order,
                share,
                policy,
            } => RefundFraction::new(*share, 4).and_then(|share| {
                ledger.reverse_order_partial(
                    &key("pos:test", &format!("o-{order}")),
                    share,
                    at,
                    *policy,
                )
            }),
            Op::Expire => ledger.expire_due(at),
        };
        let Ok(entries) = done else { continue };
        if entries.is_empty() {
            continue;
        }
        let mut tx = store.begin().await?;
        let head = tx.ledger().lock_account(brand, c).await?;
        tx.ledger()
            .append_with_state(
                brand,
                c,
                head,
                &entries,
                ledger.state().account(),
                &ledger.changed_tallies(),
            )
            .await?;
        tx.commit().await?;
        ledger.lots_saved();
    }
    Ok(ledger)
}

/// The fold's answer: the open lots with points left expiring first after `now`.
fn next_lots(lots: impl IntoIterator<Item = Lot>, now: OffsetDateTime) -> Vec<Lot> {
    let open: Vec<Lot> = lots
        .into_iter()
        .filter(|l| l.remaining.is_positive() && l.expires_at.is_some_and(|at| at > now))
        .collect();
    let first = open.iter().filter_map(|l| l.expires_at).min();
    let mut next: Vec<Lot> = open.into_iter().filter(|l| l.expires_at == first).collect();
    next.sort_by_key(|l| l.seq);
    next
}

/// The instants read at: before, at and just after each expiry instant of [`Op::Earn`].
fn probes() -> Vec<OffsetDateTime> {
    let mut at = vec![AT - Duration::days(1)];
    for days in 0..9 {
        let day = AT + Duration::days(days);
        at.extend([
            day - Duration::nanoseconds(1),
            day,
            day + Duration::nanoseconds(776),
            day + Duration::nanoseconds(777),
            day + Duration::hours(5),
        ]);
    }
    at
}

pub(crate) async fn the_stored_reads_give_the_fold(store: Store) -> TestResult {
    let b = brand(1);
    let mut tx = store.begin().await?;
    tx.brands().insert_brand(&b).await?;
    let ids: Vec<CustomerId> = (0..CASES + 2)
        .map(|n| customer(b.id, 10 + n, &format!("09012345{n:02}")))
        .map(|c| c.id)
        .collect();
    for n in 0..CASES + 2 {
        tx.customers()
            .insert_customer(&customer(b.id, 10 + n, &format!("09012345{n:02}")))
            .await?;
    }
    tx.commit().await?;

    let mut runner = TestRunner::new(Config::default());
    let sequences = proptest::collection::vec(op(), 1..40);
    let mut cases = Vec::new();
    for &c in &ids[..usize::from(CASES)] {
        let ops = sequences
            .new_tree(&mut runner)
            .map_err(|e| e.to_string())?
            .current();
        let ledger = store_ops(&store, c, &ops).await?;
        cases.push((c, ops, ledger));
    }
    // One account whose entries were appended without a state, one never locked.
    let (plain, untouched) = (ids[usize::from(CASES)], ids[usize::from(CASES) + 1]);
    let mut ledger = Ledger::new();
    let entries = ledger.earn(
        key("pos:test", "p"),
        Points::new(40),
        AT,
        Some(AT + Duration::days(3)),
    )?;
    let mut tx = store.begin().await?;
    let head = tx.ledger().lock_account(b.id, plain).await?;
    tx.ledger()
        .append(b.id, plain, head, &entries, ledger.balance())
        .await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let mut folded = Vec::new();
    for (c, ops, _) in &cases {
        let entries = tx.ledger().entries(b.id, *c).await?;
        folded.push((*c, ops, fold(&entries)?, entries));
    }
    for now in probes() {
        let answer = tx.ledger().next_expiring_lots(b.id, &ids, now).await?;
        assert_eq!(answer.len(), ids.len(), "every customer once");
        for (c, ops, state, _) in &folded {
            let found = answer.iter().find(|a| a.customer == *c).ok_or("answered")?;
            let mut lots = found.lots.clone().ok_or("a state is stored")?;
            lots.sort_by_key(|l| l.seq);
            assert_eq!(lots, next_lots(state.lots(), now), "at {now} after {ops:?}");
            let available = tx.ledger().available_points(b.id, *c, now).await?;
            assert_eq!(
                available,
                Some(state.available_at(now)),
                "at {now} after {ops:?}"
            );
        }
        let of = |id| {
            answer
                .iter()
                .find(|a| a.customer == id)
                .map(|a| a.lots.clone())
        };
        assert_eq!(of(plain), Some(None), "no stored state: the caller folds");
        assert_eq!(of(untouched), Some(Some(Vec::new())), "never locked");
        assert_eq!(tx.ledger().available_points(b.id, plain, now).await?, None);
        assert_eq!(
            tx.ledger().available_points(b.id, untouched, now).await?,
            Some(Points::ZERO)
        );
    }
    // The same customers asked for in a different order, twice: each answered once.
    let twice: Vec<CustomerId> = ids.iter().rev().chain(ids.iter()).copied().collect();
    let answer = tx.ledger().next_expiring_lots(b.id, &twice, AT).await?;
    assert_eq!(answer.len(), ids.len());

    for (c, _, _, entries) in &folded {
        entries_in_pages(&mut tx, *c, entries).await?;
        for since in probes() {
            let window = tx.ledger().entries_since(b.id, *c, since).await?;
            let expected: Vec<&LedgerEntry> = entries.iter().filter(|e| e.at >= since).collect();
            let got: Vec<&LedgerEntry> = window.iter().filter(|e| e.at >= since).collect();
            assert_eq!(got, expected, "since {since}");
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Paging with every page size from 1 to past the end returns every entry once, in order.
async fn entries_in_pages(
    tx: &mut Box<dyn regulars_ports::Transaction>,
    c: CustomerId,
    entries: &[LedgerEntry],
) -> TestResult {
    let brand = brand(1).id;
    for limit in [1u64, 2, 3, 7, 100] {
        let mut paged = Vec::new();
        let mut from = 0;
        loop {
            let page = tx.ledger().entries_page(brand, c, from, limit).await?;
            assert!(page.len() as u64 <= limit);
            let Some(last) = page.last() else { break };
            from = last.seq + 1;
            paged.extend(page);
        }
        assert_eq!(paged, entries, "pages of {limit}");
    }
    assert_eq!(
        tx.ledger().entries_page(brand, c, u64::MAX, 5).await?,
        vec![]
    );
    Ok(())
}
