//! The append-only points ledger: every change to a customer's points is an entry, and the
//! balance is nothing but the fold of those entries.
//!
//! Points are money to the customer, so the rules are strict and checked on every entry:
//!
//! * **Entries are append-only and ordered.** Each [`LedgerEntry`] has a `seq` (its position
//!   in the customer's ledger, from 0) and a timestamp no earlier than the one before it.
//! * **Credits open lots.** An earn, a positive adjustment or a campaign bonus opens a lot
//!   that may expire. A campaign bonus credits once per message ([`EntryKind::CampaignBonus`]).
//!   Debits (redemptions, negative adjustments, reversals) consume lots
//!   *first-expiring-first*; lots without expiry go last; ties go to the older lot.
//! * **Expiry touches only the expired lot.** An [`EntryKind::Expire`] entry removes exactly
//!   what remains of one lot whose expiry has passed, never anything else.
//! * **No debit spends expired points.** Every debit command first sweeps the lots due at
//!   its time, and [`fold`] rejects a debit recorded while an expired lot was still open. So
//!   the outcome of a command never depends on whether an expiry job ran before it.
//! * **Refunds reverse exactly what the order earned**, taken back from the order's own lot
//!   first. What the balance cannot cover becomes debt ([`RefundPolicy::Debt`]); or is
//!   first paid by voiding unused vouchers bought with points, whose points are restored
//!   ([`RefundPolicy::VoidUnredeemed`]), the rest becoming debt; or, by a brand's explicit
//!   choice, is recorded as unrecovered ([`RefundPolicy::Clamp`]).
//! * **A redemption is restored at most once**, for exactly what it spent
//!   ([`EntryKind::Restore`]): a voucher voided by a refund gives its points back once.
//! * **Debt is paid first.** While the balance is negative there are no open lots; the next
//!   credits pay the debt before opening a lot with the rest. At all times
//!   `balance == sum(open lot remaining) - debt`.
//!
//! The [`Ledger`] commands validate and *return* the entries they append, so a persistence
//! layer can write them, with the new cached balance, in one transaction. [`fold`] and
//! [`check`] rebuild the state from stored entries and reject any ledger that breaks a rule.
//!
//! Orders are referred to by their [`EventKey`](regulars_domain::EventKey): the refund event
//! names its order that way, and the same key is the idempotency key storage enforces, so a
//! reversal needs no lookup and the ledger refuses a second earn for the same key that
//! storage refuses.
//!
//! ```
//! use regulars_domain::{EventKey, Points};
//! use regulars_loyalty::ledger::{check, EntryKind, Ledger, LedgerError, RefundPolicy};
//! use time::{macros::datetime, Duration};
//!
//! let day0 = datetime!(2026-03-02 09:00 UTC);
//! let mut ledger = Ledger::new();
//!
//! // Two orders earn points, each lot valid for a while.
//! ledger.earn(EventKey::new("pos:generic", "A-1")?, Points::new(50), day0,
//!             Some(day0 + Duration::days(30)))?;
//! ledger.earn(EventKey::new("pos:generic", "A-2")?, Points::new(80), day0 + Duration::days(1),
//!             Some(day0 + Duration::days(90)))?;
//!
//! // A free drink for 30 points comes out of the lot that expires first (A-1).
//! ledger.redeem(Points::new(30), day0 + Duration::days(2), "reward:free-drink")?;
//! assert_eq!(ledger.balance(), Points::new(100));
//!
//! // After day 30 the 20 points left of A-1 expire; A-2 is untouched.
//! let expired = ledger.expire_due(day0 + Duration::days(31))?;
//! assert_eq!(expired.len(), 1);
//! assert_eq!(expired[0].amount, Points::new(-20));
//! assert_eq!(expired[0].kind, EntryKind::Expire { lot: 0 });
//! assert_eq!(ledger.balance(), Points::new(80));
//!
//! // Nobody can spend more than they have.
//! assert_eq!(
//!     ledger.redeem(Points::new(100), day0 + Duration::days(32), "reward:cake"),
//!     Err(LedgerError::InsufficientPoints {
//!         available: Points::new(80),
//!         requested: Points::new(100),
//!     })
//! );
//!
//! // A-2 is refunded: its 80 points go back, the balance is zero again.
//! let key = EventKey::new("pos:generic", "A-2")?;
//! ledger.reverse_order(&key, day0 + Duration::days(33), RefundPolicy::Clamp)?;
//! assert_eq!(ledger.balance(), Points::ZERO);
//!
//! // Storage recomputes the balance from the entries alone and compares it with its cache.
//! let state = check(ledger.entries(), Points::ZERO)?;
//! assert_eq!(&state, ledger.state());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod account;
mod commands;
mod compact;
mod entry;
mod error;
mod lots;
mod refund;
mod state;
mod stored;

#[cfg(test)]
mod tests;

pub use account::{AccountState, Tallies, Tally};
pub use commands::Ledger;
pub use entry::{EntryKind, LedgerEntry};
pub use error::LedgerError;
pub use lots::{LotChanges, LotsFound, LotsWanted};
pub use refund::{Overdraft, RefundFraction, RefundPolicy, Reversal};
pub use state::{LedgerState, Lot, OrderPoints, Redemption, check, fold};
