//! [`OrderRepo`]: orders with their lines, and their refunded totals.

use crate::contact::{ContactKeys, Place, open_opt, seal_opt};
use crate::convert::{currency, from_json, from_micros, money, to_json, to_micros, to_minor};
use crate::entity::{order, order_line};
use crate::error::{corrupt, in_ctx, unstorable};
use crate::repo::order_chain::{Link, link_of, relink};
use crate::repo::reports::counted_orders;
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{
    BrandId, CustomerId, EventKey, LineItem, Money, Order, OrderId, Phone, Points,
};
use regulars_ports::{CountedTimes, CustomerStats, OrderRepo, StoreError, StoredOrder};
use regulars_reports::order_counts;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, EntityTrait, IntoActiveModel, Order as Sort,
    QueryFilter, QueryOrder, QuerySelect,
};
use time::OffsetDateTime;

#[async_trait]
impl OrderRepo for StoreTransaction {
    async fn order_by_key(
        &mut self,
        brand: BrandId,
        key: &EventKey,
    ) -> Result<Option<StoredOrder>, StoreError> {
        self.find_order_by_key(brand, key, false).await
    }

    async fn lock_order_by_key(
        &mut self,
        brand: BrandId,
        key: &EventKey,
    ) -> Result<Option<StoredOrder>, StoreError> {
        self.find_order_by_key(brand, key, true).await
    }

    async fn order(
        &mut self,
        brand: BrandId,
        id: OrderId,
    ) -> Result<Option<StoredOrder>, StoreError> {
        let Some(row) = order::Entity::find_by_id((brand.as_uuid(), id.as_uuid()))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from orders"))?
        else {
            return Ok(None);
        };
        let mut orders = self.with_lines(brand, vec![row]).await?;
        Ok(orders.pop())
    }

    async fn orders(
        &mut self,
        brand: BrandId,
        customer: Option<CustomerId>,
        after: Option<OrderId>,
        limit: u64,
    ) -> Result<Vec<StoredOrder>, StoreError> {
        let mut query = order::Entity::find()
            .filter(order::Column::BrandId.eq(brand.as_uuid()))
            .order_by_asc(order::Column::Id)
            .limit(limit);
        if let Some(customer) = customer {
            query = query.filter(order::Column::CustomerId.eq(customer.as_uuid()));
        }
        if let Some(after) = after {
            query = query.filter(order::Column::Id.gt(after.as_uuid()));
        }
        let rows = query
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from orders"))?;
        self.with_lines(brand, rows).await
    }

    async fn orders_at(
        &mut self,
        brand: BrandId,
        codes: &[String],
        customer: Option<CustomerId>,
        after: Option<OrderId>,
        limit: u64,
    ) -> Result<Vec<StoredOrder>, StoreError> {
        let mut query = order::Entity::find()
            .filter(order::Column::BrandId.eq(brand.as_uuid()))
            .filter(order::Column::Location.is_in(codes.iter().cloned()))
            .order_by_asc(order::Column::Id)
            .limit(limit);
        if let Some(customer) = customer {
            query = query.filter(order::Column::CustomerId.eq(customer.as_uuid()));
        }
        if let Some(after) = after {
            query = query.filter(order::Column::Id.gt(after.as_uuid()));
        }
        let rows = query
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from orders"))?;
        self.with_lines(brand, rows).await
    }

    /// Stores the order and its lines; `created_at` is the time of this call.
    async fn insert_order(&mut self, stored: &StoredOrder) -> Result<(), StoreError> {
        self.insert_linked(stored, link_of(stored, None)).await
    }

    async fn insert_counted_order(
        &mut self,
        stored: &StoredOrder,
        stats: &CustomerStats,
    ) -> Result<(), StoreError> {
        self.insert_linked(stored, link_of(stored, Some(stats)))
            .await
    }

    async fn write_order(
        &mut self,
        writes: &regulars_ports::OrderWrites,
    ) -> Result<Option<regulars_ports::AccountHead>, StoreError> {
        super::order_writes::write_order(self, writes).await
    }

    async fn counted_times(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        except: OrderId,
    ) -> Result<CountedTimes, StoreError> {
        use order::Column as C;
        // Each a walk of a few entries of the orders' `(brand_id, customer_id, placed_at,
        // total_minor, refunded_minor)` index, from one end.
        let times = |order: Sort, limit: u64| {
            order::Entity::find()
                .select_only()
                .column(C::PlacedAt)
                .filter(C::BrandId.eq(brand.as_uuid()))
                .filter(C::CustomerId.eq(customer.as_uuid()))
                .filter(C::Id.ne(except.as_uuid()))
                .filter(counted_orders())
                .order_by(C::PlacedAt, order)
                .limit(limit)
                .into_tuple::<i64>()
        };
        let first = times(Sort::Asc, 1)
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from orders (first counted)"))?;
        let latest = times(Sort::Desc, 2)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from orders (latest counted)"))?;
        let at = |micros: Option<&i64>| micros.copied().map(from_micros).transpose();
        Ok(CountedTimes {
            first: at(first.as_ref())?,
            last: at(latest.first())?,
            second_last: at(latest.get(1))?,
        })
    }

