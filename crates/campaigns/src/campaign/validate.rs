//! The checks serde cannot make on a campaign: ranges, currencies, the offer, the
//! template as it goes with the offer, and the trigger's numbers.

use super::{
    Campaign, CampaignError, MAX_ATTRIBUTION_DAYS, MAX_BIRTHDAY_DAYS_BEFORE, MAX_BONUS_POINTS,
    MAX_POINTS_AWAY, MAX_SPAN_DAYS, MAX_SPAN_HOURS, Offer, PricedReward, SendTime, Trigger,
    invalid,
};
use regulars_domain::Money;

impl Campaign {
    /// Checks the values serde cannot: ranges, currencies, templates, rewards.
    pub fn validate(&self) -> Result<(), CampaignError> {
        if self.name.trim().is_empty() {
            return Err(invalid("name", "must not be empty"));
        }
        if !(0.0..=0.5).contains(&self.holdout) {
            return Err(invalid("holdout", "must be between 0 and 0.5"));
        }
        if !(1..=MAX_ATTRIBUTION_DAYS).contains(&self.attribution_days) {
            return Err(invalid(
                "attribution_days",
                format!("must be 1 to {MAX_ATTRIBUTION_DAYS}"),
            ));
        }
        if !(self.gross_margin > 0.0 && self.gross_margin <= 1.0) {
            return Err(invalid("gross_margin", "must be above 0 and at most 1"));
        }
        if self
            .zalo_template
            .as_ref()
            .is_some_and(|t| t.trim().is_empty() || t.len() > 100)
        {
            return Err(invalid("zalo_template", "must be 1 to 100 characters"));
        }
        self.validate_trigger()?;
        self.sms
            .validate()
            .map_err(|m| invalid("sms.max_segments", m))?;
        if self.channels.is_empty() {
            return Err(invalid("channels", "at least one channel is needed"));
        }
        for (i, c) in self.channels.iter().enumerate() {
            if self.channels[..i].contains(c) {
                return Err(invalid(format!("channels[{i}]"), "listed twice"));
            }
        }
        match self.send_time {
            SendTime::FixedHour { hour } if hour > 23 => {
                return Err(invalid("send_time.hour", "must be 0 to 23"));
            }
            SendTime::PreferredHour {
                fallback_hour: Some(hour),
            } if hour > 23 => {
                return Err(invalid("send_time.fallback_hour", "must be 0 to 23"));
            }
            _ => {}
        }
        if let Some(cap) = self.frequency_cap {
            if cap.max == 0 {
                return Err(invalid("frequency_cap.max", "must be at least 1"));
            }
            if !(1..=MAX_SPAN_DAYS).contains(&cap.days) {
                return Err(invalid(
                    "frequency_cap.days",
                    format!("must be 1 to {MAX_SPAN_DAYS}"),
                ));
            }
        }
        self.policy
            .validate()
            .map_err(|(field, m)| invalid(format!("policy.{field}"), m))?;
        if let Some(budget) = &self.budget {
            self.check_amount("budget".into(), budget)?;
        }
        if self.variants.is_empty() {
            self.validate_offer_and_template()
        } else {
            self.validate_variants()
        }
    }

    /// An amount of the campaign: in its currency and not negative.
    fn check_amount(&self, path: String, m: &Money) -> Result<(), CampaignError> {
        if m.currency() != self.currency {
            return Err(invalid(path, format!("must be in {}", self.currency)));
        }
        if m.is_negative() {
            return Err(invalid(path, "must not be negative"));
        }
        Ok(())
    }

