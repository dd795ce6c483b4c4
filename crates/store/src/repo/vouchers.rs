//! [`VoucherRepo`]: vouchers and their exactly-once redemption.
//!
//! A voucher's status lives in columns (`status`, `redeemed_at`, `voided_at`, …) and the
//! voucher is rebuilt from them when read, through its own validating deserializer; so a
//! state change is one `UPDATE` of those columns and there is no second copy of the status
//! to keep in step.

use crate::convert::{from_json, from_micros, from_micros_opt, to_json, to_micros, to_u64};
use crate::entity::{order, voucher};
use crate::error::{corrupt, in_ctx, unstorable};
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, CampaignId, CustomerId, EventKey, OrderId, RewardId, VoucherId};
use regulars_loyalty::vouchers::{
    Voucher, VoucherCode, VoucherRecord, VoucherSource, VoucherStatus,
};
use regulars_ports::{CampaignVoucherCount, RedeemOutcome, StoreError, VoucherRepo};
use sea_orm::sea_query::{Expr, IntoCondition};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};
use time::OffsetDateTime;
use uuid::Uuid;

const ISSUED: &str = "issued";
const REDEEMED: &str = "redeemed";
const EXPIRED: &str = "expired";
const VOIDED: &str = "voided";

/// Vouchers per multi-row insert: a campaign page's in one statement, well under both
/// databases' limits of bound parameters.
const INSERT_CHUNK: usize = 500;

/// Longest void reason a voucher accepts (the loyalty crate's limit for its texts).
const MAX_REASON_BYTES: usize = 500;

#[async_trait]
impl VoucherRepo for StoreTransaction {
    async fn insert_voucher(
        &mut self,
        brand: BrandId,
        voucher: &Voucher,
        issued_by: Option<OrderId>,
    ) -> Result<(), StoreError> {
        let row = voucher_to_row(brand, voucher, issued_by)?;
        voucher::Entity::insert(row.into_active_model().reset_all())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into vouchers (brand_id, code unique)"))?;
        Ok(())
    }

    async fn insert_vouchers(
        &mut self,
        brand: BrandId,
        vouchers: &[(Voucher, Option<OrderId>)],
    ) -> Result<(), StoreError> {
        for chunk in vouchers.chunks(INSERT_CHUNK) {
            let rows = chunk
                .iter()
                .map(|(v, issued_by)| {
                    voucher_to_row(brand, v, *issued_by).map(|r| r.into_active_model().reset_all())
                })
                .collect::<Result<Vec<_>, _>>()?;
            voucher::Entity::insert_many(rows)
                .exec_without_returning(&self.tx)
                .await
                .map_err(in_ctx("insert into vouchers (brand_id, code unique)"))?;
        }
        Ok(())
    }

    async fn voucher_by_code(
        &mut self,
        brand: BrandId,
        code: &VoucherCode,
    ) -> Result<Option<Voucher>, StoreError> {
        self.find_voucher(brand, code).await
    }

