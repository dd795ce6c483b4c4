//! The access audit over bare mocks: what a record holds, that a read showing no one
//! writes nothing, that records a failed write kept are written by the next one, that a
//! full buffer refuses reads, and the pruning.

use super::*;
use crate::{ACCESS_LOG_RETENTION, MAX_PENDING_ACCESSES, Reader, UseCaseError};
use regulars_domain::ApiKeyId;
use regulars_ports::mocks::{MockTransaction, TxOutcome};
use regulars_ports::{
    AccessChannel, AccessQuery, MockClock, MockIdGen, MockUnitOfWork, PersonalData, StoreError,
    Transaction,
};
use std::sync::Mutex;
use uuid::Uuid;

const KEY: ApiKeyId = ApiKeyId::from_bytes([0xC1; 16]);
const ID: Uuid = Uuid::from_bytes([0xD1; 16]);

fn services(txs: Vec<MockTransaction>) -> Services {
    let mut uow = MockUnitOfWork::new();
    let begins = txs.len();
    let txs = Mutex::new(txs.into_iter().collect::<VecDeque<_>>());
    uow.expect_begin().times(begins).returning(move || {
        let tx: Box<dyn Transaction> = Box::new(txs.lock().unwrap().pop_front().unwrap());
        Ok(tx)
    });
    let mut clock = MockClock::new();
    clock.expect_now().returning(t0);
    let mut ids = MockIdGen::new();
    ids.expect_new_id().returning(|| ID);
    Services::new(Arc::new(uow), Arc::new(clock), Arc::new(ids))
}

fn customers() -> Vec<CustomerId> {
    vec![
        CustomerId::from_bytes([1; 16]),
        CustomerId::from_bytes([2; 16]),
    ]
}

#[tokio::test]
async fn a_read_is_recorded_with_its_key_fields_and_customers_and_committed() {
    let mut tx = MockTransaction::default();
    tx.audit
        .expect_record_accesses()
        .times(1)
        .withf(|records| {
            let [r] = records else { return false };
            r.id == ID
                && r.brand_id == BRAND
                && r.at == t0()
                && r.key_id == Some(KEY)
                && r.channel == AccessChannel::Dashboard
                && r.route == "GET /dashboard/customers"
                // Sorted and without repeats, whatever order the caller gave.
                && r.fields == [PersonalData::Profile, PersonalData::Contact]
                && r.customers == customers()
        })
        .returning(|_| Ok(()));
    let outcome = tx.outcome();
    let parts = [
        PersonalData::Contact,
        PersonalData::Profile,
        PersonalData::Contact,
    ];
    let services = services(vec![tx]);
    services
        .record_access(
            BRAND,
            Reader::dashboard(KEY),
            "GET /dashboard/customers",
            &parts,
            &customers(),
        )
        .await
        .unwrap();
    assert_eq!(services.flush_access_log().await.unwrap(), 1);
    assert_eq!(outcome.get(), TxOutcome::Committed);
    // Written once: the buffer is empty now.
    assert_eq!(services.flush_access_log().await.unwrap(), 0);
}

#[tokio::test]
async fn a_read_that_showed_no_one_writes_nothing() {
    let services = services(Vec::new());
    services
        .record_access(
            BRAND,
            Reader::api(KEY),
            "GET /v1/customers",
            &[PersonalData::Contact],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(services.flush_access_log().await.unwrap(), 0);
}

#[tokio::test]
async fn records_a_failed_write_kept_are_written_by_the_next_one() {
    let mut failing = MockTransaction::default();
    failing
        .audit
        .expect_record_accesses()
        .returning(|_| Err(StoreError::Unavailable("down".into())));
    let failed = failing.outcome();
    let mut working = MockTransaction::default();
    working
        .audit
        .expect_record_accesses()
        .times(1)
        .withf(|records| records.len() == 2)
        .returning(|_| Ok(()));
    let written = working.outcome();
    let services = services(vec![failing, working]);
    let read = async |route: &str| {
        services
            .record_access(
                BRAND,
                Reader::api(KEY),
                route,
                &[PersonalData::Profile],
                &customers()[..1],
            )
            .await
            .unwrap();
    };
    read("GET /v1/customers/{id}").await;
    let error = services.flush_access_log().await.unwrap_err();
    assert_eq!(error.class(), crate::ErrorClass::Unavailable);
    assert_ne!(failed.get(), TxOutcome::Committed);
    read("GET /v1/customers/{id}/orders").await;
    assert_eq!(services.flush_access_log().await.unwrap(), 2);
    assert_eq!(written.get(), TxOutcome::Committed);
}

#[tokio::test]
async fn a_full_buffer_refuses_the_read() {
    let services = services(Vec::new());
    for _ in 0..MAX_PENDING_ACCESSES {
        services
            .record_access(
                BRAND,
                Reader::api(KEY),
                "GET /v1/customers",
                &[PersonalData::Contact],
                &customers(),
            )
            .await
            .unwrap();
    }
    let error = services
        .record_access(
            BRAND,
            Reader::api(KEY),
            "GET /v1/customers",
            &[PersonalData::Contact],
            &customers(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.class(), crate::ErrorClass::Unavailable);
}

#[tokio::test]
async fn the_log_refuses_bad_pages_and_periods_before_reading() {
    let query = AccessQuery {
        since: Some(t0()),
        until: Some(t0() - Duration::seconds(1)),
        key: None,
        customer: None,
        after: None,
        limit: 10,
    };
    let idle = services(Vec::new());
    let error = idle.access_log(BRAND, &query).await.unwrap_err();
    assert_eq!(error.field(), Some("until"));
    for limit in [0, crate::MAX_PAGE + 1] {
        let query = AccessQuery {
            until: None,
            limit,
            ..query
        };
        let error = idle.access_log(BRAND, &query).await.unwrap_err();
        assert_eq!(error.field(), Some("limit"));
    }
}

#[tokio::test]
async fn pruning_forgets_what_is_older_than_the_retention() {
    let mut tx = MockTransaction::default();
    tx.audit
        .expect_prune_accesses()
        .times(1)
        .withf(|before| *before == t0() - ACCESS_LOG_RETENTION)
        .returning(|_| Ok(3));
    let outcome = tx.outcome();
    let pruned = services(vec![tx])
        .prune_access_log(ACCESS_LOG_RETENTION)
        .await
        .unwrap();
    assert_eq!(pruned, 3);
    assert_eq!(outcome.get(), TxOutcome::Committed);
}
