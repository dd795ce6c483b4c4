//! `orders`: paid orders, unique per brand by their POS identity (source, external id).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub source: String,
    #[sea_orm(column_type = "Text")]
    pub external_id: String,
    pub customer_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub customer_phone: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub location: Option<String>,
    pub placed_at: i64,
    #[sea_orm(column_type = "Text")]
    pub currency: String,
    pub total_minor: i64,
    pub points_earned: i64,
    pub refunded_minor: i64,
    pub created_at: i64,
    /// For an order of a customer that counts in reports (not refunded in full): when
    /// the customer's counted order before it (by time, then id) was placed; `None` for
    /// their first, for an order that does not count and for one without a customer. An
    /// order is its customer's first in a span of time when this is before the span.
    pub prev_counted_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
