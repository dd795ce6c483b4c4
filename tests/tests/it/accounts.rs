//! The stored account state on both databases: the order path works from it without
//! reading the customer's history, an account without one is built from its entries on
//! first use, and `check-ledger` compares it with the fold of the entries.

use crate::observed::{observed, taken};
use crate::targets;
use regulars_domain::{EventKey, IntegrationId, Points, Refund, RefundScope};
use regulars_loyalty::ledger::Ledger;
use regulars_loyalty::rules::EarningRules;
use regulars_loyalty::stamps::{StampCard, StampEarning};
use regulars_ports::{IntegrationKind, PosEvent, UnitOfWork, VerifiedEvent};
use regulars_service::{CampaignAction, GroupCommit, Services, WebhookEndpoint, WebhookOutcome};
use regulars_tests::{order, phone};
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// Statements one order of a 2-line order for a regular customer takes on PostgreSQL,
/// `BEGIN` and `COMMIT` aside (and, under group commit, the order's `SAVEPOINT`, whose
/// `RELEASE` travels with the next one: this handle runs each order in a transaction of
/// its own, so it sends none):
///
/// 1. the idempotency record and the customer by phone, one select;
/// 2. the account row, created if missing and locked, with the brand's config version,
///    whether a referral waits for the customer and the first lot to expire (`INSERT …
///    ON CONFLICT DO UPDATE … RETURNING`);
/// 3. the idempotency record again, under the lock, with the stats (one select: a
///    delivery that committed while this one waited shows only now);
/// 4. every write in one data-modifying `WITH`: the order, its lines, the account head
///    and state, the entries, the tallies, the order's new lot, the stats and the
///    idempotency record.
///
/// The brand, its programme and its stamp cards come from the server's memory, checked
/// by the config version the lock read, and so does the word that the brand has no
/// active campaign an order fires (otherwise they are read: one more, the real-time
/// thank-you). The referral is looked up only when the lock says one waits (that order,
/// or one that earns stamps or plans a message, writes one by one). An order that finds
/// lots due also reads them: one more. A new customer's first order inserts the
/// customer: one more (an account that never had an entry is not read, and its writes
/// go in the same one piece).
const PG_STATEMENTS_PER_ORDER: usize = 4;

/// The same order on SQLite, which has no data-modifying `WITH`: the three reads, then
/// the fourth's eight writes as statements run in turn, sent as one query.
const SQLITE_STATEMENTS_PER_ORDER: usize = 4;

/// The statements an order may take on the target's database.
fn statement_limit(name: &str) -> usize {
    if name == "postgres" {
        PG_STATEMENTS_PER_ORDER
    } else {
        SQLITE_STATEMENTS_PER_ORDER
    }
}

/// Takes the statements logged since the last look and checks that `what` read no
/// customer's history and took at most `limit` (`BEGIN` and `COMMIT` aside).
fn within(log: &Mutex<Vec<String>>, name: &str, what: &str, limit: usize) {
    let statements = taken(log);
    assert_eq!(history_reads(&statements), Vec::<&String>::new(), "{name}");
    eprintln!("{name}: {} statements for {what}", statements.len());
    assert!(
        statements.len() <= limit,
        "{name}: {} statements for {what}: {statements:#?}",
        statements.len()
    );
}

