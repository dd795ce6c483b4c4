//! [`ReferralRepo`]: the brand's referral programme, invite codes and referrals.

use super::referral_mark::mark_referral_pending;
use crate::convert::{from_micros, from_micros_opt, to_micros, to_micros_opt};
use crate::entity::{referral, referral_invite, referral_setting};
use crate::error::{corrupt, in_ctx};
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, CustomerId, EventKey, Points};
use regulars_loyalty::referrals::{ReferralProgramme, ReferralState, RefusalReason};
use regulars_ports::{Referral, ReferralCounts, ReferralRepo, StoreError};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use time::OffsetDateTime;

#[async_trait]
impl ReferralRepo for StoreTransaction {
    async fn programme(&mut self, brand: BrandId) -> Result<Option<ReferralProgramme>, StoreError> {
        let row = referral_setting::Entity::find_by_id(brand.as_uuid())
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from referral_settings"))?;
        row.map(|r| {
            Ok(ReferralProgramme {
                enabled: r.enabled,
                referrer_points: Points::new(r.referrer_points),
                friend_points: Points::new(r.friend_points),
                min_purchase_minor: r.min_purchase_minor,
                monthly_cap: u32::try_from(r.monthly_cap)
                    .map_err(|e| corrupt("referral_settings.monthly_cap", e))?,
            })
        })
        .transpose()
    }

    async fn save_programme(
        &mut self,
        brand: BrandId,
        programme: &ReferralProgramme,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        use referral_setting::Column as C;
        let row = referral_setting::Model {
            brand_id: brand.as_uuid(),
            enabled: programme.enabled,
            referrer_points: programme.referrer_points.value(),
            friend_points: programme.friend_points.value(),
            min_purchase_minor: programme.min_purchase_minor,
            monthly_cap: i64::from(programme.monthly_cap),
            updated_at: to_micros(now),
        };
        referral_setting::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::column(C::BrandId)
                    .update_columns([
                        C::Enabled,
                        C::ReferrerPoints,
                        C::FriendPoints,
                        C::MinPurchaseMinor,
                        C::MonthlyCap,
                        C::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("upsert into referral_settings"))?;
        Ok(())
    }

    async fn invite_code(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Option<String>, StoreError> {
        referral_invite::Entity::find_by_id((brand.as_uuid(), customer.as_uuid()))
            .select_only()
            .column(referral_invite::Column::Code)
            .into_tuple()
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from referral_invites"))
    }

    async fn insert_invite(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let row = referral_invite::Model {
            brand_id: brand.as_uuid(),
            customer_id: customer.as_uuid(),
            code: code.to_owned(),
            created_at: to_micros(now),
        };
        referral_invite::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into referral_invites"))?;
        Ok(())
    }

    async fn invite_owner(
        &mut self,
        brand: BrandId,
        code: &str,
    ) -> Result<Option<CustomerId>, StoreError> {
        let id: Option<uuid::Uuid> = referral_invite::Entity::find()
            .select_only()
            .column(referral_invite::Column::CustomerId)
            .filter(referral_invite::Column::BrandId.eq(brand.as_uuid()))
            .filter(referral_invite::Column::Code.eq(code))
            .into_tuple()
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from referral_invites"))?;
        Ok(id.map(CustomerId::from_uuid))
    }

    async fn insert_referral(
        &mut self,
        brand: BrandId,
        referral: &Referral,
    ) -> Result<(), StoreError> {
        referral::Entity::insert(row_of(brand, referral).into_active_model())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx(
                "insert into referrals (brand_id, accepted_friend unique)",
            ))?;
        if referral.state == ReferralState::Pending {
            mark_referral_pending(self, brand, referral.friend, true).await?;
        }
        Ok(())
    }

    async fn referral_of_friend(
        &mut self,
        brand: BrandId,
        friend: CustomerId,
    ) -> Result<Option<Referral>, StoreError> {
        referral::Entity::find()
            .filter(referral::Column::BrandId.eq(brand.as_uuid()))
            .filter(referral::Column::AcceptedFriend.eq(friend.as_uuid()))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from referrals"))?
            .map(referral_of)
            .transpose()
    }

    async fn decide(
        &mut self,
        brand: BrandId,
        next: &Referral,
        from: &str,
    ) -> Result<bool, StoreError> {
        use referral::Column as C;
        let row = row_of(brand, next);
        let done = referral::Entity::update_many()
            .col_expr(C::Status, Expr::value(row.status))
            .col_expr(C::Reason, Expr::value(row.reason))
            .col_expr(C::OrderSource, Expr::value(row.order_source))
            .col_expr(C::OrderExternalId, Expr::value(row.order_external_id))
            .col_expr(C::FriendPoints, Expr::value(row.friend_points))
            .col_expr(C::ReferrerPoints, Expr::value(row.referrer_points))
            .col_expr(C::ReferrerCapped, Expr::value(row.referrer_capped))
            .col_expr(C::DecidedAt, Expr::value(row.decided_at))
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::Id.eq(next.id))
            .filter(C::Status.eq(from))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update referrals (decide)"))?;
        let decided = done.rows_affected == 1;
        if decided
            && from == ReferralState::Pending.status()
            && next.state != ReferralState::Pending
        {
            mark_referral_pending(self, brand, next.friend, false).await?;
        }
        Ok(decided)
    }

