//! [`EngagementRepo`]: clicks and opens of messages, and what each brand tracks.

use crate::convert::{from_micros, to_micros};
use crate::entity::{engagement_setting, message_engagement, outbox};
use crate::error::{corrupt, in_ctx};
use crate::repo::outbox::{channel_name, message_from_row, parse_channel};
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{
    BrandId, CampaignId, CustomerId, Engagement, EngagementKind, EngagementSettings,
};
use regulars_ports::{EngagementCounts, EngagementRepo, LinkedMessage, StoreError};
use sea_orm::sea_query::{Expr, Func, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect};
use time::OffsetDateTime;
use uuid::Uuid;

/// Customers per `IN (...)` list.
const IN_CHUNK: usize = 1_000;

fn from_row(r: message_engagement::Model) -> Result<Engagement, StoreError> {
    Ok(Engagement {
        brand_id: BrandId::from_uuid(r.brand_id),
        id: r.id,
        message_id: r.message_id,
        customer_id: r.customer_id.map(CustomerId::from_uuid),
        campaign_id: r.campaign_id.map(CampaignId::from_uuid),
        channel: parse_channel(&r.channel)?,
        kind: EngagementKind::parse(&r.kind)
            .ok_or_else(|| corrupt("message_engagements.kind", &r.kind))?,
        link: r
            .link
            .map(|l| u8::try_from(l).map_err(|e| corrupt("message_engagements.link", e)))
            .transpose()?,
        at: from_micros(r.at)?,
        counted: r.counted,
    })
}

#[async_trait]
impl EngagementRepo for StoreTransaction {
    async fn linked_message(&mut self, id: Uuid) -> Result<Option<LinkedMessage>, StoreError> {
        let Some(row) = outbox::Entity::find()
            .filter(outbox::Column::Id.eq(id))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from outbox by id"))?
        else {
            return Ok(None);
        };
        let m = message_from_row(self.keys(), row)?;
        Ok(Some(LinkedMessage {
            brand_id: m.brand_id,
            id: m.id,
            customer_id: m.customer_id,
            campaign_id: m.campaign_id,
            channel: m.route.channel,
            body: m.body,
        }))
    }

    async fn counted_since(
        &mut self,
        brand: BrandId,
        message: Uuid,
        kind: EngagementKind,
        since: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        use message_engagement::Column as C;
        let found = message_engagement::Entity::find()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::MessageId.eq(message))
            .filter(C::Kind.eq(kind.as_str()))
            .filter(C::At.gte(to_micros(since)))
            .filter(C::Counted.eq(true))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from message_engagements"))?;
        Ok(found.is_some())
    }

    async fn insert_engagement(&mut self, e: &Engagement) -> Result<(), StoreError> {
        let row = message_engagement::Model {
            brand_id: e.brand_id.as_uuid(),
            id: e.id,
            message_id: e.message_id,
            customer_id: e.customer_id.map(|c| c.as_uuid()),
            campaign_id: e.campaign_id.map(|c| c.as_uuid()),
            channel: channel_name(e.channel).to_owned(),
            kind: e.kind.as_str().to_owned(),
            link: e.link.map(i16::from),
            at: to_micros(e.at),
            counted: e.counted,
        };
        message_engagement::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into message_engagements"))?;
        Ok(())
    }

    async fn counted_of(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
    ) -> Result<Vec<Engagement>, StoreError> {
        use message_engagement::Column as C;
        let mut out = Vec::new();
        for chunk in customers.chunks(IN_CHUNK) {
            let rows = message_engagement::Entity::find()
                .filter(C::BrandId.eq(brand.as_uuid()))
                .filter(C::CustomerId.is_in(chunk.iter().map(|c| c.as_uuid())))
                .filter(C::Counted.eq(true))
                .order_by_asc(C::At)
                .all(&self.tx)
                .await
                .map_err(in_ctx("select from message_engagements"))?;
            for row in rows {
                out.push(from_row(row)?);
            }
        }
        out.sort_by_key(|e| e.at);
        Ok(out)
    }

    async fn customer_engagements(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<Engagement>, StoreError> {
        use message_engagement::Column as C;
        message_engagement::Entity::find()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::CustomerId.eq(customer.as_uuid()))
            .order_by_asc(C::At)
            .order_by_asc(C::Id)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from message_engagements"))?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn erase_customer_engagements(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<u64, StoreError> {
        use message_engagement::Column as C;
        let result = message_engagement::Entity::delete_many()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::CustomerId.eq(customer.as_uuid()))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("delete from message_engagements"))?;
        Ok(result.rows_affected)
    }

    async fn campaign_engagement(
        &mut self,
        brand: BrandId,
        campaign: CampaignId,
    ) -> Result<EngagementCounts, StoreError> {
        use message_engagement::Column as C;
        let rows: Vec<(String, i64, i64)> = message_engagement::Entity::find()
            .select_only()
            .column(C::Kind)
            .column_as(Expr::from(Func::count(Expr::col(C::Id))), "n")
            .column_as(
                Expr::from(Func::count_distinct(Expr::col(C::MessageId))),
                "messages",
            )
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::CampaignId.eq(campaign.as_uuid()))
            .group_by(C::Kind)
            .into_tuple()
            .all(&self.tx)
            .await
            .map_err(in_ctx("count message_engagements"))?;
        let count = |n: i64| u64::try_from(n).map_err(|e| corrupt("engagement count", e));
        let mut counts = EngagementCounts::default();
        for (kind, n, messages) in rows {
            match EngagementKind::parse(&kind) {
                Some(EngagementKind::Click) => {
                    counts.clicks = count(n)?;
                    counts.clicked_messages = count(messages)?;
                }
                Some(EngagementKind::Open) => {
                    counts.opens = count(n)?;
                    counts.opened_messages = count(messages)?;
                }
                None => return Err(corrupt("message_engagements.kind", &kind)),
            }
        }
        Ok(counts)
    }

    async fn engagement_settings(
        &mut self,
        brand: BrandId,
    ) -> Result<Option<EngagementSettings>, StoreError> {
        Ok(engagement_setting::Entity::find_by_id(brand.as_uuid())
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from engagement_settings"))?
            .map(|r| EngagementSettings {
                track_links: r.track_links,
                track_opens: r.track_opens,
            }))
    }

    async fn set_engagement_settings(
        &mut self,
        brand: BrandId,
        settings: EngagementSettings,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        use engagement_setting::Column as C;
        let row = engagement_setting::Model {
            brand_id: brand.as_uuid(),
            track_links: settings.track_links,
            track_opens: settings.track_opens,
            updated_at: to_micros(at),
        };
        engagement_setting::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::column(C::BrandId)
                    .update_columns([C::TrackLinks, C::TrackOpens, C::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("upsert engagement_settings"))?;
        Ok(())
    }
}
