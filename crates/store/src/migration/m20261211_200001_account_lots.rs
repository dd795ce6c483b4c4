//! `account_lots`: a customer's open expiry lots as rows of their own, beside the figures
//! of the account state in `balances.state`. An order reads and writes only the lots it
//! touches (the due ones, the first-expiring ones up to what it debits, a refunded
//! order's own lot) instead of every open lot inside the state. `expires_at` is in
//! microseconds like every instant; `expires_at_ns` keeps the nanoseconds within that
//! microsecond so a lot read back equals the fold of the entries exactly.
//!
//! Up moves the lots of every stored state into rows and rewrites the state without them
//! (a state that does not read is cleared, and built again from the entries the next
//! time the account is locked). Down clears every stored state, so each is built again
//! from the entries with its lots inline, and drops the table: nothing is lost, the
//! entries being the truth.

use regulars_loyalty::ledger::AccountState;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, integer, uuid};

/// Creates `account_lots` and moves the stored states' lots into it.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261211_200001_account_lots"
    }
}

/// Accounts moved per round of the data step.
const PAGE: u64 = 500;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("account_lots")
                    .col(uuid("brand_id"))
                    .col(uuid("customer_id"))
                    // `seq` of the credit entry that opened the lot.
                    .col(big_integer("seq"))
                    // NULL: never expires.
                    .col(big_integer_null("expires_at"))
                    .col(integer("expires_at_ns").default(0))
                    .col(big_integer("remaining"))
                    .primary_key(
                        Index::create()
                            .col("brand_id")
                            .col("customer_id")
                            .col("seq")
                            .primary(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_account_lots_customer")
                            .from_tbl("account_lots")
                            .from_col("brand_id")
                            .from_col("customer_id")
                            .to_tbl("customers")
                            .to_col("brand_id")
                            .to_col("id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_account_lots_expiry")
                    .table("account_lots")
                    .col("brand_id")
                    .col("customer_id")
                    .col("expires_at")
                    .col("expires_at_ns")
                    .col("seq")
                    .to_owned(),
            )
            .await?;
        move_lots(manager.get_connection()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("UPDATE balances SET state = NULL")
            .await?;
        manager
            .drop_table(Table::drop().table("account_lots").to_owned())
            .await
    }
}

/// Moves the lots of every stored state into rows, a page of accounts at a time.
async fn move_lots(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let p = |n: usize| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    };
    let mut after: Option<(Value, Value)> = None;
    loop {
        let (sql, values) = match &after {
            None => (
                format!(
                    "SELECT brand_id, customer_id, state FROM balances WHERE state IS NOT NULL \
                     ORDER BY brand_id, customer_id LIMIT {PAGE}"
                ),
                Vec::new(),
            ),
            Some((brand, customer)) => (
                format!(
                    "SELECT brand_id, customer_id, state FROM balances WHERE state IS NOT NULL \
                     AND (brand_id > {} OR (brand_id = {} AND customer_id > {})) \
                     ORDER BY brand_id, customer_id LIMIT {PAGE}",
                    p(1),
                    p(2),
                    p(3)
                ),
                vec![brand.clone(), brand.clone(), customer.clone()],
            ),
        };
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        let brand: uuid::Uuid = last.try_get("", "brand_id")?;
        let customer: uuid::Uuid = last.try_get("", "customer_id")?;
        after = Some((brand.into(), customer.into()));
        for row in &rows {
            let brand: uuid::Uuid = row.try_get("", "brand_id")?;
            let customer: uuid::Uuid = row.try_get("", "customer_id")?;
            let text: String = row.try_get("", "state")?;
            move_one(db, brand, customer, &text).await?;
        }
    }
}

