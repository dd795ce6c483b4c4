//! Withdrawing messages before they go out: the offers of an order refunded in full.

use super::rows::clip;
use crate::entity::outbox;
use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, CustomerId, OrderId};
use regulars_ports::{OutboxStatus, StoreError};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// See [`regulars_ports::OutboxRepo::cancel_for_order`].
pub(super) async fn cancel_for_order(
    tx: &StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
    order: OrderId,
    reason: &str,
) -> Result<u64, StoreError> {
    use outbox::Column as C;
    // Keys are `campaign:customer:occasion`; ids are hyphenated hex, so the pattern has
    // no wildcard of its own.
    let pattern = format!("%:{}:order-{}", customer.as_uuid().hyphenated(), order);
    let done = outbox::Entity::update_many()
        .col_expr(C::Status, Expr::value(OutboxStatus::Cancelled.as_str()))
        .col_expr(C::LastError, Expr::value(clip(reason)))
        .filter(C::BrandId.eq(brand.as_uuid()))
        .filter(C::CustomerId.eq(customer.as_uuid()))
        .filter(C::Promotional.eq(true))
        .filter(C::Status.eq(OutboxStatus::Pending.as_str()))
        .filter(C::DedupeKey.like(pattern))
        .exec(&tx.tx)
        .await
        .map_err(in_ctx("update outbox (cancel for order)"))?;
    Ok(done.rows_affected)
}
