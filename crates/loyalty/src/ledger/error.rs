//! Why a ledger command or a stored ledger was refused.

use regulars_domain::{DomainError, EventKey, Points};
use thiserror::Error;
use time::OffsetDateTime;

/// Why the ledger refused a command, or why a stored ledger does not fold.
///
/// Commands return these directly. [`fold`](super::fold) wraps the error of the first bad
/// entry in [`LedgerError::InvalidEntry`] with that entry's `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LedgerError {
    /// A command was given zero or negative points where a positive number is required.
    #[error("points must be positive, got {points}")]
    NonPositivePoints {
        /// What was given.
        points: Points,
    },
    /// An adjustment of zero points, which would record nothing.
    #[error("an adjustment must change the balance")]
    ZeroAdjustment,
    /// A required text (redemption reference, adjustment reason or actor) is blank.
    #[error("{field} must not be empty")]
    EmptyField {
        /// The field's name: `"reference"`, `"reason"`, `"actor"` or `"message"`.
        field: &'static str,
    },
    /// An order key or amount that is not a valid domain value.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A credit whose lot would expire at or before the moment it is credited.
    #[error("a lot credited at {at} cannot expire at {expires_at}")]
    ExpiryNotAfterCredit {
        /// When the credit happens.
        at: OffsetDateTime,
        /// The expiry given.
        expires_at: OffsetDateTime,
    },
    /// A negative adjustment was given an expiry; only credits open lots.
    #[error("only a credit can carry an expiry")]
    ExpiryOnDebit,
    /// The order has already earned in this ledger.
    #[error("order {}/{} has already earned points", order.source, order.external_id)]
    DuplicateEarn {
        /// The order.
        order: EventKey,
    },
    /// The campaign message has already credited its bonus in this ledger.
    #[error("message {message} has already credited its bonus points")]
    DuplicateBonus {
        /// The message (its outbox id).
        message: String,
    },
    /// The order never earned in this ledger, so there is nothing to reverse.
    #[error("order {}/{} has not earned points in this ledger", order.source, order.external_id)]
    UnknownOrder {
        /// The order.
        order: EventKey,
    },
    /// A full reversal of an order whose points are already all reversed.
    #[error("order {}/{} is already fully reversed", order.source, order.external_id)]
    AlreadyReversed {
        /// The order.
        order: EventKey,
    },
    /// A partial refund whose cumulative share is smaller than what was already reversed:
    /// refund shares are cumulative and can only grow.
    #[error(
        "refund of order {}/{} would reverse {target} in total, but {reversed} already is",
        order.source, order.external_id
    )]
    RefundNotCumulative {
        /// The order.
        order: EventKey,
        /// Total reversal the given share implies.
        target: Points,
        /// Total already reversed.
        reversed: Points,
    },
    /// A refund fraction that is not `0 <= refunded <= total` with `total > 0`, or refund
    /// amounts in different currencies.
    #[error("invalid refund share {refunded}/{total}")]
    InvalidRefundFraction {
        /// Refunded so far, in minor units.
        refunded: i64,
        /// Order total, in minor units.
        total: i64,
    },
    /// A debit larger than the points available (after expiring what is due).
    #[error("insufficient points: {available} available, {requested} requested")]
    InsufficientPoints {
        /// What could be spent.
        available: Points,
        /// What was asked for.
        requested: Points,
    },
    /// An entry dated before the last entry of the ledger.
    #[error("entry at {at} is earlier than the last entry at {last}")]
    OutOfOrder {
        /// The last entry's time.
        last: OffsetDateTime,
        /// The time given.
        at: OffsetDateTime,
    },
    /// A sum of points that does not fit in 64 bits.
    #[error("points arithmetic overflow")]
    Overflow,
    /// An entry whose `seq` is not its position in the ledger.
    #[error("entry has seq {found}, expected {expected}")]
    SeqMismatch {
        /// The position the entry is at.
        expected: u64,
        /// The seq it carries.
        found: u64,
    },
    /// An entry whose amount or fields contradict its kind (a debit that credits, a
    /// reversal of nothing, negative unrecovered points, ...). Commands never produce these.
    #[error("malformed entry: {0}")]
    Malformed(&'static str),
    /// The command needs open lots the account state was resumed without (see
    /// [`LotsWanted`](super::LotsWanted)): load them and run it again. Never a fact about
    /// the customer's points, only about what the caller loaded.
    #[error("the command needs open lots that were not loaded")]
    LotsNotLoaded,
    /// An expiry of a lot that is not open.
    #[error("lot {lot} is not open")]
    LotNotOpen {
        /// The lot's seq.
        lot: u64,
    },
    /// An expiry of a lot before its expiry time (or of a lot that never expires).
    #[error("lot {lot} is not due to expire")]
    LotNotDue {
        /// The lot's seq.
        lot: u64,
    },
    /// An expiry that does not remove exactly what remains of the lot.
    #[error("expiry of lot {lot} removes {amount}, but {remaining} remain")]
    ExpireMismatch {
        /// The lot's seq.
        lot: u64,
        /// What the entry removes.
        amount: Points,
        /// What remains in the lot.
        remaining: Points,
    },
    /// A debit recorded while an expired lot was still open: it would spend expired points.
    #[error("debit while lot {lot} has expired but not been swept")]
    ExpiredLotUnswept {
        /// The expired lot's seq.
        lot: u64,
    },
    /// A reversal that would take back more than the order earned.
    #[error(
        "reversals of order {}/{} would total {reversed}, more than the {earned} it earned",
        order.source, order.external_id
    )]
    OverReversal {
        /// The order.
        order: EventKey,
        /// What it earned.
        earned: Points,
        /// What the reversals would total.
        reversed: Points,
    },
    /// A reversal that records unrecovered points although it could have taken back more.
    #[error("reversal records {unrecovered} unrecovered while {available} were available")]
    UnrecoveredWhileAvailable {
        /// The unrecovered points recorded.
        unrecovered: Points,
        /// The balance available before the reversal.
        available: Points,
    },
    /// A restoration of points for a redemption this ledger does not hold.
    #[error("no redemption {reference} to restore")]
    UnknownRedemption {
        /// The redemption's reference.
        reference: String,
    },
    /// A second restoration of the same redemption: what it bought was voided once.
    #[error("redemption {reference} is already restored")]
    AlreadyRestored {
        /// The redemption's reference.
        reference: String,
    },
    /// A restoration of another amount than the redemption spent.
    #[error("restoring {amount} for redemption {reference}, which spent {spent}")]
    RestoreMismatch {
        /// The redemption's reference.
        reference: String,
        /// What the restoration credits.
        amount: Points,
        /// What the redemption spent.
        spent: Points,
    },
    /// A stored ledger entry breaks a rule; `reason` says which.
    #[error("ledger entry {seq} is invalid: {reason}")]
    InvalidEntry {
        /// The entry's position in the ledger.
        seq: u64,
        /// The rule it breaks.
        reason: Box<LedgerError>,
    },
    /// A cached balance that differs from the fold of the entries.
    #[error("cached balance {cached} differs from the entries' {computed}")]
    BalanceMismatch {
        /// The balance storage had cached.
        cached: Points,
        /// The balance the entries fold to.
        computed: Points,
    },
}
