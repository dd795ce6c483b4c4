//! A campaign's results against its hold-out group.

use super::{CampaignError, CampaignReport, find, offer_costs, parse_definition};
use crate::Services;
use crate::account::load_brand;
use regulars_campaigns::attribution::attribute;
use regulars_domain::{BrandId, CampaignId, Points};
use regulars_ports::MemberGroup;

impl Services {
    /// The campaign's results: messages, vouchers, revenue of treated against held-out
    /// members in their attribution windows, incremental revenue and ROI.
    pub async fn campaign_report(
        &self,
        brand: BrandId,
        id: CampaignId,
    ) -> Result<CampaignReport, CampaignError> {
        let (record, counts, messages, revenue, vouchers) = self
            .transact("campaign_report", |mut tx| async move {
                let result: Result<_, CampaignError> = async {
                    load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                    let record = find(tx.as_mut(), brand, id).await?;
                    let campaign = parse_definition(&record)?;
                    let counts = tx.campaigns().member_counts(brand, id).await?;
                    let messages = tx.outbox().counts(brand, Some(id)).await?;
                    let revenue = tx
                        .campaigns()
                        .member_revenue(brand, id, campaign.attribution_days)
                        .await?;
                    let vouchers = tx.vouchers().campaign_vouchers(brand, id).await?;
                    let by_variant = if campaign.variants.is_empty() {
                        Vec::new()
                    } else {
                        tx.campaigns().variant_vouchers(brand, id).await?
                    };
                    let bonus = if campaign.gives_bonus_points() {
                        let (n, points) = tx.ledger().campaign_bonus(brand, id).await?;
                        let value =
                            crate::bonus::point_value(tx.as_mut(), brand, campaign.currency)
                                .await?;
                        (n, points, value)
                    } else {
                        (0, Points::ZERO, None)
                    };
                    let vouchers = (vouchers, by_variant, bonus);
                    Ok((record, counts, messages, revenue, vouchers))
                }
                .await;
                (tx, result)
            })
            .await?;
        let (vouchers, by_variant, (bonus_credits, bonus_points, point_value)) = vouchers;
        let campaign = parse_definition(&record)?;
        let costs = offer_costs(&campaign);
        let mut treated = Vec::new();
        let mut held = Vec::new();
        let (mut treated_minor, mut held_minor) = (0_i64, 0_i64);
        for r in &revenue {
            match r.group {
                MemberGroup::Treatment => {
                    treated.push(r.net_minor as f64);
                    treated_minor = treated_minor.saturating_add(r.net_minor);
                }
                MemberGroup::Holdout => {
                    held.push(r.net_minor as f64);
                    held_minor = held_minor.saturating_add(r.net_minor);
                }
            }
        }
        let offer_cost_minor: i64 = vouchers
            .iter()
            .map(|v| {
                let each = costs.get(&v.reward).copied().unwrap_or(0);
                each.saturating_mul(i64::try_from(v.redeemed).unwrap_or(i64::MAX))
            })
            .fold(0_i64, i64::saturating_add);
        let bonus_cost_minor = point_value
            .and_then(|v| v.to_minor_units().ok())
            .map_or(0, |each| each.saturating_mul(bonus_points.value()));
        let offer_cost_minor = offer_cost_minor.saturating_add(bonus_cost_minor);
        let attribution = attribute(
            &treated,
            &held,
            campaign.gross_margin,
            offer_cost_minor as f64,
        );
        let (variants, verdict) = crate::campaign_variants::variant_reports(
            &campaign,
            &revenue,
            &by_variant,
            point_value.as_ref(),
        );
        Ok(CampaignReport {
            variants,
            verdict,
            treated: counts.0,
            held_out: counts.1,
            messages,
            vouchers_issued: vouchers.iter().map(|v| v.issued).sum(),
            vouchers_redeemed: vouchers.iter().map(|v| v.redeemed).sum(),
            window_days: campaign.attribution_days,
            treated_revenue_minor: treated_minor,
            holdout_revenue_minor: held_minor,
            offer_cost_minor,
            bonus_credits,
            bonus_points,
            bonus_cost_minor,
            gross_margin: campaign.gross_margin,
            attribution,
            campaign: record,
        })
    }
}
