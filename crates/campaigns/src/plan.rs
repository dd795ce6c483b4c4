//! Planning: for every customer, one message to send or one reason not to.

use crate::campaign::{Campaign, CampaignError, Offer, PricedReward, Trigger};
use crate::render::{CODE_MARKER, Template, format_money};
use regulars_domain::{
    CampaignId, Channel, ChannelConsent, Currency, CustomerId, DomainError, Money, OrderId, Phone,
    Points, RewardId, VoucherId,
};
use regulars_loyalty::rewards::RewardKind;
use regulars_segments::CustomerFeatures;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use thiserror::Error;
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

mod steps;
use steps::{Caps, by_customer_id, eligible, send_time};

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

    fn reachable(&self, channel: Channel) -> bool {
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

/// A stable 64-bit hash (FNV-1a, then the SplitMix64 finaliser): the same on every
/// platform and in every release, unlike `std`'s hasher.
pub(crate) fn stable_hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// FNV-1a for the planner's own maps, keyed by customer ids (random UUIDs) and phone
/// numbers: several times cheaper than SipHash on such short keys.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;
type FastSet<K> = HashSet<K, BuildHasherDefault<Fnv>>;

/// Whether a customer is in a campaign's hold-out group of share `fraction`: decided by a
/// hash of (campaign id, customer id) alone, so stable across runs and input orders.
///
/// ```
/// use regulars_campaigns::plan::in_holdout;
/// use regulars_domain::{CampaignId, CustomerId};
/// let campaign = CampaignId::from_bytes([7; 16]);
/// let held = (0..10_000u32)
///     .filter(|i| {
///         let mut b = [0u8; 16];
///         b[..4].copy_from_slice(&i.to_le_bytes());
///         in_holdout(campaign, CustomerId::from_bytes(b), 0.1)
///     })
///     .count();
/// assert!((900..1100).contains(&held));
/// ```
pub fn in_holdout(campaign: CampaignId, customer: CustomerId, fraction: f64) -> bool {
    let h = stable_hash(&[
        b"holdout",
        campaign.as_uuid().as_bytes(),
        customer.as_uuid().as_bytes(),
    ]);
    ((h >> 11) as f64 / (1u64 << 53) as f64) < fraction
}

/// Order in which customers draw on caps and budget: a hash, so no group of ids is
/// always first, and the same whatever the input order.
fn priority(campaign: CampaignId, customer: CustomerId) -> u64 {
    stable_hash(&[
        b"priority",
        campaign.as_uuid().as_bytes(),
        customer.as_uuid().as_bytes(),
    ])
}

/// Whether adding `t` to `times` keeps every rolling window `[s, s + window)` at no more
/// than `max` events. Only windows containing `t` can change; the fullest starts at an
/// event or at `t`.
/// Spans come from the campaign document, so the window's ends saturate at the
/// supported dates rather than overflow.
fn fits_rolling(times: &[OffsetDateTime], t: OffsetDateTime, window: Duration, max: u32) -> bool {
    let near: Vec<OffsetDateTime> = times
        .iter()
        .copied()
        .filter(|e| *e > shift_back(t, window) && *e < shift(t, window))
        .collect();
    let starts = near.iter().copied().filter(|e| *e <= t).chain([t]);
    for s in starts {
        let end = shift(s, window);
        let count = near.iter().filter(|e| **e >= s && **e < end).count() + 1;
        if count > max as usize {
            return false;
        }
    }
    true
}

/// `t + span`, or the last supported instant when that is beyond it.
pub fn shift(t: OffsetDateTime, span: Duration) -> OffsetDateTime {
    t.checked_add(span)
        .unwrap_or_else(|| PrimitiveDateTime::MAX.assume_offset(t.offset()))
}

/// `t - span`, or the first supported instant when that is before it.
pub fn shift_back(t: OffsetDateTime, span: Duration) -> OffsetDateTime {
    t.checked_sub(span)
        .unwrap_or_else(|| PrimitiveDateTime::MIN.assume_offset(t.offset()))
}

fn at_local_hour(t: OffsetDateTime, offset: UtcOffset, hour: u8) -> OffsetDateTime {
    let local = t.to_offset(offset);
    let time = Time::from_hms(hour.min(23), 0, 0).unwrap_or(Time::MIDNIGHT);
    let at = local.replace_time(time);
    if at < local {
        shift(at, Duration::DAY)
    } else {
        at
    }
}

fn same_day(birthday: Date, day: Date) -> bool {
    if birthday.month() == day.month() && birthday.day() == day.day() {
        return true;
    }
    birthday.month() == Month::February
        && birthday.day() == 29
        && day.month() == Month::February
        && day.day() == 28
        && !time::util::is_leap_year(day.year())
}

/// The occasion the trigger fires for, or `None` when it does not fire now.
fn occasion(
    trigger: &Trigger,
    reward_costs: &[Points],
    c: &CustomerFacts,
    now: OffsetDateTime,
    offset: UtcOffset,
) -> Option<String> {
    match *trigger {
        Trigger::AfterPurchase { within_hours } => c
            .last_order
            .filter(|o| o.at <= now && now - o.at <= Duration::hours(i64::from(within_hours)))
            .map(|o| format!("order-{}", o.id)),
        Trigger::Birthday { days_before } => {
            let birthday = c.birthday?;
            let today = now.to_offset(offset).date();
            // A birthday comes once a year: looking further ahead finds nothing more.
            (0..=i64::from(days_before.min(366)))
                .filter_map(|d| today.checked_add(Duration::days(d)))
                .find(|day| same_day(birthday, *day))
                .map(|day| format!("birthday-{}", day.year()))
        }
        Trigger::Overdue { factor } => {
            let (last, next) = (c.last_visit_at?, c.next_visit_at?);
            let gap = (next - last).as_seconds_f64();
            (gap > 0.0 && (now - last).as_seconds_f64() >= factor * gap)
                .then(|| format!("overdue-{}", last.unix_timestamp()))
        }
        Trigger::PAliveBelow { threshold } => {
            let p = c.p_alive?;
            (p < threshold).then(|| match c.last_visit_at {
                Some(last) => format!("lapsing-{}", last.unix_timestamp()),
                None => "lapsing".to_owned(),
            })
        }
        Trigger::TierUpgrade { within_days } => c
            .tier_upgrade
            .as_ref()
            .filter(|u| u.at <= now && now - u.at <= Duration::days(i64::from(within_days)))
            .map(|u| format!("tier-{}", u.tier)),
        Trigger::PointsExpiring { within_days } => c
            .expiring_points
            .filter(|e| {
                e.points > Points::ZERO
                    && e.at > now
                    && e.at - now <= Duration::days(i64::from(within_days))
            })
            .map(|e| format!("points-expiring-{}", e.at.unix_timestamp())),
        Trigger::Broadcast => Some("broadcast".to_owned()),
        Trigger::Welcome { within_days } => c
            .joined_at
            .filter(|j| *j <= now && now - *j <= Duration::days(i64::from(within_days)))
            .map(|_| "welcome".to_owned()),
        Trigger::RewardAffordable => {
            let cost = cheapest(reward_costs)?;
            let multiple = c.points_balance.value() / cost;
            (multiple >= 1).then(|| format!("affordable-{cost}-{multiple}"))
        }
        Trigger::RewardNearly { points_away } => {
            let cost = cheapest(reward_costs)?;
            let balance = c.points_balance.value().max(0);
            let next = balance / cost + 1;
            let short = next.checked_mul(cost)? - balance;
            (short <= i64::from(points_away)).then(|| format!("nearly-{cost}-{next}"))
        }
        Trigger::VoucherExpiring { days_before } => c
            .expiring_voucher
            .filter(|v| v.at > now && v.at - now <= Duration::days(i64::from(days_before)))
            .map(|v| format!("voucher-{}", v.voucher_id)),
        Trigger::TierDown { within_days } => c
            .tier_down
            .as_ref()
            .filter(|d| d.at <= now && now - d.at <= Duration::days(i64::from(within_days)))
            .map(|d| format!("tier-down-{}", d.at.unix_timestamp())),
    }
}

/// Why no channel of `campaign` may carry a message to `c`: a channel the customer
/// withdrew from is an opt-out, a consented SMS to a listed number is `do_not_call`,
/// anything else a missing consent or way to reach them.
fn no_channel_reason(campaign: &Campaign, c: &CustomerFacts, promotional: bool) -> SkipReason {
    let reachable = || campaign.channels.iter().filter(|ch| c.reachable(**ch));
    if !promotional {
        SkipReason::NoChannel
    } else if reachable().any(|ch| c.consent.opted_out_of(*ch)) {
        SkipReason::OptedOut
    } else if c.do_not_call && reachable().any(|ch| *ch == Channel::Sms && c.consent.allows(*ch)) {
        SkipReason::DoNotCall
    } else {
        SkipReason::NoChannel
    }
}

/// The cost of the cheapest reward that costs anything.
fn cheapest(reward_costs: &[Points]) -> Option<i64> {
    reward_costs
        .iter()
        .map(|p| p.value())
        .filter(|v| *v > 0)
        .min()
}

pub(crate) fn reward_value(r: &PricedReward) -> Option<String> {
    match &r.reward.kind {
        RewardKind::FixedDiscount { amount } => Some(format_money(amount)),
        RewardKind::PercentDiscount { percent, .. } => Some(format!("{}%", percent.normalize())),
        RewardKind::FreeItem { .. } | RewardKind::FreeModifier { .. } => None,
    }
}

struct Prepared<'a> {
    campaign: &'a Campaign,
    template: Template,
    /// (reward, cost in minor units) in the order of the campaign.
    offers: Vec<(&'a PricedReward, i64)>,
    /// A `bonus_points` offer: the points and what they cost, minor units.
    bonus: Option<(Points, i64)>,
    max_cost: Option<i64>,
    /// Which computed variables the template needs (the others are not formatted).
    uses_expiry: bool,
    uses_reward_value: bool,
    uses_points: bool,
    uses_balance: bool,
}

impl Prepared<'_> {
    /// The offer of a message given the reward chosen for it, if any.
    fn planned_offer(&self, chosen: Option<(&PricedReward, i64)>) -> Option<PlannedOffer> {
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
    fn choose(&self, c: &CustomerFacts) -> Result<Option<(&PricedReward, i64)>, SkipReason> {
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

/// Plans `campaign` for `customers` at `now`.
///
/// Every customer gets exactly one [`Outcome`]. The checks, in order: trigger, profiling
/// consent (for campaigns with an audience or a personalised offer), audience,
/// dedupe against `history`, opt-out (every channel withdrawn, or each channel of the
/// campaign the customer can be reached on), channel (the first of the campaign's channels with
/// consent — not needed for transactional messages — and a way to reach the customer),
/// hold-out, send time (moved into the policy's allowed hours for promotional messages),
/// frequency cap, legal cap per phone number (both over `history` and this plan),
/// offer within the per-customer cost limit, and the campaign budget given
/// `budget_used` so far. Customers draw on caps and budget in an order fixed by a hash
/// of (campaign, customer), so the plan does not depend on the order of `customers`.
/// Each customer id should appear once in `customers`.
///
/// Pure: `now` is an argument and nothing is read or written.
pub fn plan(
    campaign: &Campaign,
    customers: &[CustomerFacts],
    now: OffsetDateTime,
    history: &[SentMessage],
    budget_used: Money,
) -> Result<Plan, PlanError> {
    campaign.validate()?;
    if budget_used.currency() != campaign.currency {
        return Err(PlanError::Currency {
            expected: campaign.currency,
            found: budget_used.currency(),
        });
    }
    // One prepared campaign, or one per variant (its offer and template).
    let arms = campaign.arms();
    let promotional = campaign.is_promotional();
    let prepared: Vec<Prepared> = if arms.is_empty() {
        vec![Prepared::new(campaign)?]
    } else {
        arms.iter().map(Prepared::new).collect::<Result<_, _>>()?
    };
    let mut spent = budget_used.to_minor_units()?;
    let budget = campaign
        .budget
        .as_ref()
        .map(Money::to_minor_units)
        .transpose()?;
    let mut caps = Caps::new(history);
    let policy = campaign.policy_in_force();

    // Trigger and audience depend on the customer alone: decide them in input order
    // (a sequential scan), and only the eligible draw on caps and budget in hashed order.
    let (mut outcomes, order) = eligible(campaign, &policy, customers, now);

    let key_prefix = format!("{}:", campaign.id);
    let mut uuid_buf = [0u8; 36];
    for (_, _, i, occasion) in order {
        let c = &customers[i];
        let skip = |reason| Outcome::Skip {
            customer_id: c.customer_id,
            reason,
        };
        let mut dedupe_key = String::with_capacity(key_prefix.len() + 38 + occasion.len());
        dedupe_key.push_str(&key_prefix);
        dedupe_key.push_str(
            c.customer_id
                .as_uuid()
                .hyphenated()
                .encode_lower(&mut uuid_buf),
        );
        dedupe_key.push(':');
        dedupe_key.push_str(&occasion);
        if caps.seen(&dedupe_key) {
            outcomes.push(skip(SkipReason::AlreadySent));
            continue;
        }
        if promotional && (c.opted_out || c.consent.opted_out()) {
            outcomes.push(skip(SkipReason::OptedOut));
            continue;
        }
        let Some(channel) = campaign
            .channels
            .iter()
            .copied()
            .find(|ch| c.reachable(*ch) && (!promotional || c.may_promote_on(*ch)))
        else {
            outcomes.push(skip(no_channel_reason(campaign, c, promotional)));
            continue;
        };
        if in_holdout(campaign.id, c.customer_id, campaign.holdout) {
            outcomes.push(skip(SkipReason::HoldOut));
            continue;
        }
        let (variant, prepared) = match prepared.len() {
            1 if arms.is_empty() => (None, &prepared[0]),
            n => {
                let i = crate::variant::variant_index(campaign.id, c.customer_id, n);
                (u8::try_from(i).ok(), &prepared[i.min(n - 1)])
            }
        };
        let send_at = send_time(campaign, &policy, promotional, c, now);
        if promotional && let Some(reason) = caps.refusal(campaign, &policy, c, send_at) {
            outcomes.push(skip(reason));
            continue;
        }
        let chosen = match prepared.choose(c) {
            Ok(chosen) => chosen,
            Err(reason) => {
                outcomes.push(skip(reason));
                continue;
            }
        };
        let offer_cost = chosen.map(|(_, cost)| cost).or(prepared.bonus.map(|b| b.1));
        if let Some(cost) = offer_cost {
            let after = spent
                .checked_add(cost)
                .ok_or(DomainError::Overflow("money"))?;
            if budget.is_some_and(|b| after > b) {
                outcomes.push(skip(SkipReason::BudgetExhausted));
                continue;
            }
            spent = after;
        }
        let body = prepared.render(c, chosen, send_at);
        let text = if promotional {
            format!("{}{}", policy.promotional_prefix, body)
        } else {
            body
        };
        caps.planned(c, send_at, promotional, dedupe_key.clone());
        outcomes.push(Outcome::Send(PlannedMessage {
            customer_id: c.customer_id,
            channel,
            send_at,
            offer: prepared.planned_offer(chosen),
            text,
            dedupe_key,
            promotional,
            variant,
        }));
    }
    Ok(Plan {
        campaign_id: campaign.id,
        outcomes: by_customer_id(outcomes),
        budget_used: Money::from_minor_units(spent, campaign.currency),
    })
}
