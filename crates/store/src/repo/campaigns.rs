//! [`CampaignRepo`]: campaigns, their members, and the members' revenue for attribution.

use crate::convert::{from_micros, from_micros_opt, to_micros, to_micros_opt, to_u64};
use crate::entity::{brand_policy, campaign, campaign_member};
use crate::error::{corrupt, in_ctx};
use crate::repo::by_location::{REDEEMED_AT, at_codes};
use crate::repo::inserted;
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, CampaignId, CustomerId, RewardId};
use regulars_ports::{
    CampaignMember, CampaignRecord, CampaignRepo, CampaignStatus, MemberGroup, MemberRevenue,
    StoreError, VariantVoucherCount,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Statement, Value,
};
use time::OffsetDateTime;
use uuid::Uuid;

/// Members per insert statement: well under both databases' parameter limits.
const MEMBER_CHUNK: usize = 1_000;

const MICROS_PER_DAY: i64 = 86_400_000_000;

#[async_trait]
impl CampaignRepo for StoreTransaction {
    async fn messaging_policy(&mut self, brand: BrandId) -> Result<Option<String>, StoreError> {
        Ok(brand_policy::Entity::find_by_id(brand.as_uuid())
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from brand_policies"))?
            .map(|row| row.policy))
    }

    async fn save_messaging_policy(
        &mut self,
        brand: BrandId,
        policy: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        use brand_policy::Column as C;
        let row = brand_policy::Model {
            brand_id: brand.as_uuid(),
            policy: policy.to_owned(),
            updated_at: to_micros(at),
        };
        brand_policy::Entity::insert(row.into_active_model().reset_all())
            .on_conflict(
                OnConflict::column(C::BrandId)
                    .update_columns([C::Policy, C::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("upsert into brand_policies"))?;
        Ok(())
    }

    /// Moves the brand's config version too: servers remember that a brand has no
    /// campaign its orders fire, under that version.
    async fn insert_campaign(&mut self, record: &CampaignRecord) -> Result<(), StoreError> {
        campaign::Entity::insert(campaign_to_row(record).into_active_model())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into campaigns"))?;
        super::brands::bump_config_version(self, record.brand_id).await
    }

    async fn update_campaign(&mut self, record: &CampaignRecord) -> Result<bool, StoreError> {
        use campaign::Column as C;
        let done = campaign::Entity::update_many()
            .col_expr(C::Name, Expr::value(record.name.clone()))
            .col_expr(C::Definition, Expr::value(record.definition.clone()))
            .col_expr(C::Status, Expr::value(record.status.as_str()))
            .col_expr(C::BudgetUsedMinor, Expr::value(record.budget_used_minor))
            .col_expr(C::UpdatedAt, Expr::value(to_micros(record.updated_at)))
            .col_expr(C::LastRunAt, Expr::value(to_micros_opt(record.last_run_at)))
            .filter(C::BrandId.eq(record.brand_id.as_uuid()))
            .filter(C::Id.eq(record.id.as_uuid()))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update campaigns"))?;
        Ok(done.rows_affected == 1)
    }

    async fn campaign_changed(&mut self, brand: BrandId) -> Result<(), StoreError> {
        super::brands::bump_config_version(self, brand).await
    }

    async fn lock_campaign(&mut self, brand: BrandId, id: CampaignId) -> Result<bool, StoreError> {
        use campaign::Column as C;
        let done = campaign::Entity::update_many()
            .col_expr(C::UpdatedAt, Expr::col(C::UpdatedAt))
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::Id.eq(id.as_uuid()))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update campaigns (lock)"))?;
        Ok(done.rows_affected == 1)
    }

    async fn campaign(
        &mut self,
        brand: BrandId,
        id: CampaignId,
    ) -> Result<Option<CampaignRecord>, StoreError> {
        campaign::Entity::find_by_id((brand.as_uuid(), id.as_uuid()))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from campaigns"))?
            .map(campaign_from_row)
            .transpose()
    }

    async fn campaigns(
        &mut self,
        brand: BrandId,
        after: Option<CampaignId>,
        limit: u64,
    ) -> Result<Vec<CampaignRecord>, StoreError> {
        use campaign::Column as C;
        let b = brand.as_uuid();
        let mut query = campaign::Entity::find()
            .filter(C::BrandId.eq(b))
            .order_by_desc(C::CreatedAt)
            .order_by_desc(C::Id)
            .limit(limit);
        if let Some(after) = after {
            // Keyset paging on (created_at, id) descending.
            let Some(cursor) = campaign::Entity::find_by_id((b, after.as_uuid()))
                .one(&self.tx)
                .await
                .map_err(in_ctx("select from campaigns"))?
            else {
                return Ok(Vec::new());
            };
            query = query.filter(
                sea_orm::Condition::any()
                    .add(C::CreatedAt.lt(cursor.created_at))
                    .add(
                        sea_orm::Condition::all()
                            .add(C::CreatedAt.eq(cursor.created_at))
                            .add(C::Id.lt(cursor.id)),
                    ),
            );
        }
        query
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from campaigns"))?
            .into_iter()
            .map(campaign_from_row)
            .collect()
    }

    async fn campaigns_with_status(
        &mut self,
        brand: BrandId,
        status: CampaignStatus,
    ) -> Result<Vec<CampaignRecord>, StoreError> {
        use campaign::Column as C;
        campaign::Entity::find()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::Status.eq(status.as_str()))
            .order_by_asc(C::CreatedAt)
            .order_by_asc(C::Id)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from campaigns"))?
            .into_iter()
            .map(campaign_from_row)
            .collect()
    }

