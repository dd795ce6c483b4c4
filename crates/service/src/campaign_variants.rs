//! Offer variants in a campaign's report: each variant's messaged customers, vouchers,
//! redemptions, revenue, incremental revenue and ROI against the campaign's one shared
//! hold-out, and which variant did better and how sure (see
//! [`regulars_campaigns::compare`]).

use regulars_campaigns::attribution::{Attribution, AttributionError, attribute};
use regulars_campaigns::compare::{Verdict, compare};
use regulars_campaigns::{Campaign, Offer};
use regulars_domain::{Money, RewardId};
use regulars_ports::{
    CampaignRecord, CampaignStatus, MemberGroup, MemberRevenue, VariantVoucherCount,
};

/// One variant's results.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantReport {
    /// Its index in the campaign's `variants`.
    pub index: u8,
    /// Its name.
    pub name: String,
    /// Customers messaged with it (treated members).
    pub treated: u64,
    /// Vouchers issued to them.
    pub vouchers_issued: u64,
    /// Of which redeemed.
    pub vouchers_redeemed: u64,
    /// Redeemed vouchers per messaged customer; `None` before anyone was messaged.
    pub redemption_rate: Option<f64>,
    /// Net revenue of its messaged customers in their windows, minor units.
    pub revenue_minor: i64,
    /// What its offers cost the shop, minor units: its redeemed vouchers, and for a
    /// `bonus_points` variant its points for each messaged customer at the programme's
    /// point value.
    pub offer_cost_minor: i64,
    /// Incremental revenue against the shared hold-out, its 95 % interval and ROI; the
    /// reason while a group is too small.
    pub attribution: Result<Attribution, AttributionError>,
}

/// The variants' results and the verdict on them; nothing for a campaign without
/// variants. `revenue` is every member's revenue in their window (both groups),
/// `vouchers` the campaign's vouchers by variant, `point_value` what a point is worth.
pub(crate) fn variant_reports(
    campaign: &Campaign,
    revenue: &[MemberRevenue],
    vouchers: &[VariantVoucherCount],
    point_value: Option<&Money>,
) -> (Vec<VariantReport>, Option<Verdict>) {
    if campaign.variants.is_empty() {
        return (Vec::new(), None);
    }
    let held: Vec<f64> = revenue
        .iter()
        .filter(|r| r.group == MemberGroup::Holdout)
        .map(|r| r.net_minor as f64)
        .collect();
    let mut arms: Vec<Vec<f64>> = vec![Vec::new(); campaign.variants.len()];
    for r in revenue.iter().filter(|r| r.group == MemberGroup::Treatment) {
        if let Some(arm) = r.variant.and_then(|v| arms.get_mut(usize::from(v))) {
            arm.push(r.net_minor as f64);
        }
    }
    let reports = campaign
        .variants
        .iter()
        .zip(&arms)
        .enumerate()
        .map(|(i, (variant, arm))| {
            let index = u8::try_from(i).unwrap_or(u8::MAX);
            let mine = vouchers.iter().filter(|v| v.variant == Some(index));
            let (mut issued, mut redeemed, mut cost) = (0_u64, 0_u64, 0_i64);
            for v in mine {
                issued += v.issued;
                redeemed += v.redeemed;
                let each = reward_cost(variant.offer.as_ref(), v.reward);
                cost = cost.saturating_add(
                    each.saturating_mul(i64::try_from(v.redeemed).unwrap_or(i64::MAX)),
                );
            }
            let treated = arm.len() as u64;
            let bonus = match (variant.offer.as_ref(), point_value) {
                (Some(Offer::BonusPoints { points }), Some(value)) => value
                    .to_minor_units()
                    .unwrap_or(0)
                    .saturating_mul(points.value())
                    .saturating_mul(i64::try_from(treated).unwrap_or(i64::MAX)),
                _ => 0,
            };
            let offer_cost_minor = cost.saturating_add(bonus);
            VariantReport {
                index,
                name: variant.name.clone(),
                treated,
                vouchers_issued: issued,
                vouchers_redeemed: redeemed,
                redemption_rate: (treated > 0).then(|| redeemed as f64 / treated as f64),
                revenue_minor: arm
                    .iter()
                    .map(|x| *x as i64)
                    .fold(0_i64, i64::saturating_add),
                offer_cost_minor,
                attribution: attribute(arm, &held, campaign.gross_margin, offer_cost_minor as f64),
            }
        })
        .collect();
    let slices: Vec<&[f64]> = arms.iter().map(Vec::as_slice).collect();
    (reports, compare(&slices))
}

