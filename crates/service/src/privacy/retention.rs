//! Retention: each brand keeps customers and message bodies only as long as its periods
//! say. The worker applies them; an inactive customer is de-identified exactly as an
//! erasure does it, and logged as a `retention` request.

use crate::Services;
use crate::account::load_brand;
use crate::manage::{ManageError, invalid};
use crate::privacy::erase::{ANSWER_PERIOD, erase_in};
use regulars_domain::{BrandId, CustomerId};
use regulars_ports::{PrivacyRequest, PrivacyRequestKind, RetentionPolicy, Transaction};
use time::{Duration, OffsetDateTime};

/// Customers de-identified per transaction.
const RETENTION_PAGE: u64 = 100;
/// Longest period a brand may set: 50 years, in months and in days.
const MAX_MONTHS: u32 = 600;
const MAX_DAYS: u32 = 18_262;
/// Who the request log names for what retention does.
pub const RETENTION_ACTOR: &str = "retention";

/// What one retention run did for one brand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionReport {
    /// The brand.
    pub brand: BrandId,
    /// Inactive customers de-identified.
    pub customers_erased: u64,
    /// Message bodies destroyed.
    pub message_bodies_purged: u64,
    /// One-time codes dropped: expired, and their phone's counting window over.
    pub otp_codes_dropped: u64,
    /// Customer sessions dropped: ended.
    pub customer_sessions_dropped: u64,
}

/// The last moment a customer may have been active and still be kept, `months` of 30
/// days before `now`; the beginning of time when that is before it.
pub fn inactive_since(now: OffsetDateTime, months: u32) -> OffsetDateTime {
    now.checked_sub(Duration::days(i64::from(months) * 30))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

async fn policy_in(
    tx: &mut dyn Transaction,
    brand: BrandId,
) -> Result<RetentionPolicy, ManageError> {
    Ok(tx
        .privacy()
        .retention_policy(brand)
        .await?
        .unwrap_or_default())
}

impl Services {
    /// The brand's retention periods (the defaults until it sets them).
    pub async fn retention_policy(&self, brand: BrandId) -> Result<RetentionPolicy, ManageError> {
        self.manage("retention_policy", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            policy_in(tx, brand).await
        })
        .await
    }

    /// Sets the brand's retention periods; they apply from the worker's next run. A
    /// period of zero or longer than 50 years is [`ManageError::Invalid`].
    pub async fn set_retention_policy(
        &self,
        brand: BrandId,
        policy: RetentionPolicy,
    ) -> Result<RetentionPolicy, ManageError> {
        if policy
            .inactive_customer_months
            .is_some_and(|m| m == 0 || m > MAX_MONTHS)
        {
            return Err(invalid(
                "inactive_customer_months",
                format!("must be 1 to {MAX_MONTHS} months, or null to keep customers"),
            ));
        }
        if policy
            .message_body_days
            .is_some_and(|d| d == 0 || d > MAX_DAYS)
        {
            return Err(invalid(
                "message_body_days",
                format!("must be 1 to {MAX_DAYS} days, or null to keep bodies"),
            ));
        }
        let now = self.clock.now();
        self.manage("set_retention_policy", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            tx.privacy()
                .save_retention_policy(brand, &policy, now)
                .await?;
            Ok(policy)
        })
        .await
    }

    /// Applies the brand's retention periods now: purges old message bodies and drops
    /// expired one-time codes and customer sessions, then de-identifies inactive
    /// customers a page per transaction.
    pub async fn apply_retention(&self, brand: BrandId) -> Result<RetentionReport, ManageError> {
        let now = self.clock.now();
        let (policy, message_bodies_purged, (otp_codes_dropped, customer_sessions_dropped)) = self
            .transact("purge_message_bodies", |mut tx| async move {
                let result = async {
                    load_brand::<ManageError>(tx.as_mut(), brand).await?;
                    let policy = policy_in(tx.as_mut(), brand).await?;
                    let purged = match policy.message_body_days {
                        Some(days) => {
                            let before = now - Duration::days(i64::from(days));
                            tx.privacy().purge_message_bodies(brand, before).await?
                        }
                        None => 0,
                    };
                    // One-time data has no period to choose: it goes once it is useless.
                    let dropped = tx
                        .otp()
                        .drop_expired(brand, now, now - crate::OTP_SEND_WINDOW)
                        .await?;
                    Ok::<_, ManageError>((policy, purged, dropped))
                }
                .await;
                (tx, result)
            })
            .await?;
        let mut report = RetentionReport {
            brand,
            customers_erased: 0,
            message_bodies_purged,
            otp_codes_dropped,
            customer_sessions_dropped,
        };
        let Some(months) = policy.inactive_customer_months else {
            return Ok(report);
        };
        let before = inactive_since(now, months);
        let mut after: Option<CustomerId> = None;
        loop {
            let (erased, last, full) = self
                .transact("retention_erase", |mut tx| async move {
                    let result = self
                        .erase_inactive_page(tx.as_mut(), brand, before, after, now)
                        .await;
                    (tx, result)
                })
                .await?;
            report.customers_erased += erased;
            after = last;
            if !full {
                return Ok(report);
            }
        }
    }

    /// De-identifies one page of the brand's customers inactive since `before`, after
    /// `after`: how many, the page's last id, and whether the page was full.
    async fn erase_inactive_page(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        before: OffsetDateTime,
        after: Option<CustomerId>,
        now: OffsetDateTime,
    ) -> Result<(u64, Option<CustomerId>, bool), ManageError> {
        let ids = tx
            .privacy()
            .inactive_customers(brand, before, after, RETENTION_PAGE)
            .await?;
        let mut erased = 0;
        for id in &ids {
            let Some(customer) = tx.customers().customer(brand, *id).await? else {
                continue;
            };
            let request = PrivacyRequest {
                id: self.ids.new_id(),
                brand_id: brand,
                customer_id: *id,
                kind: PrivacyRequestKind::Retention,
                actor: RETENTION_ACTOR.to_owned(),
                received_at: now,
                deadline_at: now + ANSWER_PERIOD,
                completed_at: Some(now),
                outcome: "done".to_owned(),
            };
            erase_in(tx, &customer, &request).await?;
            erased += 1;
        }
        Ok((
            erased,
            ids.last().copied(),
            ids.len() as u64 == RETENTION_PAGE,
        ))
    }

    /// [`Services::apply_retention`] for every brand; a brand that fails is logged and
    /// the others go on.
    pub async fn apply_retention_everywhere(&self) -> Result<Vec<RetentionReport>, ManageError> {
        let brands = self
            .transact("retention_brands", |mut tx| async move {
                let result = tx.brands().brand_ids().await.map_err(ManageError::from);
                (tx, result)
            })
            .await?;
        let mut reports = Vec::with_capacity(brands.len());
        for brand in brands {
            match self.apply_retention(brand).await {
                Ok(report) => reports.push(report),
                Err(error) => tracing::warn!(%brand, %error, "retention failed for a brand"),
            }
        }
        Ok(reports)
    }
}

#[cfg(test)]
mod tests {
    use super::inactive_since;
    use proptest::prelude::*;
    use time::OffsetDateTime;

    proptest! {
        #[test]
        fn a_longer_period_keeps_at_least_as_long(
            secs in 0i64..4_000_000_000,
            a in 1u32..600,
            b in 1u32..600,
        ) {
            let now = OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
            let (short, long) = (a.min(b), a.max(b));
            prop_assert!(inactive_since(now, long) <= inactive_since(now, short));
            prop_assert!(inactive_since(now, short) < now);
        }
    }
}
