//! [`IntelligenceRepo`]: visit histories for the scoring job, and what it stores.

use crate::convert::{from_json, from_micros, money, to_json, to_micros};
use crate::entity::{customer_scores, order, order_line, scoring_run, segment_definition};
use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, CustomerId, OrderId, SegmentId};
use regulars_ports::{
    CustomerHistory, CustomerScores, IntelligenceRepo, ScoringRun, SegmentRecord, SegmentSendTime,
    StoreError, Visit,
};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

/// Ids per `IN (...)` list: well under both databases' parameter limits.
const IN_CHUNK: usize = 5_000;

#[async_trait]
impl IntelligenceRepo for StoreTransaction {
    async fn histories(
        &mut self,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<CustomerHistory>, StoreError> {
        let Some(page) =
            crate::repo::latest_visits::CustomerPage::read(self, brand, after, limit).await?
        else {
            return Ok(Vec::new());
        };
        let b = brand.as_uuid();
        let ids = page.ids.clone();
        let orders = order::Entity::find()
            .filter(order::Column::BrandId.eq(b))
            .filter(order::Column::CustomerId.is_in(ids))
            .order_by_asc(order::Column::PlacedAt)
            .order_by_asc(order::Column::Id)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from orders"))?;
        let mut skus: HashMap<Uuid, Vec<String>> = HashMap::new();
        let order_ids: Vec<Uuid> = orders.iter().map(|o| o.id).collect();
        for chunk in order_ids.chunks(IN_CHUNK) {
            let lines: Vec<(Uuid, String)> = order_line::Entity::find()
                .select_only()
                .column(order_line::Column::OrderId)
                .column(order_line::Column::Sku)
                .filter(order_line::Column::BrandId.eq(b))
                .filter(order_line::Column::OrderId.is_in(chunk.to_vec()))
                .order_by_asc(order_line::Column::OrderId)
                .order_by_asc(order_line::Column::LineNo)
                .into_tuple()
                .all(&self.tx)
                .await
                .map_err(in_ctx("select from order_lines"))?;
            for (order_id, sku) in lines {
                skus.entry(order_id).or_default().push(sku);
            }
        }
        let mut visits: HashMap<Uuid, Vec<Visit>> = HashMap::new();
        for row in orders {
            let Some(customer_id) = row.customer_id else {
                continue;
            };
            let net = money(row.total_minor - row.refunded_minor, &row.currency)?;
            visits.entry(customer_id).or_default().push(Visit {
                order_id: OrderId::from_uuid(row.id),
                at: from_micros(row.placed_at)?,
                location: row.location,
                net_total: net,
                skus: skus.remove(&row.id).unwrap_or_default(),
            });
        }
        page.histories(self, |id| visits.remove(&id).unwrap_or_default())
    }

    async fn latest_histories(
        &mut self,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<CustomerHistory>, StoreError> {
        crate::repo::latest_visits::latest_histories(self, brand, after, limit).await
    }

    async fn save_scores(
        &mut self,
        brand: BrandId,
        scores: &[CustomerScores],
    ) -> Result<(), StoreError> {
        let b = brand.as_uuid();
        for chunk in scores.chunks(IN_CHUNK / 5) {
            let ids: Vec<Uuid> = chunk.iter().map(|s| s.customer_id.as_uuid()).collect();
            customer_scores::Entity::delete_many()
                .filter(customer_scores::Column::BrandId.eq(b))
                .filter(customer_scores::Column::CustomerId.is_in(ids))
                .exec(&self.tx)
                .await
                .map_err(in_ctx("delete from customer_scores"))?;
            let rows = chunk
                .iter()
                .map(|s| {
                    Ok(customer_scores::Model {
                        brand_id: b,
                        customer_id: s.customer_id.as_uuid(),
                        scored_at: to_micros(s.scored_at),
                        scores: to_json("scores", s)?,
                    }
                    .into_active_model())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            if !rows.is_empty() {
                customer_scores::Entity::insert_many(rows)
                    .exec_without_returning(&self.tx)
                    .await
                    .map_err(in_ctx("insert into customer_scores"))?;
            }
        }
        Ok(())
    }

    async fn scores_page(
        &mut self,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<CustomerScores>, StoreError> {
        let mut query = customer_scores::Entity::find()
            .filter(customer_scores::Column::BrandId.eq(brand.as_uuid()))
            .order_by_asc(customer_scores::Column::CustomerId)
            .limit(limit);
        if let Some(after) = after {
            query = query.filter(customer_scores::Column::CustomerId.gt(after.as_uuid()));
        }
        query
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from customer_scores"))?
            .into_iter()
            .map(|row| from_json("customer_scores.scores", &row.scores))
            .collect()
    }

    async fn scores_of(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
    ) -> Result<Vec<CustomerScores>, StoreError> {
        let mut out = Vec::new();
        for chunk in customers.chunks(IN_CHUNK) {
            let ids: Vec<Uuid> = chunk.iter().map(|c| c.as_uuid()).collect();
            for row in customer_scores::Entity::find()
                .filter(customer_scores::Column::BrandId.eq(brand.as_uuid()))
                .filter(customer_scores::Column::CustomerId.is_in(ids))
                .all(&self.tx)
                .await
                .map_err(in_ctx("select from customer_scores"))?
            {
                out.push(from_json("customer_scores.scores", &row.scores)?);
            }
        }
        Ok(out)
    }

    async fn save_run(&mut self, brand: BrandId, run: &ScoringRun) -> Result<(), StoreError> {
        let row = scoring_run::Model {
            brand_id: brand.as_uuid(),
            id: run.id,
            at: to_micros(run.at),
            customers: i64::try_from(run.customers).unwrap_or(i64::MAX),
            summary: to_json("summary", &run.summary)?,
            segment_sizes: to_json("segment_sizes", &run.segment_sizes)?,
        };
        scoring_run::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into scoring_runs"))?;
        Ok(())
    }

    async fn runs(&mut self, brand: BrandId, limit: u64) -> Result<Vec<ScoringRun>, StoreError> {
        scoring_run::Entity::find()
            .filter(scoring_run::Column::BrandId.eq(brand.as_uuid()))
            .order_by_desc(scoring_run::Column::At)
            .limit(limit)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from scoring_runs"))?
            .into_iter()
            .map(|row| {
                Ok(ScoringRun {
                    id: row.id,
                    at: from_micros(row.at)?,
                    customers: u64::try_from(row.customers).unwrap_or(0),
                    summary: from_json("scoring_runs.summary", &row.summary)?,
                    segment_sizes: from_json("scoring_runs.segment_sizes", &row.segment_sizes)?,
                })
            })
            .collect()
    }

    async fn segments(&mut self, brand: BrandId) -> Result<Vec<SegmentRecord>, StoreError> {
        segment_definition::Entity::find()
            .filter(segment_definition::Column::BrandId.eq(brand.as_uuid()))
            .order_by_asc(segment_definition::Column::Name)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from segment_definitions"))?
            .into_iter()
            .map(|row| {
                Ok(SegmentRecord {
                    id: SegmentId::from_uuid(row.id),
                    brand_id: BrandId::from_uuid(row.brand_id),
                    name: row.name,
                    rule: row.rule,
                    created_at: from_micros(row.created_at)?,
                    updated_at: from_micros(row.updated_at)?,
                })
            })
            .collect()
    }

    async fn save_segment(&mut self, segment: &SegmentRecord) -> Result<(), StoreError> {
        let b = segment.brand_id.as_uuid();
        segment_definition::Entity::delete_many()
            .filter(segment_definition::Column::BrandId.eq(b))
            .filter(segment_definition::Column::Id.eq(segment.id.as_uuid()))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("delete from segment_definitions"))?;
        let row = segment_definition::Model {
            brand_id: b,
            id: segment.id.as_uuid(),
            name: segment.name.clone(),
            rule: segment.rule.clone(),
            created_at: to_micros(segment.created_at),
            updated_at: to_micros(segment.updated_at),
        };
        segment_definition::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx(
                "insert into segment_definitions (brand_id, name unique)",
            ))?;
        Ok(())
    }

    async fn delete_segment(&mut self, brand: BrandId, id: SegmentId) -> Result<bool, StoreError> {
        let done = segment_definition::Entity::delete_many()
            .filter(segment_definition::Column::BrandId.eq(brand.as_uuid()))
            .filter(segment_definition::Column::Id.eq(id.as_uuid()))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("delete from segment_definitions"))?;
        Ok(done.rows_affected == 1)
    }

    async fn save_segment_send_times(
        &mut self,
        brand: BrandId,
        patterns: &[SegmentSendTime],
    ) -> Result<(), StoreError> {
        super::segment_send_times::save(self, brand, patterns).await
    }

    async fn segment_send_times(
        &mut self,
        brand: BrandId,
    ) -> Result<Vec<SegmentSendTime>, StoreError> {
        super::segment_send_times::load(self, brand).await
    }
}
