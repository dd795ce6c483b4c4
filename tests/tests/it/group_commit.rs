//! Group commit over real HTTP: sixteen tills at once share transactions and commits,
//! and nothing about an order's outcome may tell. Every acknowledged order is stored
//! exactly once, refused orders leave nothing and fail no neighbour, repeats answer
//! `duplicate`, one customer's orders from many tills never deadlock (PostgreSQL runs
//! several groups at once), and each balance equals what delivering the same orders one
//! by one gives.

use crate::pos::order_data;
use crate::server::{TestServer, dbs, spawn_configured};
use regulars::system::SystemClock;
use regulars_tests::phone;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use time::OffsetDateTime;

const CLIENTS: usize = 16;
const ORDERS_PER_CLIENT: usize = 15;
const CUSTOMERS: usize = 24;

/// What one till sends, in its own order: its orders, one of them twice, and one reusing
/// an id with other contents (refused inside the group, by the stored record).
fn till_orders(client: usize, at: OffsetDateTime) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for n in 0..ORDERS_PER_CLIENT {
        let id = format!("GC-{client}-{n}");
        // Every till serves every customer: one customer's orders come from many tills.
        let customer = phone(7_000_000 + ((client * 7 + n) % CUSTOMERS) as u64);
        out.push((id, order_data("", Some(customer.as_str()), at, 1 + n % 3)));
    }
    for (id, body) in &mut out {
        body["order_id"] = Value::from(id.clone());
    }
    let again = out[2].clone();
    out.push(again);
    let mut other = out[0].1.clone();
    other["lines"][0]["quantity"] = Value::from(9);
    other["total"] = Value::from("999000");
    out.push((format!("GC-{client}-0"), other));
    out
}

/// How a till's order was answered.
#[derive(Debug)]
enum Answer {
    Counted { customer: String, points: i64 },
    Duplicate,
    Refused(String),
}

async fn send(server: &TestServer, admin: &str, body: &Value) -> Answer {
    let reply = server.post("/v1/orders", admin, body).await;
    match reply.status {
        200 if reply.json["duplicate"] == true => Answer::Duplicate,
        200 => Answer::Counted {
            customer: reply.str("/customer_id"),
            points: reply.int("/points_earned"),
        },
        422 | 409 => Answer::Refused(reply.str("/error/code")),
        other => panic!("{:?}: unexpected {other}: {}", server.db, reply.text),
    }
}

async fn program(server: &TestServer, name: &str) -> String {
    let tenant = server.tenant(name).await;
    let rules: Value =
        serde_json::from_str(regulars_tests::RULES).unwrap_or_else(|e| panic!("{e}"));
    server
        .put("/v1/program/earning-rules", &tenant.admin, &rules)
        .await
        .expect(200, "rules");
    tenant.admin
}

/// Every stored order's id with how many times it is listed.
async fn stored_orders(server: &TestServer, admin: &str) -> BTreeMap<String, usize> {
    let mut found = BTreeMap::new();
    for item in server.walk("/v1/orders", admin, 100, "id").await {
        let id = item["external_id"].as_str().unwrap_or_default().to_owned();
        *found.entry(id).or_default() += 1;
    }
    found
}

/// Each customer's balance, by phone.
async fn balances(server: &TestServer, admin: &str) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for item in server.walk("/v1/customers", admin, 100, "id").await {
        let phone = item["phone"].as_str().unwrap_or_default().to_owned();
        let id = item["id"].as_str().unwrap_or_default();
        let view = server
            .get(&format!("/v1/customers/{id}"), admin)
            .await
            .expect(200, "customer");
        out.insert(phone, view.int("/balance"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_tills_at_once_count_each_order_once_as_one_by_one_delivery_would() {
    for db in dbs() {
        // Sixteen tills on one key exceed the per-key limit's burst; what is under test
        // here is the commit, not the limit.
        let server = Arc::new(
            spawn_configured(
                db,
                |s| {
                    s.rate_limit = None;
                    // On for PostgreSQL too, which runs without it by default.
                    s.ingest.group_commit = Some(true);
                },
                Arc::new(SystemClock),
            )
            .await,
        );
        let admin = program(&server, "Busy").await;
        let at = OffsetDateTime::now_utc() - time::Duration::hours(1);

        let tasks: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let (server, admin) = (server.clone(), admin.clone());
                tokio::spawn(async move {
                    let mut answers = Vec::new();
                    for (id, body) in till_orders(client, at) {
                        answers.push((id, send(&server, &admin, &body).await));
                    }
                    answers
                })
            })
            .collect();
        let mut counted: BTreeMap<String, (String, i64)> = BTreeMap::new();
        let mut points: BTreeMap<String, i64> = BTreeMap::new();
        let (mut duplicates, mut refused) = (0, BTreeSet::new());
        for task in tasks {
            for (id, answer) in task.await.unwrap_or_else(|e| panic!("till: {e}")) {
                match answer {
                    Answer::Counted {
                        customer,
                        points: p,
                    } => {
                        *points.entry(customer.clone()).or_default() += p;
                        let first = counted.insert(id.clone(), (customer, p));
                        assert!(first.is_none(), "{db:?}: {id} counted twice");
                    }
                    Answer::Duplicate => duplicates += 1,
                    Answer::Refused(code) => {
                        refused.insert((id, code));
                    }
                }
            }
        }
        assert_eq!(counted.len(), CLIENTS * ORDERS_PER_CLIENT, "{db:?}");
        assert_eq!(
            duplicates, CLIENTS,
            "{db:?}: each repeat answered duplicate"
        );
        // The reused ids, each refused on its own.
        assert_eq!(refused.len(), CLIENTS, "{db:?}: {refused:?}");
        assert!(refused.iter().all(|(_, code)| code == "key_reused"));

        let stored = stored_orders(&server, &admin).await;
        assert_eq!(stored.len(), counted.len(), "{db:?}: stored orders");
        assert!(stored.values().all(|n| *n == 1), "{db:?}: an order twice");
        assert!(counted.keys().all(|id| stored.contains_key(id)), "{db:?}");
        server.assert_ledger_clean().await;

        // The same orders one by one, for another brand: the same balances.
        let alone = program(&server, "One by one").await;
        for client in 0..CLIENTS {
            for (_, body) in till_orders(client, at) {
                send(&server, &alone, &body).await;
            }
        }
        let (busy, one_by_one) = (
            balances(&server, &admin).await,
            balances(&server, &alone).await,
        );
        assert_eq!(busy.len(), CUSTOMERS, "{db:?}");
        assert_eq!(busy, one_by_one, "{db:?}: balances");
        let earned: i64 = points.values().sum();
        assert_eq!(
            busy.values().sum::<i64>(),
            earned,
            "{db:?}: receipts' points"
        );
        server.assert_ledger_clean().await;
        match Arc::try_unwrap(server) {
            Ok(server) => server.stop().await,
            Err(_) => panic!("{db:?}: a till still holds the server"),
        }
    }
}
