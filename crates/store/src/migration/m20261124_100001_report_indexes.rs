//! Indexes the brand reports read by: orders, vouchers and ledger entries by time.

use sea_orm_migration::prelude::*;

/// Creates the reports' time indexes.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_100001_report_indexes"
    }
}

/// (index, table, columns). Orders are paged by `(placed_at, id)` within a brand.
const INDEXES: &[(&str, &str, &[&str])] = &[
    (
        "ix_orders_placed",
        "orders",
        &["brand_id", "placed_at", "id"],
    ),
    ("ix_vouchers_issued", "vouchers", &["brand_id", "issued_at"]),
    (
        "ix_ledger_entries_at",
        "ledger_entries",
        &["brand_id", "at"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, cols) in INDEXES {
            let mut index = Index::create();
            index.name(*name).table(*table);
            for col in *cols {
                index.col(*col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(*name).table(*table).to_owned())
                .await?;
        }
        Ok(())
    }
}
