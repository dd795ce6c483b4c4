//! `order_claims`: an order stored without a customer, open to one claim, and the claim.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_claims")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: Uuid,
    #[sea_orm(column_type = "Text", nullable)]
    pub code: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub location: Option<String>,
    pub placed_at: i64,
    pub total_minor: i64,
    #[sea_orm(column_type = "Text")]
    pub currency: String,
    pub customer_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub via: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub actor: Option<String>,
    pub claimed_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
