//! `consent_events`: the append-only history of a customer's consent per purpose.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: Uuid,
    /// 1, 2, … per customer, in the order recorded.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    /// `programme`, `marketing_zalo`, `marketing_sms`, `marketing_email`, `profiling`.
    #[sea_orm(column_type = "Text")]
    pub purpose: String,
    /// `never_asked`, `granted`, `withdrawn`.
    #[sea_orm(column_type = "Text")]
    pub state: String,
    pub at: i64,
    #[sea_orm(column_type = "Text")]
    pub source: String,
    #[sea_orm(column_type = "Text")]
    pub actor: String,
    pub notice_version: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
