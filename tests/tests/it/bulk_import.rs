//! The set-wise import against feeding the same orders one by one, on both databases:
//! two brands with the same rules get the same orders, one through
//! `Services::import_orders`, the other through `Services::ingest_order` in the same
//! order, and every customer's receipts, ledger entries, stored account state and visit
//! statistics must come out the same; a second import changes nothing, refused orders
//! are refused alike, and a customer with earlier orders continues from them.

#![allow(clippy::unwrap_used)]

use crate::observed::observed;
use crate::targets;
use regulars_domain::{BrandId, Currency, EventKey, Money, Order};
use regulars_loyalty::stamps::{StampCard, StampEarning};
use regulars_ports::UnitOfWork;
use regulars_service::{IngestError, OrderReceipt, Services};
use regulars_tests::{add_brand, order, phone};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

const CUSTOMERS: u64 = 25;

/// Two years of history, a visit every 29 hours, among [`CUSTOMERS`] customers (so lots
/// expire under the 365-day validity and regulars earn their visit bonuses), with the
/// awkward cases of a real file: an order sent twice, an order id reused with other
/// contents, an order in another currency, an order without a phone, an order dated
/// before its customer's last one.
fn history(brand: BrandId, start: OffsetDateTime, count: u64) -> Vec<Order> {
    let mut orders = plain(brand, start, count);
    let twice = orders[10].clone();
    orders.insert(40, twice);
    let mut reused = orders[20].clone();
    reused.total = Money::from_minor_units(999_000, Currency::VND);
    reused.lines[0].quantity = 9;
    orders.insert(60, reused);
    let mut foreign = orders[70].clone();
    foreign.key.external_id = "H-USD".into();
    foreign.total = Money::from_minor_units(500, Currency::USD);
    for line in &mut foreign.lines {
        line.unit_price = Money::from_minor_units(100, Currency::USD);
        for m in &mut line.modifiers {
            m.unit_price = Money::from_minor_units(0, Currency::USD);
        }
    }
    orders.insert(80, foreign);
    let mut walk_in = orders[90].clone();
    walk_in.key.external_id = "H-WALK-IN".into();
    walk_in.customer_phone = None;
    orders.insert(100, walk_in);
    let mut late = orders[120].clone();
    late.key.external_id = "H-LATE".into();
    late.placed_at -= Duration::days(20);
    orders.insert(121, late);
    orders
}

/// `count` orders, a visit every 29 hours among the customers.
fn plain(brand: BrandId, start: OffsetDateTime, count: u64) -> Vec<Order> {
    (0..count)
        .map(|n| {
            let at = start + Duration::hours(29 * n as i64);
            let customer = 4_100_000 + (n * 7) % CUSTOMERS;
            order(brand, &format!("H-{n}"), customer, at, 1 + (n % 4) as usize)
        })
        .collect()
}

fn for_brand(orders: &[Order], brand: BrandId) -> Vec<Order> {
    orders
        .iter()
        .cloned()
        .map(|mut o| {
            o.brand_id = brand;
            o
        })
        .collect()
}

/// A result with what may differ between brands (ids) left out.
fn outcome(result: &Result<OrderReceipt, IngestError>) -> Value {
    match result {
        Ok(r) => json!({
            "points": r.points_earned.value(),
            "balance": r.balance.map(|b| b.value()),
            "tier": r.tier,
            "upgraded": r.upgraded,
            "explanation": serde_json::to_value(&r.explanation).unwrap(),
            "lapsed": r.lapsed,
            "duplicate": r.duplicate,
            "customer": r.customer_id.is_some(),
            "claim_code": r.claim_code.is_some(),
        }),
        Err(e) => json!({ "refused": e.to_string() }),
    }
}

