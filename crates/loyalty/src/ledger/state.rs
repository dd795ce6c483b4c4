//! The state a ledger folds to, and the rules every entry must obey to be folded.

use super::{EntryKind, LedgerEntry, LedgerError};
use regulars_domain::{EventKey, Points};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// When a lot expires. Derived `Ord` puts every dated expiry before `Never`, which is the
/// order debits consume lots in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Expiry {
    At(OffsetDateTime),
    Never,
}

impl Expiry {
    fn from_option(expires_at: Option<OffsetDateTime>) -> Self {
        expires_at.map_or(Expiry::Never, Expiry::At)
    }

    fn to_option(self) -> Option<OffsetDateTime> {
        match self {
            Expiry::At(at) => Some(at),
            Expiry::Never => None,
        }
    }

    fn is_due(self, now: OffsetDateTime) -> bool {
        matches!(self, Expiry::At(at) if at <= now)
    }
}

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Redemption {
    /// `seq` of the redeem entry.
    pub seq: u64,
    /// Points it spent (positive).
    pub points: Points,
    /// True once a [`EntryKind::Restore`] gave them back.
    pub restored: bool,
}

/// A customer's points as the fold of their ledger entries.
///
/// Invariants (kept by every entry that folds): `balance == sum of entry amounts`,
/// `balance == sum(lot remaining) - debt`, `debt >= 0`, and `debt > 0` implies no open lot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerState {
    pub(super) core: Core,
    orders: BTreeMap<EventKey, OrderPoints>,
    redemptions: BTreeMap<String, Redemption>,
}

/// Everything but the per-order tallies: small (open lots only), so a command can work on a
/// copy of it and throw the copy away when it refuses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Core {
    balance: Points,
    debt: Points,
    /// Open lots keyed in consumption order: expiry (dated first), then credit seq.
    lots: BTreeMap<(Expiry, u64), Points>,
    /// Open lot seq -> its expiry, to find a lot by seq in `lots`.
    lot_expiry: BTreeMap<u64, Expiry>,
    next_seq: u64,
    last_at: Option<OffsetDateTime>,
}

/// The tally an accepted entry changes: the order it earned or reversed, or the
/// redemption it made or restored; recorded once the entry is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Update {
    Order(EventKey, OrderPoints),
    Redemption(String, Redemption),
}

/// Looks up the per-order and per-redemption tallies an entry is checked against.
pub(super) trait Tallies {
    fn order(&self, order: &EventKey) -> Option<OrderPoints>;
    fn redemption(&self, reference: &str) -> Option<Redemption>;
}

impl Tallies for LedgerState {
    fn order(&self, order: &EventKey) -> Option<OrderPoints> {
        self.orders.get(order).copied()
    }