/// Refuses an edit of a launched campaign (any status but draft) that changes its
/// variants or hold-out ([`Campaign::check_frozen_edit`]): the per-variant report would
/// then mix offers.
pub(crate) fn check_launched_edit(
    record: &CampaignRecord,
    edited: &Campaign,
) -> Result<(), crate::CampaignError> {
    if record.status == CampaignStatus::Draft {
        return Ok(());
    }
    let launched = crate::campaigns::parse_definition(record)?;
    launched.check_frozen_edit(edited).map_err(|e| match e {
        regulars_campaigns::CampaignError::Invalid { path, message } => {
            crate::CampaignError::Invalid { path, message }
        }
        other => crate::CampaignError::Invalid {
            path: "variants".into(),
            message: other.to_string(),
        },
    })
}

/// What one voucher of `reward` costs the shop under `offer`, minor units.
fn reward_cost(offer: Option<&Offer>, reward: RewardId) -> i64 {
    let priced = match offer {
        Some(Offer::Fixed { reward }) => std::slice::from_ref(reward),
        Some(Offer::Personalised { candidates, .. }) => candidates.as_slice(),
        Some(Offer::BonusPoints { .. }) | None => &[],
    };
    priced
        .iter()
        .find(|p| p.reward.id == reward)
        .and_then(|p| p.cost.to_minor_units().ok())
        .unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use regulars_domain::{CampaignId, Currency, CustomerId};

    /// A broadcast with two variants: a free tea (reward `[1; 16]`, costing 15.000 ₫)
    /// and 20 bonus points.
    pub(crate) fn campaign() -> Campaign {
        let reward = serde_json::json!({
            "reward": {"id": RewardId::from_bytes([1; 16]), "name": "Trà sữa", "cost": 100,
                "kind": {"type": "free_item", "sku": "TS"}, "validity_days": 14},
            "cost": {"amount": "15000", "currency": "VND"},
        });
        Campaign::from_json(
            &serde_json::json!({
                "id": CampaignId::from_bytes([9; 16]), "name": "AB", "shop": "Mây",
                "currency": "VND", "trigger": {"type": "broadcast"},
                "variants": [
                    {"name": "Free tea", "offer": {"type": "fixed", "reward": reward}},
                    {"name": "Points", "offer": {"type": "bonus_points", "points": 20}},
                ],
            })
            .to_string(),
        )
        .unwrap()
    }

    fn member(n: u8, group: MemberGroup, variant: Option<u8>, net_minor: i64) -> MemberRevenue {
        MemberRevenue {
            customer_id: CustomerId::from_bytes([n; 16]),
            group,
            variant,
            net_minor,
            orders: u64::from(net_minor > 0),
        }
    }

    #[test]
    fn each_variant_is_set_against_the_shared_holdout() {
        use MemberGroup::{Holdout, Treatment};
        let revenue = [
            member(1, Treatment, Some(0), 50_000),
            member(2, Treatment, Some(0), 70_000),
            member(3, Treatment, Some(1), 0),
            member(4, Treatment, Some(1), 10_000),
            member(5, Treatment, Some(1), 20_000),
            member(6, Holdout, None, 10_000),
            member(7, Holdout, None, 0),
        ];
        let vouchers = [VariantVoucherCount {
            variant: Some(0),
            reward: RewardId::from_bytes([1; 16]),
            issued: 2,
            redeemed: 1,
        }];
        let value = Money::from_minor_units(100, Currency::VND);
        let (reports, verdict) = variant_reports(&campaign(), &revenue, &vouchers, Some(&value));
        assert_eq!(reports.len(), 2);
        let (a, b) = (&reports[0], &reports[1]);
        assert_eq!(
            (a.treated, a.vouchers_redeemed, a.offer_cost_minor),
            (2, 1, 15_000)
        );
        assert_eq!(a.redemption_rate, Some(0.5));
        assert_eq!(a.revenue_minor, 120_000);
        // Bonus points: 20 points × 100 đồng for each of three messaged customers.
        assert_eq!(
            (b.treated, b.vouchers_issued, b.offer_cost_minor),
            (3, 0, 6_000)
        );
        let (aa, ab) = (
            a.attribution.as_ref().unwrap(),
            b.attribution.as_ref().unwrap(),
        );
        assert_eq!((aa.holdout, ab.holdout), (2, 2));
        assert_eq!(aa.incremental_revenue, (60_000.0 - 5_000.0) * 2.0);
        let verdict = verdict.unwrap();
        assert_eq!((verdict.best, verdict.runner_up), (0, 1));
        // Without variants there is nothing to report.
        let mut plain = campaign();
        plain.variants.clear();
        assert_eq!(
            variant_reports(&plain, &revenue, &[], None),
            (Vec::new(), None)
        );
    }
}
