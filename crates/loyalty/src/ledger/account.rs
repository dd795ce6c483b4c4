//! A customer's account state: what the ledger's entries fold to, kept small enough (open
//! lots and the few figures the rules read) to be stored next to the ledger and updated
//! with each append, so a command never needs the whole history.
//!
//! [`AccountState::apply`] is the single definition of what an entry does to an account:
//! [`fold`](super::fold) runs it over every entry, the [`Ledger`](super::Ledger) commands
//! run it over the entries they emit, and storage keeps the result. What grows with the
//! history — the per-order and per-redemption [`Tally`] — is not part of the state: an
//! entry that needs one looks it up through [`Tallies`], and the entry that changes one
//! returns it, so storage can keep each under its own key.

mod apply;

use super::lots::LotView;
use super::state::{OrderPoints, Redemption, add, sub};
use super::{EntryKind, LedgerEntry, LedgerError};
use regulars_domain::{EventKey, Points};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, OffsetDateTime, UtcOffset};

/// Earnings are kept per quarter of an hour (UTC) of the time the order was placed: every
/// UTC offset in use is a whole number of quarters, so any local day is a whole number of
/// buckets.
const BUCKET_SECONDS: i64 = 15 * 60;
const DAY_SECONDS: i64 = 24 * 60 * 60;
/// Earnings are kept for orders placed from the UTC midnight this many days before the
/// last entry's day: enough for the daily cap of any order delivered up to about two days
/// late, in any time zone. Older days are dropped (see [`AccountState::earned_on_day`]).
const KEPT_DAYS: i64 = 2;

/// When a lot expires. Derived `Ord` puts every dated expiry before `Never`, which is the
/// order debits consume lots in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Expiry {
    At(OffsetDateTime),
    Never,
}

impl Expiry {
    pub(super) fn from_option(expires_at: Option<OffsetDateTime>) -> Self {
        expires_at.map_or(Expiry::Never, Expiry::At)
    }

    pub(super) fn to_option(self) -> Option<OffsetDateTime> {
        match self {
            Expiry::At(at) => Some(at),
            Expiry::Never => None,
        }
    }

    pub(super) fn is_due(self, now: OffsetDateTime) -> bool {
        matches!(self, Expiry::At(at) if at <= now)
    }
}

/// A customer's account as the fold of their ledger entries, without the per-order and
/// per-redemption tallies: the balance, the debt, the open lots, the position in the
/// ledger, and the points earned per recent day for the daily cap. Its size grows only
/// with the open lots (credits neither spent nor expired yet), not with the number of
/// entries, so a command can work on a copy of it and storage can read and write it
/// whole with every append.
///
/// Invariants (kept by every entry that applies): `balance == sum of entry amounts`,
/// `balance == sum(lot remaining) - debt`, `debt >= 0`, and `debt > 0` implies no open lot.
///
/// Serialised as one string in a compact delta-coded form (see `compact.rs`), so what an
/// order pays to read and write it stays small per open lot; the earlier JSON object
/// (`{"balance", "debt", "next_seq", "last_at", "lots", "earned"}`) is still read, and a
/// state read that way is written back compact. A stored state that breaks an invariant
/// is refused when read, in either form.
///
/// A state resumed from storage may hold only part of the open lots — the ones a command
/// can touch (see [`LotsWanted`](super::LotsWanted)); a command that would need another
/// refuses with [`LedgerError::LotsNotLoaded`] instead of guessing. Two states are equal
/// when their figures and the lots they hold are.
#[derive(Debug, Clone, Default)]
pub struct AccountState {
    pub(super) balance: Points,
    pub(super) debt: Points,
    /// Open lots keyed in consumption order: expiry (dated first), then credit seq.
    pub(super) lots: BTreeMap<(Expiry, u64), Points>,
    /// Open lot seq -> its expiry, to find a lot by seq in `lots`.
    pub(super) lot_expiry: BTreeMap<u64, Expiry>,
    pub(super) next_seq: u64,
    pub(super) last_at: Option<OffsetDateTime>,
    /// Points earned per quarter-hour bucket of the orders' placement time (UTC), for
    /// the buckets from [`KEPT_DAYS`] before the last entry's UTC day on.
    pub(super) earned: BTreeMap<i64, Points>,
    /// Which open lots are held (all of them, unless resumed from storage).
    pub(super) view: LotView,
    /// Lots opened or changed since the state was loaded, by seq: what storage writes.
    pub(super) touched: BTreeSet<u64>,
    /// Lots closed since the state was loaded, by seq: what storage deletes.
    pub(super) removed: BTreeSet<u64>,
    /// Lots asked for by seq and not found: closed before the state was loaded.
    pub(super) absent: BTreeSet<u64>,
    /// The held lots are all of them and replace whatever storage keeps.
    pub(super) replace_lots: bool,
    /// A fold is running: which lots changed is worked out once at its end
    /// ([`touch_all_lots`](Self::touch_all_lots)), so `touched` and `removed` are not kept
    /// entry by entry.
    pub(super) folding: bool,
}

