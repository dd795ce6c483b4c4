//! `outbox`: messages to deliver and what became of them.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub phone: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub dedupe_key: String,
    #[sea_orm(column_type = "Text")]
    pub channel: String,
    #[sea_orm(column_type = "Text")]
    pub recipient: String,
    /// Later routes as JSON.
    #[sea_orm(column_type = "Text")]
    pub fallbacks: String,
    /// Template, subject, body and data as JSON.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub promotional: bool,
    #[sea_orm(column_type = "Text")]
    pub status: String,
    pub attempts: i32,
    pub due_at: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
    pub delivered_at: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub provider_message_id: Option<String>,
    /// [`regulars_ports::provider_key`] of the dedupe key; empty on rows older than it.
    #[sea_orm(column_type = "Text", nullable)]
    pub provider_key: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
