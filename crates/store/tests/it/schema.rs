//! The schema itself: migrations re-run harmlessly; exact values live in integer columns.

use crate::support::{on_postgres_url, on_sqlite_url};
use crate::{Store, TestResult};
use regulars_ports::UnitOfWork;
use regulars_store::StoreOptions;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

/// Columns holding money (minor units), points and timestamps (microseconds).
const EXACT_COLUMNS: &[(&str, &str)] = &[
    ("brands", "created_at"),
    ("customers", "created_at"),
    ("customer_stats", "spend_minor"),
    ("customer_stats", "first_visit_at"),
    ("customer_stats", "first_counted_at"),
    ("customer_stats", "last_counted_at"),
    ("customer_stats", "second_last_counted_at"),
    ("customer_stats", "last_visit_at"),
    ("customer_stats", "tier_since"),
    ("balances", "balance"),
    ("balances", "next_seq"),
    ("ledger_entries", "at"),
    ("ledger_entries", "amount"),
    ("ledger_entries", "expires_at"),
    ("rewards", "cost"),
    ("orders", "placed_at"),
    ("orders", "total_minor"),
    ("orders", "points_earned"),
    ("orders", "refunded_minor"),
    ("order_lines", "unit_price_minor"),
    ("vouchers", "issued_at"),
    ("vouchers", "expires_at"),
    ("vouchers", "redeemed_at"),
    ("vouchers", "voided_at"),
    ("idempotency", "created_at"),
    ("outbox", "due_at"),
    ("outbox", "sent_at"),
    ("api_keys", "created_at"),
    ("api_keys", "revoked_at"),
    ("customer_changes", "at"),
    ("brand_policies", "updated_at"),
];

async fn migrations_are_idempotent(store: Store, url: String) -> TestResult {
    store.migrate().await?;
    store.migrate().await?;
    // A second process connecting to a migrated database finds nothing to do.
    let again = Store::connect(&url, StoreOptions::default()).await?;
    again.close().await?;
    let mut tx = store.begin().await?;
    assert_eq!(tx.brands().brand_ids().await?, vec![]);
    drop(tx);

    let db = Database::connect(url.as_str()).await?;
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM seaql_migrations",
        ))
        .await?
        .ok_or("no row")?;
    // One row per migration (one file each), however many times they ran.
    assert_eq!(row.try_get::<i64>("", "n")?, migration_files()?);
    db.close().await?;
    Ok(())
}

/// How many migration files the store has.
fn migration_files() -> Result<i64, Box<dyn std::error::Error + Send + Sync>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/migration");
    let mut n = 0;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('m') && name.ends_with(".rs") {
            n += 1;
        }
    }
    Ok(n)
}

async fn money_points_and_time_columns_are_integers(store: Store, url: String) -> TestResult {
    let db = Database::connect(url.as_str()).await?;
    let backend = db.get_database_backend();
    for (table, column) in EXACT_COLUMNS {
        let sql = match backend {
            DbBackend::Postgres => format!(
                "SELECT data_type AS t FROM information_schema.columns \
                 WHERE table_name = '{table}' AND column_name = '{column}'"
            ),
            _ => format!(
                "SELECT type AS t FROM pragma_table_info('{table}') WHERE name = '{column}'"
            ),
        };
        let row = db
            .query_one_raw(Statement::from_string(backend, sql))
            .await?
            .ok_or_else(|| format!("{table}.{column} does not exist"))?;
        let declared: String = row.try_get("", "t")?;
        let declared = declared.to_ascii_lowercase();
        match backend {
            DbBackend::Postgres => assert_eq!(declared, "bigint", "{table}.{column}"),
            // SQLite: an INTEGER-affinity column, never REAL or NUMERIC.
            _ => assert!(declared.contains("int"), "{table}.{column} is {declared}"),
        }
    }
    db.close().await?;
    store.close().await?;
    Ok(())
}

#[tokio::test]
async fn sqlite_migrations_are_idempotent() -> TestResult {
    on_sqlite_url(migrations_are_idempotent).await
}

#[tokio::test]
async fn postgres_migrations_are_idempotent() -> TestResult {
    on_postgres_url("migrations", migrations_are_idempotent).await
}

#[tokio::test]
async fn sqlite_money_points_and_time_columns_are_integers() -> TestResult {
    on_sqlite_url(money_points_and_time_columns_are_integers).await
}

#[tokio::test]
async fn postgres_money_points_and_time_columns_are_integers() -> TestResult {
    on_postgres_url("columns", money_points_and_time_columns_are_integers).await
}
