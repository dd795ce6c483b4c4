//! [`ReportRepo`]: orders as report facts, page by page, and totals added up in SQL
//! where the sum is plain integer arithmetic (counts, points).

use crate::convert::{from_micros, money, to_micros};
use crate::entity::{customer_scores, ledger_entry, order, voucher};
use crate::error::{corrupt, in_ctx};
use crate::repo::report_groups;
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, CustomerId, OrderId, Points, RewardId, VoucherId};
use regulars_ports::{RedeemedVoucher, ReportRepo, StoreError};
use regulars_reports::{
    BucketTotals, Bucketing, CustomerTotals, OrderFact, Period, PointsTotals, VoucherCounts,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

/// The columns of an order a report reads.
type OrderRow = (Uuid, Option<Uuid>, Option<String>, i64, String, i64, i64);

/// The part of a stored score the reports need.
#[derive(Deserialize)]
struct StoredSegments {
    #[serde(default)]
    segments: Vec<String>,
}

/// Rows of `brand` whose time column `at` lies in `period`: the filter of every
/// period-bounded read here.
fn in_period<C: ColumnTrait>(brand_col: C, brand: BrandId, at: C, period: Period) -> Condition {
    Condition::all()
        .add(brand_col.eq(brand.as_uuid()))
        .add(at.gte(to_micros(period.from)))
        .add(at.lt(to_micros(period.to)))
}

/// Orders that count in reports: not refunded in full (`OrderFact::counts`, in SQL).
pub(crate) fn counted_orders() -> Condition {
    Condition::any()
        .add(order::Column::RefundedMinor.eq(0))
        .add(Expr::col(order::Column::RefundedMinor).lt(Expr::col(order::Column::TotalMinor)))
}

#[async_trait]
impl ReportRepo for StoreTransaction {
    async fn order_facts(
        &mut self,
        brand: BrandId,
        period: Period,
        after: Option<(OffsetDateTime, OrderId)>,
        limit: u64,
    ) -> Result<Vec<OrderFact>, StoreError> {
        let mut query = order::Entity::find()
            .select_only()
            .column(order::Column::Id)
            .column(order::Column::CustomerId)
            .column(order::Column::Location)
            .column(order::Column::PlacedAt)
            .column(order::Column::Currency)
            .column(order::Column::TotalMinor)
            .column(order::Column::RefundedMinor)
            .filter(in_period(
                order::Column::BrandId,
                brand,
                order::Column::PlacedAt,
                period,
            ))
            .order_by_asc(order::Column::PlacedAt)
            .order_by_asc(order::Column::Id)
            .limit(limit);
        if let Some((at, id)) = after {
            let at = to_micros(at);
            query = query.filter(
                Condition::any().add(order::Column::PlacedAt.gt(at)).add(
                    Condition::all()
                        .add(order::Column::PlacedAt.eq(at))
                        .add(order::Column::Id.gt(id.as_uuid())),
                ),
            );
        }
        let rows: Vec<OrderRow> = query
            .into_tuple()
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from orders"))?;
        rows.into_iter()
            .map(
                |(id, customer, location, placed_at, currency, total, refunded)| {
                    Ok(OrderFact {
                        id: OrderId::from_uuid(id),
                        customer: customer.map(CustomerId::from_uuid),
                        location,
                        placed_at: from_micros(placed_at)?,
                        total: money(total, &currency)?,
                        refunded: money(refunded, &currency)?,
                    })
                },
            )
            .collect()
    }

    async fn customers_before(
        &mut self,
        brand: BrandId,
        before: OffsetDateTime,
        locations: Option<Vec<String>>,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<CustomerId>, StoreError> {
        let mut query = order::Entity::find()
            .select_only()
            .column(order::Column::CustomerId)
            .distinct()
            .filter(order::Column::BrandId.eq(brand.as_uuid()))
            .filter(order::Column::CustomerId.is_not_null())
            .filter(order::Column::PlacedAt.lt(to_micros(before)))
            .filter(counted_orders())
            .order_by_asc(order::Column::CustomerId)
            .limit(limit);
        if let Some(after) = after {
            query = query.filter(order::Column::CustomerId.gt(after.as_uuid()));
        }
        if let Some(codes) = locations {
            query = query.filter(order::Column::Location.is_in(codes));
        }
        let ids: Vec<Uuid> = query
            .into_tuple()
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from orders"))?;
        Ok(ids.into_iter().map(CustomerId::from_uuid).collect())
    }

    async fn count_customers_before(
        &mut self,
        brand: BrandId,
        before: OffsetDateTime,
        locations: Option<Vec<String>>,
    ) -> Result<u64, StoreError> {
        let Some(codes) = locations else {
            // Brand-wide: the customers whose first counted order came earlier, from the
            // index on that kept time rather than from every order.
            return report_groups::count_first_counted_before(self, brand, before).await;
        };
        // COUNT is a BIGINT on PostgreSQL and an integer on SQLite.
        let query = order::Entity::find()
            .select_only()
            .column_as(
                Expr::cust("CAST(COUNT(DISTINCT customer_id) AS BIGINT)"),
                "n",
            )
            .filter(order::Column::BrandId.eq(brand.as_uuid()))
            .filter(order::Column::CustomerId.is_not_null())
            .filter(order::Column::PlacedAt.lt(to_micros(before)))
            .filter(counted_orders())
            .filter(order::Column::Location.is_in(codes));
        let n: Option<i64> = query
            .into_tuple()
            .one(&self.tx)
            .await
            .map_err(in_ctx("count customers in orders"))?;
        u64::try_from(n.unwrap_or(0)).map_err(|_| corrupt("orders", "a negative count"))
    }

    async fn overview_buckets(
        &mut self,
        brand: BrandId,
        period: Period,
        bucketing: Bucketing,
        locations: Option<Vec<String>>,
    ) -> Result<Vec<BucketTotals>, StoreError> {
        report_groups::overview_buckets(self, brand, period, bucketing, locations).await
    }

    async fn overview_customers(
        &mut self,
        brand: BrandId,
        period: Period,
        locations: Option<Vec<String>>,
    ) -> Result<CustomerTotals, StoreError> {
        report_groups::overview_customers(self, brand, period, locations).await
    }

    async fn points_by_location(
        &mut self,
        brand: BrandId,
        period: Period,
    ) -> Result<Vec<(Option<String>, Points)>, StoreError> {
        // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back (see `points_totals`).
        let sums: Vec<(Option<String>, i64)> = order::Entity::find()
            .select_only()
            .column(order::Column::Location)
            .column_as(Expr::cust("CAST(SUM(points_earned) AS BIGINT)"), "points")
            .filter(in_period(
                order::Column::BrandId,
                brand,
                order::Column::PlacedAt,
                period,
            ))
            .group_by(order::Column::Location)
            .into_tuple()
            .all(&self.tx)
            .await
            .map_err(in_ctx("sum orders.points_earned"))?;
        Ok(sums
            .into_iter()
            .map(|(location, points)| (location, Points::new(points)))
            .collect())
    }

    async fn voucher_counts(
        &mut self,
        brand: BrandId,
        period: Period,
    ) -> Result<VoucherCounts, StoreError> {
        let counts: Option<(i64, i64)> = voucher::Entity::find()
            .select_only()
            .column_as(
                Expr::from(Func::count(Expr::col(voucher::Column::Id))),
                "issued",
            )
            .column_as(
                Expr::from(Func::count(Expr::col(voucher::Column::RedeemedAt))),
                "redeemed",
            )
            .filter(in_period(
                voucher::Column::BrandId,
                brand,
                voucher::Column::IssuedAt,
                period,
            ))
            .into_tuple()
            .one(&self.tx)
            .await
            .map_err(in_ctx("count vouchers"))?;
        let (issued, redeemed) = counts.unwrap_or((0, 0));
        let count = |n: i64| u64::try_from(n).map_err(|e| corrupt("voucher count", e));
        Ok(VoucherCounts {
            issued: count(issued)?,
            redeemed: count(redeemed)?,
        })
    }

    async fn redeemed_vouchers(
        &mut self,
        brand: BrandId,
        period: Period,
        after: Option<VoucherId>,
        limit: u64,
    ) -> Result<Vec<RedeemedVoucher>, StoreError> {
        type Row = (Uuid, Uuid, Option<String>, Option<String>, Option<String>);
        let mut query = voucher::Entity::find()
            .select_only()
            .column(voucher::Column::Id)
            .column(voucher::Column::RewardId)
            .column(voucher::Column::RedeemedOrderSource)
            .column(voucher::Column::RedeemedOrderExternalId)
            .column(voucher::Column::RedeemedLocation)
            .filter(in_period(
                voucher::Column::BrandId,
                brand,
                voucher::Column::RedeemedAt,
                period,
            ))
            .order_by_asc(voucher::Column::Id)
            .limit(limit);
        if let Some(after) = after {
            query = query.filter(voucher::Column::Id.gt(after.as_uuid()));
        }
        let rows: Vec<Row> = query
            .into_tuple()
            .all(&self.tx)
            .await
            .map_err(in_ctx("read redeemed vouchers"))?;
        // The orders they were redeemed on, in one read: by external id, then matched on
        // the source too.
        let ids: Vec<&str> = rows.iter().filter_map(|r| r.3.as_deref()).collect();
        let mut sources: Vec<&str> = rows.iter().filter_map(|r| r.2.as_deref()).collect();
        sources.sort_unstable();
        sources.dedup();
        type OrderRow = (String, String, String, i64, Option<String>);
        let orders: Vec<OrderRow> = if ids.is_empty() {
            Vec::new()
        } else {
            order::Entity::find()
                .select_only()
                .column(order::Column::Source)
                .column(order::Column::ExternalId)
                .column(order::Column::Currency)
                .column(order::Column::TotalMinor)
                .column(order::Column::Location)
                .filter(order::Column::BrandId.eq(brand.as_uuid()))
                .filter(order::Column::Source.is_in(sources))
                .filter(order::Column::ExternalId.is_in(ids))
                .into_tuple()
                .all(&self.tx)
                .await
                .map_err(in_ctx("read redeemed vouchers' orders"))?
        };
        rows.into_iter()
            .map(|(id, reward, source, external, recorded)| {
                let order = orders
                    .iter()
                    .find(|o| Some(&o.0) == source.as_ref() && Some(&o.1) == external.as_ref());
                let order_total = order.map(|o| money(o.3, &o.2)).transpose()?;
                Ok(RedeemedVoucher {
                    id: VoucherId::from_uuid(id),
                    reward: RewardId::from_uuid(reward),
                    order_total,
                    location: recorded.or_else(|| order.and_then(|o| o.4.clone())),
                })
            })
            .collect()
    }

    async fn points_totals(
        &mut self,
        brand: BrandId,
        period: Period,
    ) -> Result<PointsTotals, StoreError> {
        // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back, the total fits (points are
        // i64 and a brand's flows over a period are far from the limit).
        let sums: Vec<(String, i64)> = ledger_entry::Entity::find()
            .select_only()
            .column(ledger_entry::Column::Kind)
            .column_as(Expr::cust("CAST(SUM(amount) AS BIGINT)"), "total")
            .filter(in_period(
                ledger_entry::Column::BrandId,
                brand,
                ledger_entry::Column::At,
                period,
            ))
            .filter(ledger_entry::Column::Kind.is_in(["earn", "redeem"]))
            .group_by(ledger_entry::Column::Kind)
            .into_tuple()
            .all(&self.tx)
            .await
            .map_err(in_ctx("sum ledger_entries"))?;
        let mut totals = PointsTotals::default();
        for (kind, sum) in sums {
            match kind.as_str() {
                "earn" => totals.earned = Points::new(sum),
                _ => {
                    totals.redeemed = Points::new(sum)
                        .checked_neg()
                        .ok_or_else(|| corrupt("points redeemed", "overflow"))?
                }
            }
        }
        Ok(totals)
    }

    async fn current_segments(
        &mut self,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<(CustomerId, String)>, StoreError> {
        let mut query = customer_scores::Entity::find()
            .select_only()
            .column(customer_scores::Column::CustomerId)
            .column(customer_scores::Column::Scores)
            .filter(customer_scores::Column::BrandId.eq(brand.as_uuid()))
            .order_by_asc(customer_scores::Column::CustomerId)
            .limit(limit);
        if let Some(after) = after {
            query = query.filter(customer_scores::Column::CustomerId.gt(after.as_uuid()));
        }
        let rows: Vec<(Uuid, String)> = query
            .into_tuple()
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from customer_scores"))?;
        let mut page = Vec::with_capacity(rows.len());
        for (id, json) in rows {
            let stored: StoredSegments =
                serde_json::from_str(&json).map_err(|e| corrupt("scores", e))?;
            // The scoring job lists the named RFM segment first, custom segments after.
            if let Some(segment) = stored.segments.into_iter().next() {
                page.push((CustomerId::from_uuid(id), segment));
            }
        }
        Ok(page)
    }
}
