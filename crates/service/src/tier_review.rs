//! The period-end tier review the worker runs: at each period end of the brand's tier
//! programme (on the brand's wall clock), every customer whose qualifying value over the
//! window ending then no longer reaches their tier moves down, to exactly the tier it
//! earns ([`TierProgram::review`]). Never up: upgrades happen at once, on activity.
//!
//! Each customer is reviewed in a transaction of their own, under their account lock
//! (orders for them wait), and leaves a record keyed by brand, customer and period end:
//! a re-run, a late run or a second worker finds it and moves no one twice. Customers are
//! visited a page of ids at a time, so memory does not grow with the brand.

use crate::Services;
use crate::account::{Account, load_brand};
use crate::manage::{ManageError, invalid};
use crate::tiering::{held_tier, qualifying};
use regulars_domain::{BrandId, CustomerId};
use regulars_loyalty::tiers::{TierDecision, TierProgram};
use regulars_ports::{TierReview, TierState, Transaction};
use std::collections::HashMap;
use time::OffsetDateTime;

/// Customer ids read per page.
const REVIEW_PAGE: u64 = 200;

/// What one review run did for one brand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierReviewReport {
    /// The brand.
    pub brand: BrandId,
    /// The period end reviewed; `None` when the brand has no tier programme.
    pub period_end: Option<OffsetDateTime>,
    /// Customers reviewed by this run (those already reviewed for the period are not
    /// counted again).
    pub reviewed: u64,
    /// Of those, customers moved down.
    pub moved_down: u64,
}

/// What reviewing one customer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Reviewed before (another run or worker), or nothing to review.
    Skipped,
    /// Reviewed now; keeps the tier.
    Kept,
    /// Reviewed now; moved down.
    MovedDown,
}

impl Services {
    /// Reviews the brand's tiers for the latest period end at or before now. Customers
    /// already reviewed for it are left alone, so running it again is harmless.
    pub async fn review_tiers(&self, brand: BrandId) -> Result<TierReviewReport, ManageError> {
        self.review_tiers_unless(brand, None).await
    }

    /// [`Services::review_tiers`], unless the period end due is `done` (a run that
    /// finished it already): then nothing is visited and the report counts nothing.
    async fn review_tiers_unless(
        &self,
        brand: BrandId,
        done: Option<OffsetDateTime>,
    ) -> Result<TierReviewReport, ManageError> {
        let now = self.clock.now();
        let (program, period_end) = self
            .transact("tier_review_programme", |mut tx| async move {
                let result = due_review(tx.as_mut(), brand, now).await;
                (tx, result)
            })
            .await?
            .map_or((None, None), |(p, e)| (Some(p), Some(e)));
        let mut report = TierReviewReport {
            brand,
            period_end,
            reviewed: 0,
            moved_down: 0,
        };
        let (Some(program), Some(period_end)) = (program, period_end) else {
            return Ok(report);
        };
        if done == Some(period_end) {
            return Ok(report);
        }
        let mut after: Option<CustomerId> = None;
        loop {
            let page = self
                .transact("tier_review_page", |mut tx| async move {
                    let result = tx
                        .customers()
                        .tiered_customers(brand, after, REVIEW_PAGE)
                        .await
                        .map_err(ManageError::from);
                    (tx, result)
                })
                .await?;
            for customer in &page {
                let program = &program;
                let outcome = self
                    .transact("tier_review", |mut tx| async move {
                        let result =
                            review_one(tx.as_mut(), brand, program, customer, period_end, now)
                                .await;
                        (tx, result)
                    })
                    .await?;
                match outcome {
                    Outcome::Skipped => {}
                    Outcome::Kept => report.reviewed += 1,
                    Outcome::MovedDown => {
                        report.reviewed += 1;
                        report.moved_down += 1;
                    }
                }
            }
            after = page.last().copied();
            if (page.len() as u64) < REVIEW_PAGE {
                return Ok(report);
            }
        }
    }

