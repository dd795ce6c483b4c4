//! A chunk of an import is all or nothing: a write that fails midway (a key already
//! remembered, refused by the last table the chunk writes) leaves none of the chunk's
//! customers, orders, accounts or records behind, on both databases.

#![allow(clippy::unwrap_used)]

use crate::targets;
use regulars_domain::{ChannelConsent, Customer, CustomerId, Money, Points};
use regulars_loyalty::ledger::AccountState;
use regulars_ports::{AccountWrite, IdempotentRecord, ImportWrite, StoredOrder, UnitOfWork};
use regulars_tests::{order, phone};
use serde_json::json;
use time::OffsetDateTime;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_failing_midway_leaves_nothing() {
    for target in targets("bulk_import_atomic").await {
        let name = target.name;
        let w = &target.world;
        let brand = w.brand;
        let now = OffsetDateTime::now_utc();
        // A key already remembered: the chunk's last write refuses it.
        let known = order(brand, "A-KNOWN", 4_200_001, now, 1);
        w.services.ingest_order(brand, known.clone()).await.unwrap();

        let fresh = order(brand, "A-FRESH", 4_200_002, now, 2);
        let customer = Customer {
            id: CustomerId::from_bytes([42; 16]),
            brand_id: brand,
            phone: phone(4_200_002),
            name: None,
            birthday: None,
            email: None,
            zalo_user_id: None,
            consent: ChannelConsent::default(),
            created_at: now,
        };
        let record = |key: &str| IdempotentRecord {
            kind: "order".into(),
            result: json!({ "key": key }),
            fingerprint: None,
        };
        let write = ImportWrite {
            customers: vec![customer.clone()],
            orders: vec![StoredOrder {
                id: regulars_domain::OrderId::from_bytes([43; 16]),
                order: fresh.clone(),
                customer_id: Some(customer.id),
                points_earned: Points::ZERO,
                refunded: Money::from_minor_units(0, fresh.currency()),
            }],
            accounts: vec![AccountWrite {
                customer: customer.id,
                head: None,
                entries: Vec::new(),
                state: AccountState::default(),
                tallies: Vec::new(),
            }],
            stats: Vec::new(),
            records: vec![
                (fresh.key.clone(), record("A-FRESH")),
                (known.key.clone(), record("A-KNOWN")),
            ],
            claims: Vec::new(),
            counted_before: Vec::new(),
        };
        let store: &dyn UnitOfWork = w.store.as_ref();
        let mut tx = store.begin().await.unwrap();
        let failed = tx.bulk().write_import(brand, &write).await;
        assert!(failed.is_err(), "{name}: the known key must be refused");
        drop(tx);

        let mut tx = store.begin().await.unwrap();
        let found = tx
            .customers()
            .customer_by_phone(brand, &customer.phone)
            .await
            .unwrap();
        let stored = tx.orders().order_by_key(brand, &fresh.key).await.unwrap();
        let seen = tx.idempotency().seen(brand, &fresh.key).await.unwrap();
        let entries = tx.ledger().entries(brand, customer.id).await.unwrap();
        tx.rollback().await.unwrap();
        assert!(found.is_none(), "{name}: the chunk's customer was left");
        assert!(stored.is_none(), "{name}: the chunk's order was left");
        assert!(seen.is_none(), "{name}: the chunk's record was left");
        assert!(entries.is_empty(), "{name}: the chunk's entries were left");
    }
}

/// An account whose head moved since the import locked it is a conflict, not an
/// overwrite: the set-wise head update checks every head it moves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_head_is_a_conflict() {
    for target in targets("bulk_import_moved").await {
        let name = target.name;
        let w = &target.world;
        let brand = w.brand;
        let now = OffsetDateTime::now_utc();
        let receipt = w
            .services
            .ingest_order(brand, order(brand, "M-1", 4_300_001, now, 2))
            .await
            .unwrap();
        let customer = receipt.customer_id.unwrap();
        let store: &dyn UnitOfWork = w.store.as_ref();
        let mut tx = store.begin().await.unwrap();
        let head = tx.ledger().lock_account(brand, customer).await.unwrap();
        assert!(head.next_seq > 0, "{name}: the order earned nothing");
        // As if locked before the order: at entry 0 with nothing in it.
        let write = ImportWrite {
            accounts: vec![AccountWrite {
                customer,
                head: Some(regulars_ports::AccountHead {
                    balance: Points::ZERO,
                    next_seq: 0,
                }),
                entries: Vec::new(),
                state: AccountState::default(),
                tallies: Vec::new(),
            }],
            ..ImportWrite::default()
        };
        let moved = tx.bulk().write_import(brand, &write).await;
        drop(tx);
        assert!(
            matches!(moved, Err(regulars_ports::StoreError::Conflict(_))),
            "{name}: {moved:?}"
        );
        let mut tx = store.begin().await.unwrap();
        let after = tx.ledger().lock_account(brand, customer).await.unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(after, head, "{name}: the head was overwritten");
    }
}
