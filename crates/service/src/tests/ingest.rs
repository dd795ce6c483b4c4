//! Order in.

use super::*;
use crate::{ErrorClass, IngestError, UseCaseError};
use regulars_domain::DomainError;
use regulars_loyalty::ledger::EntryKind;
use regulars_loyalty::rules::{Cap, LineSource};
use regulars_ports::StoreError;
use regulars_ports::mocks::TxOutcome;

#[tokio::test]
async fn a_first_order_creates_the_customer_and_credits_points() {
    let h = Harness::standard();
    let receipt = h.ingest(order("A-1", 45_000)).await.unwrap();

    assert_eq!(receipt.points_earned, Points::new(45 + 20));
    assert_eq!(receipt.balance, Some(Points::new(65)));
    assert!(!receipt.duplicate && !receipt.lapsed && !receipt.upgraded);
    assert_eq!(receipt.tier, None);
    let lines: Vec<String> = receipt
        .explanation
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "Base rate: +45 (45000 VND at 1 per 1000 VND, floor)",
            "Welcome: +20 (visit 1)"
        ]
    );

    assert_eq!(
        h.fake.take_writes(),
        [
            "insert_customer",
            "insert_order",
            "append",
            "save_stats",
            "remember"
        ]
    );
    assert_eq!(h.fake.outcomes(), [TxOutcome::Committed]);
    let world = h.fake.world();
    let customer = h.customer();
    assert_eq!(receipt.customer_id, Some(customer.id));
    assert_eq!(customer.created_at, t0());
    let account = world.account(BRAND, customer.id);
    assert_eq!(account.balance, Points::new(65));
    // The first entry is numbered 0, as the ledger numbers it, and is read back as written.
    assert_eq!(account.entries.len(), 1);
    assert_eq!(account.entries[0].seq, 0);
    assert_eq!(
        account.entries[0].kind,
        EntryKind::Earn {
            order: key("A-1"),
            expires_at: Some(t0() + days(365)),
            placed_at: None,
        }
    );
    let stats = &world.stats[&(BRAND, customer.id)];
    assert_eq!((stats.visits, stats.spend), (1, vnd(45_000)));
    assert_eq!(
        (stats.first_visit_at, stats.last_visit_at),
        (Some(t0()), Some(t0()))
    );
    assert_eq!(world.orders[0].points_earned, Points::new(65));
    assert_eq!(world.orders[0].id, receipt.order_id);
    assert_eq!(world.idempotency[&(BRAND, key("A-1"))].kind, "order");
}

#[tokio::test]
async fn a_second_delivery_returns_the_first_receipt_and_writes_nothing() {
    let h = Harness::standard();
    let first = h.given_order(order("A-1", 45_000)).await;
    let before = h.fake.world();

    let second = h.ingest(order("A-1", 45_000)).await.unwrap();

    assert!(second.duplicate);
    assert_eq!(
        second,
        crate::OrderReceipt {
            duplicate: true,
            ..first
        }
    );
    assert!(h.fake.take_writes().is_empty());
    let after = h.fake.world();
    assert_eq!(after.orders, before.orders);
    assert_eq!(after.accounts, before.accounts);
    assert_eq!(after.stats, before.stats);
}

#[tokio::test]
async fn an_order_id_reused_by_another_order_is_refused_not_answered() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await;
    let before = h.fake.world();

    let error = h.ingest(order("A-1", 30_000)).await.unwrap_err();

    assert!(matches!(error, IngestError::OtherOrder { .. }), "{error:?}");
    assert_eq!(error.class(), ErrorClass::Refused);
    assert_eq!(error.code(), Some("key_reused"));
    assert_eq!(error.field(), Some("order_id"));
    assert!(h.fake.take_writes().is_empty());
    assert_eq!(h.fake.world().accounts, before.accounts);
}