    async fn rewarded_between(
        &mut self,
        brand: BrandId,
        referrer: CustomerId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        use referral::Column as C;
        referral::Entity::find()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::ReferrerId.eq(referrer.as_uuid()))
            .filter(C::DecidedAt.gte(to_micros(from)))
            .filter(C::DecidedAt.lt(to_micros(to)))
            .filter(C::Status.eq("rewarded"))
            .filter(C::ReferrerPoints.gt(0))
            .count(&self.tx)
            .await
            .map_err(in_ctx("count referrals (rewarded this month)"))
    }

    async fn referrals(&mut self, brand: BrandId, limit: u64) -> Result<Vec<Referral>, StoreError> {
        referral::Entity::find()
            .filter(referral::Column::BrandId.eq(brand.as_uuid()))
            .order_by_desc(referral::Column::CreatedAt)
            .order_by_asc(referral::Column::Id)
            .limit(limit)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from referrals"))?
            .into_iter()
            .map(referral_of)
            .collect()
    }

    async fn counts<'a>(
        &mut self,
        brand: BrandId,
        codes: Option<&'a [String]>,
    ) -> Result<ReferralCounts, StoreError> {
        if let Some(codes) = codes {
            return super::by_location::referral_counts_at(self, brand, codes).await;
        }
        use referral::Column as C;
        let invited = referral_invite::Entity::find()
            .filter(referral_invite::Column::BrandId.eq(brand.as_uuid()))
            .count(&self.tx)
            .await
            .map_err(in_ctx("count referral_invites"))?;
        let groups: Vec<(String, Option<String>, i64)> = referral::Entity::find()
            .select_only()
            .column(C::Status)
            .column(C::Reason)
            .column_as(C::Id.count(), "n")
            .filter(C::BrandId.eq(brand.as_uuid()))
            .group_by(C::Status)
            .group_by(C::Reason)
            .into_tuple()
            .all(&self.tx)
            .await
            .map_err(in_ctx("count referrals by status"))?;
        let mut counts = ReferralCounts {
            invited,
            ..ReferralCounts::default()
        };
        for (status, reason, n) in groups {
            let n = u64::try_from(n).map_err(|e| corrupt("referrals count", e))?;
            match status.as_str() {
                "pending" => counts.pending += n,
                "rewarded" => counts.rewarded += n,
                "reversed" => counts.reversed += n,
                _ => {
                    let reason = reason
                        .as_deref()
                        .and_then(RefusalReason::parse)
                        .ok_or_else(|| corrupt("referrals.reason", status))?;
                    counts.refused.push((reason, n));
                }
            }
        }
        counts.signed_up = counts.pending + counts.rewarded + counts.reversed;
        counts
            .refused
            .sort_by_key(|(reason, _)| RefusalReason::ALL.iter().position(|r| r == reason));
        Ok(counts)
    }

    async fn erase_customer(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<u64, StoreError> {
        let invites = referral_invite::Entity::delete_many()
            .filter(referral_invite::Column::BrandId.eq(brand.as_uuid()))
            .filter(referral_invite::Column::CustomerId.eq(customer.as_uuid()))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("delete from referral_invites"))?;
        let referrals = referral::Entity::delete_many()
            .filter(referral::Column::BrandId.eq(brand.as_uuid()))
            .filter(
                Condition::any()
                    .add(referral::Column::ReferrerId.eq(customer.as_uuid()))
                    .add(referral::Column::FriendId.eq(customer.as_uuid())),
            )
            .exec(&self.tx)
            .await
            .map_err(in_ctx("delete from referrals"))?;
        Ok(invites.rows_affected + referrals.rows_affected)
    }
}

