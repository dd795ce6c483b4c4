//! Campaign definitions: serde data, read from JSON and checked with field paths.

use crate::policy::{Policy, PolicyLimits};
use crate::render::{Template, TemplateError};
use crate::zns::ZnsParam;
use regulars_domain::sms::SmsOptions;
use regulars_domain::{CampaignId, Channel, Currency, Money, Points};
use regulars_loyalty::rewards::{Reward, RewardKind};
use regulars_segments::Rule;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;
use time::UtcOffset;

/// Largest accepted campaign document, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// Longest day span a campaign may name (`frequency_cap.days`, a trigger's
/// `within_days`): a year and a day. Spans shift dates, so each one is bounded.
pub const MAX_SPAN_DAYS: u32 = 366;

/// Longest hour span a campaign may name (`trigger.within_hours`,
/// `policy.cap_window_hours`): 31 days.
pub const MAX_SPAN_HOURS: u32 = 31 * 24;

/// Most days before a birthday a birthday message may go.
pub const MAX_BIRTHDAY_DAYS_BEFORE: u32 = 60;

/// Most points short of a reward a `reward_nearly` message may be sent at.
pub const MAX_POINTS_AWAY: u32 = 1_000_000;

/// Longest attribution window, in days.
pub const MAX_ATTRIBUTION_DAYS: u32 = 365;

/// Most points a `bonus_points` offer may give one customer.
pub const MAX_BONUS_POINTS: i64 = 1_000_000;

/// A campaign: when it fires, for whom, with which offer and message, on which channel
/// and at what time. See `docs/campaigns.md` for the JSON format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// Its id; part of every dedupe key and of the hold-out hash.
    pub id: CampaignId,
    /// Name as people see it.
    pub name: String,
    /// The shop's name, for `{{shop}}`.
    pub shop: String,
    /// The brand currency: every amount of the campaign is in it.
    pub currency: Currency,
    /// The brand's UTC offset (local time for send hours and legal windows).
    #[serde(default = "default_offset", with = "offset_serde")]
    pub utc_offset: UtcOffset,
    /// What makes a customer due for a message.
    pub trigger: Trigger,
    /// Who may receive it; everyone when absent.
    #[serde(default)]
    pub audience: Option<Audience>,
    /// What the message gives, if anything.
    #[serde(default)]
    pub offer: Option<Offer>,
    /// Total money the campaign may spend on offers; unlimited when absent.
    #[serde(default)]
    pub budget: Option<Money>,
    /// The message text with `{{variables}}`; a Vietnamese default for the trigger when
    /// absent.
    #[serde(default)]
    pub template: Option<String>,
    /// Channels in order of preference (default Zalo, then SMS, then email).
    #[serde(default = "default_channels")]
    pub channels: Vec<Channel>,
    /// When to send.
    #[serde(default)]
    pub send_time: SendTime,
    /// Share of eligible customers held out as a control group, 0 to 0.5 (default 0.1).
    #[serde(default = "default_holdout")]
    pub holdout: f64,
    /// Promotional messages per customer across all campaigns; absent means no cap.
    #[serde(default = "default_frequency_cap")]
    pub frequency_cap: Option<FrequencyCap>,
    /// Tightenings of the brand's legal rules for promotional messages; the brand's
    /// rules when absent. See [`PolicyLimits`].
    #[serde(default)]
    pub policy: PolicyLimits,
    /// What the brand's active rewards cost in points, for `reward_affordable` and
    /// `reward_nearly`: not part of the document; whoever plans sets it from the
    /// catalogue (those triggers fire for nobody while it is empty).
    #[serde(skip)]
    pub reward_costs: Vec<regulars_domain::Points>,
    /// What one point is worth to the shop, for the cost of a `bonus_points` offer: not
    /// part of the document; whoever plans sets it from the programme (bonus points
    /// cost nothing against the budget while it is absent).
    #[serde(skip)]
    pub point_value: Option<Money>,
    /// The brand's legal rules, which the campaign may only tighten: not part of the
    /// document; whoever plans sets it from the brand's settings (Decree 91/2020 until
    /// then).
    #[serde(skip)]
    pub brand_policy: Policy,
    /// The provider template for Zalo ZNS (ZNS sends approved templates filled with the
    /// message's data, not free text); Zalo is skipped by the sender without one.
    #[serde(default)]
    pub zalo_template: Option<String>,
    /// How the text goes out by SMS: accent folding and a segment cap (see
    /// [`SmsOptions`]); neither when absent.
    #[serde(default, skip_serializing_if = "SmsOptions::is_default")]
    pub sms: SmsOptions,
    /// The parameters of `zalo_template`, by their name in the template: which variable
    /// fills each and its ZNS type (see [`ZnsParam`]). Without them the message's data
    /// is the fixed set `customer_name`, `shop`, `reward`, `code`, `expiry_date`,
    /// `points`, unchecked.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub zalo_params: BTreeMap<String, ZnsParam>,
    /// Days after a customer is messaged (or held out) in which their orders count for
    /// the campaign (default 14).
    #[serde(default = "default_attribution_days")]
    pub attribution_days: u32,
    /// Gross margin on revenue, 0 to 1 (default 0.65): incremental revenue times this
    /// is the incremental margin that ROI sets against the offers' cost.
    #[serde(default = "default_gross_margin")]
    pub gross_margin: f64,
    /// Offers tested against each other: when present, each messaged customer gets one
    /// of them in place of `offer` (see [`crate::variant`]); none by default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<crate::variant::OfferVariant>,
}

