//! `stamp_states`: a customer's progress on one stamp card, the fold of its events.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stamp_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub card_code: String,
    pub stamps: i64,
    pub card_started_at: Option<i64>,
    pub completed: i64,
    pub reopened: i64,
    pub expired_seq: Option<i64>,
    pub next_seq: i64,
    pub last_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
