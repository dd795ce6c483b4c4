//! An order's writes in one piece (`OrderRepo::write_order`, one statement on
//! PostgreSQL, one query on SQLite) and its two combined reads: everything lands as the
//! one-by-one writes would leave it, a moved head or a reused key writes nothing, and
//! orders of any number of rows share one statement text on PostgreSQL.

use crate::support::{key, order, seed, vnd};
use crate::{Store, TestResult};
use regulars_domain::{CustomerId, EventKey, OrderId, Points};
use regulars_loyalty::ledger::{Ledger, fold};
use regulars_ports::{
    AccountAppend, AccountHead, CountedTimes, CustomerStats, IdempotentRecord, OrderWrites,
    StoreError, StoredOrder, UnitOfWork,
};
use serde_json::json;
use std::sync::{Arc, Mutex};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const AT: OffsetDateTime = datetime!(2026-05-06 08:30:15.250001 UTC);

fn record(n: i64) -> IdempotentRecord {
    IdempotentRecord {
        kind: "order".into(),
        result: json!({"points_earned": n}),
        fingerprint: Some(format!("fp-{n}")),
    }
}

fn stats(customer: CustomerId, visits: u64, at: OffsetDateTime) -> CustomerStats {
    CustomerStats {
        customer_id: customer,
        visits,
        spend: vnd(129_000 * i64::try_from(visits).unwrap_or(0)),
        first_visit_at: Some(AT),
        counted: CountedTimes {
            first: Some(AT),
            last: Some(at),
            second_last: None,
        },
        last_visit_at: Some(at),
        tier: None,
    }
}

/// The order's writes on `ledger` after `entries` (run on it), from `head`.
fn writes(
    stored: &StoredOrder,
    ledger: &Ledger,
    head: AccountHead,
    entries: Vec<regulars_loyalty::ledger::LedgerEntry>,
    visits: u64,
) -> Result<OrderWrites, Box<dyn std::error::Error + Send + Sync>> {
    let customer = stored.customer_id.ok_or("an order with a customer")?;
    Ok(OrderWrites {
        order: stored.clone(),
        account: Some(AccountAppend {
            customer,
            head,
            entries,
            state: ledger.state().account().clone(),
            tallies: ledger.changed_tallies(),
        }),
        stats: Some(stats(customer, visits, stored.order.placed_at)),
        record: record(i64::try_from(visits).unwrap_or(0)),
        also: None,
    })
}

pub(crate) async fn an_order_is_written_in_one_piece(store: Store) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let first = order(brand.id, 1, "A-1001", Some(&lan));
    let mut ledger = Ledger::new();

    let mut tx = store.begin().await?;
    let (seen, found) = tx
        .idempotency()
        .seen_with_customer(brand.id, &first.order.key, &lan.phone)
        .await?;
    assert_eq!((seen, found), (None, Some(lan.clone())));
    let head = tx.ledger().lock_account(brand.id, lan.id).await?;
    let entries = ledger.earn(
        first.order.key.clone(),
        Points::new(12),
        AT,
        Some(AT + Duration::days(10)),
    )?;
    let new_head = tx
        .orders()
        .write_order(&writes(&first, &ledger, head, entries, 1)?)
        .await?;
    assert_eq!(
        new_head,
        Some(AccountHead {
            balance: Points::new(12),
            next_seq: 1
        })
    );
    tx.commit().await?;
    ledger.lots_saved();

    // Past the first lot's expiry: the second order expires it (a lot deleted) and
    // opens its own (a lot written), in the same statement.
    let second = {
        let mut o = order(brand.id, 2, "A-1002", Some(&lan));
        o.order.placed_at = AT + Duration::days(15);
        o
    };
    let mut tx = store.begin().await?;
    let head = tx.ledger().lock_account(brand.id, lan.id).await?;
    let mut entries = ledger.expire_due(second.order.placed_at)?;
    entries.extend(ledger.earn(
        second.order.key.clone(),
        Points::new(20),
        second.order.placed_at,
        Some(second.order.placed_at + Duration::days(10)),
    )?);
    let lots = ledger.state().account().lot_changes();
    assert_eq!((lots.delete.len(), lots.write.len()), (1, 1), "{lots:?}");
    // With a webhook's event record, remembered in the same write.
    let event = EventKey::new("webhook:till", "evt-A-1002")?;
    let mut second_writes = writes(&second, &ledger, head, entries, 2)?;
    second_writes.also = Some((event.clone(), record(20)));
    let new_head = tx.orders().write_order(&second_writes).await?;
    assert_eq!(new_head.map(|h| h.balance), Some(Points::new(20)));
    tx.commit().await?;
    ledger.lots_saved();

    let mut tx = store.begin().await?;
    for stored in [&first, &second] {
        assert_eq!(
            tx.orders()
                .order_by_key(brand.id, &stored.order.key)
                .await?
                .as_ref(),
            Some(stored)
        );
    }
    let all = tx.ledger().entries(brand.id, lan.id).await?;
    assert_eq!(all, ledger.entries());
    let (state, tallies) = tx
        .ledger()
        .stored_account(brand.id, lan.id)
        .await?
        .ok_or("a state is stored")?;
    let folded = fold(&all)?;
    assert_eq!(&state, folded.account());
    let by_key = |mut t: Vec<regulars_loyalty::ledger::Tally>| {
        t.sort_by_key(|t| t.key());
        t
    };
    assert_eq!(by_key(tallies), by_key(folded.tallies()));
    assert_eq!(
        tx.customers().stats(brand.id, lan.id).await?,
        Some(stats(lan.id, 2, second.order.placed_at))
    );
    let (seen, found) = tx
        .idempotency()
        .seen_with_customer(brand.id, &second.order.key, &lan.phone)
        .await?;
    assert_eq!((seen, found), (Some(record(2)), Some(lan.clone())));
    // Several keys and the customer in one read, in the keys' order.
    let keys = [
        event.clone(),
        EventKey::new("webhook:till", "evt-unknown")?,
        second.order.key.clone(),
    ];
    let (seen, found) = tx
        .idempotency()
        .seen_each_with_customer(brand.id, &keys, &lan.phone)
        .await?;
    assert_eq!(seen, vec![Some(record(20)), None, Some(record(2))]);
    assert_eq!(found, Some(lan.clone()));
    assert_eq!(
        tx.idempotency().seen_each(brand.id, &keys).await?,
        vec![Some(record(20)), None, Some(record(2))]
    );
    drop(tx);

    // A head that moved since it was read: a conflict, and nothing of the order stays.
    let third = order(brand.id, 3, "A-1003", Some(&lan));
    let stale = AccountHead {
        balance: Points::new(12),
        next_seq: 1,
    };
    let mut behind = Ledger::from_entries(all[..1].to_vec())?;
    let entries = behind.earn(third.order.key.clone(), Points::new(5), AT, None)?;
    let mut tx = store.begin().await?;
    tx.ledger().lock_account(brand.id, lan.id).await?;
    let err = tx
        .orders()
        .write_order(&writes(&third, &behind, stale, entries, 3)?)
        .await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    drop(tx);
    let mut tx = store.begin().await?;
    assert_eq!(
        tx.orders().order_by_key(brand.id, &third.order.key).await?,
        None
    );
    assert_eq!(
        tx.idempotency().seen(brand.id, &third.order.key).await?,
        None
    );
    assert_eq!(tx.ledger().entries(brand.id, lan.id).await?.len(), 3);
    drop(tx);

    // The first order's key again, under a new id: a conflict.
    let mut again = first.clone();
    again.id = OrderId::from_bytes([9; 16]);
    let mut tx = store.begin().await?;
    let head = tx.ledger().lock_account(brand.id, lan.id).await?;
    let mut next = Ledger::from_entries(ledger.entries().to_vec())?;
    let entries = next.earn(
        key("pos:generic", "A-2001"),
        Points::new(5),
        AT + Duration::days(15),
        None,
    )?;
    let err = tx
        .orders()
        .write_order(&writes(&again, &next, head, entries, 3)?)
        .await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    Ok(())
}

