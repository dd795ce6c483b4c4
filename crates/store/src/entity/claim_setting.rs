//! `claim_settings`: how many days after an order a brand lets it be claimed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "claim_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    pub claim_days: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