    async fn vouchers_of(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<Voucher>, StoreError> {
        voucher::Entity::find()
            .filter(voucher::Column::BrandId.eq(brand.as_uuid()))
            .filter(voucher::Column::CustomerId.eq(customer.as_uuid()))
            .order_by_desc(voucher::Column::IssuedAt)
            .order_by_desc(voucher::Column::Id)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from vouchers"))?
            .into_iter()
            .map(voucher_from_row)
            .collect()
    }

    async fn unused_vouchers_of(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
        after: OffsetDateTime,
    ) -> Result<Vec<Voucher>, StoreError> {
        let ids: Vec<Uuid> = customers.iter().map(|c| c.as_uuid()).collect();
        voucher::Entity::find()
            .filter(voucher::Column::BrandId.eq(brand.as_uuid()))
            .filter(voucher::Column::CustomerId.is_in(ids))
            .filter(voucher::Column::Status.eq(ISSUED))
            .filter(voucher::Column::ExpiresAt.gt(to_micros(after)))
            .order_by_desc(voucher::Column::IssuedAt)
            .order_by_desc(voucher::Column::Id)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from vouchers"))?
            .into_iter()
            .map(voucher_from_row)
            .collect()
    }

    async fn campaign_vouchers<'a>(
        &mut self,
        brand: BrandId,
        campaign: CampaignId,
        codes: Option<&'a [String]>,
    ) -> Result<Vec<CampaignVoucherCount>, StoreError> {
        if let Some(codes) = codes {
            return super::by_location::campaign_vouchers_at(self, brand, campaign, codes).await;
        }
        use voucher::Column as C;
        let rows: Vec<(Uuid, String, i64)> = voucher::Entity::find()
            .select_only()
            .column(C::RewardId)
            .column(C::Status)
            .column_as(C::Id.count(), "n")
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::CampaignId.eq(campaign.as_uuid()))
            .group_by(C::RewardId)
            .group_by(C::Status)
            .into_tuple()
            .all(&self.tx)
            .await
            .map_err(in_ctx("count vouchers of a campaign"))?;
        let mut counts: Vec<CampaignVoucherCount> = Vec::new();
        for (reward, status, n) in rows {
            let n = to_u64("voucher count", n)?;
            let reward = RewardId::from_uuid(reward);
            let entry = match counts.iter_mut().find(|c| c.reward == reward) {
                Some(entry) => entry,
                None => {
                    counts.push(CampaignVoucherCount {
                        reward,
                        issued: 0,
                        redeemed: 0,
                    });
                    let last = counts.len() - 1;
                    &mut counts[last]
                }
            };
            entry.issued += n;
            if status == REDEEMED {
                entry.redeemed += n;
            }
        }
        counts.sort_by_key(|c| c.reward);
        Ok(counts)
    }

    /// One statement decides: `UPDATE vouchers SET status = 'redeemed', … WHERE brand_id = ?
    /// AND code = ? AND status = 'issued' AND issued_at <= now AND expires_at > now`. On
    /// PostgreSQL a concurrent attempt waits for the first one's row lock, then re-checks
    /// the condition against the committed row and updates nothing; on SQLite transactions
    /// run one at a time. One row updated: [`RedeemOutcome::Redeemed`]; none: the voucher
    /// is read back and [`RedeemOutcome::Refused`] as it is, or [`RedeemOutcome::NotFound`].
    async fn redeem_voucher(
        &mut self,
        brand: BrandId,
        code: &VoucherCode,
        now: OffsetDateTime,
        order: Option<EventKey>,
        location: Option<String>,
    ) -> Result<RedeemOutcome, StoreError> {
        if let Some(key) = &order {
            key.validate()
                .map_err(|e| unstorable("the redeeming order's key", e))?;
        }
        let location = match (location, &order) {
            (Some(code), _) => Some(code),
            (None, Some(key)) => self.order_location(brand, key).await?,
            (None, None) => None,
        };
        let now = to_micros(now);
        let (order_source, order_external_id) = match order {
            Some(key) => (Some(key.source), Some(key.external_id)),
            None => (None, None),
        };
        let redeemed = voucher::Entity::update_many()
            .col_expr(voucher::Column::Status, Expr::value(REDEEMED))
            .col_expr(voucher::Column::RedeemedAt, Expr::value(now))
            .col_expr(
                voucher::Column::RedeemedOrderSource,
                Expr::value(order_source),
            )
            .col_expr(
                voucher::Column::RedeemedOrderExternalId,
                Expr::value(order_external_id),
            )
            .col_expr(voucher::Column::RedeemedLocation, Expr::value(location))
            .filter(voucher::Column::BrandId.eq(brand.as_uuid()))
            .filter(voucher::Column::Code.eq(code.as_str()))
            .filter(voucher::Column::Status.eq(ISSUED))
            .filter(voucher::Column::IssuedAt.lte(now))
            .filter(voucher::Column::ExpiresAt.gt(now))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update vouchers (redeem)"))?;
        let current = self.find_voucher(brand, code).await?;
        Ok(match (redeemed.rows_affected, current) {
            (1, Some(voucher)) => RedeemOutcome::Redeemed(voucher),
            (0, Some(voucher)) => RedeemOutcome::Refused(voucher),
            (0, None) => RedeemOutcome::NotFound,
            (n, _) => {
                return Err(corrupt(
                    "vouchers",
                    format!("redeeming code {code} updated {n} rows"),
                ));
            }
        })
    }

    async fn void_voucher(
        &mut self,
        brand: BrandId,
        voucher: VoucherId,
        now: OffsetDateTime,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let which = voucher::Column::Id.eq(voucher.as_uuid());
        let voided = self
            .void_where(brand, which, now, reason, "update vouchers (void one)")
            .await?;
        Ok(voided == 1)
    }

    async fn void_issued_by(
        &mut self,
        brand: BrandId,
        order: OrderId,
        now: OffsetDateTime,
        reason: &str,
    ) -> Result<u64, StoreError> {
        let which = voucher::Column::IssuedByOrderId.eq(order.as_uuid());
        self.void_where(brand, which, now, reason, "update vouchers (void)")
            .await
    }
}

impl StoreTransaction {
    /// The location code of the brand's order with this key, if it has reached the
    /// server and names one.
    async fn order_location(
        &self,
        brand: BrandId,
        key: &EventKey,
    ) -> Result<Option<String>, StoreError> {
        let found: Option<Option<String>> = order::Entity::find()
            .select_only()
            .column(order::Column::Location)
            .filter(order::Column::BrandId.eq(brand.as_uuid()))
            .filter(order::Column::Source.eq(key.source.as_str()))
            .filter(order::Column::ExternalId.eq(key.external_id.as_str()))
            .into_tuple()
            .one(&self.tx)
            .await
            .map_err(in_ctx("read the redeeming order's location"))?;
        Ok(found.flatten())
    }