#[tokio::test]
async fn a_returning_customer_earns_without_the_welcome_bonus() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await;
    let receipt = h
        .ingest(order_at("A-2", 30_000, t0() + days(2)))
        .await
        .unwrap();
    assert_eq!(receipt.points_earned, Points::new(30));
    assert_eq!(receipt.balance, Some(Points::new(95)));
    assert_eq!(
        h.fake.take_writes(),
        ["insert_order", "append", "save_stats", "remember"]
    );
    let stats = &h.fake.world().stats[&(BRAND, h.customer_id())];
    assert_eq!((stats.visits, stats.spend), (2, vnd(75_000)));
    assert_eq!(stats.last_visit_at, Some(t0() + days(2)));
}

#[tokio::test]
async fn an_order_without_a_phone_is_stored_and_earns_nothing() {
    let h = Harness::standard();
    let mut anonymous = order("A-1", 45_000);
    anonymous.customer_phone = None;
    let receipt = h.ingest(anonymous).await.unwrap();
    assert_eq!(receipt.points_earned, Points::ZERO);
    assert_eq!((receipt.customer_id, receipt.balance), (None, None));
    // It is open to a claim, by the code its receipt prints.
    let code = receipt.claim_code.expect("a claim code");
    assert_eq!(crate::normalize_claim_code(&code), Some(code));
    assert_eq!(
        h.fake.take_writes(),
        ["insert_order", "open_claim", "remember"]
    );
    let world = h.fake.world();
    assert!(world.customers.is_empty() && world.accounts.is_empty());
    assert_eq!(world.orders[0].customer_id, None);
}

#[tokio::test]
async fn a_ledger_failure_after_the_other_writes_leaves_nothing_written() {
    let h = Harness::standard();
    h.fake
        .fail("append", StoreError::Unavailable("connection reset".into()));

    let error = h.ingest(order("A-1", 45_000)).await.unwrap_err();

    assert_eq!(
        error,
        IngestError::Store(StoreError::Unavailable("connection reset".into()))
    );
    assert_eq!(error.class(), ErrorClass::Unavailable);
    // The customer and the order were written in the transaction, then the append failed.
    assert_eq!(
        h.fake.take_writes(),
        ["insert_customer", "insert_order", "append"]
    );
    assert_eq!(h.fake.outcomes(), [TxOutcome::RolledBack]);
    let world = h.fake.world();
    assert!(world.customers.is_empty());
    assert!(world.orders.is_empty());
    assert!(world.accounts.is_empty() && world.stats.is_empty() && world.idempotency.is_empty());
}

#[tokio::test]
async fn entries_the_store_refuses_are_an_internal_error_and_not_retried() {
    let h = Harness::standard();
    h.fake.fail(
        "append",
        StoreError::Invalid("entries do not follow the head".into()),
    );

    let error = h.ingest(order("A-1", 45_000)).await.unwrap_err();

    assert_eq!(error.class(), ErrorClass::Internal);
    assert!(!error.is_conflict());
    assert_eq!(h.fake.outcomes(), [TxOutcome::RolledBack]);
    assert!(h.fake.world().orders.is_empty());
}

#[tokio::test]
async fn a_second_order_continues_the_numbering() {
    let h = Harness::standard();
    h.ingest(order("A-1", 45_000)).await.unwrap();
    let receipt = h
        .ingest(order_at("A-2", 30_000, t0() + days(1)))
        .await
        .unwrap();

    assert_eq!(receipt.balance, Some(Points::new(65 + 30)));
    let entries = h.fake.world().account(BRAND, h.customer_id()).entries;
    assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [0, 1]);
}

#[tokio::test]
async fn a_failed_commit_is_reported_and_nothing_is_applied() {
    let h = Harness::standard();
    h.fake
        .fail("commit", StoreError::Unavailable("commit lost".into()));
    let error = h.ingest(order("A-1", 45_000)).await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::Unavailable);
    assert_ne!(h.fake.outcomes(), [TxOutcome::Committed]);
    assert!(h.fake.world().orders.is_empty());
}

