//! `otp_codes`: the one-time code out for a phone and purpose (hashes only).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "otp_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub purpose: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub phone_key: String,
    pub code_hash: String,
    pub attempts: i32,
    pub sends: i32,
    pub window_started_at: i64,
    pub expires_at: i64,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