    async fn set_refunded(
        &mut self,
        brand: BrandId,
        id: OrderId,
        before: Money,
        after: Money,
    ) -> Result<(), StoreError> {
        let stored: Option<(String, i64, Option<uuid::Uuid>, i64)> =
            order::Entity::find_by_id((brand.as_uuid(), id.as_uuid()))
                .select_only()
                .column(order::Column::Currency)
                .column(order::Column::TotalMinor)
                .column(order::Column::CustomerId)
                .column(order::Column::PlacedAt)
                .into_tuple()
                .one(&self.tx)
                .await
                .map_err(in_ctx("select from orders"))?;
        let Some((stored_currency, total, customer, placed_at)) = stored else {
            return Err(StoreError::NotFound(format!("order {id}")));
        };
        let stored_currency = currency(&stored_currency)?;
        for amount in [&before, &after] {
            if stored_currency != amount.currency() {
                return Err(unstorable(
                    "the refunded amount",
                    format!(
                        "{amount} is not in the order's currency {}",
                        stored_currency.code()
                    ),
                ));
            }
        }
        // Compare-and-set: a refund that read a total another one has since moved must not
        // overwrite it (PostgreSQL re-checks the condition on the row it waited for).
        let moved = order::Entity::update_many()
            .col_expr(order::Column::RefundedMinor, Expr::value(to_minor(&after)?))
            .filter(order::Column::BrandId.eq(brand.as_uuid()))
            .filter(order::Column::Id.eq(id.as_uuid()))
            .filter(order::Column::RefundedMinor.eq(to_minor(&before)?))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update orders"))?;
        if moved.rows_affected == 0 {
            return Err(StoreError::Conflict(format!(
                "order {id} is no longer refunded {before}"
            )));
        }
        // An order that stops counting leaves its customer's chain of counted orders.
        let total = Money::from_minor_units(total, stored_currency);
        match customer {
            Some(customer) if order_counts(&total, &before) != order_counts(&total, &after) => {
                relink(self, brand, &[customer], Some(placed_at)).await
            }
            _ => Ok(()),
        }
    }
}

impl StoreTransaction {
    /// Stores the order and its lines, linked as `link` says (see `order_chain`).
    pub(crate) async fn insert_linked(
        &mut self,
        stored: &StoredOrder,
        link: Link,
    ) -> Result<(), StoreError> {
        let (mut row, lines) = order_rows(self.keys(), stored)?;
        if let Link::Known(prev) = link {
            row.prev_counted_at = ActiveValue::Set(prev);
        }
        order::Entity::insert(row)
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx(
                "insert into orders (brand_id, source, external_id unique)",
            ))?;
        if !lines.is_empty() {
            order_line::Entity::insert_many(lines)
                .exec_without_returning(&self.tx)
                .await
                .map_err(in_ctx("insert into order_lines"))?;
        }
        self.relink_after(stored, link).await
    }

    /// Relinks `stored`'s customer's orders from its time on when `link` asks for it.
    pub(crate) async fn relink_after(
        &mut self,
        stored: &StoredOrder,
        link: Link,
    ) -> Result<(), StoreError> {
        match (link, stored.customer_id) {
            (Link::Relink, Some(customer)) => {
                let from = to_micros(stored.order.placed_at);
                relink(
                    self,
                    stored.order.brand_id,
                    &[customer.as_uuid()],
                    Some(from),
                )
                .await
            }
            _ => Ok(()),
        }
    }

    /// An order by its POS identity; with `lock`, its row stays locked until the
    /// transaction ends (PostgreSQL only: SQLite's single connection already serializes).
    async fn find_order_by_key(
        &mut self,
        brand: BrandId,
        key: &EventKey,
        lock: bool,
    ) -> Result<Option<StoredOrder>, StoreError> {
        let mut select = order::Entity::find()
            .filter(order::Column::BrandId.eq(brand.as_uuid()))
            .filter(order::Column::Source.eq(key.source.as_str()))
            .filter(order::Column::ExternalId.eq(key.external_id.as_str()));
        if lock && self.is_postgres() {
            select = select.lock_exclusive();
        }
        let Some(row) = select
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from orders"))?
        else {
            return Ok(None);
        };
        let mut orders = self.with_lines(brand, vec![row]).await?;
        Ok(orders.pop())
    }

    /// Loads the lines of `rows` in one query and assembles the orders, in `rows` order.
    async fn with_lines(
        &mut self,
        brand: BrandId,
        rows: Vec<order::Model>,
    ) -> Result<Vec<StoredOrder>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<uuid::Uuid> = rows.iter().map(|row| row.id).collect();
        let mut lines: std::collections::HashMap<uuid::Uuid, Vec<order_line::Model>> =
            std::collections::HashMap::new();
        for line in order_line::Entity::find()
            .filter(order_line::Column::BrandId.eq(brand.as_uuid()))
            .filter(order_line::Column::OrderId.is_in(ids))
            .order_by_asc(order_line::Column::OrderId)
            .order_by_asc(order_line::Column::LineNo)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from order_lines"))?
        {
            lines.entry(line.order_id).or_default().push(line);
        }
        rows.into_iter()
            .map(|row| {
                let of_row = lines.remove(&row.id).unwrap_or_default();
                order_from_rows(self.keys(), row, of_row)
            })
            .collect()
    }
}