    async fn add_members(
        &mut self,
        brand: BrandId,
        members: &[CampaignMember],
    ) -> Result<u64, StoreError> {
        use campaign_member::Column as C;
        let mut added = 0;
        for chunk in members.chunks(MEMBER_CHUNK) {
            let rows = chunk.iter().map(|m| {
                campaign_member::Model {
                    brand_id: brand.as_uuid(),
                    campaign_id: m.campaign_id.as_uuid(),
                    customer_id: m.customer_id.as_uuid(),
                    member_group: m.group.as_str().to_owned(),
                    at: to_micros(m.at),
                    variant: m.variant.map(i16::from),
                }
                .into_active_model()
            });
            let done = campaign_member::Entity::insert_many(rows)
                .on_conflict_do_nothing_on([C::BrandId, C::CampaignId, C::CustomerId])
                .exec_without_returning(&self.tx)
                .await
                .map_err(in_ctx("insert into campaign_members"))?;
            added += inserted(done);
        }
        Ok(added)
    }

    async fn member_counts(
        &mut self,
        brand: BrandId,
        campaign: CampaignId,
    ) -> Result<(u64, u64), StoreError> {
        use campaign_member::Column as C;
        let rows: Vec<(String, i64)> = campaign_member::Entity::find()
            .select_only()
            .column(C::MemberGroup)
            .column_as(C::CustomerId.count(), "n")
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::CampaignId.eq(campaign.as_uuid()))
            .group_by(C::MemberGroup)
            .into_tuple()
            .all(&self.tx)
            .await
            .map_err(in_ctx("count campaign_members"))?;
        let mut counts = (0, 0);
        for (group, n) in rows {
            let n = to_u64("member count", n)?;
            match MemberGroup::parse(&group) {
                Some(MemberGroup::Treatment) => counts.0 = n,
                Some(MemberGroup::Holdout) => counts.1 = n,
                None => return Err(corrupt("campaign member group", group)),
            }
        }
        Ok(counts)
    }

    /// One statement: every member left-joined to their orders inside their own window
    /// (`placed_at` in `[at, at + window)`, and at `codes` when given), summed per member.
    async fn member_revenue<'a>(
        &mut self,
        brand: BrandId,
        campaign: CampaignId,
        window_days: u32,
        codes: Option<&'a [String]>,
    ) -> Result<Vec<MemberRevenue>, StoreError> {
        let window = i64::from(window_days).saturating_mul(MICROS_PER_DAY);
        let backend = self.tx.get_database_backend();
        // SQLite binds `?` in the order of the text: the codes come right after the window.
        let (at, at_values) = at_codes(backend, "o.location", 2, codes);
        let k = at_values.len();
        let p = |n: usize| {
            if self.is_postgres() {
                format!("${n}")
            } else {
                "?".to_owned()
            }
        };
        let sql = format!(
            "SELECT m.customer_id AS customer_id, m.member_group AS member_group, \
             m.variant AS variant, \
             CAST(COALESCE(SUM(o.total_minor - o.refunded_minor), 0) AS BIGINT) AS net_minor, \
             CAST(COUNT(o.id) AS BIGINT) AS orders \
             FROM campaign_members m \
             LEFT JOIN orders o ON o.brand_id = m.brand_id AND o.customer_id = m.customer_id \
             AND o.placed_at >= m.at AND o.placed_at < m.at + {}{at} \
             WHERE m.brand_id = {} AND m.campaign_id = {} \
             GROUP BY m.customer_id, m.member_group, m.variant \
             ORDER BY m.customer_id",
            p(1),
            p(k + 2),
            p(k + 3)
        );
        let mut values = vec![Value::from(window)];
        values.extend(at_values);
        values.extend([
            Value::from(brand.as_uuid()),
            Value::from(campaign.as_uuid()),
        ]);
        let statement = Statement::from_sql_and_values(backend, sql, values);
        let rows = self
            .tx
            .query_all_raw(statement)
            .await
            .map_err(in_ctx("select campaign member revenue"))?;
        rows.into_iter()
            .map(|row| {
                let customer: Uuid = row
                    .try_get("", "customer_id")
                    .map_err(in_ctx("read campaign member revenue"))?;
                let group: String = row
                    .try_get("", "member_group")
                    .map_err(in_ctx("read campaign member revenue"))?;
                let net_minor: i64 = row
                    .try_get("", "net_minor")
                    .map_err(in_ctx("read campaign member revenue"))?;
                let orders: i64 = row
                    .try_get("", "orders")
                    .map_err(in_ctx("read campaign member revenue"))?;
                let variant: Option<i16> = row
                    .try_get("", "variant")
                    .map_err(in_ctx("read campaign member revenue"))?;
                Ok(MemberRevenue {
                    customer_id: CustomerId::from_uuid(customer),
                    group: MemberGroup::parse(&group)
                        .ok_or_else(|| corrupt("campaign member group", &group))?,
                    variant: to_variant(variant)?,
                    net_minor,
                    orders: to_u64("order count", orders)?,
                })
            })
            .collect()
    }

    /// One statement: the campaign's vouchers joined to the member each went to (a
    /// customer is a member once, so each voucher counts once), grouped by the member's
    /// variant, the reward and the status.
    async fn variant_vouchers<'a>(
        &mut self,
        brand: BrandId,
        campaign: CampaignId,
        codes: Option<&'a [String]>,
    ) -> Result<Vec<VariantVoucherCount>, StoreError> {
        let backend = self.tx.get_database_backend();
        // SQLite binds `?` in the order of the text: the codes come first.
        let (at, at_values) = at_codes(backend, REDEEMED_AT, 1, codes);
        let k = at_values.len();
        // With locations, a redemption counts where it was recorded, else where the order
        // it was redeemed on was placed.
        let join = if codes.is_some() {
            "LEFT JOIN orders o ON o.brand_id = v.brand_id \
             AND o.source = v.redeemed_order_source \
             AND o.external_id = v.redeemed_order_external_id "
        } else {
            ""
        };
        let p = |n: usize| {
            if self.is_postgres() {
                format!("${n}")
            } else {
                "?".to_owned()
            }
        };
        let sql = format!(
            "SELECT m.variant AS variant, v.reward_id AS reward_id, \
             CAST(COUNT(v.id) AS BIGINT) AS issued, \
             CAST(SUM(CASE WHEN v.status = 'redeemed'{at} THEN 1 ELSE 0 END) AS BIGINT) AS redeemed \
             FROM vouchers v \
             JOIN campaign_members m ON m.brand_id = v.brand_id \
             AND m.campaign_id = v.campaign_id AND m.customer_id = v.customer_id \
             {join}WHERE v.brand_id = {} AND v.campaign_id = {} \
             GROUP BY m.variant, v.reward_id \
             ORDER BY m.variant, v.reward_id",
            p(k + 1),
            p(k + 2)
        );
        let mut values = at_values;
        values.extend([
            Value::from(brand.as_uuid()),
            Value::from(campaign.as_uuid()),
        ]);
        let statement = Statement::from_sql_and_values(backend, sql, values);
        let rows = self
            .tx
            .query_all_raw(statement)
            .await
            .map_err(in_ctx("count vouchers of a campaign by variant"))?;
        let read = in_ctx("read vouchers of a campaign by variant");
        rows.into_iter()
            .map(|row| {
                let variant: Option<i16> = row.try_get("", "variant").map_err(&read)?;
                let reward: Uuid = row.try_get("", "reward_id").map_err(&read)?;
                let issued: i64 = row.try_get("", "issued").map_err(&read)?;
                let redeemed: Option<i64> = row.try_get("", "redeemed").map_err(&read)?;
                let redeemed = redeemed.unwrap_or(0);
                Ok(VariantVoucherCount {
                    variant: to_variant(variant)?,
                    reward: RewardId::from_uuid(reward),
                    issued: to_u64("voucher count", issued)?,
                    redeemed: to_u64("voucher count", redeemed)?,
                })
            })
            .collect()
    }
}

