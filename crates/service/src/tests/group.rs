//! Group commit: concurrent orders in one transaction, one savepoint each.

use super::*;
use crate::{ErrorClass, GroupCommit, IngestError, OrderReceipt, UseCaseError};
use regulars_ports::StoreError;
use regulars_ports::mocks::TxOutcome;

/// A harness whose orders are grouped; a long window, so the tasks spawned together
/// form one group.
fn grouped() -> Harness {
    let mut h = Harness::standard();
    h.services = h.services.clone().with_group_commit(GroupCommit {
        window: std::time::Duration::from_millis(50),
        max_group: 64,
        writers: 1,
    });
    h
}

fn phone_n(n: usize) -> Phone {
    Phone::parse(&format!("09012345{n:02}"), Phone::VIETNAM).unwrap()
}

/// Orders of a few customers, one of them with several.
fn mixed_orders() -> Vec<Order> {
    (0..12)
        .map(|i| {
            let mut order = order(&format!("G-{i}"), 30_000 + 5_000 * i as i64);
            order.customer_phone = Some(phone_n(i % 4));
            order
        })
        .collect()
}

/// Sends every order at once (tasks spawned together on the test's single thread, so
/// they all wait in the writer's queue before it runs) and gives the results in order.
async fn at_once(h: &Harness, orders: Vec<Order>) -> Vec<Result<OrderReceipt, IngestError>> {
    let tasks: Vec<_> = orders
        .into_iter()
        .map(|order| {
            let services = h.services.clone();
            tokio::spawn(async move { services.ingest_order(BRAND, order).await })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

async fn one_by_one(h: &Harness, orders: Vec<Order>) -> Vec<Result<OrderReceipt, IngestError>> {
    let mut results = Vec::new();
    for order in orders {
        results.push(h.services.ingest_order(BRAND, order).await);
    }
    results
}

fn in_usd(mut order: Order) -> Order {
    let usd = |m: Money| Money::new(m.amount(), Currency::USD).unwrap();
    order.total = usd(order.total);
    for line in &mut order.lines {
        line.unit_price = usd(line.unit_price);
    }
    order
}

#[tokio::test]
async fn concurrent_orders_share_one_commit_and_equal_one_by_one_delivery() {
    let h = grouped();
    let grouped_results = at_once(&h, mixed_orders()).await;
    assert_eq!(h.fake.outcomes(), [TxOutcome::Committed]);

    let alone = Harness::standard();
    let alone_results = one_by_one(&alone, mixed_orders()).await;
    assert_eq!(grouped_results, alone_results);
    assert!(grouped_results.iter().all(Result::is_ok));

    let (g, a) = (h.fake.world(), alone.fake.world());
    assert_eq!(g.accounts, a.accounts);
    assert_eq!(g.orders, a.orders);
    assert_eq!(g.stats, a.stats);
    assert_eq!(g.idempotency, a.idempotency);
}

#[tokio::test]
async fn a_refused_order_fails_alone_and_its_neighbours_are_committed() {
    let h = grouped();
    let mut orders = mixed_orders();
    orders[3] = in_usd(orders[3].clone());
    // The same key with other contents, and the same order twice, as in a sequence.
    let mut other = orders[1].clone();
    other.total = vnd(99_000);
    other.lines[0].unit_price = vnd(99_000);
    orders.push(other);
    orders.push(orders[2].clone());

    let results = at_once(&h, orders.clone()).await;
    assert_eq!(h.fake.outcomes(), [TxOutcome::Committed]);

    assert!(matches!(
        results[3],
        Err(IngestError::CurrencyMismatch { .. })
    ));
    assert!(matches!(results[12], Err(IngestError::OtherOrder { .. })));
    let repeated = results[13].as_ref().unwrap();
    assert!(repeated.duplicate);
    assert_eq!(repeated.order_id, results[2].as_ref().unwrap().order_id);

    let alone = Harness::standard();
    assert_eq!(results, one_by_one(&alone, orders).await);
    let world = h.fake.world();
    assert_eq!(world.orders.len(), 11);
    assert_eq!(world.accounts, alone.fake.world().accounts);
}

#[tokio::test]
async fn an_order_failing_after_its_writes_is_rolled_back_to_its_savepoint() {
    let h = grouped();
    let orders = mixed_orders();
    // The first order's stats fail to save after its order and ledger entries were
    // written: those writes must go, and only them.
    h.fake
        .fail("save_stats", StoreError::Other("disk full".into()));

    let results = at_once(&h, orders.clone()).await;
    assert_eq!(h.fake.outcomes(), [TxOutcome::Committed]);
    let error = results[0].as_ref().unwrap_err();
    assert_eq!(error.class(), ErrorClass::Internal);
    assert!(results[1..].iter().all(Result::is_ok));

    let world = h.fake.world();
    assert_eq!(world.orders.len(), 11);
    assert!(world.orders.iter().all(|o| o.order.key != orders[0].key));
    assert!(
        !world
            .idempotency
            .contains_key(&(BRAND, orders[0].key.clone()))
    );
    // What was kept is what delivering the eleven others alone keeps.
    let alone = Harness::standard();
    let kept: Vec<Order> = orders[1..].to_vec();
    let alone_results = one_by_one(&alone, kept).await;
    let balances = |w: &World| -> Vec<Points> { w.accounts.values().map(|a| a.balance).collect() };
    assert_eq!(balances(&world), balances(&alone.fake.world()));
    assert_eq!(
        results[1..]
            .iter()
            .map(|r| r.as_ref().unwrap().points_earned)
            .collect::<Vec<_>>(),
        alone_results
            .iter()
            .map(|r| r.as_ref().unwrap().points_earned)
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn an_order_meeting_a_conflict_runs_again_alone_after_the_group() {
    let h = grouped();
    h.fake
        .fail("insert_order", StoreError::Conflict("duplicate key".into()));

    let results = at_once(&h, mixed_orders()).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(
        h.fake.outcomes(),
        [TxOutcome::Committed, TxOutcome::Committed]
    );
    assert_eq!(h.fake.world().orders.len(), 12);
}

#[tokio::test]
async fn a_broken_group_transaction_runs_every_order_alone() {
    let h = grouped();
    h.fake.fail(
        "rollback_to_savepoint",
        StoreError::Unavailable("gone".into()),
    );
    h.fake
        .fail("save_stats", StoreError::Other("disk full".into()));

    let results = at_once(&h, mixed_orders()).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let outcomes = h.fake.outcomes();
    assert_eq!(outcomes[0], TxOutcome::RolledBack);
    assert_eq!(outcomes.len(), 13);
    assert_eq!(h.fake.world().orders.len(), 12);
}

#[tokio::test]
async fn a_failed_commit_answers_every_order_with_its_error_and_keeps_nothing() {
    let h = grouped();
    h.fake
        .fail("commit", StoreError::Unavailable("disk gone".into()));

    let results = at_once(&h, mixed_orders()).await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(IngestError::Store(StoreError::Unavailable(_)))))
    );
    assert_eq!(h.fake.outcomes(), [TxOutcome::Dropped]);
    assert!(h.fake.world().orders.is_empty());
}

#[tokio::test]
async fn a_conflicting_commit_runs_every_order_again_alone() {
    let h = grouped();
    h.fake
        .fail("commit", StoreError::Conflict("serialization".into()));

    let results = at_once(&h, mixed_orders()).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(h.fake.outcomes().len(), 13);
    assert_eq!(h.fake.world().orders.len(), 12);
}
