//! What the planner is given: the facts about each customer, and the messages sent
//! before.

use regulars_domain::{
    CampaignId, Channel, ChannelConsent, CustomerId, OrderId, Phone, Points, VoucherId,
};
use regulars_segments::CustomerFeatures;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// What the planner knows about one customer: contact details, consent, and the facts
/// the scoring run and the loyalty ledger computed. Plain data, filled in by the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerFacts {
    /// The customer.
    pub customer_id: CustomerId,
    /// Name for `{{name}}`, when given.
    pub name: Option<String>,
    /// Phone number (customers are known by it); SMS goes here, and the legal cap counts
    /// per phone number.
    pub phone: Phone,
    /// Email address, when given.
    pub email: Option<String>,
    /// Zalo user id when the customer follows the brand's Official Account.
    pub zalo_user_id: Option<String>,
    /// Consent per purpose; promotional messages need marketing consent on their
    /// channel, and a channel withdrawn is an opt-out.
    pub consent: ChannelConsent,
    /// The customer refused all promotional messages; always honoured.
    pub opted_out: bool,
    /// The phone number is on the national do-not-call list: no promotional message
    /// goes to it by SMS (or any other channel that calls the number), whatever the
    /// consent.
    #[serde(default)]
    pub do_not_call: bool,
    /// Whether scores and segments may be used for the customer (profiling consent, or
    /// the brand's lawful default): without it the customer is left out of
    /// segment-targeted campaigns and personalised offers.
    pub profiling: bool,
    /// Date of birth (any year when the year is unknown).
    pub birthday: Option<Date>,
    /// Segment names the customer belonged to at the last scoring run.
    pub segments: Vec<String>,
    /// The features segment rules are evaluated on (audience rules only).
    pub features: CustomerFeatures,
    /// Probability the customer is still active.
    pub p_alive: Option<f64>,
    /// When the customer last visited.
    pub last_visit_at: Option<OffsetDateTime>,
    /// When the next visit is expected.
    pub next_visit_at: Option<OffsetDateTime>,
    /// The most recent order.
    pub last_order: Option<OrderFact>,
    /// The item bought most.
    pub favourite_item: Option<String>,
    /// The item most likely to appeal next.
    pub next_best_item: Option<String>,
    /// Preferred local hour to be contacted, 0–23.
    pub preferred_hour: Option<u8>,
    /// Current points balance.
    pub points_balance: Points,
    /// The next batch of points to expire.
    pub expiring_points: Option<PointsExpiry>,
    /// The latest tier upgrade.
    pub tier_upgrade: Option<TierUpgrade>,
    /// When the customer joined (registered, or was first seen at a till).
    #[serde(default)]
    pub joined_at: Option<OffsetDateTime>,
    /// The unused voucher that expires next.
    #[serde(default)]
    pub expiring_voucher: Option<VoucherExpiry>,
    /// The latest move down at a period-end review, when it is the customer's current
    /// tier.
    pub tier_down: Option<TierDowngrade>,
}

/// An unused voucher about to expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoucherExpiry {
    /// The voucher.
    pub voucher_id: VoucherId,
    /// When it expires.
    pub at: OffsetDateTime,
}

impl CustomerFacts {
    /// Facts of a customer known only by id and phone: nothing else known, no consent.
    pub fn new(customer_id: CustomerId, phone: Phone) -> CustomerFacts {
        CustomerFacts {
            customer_id,
            name: None,
            phone,
            email: None,
            zalo_user_id: None,
            consent: ChannelConsent::default(),
            opted_out: false,
            do_not_call: false,
            profiling: false,
            birthday: None,
            segments: Vec::new(),
            features: CustomerFeatures::new(customer_id, 0, 0, 0),
            p_alive: None,
            last_visit_at: None,
            next_visit_at: None,
            last_order: None,
            favourite_item: None,
            next_best_item: None,
            preferred_hour: None,
            points_balance: Points::ZERO,
            expiring_points: None,
            tier_upgrade: None,
            joined_at: None,
            expiring_voucher: None,
            tier_down: None,
        }
    }

    pub(super) fn reachable(&self, channel: Channel) -> bool {
        match channel {
            // ZNS sends by phone (`84…`): any Vietnamese mobile may have a Zalo
            // account, and Zalo's -118/-119 answers send the message on to the next
            // channel when it has none.
            Channel::Zalo => self.zalo_user_id.is_some() || self.phone.is_vietnamese_mobile(),
            Channel::Sms => true,
            Channel::Email => self.email.is_some(),
        }
    }

    /// Whether a promotional message may go to the customer on `channel`: consent to
    /// it, and for SMS a number not on the do-not-call list.
    pub fn may_promote_on(&self, channel: Channel) -> bool {
        self.consent.allows(channel) && !(self.do_not_call && channel == Channel::Sms)
    }
}

/// An order, as far as a thank-you needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderFact {
    /// The order.
    pub id: OrderId,
    /// When it was placed.
    pub at: OffsetDateTime,
}

/// Points about to expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointsExpiry {
    /// How many.
    pub points: Points,
    /// When.
    pub at: OffsetDateTime,
}

/// A move up the tiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierUpgrade {
    /// Name of the new tier.
    pub tier: String,
    /// When.
    pub at: OffsetDateTime,
}

/// A move down the tiers at a period-end review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierDowngrade {
    /// The tier held now; none when the customer fell below every threshold.
    pub tier: Option<String>,
    /// When.
    pub at: OffsetDateTime,
}

/// A message already sent or scheduled, by any campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessage {
    /// The campaign that sent it.
    pub campaign_id: CampaignId,
    /// To whom.
    pub customer_id: CustomerId,
    /// The phone number it counted against.
    pub phone: Phone,
    /// When it went (or will go) out.
    pub send_at: OffsetDateTime,
    /// Promotional (counts towards caps) or transactional.
    pub promotional: bool,
    /// Its dedupe key.
    pub dedupe_key: String,
}