#[tokio::test]
async fn a_concurrent_duplicate_delivery_resolves_to_the_first_receipt() {
    // Another server ingests the same order and commits while this one is midway: this
    // one's order insert hits the unique key, and the retry finds the other's receipt.
    let winner = Harness::standard();
    let first = winner.given_order(order("A-1", 45_000)).await;
    let committed_by_winner = winner.fake.world();

    let h = Harness::standard();
    h.fake.fail_after(
        "insert_order",
        StoreError::Conflict("orders (brand_id, source, external_id)".into()),
        move |world| *world = committed_by_winner,
    );
    let receipt = h.ingest(order("A-1", 45_000)).await.unwrap();

    assert!(receipt.duplicate);
    assert_eq!(receipt.order_id, first.order_id);
    assert_eq!(
        h.fake.outcomes(),
        [TxOutcome::RolledBack, TxOutcome::Committed]
    );
    let world = h.fake.world();
    assert_eq!(world.orders.len(), 1);
    assert_eq!(world.account(BRAND, h.customer_id()).entries.len(), 1);
}

#[tokio::test]
async fn a_customer_created_concurrently_is_found_on_the_retry() {
    let h = Harness::standard();
    let theirs = Customer {
        id: CustomerId::from_bytes([0xC7; 16]),
        brand_id: BRAND,
        phone: phone(),
        name: Some("Lan".into()),
        birthday: None,
        email: None,
        zalo_user_id: None,
        consent: Default::default(),
        created_at: t0(),
    };
    let inserted = theirs.clone();
    h.fake.fail_after(
        "insert_customer",
        StoreError::Conflict("customers (brand_id, phone)".into()),
        move |world| world.customers.push(inserted),
    );

    let receipt = h.ingest(order("A-1", 45_000)).await.unwrap();

    assert_eq!(receipt.customer_id, Some(theirs.id));
    assert_eq!(h.fake.begun(), 2);
    assert_eq!(h.fake.world().customers, [theirs]);
}

#[tokio::test]
async fn conflicts_are_retried_a_bounded_number_of_times() {
    let h = Harness::standard();
    for _ in 0..crate::DEFAULT_MAX_ATTEMPTS {
        h.fake
            .fail("insert_order", StoreError::Conflict("busy".into()));
    }
    let error = h.ingest(order("A-1", 45_000)).await.unwrap_err();
    assert!(error.is_conflict());
    assert_eq!(h.fake.begun(), crate::DEFAULT_MAX_ATTEMPTS);
    assert!(h.fake.outcomes().iter().all(|o| *o != TxOutcome::Committed));
    assert!(h.fake.world().orders.is_empty());
}

#[tokio::test]
async fn a_late_order_is_recorded_after_the_last_entry_and_keeps_its_own_expiry() {
    let h = Harness::standard();
    h.given_order(order_at("A-2", 45_000, t0() + days(1))).await;
    // Placed before A-2, delivered after it.
    let receipt = h.ingest(order("A-1", 10_000)).await.unwrap();
    assert_eq!(receipt.points_earned, Points::new(10));
    let entries = h.fake.world().account(BRAND, h.customer_id()).entries;
    assert_eq!(entries[1].at, t0() + days(1));
    assert_eq!(
        entries[1].kind,
        EntryKind::Earn {
            order: key("A-1"),
            expires_at: Some(t0() + days(365)),
            placed_at: Some(t0()),
        }
    );
    let stats = &h.fake.world().stats[&(BRAND, h.customer_id())];
    assert_eq!(stats.first_visit_at, Some(t0()));
}

#[tokio::test]
async fn a_very_late_order_whose_points_already_expired_credits_nothing() {
    let h = Harness::standard();
    h.given_order(order_at("A-2", 45_000, t0() + days(400)))
        .await;
    let receipt = h.ingest(order("A-1", 10_000)).await.unwrap();
    assert!(receipt.lapsed);
    assert_eq!(receipt.points_earned, Points::ZERO);
    assert_eq!(receipt.explanation[0].points, Points::new(10));
    let world = h.fake.world();
    assert_eq!(world.account(BRAND, h.customer_id()).entries.len(), 1);
    assert_eq!(world.stats[&(BRAND, h.customer_id())].visits, 2);
}

