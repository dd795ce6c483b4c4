//! Bare mocks with only the expectations a path needs: any other repository call,
//! a write above all, fails the test.

use super::*;
use crate::{ErrorClass, IngestError, OrderReceipt, UseCaseError};
use regulars_domain::OrderId;
use regulars_ports::mocks::{MockTransaction, TxOutcome};
use regulars_ports::{
    BrandConfig, IdempotentRecord, MockClock, MockIdGen, MockUnitOfWork, StoreError, Transaction,
};
use std::sync::Mutex;

fn services(tx: MockTransaction) -> Services {
    let tx = Mutex::new(Some(tx));
    let mut uow = MockUnitOfWork::new();
    uow.expect_begin().times(1).returning(move || {
        let tx: Box<dyn Transaction> = Box::new(tx.lock().unwrap().take().unwrap());
        Ok(tx)
    });
    let mut clock = MockClock::new();
    clock.expect_now().returning(t0);
    Services::new(Arc::new(uow), Arc::new(clock), Arc::new(MockIdGen::new()))
}

/// Services that are never run.
fn idle() -> Services {
    Services::new(
        Arc::new(MockUnitOfWork::new()),
        Arc::new(MockClock::new()),
        Arc::new(MockIdGen::new()),
    )
}

fn receipt() -> OrderReceipt {
    OrderReceipt {
        order_id: OrderId::from_bytes([5; 16]),
        customer_id: Some(CustomerId::from_bytes([6; 16])),
        points_earned: Points::new(65),
        balance: Some(Points::new(65)),
        tier: None,
        upgraded: false,
        explanation: Vec::new(),
        lapsed: false,
        duplicate: false,
        claim_code: None,
    }
}

#[tokio::test]
async fn a_repeated_delivery_reads_and_writes_nothing() {
    let mut tx = MockTransaction::default();
    tx.brands.expect_brand_config().times(1).returning(|id| {
        Ok(Some(BrandConfig {
            version: None,
            brand: brand(id),
            program: None,
            stamp_cards: Vec::new(),
        }))
    });
    let remembered = serde_json::to_value(receipt()).unwrap();
    // The order names its customer: the record and the customer are one read.
    tx.idempotency
        .expect_seen_with_customer()
        .times(1)
        .returning(move |_, _, _| {
            let record = IdempotentRecord {
                kind: "order".into(),
                result: remembered.clone(),
                fingerprint: None,
            };
            Ok((Some(record), None))
        });
    let outcome = tx.outcome();

    let got = services(tx)
        .ingest_order(BRAND, order("A-1", 45_000))
        .await
        .unwrap();

    assert_eq!(
        got,
        OrderReceipt {
            duplicate: true,
            ..receipt()
        }
    );
    // Nothing was written; committing the read-only transaction is harmless.
    assert_eq!(outcome.get(), TxOutcome::Committed);
}

#[tokio::test]
async fn a_key_used_by_a_refund_is_not_taken_for_an_order() {
    let mut tx = MockTransaction::default();
    tx.brands.expect_brand_config().returning(|id| {
        Ok(Some(BrandConfig {
            version: None,
            brand: brand(id),
            program: None,
            stamp_cards: Vec::new(),
        }))
    });
    tx.idempotency
        .expect_seen_with_customer()
        .returning(|_, _, _| {
            let record = IdempotentRecord {
                kind: "refund".into(),
                result: serde_json::Value::Null,
                fingerprint: None,
            };
            Ok((Some(record), None))
        });
    let outcome = tx.outcome();
    let error = services(tx)
        .ingest_order(BRAND, order("A-1", 45_000))
        .await
        .unwrap_err();
    assert!(matches!(error, IngestError::KeyReused { .. }));
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::Refused, Some("key"))
    );
    assert_eq!(outcome.get(), TxOutcome::RolledBack);
}

