//! Concurrency claims, tested rather than argued: many tasks at once against one account,
//! one voucher, one order. On PostgreSQL the tasks really run in parallel transactions;
//! on SQLite they queue for the single writer.

use crate::targets;
use regulars_domain::{Currency, CustomerId, EventKey, Money, Points, Refund, RefundScope};
use regulars_ports::Role;
use regulars_service::{AccessError, RedeemRewardError, RedeemVoucherError, RefundError};
use regulars_tests::{REWARD_COST, World, order};
use std::sync::Arc;
use time::OffsetDateTime;

async fn customer_with_points(world: &World, n: u64, extra: i64) -> (CustomerId, Points) {
    let now = OffsetDateTime::now_utc();
    let receipt = world
        .services
        .ingest_order(
            world.brand,
            order(world.brand, &format!("seed-{n}"), n, now, 2),
        )
        .await
        .unwrap_or_else(|e| panic!("seed order: {e}"));
    let customer = receipt
        .customer_id
        .unwrap_or_else(|| panic!("seed order has a phone"));
    let adjusted = world
        .services
        .adjust_points(
            world.brand,
            customer,
            Points::new(extra),
            "test credit",
            "tests",
        )
        .await
        .unwrap_or_else(|e| panic!("credit: {e}"));
    (customer, adjusted.balance)
}

async fn assert_ledger_clean(world: &World) {
    let report = world
        .services
        .check_ledger(Some(world.brand))
        .await
        .unwrap_or_else(|e| panic!("check ledger: {e}"));
    assert!(
        report.mismatches.is_empty() && report.invalid.is_empty(),
        "ledger check: {report:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_tasks_spending_one_balance_never_overdraw() {
    for target in targets("spend").await {
        let world = Arc::new(target.world);
        let (customer, balance) = customer_with_points(&world, 1, 1_000).await;
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let world = world.clone();
                tokio::spawn(async move {
                    world
                        .services
                        .redeem_reward(world.brand, customer, world.reward)
                        .await
                })
            })
            .collect();
        let mut won = 0i64;
        for task in tasks {
            match task.await.unwrap_or_else(|e| panic!("task: {e}")) {
                Ok(_) => won += 1,
                Err(RedeemRewardError::InsufficientPoints { .. }) => {}
                Err(other) => panic!("{}: unexpected error {other:?}", target.name),
            }
        }
        let expected = (balance.value() / REWARD_COST).min(50);
        assert_eq!(won, expected, "{}: successful redemptions", target.name);
        let view = world
            .services
            .customer_view(world.brand, customer)
            .await
            .unwrap_or_else(|e| panic!("view: {e}"));
        assert_eq!(
            view.balance.value(),
            balance.value() - won * REWARD_COST,
            "{}: final balance",
            target.name
        );
        assert!(view.balance.value() >= 0);
        assert_ledger_clean(&world).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_tasks_redeeming_one_voucher_redeem_it_once() {
    for target in targets("voucher").await {
        let world = Arc::new(target.world);
        let (customer, _) = customer_with_points(&world, 2, 100).await;
        let voucher = world
            .services
            .redeem_reward(world.brand, customer, world.reward)
            .await
            .unwrap_or_else(|e| panic!("buy voucher: {e}"));
        let code = voucher.code().as_str().to_owned();
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let world = world.clone();
                let code = code.clone();
                tokio::spawn(async move {
                    let till = regulars_domain::EventKey::new("pos:generic", format!("till-{i}"))
                        .unwrap_or_else(|e| panic!("{e}"));
                    world
                        .services
                        .redeem_voucher(world.brand, &code, Some(till))
                        .await
                })
            })
            .collect();
        let (mut redeemed, mut refused) = (0, 0);
        for task in tasks {
            match task.await.unwrap_or_else(|e| panic!("task: {e}")) {
                Ok(_) => redeemed += 1,
                Err(RedeemVoucherError::Refused { reason, .. }) => {
                    assert!(
                        reason.to_string().contains("already redeemed"),
                        "{}: refusal says why: {reason}",
                        target.name
                    );
                    refused += 1;
                }
                Err(other) => panic!("{}: unexpected error {other:?}", target.name),
            }
        }
        assert_eq!((redeemed, refused), (1, 49), "{}", target.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_order_delivered_twenty_times_at_once_earns_once() {
    for target in targets("dupes").await {
        let world = Arc::new(target.world);
        let the_order = order(world.brand, "HD-0001", 3, OffsetDateTime::now_utc(), 5);
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let world = world.clone();
                let the_order = the_order.clone();
                tokio::spawn(
                    async move { world.services.ingest_order(world.brand, the_order).await },
                )
            })
            .collect();
        let mut receipts = Vec::new();
        for task in tasks {
            receipts.push(
                task.await
                    .unwrap_or_else(|e| panic!("task: {e}"))
                    .unwrap_or_else(|e| panic!("{}: ingest: {e}", target.name)),
            );
        }
        let first: Vec<_> = receipts.iter().filter(|r| !r.duplicate).collect();
        assert_eq!(
            first.len(),
            1,
            "{}: exactly one delivery applied",
            target.name
        );
        let earned = first[0].points_earned;
        assert!(earned.is_positive());
        for r in &receipts {
            assert_eq!(r.order_id, first[0].order_id);
            assert_eq!(
                r.points_earned, earned,
                "duplicates return the first receipt"
            );
        }
        let customer = first[0].customer_id.unwrap_or_else(|| panic!("customer"));
        let view = world
            .services
            .customer_view(world.brand, customer)
            .await
            .unwrap_or_else(|e| panic!("view: {e}"));
        assert_eq!(view.balance, earned, "{}: earned once", target.name);
        assert_eq!(view.stats.visits, 1, "{}: one visit", target.name);
        assert_ledger_clean(&world).await;
    }
}

