//! A page of customers as a campaign plans them ([`IntelligenceRepo::latest_histories`]):
//! profile, stats, balance and latest move down as for scoring, but of their visits only
//! the latest, without its lines — one order row per customer however often they came,
//! so a page costs the same for a regular of ten years as for a newcomer.
//!
//! [`IntelligenceRepo::latest_histories`]: regulars_ports::IntelligenceRepo::latest_histories

use super::account_lots::placeholders;
use crate::convert::{from_micros, money};
use crate::entity::{balance, customer, customer_stats};
use crate::error::in_ctx;
use crate::repo::customers::{customer_from_row, stats_from_row};
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, CustomerId, OrderId, Points};
use regulars_ports::{CustomerHistory, CustomerStats, StoreError, TierReview, Visit};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
    Value,
};
use std::collections::HashMap;
use uuid::Uuid;

/// A page of customers in id order with what every reader of histories needs beside
/// their visits: stats, balance and latest move down. `None` past the last customer.
pub(crate) struct CustomerPage {
    rows: Vec<customer::Model>,
    /// The page's customer ids, in order.
    pub(crate) ids: Vec<Uuid>,
    stats: HashMap<Uuid, CustomerStats>,
    balances: HashMap<Uuid, i64>,
    tier_down: HashMap<Uuid, TierReview>,
}

impl CustomerPage {
    /// Reads the page of at most `limit` customers after `after`.
    pub(crate) async fn read(
        tx: &StoreTransaction,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Option<CustomerPage>, StoreError> {
        let b = brand.as_uuid();
        let mut query = customer::Entity::find()
            .filter(customer::Column::BrandId.eq(b))
            .filter(customer::Column::ErasedAt.is_null())
            .order_by_asc(customer::Column::Id)
            .limit(limit);
        if let Some(after) = after {
            query = query.filter(customer::Column::Id.gt(after.as_uuid()));
        }
        let rows = query
            .all(&tx.tx)
            .await
            .map_err(in_ctx("select from customers"))?;
        if rows.is_empty() {
            return Ok(None);
        }
        let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
        let mut stats = HashMap::new();
        for row in customer_stats::Entity::find()
            .filter(customer_stats::Column::BrandId.eq(b))
            .filter(customer_stats::Column::CustomerId.is_in(ids.clone()))
            .all(&tx.tx)
            .await
            .map_err(in_ctx("select from customer_stats"))?
        {
            stats.insert(row.customer_id, stats_from_row(row)?);
        }
        let balances = balance::Entity::find()
            .filter(balance::Column::BrandId.eq(b))
            .filter(balance::Column::CustomerId.is_in(ids.clone()))
            .all(&tx.tx)
            .await
            .map_err(in_ctx("select from balances"))?
            .into_iter()
            .map(|row| (row.customer_id, row.balance))
            .collect();
        let tier_down = crate::repo::tier_reviews::latest_moves_down(tx, brand, &ids).await?;
        Ok(Some(CustomerPage {
            rows,
            ids,
            stats,
            balances,
            tier_down,
        }))
    }

    /// The page's histories, each with the visits `visits` gives for its customer.
    pub(crate) fn histories(
        mut self,
        tx: &StoreTransaction,
        mut visits: impl FnMut(Uuid) -> Vec<Visit>,
    ) -> Result<Vec<CustomerHistory>, StoreError> {
        self.rows
            .into_iter()
            .map(|row| {
                let id = row.id;
                Ok(CustomerHistory {
                    customer: customer_from_row(tx.keys(), row)?,
                    stats: self.stats.remove(&id),
                    balance: Points::new(self.balances.get(&id).copied().unwrap_or(0)),
                    visits: visits(id),
                    tier_down: self.tier_down.remove(&id),
                })
            })
            .collect()
    }
}

pub(crate) async fn latest_histories(
    tx: &StoreTransaction,
    brand: BrandId,
    after: Option<CustomerId>,
    limit: u64,
) -> Result<Vec<CustomerHistory>, StoreError> {
    let Some(page) = CustomerPage::read(tx, brand, after, limit).await? else {
        return Ok(Vec::new());
    };
    let mut latest = latest_visits(tx, brand, &page.ids).await?;
    page.histories(tx, |id| latest.remove(&id).into_iter().collect())
}

/// Each customer's latest order (the last by time, then by id, as `histories` orders
/// them), in one statement; `skus` left empty.
async fn latest_visits(
    tx: &StoreTransaction,
    brand: BrandId,
    customers: &[Uuid],
) -> Result<HashMap<Uuid, Visit>, StoreError> {
    let backend = tx.tx.get_database_backend();
    let sql = format!(
        "SELECT customer_id, id, placed_at, location, currency, total_minor, refunded_minor \
         FROM (SELECT customer_id, id, placed_at, location, currency, total_minor, \
                 refunded_minor, ROW_NUMBER() OVER (PARTITION BY customer_id \
                 ORDER BY placed_at DESC, id DESC) AS latest \
               FROM orders WHERE brand_id = {} AND customer_id IN ({})) AS o \
         WHERE latest = 1",
        placeholders(backend, 1, 1),
        placeholders(backend, 2, customers.len()),
    );
    let mut values = Vec::with_capacity(customers.len() + 1);
    values.push(Value::from(brand.as_uuid()));
    values.extend(customers.iter().map(|c| Value::from(*c)));
    let rows = tx
        .tx
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .map_err(in_ctx("select the latest order of each customer"))?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let read = |e| in_ctx("read the latest order of a customer")(e);
        let customer: Uuid = row.try_get("", "customer_id").map_err(read)?;
        let id: Uuid = row.try_get("", "id").map_err(read)?;
        let placed_at: i64 = row.try_get("", "placed_at").map_err(read)?;
        let location: Option<String> = row.try_get("", "location").map_err(read)?;
        let currency: String = row.try_get("", "currency").map_err(read)?;
        let total: i64 = row.try_get("", "total_minor").map_err(read)?;
        let refunded: i64 = row.try_get("", "refunded_minor").map_err(read)?;
        out.insert(
            customer,
            Visit {
                order_id: OrderId::from_uuid(id),
                at: from_micros(placed_at)?,
                location,
                net_total: money(total - refunded, &currency)?,
                skus: Vec::new(),
            },
        );
    }
    Ok(out)
}
