//! The stages of [`plan`](super::plan): the campaign prepared once, who is eligible,
//! when a message goes, the caps it must fit, its text, and the outcomes in customer
//! order.

use super::{
    CustomerFacts, FastMap, FastSet, Outcome, Prepared, SentMessage, SkipReason, at_local_hour,
    fits_rolling, occasion, priority, reward_value, shift,
};
use crate::campaign::{Audience, Campaign, CampaignError, Offer, PricedReward, SendTime, Trigger};
use crate::policy::Policy;
use crate::render::{CODE_MARKER, RATING_LINK_MARKER, Values, group_digits};
use regulars_domain::CustomerId;
use std::borrow::Cow;
use time::{Duration, OffsetDateTime};

use super::PlanError;

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

    /// The message's text for `c` (without the promotional prefix): only the variables
    /// the template uses are formatted.
    pub(super) fn render(
        &self,
        c: &CustomerFacts,
        chosen: Option<(&PricedReward, i64)>,
        send_at: OffsetDateTime,
    ) -> String {
        let campaign = self.campaign;
        let offset = campaign.utc_offset;
        let sep = if campaign.currency.code() == "VND" {
            '.'
        } else {
            ','
        };
        let local_date = |t: OffsetDateTime| {
            let d = t.to_offset(offset).date();
            format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
        };
        let expiry_date = match (&campaign.trigger, chosen) {
            _ if !self.uses_expiry => None,
            (Trigger::PointsExpiring { .. }, _) => c.expiring_points.map(|e| local_date(e.at)),
            (Trigger::VoucherExpiring { .. }, _) => c.expiring_voucher.map(|v| local_date(v.at)),
            (_, Some((r, _))) => Some(local_date(shift(
                send_at,
                Duration::days(i64::from(r.reward.validity_days)),
            ))),
            _ => None,
        };
        let bonus_name = self
            .bonus
            .map(|(points, _)| crate::render::bonus_reward_name(points, sep));
        let values = Values {
            name: c.name.as_deref().map(Cow::Borrowed),
            reward: chosen
                .map(|(r, _)| Cow::Borrowed(r.reward.name.as_str()))
                .or(bonus_name.map(Cow::Owned)),
            bonus_points: self
                .bonus
                .map(|(points, _)| Cow::Owned(group_digits(&points.value().to_string(), sep))),
            reward_value: chosen
                .filter(|_| self.uses_reward_value)
                .and_then(|(r, _)| reward_value(r))
                .map(Cow::Owned),
            points: c
                .expiring_points
                .filter(|_| self.uses_points)
                .map(|e| Cow::Owned(group_digits(&e.points.value().to_string(), sep))),
            balance: self
                .uses_balance
                .then(|| Cow::Owned(group_digits(&c.points_balance.value().to_string(), sep))),
            expiry_date: expiry_date.map(Cow::Owned),
            shop: Some(Cow::Borrowed(campaign.shop.as_str())),
            tier: c
                .tier_upgrade
                .as_ref()
                .map(|u| u.tier.as_str())
                .or(c.tier_down.as_ref().and_then(|d| d.tier.as_deref()))
                .or(c.features.tier.as_deref())
                .map(Cow::Borrowed),
            code: chosen.map(|_| Cow::Borrowed(CODE_MARKER)),
            rating_link: Some(Cow::Borrowed(RATING_LINK_MARKER)),
        };
        self.template.render(&values)
    }
}