/// Twenty partial refunds of one order at once: each reads the order's refunded total,
/// so without a lock on the order (or a conditional update) two of them can both build on
/// the same stale total, refund more than the order paid and leave points unreversed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_partial_refunds_at_once_never_refund_more_than_the_order() {
    const PART: i64 = 20_000;
    for target in targets("refunds").await {
        let world = Arc::new(target.world);
        let placed = order(world.brand, "R-0001", 4, OffsetDateTime::now_utc(), 5);
        let receipt = world
            .services
            .ingest_order(world.brand, placed.clone())
            .await
            .unwrap_or_else(|e| panic!("{}: ingest: {e}", target.name));
        let customer = receipt.customer_id.unwrap_or_else(|| panic!("customer"));
        let earned = receipt.points_earned.value();
        assert!(earned > 0);
        let total = placed
            .total
            .to_minor_units()
            .unwrap_or_else(|e| panic!("{e}"));
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let world = world.clone();
                let order_key = placed.key.clone();
                tokio::spawn(async move {
                    let refund = Refund {
                        brand_id: world.brand,
                        key: EventKey::new("pos:generic", format!("RF-{i}"))
                            .unwrap_or_else(|e| panic!("{e}")),
                        order: order_key,
                        refunded_at: OffsetDateTime::now_utc(),
                        scope: RefundScope::Amount {
                            amount: Money::from_minor_units(PART, Currency::VND),
                        },
                    };
                    world.services.refund_order(world.brand, refund).await
                })
            })
            .collect();
        let mut accepted = Vec::new();
        for task in tasks {
            match task.await.unwrap_or_else(|e| panic!("task: {e}")) {
                Ok(receipt) => accepted.push(receipt),
                Err(RefundError::ExceedsOrder { .. } | RefundError::AlreadyRefunded { .. }) => {}
                Err(other) => panic!("{}: unexpected error {other:?}", target.name),
            }
        }
        let refunded = PART * i64::try_from(accepted.len()).unwrap_or(i64::MAX);
        assert!(refunded <= total, "{}: {refunded} > {total}", target.name);
        assert_eq!(
            refunded,
            total - total % PART,
            "{}: every refund that fits is accepted",
            target.name
        );
        let mut totals: Vec<i64> = accepted
            .iter()
            .map(|r| {
                r.refunded_total
                    .to_minor_units()
                    .unwrap_or_else(|e| panic!("{e}"))
            })
            .collect();
        totals.sort_unstable();
        let expected: Vec<i64> = (1..=accepted.len())
            .map(|n| PART * i64::try_from(n).unwrap_or(i64::MAX))
            .collect();
        assert_eq!(totals, expected, "{}: each builds on the last", target.name);
        let stored = world
            .services
            .order(world.brand, receipt.order_id)
            .await
            .unwrap_or_else(|e| panic!("order: {e}"));
        assert_eq!(
            stored
                .refunded
                .to_minor_units()
                .unwrap_or_else(|e| panic!("{e}")),
            refunded,
            "{}",
            target.name
        );
        let reversed: i64 = accepted.iter().map(|r| r.points_reversed.value()).sum();
        let owed = i64::try_from(i128::from(earned) * i128::from(refunded) / i128::from(total))
            .unwrap_or(i64::MAX);
        assert_eq!(reversed, owed, "{}: points reversed", target.name);
        let view = world
            .services
            .customer_view(world.brand, customer)
            .await
            .unwrap_or_else(|e| panic!("view: {e}"));
        assert_eq!(view.balance.value(), earned - owed, "{}", target.name);
        assert_ledger_clean(&world).await;
    }
}

/// Two admins revoking each other at the same moment: each alone may revoke the other,
/// but not both, or the brand is left without an admin key.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_admins_revoking_each_other_at_once_leave_one_admin() {
    for target in targets("admins").await {
        let world = Arc::new(target.world);
        for round in 0..10 {
            let mut ids = Vec::new();
            for _ in 0..2 {
                let created = world
                    .services
                    .create_api_key(world.brand, Role::Admin, None)
                    .await
                    .unwrap_or_else(|e| panic!("create key: {e}"));
                ids.push(created.info.id);
            }
            // Only these two admins are active: revoke every other admin first.
            for key in world
                .services
                .api_keys(world.brand)
                .await
                .unwrap_or_else(|e| panic!("keys: {e}"))
            {
                if key.revoked_at.is_none() && !ids.contains(&key.id) {
                    world
                        .services
                        .revoke_api_key(world.brand, key.id)
                        .await
                        .unwrap_or_else(|e| panic!("revoke: {e}"));
                }
            }
            let tasks: Vec<_> = ids
                .iter()
                .map(|&id| {
                    let world = world.clone();
                    tokio::spawn(
                        async move { world.services.revoke_api_key(world.brand, id).await },
                    )
                })
                .collect();
            let mut revoked = 0;
            for task in tasks {
                match task.await.unwrap_or_else(|e| panic!("task: {e}")) {
                    Ok(()) => revoked += 1,
                    Err(AccessError::LastAdminKey) => {}
                    Err(other) => panic!("{}: unexpected error {other:?}", target.name),
                }
            }
            assert_eq!(revoked, 1, "{} round {round}: one revocation", target.name);
            let active_admins = world
                .services
                .api_keys(world.brand)
                .await
                .unwrap_or_else(|e| panic!("keys: {e}"))
                .iter()
                .filter(|k| k.role == Role::Admin && k.revoked_at.is_none())
                .count();
            assert_eq!(active_admins, 1, "{} round {round}", target.name);
        }
    }
}
