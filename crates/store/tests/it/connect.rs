//! Connecting: clear errors for bad URLs and unreachable databases.

use crate::{Store, TestResult};
use regulars_ports::StoreError;
use regulars_store::{Backend, StoreOptions};
use regulars_testkit::SqliteFile;
use std::time::Duration;

fn quick() -> StoreOptions {
    StoreOptions::default()
        .connect_timeout(Duration::from_secs(2))
        .acquire_timeout(Duration::from_secs(2))
}

#[tokio::test]
async fn an_unsupported_url_is_unavailable_and_says_what_is_expected() {
    let err = Store::connect("mysql://app:hunter2@db/regulars", quick()).await;
    let Err(StoreError::Unavailable(message)) = err else {
        panic!("expected Unavailable, got {err:?}");
    };
    assert!(message.contains("sqlite://"), "{message}");
    assert!(message.contains("postgres://"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn an_unreachable_postgres_is_unavailable_without_the_password() {
    // Port 1 on the loopback interface: nothing listens there, the connection is refused.
    let url = "postgres://regulars:hunter2@127.0.0.1:1/regulars";
    let err = Store::connect(url, quick()).await;
    let Err(StoreError::Unavailable(message)) = err else {
        panic!("expected Unavailable, got {err:?}");
    };
    assert!(!message.contains("hunter2"), "{message}");
    assert!(
        message.contains("postgres://regulars:***@127.0.0.1:1/regulars"),
        "{message}"
    );
}

#[tokio::test]
async fn a_sqlite_file_that_cannot_be_created_is_unavailable() {
    let url = "sqlite:///nonexistent-directory/for/regulars.db?mode=rwc";
    let err = Store::connect(url, quick()).await;
    let Err(StoreError::Unavailable(message)) = err else {
        panic!("expected Unavailable, got {err:?}");
    };
    assert!(message.contains("nonexistent-directory"), "{message}");
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data_between_transactions() -> TestResult {
    let store = Store::connect("sqlite::memory:", StoreOptions::default()).await?;
    assert_eq!(store.backend(), Backend::Sqlite);
    store.ping().await?;
    let brand = crate::support::brand(1);
    let mut tx = regulars_ports::UnitOfWork::begin(&store).await?;
    tx.brands().insert_brand(&brand).await?;
    tx.commit().await?;
    // The pool's one connection holds the database: the next transaction sees the brand.
    let mut tx = regulars_ports::UnitOfWork::begin(&store).await?;
    assert_eq!(tx.brands().brand(brand.id).await?, Some(brand));
    Ok(())
}

#[tokio::test]
async fn a_second_transaction_waits_for_the_first_on_sqlite() -> TestResult {
    let file = SqliteFile::new()?;
    let store = Store::connect(
        &file.url(),
        StoreOptions::default().acquire_timeout(Duration::from_millis(200)),
    )
    .await?;
    let first = regulars_ports::UnitOfWork::begin(&store).await?;
    // The one connection is taken: a second begin times out as Unavailable...
    let second = regulars_ports::UnitOfWork::begin(&store).await;
    assert!(
        matches!(second, Err(StoreError::Unavailable(_))),
        "{:?}",
        second.err()
    );
    // ...and proceeds once the first ends.
    first.rollback().await?;
    let second = regulars_ports::UnitOfWork::begin(&store).await?;
    second.commit().await?;
    Ok(())
}
