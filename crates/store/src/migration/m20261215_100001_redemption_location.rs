//! `vouchers.redeemed_location`: the code of the location a voucher was redeemed at, as
//! orders carry it, so a redemption at the till (which names no order) counts at its
//! shop. Vouchers redeemed before this migration on an order that had reached the server
//! take that order's location; the others (redeemed at the till, or on an order never
//! received) stay without one.

use sea_orm_migration::prelude::*;

/// Adds the column and fills it from the redeeming orders.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261215_100001_redemption_location"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("vouchers")
                    .add_column(ColumnDef::new("redeemed_location").text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE vouchers SET redeemed_location = (SELECT o.location FROM orders o \
                 WHERE o.brand_id = vouchers.brand_id \
                 AND o.source = vouchers.redeemed_order_source \
                 AND o.external_id = vouchers.redeemed_order_external_id) \
                 WHERE status = 'redeemed' AND redeemed_order_external_id IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("vouchers")
                    .drop_column("redeemed_location")
                    .to_owned(),
            )
            .await
    }
}
