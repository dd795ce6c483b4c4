//! What each kind of ledger entry does to an account: one step per [`EntryKind`](super::EntryKind),
//! each checking the entry's own rules and returning the tally it changes.
//! [`AccountState::apply`] checks what every entry shares (its `seq` and time), runs the
//! step of the entry's kind, then moves the account's position on.

use super::{AccountState, Tallies, Tally};
use crate::ledger::state::{
    OrderPoints, Redemption, add, check_expiry, negate, non_empty, require,
};
use crate::ledger::{LedgerEntry, LedgerError};
use regulars_domain::{EventKey, Points};
use time::OffsetDateTime;

impl AccountState {
    /// An earn: credits an order's points once per order and counts them toward the day
    /// the order was placed (the entry's time when unknown).
    pub(super) fn apply_earn(
        &mut self,
        entry: &LedgerEntry,
        order: &EventKey,
        expires_at: Option<OffsetDateTime>,
        placed_at: Option<OffsetDateTime>,
        tallies: &dyn Tallies,
    ) -> Result<Tally, LedgerError> {
        let (at, amount) = (entry.at, entry.amount);
        order.validate()?;
        require(amount.is_positive(), "an earn must credit points")?;
        check_expiry(at, expires_at)?;
        if tallies.order(order).is_some() {
            return Err(LedgerError::DuplicateEarn {
                order: order.clone(),
            });
        }
        self.credit(entry.seq, amount, expires_at)?;
        self.count_earned(placed_at.unwrap_or(at), amount);
        Ok(Tally::Order {
            order: order.clone(),
            points: OrderPoints {
                earn_seq: entry.seq,
                earned: amount,
                reversed: Points::ZERO,
                unrecovered: Points::ZERO,
            },
        })
    }

    /// A redemption: debits at most the positive balance, never from an expired lot not
    /// yet swept, and records what it spent under its reference.
    pub(super) fn apply_redeem(
        &mut self,
        entry: &LedgerEntry,
        reference: &str,
    ) -> Result<Tally, LedgerError> {
        let (at, amount) = (entry.at, entry.amount);
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
        Ok(Tally::Redemption {
            reference: reference.to_owned(),
            redemption: Redemption {
                seq: entry.seq,
                points: requested,
                restored: false,
            },
        })
    }

    /// A restoration: credits back exactly what a known redemption spent, once.
    pub(super) fn apply_restore(
        &mut self,
        entry: &LedgerEntry,
        reference: &str,
        expires_at: Option<OffsetDateTime>,
        tallies: &dyn Tallies,
    ) -> Result<Tally, LedgerError> {
        let (at, amount) = (entry.at, entry.amount);
        non_empty("reference", reference)?;
        require(amount.is_positive(), "a restoration must credit points")?;
        check_expiry(at, expires_at)?;
        let redemption =
            tallies
                .redemption(reference)
                .ok_or_else(|| LedgerError::UnknownRedemption {
                    reference: reference.to_owned(),
                })?;
        if redemption.restored {
            return Err(LedgerError::AlreadyRestored {
                reference: reference.to_owned(),
            });
        }
        if amount != redemption.points {
            return Err(LedgerError::RestoreMismatch {
                reference: reference.to_owned(),
                amount,
                spent: redemption.points,
            });
        }
        self.credit(entry.seq, amount, expires_at)?;
        Ok(Tally::Redemption {
            reference: reference.to_owned(),
            redemption: Redemption {
                restored: true,
                ..redemption
            },
        })
    }

    /// An expiry: closes an open lot that is due, debiting exactly what it still holds.
    pub(super) fn apply_expire(
        &mut self,
        entry: &LedgerEntry,
        lot: u64,
    ) -> Result<(), LedgerError> {
        let (at, amount) = (entry.at, entry.amount);
        require(amount.is_negative(), "an expiry must debit points")?;
        let expiry = self.find_lot(lot)?.ok_or(LedgerError::LotNotOpen { lot })?;
        if !expiry.is_due(at) {
            return Err(LedgerError::LotNotDue { lot });
        }
        let remaining = *self
            .lots
            .get(&(expiry, lot))
            .ok_or(LedgerError::LotNotOpen { lot })?;
        let removed = negate(amount)?;
        if removed != remaining {
            return Err(LedgerError::ExpireMismatch {
                lot,
                amount: removed,
                remaining,
            });
        }
        self.close_lot((expiry, lot));
        self.balance = add(self.balance, amount)?;
        Ok(())
    }

    /// A reversal: takes back (part of) what an order earned, from that order's lot first;
    /// points it cannot recover are recorded as unrecovered only when nothing is left.
    pub(super) fn apply_reverse(
        &mut self,
        entry: &LedgerEntry,
        order: &EventKey,
        unrecovered: Points,
        tallies: &dyn Tallies,
    ) -> Result<Tally, LedgerError> {
        let (at, amount) = (entry.at, entry.amount);
        require(!amount.is_positive(), "a reversal must not credit points")?;
        require(
            !unrecovered.is_negative(),
            "unrecovered points must not be negative",
        )?;
        let recovered = negate(amount)?;
        let claim = add(recovered, unrecovered)?;
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
                unrecovered,
                available,
            });
        }
        self.refuse_unswept(at)?;
        self.debit(recovered, Some(tally.earn_seq))?;
        let unrecovered = add(tally.unrecovered, unrecovered)?;
        Ok(Tally::Order {
            order: order.clone(),
            points: OrderPoints {
                reversed,
                unrecovered,
                ..tally
            },
        })
    }

    /// A campaign bonus: credits a message's bonus once per message.
    pub(super) fn apply_bonus(
        &mut self,
        entry: &LedgerEntry,
        message: &str,
        expires_at: Option<OffsetDateTime>,
        tallies: &dyn Tallies,
    ) -> Result<Tally, LedgerError> {
        let (at, amount) = (entry.at, entry.amount);
        non_empty("message", message)?;
        require(amount.is_positive(), "a campaign bonus must credit points")?;
        check_expiry(at, expires_at)?;
        if tallies.bonus(message).is_some() {
            return Err(LedgerError::DuplicateBonus {
                message: message.to_owned(),
            });
        }
        self.credit(entry.seq, amount, expires_at)?;
        Ok(Tally::Bonus {
            message: message.to_owned(),
            seq: entry.seq,
        })
    }

    /// A manual adjustment: a credit (which may expire) or a debit (which may not, and may
    /// run into debt); never zero.
    pub(super) fn apply_adjust(
        &mut self,
        entry: &LedgerEntry,
        reason: &str,
        actor: &str,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<(), LedgerError> {
        let (at, amount) = (entry.at, entry.amount);
        non_empty("reason", reason)?;
        non_empty("actor", actor)?;
        if amount.is_positive() {
            check_expiry(at, expires_at)?;
            self.credit(entry.seq, amount, expires_at)?;
        } else if amount.is_negative() {
            if expires_at.is_some() {
                return Err(LedgerError::ExpiryOnDebit);
            }
            self.refuse_unswept(at)?;
            self.debit(negate(amount)?, None)?;
        } else {
            return Err(LedgerError::ZeroAdjustment);
        }
        Ok(())
    }
}