/// What `points` bonus points cost the shop at the campaign's point value, minor units
/// (nothing while the programme gives points no value).
fn bonus_cost(campaign: &Campaign, points: regulars_domain::Points) -> Result<i64, PlanError> {
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

/// An eligible customer: (priority, id, index in the input, occasion).
pub(super) type Eligible = (u64, CustomerId, usize, String);

/// Trigger, profiling consent and audience, in input order: the skipped outcomes, and
/// the eligible customers sorted by their priority (a hash of campaign and customer).
pub(super) fn eligible(
    campaign: &Campaign,
    policy: &Policy,
    customers: &[CustomerFacts],
    now: OffsetDateTime,
) -> (Vec<Outcome>, Vec<Eligible>) {
    // Choosing whom to contact by segment, or what to offer by taste, is profiling.
    let targeted =
        campaign.audience.is_some() || matches!(campaign.offer, Some(Offer::Personalised { .. }));
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(customers.len());
    let mut order: Vec<Eligible> = Vec::new();
    for (i, c) in customers.iter().enumerate() {
        let skip = |reason| Outcome::Skip {
            customer_id: c.customer_id,
            reason,
        };
        let Some(occasion) = occasion(
            &campaign.trigger,
            &campaign.reward_costs,
            c,
            now,
            campaign.utc_offset,
        ) else {
            outcomes.push(skip(SkipReason::NotTriggered));
            continue;
        };
        // Profiling granted, or never asked where the brand's counsel allows it.
        if targeted && !(c.profiling || c.consent.allows_profiling(policy.profiling_default)) {
            outcomes.push(skip(SkipReason::NoProfilingConsent));
            continue;
        }
        let in_audience = match &campaign.audience {
            None => true,
            Some(Audience::Segment(name)) => c.segments.iter().any(|s| s == name),
            Some(Audience::Rule(rule)) => rule.matches(&c.features),
        };
        if !in_audience {
            outcomes.push(skip(SkipReason::NotInAudience));
            continue;
        }
        order.push((
            priority(campaign.id, c.customer_id),
            c.customer_id,
            i,
            occasion,
        ));
    }
    order.sort_unstable();
    (outcomes, order)
}

/// When `c`'s message goes: the campaign's send time, moved into the policy's allowed
/// hours for a promotional message.
pub(super) fn send_time(
    campaign: &Campaign,
    policy: &Policy,
    promotional: bool,
    c: &CustomerFacts,
    now: OffsetDateTime,
) -> OffsetDateTime {
    let offset = campaign.utc_offset;
    let send_at = match campaign.send_time {
        SendTime::Now => now,
        SendTime::FixedHour { hour } => at_local_hour(now, offset, hour),
        SendTime::PreferredHour { fallback_hour } => {
            match c.preferred_hour.filter(|h| *h < 24).or(fallback_hour) {
                Some(hour) => at_local_hour(now, offset, hour),
                None => now,
            }
        }
    };
    match policy.allowed_hours {
        Some(window) if promotional && !window.contains(send_at.to_offset(offset).hour()) => {
            at_local_hour(send_at, offset, window.start_hour)
        }
        _ => send_at,
    }
}

/// What was sent before and what this plan has planned so far: dedupe keys, and the
/// promotional send times per customer and per phone number the caps count.
pub(super) struct Caps<'h> {
    sent_keys: FastSet<&'h str>,
    planned_keys: FastSet<String>,
    by_customer: FastMap<CustomerId, Vec<OffsetDateTime>>,
    by_phone: FastMap<&'h str, Vec<OffsetDateTime>>,
}

impl<'h> Caps<'h> {
    pub(super) fn new(history: &'h [SentMessage]) -> Caps<'h> {
        let mut caps = Caps {
            sent_keys: history.iter().map(|m| m.dedupe_key.as_str()).collect(),
            planned_keys: FastSet::default(),
            by_customer: FastMap::default(),
            by_phone: FastMap::default(),
        };
        for m in history.iter().filter(|m| m.promotional) {
            caps.by_customer
                .entry(m.customer_id)
                .or_default()
                .push(m.send_at);
            caps.by_phone
                .entry(m.phone.as_str())
                .or_default()
                .push(m.send_at);
        }
        caps
    }

    /// Whether a message with this dedupe key was sent or planned already.
    pub(super) fn seen(&self, dedupe_key: &str) -> bool {
        self.sent_keys.contains(dedupe_key) || self.planned_keys.contains(dedupe_key)
    }

    /// Why a promotional message to `c` at `send_at` would break the campaign's
    /// frequency cap or the legal cap per phone number, if it would.
    pub(super) fn refusal(
        &self,
        campaign: &Campaign,
        policy: &Policy,
        c: &CustomerFacts,
        send_at: OffsetDateTime,
    ) -> Option<SkipReason> {
        if let Some(cap) = campaign.frequency_cap {
            let times = self
                .by_customer
                .get(&c.customer_id)
                .map_or(&[][..], Vec::as_slice);
            let window = Duration::days(i64::from(cap.days));
            if !fits_rolling(times, send_at, window, cap.max) {
                return Some(SkipReason::FrequencyCap);
            }
        }
        if let Some(max) = policy.max_per_phone {
            let times = self
                .by_phone
                .get(c.phone.as_str())
                .map_or(&[][..], Vec::as_slice);
            let window = Duration::hours(i64::from(policy.cap_window_hours));
            if !fits_rolling(times, send_at, window, max) {
                return Some(SkipReason::LegalCap);
            }
        }
        None
    }

    /// Counts a planned message: its key, and its time against the caps when promotional.
    pub(super) fn planned(
        &mut self,
        c: &'h CustomerFacts,
        send_at: OffsetDateTime,
        promotional: bool,
        dedupe_key: String,
    ) {
        if promotional {
            self.by_customer
                .entry(c.customer_id)
                .or_default()
                .push(send_at);
            self.by_phone
                .entry(c.phone.as_str())
                .or_default()
                .push(send_at);
        }
        self.planned_keys.insert(dedupe_key);
    }
}

/// The outcomes ordered by customer id, sorting small keys and moving each outcome once.
pub(super) fn by_customer_id(outcomes: Vec<Outcome>) -> Vec<Outcome> {
    let mut by_id: Vec<(CustomerId, usize)> = outcomes
        .iter()
        .enumerate()
        .map(|(k, o)| (o.customer_id(), k))
        .collect();
    by_id.sort_unstable();
    let mut slots: Vec<Option<Outcome>> = outcomes.into_iter().map(Some).collect();
    by_id
        .into_iter()
        .filter_map(|(_, k)| slots.get_mut(k).and_then(Option::take))
        .collect()
}