fn default_attribution_days() -> u32 {
    14
}

fn default_gross_margin() -> f64 {
    0.65
}

fn default_offset() -> UtcOffset {
    UtcOffset::from_whole_seconds(7 * 3600).unwrap_or(UtcOffset::UTC)
}

fn default_channels() -> Vec<Channel> {
    vec![Channel::Zalo, Channel::Sms, Channel::Email]
}

fn default_holdout() -> f64 {
    0.1
}

fn default_frequency_cap() -> Option<FrequencyCap> {
    Some(FrequencyCap { max: 2, days: 7 })
}

mod offset_serde {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::UtcOffset;
    use time::format_description::FormatItem;
    use time::macros::format_description;

    const FORMAT: &[FormatItem<'static>] =
        format_description!("[offset_hour sign:mandatory]:[offset_minute]");

    pub fn serialize<S: Serializer>(offset: &UtcOffset, s: S) -> Result<S::Ok, S::Error> {
        let text = offset.format(FORMAT).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UtcOffset, D::Error> {
        let text = String::deserialize(d)?;
        UtcOffset::parse(&text, FORMAT)
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not an offset like +07:00")))
    }
}

/// What makes a customer due for a message. Each trigger also names the *occasion*, so a
/// customer gets at most one message per campaign and occasion (the dedupe key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// A thank-you after an order placed in the last `within_hours` (transactional).
    AfterPurchase {
        /// How old the order may be, in hours (default 24).
        #[serde(default = "default_within_hours")]
        within_hours: u32,
    },
    /// The customer's birthday is today or within `days_before` days.
    Birthday {
        /// How many days before the birthday the message may go (default 0).
        #[serde(default)]
        days_before: u32,
    },
    /// The customer is late: the time since the last visit is at least `factor` times the
    /// expected gap to the next visit.
    Overdue {
        /// Multiple of the expected gap (default 1.5).
        #[serde(default = "default_factor")]
        factor: f64,
    },
    /// The probability the customer is still active fell below `threshold`.
    PAliveBelow {
        /// Between 0 and 1.
        threshold: f64,
    },
    /// The customer moved up a tier in the last `within_days` days.
    TierUpgrade {
        /// How old the upgrade may be, in days (default 1).
        #[serde(default = "default_within_days")]
        within_days: u32,
    },
    /// Some of the customer's points expire within `within_days` days.
    PointsExpiring {
        /// Look-ahead in days.
        within_days: u32,
    },
    /// A one-off broadcast to everyone in the audience.
    Broadcast,
    /// The customer joined (registered or was first seen) in the last `within_days`
    /// days; once per customer. Planned as the customer is created, and by runs for
    /// customers who joined before the campaign started.
    Welcome {
        /// How long after joining the welcome may still go, in days (default 7).
        #[serde(default = "default_welcome_days")]
        within_days: u32,
    },
    /// The customer's balance pays for the cheapest reward of the catalogue (another
    /// multiple of it each time); once per reward and multiple.
    RewardAffordable,
    /// The customer is at most `points_away` points short of the next multiple of the
    /// cheapest reward's cost; once per reward and multiple.
    RewardNearly {
        /// How many points short, at most (at least 1).
        points_away: u32,
    },
    /// One of the customer's vouchers expires within `days_before` days, unused; once
    /// per voucher.
    VoucherExpiring {
        /// Look-ahead in days.
        days_before: u32,
    },
    /// The customer moved down a tier at a period-end review in the last `within_days`
    /// days: a notice (transactional unless it carries an offer).
    TierDown {
        /// How old the move may be, in days (default 1).
        #[serde(default = "default_within_days")]
        within_days: u32,
    },
}

fn default_welcome_days() -> u32 {
    7
}

fn default_within_hours() -> u32 {
    24
}
fn default_factor() -> f64 {
    1.5
}
fn default_within_days() -> u32 {
    1
}

impl Trigger {
    /// Whether messages of this trigger are transactional (exempt from promotional rules).
    pub fn is_transactional(&self) -> bool {
        matches!(
            self,
            Trigger::AfterPurchase { .. } | Trigger::TierDown { .. }
        )
    }
}

/// Who may receive the campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Audience {
    /// Members of a named segment (as listed in the customer's facts).
    Segment(String),
    /// Customers matching a rule in the segments language.
    Rule(Rule),
}

