//! Offer variants in the campaign report: each variant against the shared hold-out, and
//! which did better and how sure.

use super::campaigns::{AttributionDto, attribution_dto};
use regulars_service::{CampaignReport, VariantReport};
use serde::Serialize;
use utoipa::ToSchema;

/// One offer variant's results against the campaign's shared hold-out.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VariantDto {
    /// Its index in the campaign's `variants`.
    index: u8,
    name: String,
    /// Customers messaged with this variant.
    treated: u64,
    vouchers_issued: u64,
    vouchers_redeemed: u64,
    /// Redeemed vouchers per messaged customer; absent before anyone was messaged.
    redemption_rate: Option<f64>,
    /// Net revenue of its messaged customers in their windows, minor units.
    revenue_minor: i64,
    /// Its redeemed vouchers, and for a bonus-points variant its points per messaged
    /// customer at the programme's point value, minor units.
    offer_cost_minor: i64,
    /// Incremental revenue against the shared hold-out, 95 % interval, ROI; absent while
    /// a group has fewer than 2 customers (`attribution_unavailable` says why).
    attribution: Option<AttributionDto>,
    attribution_unavailable: Option<String>,
}

impl From<&VariantReport> for VariantDto {
    fn from(v: &VariantReport) -> Self {
        let (attribution, attribution_unavailable) = match &v.attribution {
            Ok(a) => (Some(attribution_dto(a)), None),
            Err(e) => (None, Some(e.to_string())),
        };
        VariantDto {
            index: v.index,
            name: v.name.clone(),
            treated: v.treated,
            vouchers_issued: v.vouchers_issued,
            vouchers_redeemed: v.vouchers_redeemed,
            redemption_rate: v.redemption_rate,
            revenue_minor: v.revenue_minor,
            offer_cost_minor: v.offer_cost_minor,
            attribution,
            attribution_unavailable,
        }
    }
}

/// Which variant did better: the one with the highest revenue per messaged customer, and
/// the probability that it truly beats the runner-up (normal approximation of the
/// difference of means). `sure` from 95 %; below that the winner is "not yet sure".
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VerdictDto {
    /// Index of the best variant.
    best: u8,
    best_name: String,
    /// Index of the runner-up.
    runner_up: u8,
    runner_up_name: String,
    /// Probability (0.5 to 1) that the best beats the runner-up.
    probability: f64,
    sure: bool,
}

/// The verdict of a report with variants.
pub(crate) fn verdict_dto(r: &CampaignReport) -> Option<VerdictDto> {
    let v = r.verdict?;
    let name = |i: usize| r.variants.get(i).map(|v| (v.index, v.name.clone()));
    let (best, best_name) = name(v.best)?;
    let (runner_up, runner_up_name) = name(v.runner_up)?;
    Some(VerdictDto {
        best,
        best_name,
        runner_up,
        runner_up_name,
        probability: v.probability,
        sure: v.sure,
    })
}
