//! The delivery workers' claim reads a batch, not the queue: it walks the open messages
//! (pending, or sending with a lapsed lease) in due order through `ix_outbox_open` and
//! stops at its limit, with no sort of every due row behind it and no scan of the whole
//! outbox to find the rows it takes (the plan made for its values).

use crate::outreach::message;
use crate::support::{on_postgres_url, on_sqlite_url, seed};
use crate::{Store, TestResult};
use regulars_ports::{OutboxStatus, UnitOfWork};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, Value};
use std::sync::{Arc, Mutex};
use time::Duration;
use time::macros::datetime;
use uuid::Uuid;

/// Messages queued: enough that reading them all is not the planner's cheapest way to
/// the first batch.
const QUEUED: usize = 20_000;

async fn a_claim_walks_the_open_messages_in_due_order(mut store: Store, url: String) -> TestResult {
    let (b, _, _) = seed(&store, 1).await?;
    let now = datetime!(2026-06-01 08:00 UTC);
    let lease = now + Duration::seconds(60);
    // Due one a second, the oldest last in id order, so due order is not id order.
    let messages: Vec<_> = (0..QUEUED)
        .map(|i| {
            let mut m = message(
                b.id,
                0,
                &format!("q:{i}"),
                now - Duration::seconds(i as i64),
            );
            m.id = Uuid::from_u128(i as u128 + 1);
            m
        })
        .collect();
    let mut tx = store.begin().await?;
    for chunk in messages.chunks(1_000) {
        tx.outbox().enqueue(chunk).await?;
    }
    tx.commit().await?;

    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = seen.clone();
    store.observe_statements(move |sql| {
        if let Ok(mut seen) = sink.lock() {
            seen.push(sql.to_owned());
        }
    });
    let mut tx = store.begin().await?;
    let claimed = tx.outbox().claim_due(now, lease, 200).await?;
    tx.commit().await?;
    // The oldest due first: the last queued.
    let ids: Vec<u128> = claimed.iter().map(|m| m.id.as_u128()).collect();
    let expected: Vec<u128> = (0..200).map(|i| (QUEUED - i) as u128).collect();
    assert_eq!(ids, expected);
    assert!(claimed.iter().all(|m| m.status == OutboxStatus::Sending));

    let claim = seen
        .lock()
        .map_err(|_| "statement log poisoned")?
        .iter()
        .find(|sql| sql.contains("picked"))
        .cloned()
        .ok_or("no claim statement logged")?;
    let plan = plan_of(&url, &claim, now, lease).await?;
    assert!(
        plan.iter().any(|line| line.contains("ix_outbox_open")),
        "the claim does not read ix_outbox_open: {plan:#?}"
    );
    assert!(
        !plan
            .iter()
            .any(|line| line.contains("Sort") || line.contains("TEMP B-TREE")),
        "the claim sorts the due rows: {plan:#?}"
    );
    assert!(
        !plan
            .iter()
            .any(|line| line.contains("Seq Scan") || line.starts_with("SCAN outbox")),
        "the claim reads the whole outbox: {plan:#?}"
    );
    store.close().await?;
    Ok(())
}

/// The plan of the logged claim for its values (due by `now`, 200, leased until `lease`),
/// after the table's statistics are gathered; one line per plan node.
async fn plan_of(
    url: &str,
    claim: &str,
    now: time::OffsetDateTime,
    lease: time::OffsetDateTime,
) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    let micros = |t: time::OffsetDateTime| (t.unix_timestamp_nanos() / 1_000) as i64;
    let db = Database::connect(url).await?;
    let backend = db.get_database_backend();
    db.execute_unprepared("ANALYZE outbox").await?;
    let values = [
        Value::from(micros(now)),
        Value::from(200_i64),
        Value::from(OutboxStatus::Sending.as_str()),
        Value::from(micros(lease)),
    ];
    let (explain, column) = match backend {
        DbBackend::Postgres => ("EXPLAIN ", "QUERY PLAN"),
        _ => ("EXPLAIN QUERY PLAN ", "detail"),
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!("{explain}{claim}"),
            values,
        ))
        .await?;
    let mut plan = Vec::with_capacity(rows.len());
    for row in rows {
        plan.push(row.try_get::<String>("", column)?);
    }
    db.close().await?;
    Ok(plan)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_claim_walks_the_open_messages_in_due_order() -> TestResult {
    on_sqlite_url(a_claim_walks_the_open_messages_in_due_order).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_claim_walks_the_open_messages_in_due_order() -> TestResult {
    on_postgres_url("open_claim", a_claim_walks_the_open_messages_in_due_order).await
}