/// A stored variant index: 0 to 255 or nothing.
fn to_variant(stored: Option<i16>) -> Result<Option<u8>, StoreError> {
    stored
        .map(|v| u8::try_from(v).map_err(|_| corrupt("campaign member variant", v)))
        .transpose()
}

fn campaign_to_row(record: &CampaignRecord) -> campaign::Model {
    campaign::Model {
        brand_id: record.brand_id.as_uuid(),
        id: record.id.as_uuid(),
        name: record.name.clone(),
        definition: record.definition.clone(),
        status: record.status.as_str().to_owned(),
        budget_used_minor: record.budget_used_minor,
        created_at: to_micros(record.created_at),
        updated_at: to_micros(record.updated_at),
        last_run_at: to_micros_opt(record.last_run_at),
    }
}

fn campaign_from_row(row: campaign::Model) -> Result<CampaignRecord, StoreError> {
    Ok(CampaignRecord {
        id: CampaignId::from_uuid(row.id),
        brand_id: BrandId::from_uuid(row.brand_id),
        status: CampaignStatus::parse(&row.status)
            .ok_or_else(|| corrupt("campaign status", &row.status))?,
        name: row.name,
        definition: row.definition,
        budget_used_minor: row.budget_used_minor,
        created_at: from_micros(row.created_at)?,
        updated_at: from_micros(row.updated_at)?,
        last_run_at: from_micros_opt(row.last_run_at)?,
    })
}
