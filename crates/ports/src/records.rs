//! Plain records the repositories read and write, beyond the pure crates' own types.

use regulars_domain::{
    ApiKeyId, BrandId, CallingCode, Currency, CustomerId, IntegrationId, LocationId, Money, Order,
    OrderId, Points,
};
use regulars_loyalty::ledger::RefundPolicy;
use regulars_loyalty::rules::EarningRules;
use regulars_loyalty::tiers::TierProgram;
use regulars_loyalty::vouchers::Voucher;
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset};

/// A brand (tenant) and its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brand {
    /// Its id; every row of the brand carries it.
    pub id: BrandId,
    /// Display name.
    pub name: String,
    /// The currency all its money is in.
    pub currency: Currency,
    /// How national phone numbers given at its tills are read.
    pub calling_code: CallingCode,
    /// Its wall-clock offset from UTC (Vietnam: +07:00).
    pub utc_offset: UtcOffset,
    /// What a refund does when the points it earned were already spent.
    pub refund_policy: RefundPolicy,
    /// Days earned points stay valid; `None` means they never expire.
    pub points_validity_days: Option<u32>,
    /// When the brand was created.
    pub created_at: OffsetDateTime,
}

/// A brand's loyalty programme: how points are earned and how tiers work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoyaltyProgram {
    /// Earning rules.
    pub earning_rules: EarningRules,
    /// Tier programme, if the brand runs tiers.
    pub tiers: Option<TierProgram>,
}

/// A customer's tier and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierState {
    /// The tier's code.
    pub code: String,
    /// When the customer entered it.
    pub since: OffsetDateTime,
}

/// One customer's period-end tier review: at most one per brand, customer and period
/// end, so a re-run or a second worker never moves a customer twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierReview {
    /// The customer.
    pub customer_id: CustomerId,
    /// The period end reviewed.
    pub period_end: OffsetDateTime,
    /// The tier held before the review.
    pub from: String,
    /// The tier held after it (none when below every threshold); `from` when kept.
    pub to: Option<String>,
    /// When the review happened.
    pub reviewed_at: OffsetDateTime,
}

impl TierReview {
    /// True when the review moved the customer down.
    pub fn moved_down(&self) -> bool {
        self.to.as_deref() != Some(self.from.as_str())
    }
}

/// Facts kept current as orders arrive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerStats {
    /// The customer.
    pub customer_id: CustomerId,
    /// Orders counted as visits (refunded orders still count: the visit happened).
    pub visits: u64,
    /// Total paid, less refunds.
    pub spend: Money,
    /// First visit.
    pub first_visit_at: Option<OffsetDateTime>,
    /// When the customer's orders that count in reports were placed: kept so that a
    /// report can count new, returning, active and repeat customers without reading
    /// their orders.
    #[serde(default)]
    pub counted: CountedTimes,
    /// Latest visit.
    pub last_visit_at: Option<OffsetDateTime>,
    /// Current tier.
    pub tier: Option<TierState>,
}

/// When a customer's orders that count in reports (`regulars_reports::order_counts`:
/// not refunded in full) were placed: the earliest and the latest two. Two orders placed
/// at the same instant are two times here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountedTimes {
    /// The earliest; `None` when no order counts.
    pub first: Option<OffsetDateTime>,
    /// The latest; `None` when no order counts.
    pub last: Option<OffsetDateTime>,
    /// The latest but one; `None` when fewer than two orders count.
    pub second_last: Option<OffsetDateTime>,
}

impl CountedTimes {
    /// The times after one more counted order, placed at `at` (in any order).
    ///
    /// ```
    /// use regulars_ports::CountedTimes;
    /// use time::macros::datetime;
    ///
    /// let mut counted = CountedTimes::default();
    /// for at in [datetime!(2026-05-02 0:00 UTC), datetime!(2026-05-09 0:00 UTC),
    ///            datetime!(2026-05-01 0:00 UTC), datetime!(2026-05-05 0:00 UTC)] {
    ///     counted.add(at);
    /// }
    /// assert_eq!(counted.first, Some(datetime!(2026-05-01 0:00 UTC)));
    /// assert_eq!(counted.last, Some(datetime!(2026-05-09 0:00 UTC)));
    /// assert_eq!(counted.second_last, Some(datetime!(2026-05-05 0:00 UTC)));
    /// ```
    pub fn add(&mut self, at: OffsetDateTime) {
        self.first = Some(self.first.map_or(at, |first| first.min(at)));
        match self.last {
            Some(last) if at < last => {
                self.second_last = Some(self.second_last.map_or(at, |second| second.max(at)));
            }
            last => {
                self.second_last = last;
                self.last = Some(at);
            }
        }
    }