#[tokio::test]
async fn due_lots_are_swept_before_crediting() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await;
    let receipt = h
        .ingest(order_at("A-2", 10_000, t0() + days(366)))
        .await
        .unwrap();
    assert_eq!(receipt.balance, Some(Points::new(10)));
    let entries = h.fake.world().account(BRAND, h.customer_id()).entries;
    // Stored as the ledger numbers them: from 0, the expiry naming the first entry's lot.
    assert_eq!(entries[1].kind, EntryKind::Expire { lot: 0 });
    assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(entries[1].amount, Points::new(-65));
}

#[tokio::test]
async fn points_earned_earlier_the_same_local_day_count_towards_the_day_cap() {
    let h = Harness::standard();
    h.fake.edit(|world| {
        let program = world.programs.get_mut(&BRAND).unwrap();
        program.earning_rules.day_cap = Some(Cap {
            label: None,
            points: Points::new(80),
        });
    });
    h.given_order(order("A-1", 45_000)).await; // 65 with the welcome bonus
    // 16:59 UTC is 23:59 the same local day.
    let same_day = datetime!(2026-05-06 16:59 UTC);
    let receipt = h.ingest(order_at("A-2", 30_000, same_day)).await.unwrap();
    assert_eq!(receipt.points_earned, Points::new(15));
    assert!(matches!(
        receipt.explanation.last().map(|l| &l.source),
        Some(LineSource::DayCap { earned_today, .. }) if *earned_today == Points::new(65)
    ));
    // 17:00 UTC is the next local day: no cap carried over.
    let next_day = datetime!(2026-05-06 17:00 UTC);
    let receipt = h.ingest(order_at("A-3", 30_000, next_day)).await.unwrap();
    assert_eq!(receipt.points_earned, Points::new(30));
}

#[tokio::test]
async fn late_orders_count_toward_the_day_they_were_placed() {
    let h = Harness::standard();
    h.fake.edit(|world| {
        let program = world.programs.get_mut(&BRAND).unwrap();
        program.earning_rules.day_cap = Some(Cap {
            label: None,
            points: Points::new(80),
        });
    });
    let today = t0() + days(1);
    h.given_order(order_at("T-1", 45_000, today)).await; // 65 with the welcome bonus
    // Two orders of yesterday, delivered today: together they earn one day's cap.
    let first = h.ingest(order("B-1", 60_000)).await.unwrap();
    assert_eq!(first.points_earned, Points::new(60));
    let second = h
        .ingest(order_at("B-2", 60_000, t0() + Duration::hours(1)))
        .await
        .unwrap();
    assert_eq!(second.points_earned, Points::new(20));
    // Today's cap still has room for what today earned, not for the back-filled orders.
    let honest = h
        .ingest(order_at("T-2", 30_000, today + Duration::hours(1)))
        .await
        .unwrap();
    assert_eq!(honest.points_earned, Points::new(15));
}

#[tokio::test]
async fn reaching_a_threshold_upgrades_and_the_tier_multiplier_applies_next_time() {
    let h = Harness::standard();
    let first = h.given_order(order("A-1", 150_000)).await; // 170 points
    assert_eq!((first.tier.clone(), first.upgraded), (None, false));

    let second = h
        .ingest(order_at("A-2", 45_000, t0() + days(1)))
        .await
        .unwrap(); // 215 points earned in the window
    assert_eq!(
        (second.tier.as_deref(), second.upgraded),
        (Some("silver"), true)
    );
    let tier = h.fake.world().stats[&(BRAND, h.customer_id())]
        .tier
        .clone()
        .unwrap();
    assert_eq!((tier.code.as_str(), tier.since), ("silver", t0() + days(1)));

    let third = h
        .ingest(order_at("A-3", 10_000, t0() + days(2)))
        .await
        .unwrap();
    assert_eq!(third.points_earned, Points::new(15));
    let lines: Vec<String> = third.explanation.iter().map(ToString::to_string).collect();
    assert_eq!(lines[1], "Silver tier: +5 (×1.5 on 10)");
    assert!(!third.upgraded);
}