#[tokio::test]
async fn a_corrupt_remembered_receipt_is_an_internal_error() {
    let mut tx = MockTransaction::default();
    tx.brands.expect_brand_config().returning(|id| {
        Ok(Some(BrandConfig {
            version: None,
            brand: brand(id),
            program: None,
            stamp_cards: Vec::new(),
        }))
    });
    tx.idempotency
        .expect_seen_with_customer()
        .returning(|_, _, _| {
            let record = IdempotentRecord {
                kind: "order".into(),
                result: serde_json::json!({"points": "lots"}),
                fingerprint: None,
            };
            Ok((Some(record), None))
        });
    let error = services(tx)
        .ingest_order(BRAND, order("A-1", 45_000))
        .await
        .unwrap_err();
    assert!(matches!(error, IngestError::Store(StoreError::Corrupt(_))));
    assert_eq!(error.class(), ErrorClass::Internal);
}

#[tokio::test]
async fn a_database_that_cannot_begin_is_unavailable() {
    let mut uow = MockUnitOfWork::new();
    uow.expect_begin()
        .times(1)
        .returning(|| Err(StoreError::Unavailable("no connection".into())));
    let mut clock = MockClock::new();
    clock.expect_now().returning(t0);
    let services = Services::new(Arc::new(uow), Arc::new(clock), Arc::new(MockIdGen::new()));
    let error = services
        .ingest_order(BRAND, order("A-1", 45_000))
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::Unavailable);
}

#[test]
fn use_case_futures_can_be_spawned() {
    fn spawnable<F: std::future::Future + Send>(_: &F) {}
    let services = idle();
    spawnable(&services.ingest_order(BRAND, order("A-1", 1)));
    spawnable(&services.refund_order(
        BRAND,
        regulars_domain::Refund {
            brand_id: BRAND,
            key: key("R-1"),
            order: key("A-1"),
            refunded_at: t0(),
            scope: regulars_domain::RefundScope::Full,
        },
    ));
    spawnable(&services.adjust_points(
        BRAND,
        CustomerId::from_bytes([1; 16]),
        Points::new(1),
        "r",
        "a",
    ));
    spawnable(&services.redeem_reward(BRAND, CustomerId::from_bytes([1; 16]), FREE_DRINK));
    spawnable(&services.validate_voucher(BRAND, "x"));
    spawnable(&services.redeem_voucher(BRAND, "x", None));
    spawnable(&services.expire_points(BRAND, t0()));
    spawnable(&services.customer_lookup(BRAND, PHONE));
    spawnable(&services.check_ledger(None));
}

#[test]
fn attempts_are_at_least_one() {
    let services = idle().with_max_attempts(0);
    assert_eq!(services.max_attempts(), 1);
}

fn setup(id: BrandId) -> crate::BrandSetup {
    crate::BrandSetup {
        brand: brand(id),
        program: None,
        rewards: Vec::new(),
    }
}

#[tokio::test]
async fn creating_an_existing_brand_writes_nothing() {
    let mut tx = MockTransaction::default();
    tx.brands
        .expect_brand()
        .times(1)
        .returning(|id| Ok(Some(brand(id))));
    let outcome = tx.outcome();
    let id = BrandId::from_bytes([9; 16]);
    let err = services(tx).create_brand(setup(id)).await.unwrap_err();
    assert_eq!(err, crate::SetupError::Exists(id));
    assert_eq!(err.field(), Some("id"));
    assert_ne!(outcome.get(), TxOutcome::Committed);
}

#[tokio::test]
async fn a_failed_catalogue_write_leaves_no_brand_behind() {
    let mut tx = MockTransaction::default();
    tx.brands.expect_brand().times(1).returning(|_| Ok(None));
    tx.brands
        .expect_insert_brand()
        .times(1)
        .returning(|_| Ok(()));
    tx.brands
        .expect_save_program()
        .times(1)
        .returning(|_, _| Err(StoreError::Unavailable("disk full".into())));
    let outcome = tx.outcome();
    let mut s = setup(BrandId::from_bytes([9; 16]));
    s.program = Some(regulars_ports::LoyaltyProgram {
        earning_rules: regulars_loyalty::rules::EarningRules::empty(s.brand.currency),
        tiers: None,
    });
    let err = services(tx).create_brand(s).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Unavailable);
    assert_ne!(outcome.get(), TxOutcome::Committed);
}

#[tokio::test]
async fn a_blank_brand_name_is_refused_before_any_transaction() {
    let mut s = setup(BrandId::from_bytes([9; 16]));
    s.brand.name = "  ".into();
    let err = idle().create_brand(s).await.unwrap_err();
    assert_eq!(err.field(), Some("name"));
}
