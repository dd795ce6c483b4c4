//! What a brand's overview counts its customers by, kept as orders arrive and refunds
//! land, instead of grouping every order per customer:
//!
//! * `customer_stats.first_counted_at`, `last_counted_at`, `second_last_counted_at`: when
//!   the customer's earliest and latest two orders that count in reports (not refunded
//!   in full) were placed — new, prior, active and repeat customers in one pass over
//!   the customers' stats;
//! * `orders.prev_counted_at`: on a counted order of a customer, when their counted order
//!   before it was placed (by time, then id) — the customers active in each week or day
//!   in one pass over the period's orders.
//!
//! Filled here from the orders already stored.

use sea_orm_migration::prelude::*;

/// Adds the columns and fills them.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261216_100001_counted_times"
    }
}

/// The orders' link to their customer's previous counted order.
const LINK: &str = "prev_counted_at";

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
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .add_column(ColumnDef::new(LINK).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE orders SET {LINK} = w.prev FROM (SELECT brand_id AS wb, id AS wid, \
                 LAG(placed_at) OVER (PARTITION BY brand_id, customer_id \
                 ORDER BY placed_at, id) AS prev FROM orders WHERE customer_id IS NOT NULL \
                 AND (refunded_minor = 0 OR refunded_minor < total_minor)) w \
                 WHERE orders.brand_id = w.wb AND orders.id = w.wid AND w.prev IS NOT NULL"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("orders").drop_column(LINK).to_owned())
            .await?;
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
