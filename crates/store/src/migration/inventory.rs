//! The data inventory of `docs/privacy.md` lists exactly the tables and columns the
//! migrations make: a migration that adds (or drops) one must update it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::migration::Migrator;
use sea_orm::{ConnectionTrait, Database, Statement};
use sea_orm_migration::MigratorTrait;
use std::collections::BTreeSet;

const PRIVACY: &str = include_str!("../../../../docs/privacy.md");

/// `(table, column)` pairs of the inventory's table rows (columns comma-separated).
fn listed() -> BTreeSet<(String, String)> {
    let inventory = PRIVACY
        .split("## Inventory")
        .nth(1)
        .expect("docs/privacy.md has an Inventory section");
    let mut out = BTreeSet::new();
    for line in inventory.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let table = cells.get(1).copied().unwrap_or_default().trim_matches('`');
        if table.is_empty() || table == "table" || table.starts_with("---") {
            continue;
        }
        for column in cells.get(2).copied().unwrap_or_default().split(',') {
            out.insert((table.to_owned(), column.trim().trim_matches('`').to_owned()));
        }
    }
    out
}

#[tokio::test]
async fn every_table_and_column_is_in_the_privacy_inventory() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let backend = db.get_database_backend();
    let mut schema = BTreeSet::new();
    let tables = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        ))
        .await
        .unwrap();
    for table in tables {
        let table: String = table.try_get("", "name").unwrap();
        let columns = db
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT name FROM pragma_table_info('{table}')"),
            ))
            .await
            .unwrap();
        for column in columns {
            schema.insert((table.clone(), column.try_get::<String>("", "name").unwrap()));
        }
    }
    let listed = listed();
    let missing: Vec<_> = schema.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "add these to the inventory of docs/privacy.md: {missing:?}"
    );
    let stale: Vec<_> = listed.difference(&schema).collect();
    assert!(
        stale.is_empty(),
        "docs/privacy.md lists columns no migration makes: {stale:?}"
    );
}