/// Where an order's sealed phone lives.
/// The rows of a stored order and its lines (the phone sealed under `keys`).
pub(crate) fn order_rows(
    keys: Option<&ContactKeys>,
    stored: &StoredOrder,
) -> Result<(order::ActiveModel, Vec<order_line::ActiveModel>), StoreError> {
    let order = &stored.order;
    let brand_id = order.brand_id.as_uuid();
    let row = order::Model {
        brand_id,
        id: stored.id.as_uuid(),
        source: order.key.source.clone(),
        external_id: order.key.external_id.clone(),
        customer_id: stored.customer_id.map(|id| id.as_uuid()),
        customer_phone: seal_opt(
            keys,
            &phone_place(brand_id, stored.id.as_uuid()),
            order.customer_phone.as_ref().map(Phone::as_str),
        ),
        location: order.location.clone(),
        placed_at: to_micros(order.placed_at),
        currency: order.total.currency().code().to_owned(),
        total_minor: to_minor(&order.total)?,
        points_earned: stored.points_earned.value(),
        refunded_minor: to_minor(&stored.refunded)?,
        created_at: to_micros(OffsetDateTime::now_utc()),
        prev_counted_at: None,
    };
    if stored.refunded.currency() != order.total.currency() {
        return Err(unstorable(
            "the refunded amount",
            format!(
                "{} is not in the order's currency {}",
                stored.refunded,
                order.total.currency()
            ),
        ));
    }
    let lines = order
        .lines
        .iter()
        .zip(1..)
        .map(|(line, line_no)| {
            Ok(order_line::Model {
                brand_id,
                order_id: stored.id.as_uuid(),
                line_no,
                sku: line.sku.clone(),
                name: line.name.clone(),
                category: line.category.clone(),
                quantity: i64::from(line.quantity),
                unit_price_minor: to_minor(&line.unit_price)?,
                currency: line.unit_price.currency().code().to_owned(),
                modifiers: to_json("modifiers", &line.modifiers)?,
            }
            .into_active_model()
            .reset_all())
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok((row.into_active_model().reset_all(), lines))
}

pub(crate) fn phone_place(brand: uuid::Uuid, id: uuid::Uuid) -> Place {
    Place::new("orders.customer_phone", brand, &[id.as_bytes()])
}

fn order_from_rows(
    keys: Option<&ContactKeys>,
    row: order::Model,
    lines: Vec<order_line::Model>,
) -> Result<StoredOrder, StoreError> {
    let lines = lines
        .into_iter()
        .map(|line| {
            Ok(LineItem {
                sku: line.sku,
                name: line.name,
                category: line.category,
                quantity: u32::try_from(line.quantity)
                    .map_err(|e| corrupt("order_lines.quantity", e))?,
                unit_price: money(line.unit_price_minor, &line.currency)?,
                modifiers: from_json("order_lines.modifiers", &line.modifiers)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(StoredOrder {
        id: OrderId::from_uuid(row.id),
        order: Order {
            brand_id: BrandId::from_uuid(row.brand_id),
            key: EventKey {
                source: row.source,
                external_id: row.external_id,
            },
            location: row.location,
            customer_phone: open_opt(
                keys,
                &phone_place(row.brand_id, row.id),
                row.customer_phone.as_deref(),
            )?
            .as_deref()
            .map(Phone::parse_e164)
            .transpose()
            .map_err(|e| corrupt("orders.customer_phone", e))?,
            placed_at: from_micros(row.placed_at)?,
            lines,
            total: money(row.total_minor, &row.currency)?,
        },
        customer_id: row.customer_id.map(CustomerId::from_uuid),
        points_earned: Points::new(row.points_earned),
        refunded: money(row.refunded_minor, &row.currency)?,
    })
}
