//! A day at the till, end to end through the use cases: earn, buy a reward, redeem its
//! voucher, refund, and a ledger that still adds up.

use crate::targets;
use regulars_domain::{EventKey, Refund, RefundScope};
use regulars_service::{RedeemVoucherError, UseCaseError};
use regulars_tests::order;
use time::{Duration, OffsetDateTime};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earn_spend_redeem_refund_and_the_ledger_adds_up() {
    for target in targets("flow").await {
        let w = &target.world;
        let now = OffsetDateTime::now_utc() - Duration::hours(3);
        // Two visits: the first earns the welcome bonus too.
        let first = w
            .services
            .ingest_order(w.brand, order(w.brand, "A-1", 7, now, 5))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", target.name));
        let second = w
            .services
            .ingest_order(
                w.brand,
                order(w.brand, "A-2", 7, now + Duration::hours(1), 2),
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", target.name));
        let customer = second.customer_id.unwrap_or_else(|| panic!("customer"));
        assert_eq!(first.customer_id, Some(customer));
        let earned = first.points_earned.value() + second.points_earned.value();
        assert_eq!(second.balance.map(|b| b.value()), Some(earned));

        // The till looks the customer up by the number as typed.
        let view = w
            .services
            .customer_lookup(w.brand, "+84 90 000 0007")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", target.name));
        assert_eq!(view.customer.id, customer);
        assert!(!view.redeemable_rewards.is_empty());

        // Buy the reward, redeem the voucher at the till; a second scan is refused.
        let voucher = w
            .services
            .redeem_reward(w.brand, customer, w.reward)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", target.name));
        let code = voucher.code().to_string();
        let till = EventKey::new("pos:generic", "A-3").unwrap_or_else(|e| panic!("{e}"));
        w.services
            .redeem_voucher(w.brand, &code, Some(till))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", target.name));
        let again = w.services.redeem_voucher(w.brand, &code, None).await;
        assert!(
            matches!(again, Err(RedeemVoucherError::Refused { .. })),
            "{again:?}"
        );

        // A bad phone is a clear error naming the field.
        let bad = w.services.customer_lookup(w.brand, "12345").await;
        assert_eq!(bad.err().and_then(|e| e.field()), Some("phone"));

        // Refund the second order fully: exactly its points come back out.
        let refund = w
            .services
            .refund_order(
                w.brand,
                Refund {
                    brand_id: w.brand,
                    key: EventKey::new("pos:generic", "R-2").unwrap_or_else(|e| panic!("{e}")),
                    order: EventKey::new("pos:generic", "A-2").unwrap_or_else(|e| panic!("{e}")),
                    refunded_at: now + Duration::hours(2),
                    scope: RefundScope::Full,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", target.name));
        assert_eq!(
            refund.points_reversed.value() + refund.points_unrecovered.value(),
            second.points_earned.value(),
            "{}: the refund reverses exactly what the order earned",
            target.name
        );
        let report = w
            .services
            .check_ledger(Some(w.brand))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            report.mismatches.is_empty() && report.invalid.is_empty(),
            "{report:?}"
        );
    }
}

/// Importing history in batches gives every order exactly the receipt it gets alone —
/// including a duplicate inside the batch and a bad order, which sends its batch down
/// the one-by-one path — and leaves the same balances.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_ingestion_equals_one_by_one() {
    let alone = targets("batch_alone").await;
    let batched = targets("batch_together").await;
    for (a, b) in alone.iter().zip(&batched) {
        let start = OffsetDateTime::now_utc() - Duration::days(20);
        let history = |brand| {
            let mut orders: Vec<_> = (0..40u64)
                .map(|i| {
                    order(
                        brand,
                        &format!("H-{i}"),
                        i % 6,
                        start + Duration::hours(7 * i as i64),
                        1 + (i % 4) as usize,
                    )
                })
                .collect();
            orders.insert(10, orders[3].clone()); // delivered twice within one batch
            let mut bad = orders[30].clone();
            bad.key.external_id = "H-bad".into();
            bad.lines.clear(); // refused: an order has at least one line
            orders.insert(31, bad);
            orders
        };
        let wa = &a.world;
        let wb = &b.world;
        let mut one_by_one = Vec::new();
        for o in history(wa.brand) {
            one_by_one.push(wa.services.ingest_order(wa.brand, o).await);
        }
        let mut together = Vec::new();
        for chunk in history(wb.brand).chunks(16) {
            together.extend(wb.services.ingest_orders(wb.brand, chunk).await);
        }
        assert_eq!(one_by_one.len(), together.len());
        for (i, (x, y)) in one_by_one.iter().zip(&together).enumerate() {
            match (x, y) {
                (Ok(x), Ok(y)) => {
                    assert_eq!(x.points_earned, y.points_earned, "{}: order {i}", a.name);
                    assert_eq!(x.balance, y.balance, "{}: order {i}", a.name);
                    assert_eq!(x.duplicate, y.duplicate, "{}: order {i}", a.name);
                    assert_eq!(x.tier, y.tier, "{}: order {i}", a.name);
                }
                (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string(), "{}", a.name),
                _ => panic!("{}: order {i}: {x:?} vs {y:?}", a.name),
            }
        }
        assert!(
            together.iter().filter(|r| r.is_err()).count() == 1,
            "{}",
            a.name
        );
        assert!(
            together
                .iter()
                .filter(|r| matches!(r, Ok(x) if x.duplicate))
                .count()
                == 1,
            "{}",
            a.name
        );
        let report = wb
            .services
            .check_ledger(Some(wb.brand))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            report.mismatches.is_empty() && report.invalid.is_empty(),
            "{report:?}"
        );
    }
}
