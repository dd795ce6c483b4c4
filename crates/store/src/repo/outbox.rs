//! [`OutboxRepo`]: messages to deliver, claimed by workers, and what became of them.
//!
//! A claim is one `UPDATE … RETURNING` of `status`, `attempts` and `due_at` (the lease's
//! end) over the due rows a `LIMIT` subquery picks (on PostgreSQL `FOR UPDATE SKIP
//! LOCKED`); every later record of the worker is conditional on the row still being
//! `sending` with the attempt number it claimed, so a worker whose lease ran out and was
//! taken over by another cannot overwrite what the other recorded. By use case:
//! [`claim`], [`record`] (accepted sends in batches), [`reads`] (and delivery reports),
//! [`cancel`]; [`rows`] is how a message is kept in its row.

use crate::entity::outbox;
use crate::error::in_ctx;
use crate::repo::inserted;
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, CampaignId, Channel, CustomerId};
use regulars_ports::{
    DeliveryStatus, OutboxMessage, OutboxRepo, OutboxStatus, SentRecord, StoreError,
};
use sea_orm::{EntityTrait, IntoActiveModel};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

mod cancel;
mod claim;
mod reads;
mod record;
mod rows;

pub(crate) use rows::{channel_name, empty_payload, message_from_row, parse_channel, places};

/// Rows per insert statement: well under both databases' parameter limits.
const INSERT_CHUNK: usize = 500;
/// Ids per `IN (...)` list.
const IN_CHUNK: usize = 5_000;

#[async_trait]
impl OutboxRepo for StoreTransaction {
    async fn enqueue(&mut self, messages: &[OutboxMessage]) -> Result<u64, StoreError> {
        use outbox::Column as C;
        let mut written = 0;
        for chunk in messages.chunks(INSERT_CHUNK) {
            let rows = chunk
                .iter()
                .map(|m| {
                    rows::message_to_row(self.keys(), m).map(IntoActiveModel::into_active_model)
                })
                .collect::<Result<Vec<_>, _>>()?;
            written += inserted(
                outbox::Entity::insert_many(rows)
                    .on_conflict_do_nothing_on([C::BrandId, C::DedupeKey])
                    .exec_without_returning(&self.tx)
                    .await
                    .map_err(in_ctx("insert into outbox (brand_id, dedupe_key unique)"))?,
            );
        }
        Ok(written)
    }

    async fn claim_due(
        &mut self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        claim::claim_due(self, now, lease_until, limit).await
    }

    async fn mark_sent(
        &mut self,
        message: &OutboxMessage,
        provider_message_id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        record::mark_sent(self, message, provider_message_id, at).await
    }

    async fn mark_sent_many(
        &mut self,
        sent: &[(OutboxMessage, String)],
        at: OffsetDateTime,
    ) -> Result<Vec<bool>, StoreError> {
        record::mark_sent_many(self, sent, at).await
    }

    async fn reschedule(
        &mut self,
        message: &OutboxMessage,
        due_at: OffsetDateTime,
        error: &str,
    ) -> Result<bool, StoreError> {
        record::reschedule(self, message, due_at, error).await
    }

    async fn defer(
        &mut self,
        message: &OutboxMessage,
        due_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        record::defer(self, message, due_at).await
    }

    async fn fall_back(
        &mut self,
        message: &OutboxMessage,
        due_at: OffsetDateTime,
        error: &str,
    ) -> Result<bool, StoreError> {
        record::fall_back(self, message, due_at, error).await
    }

    async fn mark_dead(
        &mut self,
        message: &OutboxMessage,
        error: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        record::finish(self, message, OutboxStatus::Dead, error, at).await
    }

    async fn mark_cancelled(
        &mut self,
        message: &OutboxMessage,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        record::finish(self, message, OutboxStatus::Cancelled, reason, at).await
    }

    async fn record_delivery(
        &mut self,
        channel: Channel,
        provider_message_id: &str,
        echoed_key: Option<String>,
        state: &DeliveryStatus,
        at: OffsetDateTime,
    ) -> Result<Option<(BrandId, Uuid)>, StoreError> {
        reads::record_delivery(self, channel, provider_message_id, echoed_key, state, at).await
    }

    async fn history(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
        campaign: Option<CampaignId>,
        since: OffsetDateTime,
    ) -> Result<Vec<SentRecord>, StoreError> {
        reads::history(self, brand, customers, campaign, since).await
    }

    async fn messages(
        &mut self,
        brand: BrandId,
        campaign: Option<CampaignId>,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        reads::messages(self, brand, campaign, after, limit).await
    }

    async fn counts(
        &mut self,
        brand: BrandId,
        campaign: Option<CampaignId>,
    ) -> Result<BTreeMap<OutboxStatus, u64>, StoreError> {
        reads::counts(self, brand, campaign).await
    }

    async fn depth(&mut self) -> Result<BTreeMap<OutboxStatus, u64>, StoreError> {
        reads::depth(self).await
    }

    async fn cancel_for_order(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        order: regulars_domain::OrderId,
        reason: &str,
    ) -> Result<u64, StoreError> {
        cancel::cancel_for_order(self, brand, customer, order, reason).await
    }
}
