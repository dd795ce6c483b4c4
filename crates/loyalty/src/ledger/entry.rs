//! Ledger entries: the only thing storage keeps about a customer's points.

use regulars_domain::{CampaignId, EventKey, Points};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One immutable line of a customer's points ledger.
///
/// `amount` is signed: credits (earn, restore, positive adjustment) are positive, debits (redeem,
/// expire, reverse, negative adjustment) are negative or, for a reversal that could take
/// nothing back, zero. The balance is the sum of the amounts.
///
/// Serialised with `at`/`expires_at` as RFC 3339 and `kind` tagged by `"type"`:
///
/// ```
/// use regulars_domain::{CampaignId, EventKey, Points};
/// use regulars_loyalty::ledger::{EntryKind, LedgerEntry};
/// use time::macros::datetime;
///
/// let entry = LedgerEntry {
///     seq: 0,
///     at: datetime!(2026-03-02 09:00 UTC),
///     amount: Points::new(45),
///     kind: EntryKind::Earn {
///         order: EventKey::new("pos:generic", "A-1")?,
///         expires_at: Some(datetime!(2026-09-02 09:00 UTC)),
///         placed_at: None,
///     },
/// };
/// let json = serde_json::to_value(&entry)?;
/// assert_eq!(json["kind"]["type"], "earn");
/// assert_eq!(json["at"], "2026-03-02T09:00:00Z");
/// assert_eq!(serde_json::from_value::<LedgerEntry>(json)?, entry);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerEntry {
    /// Position in the customer's ledger, starting at 0 with no gaps.
    pub seq: u64,
    /// When the entry took effect. Never earlier than the previous entry's.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Signed change to the balance.
    pub amount: Points,
    /// What happened, with the details the rules need.
    pub kind: EntryKind,
}

/// What a [`LedgerEntry`] records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum EntryKind {
    /// Points earned by an order. Opens a lot (after paying any debt).
    Earn {
        /// The order, as the point of sale identifies it. Each order earns at most once.
        order: EventKey,
        /// When the lot expires; `None` for points that never expire.
        #[serde(default, with = "time::serde::rfc3339::option")]
        expires_at: Option<OffsetDateTime>,
        /// When the order was placed, if that is not the entry's own time: an order
        /// delivered late is recorded after the entries before it, but its points count
        /// toward the day it was placed (the daily earning cap). Absent in entries written
        /// before this was kept; those count by the entry's time.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "time::serde::rfc3339::option"
        )]
        placed_at: Option<OffsetDateTime>,
    },
    /// Points spent on a reward or voucher.
    Redeem {
        /// What was bought, e.g. a reward or voucher id. Never empty.
        reference: String,
    },
    /// The points of a redemption given back because what it bought was voided unused
    /// (a refund under [`RefundPolicy::VoidUnredeemed`]). Credits exactly what the latest
    /// redemption with this reference spent, at most once, and opens a lot (after paying
    /// any debt).
    ///
    /// [`RefundPolicy::VoidUnredeemed`]: super::RefundPolicy::VoidUnredeemed
    Restore {
        /// The redemption's reference. Never empty.
        reference: String,
        /// When the lot of the restored points expires; `None` for never.
        #[serde(default, with = "time::serde::rfc3339::option")]
        expires_at: Option<OffsetDateTime>,
    },
    /// What remained of an expired lot, removed.
    Expire {
        /// `seq` of the credit entry that opened the lot.
        lot: u64,
    },
    /// Points taken back because an order was refunded (fully or in part).
    Reverse {
        /// The refunded order; it must have earned in this ledger.
        order: EventKey,
        /// Points this reversal should have taken back but could not, because the customer
        /// had already spent them (only under [`RefundPolicy::Clamp`]).
        ///
        /// [`RefundPolicy::Clamp`]: super::RefundPolicy::Clamp
        unrecovered: Points,
    },
    /// A manual correction by staff, positive or negative, with who and why.
    Adjust {
        /// Why the adjustment was made. Never empty.
        reason: String,
        /// Who made it (a staff or system account). Never empty.
        actor: String,
        /// Expiry of the lot a positive adjustment opens; always `None` on a negative one.
        #[serde(default, with = "time::serde::rfc3339::option")]
        expires_at: Option<OffsetDateTime>,
    },
    /// Bonus points a campaign's message gave, credited when the message was sent. Opens
    /// a lot (after paying any debt). Each message credits at most once: `message` is the
    /// idempotency key, refused a second time.
    CampaignBonus {
        /// The campaign whose offer it was.
        campaign: CampaignId,
        /// The message that carried the offer (its outbox id). Never empty.
        message: String,
        /// When the lot expires; `None` for points that never expire.
        #[serde(default, with = "time::serde::rfc3339::option")]
        expires_at: Option<OffsetDateTime>,
    },
}

impl EntryKind {
    /// A short name of the kind, as used in the serialised `"type"` tag.
    pub fn name(&self) -> &'static str {
        match self {
            EntryKind::Earn { .. } => "earn",
            EntryKind::Redeem { .. } => "redeem",
            EntryKind::Restore { .. } => "restore",
            EntryKind::Expire { .. } => "expire",
            EntryKind::Reverse { .. } => "reverse",
            EntryKind::Adjust { .. } => "adjust",
            EntryKind::CampaignBonus { .. } => "campaign_bonus",
        }
    }
}
