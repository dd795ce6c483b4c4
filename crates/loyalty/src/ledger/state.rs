//! The state a ledger folds to, and the rules every entry must obey to be folded.

use super::account::{AccountState, Tallies, Tally};
use super::{LedgerEntry, LedgerError};
use regulars_domain::{EventKey, Points};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// An open expiry lot: what is left of one credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lot {
    /// `seq` of the credit entry (earn or positive adjustment) that opened it.
    pub seq: u64,
    /// When what remains expires; `None` for points that never expire.
    pub expires_at: Option<OffsetDateTime>,
    /// Points left in the lot, always positive for an open lot.
    pub remaining: Points,
}

/// What one order earned and how much of it has been reversed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrderPoints {
    /// `seq` of the earn entry, which is also the order's own lot.
    pub earn_seq: u64,
    /// Points the order earned.
    pub earned: Points,
    /// Points reversed so far, recovered or not. Never more than `earned`.
    pub reversed: Points,
    /// The part of `reversed` that could not be taken back (clamp policy).
    pub unrecovered: Points,
}

/// What a redemption spent and whether it was given back: the ledger remembers the latest
/// redemption of each reference, so that voiding what it bought restores its points once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Redemption {
    /// `seq` of the redeem entry.
    pub seq: u64,
    /// Points it spent (positive).
    pub points: Points,
    /// True once a [`EntryKind::Restore`](super::EntryKind::Restore) gave them back.
    pub restored: bool,
}

/// A customer's points as the fold of their ledger entries.
///
/// Invariants (kept by every entry that folds): `balance == sum of entry amounts`,
/// `balance == sum(lot remaining) - debt`, `debt >= 0`, and `debt > 0` implies no open lot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerState {
    pub(super) core: AccountState,
    orders: BTreeMap<EventKey, OrderPoints>,
    redemptions: BTreeMap<String, Redemption>,
    /// Campaign messages that credited a bonus, with the seq of their entry.
    bonuses: BTreeMap<String, u64>,
}

impl Tallies for LedgerState {
    fn order(&self, order: &EventKey) -> Option<OrderPoints> {
        self.orders.get(order).copied()
    }

    fn redemption(&self, reference: &str) -> Option<Redemption> {
        self.redemptions.get(reference).copied()
    }

    fn bonus(&self, message: &str) -> Option<u64> {
        self.bonuses.get(message).copied()
    }
}

impl LedgerState {
    /// The balance: the sum of all entry amounts. Negative while the customer is in debt.
    ///
    /// It still counts the points of lots that are due but not yet swept; to show what a
    /// customer can spend, sweep first ([`Ledger::expire_due`](super::Ledger::expire_due))
    /// or read [`available_at`](Self::available_at).
    pub fn balance(&self) -> Points {
        self.core.balance
    }

    /// Points owed after a reversal took back more than was left (zero or positive).
    pub fn debt(&self) -> Points {
        self.core.debt
    }

    /// What the customer could spend at `now`: the open lots not yet due to expire.
    /// Differs from [`balance`](Self::balance) when some lots are due but not yet swept.
    pub fn available_at(&self, now: OffsetDateTime) -> Points {
        // Open lots sum to the balance (there is no debt while a lot is open), which fits in
        // an i64, so the sum cannot overflow.
        Points::checked_sum(
            self.core
                .lots
                .iter()
                .filter(|((expiry, _), _)| !expiry.is_due(now))
                .map(|(_, remaining)| *remaining),
        )
        .unwrap_or(Points::ZERO)
    }