    /// Whether an order placed at `at` is one of the times kept: when it stops counting,
    /// they must be found again.
    pub fn holds(&self, at: OffsetDateTime) -> bool {
        [self.first, self.last, self.second_last].contains(&Some(at))
    }
}

/// The locked head of a customer's ledger: what the next append must build on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountHead {
    /// The cached balance (the sum of all entries).
    pub balance: Points,
    /// The number of entries in the ledger, which is also the sequence number the next
    /// appended entry must carry: entries are numbered from 0, so an empty ledger has
    /// `next_seq` 0 and its first entry is numbered 0 (as `LedgerState::next_seq` says).
    pub next_seq: u64,
}

/// A locked account: its head and the account state stored with it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedAccount {
    /// The head.
    pub head: AccountHead,
    /// The stored fold of the entries; `None` when it must be built from them.
    pub state: Option<regulars_loyalty::ledger::AccountState>,
    /// The brand's [`BrandConfig::version`] as the locking statement read it; `None`
    /// from a store that keeps no version.
    pub config_version: Option<i64>,
    /// True when a referral may wait for this customer's first order (set with a
    /// referred sign-up, cleared when the referral is decided): only then does an order
    /// look the referral up. A store that keeps no such mark answers true.
    pub referral_pending: bool,
}

/// A customer's next expiring points as the stored lots tell them
/// ([`LedgerRepo::next_expiring_lots`](crate::LedgerRepo::next_expiring_lots)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringLots {
    /// The customer.
    pub customer: CustomerId,
    /// The open lots with points left that expire first after the instant asked about
    /// (every lot expiring at that same instant), in no particular order; empty when none
    /// does. `None` when the account has no stored state: its entries must be folded.
    pub lots: Option<Vec<regulars_loyalty::ledger::Lot>>,
}

/// A brand and its loyalty programme as read together, with the number that every
/// change to either moves (in the changing transaction): a copy kept in memory is
/// current while the stored number is still `version`.
#[derive(Debug, Clone, PartialEq)]
pub struct BrandConfig {
    /// The version read with them; `None` from a store that keeps none (never cached).
    pub version: Option<i64>,
    /// The brand.
    pub brand: Brand,
    /// Its loyalty programme, if any.
    pub program: Option<LoyaltyProgram>,
    /// Its stamp cards, in the order they were given (every change to them moves the
    /// version too).
    pub stamp_cards: Vec<regulars_loyalty::stamps::StampCard>,
}

/// An order as stored, with what it earned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOrder {
    /// Regulars' id for it.
    pub id: OrderId,
    /// The order as the POS sent it.
    pub order: Order,
    /// The customer it was credited to, if any.
    pub customer_id: Option<CustomerId>,
    /// Points it earned.
    pub points_earned: Points,
    /// Amount refunded so far.
    pub refunded: Money,
}

/// The remembered result of an external event, returned on a repeated delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotentRecord {
    /// What kind of event it was (`"order"`, `"refund"`, ...).
    pub kind: String,
    /// The result the first delivery returned.
    pub result: serde_json::Value,
    /// A digest of what the first delivery asked for, so that the same key coming back
    /// with another payload is refused instead of answered with this result. `None` in
    /// records written before it was kept: those answer any payload, as they did.
    pub fingerprint: Option<String>,
}

/// Vouchers of one reward a campaign issued, and how many of them were redeemed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignVoucherCount {
    /// The reward.
    pub reward: regulars_domain::RewardId,
    /// Vouchers issued.
    pub issued: u64,
    /// Of which redeemed.
    pub redeemed: u64,
}

/// What an attempt to redeem a voucher found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RedeemOutcome {
    /// This call redeemed it; the voucher as it now is.
    Redeemed(Voucher),
    /// It was not redeemable (already redeemed, expired, voided); the voucher as it is.
    Refused(Voucher),
    /// No voucher with that code in this brand.
    NotFound,
}

