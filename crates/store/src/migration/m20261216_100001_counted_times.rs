//! `customer_stats.first_counted_at`, `last_counted_at`, `second_last_counted_at`: when
//! the customer's earliest and latest two orders that count in reports (not refunded in
//! full) were placed, kept as orders arrive and refunds land. A brand's overview then
//! counts its new, prior, active and repeat customers in one pass over its customers'
//! stats instead of grouping every order. Filled here from the orders already stored.

use sea_orm_migration::prelude::*;

/// Adds the columns and fills them.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261216_100001_counted_times"
    }
}

/// (column, the order of the customer's counted orders it takes, how many it skips)
const COLUMNS: [(&str, &str, u32); 3] = [
    ("first_counted_at", "ASC", 0),
    ("last_counted_at", "DESC", 0),
    ("second_last_counted_at", "DESC", 1),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (column, _, _) in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table("customer_stats")
                        .add_column(ColumnDef::new(column).big_integer().null())
                        .to_owned(),
                )
                .await?;
        }
        let set: Vec<String> = COLUMNS
            .iter()
            .map(|(column, order, skip)| {
                format!(
                    "{column} = (SELECT o.placed_at FROM orders o \
                     WHERE o.brand_id = customer_stats.brand_id \
                     AND o.customer_id = customer_stats.customer_id \
                     AND (o.refunded_minor = 0 OR o.refunded_minor < o.total_minor) \
                     ORDER BY o.placed_at {order} LIMIT 1 OFFSET {skip})"
                )
            })
            .collect();
        manager
            .get_connection()
            .execute_unprepared(&format!("UPDATE customer_stats SET {}", set.join(", ")))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (column, _, _) in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table("customer_stats")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
