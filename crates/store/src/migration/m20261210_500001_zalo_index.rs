//! `customers.zalo_index`: the blind index a customer is found by from their Zalo user id
//! (a text they send the brand's Official Account names them by that id only), as
//! `phone_index` finds them by phone. Rows already sealed get theirs from the next sealing
//! sweep: the mark that spares the sweep is cleared here.

use sea_orm_migration::prelude::*;

/// Adds `customers.zalo_index` and its index.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261210_500001_zalo_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("customers")
                    .add_column(ColumnDef::new("zalo_index").text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_customers_zalo_index")
                    .table("customers")
                    .col("brand_id")
                    .col("zalo_index")
                    .to_owned(),
            )
            .await?;
        // Sealed rows holding a Zalo id have no index yet: let the start-up sweep run.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE contact_sealing SET sealed = FALSE WHERE scope = 'contacts'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_customers_zalo_index")
                    .table("customers")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("customers")
                    .drop_column("zalo_index")
                    .to_owned(),
            )
            .await
    }
}
