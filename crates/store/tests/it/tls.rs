//! PostgreSQL over TLS, against a throwaway cluster that speaks TLS only, with a
//! certificate signed by an authority made for it: `sslmode=require` encrypts,
//! `verify-full` with `sslrootcert=` also checks the server, and a server the client
//! cannot verify is refused.

use crate::{Store, TestResult};
use regulars_ports::StoreError;
use regulars_store::StoreOptions;
use regulars_testkit::{PgCluster, PgOptions, require_pg};
use sea_orm::{ConnectionTrait, Database, Statement};
use std::time::Duration;

fn quick() -> StoreOptions {
    StoreOptions::default()
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
}

/// Whether the connection `url` opens is encrypted, as the server sees it.
async fn encrypted(url: &str) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
    let db = Database::connect(url).await?;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ))
        .await?
        .ok_or("no pg_stat_ssl row")?;
    let ssl = row.try_get::<bool>("", "ssl")?;
    db.close().await?;
    Ok(ssl)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_with_require_and_verify_full() -> TestResult {
    if require_pg().is_none() {
        return Ok(());
    }
    let cluster = PgCluster::start_with(PgOptions::new().tls(true).max_connections(20))?;
    let ca = cluster
        .tls_ca_file()
        .and_then(|p| p.to_str())
        .ok_or("no CA file")?
        .to_owned();
    let url = cluster.create_database("tls")?;

    // The cluster takes no plain TCP connection.
    let plain = Store::connect(&format!("{url}?sslmode=disable"), quick()).await;
    assert!(
        matches!(plain, Err(StoreError::Unavailable(_))),
        "{:?}",
        plain.err()
    );

    // require: encrypted; the schema is migrated over it.
    let require = format!("{url}?sslmode=require");
    let store = Store::connect(&require, quick()).await?;
    store.ping().await?;
    store.close().await?;
    assert!(encrypted(&require).await?);

    // verify-full against the cluster's authority: the certificate names 127.0.0.1.
    let verified = format!("{url}?sslmode=verify-full&sslrootcert={ca}");
    let store = Store::connect(&verified, quick()).await?;
    store.ping().await?;
    store.close().await?;
    assert!(encrypted(&verified).await?);

    // verify-full without that authority: the server cannot be verified, refused.
    let unverifiable = Store::connect(&format!("{url}?sslmode=verify-full"), quick()).await;
    assert!(
        matches!(unverifiable, Err(StoreError::Unavailable(_))),
        "{:?}",
        unverifiable.err()
    );
    Ok(())
}