impl PartialEq for AccountState {
    fn eq(&self, other: &Self) -> bool {
        self.balance == other.balance
            && self.debt == other.debt
            && self.lots == other.lots
            && self.next_seq == other.next_seq
            && self.last_at == other.last_at
            && self.earned == other.earned
    }
}

impl Eq for AccountState {}

/// The tally an accepted entry changes: the order it earned or reversed, or the
/// redemption it made or restored. Storage keeps one per order and per redemption
/// reference, under [`Tally::key`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Tally {
    /// What an order earned and what of it was reversed.
    Order {
        /// The order.
        order: EventKey,
        /// Its points.
        points: OrderPoints,
    },
    /// The latest redemption made with a reference.
    Redemption {
        /// The reference (a reward or voucher id).
        reference: String,
        /// What it spent and whether it was restored.
        redemption: Redemption,
    },
    /// The bonus a campaign message credited: kept so that it credits once.
    Bonus {
        /// The message (its outbox id).
        message: String,
        /// `seq` of the bonus entry.
        seq: u64,
    },
}

impl Tally {
    /// The key storage keeps the tally under: `order:<source>:<external id>` or
    /// `redemption:<reference>`. Distinct tallies of one account have distinct keys.
    pub fn key(&self) -> String {
        match self {
            Tally::Order { order, .. } => Tally::order_key(order),
            Tally::Redemption { reference, .. } => Tally::redemption_key(reference),
            Tally::Bonus { message, .. } => Tally::bonus_key(message),
        }
    }

    /// The key of a campaign message's bonus tally.
    pub fn bonus_key(message: &str) -> String {
        format!("bonus:{message}")
    }

    /// The key of an order's tally.
    pub fn order_key(order: &EventKey) -> String {
        format!("order:{}:{}", order.source, order.external_id)
    }

    /// The key of a redemption's tally.
    pub fn redemption_key(reference: &str) -> String {
        format!("redemption:{reference}")
    }
}

/// Looks up the per-order and per-redemption tallies an entry is checked against.
pub trait Tallies {
    /// The tally of an order that earned, if any.
    fn order(&self, order: &EventKey) -> Option<OrderPoints>;
    /// The latest redemption made with `reference`, if any.
    fn redemption(&self, reference: &str) -> Option<Redemption>;
    /// The `seq` of the bonus entry `message` credited, if it did.
    fn bonus(&self, message: &str) -> Option<u64>;
}

/// Unix time (seconds) of the UTC midnight [`KEPT_DAYS`] before the day of `last`.
fn kept_from(last: OffsetDateTime) -> i64 {
    let day_start = last.unix_timestamp().div_euclid(DAY_SECONDS) * DAY_SECONDS;
    day_start - KEPT_DAYS * DAY_SECONDS
}

impl AccountState {
    /// The balance: the sum of all entry amounts; negative while in debt.
    pub fn balance(&self) -> Points {
        self.balance
    }

