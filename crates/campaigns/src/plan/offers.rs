//! What a message offers: the campaign (or each variant) prepared once with its offers
//! priced, the reward chosen for a customer within the cost limit, and the variant a
//! customer gets.

use super::{CustomerFacts, PlanError, PlannedOffer, SkipReason};
use crate::campaign::{Campaign, CampaignError, Offer, PricedReward};
use crate::render::{Template, format_money};
use regulars_domain::{Money, Points};
use regulars_loyalty::rewards::RewardKind;

/// A campaign (or one of its variants) made ready to plan with: its template parsed,
/// its offers priced, and which computed variables its template needs.
pub(super) struct Prepared<'a> {
    pub(super) campaign: &'a Campaign,
    pub(super) template: Template,
    /// (reward, cost in minor units) in the order of the campaign.
    pub(super) offers: Vec<(&'a PricedReward, i64)>,
    /// A `bonus_points` offer: the points and what they cost, minor units.
    pub(super) bonus: Option<(Points, i64)>,
    /// A personalised offer's cost limit per customer, minor units.
    pub(super) max_cost: Option<i64>,
    /// Which computed variables the template needs (the others are not formatted).
    pub(super) uses_expiry: bool,
    pub(super) uses_reward_value: bool,
    pub(super) uses_points: bool,
    pub(super) uses_balance: bool,
}

impl<'a> Prepared<'a> {
    /// The campaign's template parsed and its offers priced, once per plan.
    pub(super) fn new(campaign: &'a Campaign) -> Result<Prepared<'a>, PlanError> {
        let template = campaign.template().map_err(|e| CampaignError::Invalid {
            path: "template".into(),
            message: e.to_string(),
        })?;
        let (offers, max_cost) = match &campaign.offer {
            None => (Vec::new(), None),
            Some(Offer::Fixed { reward }) => (vec![(reward, reward.cost.to_minor_units()?)], None),
            Some(Offer::Personalised {
                candidates,
                max_cost_per_customer,
            }) => {
                let mut offers = Vec::with_capacity(candidates.len());
                for c in candidates {
                    offers.push((c, c.cost.to_minor_units()?));
                }
                (offers, Some(max_cost_per_customer.to_minor_units()?))
            }
            Some(Offer::BonusPoints { .. }) => (Vec::new(), None),
        };
        let bonus = match &campaign.offer {
            Some(Offer::BonusPoints { points }) => Some((*points, bonus_cost(campaign, *points)?)),
            _ => None,
        };
        Ok(Prepared {
            campaign,
            uses_expiry: template.uses("expiry_date"),
            uses_reward_value: template.uses("reward_value"),
            uses_points: template.uses("points"),
            uses_balance: template.uses("balance"),
            template,
            offers,
            bonus,
            max_cost,
        })
    }

    /// The offer of a message given the reward chosen for it, if any.
    pub(super) fn planned_offer(
        &self,
        chosen: Option<(&PricedReward, i64)>,
    ) -> Option<PlannedOffer> {
        let currency = self.campaign.currency;
        if let Some((points, cost)) = self.bonus {
            return Some(PlannedOffer {
                reward_id: None,
                reward_name: crate::render::bonus_reward_name(points, self.digit_separator()),
                bonus_points: Some(points),
                cost: Money::from_minor_units(cost, currency),
            });
        }
        chosen.map(|(r, cost)| PlannedOffer {
            reward_id: Some(r.reward.id),
            reward_name: r.reward.name.clone(),
            bonus_points: None,
            cost: Money::from_minor_units(cost, currency),
        })
    }

    /// How the campaign's texts group digits: `1.250` in đồng, `1,250` otherwise.
    fn digit_separator(&self) -> char {
        if self.campaign.currency.code() == "VND" {
            '.'
        } else {
            ','
        }
    }

    /// The reward for `c`, or why there is none.
    pub(super) fn choose(
        &self,
        c: &CustomerFacts,
    ) -> Result<Option<(&PricedReward, i64)>, SkipReason> {
        let within = |cost: i64| self.max_cost.is_none_or(|m| cost <= m);
        match &self.campaign.offer {
            None | Some(Offer::BonusPoints { .. }) => Ok(None),
            Some(Offer::Fixed { .. }) => match self.offers.first() {
                Some(&(r, cost)) if within(cost) => Ok(Some((r, cost))),
                _ => Err(SkipReason::OfferTooExpensive),
            },
            Some(Offer::Personalised { .. }) => {
                let wanted = [c.favourite_item.as_deref(), c.next_best_item.as_deref()];
                for item in wanted.into_iter().flatten() {
                    if let Some(&(r, cost)) = self
                        .offers
                        .iter()
                        .find(|(r, cost)| r.item() == Some(item) && within(*cost))
                    {
                        return Ok(Some((r, cost)));
                    }
                }
                self.offers
                    .iter()
                    .find(|(r, cost)| r.item().is_none() && within(*cost))
                    .map(|&(r, cost)| Some((r, cost)))
                    .ok_or(SkipReason::OfferTooExpensive)
            }
        }
    }
}

/// What `points` bonus points cost the shop at the campaign's point value, minor units
/// (nothing while the programme gives points no value).
fn bonus_cost(campaign: &Campaign, points: Points) -> Result<i64, PlanError> {
    let Some(value) = &campaign.point_value else {
        return Ok(0);
    };
    if value.currency() != campaign.currency {
        return Err(PlanError::Currency {
            expected: campaign.currency,
            found: value.currency(),
        });
    }
    value
        .to_minor_units()?
        .checked_mul(points.value())
        .ok_or(PlanError::Money(regulars_domain::DomainError::Overflow(
            "money",
        )))
}

/// The discount a reward gives, as `{{reward_value}}` says it (`20.000 ₫`, `10%`); `None`
/// for a free item or modifier.
pub(crate) fn reward_value(r: &PricedReward) -> Option<String> {
    match &r.reward.kind {
        RewardKind::FixedDiscount { amount } => Some(format_money(amount)),
        RewardKind::PercentDiscount { percent, .. } => Some(format!("{}%", percent.normalize())),
        RewardKind::FreeItem { .. } | RewardKind::FreeModifier { .. } => None,
    }
}

/// The prepared campaign a customer's message is made from, and the index of their
/// variant when the campaign has variants.
pub(super) fn arm_for<'p, 'a>(
    campaign: &Campaign,
    prepared: &'p [Prepared<'a>],
    has_variants: bool,
    c: &CustomerFacts,
) -> (Option<u8>, &'p Prepared<'a>) {
    match prepared.len() {
        1 if !has_variants => (None, &prepared[0]),
        n => {
            let i = crate::variant::variant_index(campaign.id, c.customer_id, n);
            (u8::try_from(i).ok(), &prepared[i.min(n - 1)])
        }
    }
}