#[tokio::test]
async fn earned_points_leaving_the_window_do_not_count_for_an_upgrade() {
    let h = Harness::standard();
    h.given_order(order("A-1", 150_000)).await; // 170 points, a year before A-2
    let receipt = h
        .ingest(order_at("A-2", 45_000, t0() + days(365)))
        .await
        .unwrap();
    assert_eq!((receipt.tier, receipt.upgraded), (None, false));
}

#[tokio::test]
async fn a_brand_without_a_programme_keeps_customers_but_credits_nothing() {
    let h = Harness::standard();
    h.fake.edit(|world| {
        world.programs.remove(&BRAND);
    });
    let receipt = h.ingest(order("A-1", 45_000)).await.unwrap();
    assert_eq!(receipt.points_earned, Points::ZERO);
    assert!(receipt.explanation.is_empty());
    assert_eq!(h.fake.world().stats[&(BRAND, h.customer_id())].visits, 1);
}

#[tokio::test]
async fn incoherent_orders_are_refused_before_any_transaction() {
    let h = Harness::standard();
    let mut empty = order("A-1", 45_000);
    empty.lines.clear();
    let error = h.ingest(empty).await.unwrap_err();
    assert_eq!(
        error,
        IngestError::InvalidOrder(DomainError::Empty { field: "lines" })
    );
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::Invalid, Some("lines"))
    );

    let error = h
        .services
        .ingest_order(OTHER_BRAND, order("A-1", 45_000))
        .await
        .unwrap_err();
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::Invalid, Some("brand_id"))
    );
    assert_eq!(h.fake.begun(), 0);
}

#[tokio::test]
async fn an_order_in_another_currency_names_the_total() {
    let h = Harness::standard();
    let mut dollars = order("A-1", 45_000);
    dollars.total = Money::from_minor_units(500, Currency::USD);
    dollars.lines[0].unit_price = dollars.total;
    let error = h.ingest(dollars).await.unwrap_err();
    assert!(matches!(error, IngestError::CurrencyMismatch { .. }));
    assert_eq!(error.field(), Some("total"));
    assert!(h.fake.take_writes().is_empty());
}

#[tokio::test]
async fn an_unknown_brand_is_not_found() {
    let h = Harness::new(World::default());
    let error = h.ingest(order("A-1", 45_000)).await.unwrap_err();
    assert_eq!(error, IngestError::UnknownBrand(BRAND));
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::NotFound, Some("brand"))
    );
    assert_eq!(h.fake.outcomes(), [TxOutcome::RolledBack]);
}

#[tokio::test]
async fn brands_do_not_share_customers() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await;
    let mut elsewhere = order("A-1", 45_000);
    elsewhere.brand_id = OTHER_BRAND;
    let receipt = h
        .services
        .ingest_order(OTHER_BRAND, elsewhere)
        .await
        .unwrap();
    assert!(!receipt.duplicate);
    assert_eq!(receipt.points_earned, Points::new(65));
    assert_ne!(receipt.customer_id, Some(h.customer_id()));
}

#[tokio::test]
async fn an_order_dated_in_the_future_is_refused() {
    let h = Harness::standard();
    // A till sending 17:00 local time as 17:00 UTC: seven hours ahead.
    let ahead = order_at("A-1", 45_000, t0() + time::Duration::hours(7));
    let error = h.services.ingest_order(BRAND, ahead).await.unwrap_err();
    assert!(matches!(error, IngestError::PlacedInFuture { .. }));
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::Invalid, Some("placed_at"))
    );
    assert_eq!(h.fake.begun(), 0);

    // Within the allowed skew it is accepted.
    let slightly = order_at("A-1", 45_000, t0() + crate::MAX_CLOCK_SKEW);
    assert!(h.services.ingest_order(BRAND, slightly).await.is_ok());
}
