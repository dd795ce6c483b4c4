//! `tier_reviews`: one customer's period-end tier review.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tier_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub period_end: i64,
    #[sea_orm(column_type = "Text")]
    pub from_tier: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub to_tier: Option<String>,
    pub moved_down: bool,
    pub reviewed_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
