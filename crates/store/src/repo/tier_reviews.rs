//! Period-end tier reviews, part of [`CustomerRepo`](regulars_ports::CustomerRepo):
//! which customers hold a tier, and one record per customer and period end reviewed.

use crate::convert::{from_micros, to_micros};
use crate::entity::{customer_stats, tier_review};
use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, CustomerId};
use regulars_ports::{StoreError, TierReview};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

pub(crate) async fn tiered_customers(
    tx: &StoreTransaction,
    brand: BrandId,
    after: Option<CustomerId>,
    limit: u64,
) -> Result<Vec<CustomerId>, StoreError> {
    let mut query = customer_stats::Entity::find()
        .select_only()
        .column(customer_stats::Column::CustomerId)
        .filter(customer_stats::Column::BrandId.eq(brand.as_uuid()))
        .filter(customer_stats::Column::TierCode.is_not_null())
        .order_by_asc(customer_stats::Column::CustomerId)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(customer_stats::Column::CustomerId.gt(after.as_uuid()));
    }
    let ids: Vec<Uuid> = query
        .into_tuple()
        .all(&tx.tx)
        .await
        .map_err(in_ctx("select from customer_stats"))?;
    Ok(ids.into_iter().map(CustomerId::from_uuid).collect())
}

pub(crate) async fn tier_review(
    tx: &StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
    period_end: OffsetDateTime,
) -> Result<Option<TierReview>, StoreError> {
    tier_review::Entity::find_by_id((brand.as_uuid(), customer.as_uuid(), to_micros(period_end)))
        .one(&tx.tx)
        .await
        .map_err(in_ctx("select from tier_reviews"))?
        .map(review_from_row)
        .transpose()
}

pub(crate) async fn record_tier_review(
    tx: &StoreTransaction,
    brand: BrandId,
    review: &TierReview,
) -> Result<(), StoreError> {
    let row = tier_review::Model {
        brand_id: brand.as_uuid(),
        customer_id: review.customer_id.as_uuid(),
        period_end: to_micros(review.period_end),
        from_tier: review.from.clone(),
        to_tier: review.to.clone(),
        moved_down: review.moved_down(),
        reviewed_at: to_micros(review.reviewed_at),
    };
    row.into_active_model()
        .insert(&tx.tx)
        .await
        .map_err(in_ctx("insert into tier_reviews"))?;
    Ok(())
}

/// The latest review that moved each of these customers down.
pub(crate) async fn latest_moves_down(
    tx: &StoreTransaction,
    brand: BrandId,
    customers: &[Uuid],
) -> Result<HashMap<Uuid, TierReview>, StoreError> {
    let rows = tier_review::Entity::find()
        .filter(tier_review::Column::BrandId.eq(brand.as_uuid()))
        .filter(tier_review::Column::CustomerId.is_in(customers.to_vec()))
        .filter(tier_review::Column::MovedDown.eq(true))
        .order_by_asc(tier_review::Column::PeriodEnd)
        .all(&tx.tx)
        .await
        .map_err(in_ctx("select from tier_reviews"))?;
    let mut out = HashMap::new();
    for row in rows {
        out.insert(row.customer_id, review_from_row(row)?);
    }
    Ok(out)
}

fn review_from_row(row: tier_review::Model) -> Result<TierReview, StoreError> {
    Ok(TierReview {
        customer_id: CustomerId::from_uuid(row.customer_id),
        period_end: from_micros(row.period_end)?,
        from: row.from_tier,
        to: row.to_tier,
        reviewed_at: from_micros(row.reviewed_at)?,
    })
}