/// What a message gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Offer {
    /// The same catalogue reward for everyone.
    Fixed {
        /// The reward, with what one costs the shop.
        reward: PricedReward,
    },
    /// A reward chosen per customer: the candidate giving the favourite item, else the
    /// next best item, else the first candidate that gives no item; each within
    /// `max_cost_per_customer`.
    Personalised {
        /// Rewards to choose from, in order of preference among equals.
        candidates: Vec<PricedReward>,
        /// The most one customer's reward may cost the shop.
        max_cost_per_customer: Money,
    },
    /// Bonus points, credited to the customer's points when the message is sent (not
    /// when it is planned); they cost the shop the programme's point value each.
    BonusPoints {
        /// The points, 1 to [`MAX_BONUS_POINTS`].
        points: Points,
    },
}

impl Offer {
    /// The bonus points the offer gives, for a `bonus_points` offer.
    pub fn bonus_points(&self) -> Option<Points> {
        match self {
            Offer::BonusPoints { points } => Some(*points),
            Offer::Fixed { .. } | Offer::Personalised { .. } => None,
        }
    }
}

/// A reward and what one costs the shop (ingredients, or the discount given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricedReward {
    /// The catalogue reward.
    pub reward: Reward,
    /// Cost to the shop of one redemption, in the campaign currency.
    pub cost: Money,
}

impl PricedReward {
    /// The product the reward gives for free, if it gives one.
    pub fn item(&self) -> Option<&str> {
        match &self.reward.kind {
            RewardKind::FreeItem { sku } | RewardKind::FreeModifier { sku } => Some(sku),
            _ => None,
        }
    }
}

/// When a message is sent (before the legal window is applied).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SendTime {
    /// At planning time.
    #[default]
    Now,
    /// At the next occurrence of the customer's preferred local hour; `fallback_hour`
    /// when the customer has none (now when that is absent too).
    PreferredHour {
        /// Local hour for customers without a preferred hour.
        #[serde(default)]
        fallback_hour: Option<u8>,
    },
    /// At the next occurrence of a fixed local hour.
    FixedHour {
        /// Local hour, 0–23.
        hour: u8,
    },
}