    /// Voids the brand's still-issued vouchers that `which` selects, in one conditional
    /// update (a redeemed or already voided voucher is never touched); how many it voided.
    pub(crate) async fn void_where(
        &self,
        brand: BrandId,
        which: impl IntoCondition,
        now: OffsetDateTime,
        reason: &str,
        context: &'static str,
    ) -> Result<u64, StoreError> {
        check_reason(reason)?;
        let voided = voucher::Entity::update_many()
            .col_expr(voucher::Column::Status, Expr::value(VOIDED))
            .col_expr(voucher::Column::VoidedAt, Expr::value(to_micros(now)))
            .col_expr(voucher::Column::VoidReason, Expr::value(reason))
            .filter(voucher::Column::BrandId.eq(brand.as_uuid()))
            .filter(which)
            .filter(voucher::Column::Status.eq(ISSUED))
            .exec(&self.tx)
            .await
            .map_err(in_ctx(context))?;
        Ok(voided.rows_affected)
    }

    async fn find_voucher(
        &self,
        brand: BrandId,
        code: &VoucherCode,
    ) -> Result<Option<Voucher>, StoreError> {
        voucher::Entity::find()
            .filter(voucher::Column::BrandId.eq(brand.as_uuid()))
            .filter(voucher::Column::Code.eq(code.as_str()))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from vouchers"))?
            .map(voucher_from_row)
            .transpose()
    }
}

fn check_reason(reason: &str) -> Result<(), StoreError> {
    if reason.trim().is_empty() || reason.len() > MAX_REASON_BYTES {
        return Err(unstorable(
            "a void reason",
            format!("it must be 1 to {MAX_REASON_BYTES} bytes and not blank"),
        ));
    }
    Ok(())
}

fn voucher_to_row(
    brand: BrandId,
    voucher: &Voucher,
    issued_by: Option<OrderId>,
) -> Result<voucher::Model, StoreError> {
    let mut row = voucher::Model {
        brand_id: brand.as_uuid(),
        id: voucher.id().as_uuid(),
        code: voucher.code().as_str().to_owned(),
        customer_id: voucher.customer().as_uuid(),
        reward_id: voucher.reward().as_uuid(),
        status: ISSUED.to_owned(),
        issued_at: to_micros(voucher.issued_at()),
        expires_at: to_micros(voucher.expires_at()),
        source: to_json("voucher source", voucher.source())?,
        campaign_id: match voucher.source() {
            VoucherSource::Campaign { campaign } => Some(campaign.as_uuid()),
            _ => None,
        },
        issued_by_order_id: issued_by.map(|id| id.as_uuid()),
        redeemed_at: None,
        redeemed_order_source: None,
        redeemed_order_external_id: None,
        redeemed_location: None,
        voided_at: None,
        void_reason: None,
    };
    match voucher.status() {
        VoucherStatus::Issued => {}
        VoucherStatus::Redeemed { at, order } => {
            row.status = REDEEMED.to_owned();
            row.redeemed_at = Some(to_micros(*at));
            row.redeemed_order_source = order.as_ref().map(|key| key.source.clone());
            row.redeemed_order_external_id = order.as_ref().map(|key| key.external_id.clone());
        }
        VoucherStatus::Expired { .. } => row.status = EXPIRED.to_owned(),
        VoucherStatus::Voided { at, reason } => {
            row.status = VOIDED.to_owned();
            row.voided_at = Some(to_micros(*at));
            row.void_reason = Some(reason.clone());
        }
    }
    Ok(row)
}

fn voucher_from_row(row: voucher::Model) -> Result<Voucher, StoreError> {
    let expires_at = from_micros(row.expires_at)?;
    let status = match row.status.as_str() {
        ISSUED => VoucherStatus::Issued,
        REDEEMED => VoucherStatus::Redeemed {
            at: from_micros_opt(row.redeemed_at)?
                .ok_or_else(|| corrupt("vouchers.redeemed_at", "missing on a redeemed voucher"))?,
            order: match (row.redeemed_order_source, row.redeemed_order_external_id) {
                (Some(source), Some(external_id)) => Some(EventKey {
                    source,
                    external_id,
                }),
                (None, None) => None,
                _ => {
                    return Err(corrupt(
                        "vouchers.redeemed_order_*",
                        "source and external id must be set together",
                    ));
                }
            },
        },
        EXPIRED => VoucherStatus::Expired { at: expires_at },
        VOIDED => VoucherStatus::Voided {
            at: from_micros_opt(row.voided_at)?
                .ok_or_else(|| corrupt("vouchers.voided_at", "missing on a voided voucher"))?,
            reason: row.void_reason.unwrap_or_default(),
        },
        other => {
            return Err(corrupt(
                "vouchers.status",
                format!("unknown status {other:?}"),
            ));
        }
    };
    let record = VoucherRecord {
        id: VoucherId::from_uuid(row.id),
        code: VoucherCode::parse(&row.code).map_err(|e| corrupt("vouchers.code", e))?,
        customer: CustomerId::from_uuid(row.customer_id),
        reward: RewardId::from_uuid(row.reward_id),
        status,
        issued_at: from_micros(row.issued_at)?,
        expires_at,
        source: from_json("vouchers.source", &row.source)?,
    };
    Voucher::try_from(record).map_err(|e| corrupt("vouchers", e))
}
