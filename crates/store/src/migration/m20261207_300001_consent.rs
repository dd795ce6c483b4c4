//! Consent as data: the state of each purpose (`never_asked`, `granted`, `withdrawn`) on
//! the customer's row, and `consent_events`, the append-only history of every change
//! with its time, source, author and the notice version shown.
//!
//! Consent given before this migration (the per-channel booleans) is carried over as
//! `granted` with source `legacy`, dated at the customer's registration (the moment it
//! was given is not known). The booleans stay, kept equal to "granted", for readers that
//! predate the states.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer_null, text, uuid};

/// Adds the consent states and creates `consent_events`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_300001_consent"
    }
}

/// The state columns added to `customers`, with the boolean each starts from.
const STATES: [(&str, Option<&str>, &str); 5] = [
    ("consent_state_zalo", Some("consent_zalo"), "marketing_zalo"),
    ("consent_state_sms", Some("consent_sms"), "marketing_sms"),
    (
        "consent_state_email",
        Some("consent_email"),
        "marketing_email",
    ),
    ("consent_state_profiling", None, "profiling"),
    ("consent_state_programme", None, "programme"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite takes one alteration at a time.
        for (column, _, _) in STATES {
            manager
                .alter_table(
                    Table::alter()
                        .table("customers")
                        .add_column(text(column).default("never_asked"))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("consent_events")
                    .col(uuid("brand_id"))
                    .col(uuid("customer_id"))
                    .col(big_integer("seq"))
                    .col(text("purpose"))
                    .col(text("state"))
                    .col(big_integer("at"))
                    .col(text("source"))
                    .col(text("actor"))
                    .col(integer_null("notice_version"))
                    .primary_key(
                        Index::create()
                            .col("brand_id")
                            .col("customer_id")
                            .col("seq")
                            .primary(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consent_events_brand_id")
                            .from_tbl("consent_events")
                            .from_col("brand_id")
                            .to_tbl("brands")
                            .to_col("id"),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for (seq, (column, legacy, purpose)) in STATES.iter().enumerate() {
            let Some(legacy) = legacy else { continue };
            db.execute_unprepared(&format!(
                "UPDATE customers SET {column} = 'granted' WHERE {legacy} = TRUE"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "INSERT INTO consent_events \
                 (brand_id, customer_id, seq, purpose, state, at, source, actor, notice_version) \
                 SELECT brand_id, id, {seq}, '{purpose}', 'granted', created_at, 'legacy', \
                 'migration', NULL FROM customers WHERE {legacy} = TRUE",
                seq = seq + 1
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("consent_events").to_owned())
            .await?;
        for (column, _, _) in STATES {
            manager
                .alter_table(
                    Table::alter()
                        .table("customers")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use crate::migration::Migrator;
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, Value};
    use sea_orm_migration::MigratorTrait;

    /// Consent given before the states existed is carried over as granted, source
    /// `legacy`; a channel without it stays never asked.
    #[tokio::test]
    async fn existing_consent_is_carried_over_as_granted_from_legacy() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        // Every migration before this one.
        let before = Migrator::migrations()
            .iter()
            .position(|m| m.name() == "m20261207_300001_consent")
            .unwrap();
        Migrator::up(&db, Some(before as u32)).await.unwrap();
        let brand = uuid::Uuid::from_bytes([1; 16]);
        let customer = uuid::Uuid::from_bytes([2; 16]);
        let run = |sql: &str, values: Vec<Value>| {
            Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
        };
        db.execute_raw(run(
            "INSERT INTO brands (id, name, currency, calling_code, utc_offset_seconds, \
             refund_policy, points_validity_days, created_at) \
             VALUES (?, 'Cà phê', 'VND', 84, 25200, 'reverse', NULL, 0)",
            vec![brand.into()],
        ))
        .await
        .unwrap();
        db.execute_raw(run(
            "INSERT INTO customers (brand_id, id, phone, consent_zalo, consent_sms, \
             consent_email, created_at) VALUES (?, ?, '+84912345678', TRUE, FALSE, TRUE, 7)",
            vec![brand.into(), customer.into()],
        ))
        .await
        .unwrap();
        Migrator::up(&db, None).await.unwrap();

        let states = db
            .query_one_raw(run(
                "SELECT consent_state_zalo, consent_state_sms, consent_state_email, \
                 consent_state_profiling FROM customers",
                vec![],
            ))
            .await
            .unwrap()
            .unwrap();
        let got: Vec<String> = (0..4)
            .map(|i| states.try_get_by_index::<String>(i).unwrap())
            .collect();
        assert_eq!(got, ["granted", "never_asked", "granted", "never_asked"]);
        let events = db
            .query_all_raw(run(
                "SELECT purpose, state, source, at FROM consent_events ORDER BY seq",
                vec![],
            ))
            .await
            .unwrap();
        let got: Vec<(String, String, String, i64)> = events
            .iter()
            .map(|r| {
                (
                    r.try_get_by_index(0).unwrap(),
                    r.try_get_by_index(1).unwrap(),
                    r.try_get_by_index(2).unwrap(),
                    r.try_get_by_index(3).unwrap(),
                )
            })
            .collect();
        let row = |p: &str| (p.to_owned(), "granted".to_owned(), "legacy".to_owned(), 7);
        assert_eq!(got, [row("marketing_zalo"), row("marketing_email")]);
    }
}