/// Statements that read ledger entries (writing them is the point of an order, in a
/// statement of their own or in the `WITH` part of an order's one write).
fn history_reads(statements: &[String]) -> Vec<&String> {
    statements
        .iter()
        .filter(|sql| {
            let sql = sql.replace('"', "");
            sql.contains("FROM ledger_entries") || sql.contains("JOIN ledger_entries")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_and_refunds_read_no_history() {
    for target in targets("accounts_path").await {
        let (name, w) = (target.name, &target.world);
        let (services, log) = observed(&target.url).await;
        // Four hours apart, so the brand's daily cap (150 points) never stops an order.
        let start = OffsetDateTime::now_utc() - Duration::hours(41 * 4);
        for i in 0..40 {
            let placed = start + Duration::hours(4 * i);
            services
                .ingest_order(w.brand, order(w.brand, &format!("H-{i}"), 7, placed, 1))
                .await
                .unwrap_or_else(|e| panic!("{name}: order {i}: {e}"));
        }
        taken(&log);
        let receipt = services
            .ingest_order(
                w.brand,
                order(w.brand, "H-40", 7, start + Duration::hours(160), 2),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: order: {e}"));
        assert!(receipt.points_earned.is_positive(), "{name}: {receipt:?}");
        let limit = statement_limit(name);
        within(
            &log,
            name,
            "an order of a customer with 40 earlier orders",
            limit,
        );

        // Under group commit the order runs inside a savepoint of the group's
        // transaction: the same statements, with its SAVEPOINT and RELEASE around them.
        let grouped = services.clone().with_group_commit(GroupCommit {
            window: std::time::Duration::ZERO,
            max_group: 1,
            writers: 1,
        });
        grouped
            .ingest_order(
                w.brand,
                order(w.brand, "H-41", 7, start + Duration::hours(161), 1),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: grouped order: {e}"));
        let statements = taken(&log);
        let (savepoints, rest): (Vec<&String>, Vec<&String>) = statements
            .iter()
            .partition(|sql| sql.to_ascii_uppercase().contains("SAVEPOINT"));
        eprintln!(
            "{name}: {} statements and {} savepoint statements for a group-committed order",
            rest.len(),
            savepoints.len()
        );
        assert!(rest.len() <= limit, "{name}: {statements:#?}");
        assert!(savepoints.len() <= 2, "{name}: {statements:#?}");

        // A new customer's first order: nothing to read of an account that has never
        // had an entry, and its writes in one piece too; only the customer's insert more.
        let first = services
            .ingest_order(
                w.brand,
                order(w.brand, "N-1", 8, start + Duration::hours(162), 2),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: first order: {e}"));
        assert!(first.points_earned.is_positive(), "{name}: {first:?}");
        within(&log, name, "a new customer's first order", limit + 1);

        let refund = Refund {
            brand_id: w.brand,
            key: EventKey::new("pos:generic", "R-3").unwrap_or_else(|e| panic!("{e}")),
            order: EventKey::new("pos:generic", "H-3").unwrap_or_else(|e| panic!("{e}")),
            refunded_at: OffsetDateTime::now_utc(),
            scope: RefundScope::Full,
        };
        let refunded = services
            .refund_order(w.brand, refund)
            .await
            .unwrap_or_else(|e| panic!("{name}: refund: {e}"));
        assert!(
            refunded.points_reversed.is_positive(),
            "{name}: {refunded:?}"
        );
        assert_eq!(history_reads(&taken(&log)), Vec::<&String>::new(), "{name}");

        let report = w
            .services
            .check_ledger(Some(w.brand))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(report.is_clean(), "{name}: {report:?}");
        // The regular's account and the new customer's, each as its entries fold.
        assert_eq!(report.accounts_checked, 2, "{name}");
    }
}

/// An account whose entries were appended without a stored state (as every account was
/// before the state was kept) is folded from its entries on its next order, and its
/// tallies are stored with it: a later refund finds what its order earned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_without_a_stored_state_is_built_on_first_use() {
    for target in targets("accounts_lazy").await {
        let (name, w) = (target.name, &target.world);
        let start = OffsetDateTime::now_utc() - Duration::minutes(30);
        let first = w
            .services
            .ingest_order(w.brand, order(w.brand, "L-0", 9, start, 1))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let customer = first
            .customer_id
            .unwrap_or_else(|| panic!("{name}: no customer"));

        // A correction appended the old way: the stored state is cleared.
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let head = tx
            .ledger()
            .lock_account(w.brand, customer)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let entries = tx
            .ledger()
            .entries(w.brand, customer)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut ledger = Ledger::from_entries(entries).unwrap_or_else(|e| panic!("{e}"));
        let at = start + Duration::minutes(1);
        let added = ledger
            .adjust(
                Points::new(7),
                at,
                "goodwill",
                "staff:test",
                None,
                regulars_loyalty::ledger::Overdraft::Refuse,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let balance = ledger.balance();
        tx.ledger()
            .append(w.brand, customer, head, &added, balance)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let stored = tx
            .ledger()
            .stored_account(w.brand, customer)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(stored.is_none(), "{name}: the state is cleared");
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));

        w.services
            .ingest_order(
                w.brand,
                order(w.brand, "L-1", 9, start + Duration::minutes(2), 1),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let (state, tallies) = tx
            .ledger()
            .stored_account(w.brand, customer)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("{name}: the state was built"));
        tx.rollback().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(state.next_seq(), 3, "{name}");
        assert_eq!(tallies.len(), 2, "{name}: both orders' tallies");

        let refunded = w
            .services
            .refund_order(
                w.brand,
                Refund {
                    brand_id: w.brand,
                    key: EventKey::new("pos:generic", "LR-0").unwrap_or_else(|e| panic!("{e}")),
                    order: EventKey::new("pos:generic", "L-0").unwrap_or_else(|e| panic!("{e}")),
                    refunded_at: OffsetDateTime::now_utc(),
                    scope: RefundScope::Full,
                },
            )
            .await;
        let refunded = refunded.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(refunded.points_reversed, first.points_earned, "{name}");
        let report = w
            .services
            .check_ledger(Some(w.brand))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(report.is_clean(), "{name}: {report:?}");
    }
}

/// Earning rules that credit `points` per 10,000 VND spent, and nothing else.
fn flat_rules(points: i64) -> EarningRules {
    EarningRules::from_json(&format!(
        r#"{{"currency": "VND",
            "base": {{"label": "Flat", "per_amount": "10000", "points": {points}, "rounding": "floor"}}}}"#
    ))
    .unwrap_or_else(|e| panic!("rules: {e}"))
}

/// Servers keep the brand and its programme in memory between orders; a rule change,
/// made through one server (one connection pool) or another, is honoured by the very
/// next order on every server, on both databases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_change_is_honoured_by_the_next_order_on_every_server() {
    for target in targets("accounts_rules").await {
        let (name, w) = (target.name, &target.world);
        // A second server: its own pool and its own copy of the brand.
        let (other, _log) = observed(&target.url).await;
        let servers = [("first", &w.services), ("second", &other)];
        let start = OffsetDateTime::now_utc() - Duration::hours(12);
        let mut n = 0;
        // One line of 45,000 + 10,000 VND: 5.5 units of 10,000 (floored), each order by a new
        // customer (no tier multiplier).
        let mut expect_on_both = async |points: i64| {
            for (server, services) in servers {
                for _ in 0..2 {
                    n += 1;
                    let customer = 100 + n as u64;
                    let placed = start + Duration::minutes(n);
                    let receipt = services
                        .ingest_order(
                            w.brand,
                            order(w.brand, &format!("V-{n}"), customer, placed, 1),
                        )
                        .await
                        .unwrap_or_else(|e| panic!("{name}: {server}: {e}"));
                    assert_eq!(
                        receipt.points_earned,
                        Points::new(55 * points / 10),
                        "{name}: order {n} on the {server} server, customer {customer}"
                    );
                }
            }
        };
        let set = |services: &Services, points: i64| {
            let services = services.clone();
            async move {
                services
                    .set_earning_rules(w.brand, flat_rules(points))
                    .await
                    .unwrap_or_else(|e| panic!("{name}: set rules: {e}"));
            }
        };
        set(&w.services, 1).await;
        expect_on_both(1).await;
        // Changed through the first server: the second's copy is stale.
        set(&w.services, 3).await;
        expect_on_both(3).await;
        // Changed through the second server: the first's copy is stale.
        set(&other, 2).await;
        expect_on_both(2).await;
    }
}

/// Stamp cards are kept in the server's memory with the brand: a change made through
/// another server (here another handle, with its own memory) moves the config version,
/// so the next order here earns on the new card without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stamp_card_changed_elsewhere_counts_from_the_next_order() {
    for target in targets("accounts_cards").await {
        let (name, w) = (target.name, &target.world);
        let (services, _log) = observed(&target.url).await;
        let start = OffsetDateTime::now_utc() - Duration::hours(10);
        services
            .ingest_order(w.brand, order(w.brand, "C-0", 5, start, 1))
            .await
            .unwrap_or_else(|e| panic!("{name}: first order: {e}"));
        let card = StampCard {
            code: "visits".into(),
            name: "Visits".into(),
            stamps_needed: 5,
            earn: StampEarning::Visit { min_total: None },
            max_per_order: None,
            reward: w.reward,
            expiry_days: None,
            active: true,
        };
        w.services
            .put_stamp_cards(w.brand, vec![card])
            .await
            .unwrap_or_else(|e| panic!("{name}: cards: {e}"));
        services
            .ingest_order(
                w.brand,
                order(w.brand, "C-1", 5, start + Duration::hours(4), 1),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: second order: {e}"));
        let view = services
            .customer_lookup(w.brand, &phone(5).to_string())
            .await
            .unwrap_or_else(|e| panic!("{name}: lookup: {e}"));
        let stamps: Vec<u32> = view.stamps.iter().map(|card| card.stamps).collect();
        assert_eq!(stamps, vec![1], "{name}: {view:?}");
    }
}

/// A server remembers that a brand has no campaign its orders fire, under the brand's
/// config version, and skips that read while the version holds. A thank-you campaign
/// launched through another server moves the version: the next order here plans its
/// message. Pausing it there stops the next one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_launched_elsewhere_plans_from_the_next_order() {
    for target in targets("accounts_campaigns").await {
        let (name, w) = (target.name, &target.world);
        let (here, log) = observed(&target.url).await;
        let start = OffsetDateTime::now_utc() - Duration::hours(3);
        let messages = async || {
            let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
            let all = tx
                .outbox()
                .messages(w.brand, None, None, 100)
                .await
                .unwrap_or_else(|e| panic!("{name}: outbox: {e}"));
            tx.rollback().await.unwrap_or_else(|e| panic!("{e}"));
            all.len()
        };
        let campaign_reads = |log: &Mutex<Vec<String>>| {
            taken(log)
                .iter()
                .filter(|sql| sql.replace('"', "").contains("FROM campaigns"))
                .count()
        };
        let mut n = 0;
        let mut order_here = async || {
            n += 1;
            here.ingest_order(
                w.brand,
                order(
                    w.brand,
                    &format!("Q-{n}"),
                    500 + n,
                    start + Duration::minutes(n as i64),
                    1,
                ),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: order {n}: {e}"));
        };
        order_here().await;
        taken(&log);
        // No campaign: the second order does not look for one.
        order_here().await;
        assert_eq!(campaign_reads(&log), 0, "{name}");
        assert_eq!(messages().await, 0, "{name}");

        let record = w
            .services
            .create_campaign(
                w.brand,
                &serde_json::json!({"name": "Cảm ơn", "trigger": {"type": "after_purchase"},
                    "template": "Cảm ơn bạn đã ghé!", "channels": ["sms"], "holdout": 0.0}),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: campaign: {e}"));
        let status = |action| {
            let services = w.services.clone();
            async move {
                services
                    .set_campaign_status(w.brand, record.id, action)
                    .await
                    .unwrap_or_else(|e| panic!("{name}: campaign status: {e}"));
            }
        };
        status(CampaignAction::Launch).await;
        order_here().await;
        assert_eq!(
            messages().await,
            1,
            "{name}: the thank-you of the next order"
        );
        status(CampaignAction::Pause).await;
        order_here().await;
        assert_eq!(messages().await, 1, "{name}: nothing once paused");
    }
}

/// A POS webhook's order costs what an API order costs: its event id and the order's
/// keys are read with the customer in the first select, and the event is remembered in
/// the order's one write — then a replay is answered from that record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_order_takes_the_statements_of_an_api_order() {
    for target in targets("accounts_webhook").await {
        let (name, w) = (target.name, &target.world);
        let (services, log) = observed(&target.url).await;
        let settings = {
            let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
            let brand = tx.brands().brand(w.brand).await;
            tx.rollback().await.unwrap_or_else(|e| panic!("{e}"));
            brand
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .unwrap_or_else(|| panic!("{name}: the brand"))
        };
        let endpoint = WebhookEndpoint {
            brand: w.brand,
            integration: IntegrationId::from_uuid(uuid::Uuid::now_v7()),
            kind: IntegrationKind::Generic,
            secret: b"accounts-webhook-secret".to_vec(),
            access: None,
            settings,
        };
        let start = OffsetDateTime::now_utc() - Duration::hours(20);
        let paid = |n: i64| VerifiedEvent {
            event_id: format!("evt-W-{n}"),
            occurred_at: start + Duration::hours(4 * n),
            source: "pos:generic",
            customer_ref: None,
            event: PosEvent::Order(order(
                w.brand,
                &format!("W-{n}"),
                9,
                start + Duration::hours(4 * n),
                2,
            )),
        };
        let received = services
            .receive_webhook(&endpoint, paid(0))
            .await
            .unwrap_or_else(|e| panic!("{name}: first: {e}"));
        assert!(!received.replayed, "{name}");
        taken(&log);
        let received = services
            .receive_webhook(&endpoint, paid(1))
            .await
            .unwrap_or_else(|e| panic!("{name}: second: {e}"));
        within(&log, name, "a webhook order", statement_limit(name));
        let WebhookOutcome::Order { receipt } = &received.outcome else {
            panic!("{name}: {received:?}");
        };
        assert!(receipt.points_earned.is_positive(), "{name}: {receipt:?}");
        let again = services
            .receive_webhook(&endpoint, paid(1))
            .await
            .unwrap_or_else(|e| panic!("{name}: replay: {e}"));
        assert!(again.replayed, "{name}: {again:?}");
        assert_eq!(again.outcome, received.outcome, "{name}");
    }
}