    /// The offer, and the template as it goes with the offer (for a campaign with
    /// variants, each variant's campaign is checked so: see [`crate::variant`]).
    pub(crate) fn validate_offer_and_template(&self) -> Result<(), CampaignError> {
        let positive = |path: String, m: &Money| self.check_amount(path, m);
        let check_reward = |path: String, r: &PricedReward| -> Result<(), CampaignError> {
            r.reward
                .validate()
                .map_err(|e| invalid(format!("{path}.reward"), e.to_string()))?;
            positive(format!("{path}.cost"), &r.cost)
        };
        match &self.offer {
            None => {}
            Some(Offer::Fixed { reward }) => check_reward("offer.reward".into(), reward)?,
            Some(Offer::Personalised {
                candidates,
                max_cost_per_customer,
            }) => {
                if candidates.is_empty() {
                    return Err(invalid("offer.candidates", "at least one reward is needed"));
                }
                for (i, c) in candidates.iter().enumerate() {
                    check_reward(format!("offer.candidates[{i}]"), c)?;
                }
                positive("offer.max_cost_per_customer".into(), max_cost_per_customer)?;
            }
            Some(Offer::BonusPoints { points })
                if !(1..=MAX_BONUS_POINTS).contains(&points.value()) =>
            {
                return Err(invalid(
                    "offer.points",
                    format!("must be 1 to {MAX_BONUS_POINTS}"),
                ));
            }
            Some(Offer::BonusPoints { .. }) => {}
        }
        let template = self
            .template()
            .map_err(|e| invalid("template", e.to_string()))?;
        if self.offer.is_none() && template.uses_offer() {
            return Err(invalid(
                "template",
                "uses {{reward}}, {{reward_value}}, {{code}} or {{bonus_points}} but the campaign has no offer",
            ));
        }
        let bonus = self.offer.as_ref().and_then(Offer::bonus_points).is_some();
        if bonus && (template.uses("code") || template.uses("reward_value")) {
            return Err(invalid(
                "template",
                "uses {{code}} or {{reward_value}} but a bonus_points offer issues no voucher",
            ));
        }
        if !bonus && self.offer.is_some() && template.uses("bonus_points") {
            return Err(invalid(
                "template",
                "uses {{bonus_points}} but the offer is not bonus_points",
            ));
        }
        if template.uses("rating_link") && !matches!(self.trigger, Trigger::AfterPurchase { .. }) {
            return Err(invalid(
                "template",
                "uses {{rating_link}}, which only an after_purchase message has: it rates the order just made",
            ));
        }
        self.check_sms()?;
        self.check_zalo_params()
    }

    /// Checks the trigger's numbers: thresholds in range, every span bounded.
    fn validate_trigger(&self) -> Result<(), CampaignError> {
        let span = |field: &str, value: u32, min: u32, max: u32| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(invalid(
                    format!("trigger.{field}"),
                    format!("must be {min} to {max}"),
                ))
            }
        };
        match self.trigger {
            Trigger::Welcome { within_days } => span("within_days", within_days, 1, MAX_SPAN_DAYS),
            Trigger::RewardNearly { points_away } => {
                span("points_away", points_away, 1, MAX_POINTS_AWAY)
            }
            Trigger::VoucherExpiring { days_before } => {
                span("days_before", days_before, 1, MAX_SPAN_DAYS)
            }
            Trigger::Overdue { factor } if !(factor.is_finite() && factor > 0.0) => {
                Err(invalid("trigger.factor", "must be a positive number"))
            }
            Trigger::PAliveBelow { threshold } if !(threshold > 0.0 && threshold < 1.0) => {
                Err(invalid("trigger.threshold", "must be between 0 and 1"))
            }
            Trigger::AfterPurchase { within_hours } => {
                span("within_hours", within_hours, 1, MAX_SPAN_HOURS)
            }
            Trigger::Birthday { days_before } => {
                span("days_before", days_before, 0, MAX_BIRTHDAY_DAYS_BEFORE)
            }
            Trigger::TierUpgrade { within_days }
            | Trigger::PointsExpiring { within_days }
            | Trigger::TierDown { within_days } => {
                span("within_days", within_days, 1, MAX_SPAN_DAYS)
            }
            _ => Ok(()),
        }
    }
}