    fn redemption(&self, reference: &str) -> Option<Redemption> {
        self.redemptions.get(reference).copied()
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

    /// The `seq` the next entry must carry (the number of entries folded).
    pub fn next_seq(&self) -> u64 {
        self.core.next_seq
    }

    /// Time of the last entry; the next one may not be earlier.
    pub fn last_at(&self) -> Option<OffsetDateTime> {
        self.core.last_at
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
    pub(super) fn record(&mut self, update: Option<Update>) {
        match update {
            Some(Update::Order(order, points)) => {
                self.orders.insert(order, points);
            }
            Some(Update::Redemption(reference, redemption)) => {
                self.redemptions.insert(reference, redemption);
            }
            None => {}
        }
    }
}

impl Core {
    pub(super) fn balance(&self) -> Points {
        self.balance
    }

    pub(super) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Open lots due at `now`, in expiry order, as `(seq, remaining)`.
    pub(super) fn due_lots(&self, now: OffsetDateTime) -> impl Iterator<Item = (u64, Points)> + '_ {
        self.lots
            .iter()
            .take_while(move |((expiry, _), _)| expiry.is_due(now))
            .map(|(&(_, seq), &remaining)| (seq, remaining))
    }

    /// Folds one more entry into everything but the tallies, checking every rule
    /// (`tallies` looks an order or a redemption up), and returns the tally the entry
    /// changes. On error the core may be partly updated; callers discard it.
    pub(super) fn apply(
        &mut self,
        entry: &LedgerEntry,
        tallies: &dyn Tallies,
    ) -> Result<Option<Update>, LedgerError> {
        if entry.seq != self.next_seq {
            return Err(LedgerError::SeqMismatch {
                expected: self.next_seq,
                found: entry.seq,
            });
        }
        self.check_time(entry.at)?;
        let at = entry.at;
        let amount = entry.amount;
        let mut update = None;
        match &entry.kind {
            EntryKind::Earn {
                order, expires_at, ..
            } => {
                order.validate()?;
                require(amount.is_positive(), "an earn must credit points")?;
                check_expiry(at, *expires_at)?;
                if tallies.order(order).is_some() {
                    return Err(LedgerError::DuplicateEarn {
                        order: order.clone(),
                    });
                }
                self.credit(entry.seq, amount, *expires_at)?;
                update = Some(Update::Order(
                    order.clone(),
                    OrderPoints {
                        earn_seq: entry.seq,
                        earned: amount,
                        reversed: Points::ZERO,
                        unrecovered: Points::ZERO,
                    },
                ));
            }
            EntryKind::Redeem { reference } => {
                non_empty("reference", reference)?;
                require(amount.is_negative(), "a redemption must debit points")?;
                let requested = negate(amount)?;
                self.refuse_unswept(at)?;
                let available = self.balance.max(Points::ZERO);
                if requested > available {
                    return Err(LedgerError::InsufficientPoints {
                        available,
                        requested,
                    });
                }
                self.debit(requested, None)?;
                update = Some(Update::Redemption(
                    reference.clone(),
                    Redemption {
                        seq: entry.seq,
                        points: requested,
                        restored: false,
                    },
                ));
            }
            EntryKind::Restore {
                reference,
                expires_at,
            } => {
                non_empty("reference", reference)?;
                require(amount.is_positive(), "a restoration must credit points")?;
                check_expiry(at, *expires_at)?;
                let redemption = tallies.redemption(reference).ok_or_else(|| {
                    LedgerError::UnknownRedemption {
                        reference: reference.clone(),
                    }
                })?;
                if redemption.restored {
                    return Err(LedgerError::AlreadyRestored {
                        reference: reference.clone(),
                    });
                }
                if amount != redemption.points {
                    return Err(LedgerError::RestoreMismatch {
                        reference: reference.clone(),
                        amount,
                        spent: redemption.points,
                    });
                }
                self.credit(entry.seq, amount, *expires_at)?;
                update = Some(Update::Redemption(
                    reference.clone(),
                    Redemption {
                        restored: true,
                        ..redemption
                    },
                ));
            }
            EntryKind::Expire { lot } => {
                require(amount.is_negative(), "an expiry must debit points")?;
                let expiry = *self
                    .lot_expiry
                    .get(lot)
                    .ok_or(LedgerError::LotNotOpen { lot: *lot })?;
                if !expiry.is_due(at) {
                    return Err(LedgerError::LotNotDue { lot: *lot });
                }
                let remaining = *self
                    .lots
                    .get(&(expiry, *lot))
                    .ok_or(LedgerError::LotNotOpen { lot: *lot })?;
                let removed = negate(amount)?;
                if removed != remaining {
                    return Err(LedgerError::ExpireMismatch {
                        lot: *lot,
                        amount: removed,
                        remaining,
                    });
                }
                self.lots.remove(&(expiry, *lot));
                self.lot_expiry.remove(lot);
                self.balance = add(self.balance, amount)?;
            }
            EntryKind::Reverse { order, unrecovered } => {
                require(!amount.is_positive(), "a reversal must not credit points")?;
                require(
                    !unrecovered.is_negative(),
                    "unrecovered points must not be negative",
                )?;
                let recovered = negate(amount)?;
                let claim = add(recovered, *unrecovered)?;
                require(claim.is_positive(), "a reversal must reverse some points")?;
                let tally = tallies
                    .order(order)
                    .ok_or_else(|| LedgerError::UnknownOrder {
                        order: order.clone(),
                    })?;
                let reversed = add(tally.reversed, claim)?;
                if reversed > tally.earned {
                    return Err(LedgerError::OverReversal {
                        order: order.clone(),
                        earned: tally.earned,
                        reversed,
                    });
                }
                let available = self.balance.max(Points::ZERO);
                if unrecovered.is_positive() && recovered != available {
                    return Err(LedgerError::UnrecoveredWhileAvailable {
                        unrecovered: *unrecovered,
                        available,
                    });
                }
                self.refuse_unswept(at)?;
                self.debit(recovered, Some(tally.earn_seq))?;
                let unrecovered = add(tally.unrecovered, *unrecovered)?;
                update = Some(Update::Order(
                    order.clone(),
                    OrderPoints {
                        reversed,
                        unrecovered,
                        ..tally
                    },
                ));
            }
            EntryKind::Adjust {
                reason,
                actor,
                expires_at,
            } => {
                non_empty("reason", reason)?;
                non_empty("actor", actor)?;
                if amount.is_positive() {
                    check_expiry(at, *expires_at)?;
                    self.credit(entry.seq, amount, *expires_at)?;
                } else if amount.is_negative() {
                    if expires_at.is_some() {
                        return Err(LedgerError::ExpiryOnDebit);
                    }
                    self.refuse_unswept(at)?;
                    self.debit(negate(amount)?, None)?;
                } else {
                    return Err(LedgerError::ZeroAdjustment);
                }
            }
        }
        self.next_seq = self.next_seq.checked_add(1).ok_or(LedgerError::Overflow)?;
        self.last_at = Some(at);
        Ok(update)
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
        }
        Ok(())
    }

    /// Takes `amount` (non-negative) out of the lots: from lot `first` if it is open, then
    /// first-expiring-first. What the lots cannot cover becomes debt.
    fn debit(&mut self, amount: Points, first: Option<u64>) -> Result<(), LedgerError> {
        self.balance = sub(self.balance, amount)?;
        let mut rest = amount;
        if let Some(seq) = first
            && let Some(&expiry) = self.lot_expiry.get(&seq)
        {
            rest = self.take_from((expiry, seq), rest)?;
        }
        while rest.is_positive() {
            let Some((&key, _)) = self.lots.first_key_value() else {
                break;
            };
            rest = self.take_from(key, rest)?;
        }
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
            self.lots.remove(&key);
            self.lot_expiry.remove(&key.1);
        }
        sub(wanted, taken)
    }

    /// Refuses a debit while a lot due at `at` is open: it would spend expired points.
    fn refuse_unswept(&self, at: OffsetDateTime) -> Result<(), LedgerError> {
        match self.due_lots(at).next() {
            Some((lot, _)) => Err(LedgerError::ExpiredLotUnswept { lot }),
            None => Ok(()),
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
    for entry in entries {
        state
            .apply(entry)
            .map_err(|reason| LedgerError::InvalidEntry {
                seq: entry.seq,
                reason: Box::new(reason),
            })?;
    }
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

fn require(condition: bool, rule: &'static str) -> Result<(), LedgerError> {
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
