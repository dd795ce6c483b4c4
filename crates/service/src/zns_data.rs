//! The template data a campaign message carries for Zalo ZNS: the fixed set, or the
//! parameters the campaign declares for its template.

use regulars_campaigns::Campaign;
use regulars_campaigns::plan::{CustomerFacts, PlannedMessage};
use regulars_loyalty::vouchers::Voucher;
use regulars_ports::Brand;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// What `{{name}}` says to a customer whose name is unknown ("you"), as in texts.
const NO_NAME: &str = "bạn";

fn local_date(brand: &Brand, at: OffsetDateTime) -> String {
    at.to_offset(brand.utc_offset)
        .date()
        .format(&time::macros::format_description!("[day]/[month]/[year]"))
        .unwrap_or_default()
}

/// The fixed set for a campaign that declares no parameters: `customer_name`, `shop`,
/// `points` (the balance), and with an offer `reward`, `code`, `expiry_date`.
pub(crate) fn fixed(
    brand: &Brand,
    campaign: &Campaign,
    facts: &CustomerFacts,
    m: &PlannedMessage,
    code: Option<&str>,
    voucher: Option<&Voucher>,
) -> BTreeMap<String, String> {
    let mut data = BTreeMap::new();
    data.insert(
        "customer_name".to_owned(),
        facts.name.clone().unwrap_or_default(),
    );
    data.insert("shop".to_owned(), campaign.shop.clone());
    if let Some(offer) = &m.offer {
        data.insert("reward".to_owned(), offer.reward_name.clone());
    }
    if let (Some(code), Some(v)) = (code, voucher) {
        data.insert("code".to_owned(), code.to_owned());
        data.insert("expiry_date".to_owned(), local_date(brand, v.expires_at()));
    }
    data.insert(
        "points".to_owned(),
        facts.points_balance.value().to_string(),
    );
    data
}

/// The campaign's declared parameters, each filled from its variable. A variable with
/// no value for this customer leaves its parameter out (never sent empty); the delivery
/// worker then refuses the message on Zalo and it moves to its next channel.
pub(crate) fn declared(
    brand: &Brand,
    campaign: &Campaign,
    facts: &CustomerFacts,
    m: &PlannedMessage,
    code: Option<&str>,
    voucher: Option<&Voucher>,
) -> BTreeMap<String, String> {
    let value_of = |variable: &str| -> Option<String> {
        match variable {
            "name" => Some(
                facts
                    .name
                    .as_deref()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .unwrap_or(NO_NAME)
                    .to_owned(),
            ),
            "shop" => Some(campaign.shop.clone()),
            "reward" => m.offer.as_ref().map(|o| o.reward_name.clone()),
            "code" => code.map(str::to_owned),
            "expiry_date" => voucher
                .map(|v| v.expires_at())
                .or(facts.expiring_points.map(|e| e.at))
                .map(|at| local_date(brand, at)),
            "points" => facts.expiring_points.map(|e| e.points.value().to_string()),
            "balance" => Some(facts.points_balance.value().to_string()),
            "tier" => facts
                .tier_upgrade
                .as_ref()
                .map(|u| u.tier.clone())
                .or(facts.tier_down.as_ref().and_then(|d| d.tier.clone()))
                .or(facts.features.tier.clone()),
            _ => None,
        }
    };
    campaign
        .zalo_params
        .iter()
        .filter_map(|(name, param)| {
            value_of(&param.value)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (name.clone(), v))
        })
        .collect()
}