    /// Open lots in the order debits consume them: earliest expiry first, never-expiring
    /// lots last, ties by the older credit.
    pub fn lots(&self) -> impl Iterator<Item = Lot> + '_ {
        self.core
            .lots
            .iter()
            .map(|(&(expiry, seq), &remaining)| Lot {
                seq,
                expires_at: expiry.to_option(),
                remaining,
            })
    }

    /// The open lot opened by the credit entry `seq`, if it still holds points.
    pub fn lot(&self, seq: u64) -> Option<Lot> {
        let expiry = *self.core.lot_expiry.get(&seq)?;
        let remaining = *self.core.lots.get(&(expiry, seq))?;
        Some(Lot {
            seq,
            expires_at: expiry.to_option(),
            remaining,
        })
    }

    /// Open lots whose expiry is at or before `now`, in expiry order: what
    /// [`Ledger::expire_due`](super::Ledger::expire_due) would remove.
    pub fn due_lots(&self, now: OffsetDateTime) -> impl Iterator<Item = Lot> + '_ {
        self.lots()
            .take_while(move |lot| lot.expires_at.is_some_and(|at| at <= now))
    }

    /// Earned and reversed points of one order, if it earned in this ledger.
    pub fn order(&self, order: &EventKey) -> Option<&OrderPoints> {
        self.orders.get(order)
    }

    /// Every order that earned in this ledger, by key.
    pub fn orders(&self) -> impl Iterator<Item = (&EventKey, &OrderPoints)> {
        self.orders.iter()
    }

    /// The latest redemption made with `reference`, if any.
    pub fn redemption(&self, reference: &str) -> Option<&Redemption> {
        self.redemptions.get(reference)
    }

    /// The `seq` of the bonus entry the campaign message `message` credited, if it did.
    pub fn bonus(&self, message: &str) -> Option<u64> {
        self.bonuses.get(message).copied()
    }

    /// The `seq` the next entry must carry (the number of entries folded).
    pub fn next_seq(&self) -> u64 {
        self.core.next_seq
    }

    /// Time of the last entry; the next one may not be earlier.
    pub fn last_at(&self) -> Option<OffsetDateTime> {
        self.core.last_at
    }

    /// The account state: everything but the per-order and per-redemption tallies.
    pub fn account(&self) -> &AccountState {
        &self.core
    }

    /// Every per-order and per-redemption tally.
    pub fn tallies(&self) -> Vec<Tally> {
        let orders = self.orders.iter().map(|(order, points)| Tally::Order {
            order: order.clone(),
            points: *points,
        });
        let redemptions =
            self.redemptions
                .iter()
                .map(|(reference, redemption)| Tally::Redemption {
                    reference: reference.clone(),
                    redemption: *redemption,
                });
        let bonuses = self.bonuses.iter().map(|(message, seq)| Tally::Bonus {
            message: message.clone(),
            seq: *seq,
        });
        orders.chain(redemptions).chain(bonuses).collect()
    }

    /// Folds one more entry, checking every rule. On error the state may be partly
    /// updated; callers discard it.
    pub(super) fn apply(&mut self, entry: &LedgerEntry) -> Result<(), LedgerError> {
        let mut core = std::mem::take(&mut self.core);
        let result = core.apply(entry, &*self);
        self.core = core;
        self.record(result?);
        Ok(())
    }

    /// Records an accepted entry's tally.
    pub(super) fn record(&mut self, update: Option<Tally>) {
        match update {
            Some(Tally::Order { order, points }) => {
                self.orders.insert(order, points);
            }
            Some(Tally::Redemption {
                reference,
                redemption,
            }) => {
                self.redemptions.insert(reference, redemption);
            }
            Some(Tally::Bonus { message, seq }) => {
                self.bonuses.insert(message, seq);
            }
            None => {}
        }
    }
}

/// Rebuilds a customer's state from their stored entries, in order, checking every rule.
///
/// This is the only definition of a balance: the ledger's commands fold the entries they
/// emit through the same rules. The first entry that breaks a rule is reported as
/// [`LedgerError::InvalidEntry`] with its `seq`.
///
/// ```
/// use regulars_domain::{EventKey, Points};
/// use regulars_loyalty::ledger::{fold, Ledger};
/// use time::macros::datetime;
///
/// let mut ledger = Ledger::new();
/// let at = datetime!(2026-03-02 09:00 UTC);
/// ledger.earn(EventKey::new("pos:generic", "A-1")?, Points::new(45), at, None)?;
/// ledger.redeem(Points::new(20), at, "reward:topping")?;
/// let state = fold(ledger.entries())?;
/// assert_eq!(state.balance(), Points::new(25));
/// assert_eq!(&state, ledger.state());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn fold<'a>(
    entries: impl IntoIterator<Item = &'a LedgerEntry>,
) -> Result<LedgerState, LedgerError> {
    let mut state = LedgerState::default();
    // Every lot is held (the default view) and all are written afresh at the end.
    state.core.folding = true;
    for entry in entries {
        state
            .apply(entry)
            .map_err(|reason| LedgerError::InvalidEntry {
                seq: entry.seq,
                reason: Box::new(reason),
            })?;
    }
    state.core.touch_all_lots();
    Ok(state)
}

/// Folds stored entries and compares the result with the balance storage cached next to
/// them: the "check-ledger" of the operations tooling.
///
/// Errors with [`LedgerError::BalanceMismatch`] when the cache is wrong, or with the fold's
/// error when the entries themselves break a rule.
pub fn check<'a>(
    entries: impl IntoIterator<Item = &'a LedgerEntry>,
    cached_balance: Points,
) -> Result<LedgerState, LedgerError> {
    let state = fold(entries)?;
    if state.balance() != cached_balance {
        return Err(LedgerError::BalanceMismatch {
            cached: cached_balance,
            computed: state.balance(),
        });
    }
    Ok(state)
}

pub(super) fn require(condition: bool, rule: &'static str) -> Result<(), LedgerError> {
    if condition {
        Ok(())
    } else {
        Err(LedgerError::Malformed(rule))
    }
}

pub(super) fn non_empty(field: &'static str, value: &str) -> Result<(), LedgerError> {
    if value.trim().is_empty() {
        Err(LedgerError::EmptyField { field })
    } else {
        Ok(())
    }
}

pub(super) fn check_expiry(
    at: OffsetDateTime,
    expires_at: Option<OffsetDateTime>,
) -> Result<(), LedgerError> {
    match expires_at {
        Some(expires_at) if expires_at <= at => {
            Err(LedgerError::ExpiryNotAfterCredit { at, expires_at })
        }
        _ => Ok(()),
    }
}

pub(super) fn add(a: Points, b: Points) -> Result<Points, LedgerError> {
    a.checked_add(b).ok_or(LedgerError::Overflow)
}

pub(super) fn sub(a: Points, b: Points) -> Result<Points, LedgerError> {
    a.checked_sub(b).ok_or(LedgerError::Overflow)
}

pub(super) fn negate(a: Points) -> Result<Points, LedgerError> {
    a.checked_neg().ok_or(LedgerError::Overflow)
}
