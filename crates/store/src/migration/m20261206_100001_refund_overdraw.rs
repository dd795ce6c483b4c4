//! Renames the stored refund policies to the brand setting `refund_overdraw` (`debt`,
//! `void_unredeemed`, `clamp`) and moves every existing brand to `debt`.
//!
//! Until now `regulars brand create` wrote `clamp_and_record` for every brand: no brand
//! ever chose it, and it lets a customer keep the reward bought with the points of a
//! refunded order. `clamp` is now only kept by an explicit choice, so existing brands get
//! the new default: the points a refund cannot take back become debt that later earnings
//! repay. (`allow_negative` was already debt by another name.) A brand that wants the old
//! behaviour sets `refund_overdraw` to `clamp` again through `PATCH /v1/brand`.

use sea_orm_migration::prelude::*;

/// Rewrites `brands.refund_policy`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_100001_refund_overdraw"
    }
}

/// (new value, old values it replaces) going up.
const UP: &[(&str, &[&str])] = &[("debt", &["allow_negative", "clamp_and_record"])];

/// (old value, new values it replaces) going down: the old schema knew only two
/// policies, and `void_unredeemed` without its vouchers is debt.
const DOWN: &[(&str, &[&str])] = &[
    ("allow_negative", &["debt", "void_unredeemed"]),
    ("clamp_and_record", &["clamp"]),
];

async fn rewrite(manager: &SchemaManager<'_>, map: &[(&str, &[&str])]) -> Result<(), DbErr> {
    let policy = Alias::new("refund_policy");
    for (to, from) in map {
        let update = Query::update()
            .table(Alias::new("brands"))
            .value(policy.clone(), *to)
            .and_where(Expr::col(policy.clone()).is_in(from.iter().copied()))
            .to_owned();
        manager.exec_stmt(update).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rewrite(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rewrite(manager, DOWN).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use crate::migration::Migrator;
    use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
    use sea_orm_migration::{MigrationTrait, MigratorTrait, SchemaManager};

    async fn policies(db: &DatabaseConnection) -> Vec<String> {
        let backend = db.get_database_backend();
        db.query_all_raw(Statement::from_string(
            backend,
            "SELECT refund_policy FROM brands ORDER BY name",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "refund_policy").unwrap())
        .collect()
    }

    #[tokio::test]
    async fn existing_brands_move_to_debt_and_back() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        // The schema as it was before this migration: the five released before it.
        Migrator::up(&db, Some(5)).await.unwrap();
        let backend = db.get_database_backend();
        for (name, policy) in [("a", "clamp_and_record"), ("b", "allow_negative")] {
            db.execute_raw(Statement::from_string(
                backend,
                format!(
                    "INSERT INTO brands (id, name, currency, calling_code, utc_offset_seconds, \
                     refund_policy, points_validity_days, created_at) VALUES \
                     (X'0{n}000000000000000000000000000000', '{name}', 'VND', 84, 25200, \
                     '{policy}', NULL, 0)",
                    n = if name == "a" { 1 } else { 2 },
                ),
            ))
            .await
            .unwrap();
        }
        Migrator::up(&db, None).await.unwrap();
        assert_eq!(policies(&db).await, ["debt", "debt"]);
        // Its own step down, whatever migrations come after it.
        let manager = SchemaManager::new(&db);
        super::Migration.down(&manager).await.unwrap();
        assert_eq!(policies(&db).await, ["allow_negative", "allow_negative"]);
    }
}
