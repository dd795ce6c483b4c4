//! `pos_waiting_orders`: orders of POS customers whose phone number is not known yet.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pos_waiting_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub integration_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub source: String,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub external_id: String,
    #[sea_orm(column_type = "Text")]
    pub customer_ref: String,
    #[sea_orm(column_type = "Text")]
    pub order_json: String,
    pub received_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
