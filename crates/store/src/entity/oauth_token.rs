//! `oauth_tokens`: shared OAuth token pairs per provider account.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub provider: String,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub account: String,
    #[sea_orm(column_type = "Text")]
    pub sealed_tokens: String,
    pub expires_at: Option<i64>,
    pub version: i64,
    pub refreshing_until: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub seed: String,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
