//! Each counted order of a customer carries when the customer's counted order before it
//! was placed (`orders.prev_counted_at`, ordered by time, then id), so a report counts
//! the customers active in a span of time — those with an order in it whose link is
//! before the span — in one pass over the span's orders instead of grouping them per
//! customer.
//!
//! * An order written with its customer's stats as they are once it is counted
//!   (`CustomerStats::counted`) and the customer's latest: its link is the latest but
//!   one, known without a read; nothing else moves.
//! * An import's orders of a customer whose orders in the chunk all come after their
//!   latest counted one (`ImportWrite::counted_before`): linked to each other in time
//!   order as they are written, the first to that latest time ([`import_links`]).
//! * Anything else — an order earlier than the customer's latest, one stored without
//!   stats, a refund that uncounts an order, a claimed order, an imported order earlier
//!   than its customer's stored ones — relinks the customer's orders from that time on in
//!   one statement: a window over their orders, writing only the links that change.

use crate::convert::to_micros;
use crate::error::in_ctx;
use crate::repo::customer_list::Sql;
use crate::repo::report_groups::counted;
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, CustomerId, OrderId};
use regulars_ports::{CountedTimes, CustomerStats, StoreError, StoredOrder};
use sea_orm::{ConnectionTrait, Statement};
use std::collections::{BTreeMap, HashMap};

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

/// How an import chunk's orders are linked.
#[derive(Debug, Default)]
pub(crate) struct ImportLinks {
    /// The links of the orders linked as they are written (in microseconds).
    pub(crate) known: HashMap<OrderId, Option<i64>>,
    /// The customers whose orders are relinked once the chunk is written, in id order.
    pub(crate) relink: Vec<uuid::Uuid>,
}

/// The links of an import chunk's `orders`, given their customers' counted times as the
/// chunk found them (`before`): a customer found there whose orders in the chunk are all
/// later than their latest counted order has each counted order linked to the counted one
/// before it in time order (then id), the first to that latest; an uncounted order links
/// to nothing. Every other customer is relinked.
pub(crate) fn import_links(
    orders: &[StoredOrder],
    before: &[(CustomerId, CountedTimes)],
) -> ImportLinks {
    let before: HashMap<CustomerId, CountedTimes> = before.iter().copied().collect();
    let mut theirs: BTreeMap<CustomerId, Vec<&StoredOrder>> = BTreeMap::new();
    for stored in orders {
        if let Some(customer) = stored.customer_id {
            theirs.entry(customer).or_default().push(stored);
        }
    }
    let mut links = ImportLinks::default();
    for (customer, mut chain) in theirs {
        chain.sort_by_key(|o| (o.order.placed_at, o.id));
        let latest = before.get(&customer).map(|counted| counted.last);
        let after_latest = match (latest, chain.first()) {
            (Some(None), _) => true,
            (Some(Some(last)), Some(first)) => first.order.placed_at > last,
            _ => false,
        };
        if !after_latest {
            links.relink.push(customer.as_uuid());
            continue;
        }
        let mut previous = latest.flatten();
        for stored in chain {
            if regulars_reports::order_counts(&stored.order.total, &stored.refunded) {
                links.known.insert(stored.id, previous.map(to_micros));
                previous = Some(stored.order.placed_at);
            } else {
                links.known.insert(stored.id, None);
            }
        }
    }
    links
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