/// The row of a referral.
fn row_of(brand: BrandId, r: &Referral) -> referral::Model {
    let mut row = referral::Model {
        brand_id: brand.as_uuid(),
        id: r.id,
        referrer_id: r.referrer.as_uuid(),
        friend_id: r.friend.as_uuid(),
        accepted_friend: r.accepted().then(|| r.friend.as_uuid()),
        status: r.state.status().to_owned(),
        reason: None,
        order_source: None,
        order_external_id: None,
        friend_points: 0,
        referrer_points: 0,
        referrer_capped: false,
        created_at: to_micros(r.created_at),
        decided_at: to_micros_opt(r.decided_at),
    };
    match &r.state {
        ReferralState::Pending => {}
        ReferralState::Rewarded {
            order,
            friend,
            referrer,
            referrer_capped,
        } => {
            row.order_source = Some(order.source.clone());
            row.order_external_id = Some(order.external_id.clone());
            row.friend_points = friend.value();
            row.referrer_points = referrer.value();
            row.referrer_capped = *referrer_capped;
        }
        ReferralState::Reversed { order } => {
            row.order_source = Some(order.source.clone());
            row.order_external_id = Some(order.external_id.clone());
        }
        ReferralState::Refused { reason } => row.reason = Some(reason.as_str().to_owned()),
    }
    row
}

/// The referral of a row.
fn referral_of(row: referral::Model) -> Result<Referral, StoreError> {
    let order = || match (&row.order_source, &row.order_external_id) {
        (Some(source), Some(id)) => {
            EventKey::new(source.clone(), id.clone()).map_err(|e| corrupt("referrals.order", e))
        }
        _ => Err(corrupt("referrals.order", "missing")),
    };
    let state = match row.status.as_str() {
        "pending" => ReferralState::Pending,
        "rewarded" => ReferralState::Rewarded {
            order: order()?,
            friend: Points::new(row.friend_points),
            referrer: Points::new(row.referrer_points),
            referrer_capped: row.referrer_capped,
        },
        "reversed" => ReferralState::Reversed { order: order()? },
        "refused" => ReferralState::Refused {
            reason: row
                .reason
                .as_deref()
                .and_then(RefusalReason::parse)
                .ok_or_else(|| corrupt("referrals.reason", "unknown"))?,
        },
        other => return Err(corrupt("referrals.status", other)),
    };
    Ok(Referral {
        id: row.id,
        referrer: CustomerId::from_uuid(row.referrer_id),
        friend: CustomerId::from_uuid(row.friend_id),
        state,
        created_at: from_micros(row.created_at)?,
        decided_at: from_micros_opt(row.decided_at)?,
    })
}