/// At most `max` promotional messages per customer in any `days` days, across campaigns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrequencyCap {
    /// Messages allowed in the window.
    pub max: u32,
    /// Length of the rolling window in days.
    pub days: u32,
}

/// Why a campaign document was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CampaignError {
    /// The text is not JSON.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A field is missing, unknown, of the wrong type or has a value out of range.
    #[error("{path}: {message}")]
    Invalid {
        /// Where, like `offer.candidates[1].cost`.
        path: String,
        /// What is wrong.
        message: String,
    },
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> CampaignError {
    CampaignError::Invalid {
        path: path.into(),
        message: message.into(),
    }
}

impl Campaign {
    /// Reads a campaign from JSON and validates it; errors name the field.
    ///
    /// ```
    /// use regulars_campaigns::{Campaign, CampaignError};
    /// let err = Campaign::from_json(r#"{"id": "00000000-0000-0000-0000-000000000001",
    ///     "name": "Hi", "shop": "Cà phê", "currency": "VND",
    ///     "trigger": {"type": "p_alive_below", "threshold": 1.5}}"#).unwrap_err();
    /// assert!(matches!(err, CampaignError::Invalid { ref path, .. } if path == "trigger.threshold"));
    /// ```
    pub fn from_json(input: &str) -> Result<Campaign, CampaignError> {
        if input.len() > MAX_DOCUMENT_BYTES {
            return Err(invalid(
                "",
                format!("the document is larger than {MAX_DOCUMENT_BYTES} bytes"),
            ));
        }
        let mut de = serde_json::Deserializer::from_str(input);
        let campaign: Campaign = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            classify(e.into_inner(), path)
        })?;
        de.end().map_err(|e| classify(e, String::new()))?;
        campaign.validate()?;
        Ok(campaign)
    }

    /// Whether the campaign's messages are promotional: everything but thank-yous, and
    /// a thank-you that carries an offer (an offer is marketing, whatever the trigger).
    pub fn is_promotional(&self) -> bool {
        !self.trigger.is_transactional()
            || self.offer.is_some()
            || self.variants.iter().any(|v| v.offer.is_some())
    }

    /// The legal rules the campaign's messages are planned under: the brand's, with the
    /// campaign's tightenings.
    pub fn policy_in_force(&self) -> Policy {
        self.policy.in_force(&self.brand_policy)
    }

    /// Refuses a campaign whose policy would relax `brand`'s, naming the field.
    pub fn check_policy(&self, brand: &Policy) -> Result<(), CampaignError> {
        match self.policy.relaxes(brand) {
            Some((field, message)) => Err(invalid(format!("policy.{field}"), message)),
            None => Ok(()),
        }
    }

    /// The message template: the campaign's own or the Vietnamese default.
    pub fn template(&self) -> Result<Template, TemplateError> {
        match &self.template {
            Some(text) => Template::parse(text),
            None if matches!(self.offer, Some(Offer::BonusPoints { .. })) => {
                Template::parse(crate::render::default_bonus_template_vi(&self.trigger))
            }
            None => Template::parse(crate::render::default_template_vi(
                &self.trigger,
                self.offer.is_some(),
            )),
        }
    }

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
}

impl Campaign {
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

fn classify(error: serde_json::Error, path: String) -> CampaignError {
    let full = error.to_string();
    let message = match full.rfind(" at line ") {
        Some(cut) => full[..cut].to_owned(),
        None => full,
    };
    if error.is_syntax() || error.is_eof() {
        CampaignError::Syntax {
            line: error.line(),
            column: error.column(),
            message,
        }
    } else {
        let path = if path == "." { String::new() } else { path };
        CampaignError::Invalid { path, message }
    }
}
