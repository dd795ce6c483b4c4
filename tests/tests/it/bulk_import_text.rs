//! Text an import writes set-wise comes back exactly as it was sent, on both databases:
//! on PostgreSQL the rows of a chunk travel as one JSON value per table, so quotes,
//! backslashes, slashes and characters beyond ASCII in ids, names and modifiers must
//! survive the trip, and a second import of the same orders must find them all known.

#![allow(clippy::unwrap_used)]

use crate::targets;
use regulars_domain::{EventKey, Order};
use regulars_ports::UnitOfWork;
use regulars_tests::order;
use time::{Duration, OffsetDateTime};

/// Names and ids as awkward as a real till's: quotes, backslashes, a JSON-looking
/// fragment, Vietnamese, an emoji, a line separator.
const AWKWARD: [&str; 4] = [
    "Trà \"đặc biệt\" \\ mới",
    "{\"sku\": 1} /* ' */",
    "Cà phê sữa đá 😀",
    "a\u{2028}b \\\\ c",
];

fn awkward_orders(brand: regulars_domain::BrandId, at: OffsetDateTime) -> Vec<Order> {
    AWKWARD
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let mut o = order(
                brand,
                &format!("T-{i}-{text}"),
                4_300_000 + i as u64 % 2,
                at + Duration::hours(i as i64),
                2,
            );
            for line in &mut o.lines {
                line.name = format!("{} {text}", line.name);
                line.category = Some((*text).to_owned());
                for m in &mut line.modifiers {
                    m.name = (*text).to_owned();
                }
            }
            o
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_text_comes_back_exactly() {
    for target in targets("bulk_import_text").await {
        let name = target.name;
        let w = &target.world;
        let brand = w.brand;
        let orders = awkward_orders(brand, OffsetDateTime::now_utc() - Duration::days(3));
        let imported = w.services.import_orders(brand, &orders).await;
        for (o, result) in orders.iter().zip(&imported) {
            let receipt = result.as_ref().unwrap();
            assert!(!receipt.duplicate, "{name}: {}", o.key.external_id);
        }
        let store: &dyn UnitOfWork = w.store.as_ref();
        let mut tx = store.begin().await.unwrap();
        for o in &orders {
            let key = EventKey {
                source: o.key.source.clone(),
                external_id: o.key.external_id.clone(),
            };
            let stored = tx.orders().order_by_key(brand, &key).await.unwrap();
            let stored = stored.unwrap_or_else(|| panic!("{name}: {key:?} not stored"));
            assert_eq!(stored.order.lines, o.lines, "{name}: {key:?}");
            assert!(stored.customer_id.is_some(), "{name}: {key:?}");
        }
        tx.rollback().await.unwrap();
        let again = w.services.import_orders(brand, &orders).await;
        for (first, second) in imported.iter().zip(&again) {
            let (first, second) = (first.as_ref().unwrap(), second.as_ref().unwrap());
            assert!(second.duplicate, "{name}: counted twice");
            assert_eq!(first.order_id, second.order_id, "{name}");
            assert_eq!(first.points_earned, second.points_earned, "{name}");
        }
        let report = w.services.check_ledger(Some(brand)).await.unwrap();
        assert!(
            report.mismatches.is_empty() && report.invalid.is_empty(),
            "{name}: {report:?}"
        );
    }
}