/// What an API key may do. Every key acts for exactly one brand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including keys, integrations and the programme.
    Admin,
    /// What a till needs: orders, refunds, customer look-up, vouchers, redemptions.
    Pos,
    /// Read only.
    Viewer,
    /// A store manager: reads the figures and orders of the locations the key lists,
    /// and nothing of the brand beyond them; changes nothing.
    Manager,
}

impl Role {
    /// The role's name as stored and shown (`admin`, `pos`, `viewer`, `manager`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Pos => "pos",
            Role::Viewer => "viewer",
            Role::Manager => "manager",
        }
    }

    /// Reads a role's name.
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "admin" => Some(Role::Admin),
            "pos" => Some(Role::Pos),
            "viewer" => Some(Role::Viewer),
            "manager" => Some(Role::Manager),
            _ => None,
        }
    }
}

/// A stored API key. The secret itself is never stored, only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    /// The key's id.
    pub id: ApiKeyId,
    /// The brand it acts for.
    pub brand_id: BrandId,
    /// The public part of the token that finds the key; unique across brands.
    pub prefix: String,
    /// Hex SHA-256 of the token's secret part.
    pub secret_hash: String,
    /// What it may do.
    pub role: Role,
    /// A note for people ("till 3, Quận 1").
    pub label: Option<String>,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it was revoked; a revoked key authenticates nothing.
    pub revoked_at: Option<OffsetDateTime>,
    /// The locations a [`Role::Manager`] key covers (never empty for one); empty for
    /// every other role, whose keys see the whole brand.
    #[serde(default)]
    pub locations: Vec<LocationId>,
}

/// Which webhook dialect an integration speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationKind {
    /// Regulars' own documented order/refund webhook.
    Generic,
    /// KiotViet's webhooks, as KiotViet documents them.
    Kiotviet,
    /// KiotViet FnB (cafés and restaurants): its Public API offers no invoice webhook,
    /// so invoices are polled with the integration's API credentials; its webhooks
    /// (`customer.update`) read as KiotViet's.
    KiotvietFnb,
    /// Square's webhooks (`payment.updated`, `order.updated`, `refund.*`), with orders
    /// fetched through Square's Orders API.
    Square,
}

impl IntegrationKind {
    /// Whether the kind speaks KiotViet's webhooks (Retail or FnB).
    pub fn is_kiotviet(self) -> bool {
        matches!(
            self,
            IntegrationKind::Kiotviet | IntegrationKind::KiotvietFnb
        )
    }

    /// The kind's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationKind::Generic => "generic",
            IntegrationKind::Kiotviet => "kiotviet",
            IntegrationKind::KiotvietFnb => "kiotviet_fnb",
            IntegrationKind::Square => "square",
        }
    }

    /// Reads a kind's name.
    pub fn parse(name: &str) -> Option<IntegrationKind> {
        match name {
            "generic" => Some(IntegrationKind::Generic),
            "kiotviet" => Some(IntegrationKind::Kiotviet),
            "kiotviet_fnb" => Some(IntegrationKind::KiotvietFnb),
            "square" => Some(IntegrationKind::Square),
            _ => None,
        }
    }
}

/// A stored POS integration: the webhook secret is kept sealed (encrypted with the
/// server's secret key), never in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationRecord {
    /// The integration's id; part of its webhook URL.
    pub id: IntegrationId,
    /// The brand whose orders it brings in.
    pub brand_id: BrandId,
    /// Its dialect.
    pub kind: IntegrationKind,
    /// A note for people.
    pub label: Option<String>,
    /// The sealed webhook secret (nonce and ciphertext, base64).
    pub sealed_secret: String,
    /// The sealed credentials of the POS's own API ([`PosApiAccess`](crate::PosApiAccess)
    /// as JSON), when the integration has them.
    pub sealed_access: Option<String>,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it was revoked; a revoked integration accepts no webhook.
    pub revoked_at: Option<OffsetDateTime>,
}

/// A shop of a brand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Its id.
    pub id: LocationId,
    /// The brand it belongs to.
    pub brand_id: BrandId,
    /// The code POS orders carry (`"q1"`), unique within the brand.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Its own UTC offset when it differs from the brand's.
    pub utc_offset: Option<UtcOffset>,
    /// When it was made.
    pub created_at: OffsetDateTime,
}
