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

mod trigger;
mod validate;

pub use trigger::Trigger;

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
