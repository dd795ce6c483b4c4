//! The planner's facts of a customer, gathered from their history and stored scores.

use super::CampaignError;
use regulars_campaigns::plan::{
    CustomerFacts, OrderFact, PointsExpiry, TierDowngrade, TierUpgrade, VoucherExpiry,
};
use regulars_domain::{BrandId, CustomerId};
use regulars_loyalty::ledger::{Lot, fold};
use regulars_loyalty::vouchers::VoucherStatus;
use regulars_ports::{CustomerHistory, CustomerScores, ExpiringLots, Transaction};
use std::collections::HashMap;
use time::OffsetDateTime;

/// The planner's facts of one customer from their history and stored scores.
pub(crate) fn facts_of(
    h: &CustomerHistory,
    scores: Option<&CustomerScores>,
    now: OffsetDateTime,
) -> CustomerFacts {
    let c = &h.customer;
    let mut f = CustomerFacts::new(c.id, c.phone.clone());
    f.name = c.name.clone();
    f.email = c.email.clone();
    f.zalo_user_id = c.zalo_user_id.clone();
    f.consent = c.consent;
    f.opted_out = c.consent.opted_out();
    // Silence is not consent: profiling needs it granted.
    f.profiling = c.consent.allows_profiling(false);
    f.birthday = c.birthday;
    f.joined_at = Some(c.created_at);
    f.points_balance = h.balance;
    f.last_visit_at = h.visits.last().map(|v| v.at);
    f.last_order = h.visits.last().map(|v| OrderFact {
        id: v.order_id,
        at: v.at,
    });
    let tier = h.stats.as_ref().and_then(|s| s.tier.as_ref());
    // The current tier came from a review's move down when the review set it (or left
    // no tier); otherwise it was entered by moving up.
    match &h.tier_down {
        Some(down) if tier.is_none_or(|t| t.since == down.reviewed_at) => {
            f.tier_down = Some(TierDowngrade {
                tier: down.to.clone(),
                at: down.reviewed_at,
            });
        }
        _ => {
            if let Some(tier) = tier {
                f.tier_upgrade = Some(TierUpgrade {
                    tier: tier.code.clone(),
                    at: tier.since,
                });
            }
        }
    }
    if let Some(s) = scores {
        f.segments = s.segments.clone();
        f.p_alive = s.p_alive;
        f.next_visit_at = s.next_visit_at;
        f.favourite_item = s.favourite_item.clone();
        f.next_best_item = s.next_best_item.clone();
        f.preferred_hour = s.preferred_hour;
        if let Some(features) = crate::segments::features_now(s, now) {
            f.features = features;
        }
        // A visit the scoring run did not see (placed after it, or placed before it but
        // arrived later): the customer is evidently not lapsed. Recency is taken from that
        // visit, and what the run predicted from the older history (P(alive), the next
        // expected visit) is unknown until the next run, so triggers and rules on them do
        // not fire for a customer who just came in.
        let seen_recency = s
            .features
            .clone()
            .and_then(|v| serde_json::from_value::<regulars_segments::CustomerFeatures>(v).ok())
            .map(|features| features.recency_days);
        if let Some(last) = f.last_visit_at
            && (last > s.scored_at
                || seen_recency
                    .is_some_and(|days| (s.scored_at - last).whole_days() < i64::from(days)))
        {
            let days = (now - last).whole_days().max(0);
            f.features.recency_days = u32::try_from(days).unwrap_or(u32::MAX);
            f.features.p_alive = None;
            f.p_alive = None;
            f.next_visit_at = None;
        }
    }
    f.features.points_balance = h.balance.value();
    f
}

/// Each customer's next batch of points to expire after `now`: a page's in one read of
/// the stored lots. An account without a stored state (older data, rare) is folded from
/// its entries instead; customers with nothing to expire are left out.
pub(super) async fn next_expiries(
    tx: &mut dyn Transaction,
    brand: BrandId,
    customers: &[CustomerId],
    now: OffsetDateTime,
) -> Result<HashMap<CustomerId, PointsExpiry>, CampaignError> {
    let mut next = HashMap::new();
    for ExpiringLots { customer, lots } in tx
        .ledger()
        .next_expiring_lots(brand, customers, now)
        .await?
    {
        let found = match lots {
            Some(lots) => next_of(lots, now),
            None => folded_next_expiry(tx, brand, customer, now).await?,
        };
        if let Some(found) = found {
            next.insert(customer, found);
        }
    }
    Ok(next)
}

/// The next batch of points to expire after `now`, from the customer's whole ledger.
async fn folded_next_expiry(
    tx: &mut dyn Transaction,
    brand: BrandId,
    customer: CustomerId,
    now: OffsetDateTime,
) -> Result<Option<PointsExpiry>, CampaignError> {
    let entries = tx.ledger().entries(brand, customer).await?;
    let Ok(state) = fold(&entries) else {
        // A ledger that does not fold is reported by check-ledger; it expires nothing here.
        return Ok(None);
    };
    Ok(next_of(state.lots(), now))
}

/// The next batch of points to expire after `now` among open lots: the earliest expiry
/// after `now` of a lot with points left, with the points of every such lot expiring at
/// that same instant.
fn next_of(lots: impl IntoIterator<Item = Lot>, now: OffsetDateTime) -> Option<PointsExpiry> {
    let mut next: Option<PointsExpiry> = None;
    for lot in lots {
        let Some(at) = lot.expires_at else { continue };
        if at <= now || !lot.remaining.is_positive() {
            continue;
        }
        next = match next {
            Some(n) if n.at < at => Some(n),
            Some(n) if n.at == at => Some(PointsExpiry {
                points: n.points.checked_add(lot.remaining).unwrap_or(n.points),
                at,
            }),
            _ => Some(PointsExpiry {
                points: lot.remaining,
                at,
            }),
        };
    }
    next
}

/// Each customer's unused voucher that expires next after `now`, for `voucher_expiring`:
/// a page's in one read.
pub(super) async fn next_voucher_expiries(
    tx: &mut dyn Transaction,
    brand: BrandId,
    customers: &[CustomerId],
    now: OffsetDateTime,
) -> Result<HashMap<CustomerId, VoucherExpiry>, CampaignError> {
    let mut next: HashMap<CustomerId, VoucherExpiry> = HashMap::new();
    // Newest first: of two expiring at once, the newer is kept.
    for v in tx
        .vouchers()
        .unused_vouchers_of(brand, customers, now)
        .await?
    {
        if !matches!(v.status(), VoucherStatus::Issued) || v.expires_at() <= now {
            continue;
        }
        let this = VoucherExpiry {
            voucher_id: v.id(),
            at: v.expires_at(),
        };
        match next.get(&v.customer()) {
            Some(found) if found.at <= this.at => {}
            _ => {
                next.insert(v.customer(), this);
            }
        }
    }
    Ok(next)
}