    /// Points owed (zero or positive).
    pub fn debt(&self) -> Points {
        self.debt
    }

    /// The `seq` the next entry must carry (the number of entries folded).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Time of the last entry; the next one may not be earlier.
    pub fn last_at(&self) -> Option<OffsetDateTime> {
        self.last_at
    }

    /// Points earned by orders placed on the local `day` at `offset` (what the daily
    /// earning cap counts; see [`Ledger::earned_on_day`](super::Ledger::earned_on_day)),
    /// when the state still keeps that day: `None` for a day that starts before the kept
    /// days (about two days before the last entry) or an offset that is not a whole
    /// number of quarter hours. The caller then counts from the entries.
    pub fn earned_on_day(&self, day: Date, offset: UtcOffset) -> Option<Points> {
        if i64::from(offset.whole_seconds()) % BUCKET_SECONDS != 0 {
            return None;
        }
        let start = day.midnight().assume_offset(offset).unix_timestamp();
        if let Some(last) = self.last_at
            && start < kept_from(last)
        {
            return None;
        }
        let (first, end) = (
            start / BUCKET_SECONDS,
            (start + DAY_SECONDS) / BUCKET_SECONDS,
        );
        let earned = self.earned.range(first..end).map(|(_, points)| *points);
        Some(Points::checked_sum(earned).unwrap_or(Points::new(i64::MAX)))
    }