/// Each order's writes are one statement (one query on SQLite); on PostgreSQL its text
/// is the same for orders of one line or three, with a lot expired or not, so one
/// prepared statement serves them all.
pub(crate) async fn orders_of_any_shape_share_one_statement(store: Store) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let mut store = store;
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = log.clone();
    store.observe_statements(move |sql| {
        if let Ok(mut log) = sink.lock() {
            log.push(sql.to_owned());
        }
    });
    let taken = || {
        log.lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    };
    let mut ledger = Ledger::new();
    let mut texts = Vec::new();
    for (n, lines, days) in [(1_u8, 2_usize, 0_i64), (2, 1, 15), (3, 3, 16)] {
        let mut stored = order(brand.id, n, &format!("S-{n}"), Some(&lan));
        stored.order.placed_at = AT + Duration::days(days);
        let line = stored.order.lines[0].clone();
        stored.order.lines.resize(lines, line);
        let mut tx = store.begin().await?;
        let head = tx.ledger().lock_account(brand.id, lan.id).await?;
        let at = stored.order.placed_at;
        let mut entries = ledger.expire_due(at)?;
        entries.extend(ledger.earn(
            stored.order.key.clone(),
            Points::new(10),
            at,
            Some(at + Duration::days(10)),
        )?);
        taken();
        tx.orders()
            .write_order(&writes(&stored, &ledger, head, entries, u64::from(n))?)
            .await?;
        let statements = taken();
        assert_eq!(statements.len(), 1, "order {n}: {statements:#?}");
        texts.extend(statements);
        tx.commit().await?;
        ledger.lots_saved();
        let read = store
            .begin()
            .await?
            .orders()
            .order_by_key(brand.id, &stored.order.key)
            .await?;
        assert_eq!(read.as_ref(), Some(&stored), "order {n}");
    }
    if store.backend() == regulars_store::Backend::Postgres {
        texts.dedup();
        assert_eq!(texts.len(), 1, "{texts:#?}");
    }
    let mut tx = store.begin().await?;
    assert_eq!(
        tx.ledger().entries(brand.id, lan.id).await?,
        ledger.entries()
    );
    Ok(())
}

/// The pre-lock read finds the customer by phone whether or not the key was seen, and
/// nothing of another brand.
pub(crate) async fn seen_with_customer_reads_both_or_either(store: Store) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let (other, _, _) = seed(&store, 2).await?;
    let event = key("pos:generic", "A-1001");
    let mut tx = store.begin().await?;
    tx.idempotency()
        .remember(brand.id, &event, &record(7))
        .await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let read = tx
        .idempotency()
        .seen_with_customer(brand.id, &event, &lan.phone)
        .await?;
    assert_eq!(read, (Some(record(7)), Some(lan.clone())));
    let unknown = crate::support::phone("0909999999");
    let read = tx
        .idempotency()
        .seen_with_customer(brand.id, &event, &unknown)
        .await?;
    assert_eq!(read, (Some(record(7)), None));
    let read = tx
        .idempotency()
        .seen_with_customer(other.id, &event, &unknown)
        .await?;
    assert_eq!(read, (None, None));
    Ok(())
}
