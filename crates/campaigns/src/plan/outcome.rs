//! What the planner gives back: per customer a message to send or the reason not to,
//! and why a plan could not be made at all.

use crate::campaign::CampaignError;
use crate::render::CODE_MARKER;
use regulars_domain::{
    CampaignId, Channel, Currency, CustomerId, DomainError, Money, Points, RewardId,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::OffsetDateTime;

/// The offer a planned message carries: a reward to issue as a voucher, or bonus points
/// to credit when the message is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedOffer {
    /// The reward to issue as a voucher; `None` for bonus points.
    pub reward_id: Option<RewardId>,
    /// Its name, as `{{reward}}` says it (for bonus points: `50 điểm`).
    pub reward_name: String,
    /// The points to credit when the message is sent; `None` for a voucher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus_points: Option<Points>,
    /// What it costs the shop.
    pub cost: Money,
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedMessage {
    /// To whom.
    pub customer_id: CustomerId,
    /// On which channel.
    pub channel: Channel,
    /// When: never before planning time, and for promotional messages inside the allowed
    /// local hours.
    pub send_at: OffsetDateTime,
    /// The offer, if the campaign has one.
    pub offer: Option<PlannedOffer>,
    /// The rendered text, prefixed for promotional messages as the policy says.
    pub text: String,
    /// `campaign:customer:occasion`; a message with a key already in the history is not
    /// sent again.
    pub dedupe_key: String,
    /// Promotional (`true`) or transactional (`false`).
    pub promotional: bool,
    /// For a campaign with variants, the index of the customer's variant (see
    /// [`crate::variant::variant_index`]): its offer and template made the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<u8>,
}

impl PlannedMessage {
    /// The text with the voucher code in place of [`CODE_MARKER`] (where the template says
    /// `{{code}}`); the caller issues the voucher for [`PlannedMessage::offer`] and calls
    /// this with its code.
    ///
    /// ```
    /// # use regulars_campaigns::plan::PlannedMessage;
    /// # use regulars_domain::{Channel, CustomerId};
    /// let m = PlannedMessage {
    ///     customer_id: CustomerId::from_bytes([1; 16]),
    ///     channel: Channel::Sms,
    ///     send_at: time::OffsetDateTime::UNIX_EPOCH,
    ///     offer: None,
    ///     text: "Mã của bạn: {{code}}".into(),
    ///     dedupe_key: "k".into(),
    ///     promotional: true,
    ///     variant: None,
    /// };
    /// assert_eq!(m.with_code("7K2M-9QXH"), "Mã của bạn: 7K2M-9QXH");
    /// ```
    pub fn with_code(&self, code: &str) -> String {
        self.text.replace(CODE_MARKER, code)
    }
}

/// Why a customer gets nothing from this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The trigger does not fire for the customer now.
    NotTriggered,
    /// The customer is not in the audience.
    NotInAudience,
    /// A message for this occasion was already sent.
    AlreadySent,
    /// The customer refused promotional messages (on every channel of the campaign they
    /// could be reached on).
    OptedOut,
    /// The only channel of the campaign the customer consented to and can be reached on
    /// is SMS, and their number is on the do-not-call list.
    DoNotCall,
    /// The campaign targets a segment or personalises its offer, and the customer did not
    /// consent to profiling.
    NoProfilingConsent,
    /// No channel of the campaign has both consent and a way to reach the customer.
    NoChannel,
    /// In the campaign's control group.
    HoldOut,
    /// The customer had as many promotional messages as the frequency cap allows.
    FrequencyCap,
    /// The phone number had as many promotional messages as the law allows.
    LegalCap,
    /// No candidate reward fits the customer within the cost limit.
    OfferTooExpensive,
    /// The campaign budget cannot pay for the customer's offer.
    BudgetExhausted,
}

/// One customer's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// A message to send.
    Send(PlannedMessage),
    /// Nothing, and why.
    Skip {
        /// The customer.
        customer_id: CustomerId,
        /// Why.
        reason: SkipReason,
    },
}

impl Outcome {
    /// The customer concerned.
    pub fn customer_id(&self) -> CustomerId {
        match self {
            Outcome::Send(m) => m.customer_id,
            Outcome::Skip { customer_id, .. } => *customer_id,
        }
    }
}

/// The result of planning: one outcome per customer, ordered by customer id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// One per customer given, by customer id.
    pub outcomes: Vec<Outcome>,
    /// Budget spent before this plan plus the cost of its offers.
    pub budget_used: Money,
}

impl Plan {
    /// The messages to send.
    pub fn messages(&self) -> impl Iterator<Item = &PlannedMessage> {
        self.outcomes.iter().filter_map(|o| match o {
            Outcome::Send(m) => Some(m),
            Outcome::Skip { .. } => None,
        })
    }

    /// How many customers were skipped for `reason`.
    pub fn skipped(&self, reason: SkipReason) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Skip { reason: r, .. } if *r == reason))
            .count()
    }
}

/// Why a plan could not be made.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PlanError {
    /// The campaign is invalid.
    #[error(transparent)]
    Campaign(#[from] CampaignError),
    /// `budget_used` is not in the campaign currency.
    #[error("budget used is in {found}, the campaign in {expected}")]
    Currency {
        /// The campaign's currency.
        expected: Currency,
        /// The one given.
        found: Currency,
    },
    /// An amount does not fit.
    #[error(transparent)]
    Money(#[from] DomainError),
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