    /// Open lots due at `now`, in expiry order, as `(seq, remaining)`.
    pub(super) fn due_lots(&self, now: OffsetDateTime) -> impl Iterator<Item = (u64, Points)> + '_ {
        self.lots
            .iter()
            .take_while(move |((expiry, _), _)| expiry.is_due(now))
            .map(|(&(_, seq), &remaining)| (seq, remaining))
    }

    /// Folds one more entry into the state, checking every rule (`tallies` looks an order
    /// or a redemption up), and returns the tally the entry changes, which the caller
    /// keeps. On error the state may be partly updated; callers discard it.
    ///
    /// A new kind of entry is one more arm here and one more step in `apply.rs`: the fold,
    /// the commands and storage all go through this function.
    pub fn apply(
        &mut self,
        entry: &LedgerEntry,
        tallies: &dyn Tallies,
    ) -> Result<Option<Tally>, LedgerError> {
        if entry.seq != self.next_seq {
            return Err(LedgerError::SeqMismatch {
                expected: self.next_seq,
                found: entry.seq,
            });
        }
        self.check_time(entry.at)?;
        let update = match &entry.kind {
            EntryKind::Earn {
                order,
                expires_at,
                placed_at,
            } => Some(self.apply_earn(entry, order, *expires_at, *placed_at, tallies)?),
            EntryKind::Redeem { reference } => Some(self.apply_redeem(entry, reference)?),
            EntryKind::Restore {
                reference,
                expires_at,
            } => Some(self.apply_restore(entry, reference, *expires_at, tallies)?),
            EntryKind::Expire { lot } => {
                self.apply_expire(entry, *lot)?;
                None
            }
            EntryKind::Reverse { order, unrecovered } => {
                Some(self.apply_reverse(entry, order, *unrecovered, tallies)?)
            }
            EntryKind::CampaignBonus {
                message,
                expires_at,
                ..
            } => Some(self.apply_bonus(entry, message, *expires_at, tallies)?),
            EntryKind::Adjust {
                reason,
                actor,
                expires_at,
            } => {
                self.apply_adjust(entry, reason, actor, *expires_at)?;
                None
            }
        };
        let at = entry.at;
        self.next_seq = self.next_seq.checked_add(1).ok_or(LedgerError::Overflow)?;
        self.last_at = Some(at);
        self.drop_old_earnings(at);
        Ok(update)
    }

    /// Counts an earn toward the bucket of the time its order was placed, unless that is
    /// before the kept days (the entry's time `last_at` is not yet moved here, so the
    /// bucket is dropped right after if it is too old). Saturates: a sum that large has
    /// reached any cap.
    fn count_earned(&mut self, placed: OffsetDateTime, amount: Points) {
        let bucket = placed.unix_timestamp().div_euclid(BUCKET_SECONDS);
        let slot = self.earned.entry(bucket).or_insert(Points::ZERO);
        *slot = slot.checked_add(amount).unwrap_or(Points::new(i64::MAX));
    }

    /// Drops the earnings of buckets before the kept days, counted from `last`.
    fn drop_old_earnings(&mut self, last: OffsetDateTime) {
        let first = kept_from(last).div_euclid(BUCKET_SECONDS);
        // Usually one bucket at most falls out per entry: pop it in place rather than
        // split the map, which would allocate a new one.
        while let Some(oldest) = self.earned.first_entry()
            && *oldest.key() < first
        {
            oldest.remove();
        }
    }

    /// Refuses a time earlier than the last entry's.
    pub(super) fn check_time(&self, at: OffsetDateTime) -> Result<(), LedgerError> {
        match self.last_at {
            Some(last) if at < last => Err(LedgerError::OutOfOrder { last, at }),
            _ => Ok(()),
        }
    }

    /// Adds a credit: pays the debt first, then opens a lot with what is left.
    fn credit(
        &mut self,
        seq: u64,
        amount: Points,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<(), LedgerError> {
        self.balance = add(self.balance, amount)?;
        let paid = self.debt.min(amount);
        self.debt = sub(self.debt, paid)?;
        let rest = sub(amount, paid)?;
        if rest.is_positive() {
            let expiry = Expiry::from_option(expires_at);
            self.lots.insert((expiry, seq), rest);
            self.lot_expiry.insert(seq, expiry);
            if !self.folding {
                self.touched.insert(seq);
            }
        }
        Ok(())
    }

    /// Takes `amount` (non-negative) out of the lots: from lot `first` if it is open, then
    /// first-expiring-first. What the lots cannot cover becomes debt.
    ///
    /// With only part of the lots held, it takes only from lots it knows come first, and
    /// refuses with [`LedgerError::LotsNotLoaded`] when it would need another.
    fn debit(&mut self, amount: Points, first: Option<u64>) -> Result<(), LedgerError> {
        // Holding every lot (always so in a fold), nothing is unloaded: no need to add the
        // lots up.
        let unloaded = if self.view == LotView::All {
            Points::ZERO
        } else {
            self.unloaded()?
        };
        let mut rest = amount;
        if let Some(seq) = first
            && rest.is_positive()
            && let Some(expiry) = self.find_lot(seq)?
        {
            rest = self.take_from((expiry, seq), rest)?;
        }
        while rest.is_positive() {
            let Some(key) = self.next_lot(unloaded)? else {
                break;
            };
            rest = self.take_from(key, rest)?;
        }
        self.balance = sub(self.balance, amount)?;
        if rest.is_positive() {
            self.debt = add(self.debt, rest)?;
        }
        Ok(())
    }

    /// Takes up to `wanted` from one lot, closing it when emptied; returns what is still
    /// wanted.
    fn take_from(&mut self, key: (Expiry, u64), wanted: Points) -> Result<Points, LedgerError> {
        let Some(remaining) = self.lots.get_mut(&key) else {
            return Ok(wanted);
        };
        let taken = (*remaining).min(wanted);
        *remaining = sub(*remaining, taken)?;
        if !remaining.is_positive() {
            self.close_lot(key);
        } else if !self.folding {
            self.touched.insert(key.1);
        }
        sub(wanted, taken)
    }

    /// Refuses a debit while a lot due at `at` is open: it would spend expired points.
    fn refuse_unswept(&self, at: OffsetDateTime) -> Result<(), LedgerError> {
        self.require_due_lots(at)?;
        match self.due_lots(at).next() {
            Some((lot, _)) => Err(LedgerError::ExpiredLotUnswept { lot }),
            None => Ok(()),
        }
    }
}
