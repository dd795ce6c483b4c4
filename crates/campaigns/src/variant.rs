//! Offer variants: two or more offers tested against each other in one campaign.
//!
//! A campaign with variants gives each customer it messages one of them; the variant
//! takes the place of the campaign's own `offer` (and of its `template` when the variant
//! has one). Every variant is measured against the campaign's one shared hold-out.

use serde::{Deserialize, Serialize};

use crate::campaign::{Campaign, CampaignError, Offer};
use regulars_domain::{CampaignId, CustomerId};

/// One arm of an offer test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfferVariant {
    /// Its name in reports ("A", "20 % off"); unique within the campaign.
    pub name: String,
    /// What this variant gives; nothing when absent (a message-only arm).
    #[serde(default)]
    pub offer: Option<Offer>,
    /// Its own message text; the campaign's template when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// Most variants a campaign may test against each other.
pub const MAX_VARIANTS: usize = 5;

/// Longest variant name, in characters.
pub const MAX_VARIANT_NAME: usize = 40;

/// Which of `n` variants a customer messaged by `campaign` gets: a hash of (campaign id,
/// customer id) with its own salt, so the same customer always gets the same variant
/// whatever the run or input order, and the hold-out (another salt) is shared evenly by
/// every variant. `0` when `n` is 0 or 1.
///
/// ```
/// use regulars_campaigns::variant::variant_index;
/// use regulars_domain::{CampaignId, CustomerId};
/// let campaign = CampaignId::from_bytes([7; 16]);
/// let mut counts = [0u32; 2];
/// for i in 0..10_000u32 {
///     let mut b = [0u8; 16];
///     b[..4].copy_from_slice(&i.to_le_bytes());
///     counts[variant_index(campaign, CustomerId::from_bytes(b), 2)] += 1;
/// }
/// assert!(counts.iter().all(|c| (4_800..5_200).contains(c)));
/// ```
pub fn variant_index(campaign: CampaignId, customer: CustomerId, n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    let h = crate::plan::stable_hash(&[
        b"variant",
        campaign.as_uuid().as_bytes(),
        customer.as_uuid().as_bytes(),
    ]);
    // The high half of h·n: uniform on 0..n without the bias of `h % n`.
    let index = (u128::from(h) * n as u128) >> 64;
    usize::try_from(index).unwrap_or(0)
}

impl Campaign {
    /// The campaign as variant `index` makes it: that variant's offer, its template
    /// (the campaign's when it has none), and no variants. `None` for an index out of
    /// range.
    pub fn arm(&self, index: usize) -> Option<Campaign> {
        let variant = self.variants.get(index)?;
        Some(Campaign {
            offer: variant.offer.clone(),
            template: variant.template.clone().or_else(|| self.template.clone()),
            variants: Vec::new(),
            ..self.clone()
        })
    }

    /// Every variant's campaign ([`Campaign::arm`]), in order; empty without variants.
    pub fn arms(&self) -> Vec<Campaign> {
        (0..self.variants.len())
            .filter_map(|i| self.arm(i))
            .collect()
    }

    /// Checks the variants: none or 2 to [`MAX_VARIANTS`], names unique, not empty, at
    /// most [`MAX_VARIANT_NAME`] characters; `offer` left out; each variant's offer and
    /// template checked like a campaign's, under `variants[i]`.
    pub(crate) fn validate_variants(&self) -> Result<(), CampaignError> {
        let invalid = |path: String, message: String| CampaignError::Invalid { path, message };
        if !(2..=MAX_VARIANTS).contains(&self.variants.len()) {
            return Err(invalid(
                "variants".into(),
                format!("give none, or 2 to {MAX_VARIANTS} variants to test against each other"),
            ));
        }
        if self.offer.is_some() {
            return Err(invalid(
                "variants".into(),
                "each variant has its own offer: leave out the campaign's `offer`".into(),
            ));
        }
        for (i, v) in self.variants.iter().enumerate() {
            let name = v.name.trim();
            if name.is_empty() || v.name.chars().count() > MAX_VARIANT_NAME {
                return Err(invalid(
                    format!("variants[{i}].name"),
                    format!("must be 1 to {MAX_VARIANT_NAME} characters"),
                ));
            }
            if self.variants[..i].iter().any(|o| o.name.trim() == name) {
                return Err(invalid(
                    format!("variants[{i}].name"),
                    "is the name of an earlier variant: names must differ".into(),
                ));
            }
        }
        for i in 0..self.variants.len() {
            let Some(arm) = self.arm(i) else { continue };
            arm.validate_offer_and_template().map_err(|e| match e {
                CampaignError::Invalid { path, message } => {
                    invalid(format!("variants[{i}].{path}"), message)
                }
                other => other,
            })?;
        }
        Ok(())
    }
}

impl Campaign {
    /// Every offer the campaign may give: its own, or each variant's.
    pub fn offers(&self) -> impl Iterator<Item = &Offer> {
        self.offer
            .iter()
            .chain(self.variants.iter().filter_map(|v| v.offer.as_ref()))
    }

    /// Whether any message of the campaign may carry an offer (and so spend budget).
    pub fn has_offer(&self) -> bool {
        self.offers().next().is_some()
    }

    /// Whether any offer of the campaign is `bonus_points` (whose cost needs the
    /// programme's point value).
    pub fn gives_bonus_points(&self) -> bool {
        self.offers().any(|o| o.bonus_points().is_some())
    }
}

impl Campaign {
    /// Whether `edited` keeps what a launched campaign may no longer change: its
    /// variants (count, names, templates and offers) and its hold-out. Once messages
    /// went out, each variant's report adds up the customers it messaged; a changed
    /// variant or hold-out would mix two tests in one report. An offer is the same when
    /// it names the same catalogue rewards of the same kind at the same cost (a reward
    /// renamed in the catalogue meanwhile changes nothing). The error names `variants`
    /// (or `variants[i]`) or `holdout`.
    pub fn check_frozen_edit(&self, edited: &Campaign) -> Result<(), CampaignError> {
        let frozen = |path: String, what: &str| CampaignError::Invalid {
            path,
            message: format!(
                "the campaign was launched: {what} can no longer change, or the \
                 per-variant report would mix offers; create a new campaign instead"
            ),
        };
        if self.variants.len() != edited.variants.len() {
            return Err(frozen("variants".into(), "its number of variants"));
        }
        for (i, (old, new)) in self.variants.iter().zip(&edited.variants).enumerate() {
            if old.name != new.name
                || old.template != new.template
                || offer_key(old.offer.as_ref()) != offer_key(new.offer.as_ref())
            {
                return Err(frozen(
                    format!("variants[{i}]"),
                    "a variant's name, offer or template",
                ));
            }
        }
        if self.holdout.to_bits() != edited.holdout.to_bits() {
            return Err(frozen("holdout".into(), "the hold-out"));
        }
        Ok(())
    }
}

/// An offer as [`Campaign::check_frozen_edit`] compares it: its JSON with every
/// catalogue reward reduced to its id and kind.
fn offer_key(offer: Option<&Offer>) -> serde_json::Value {
    fn reduce(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                if map.contains_key("id") && map.contains_key("kind") {
                    map.retain(|k, _| k == "id" || k == "kind");
                    return;
                }
                map.values_mut().for_each(reduce);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(reduce),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(offer).unwrap_or(serde_json::Value::Null);
    reduce(&mut value);
    value
}
