//! Each counted order of a customer carries when the customer's counted order before it
//! was placed (`orders.prev_counted_at`, ordered by time, then id), so a report counts
//! the customers active in a span of time — those with an order in it whose link is
//! before the span — in one pass over the span's orders instead of grouping them per
//! customer.
//!
//! * An order written with its customer's stats as they are once it is counted
//!   (`CustomerStats::counted`) and the customer's latest: its link is the latest but
//!   one, known without a read; nothing else moves.
//! * Anything else — an order earlier than the customer's latest, one stored without
//!   stats, a refund that uncounts an order, a claimed order, an import — relinks the
//!   customer's orders from that time on in one statement: a window over their orders,
//!   writing only the links that change.

use crate::error::in_ctx;
use crate::repo::customer_list::Sql;
use crate::repo::report_groups::counted;
use crate::tx::StoreTransaction;
use regulars_domain::BrandId;
use regulars_ports::{CustomerStats, StoreError, StoredOrder};
use sea_orm::{ConnectionTrait, Statement};

/// How a new order is linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    /// Its link is this (in microseconds), and no other order's moves.
    Known(Option<i64>),
    /// Its customer's orders from its time on are relinked once it is stored.
    Relink,
}

/// How `stored` is linked, given its customer's `stats` with it counted (when known).
pub(crate) fn link_of(stored: &StoredOrder, stats: Option<&CustomerStats>) -> Link {
    if stored.customer_id.is_none() {
        return Link::Known(None);
    }
    let placed = stored.order.placed_at;
    match stats {
        Some(stats) if stats.counted.last == Some(placed) => {
            Link::Known(stats.counted.second_last.map(crate::convert::to_micros))
        }
        _ => Link::Relink,
    }
}

/// Relinks the orders of `customers` placed at or after `from` (all of them without).
pub(crate) async fn relink(
    tx: &mut StoreTransaction,
    brand: BrandId,
    customers: &[uuid::Uuid],
    from: Option<i64>,
) -> Result<(), StoreError> {
    if customers.is_empty() {
        return Ok(());
    }
    // Placeholders bound in the order they appear (SQLite's are positional).
    let mut sql = Sql {
        backend: tx.tx.get_database_backend(),
        values: Vec::new(),
    };
    let counted = counted("o");
    let inner_brand = sql.bind(brand.as_uuid());
    let list: Vec<String> = customers.iter().map(|c| sql.bind(*c)).collect();
    let outer_brand = sql.bind(brand.as_uuid());
    let since = from
        .map(|from| format!(" AND orders.placed_at >= {}", sql.bind(from)))
        .unwrap_or_default();
    let text = format!(
        "UPDATE orders SET prev_counted_at = w.prev FROM (\
         SELECT o.id AS wid, CASE WHEN {counted} THEN MAX(CASE WHEN {counted} \
         THEN o.placed_at END) OVER (PARTITION BY o.customer_id ORDER BY o.placed_at, o.id \
         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) END AS prev \
         FROM orders o WHERE o.brand_id = {inner_brand} AND o.customer_id IN ({})) w \
         WHERE orders.brand_id = {outer_brand} AND orders.id = w.wid{since} \
         AND (orders.prev_counted_at <> w.prev \
         OR (orders.prev_counted_at IS NULL) <> (w.prev IS NULL))",
        list.join(", "),
    );
    tx.tx
        .execute_raw(Statement::from_sql_and_values(
            sql.backend,
            text,
            sql.values,
        ))
        .await
        .map_err(in_ctx(
            "update orders (links to the previous counted order)",
        ))?;
    Ok(())
}
