//! `stamp_events`: one entry of a customer's append-only stamp log on one card.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stamp_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub card_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    #[sea_orm(column_type = "Text")]
    pub kind: String,
    pub at: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub order_source: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub order_external_id: Option<String>,
    pub stamps: i64,
    pub forgiven: i64,
    pub voucher_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