/// Every customer's stored facts: ledger entries, account state, stats, by phone.
async fn stored(store: &dyn UnitOfWork, brand: BrandId) -> Value {
    let mut tx = store.begin().await.unwrap();
    let mut out = serde_json::Map::new();
    for n in 0..CUSTOMERS {
        let phone = phone(4_100_000 + n);
        let Some(customer) = tx
            .customers()
            .customer_by_phone(brand, &phone)
            .await
            .unwrap()
        else {
            continue;
        };
        let entries = tx.ledger().entries(brand, customer.id).await.unwrap();
        let state = tx
            .ledger()
            .stored_account(brand, customer.id)
            .await
            .unwrap()
            .map(|(state, mut tallies)| {
                tallies.sort_by_key(|t| t.key());
                (state, tallies)
            });
        let stats = tx
            .customers()
            .stats(brand, customer.id)
            .await
            .unwrap()
            .map(|mut s| {
                s.customer_id = regulars_domain::CustomerId::from_bytes([0; 16]);
                s
            });
        let head = tx.ledger().lock_account(brand, customer.id).await.unwrap();
        let mut orders = tx
            .orders()
            .orders(brand, Some(customer.id), None, 10_000)
            .await
            .unwrap()
            .into_iter()
            .map(|o| {
                let key = o.order.key.external_id;
                (
                    key,
                    o.points_earned.value(),
                    o.order.placed_at.unix_timestamp(),
                )
            })
            .collect::<Vec<_>>();
        orders.sort();
        out.insert(
            phone.as_str().to_owned(),
            json!({
                "created_at": customer.created_at.unix_timestamp(),
                "entries": serde_json::to_value(&entries).unwrap(),
                "state": serde_json::to_value(&state).unwrap(),
                "stats": serde_json::to_value(&stats).unwrap(),
                "head": serde_json::to_value(head).unwrap(),
                "orders": orders,
            }),
        );
    }
    tx.rollback().await.unwrap();
    Value::Object(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_import_equals_one_by_one() {
    for target in targets("bulk_import").await {
        let name = target.name;
        let w = &target.world;
        let services = &w.services;
        let (bulk, one_by_one) = (w.brand, add_brand(services).await.unwrap().0);
        let start = OffsetDateTime::now_utc() - Duration::days(760);
        // Earlier history of some customers, fed one by one to both brands: the import
        // continues from their stored accounts.
        let earlier: Vec<Order> = plain(bulk, start - Duration::days(30), 12)
            .into_iter()
            .map(|mut o| {
                o.key.external_id = format!("E-{}", o.key.external_id);
                o
            })
            .collect();
        for brand in [bulk, one_by_one] {
            for o in for_brand(&earlier, brand) {
                let _ = services.ingest_order(brand, o).await;
            }
        }
        let orders = history(bulk, start, 600);
        let (observed, log) = observed(&target.url).await;
        let imported = observed.import_orders(bulk, &orders).await;
        let statements = log.lock().map(|l| l.len()).unwrap_or(0);
        // Set-wise: a few statements per table and customer, not a dozen per order.
        assert!(
            statements < 200,
            "{name}: {statements} statements for {} orders",
            orders.len()
        );
        let mut fed = Vec::new();
        for o in for_brand(&orders, one_by_one) {
            fed.push(services.ingest_order(one_by_one, o).await);
        }
        assert_eq!(imported.len(), orders.len(), "{name}");
        for (i, (a, b)) in imported.iter().zip(&fed).enumerate() {
            assert_eq!(
                outcome(a),
                outcome(b),
                "{name}: order {i} ({})",
                orders[i].key.external_id
            );
        }
        let refused = imported.iter().filter(|r| r.is_err()).count();
        assert_eq!(refused, 2, "{name}: the reused id and the foreign currency");
        let store: &dyn UnitOfWork = w.store.as_ref();
        let left = stored(store, bulk).await;
        let right = stored(store, one_by_one).await;
        assert_eq!(
            left.as_object().map(|o| o.len()),
            Some(CUSTOMERS as usize),
            "{name}"
        );
        assert_eq!(left, right, "{name}: the stored accounts differ");
        for brand in [bulk, one_by_one] {
            let report = services.check_ledger(Some(brand)).await.unwrap();
            assert!(
                report.mismatches.is_empty() && report.invalid.is_empty(),
                "{name}: {report:?}"
            );
        }

        // Again: nothing new, every order known (or refused as before), nothing written.
        let again = services.import_orders(bulk, &orders).await;
        for (i, (first, second)) in imported.iter().zip(&again).enumerate() {
            match (first, second) {
                (Ok(a), Ok(b)) => {
                    assert!(b.duplicate, "{name}: order {i} counted twice");
                    assert_eq!(a.order_id, b.order_id, "{name}: order {i}");
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{name}"),
                other => panic!("{name}: order {i}: {other:?}"),
            }
        }
        assert_eq!(stored(store, bulk).await, left, "{name}: a re-import wrote");
        let key = EventKey {
            source: "pos:generic".into(),
            external_id: "H-WALK-IN".into(),
        };
        let mut tx = store.begin().await.unwrap();
        let walk_in = tx.orders().order_by_key(bulk, &key).await.unwrap();
        // Open to a claim under the code on its receipt, as one by one.
        let position = orders.iter().position(|o| o.key == key).unwrap();
        let receipt = imported[position].as_ref().unwrap();
        let code = tx
            .claims()
            .claim_code(bulk, receipt.order_id)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert!(walk_in.is_some_and(|o| o.customer_id.is_none()), "{name}");
        assert!(
            code.is_some() && code == receipt.claim_code,
            "{name}: {code:?}"
        );
    }
}

/// A visit stamp card of `needed` stamps rewarded with `reward`.
fn visit_card(reward: regulars_domain::RewardId, needed: u32) -> StampCard {
    StampCard {
        code: "visits".into(),
        name: "Visits".into(),
        stamps_needed: needed,
        earn: StampEarning::Visit { min_total: None },
        max_per_order: None,
        reward,
        expiry_days: None,
        active: true,
    }
}

/// Each customer's stamps and completed cards, by phone.
async fn stamps_by_customer(services: &Services, brand: BrandId) -> Vec<(u64, u32, u32)> {
    let mut all = Vec::new();
    for n in 0..CUSTOMERS {
        let customer = 4_100_000 + n;
        let Ok(view) = services
            .customer_lookup(brand, &phone(customer).to_string())
            .await
        else {
            continue;
        };
        for card in &view.stamps {
            all.push((customer, card.stamps, card.completed));
        }
    }
    all
}

/// A brand running a stamp card imports through the one-by-one path, so imported orders
/// earn the stamps and vouchers the same orders earn when fed one by one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brand_with_a_stamp_card_gets_its_stamps_on_import() {
    for target in targets("bulk_import_stamps").await {
        let name = target.name;
        let services = &target.world.services;
        let (bulk, bulk_reward) = add_brand(services).await.unwrap();
        let (fed, fed_reward) = add_brand(services).await.unwrap();
        for (brand, reward) in [(bulk, bulk_reward), (fed, fed_reward)] {
            services
                .put_stamp_cards(brand, vec![visit_card(reward, 2)])
                .await
                .unwrap();
        }
        let start = OffsetDateTime::now_utc() - Duration::days(60);
        let orders = plain(bulk, start, 40);
        let imported = services.import_orders(bulk, &orders).await;
        assert!(imported.iter().all(Result::is_ok), "{name}: {imported:?}");
        for o in for_brand(&orders, fed) {
            services.ingest_order(fed, o).await.unwrap();
        }
        let got = stamps_by_customer(services, bulk).await;
        let want = stamps_by_customer(services, fed).await;
        assert!(
            want.iter().any(|(_, _, completed)| *completed > 0),
            "{name}: the history fills cards"
        );
        assert_eq!(got, want, "{name}: stamps after the import");
    }
}