    /// [`Services::review_tiers`] for every brand; a brand that fails is logged and the
    /// others go on. `done` remembers, per brand, the last period end a run finished, so
    /// a caller that keeps it between runs visits each brand's customers once a period
    /// (a fresh map visits them again, which the per-customer records make harmless).
    pub async fn review_tiers_everywhere(
        &self,
        done: &mut HashMap<BrandId, OffsetDateTime>,
    ) -> Result<Vec<TierReviewReport>, ManageError> {
        let brands = self
            .transact("tier_review_brands", |mut tx| async move {
                let result = tx.brands().brand_ids().await.map_err(ManageError::from);
                (tx, result)
            })
            .await?;
        let mut reports = Vec::with_capacity(brands.len());
        for brand in brands {
            match self
                .review_tiers_unless(brand, done.get(&brand).copied())
                .await
            {
                Ok(report) => {
                    if let Some(end) = report.period_end {
                        done.insert(brand, end);
                    }
                    reports.push(report);
                }
                Err(error) => tracing::warn!(%brand, %error, "tier review failed for a brand"),
            }
        }
        Ok(reports)
    }
}

/// The brand's tier programme and the period end due for review at `now`; `None` when
/// the brand has no tier programme.
async fn due_review(
    tx: &mut dyn Transaction,
    brand: BrandId,
    now: OffsetDateTime,
) -> Result<Option<(TierProgram, OffsetDateTime)>, ManageError> {
    let found = load_brand::<ManageError>(tx, brand).await?;
    let Some(program) = tx.brands().program(brand).await?.and_then(|p| p.tiers) else {
        return Ok(None);
    };
    let end = program
        .review_period()
        .last_period_end(now, found.utc_offset)
        .map_err(|e| invalid("tiers.review_period", e.to_string()))?;
    Ok(Some((program, end)))
}

/// Reviews one customer for the period ending at `period_end`, under their account lock.
async fn review_one(
    tx: &mut dyn Transaction,
    brand: BrandId,
    program: &TierProgram,
    customer: &CustomerId,
    period_end: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Outcome, ManageError> {
    let customer = *customer;
    // The lock orders this review with the customer's orders and with another worker's
    // review of them: whoever comes second sees the first one's writes.
    let account = Account::open::<ManageError>(tx, brand, customer).await?;
    if tx
        .customers()
        .tier_review(brand, customer, period_end)
        .await?
        .is_some()
    {
        return Ok(Outcome::Skipped);
    }
    let Some(mut stats) = tx.customers().stats(brand, customer).await? else {
        return Ok(Outcome::Skipped);
    };
    let Some(since) = stats.tier.as_ref().map(|t| t.since) else {
        return Ok(Outcome::Skipped);
    };
    // A tier entered after the period closed was earned on later activity: the period
    // under review says nothing about it.
    if since > period_end {
        return Ok(Outcome::Skipped);
    }
    // A stored tier the programme no longer has counts as no tier: nothing to move.
    let Some(held) = held_tier(program, &stats) else {
        return Ok(Outcome::Skipped);
    };
    // A question the programme cannot answer (a metric at odds with the stored figures)
    // leaves the tier as it is and is logged, as at order time.
    // The stored account state keeps no history: a points window reads the entries back.
    let history = account.tier_history(tx, brand, program).await?;
    let decision =
        qualifying(program, &history, &stats, period_end, None).and_then(|value| match value {
            Some(q) if q.exact => program.review(Some(&held), q.value),
            // Only a lower bound is known (a spend programme without the exact window
            // figure): never move anyone down on a guess.
            _ => Ok(TierDecision::Unchanged {
                tier: Some(held.clone()),
            }),
        });
    let decision = match decision {
        Ok(decision) => decision,
        Err(error) => {
            tracing::warn!(%brand, %customer, %error, "tier review left the tier unchanged");
            return Ok(Outcome::Skipped);
        }
    };
    let to = decision.tier().map(|t| t.as_str().to_owned());
    let review = TierReview {
        customer_id: customer,
        period_end,
        from: held.as_str().to_owned(),
        to: to.clone(),
        reviewed_at: now,
    };
    tx.customers().record_tier_review(brand, &review).await?;
    if !review.moved_down() {
        return Ok(Outcome::Kept);
    }
    stats.tier = to.map(|code| TierState { code, since: now });
    tx.customers().save_stats(brand, &stats).await?;
    tracing::debug!(%brand, %customer, from = %held, to = ?review.to, "tier moved down at review");
    Ok(Outcome::MovedDown)
}