/// Moves one account's lots; clears a state that does not read.
async fn move_one(
    db: &impl ConnectionTrait,
    brand: uuid::Uuid,
    customer: uuid::Uuid,
    text: &str,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let p = |n: usize| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    };
    let figures = match serde_json::from_str::<AccountState>(text) {
        Ok(state) => {
            for lot in state.lot_changes().write {
                let (micros, nanos) = crate::repo::lot_instant(lot.expires_at);
                let seq = <i64 as TryFrom<u64>>::try_from(lot.seq)
                    .map_err(|_| DbErr::Custom(format!("lot seq {} out of range", lot.seq)))?;
                db.execute_raw(Statement::from_sql_and_values(
                    backend,
                    format!(
                        "INSERT INTO account_lots \
                         (brand_id, customer_id, seq, expires_at, expires_at_ns, remaining) \
                         VALUES ({}, {}, {}, {}, {}, {})",
                        p(1),
                        p(2),
                        p(3),
                        p(4),
                        p(5),
                        p(6)
                    ),
                    [
                        brand.into(),
                        customer.into(),
                        seq.into(),
                        micros.into(),
                        nanos.into(),
                        lot.remaining.value().into(),
                    ],
                ))
                .await?;
            }
            Some(
                serde_json::to_string(&state.without_lots())
                    .map_err(|e| DbErr::Custom(format!("account state: {e}")))?,
            )
        }
        Err(_) => None,
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        format!(
            "UPDATE balances SET state = {} WHERE brand_id = {} AND customer_id = {}",
            p(1),
            p(2),
            p(3)
        ),
        [figures.into(), brand.into(), customer.into()],
    ))
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use crate::migration::Migrator;
    use regulars_domain::{EventKey, Points};
    use regulars_loyalty::ledger::Ledger;
    use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
    use sea_orm_migration::{MigrationTrait, MigratorTrait, SchemaManager};
    use time::Duration;
    use time::macros::datetime;

    async fn states(db: &DatabaseConnection) -> Vec<Option<String>> {
        db.query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT state FROM balances ORDER BY customer_id",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<Option<String>>("", "state").unwrap())
        .collect()
    }

    #[tokio::test]
    async fn stored_lots_move_into_rows_and_back_to_the_entries() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let before = Migrator::migrations()
            .iter()
            .position(|m| m.name() == "m20261211_200001_account_lots")
            .unwrap();
        Migrator::up(&db, Some(u32::try_from(before).unwrap()))
            .await
            .unwrap();
        let backend = db.get_database_backend();
        // Balances without their brand and customer rows: only the move is under test.
        db.execute_unprepared("PRAGMA foreign_keys = OFF")
            .await
            .unwrap();
        let at = datetime!(2026-03-02 09:00:00.000000123 UTC);
        let mut ledger = Ledger::new();
        for (i, days) in [Some(30), None, Some(10)].into_iter().enumerate() {
            let order = EventKey::new("pos:generic", format!("A-{i}")).unwrap();
            let expires = days.map(|d| at + Duration::days(d) + Duration::nanoseconds(5));
            ledger
                .earn(order, Points::new(10 * (i as i64 + 1)), at, expires)
                .unwrap();
        }
        ledger.redeem(Points::new(5), at, "reward:cake").unwrap();
        let inline = serde_json::to_string(ledger.state().account()).unwrap();
        let brand = uuid::Uuid::from_bytes([1; 16]);
        for (n, state) in [(1u8, inline.as_str()), (2, "\"not a state\"")] {
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                "INSERT INTO balances (brand_id, customer_id, balance, next_seq, state) \
                 VALUES (?, ?, 0, 0, ?)",
                [
                    brand.into(),
                    uuid::Uuid::from_bytes([n; 16]).into(),
                    state.into(),
                ],
            ))
            .await
            .unwrap();
        }
        Migrator::up(&db, None).await.unwrap();

        let moved = states(&db).await;
        let figures: regulars_loyalty::ledger::AccountState =
            serde_json::from_str(moved[0].as_deref().unwrap()).unwrap();
        assert_eq!(figures, ledger.state().account().without_lots());
        assert_eq!(moved[1], None, "a state that does not read is built again");
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT seq, expires_at, expires_at_ns, remaining FROM account_lots ORDER BY seq",
            ))
            .await
            .unwrap();
        let lots: Vec<(i64, Option<i64>, i32, i64)> = rows
            .iter()
            .map(|r| {
                (
                    r.try_get("", "seq").unwrap(),
                    r.try_get("", "expires_at").unwrap(),
                    r.try_get("", "expires_at_ns").unwrap(),
                    r.try_get("", "remaining").unwrap(),
                )
            })
            .collect();
        let expected: Vec<(i64, Option<i64>, i32, i64)> = ledger
            .state()
            .lots()
            .map(|lot| {
                let (micros, nanos) = crate::repo::lot_instant(lot.expires_at);
                (lot.seq as i64, micros, nanos, lot.remaining.value())
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(lots, expected);
        assert_eq!(lots.len(), 3);
        assert!(lots.iter().any(|l| l.2 == 128), "nanoseconds kept");

        let manager = SchemaManager::new(&db);
        super::Migration.down(&manager).await.unwrap();
        assert_eq!(states(&db).await, [None, None]);
    }
}
