//! A campaign's results against its hold-out group, for the whole brand or at some of
//! its locations.

use super::figures::{Bonus, figures};
use super::{CampaignError, CampaignReport, find, parse_definition};
use crate::Services;
use crate::account::load_brand;
use crate::scope::Scope;
use regulars_domain::{BrandId, CampaignId, Points};
use regulars_ports::{Location, Transaction};

impl Services {
    /// The campaign's results: messages, vouchers, revenue of treated against held-out
    /// members in their attribution windows, incremental revenue and ROI.
    pub async fn campaign_report(
        &self,
        brand: BrandId,
        id: CampaignId,
    ) -> Result<CampaignReport, CampaignError> {
        self.campaign_report_in(brand, id, &Scope::Brand).await
    }

    /// The campaign's results at `scope`'s locations: members' revenue counts only their
    /// orders placed there (in the same windows), vouchers redeemed only those redeemed
    /// on an order placed there, and the offer cost follows those redemptions; members,
    /// messages, vouchers issued and bonus points stay the campaign's (see
    /// [`CampaignReport::scope`]). A location the brand does not have is
    /// [`CampaignError::UnknownLocation`].
    pub async fn campaign_report_in(
        &self,
        brand: BrandId,
        id: CampaignId,
        scope: &Scope,
    ) -> Result<CampaignReport, CampaignError> {
        let (record, counts, messages, revenue, vouchers) = self
            .transact("campaign_report", |mut tx| async move {
                let result: Result<_, CampaignError> = async {
                    load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                    let codes = scope_codes(tx.as_mut(), brand, scope).await?;
                    let codes = codes.as_deref();
                    let record = find(tx.as_mut(), brand, id).await?;
                    let campaign = parse_definition(&record)?;
                    let counts = tx.campaigns().member_counts(brand, id).await?;
                    let messages = tx.outbox().counts(brand, Some(id)).await?;
                    let revenue = tx
                        .campaigns()
                        .member_revenue(brand, id, campaign.attribution_days, codes)
                        .await?;
                    let vouchers = tx.vouchers().campaign_vouchers(brand, id, codes).await?;
                    let by_variant = if campaign.variants.is_empty() {
                        Vec::new()
                    } else {
                        tx.campaigns().variant_vouchers(brand, id, codes).await?
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
        let (vouchers, by_variant, (credits, points, point_value)) = vouchers;
        let campaign = parse_definition(&record)?;
        let bonus = Bonus {
            credits,
            points,
            point_value,
            charged: scope.is_brand(),
        };
        let f = figures(&campaign, &revenue, &vouchers, &by_variant, &bonus);
        Ok(CampaignReport {
            variants: f.variants,
            verdict: f.verdict,
            treated: counts.0,
            held_out: counts.1,
            messages,
            vouchers_issued: f.vouchers_issued,
            vouchers_redeemed: f.vouchers_redeemed,
            window_days: campaign.attribution_days,
            treated_revenue_minor: f.treated_revenue_minor,
            holdout_revenue_minor: f.holdout_revenue_minor,
            offer_cost_minor: f.offer_cost_minor,
            bonus_credits: credits,
            bonus_points: points,
            bonus_cost_minor: f.bonus_cost_minor,
            gross_margin: campaign.gross_margin,
            attribution: f.attribution,
            campaign: record,
            scope: scope.clone(),
        })
    }
}

/// The location codes of `scope` (`None`: every order counts); a location the brand
/// does not have is refused, whoever's it is.
async fn scope_codes(
    tx: &mut dyn Transaction,
    brand: BrandId,
    scope: &Scope,
) -> Result<Option<Vec<String>>, CampaignError> {
    let Scope::Locations(ids) = scope else {
        return Ok(None);
    };
    let known: Vec<Location> = tx.locations().locations(brand).await?;
    ids.iter()
        .map(|id| {
            known
                .iter()
                .find(|l| l.id == *id)
                .map(|l| l.code.clone())
                .ok_or(CampaignError::UnknownLocation(*id))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
