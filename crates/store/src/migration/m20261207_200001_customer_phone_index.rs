//! `customers.phone_index`: the blind index customers are found by when their contact
//! data is sealed at rest (HMAC-SHA256 of the brand and the E.164 phone under a key
//! derived from the server key), unique per brand. The key is not known here: rows
//! written before keep it empty (and their phone plain) until the server seals them at
//! start-up; a look-up also matches the plain phone until then.

use sea_orm_migration::prelude::*;

/// Adds the column and its unique index.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_200001_customer_phone_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("customers")
                    .add_column(ColumnDef::new("phone_index").text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_customers_phone_index")
                    .table("customers")
                    .col("brand_id")
                    .col("phone_index")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_customers_phone_index")
                    .table("customers")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("customers")
                    .drop_column("phone_index")
                    .to_owned(),
            )
            .await
    }
}
