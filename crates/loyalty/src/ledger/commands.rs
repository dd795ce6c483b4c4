//! The commands that append to a ledger: earn, redeem, expire, reverse and adjust.

use super::account::{AccountState, Tally};
use super::lots::{LotsFound, LotsWanted};
use super::refund::{Overdraft, RefundFraction, RefundPolicy, Reversal};
use super::state::{check_expiry, negate, non_empty, sub};
use super::{EntryKind, LedgerEntry, LedgerError, LedgerState, OrderPoints, fold};
use regulars_domain::{EventKey, Points, local_date};
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime, UtcOffset};

mod batch;
mod bonus;

use batch::Voidable;

/// A customer's ledger: the entries, and the state they fold to.
///
/// Every command validates its input, computes the entries it implies, folds them through
/// the same rules as [`fold`], and only then appends them and returns them, so a
/// persistence layer can insert exactly those entries, with the new
/// [`balance`](Ledger::balance), in one transaction. A command that fails leaves the
/// ledger unchanged. No command reads a clock: the time is always an argument and may not
/// precede the last entry ([`LedgerError::OutOfOrder`]).
///
/// Debit commands (redeem, reverse, negative adjust) first expire the lots due at their
/// time and return those [`EntryKind::Expire`] entries before their own, so they never
/// spend expired points. Credits (earn, positive adjust) do not sweep: they consume nothing.
///
/// Two ledgers are equal when their entries and state are: what changed since loading
/// is bookkeeping for storage.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    entries: Vec<LedgerEntry>,
    state: LedgerState,
    /// Tallies changed by the commands run since the ledger was loaded, in order.
    changed: Vec<Tally>,
}

impl PartialEq for Ledger {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries && self.state == other.state
    }
}

impl Eq for Ledger {}

impl Ledger {
    /// An empty ledger (a new customer).
    pub fn new() -> Self {
        Ledger::default()
    }

    /// Loads a ledger from its stored entries, in `seq` order, refusing any that breaks a
    /// rule (see [`fold`]).
    pub fn from_entries(entries: Vec<LedgerEntry>) -> Result<Self, LedgerError> {
        let state = fold(&entries)?;
        Ok(Ledger {
            entries,
            state,
            changed: Vec::new(),
        })
    }

    /// Resumes a ledger from its stored [`AccountState`] without its entries: commands
    /// build on the state, and [`entries`](Ledger::entries) holds only the entries they
    /// append from here. `tallies` are the stored tallies the coming commands may look up
    /// (the order a refund reverses, the redemptions it may restore); a command that needs
    /// one it was not given refuses, as it would for an order unknown to the ledger.
    pub fn resume(account: AccountState, tallies: impl IntoIterator<Item = Tally>) -> Self {
        let mut state = LedgerState::default();
        state.core = account;
        for tally in tallies {
            state.record(Some(tally));
        }
        Ledger {
            entries: Vec::new(),
            state,
            changed: Vec::new(),
        }
    }

    /// Adds stored tallies a coming command may look up to a [resumed](Ledger::resume)
    /// ledger (they replace what it knew under the same keys).
    pub fn add_tallies(&mut self, tallies: impl IntoIterator<Item = Tally>) {
        for tally in tallies {
            self.state.record(Some(tally));
        }
    }

    /// The tallies the commands run since loading changed, each once with its latest
    /// value: what storage writes next to the entries.
    pub fn changed_tallies(&self) -> Vec<Tally> {
        let mut latest: BTreeMap<String, &Tally> = BTreeMap::new();
        for tally in &self.changed {
            latest.insert(tally.key(), tally);
        }
        latest.into_values().cloned().collect()
    }

    /// Every tally the ledger knows: all of them after [`from_entries`](Ledger::from_entries),
    /// for storage building its copy from the entries.
    pub fn all_tallies(&self) -> Vec<Tally> {
        self.state.tallies()
    }

    /// Whether the lots the state holds already answer `wanted` (see [`LotsWanted`]).
    pub fn holds_lots_for(&self, wanted: &LotsWanted) -> bool {
        self.state.core.holds_lots_for(wanted)
    }

    /// Adds the lots storage found for `wanted` to a [resumed](Ledger::resume) ledger
    /// (see [`AccountState::add_lots`]).
    pub fn add_lots(&mut self, wanted: &LotsWanted, found: LotsFound) -> Result<(), String> {
        self.state.core.add_lots(wanted, found)
    }

    /// Storage's word that no open lot expires before `first` (see
    /// [`AccountState::no_lot_expires_before`]).
    pub fn no_lot_expires_before(&mut self, first: Option<OffsetDateTime>) {
        self.state.core.no_lot_expires_before(first);
    }

    /// Forgets which lots changed, once storage has written them.
    pub fn lots_saved(&mut self) {
        self.state.core.lots_saved();
    }

    /// All entries, in order.
    pub fn entries(&self) -> &[LedgerEntry] {
        &self.entries
    }

    /// Gives the entries back.
    pub fn into_entries(self) -> Vec<LedgerEntry> {
        self.entries
    }

    /// The folded state: balance, lots, debt, per-order points.
    pub fn state(&self) -> &LedgerState {
        &self.state
    }

    /// The balance (sum of all entries); negative while in debt. Counts due lots until
    /// they are swept (see [`LedgerState::balance`]).
    pub fn balance(&self) -> Points {
        self.state.balance()
    }

    /// Points earned by orders placed on the local `day` (at `offset`): what the daily
    /// earning cap counts. An earn counts toward the day its order was placed, not the
    /// day it was recorded, so an order delivered late (or dated back) counts toward its
    /// own day and not toward today. Reversals and adjustments do not count.
    ///
    /// ```
    /// use regulars_domain::{EventKey, Points};
    /// use regulars_loyalty::ledger::Ledger;
    /// use time::macros::{date, datetime, offset};
    ///
    /// let mut ledger = Ledger::new();
    /// let today = datetime!(2026-03-02 09:00 +07:00);
    /// ledger.earn(EventKey::new("pos:generic", "A-1")?, Points::new(50), today, None)?;
    /// // Yesterday's order, delivered today: recorded now, counted for yesterday.
    /// let yesterday = datetime!(2026-03-01 12:00 +07:00);
    /// ledger.earn_placed(EventKey::new("pos:generic", "A-0")?, Points::new(30), today, None,
    ///                    Some(yesterday))?;
    /// assert_eq!(ledger.earned_on_day(date!(2026-03-02), offset!(+7)), Points::new(50));
    /// assert_eq!(ledger.earned_on_day(date!(2026-03-01), offset!(+7)), Points::new(30));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn earned_on_day(&self, day: Date, offset: UtcOffset) -> Points {
        let earned = self.entries.iter().filter_map(|entry| match &entry.kind {
            EntryKind::Earn { placed_at, .. } => {
                let placed = placed_at.unwrap_or(entry.at);
                (local_date(placed, offset) == Some(day)).then_some(entry.amount)
            }
            _ => None,
        });
        // Far beyond any cap: a sum that overflows has certainly reached it.
        Points::checked_sum(earned).unwrap_or(Points::new(i64::MAX))
    }

    /// Credits `points` earned by `order`, in a lot expiring at `expires_at` (`None`: never).
    ///
    /// Refuses non-positive points, an expiry not after `at`, an invalid order key, and an
    /// order that has already earned ([`LedgerError::DuplicateEarn`]); storage enforces the
    /// same idempotency, this is the second line. If the customer is in debt the points pay
    /// it first and the lot holds the rest.
    pub fn earn(
        &mut self,
        order: EventKey,
        points: Points,
        at: OffsetDateTime,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<Vec<LedgerEntry>, LedgerError> {
        self.earn_placed(order, points, at, expires_at, None)
    }

    /// [`earn`](Ledger::earn) for an order placed at `placed_at`, which may be before
    /// `at` (an order delivered late is recorded after the entries already there). The
    /// entry keeps `placed_at` when it differs from `at`, so the points count toward the
    /// order's own day ([`earned_on_day`](Ledger::earned_on_day)).
    pub fn earn_placed(
        &mut self,
        order: EventKey,
        points: Points,
        at: OffsetDateTime,
        expires_at: Option<OffsetDateTime>,
        placed_at: Option<OffsetDateTime>,
    ) -> Result<Vec<LedgerEntry>, LedgerError> {
        let placed_at = placed_at.filter(|placed| *placed != at);
        require_positive(points)?;
        let mut batch = self.begin(at)?;
        batch.push(
            points,
            EntryKind::Earn {
                order,
                expires_at,
                placed_at,
            },
        )?;
        let done = batch.finish();
        Ok(self.commit(done))
    }

    /// Spends `points` on `reference` (a reward or voucher id).
    ///
    /// First expires the lots due at `at` (those entries come first in the result), then
    /// debits first-expiring-first. Refuses to overdraw with
    /// [`LedgerError::InsufficientPoints`], where `available` is the balance after expiry.
    pub fn redeem(
        &mut self,
        points: Points,
        at: OffsetDateTime,
        reference: impl Into<String>,
    ) -> Result<Vec<LedgerEntry>, LedgerError> {
        let reference = reference.into();
        require_positive(points)?;
        non_empty("reference", &reference)?;
        let mut batch = self.begin(at)?;
        batch.sweep()?;
        batch.refuse_overdraft(points)?;
        batch.push(negate(points)?, EntryKind::Redeem { reference })?;
        let done = batch.finish();
        Ok(self.commit(done))
    }

    /// Expires every open lot whose expiry is at or before `now`, in expiry order (ties by
    /// the older credit), each entry removing exactly what remains of its lot. Unexpired
    /// lots are untouched. Returns no entries when nothing is due.
    pub fn expire_due(&mut self, now: OffsetDateTime) -> Result<Vec<LedgerEntry>, LedgerError> {
        let mut batch = self.begin(now)?;
        batch.sweep()?;
        let done = batch.finish();
        Ok(self.commit(done))
    }

    /// Reverses everything `order` earned that is not yet reversed (a full refund).
    ///
    /// Points come back from the order's own lot first, then first-expiring-first from the
    /// others; lots due at `at` are expired first. What the balance cannot cover follows
    /// `policy`. A second full reversal is refused with [`LedgerError::AlreadyReversed`] so
    /// the caller learns that a refund it has not recorded as applied finds nothing to
    /// take back; a duplicate delivery of the same refund is stopped earlier by storage.
    pub fn reverse_order(
        &mut self,
        order: &EventKey,
        at: OffsetDateTime,
        policy: RefundPolicy,
    ) -> Result<Vec<LedgerEntry>, LedgerError> {
        let tally = self.order_points(order)?;
        if tally.reversed >= tally.earned {
            return Err(LedgerError::AlreadyReversed {
                order: order.clone(),
            });
        }
        self.reverse_order_partial(order, RefundFraction::FULL, at, policy)
    }

    /// Brings the order's total reversed points to `floor(earned * refunded / total)` for the
    /// *cumulative* share `refunded` of the order refunded so far (this refund included).
    ///
    /// Reverses only the difference with what is already reversed, taken as in
    /// [`reverse_order`](Self::reverse_order). Returns no entries when the share adds no
    /// whole point. Refuses a share that implies less than is already reversed
    /// ([`LedgerError::RefundNotCumulative`]); so reversals never exceed what the order
    /// earned, and `RefundFraction::FULL` completes them exactly. With no vouchers to void,
    /// [`RefundPolicy::VoidUnredeemed`] leaves the shortfall as debt.
    pub fn reverse_order_partial(
        &mut self,
        order: &EventKey,
        refunded: RefundFraction,
        at: OffsetDateTime,
        policy: RefundPolicy,
    ) -> Result<Vec<LedgerEntry>, LedgerError> {
        let reversal = self.reverse(order, refunded, at, policy, &Voidable::NONE)?;
        Ok(reversal.entries)
    }

    /// Like [`reverse_order_partial`](Self::reverse_order_partial) under
    /// [`RefundPolicy::VoidUnredeemed`]: when the balance (after expiring what is due)
    /// cannot cover the points to take back, the redemptions named in `unredeemed` (the
    /// references of vouchers bought with points and still unused) are restored, newest
    /// redemption first, until the restored points cover the shortfall; whatever remains
    /// becomes debt. Each restoration credits exactly what its redemption spent, in a lot
    /// expiring at `restored_expires_at`; a redemption already restored, unknown to the
    /// ledger or named twice is never restored again. The caller voids the vouchers of
    /// [`Reversal::restored`] in the same transaction.
    ///
    /// ```
    /// use regulars_domain::{EventKey, Points};
    /// use regulars_loyalty::ledger::{Ledger, RefundFraction};
    /// use time::macros::datetime;
    ///
    /// let at = datetime!(2026-03-02 09:00 UTC);
    /// let order = EventKey::new("pos:generic", "A-1")?;
    /// let mut ledger = Ledger::new();
    /// ledger.earn(order.clone(), Points::new(500), at, None)?;
    /// ledger.redeem(Points::new(500), at, "voucher:V1")?;
    /// let reversal = ledger.reverse_order_voiding(
    ///     &order, RefundFraction::FULL, at, &["voucher:V1".to_owned()], None,
    /// )?;
    /// assert_eq!(reversal.restored, ["voucher:V1"]);
    /// assert_eq!(ledger.balance(), Points::ZERO); // no debt: the voucher paid it back
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reverse_order_voiding(
        &mut self,
        order: &EventKey,
        refunded: RefundFraction,
        at: OffsetDateTime,
        unredeemed: &[String],
        restored_expires_at: Option<OffsetDateTime>,
    ) -> Result<Reversal, LedgerError> {
        let voidable = Voidable {
            references: unredeemed,
            expires_at: restored_expires_at,
        };
        self.reverse(order, refunded, at, RefundPolicy::VoidUnredeemed, &voidable)
    }

    fn reverse(
        &mut self,
        order: &EventKey,
        refunded: RefundFraction,
        at: OffsetDateTime,
        policy: RefundPolicy,
        voidable: &Voidable<'_>,
    ) -> Result<Reversal, LedgerError> {
        let mut batch = self.begin(at)?;
        let tally = self.order_points(order)?;
        let target = refunded.reversal_target(tally.earned)?;
        if target < tally.reversed {
            return Err(LedgerError::RefundNotCumulative {
                order: order.clone(),
                target,
                reversed: tally.reversed,
            });
        }
        let claim = sub(target, tally.reversed)?;
        if !claim.is_positive() {
            return Ok(Reversal::default());
        }
        batch.sweep()?;
        let restored = match policy {
            RefundPolicy::VoidUnredeemed => batch.restore_for(claim, voidable)?,
            RefundPolicy::Debt | RefundPolicy::Clamp => Vec::new(),
        };
        let (recovered, unrecovered) = match policy {
            RefundPolicy::Debt | RefundPolicy::VoidUnredeemed => (claim, Points::ZERO),
            RefundPolicy::Clamp => {
                let recovered = claim.min(batch.available());
                (recovered, sub(claim, recovered)?)
            }
        };
        batch.push(
            negate(recovered)?,
            EntryKind::Reverse {
                order: order.clone(),
                unrecovered,
            },
        )?;
        let done = batch.finish();
        Ok(Reversal {
            entries: self.commit(done),
            restored,
            recovered,
            unrecovered,
        })
    }

    /// A manual adjustment by `actor` for `reason` (both required, for the audit trail).
    ///
    /// A positive `delta` opens a lot expiring at `expires_at` (after paying any debt). A
    /// negative one expires due lots first, then debits like a redemption; it may not carry
    /// an expiry, and it may overdraw only with [`Overdraft::Allow`] (the shortfall becomes
    /// debt). The overdraft permission is the caller's decision and is not recorded; the
    /// reason should say why.
    pub fn adjust(
        &mut self,
        delta: Points,
        at: OffsetDateTime,
        reason: impl Into<String>,
        actor: impl Into<String>,
        expires_at: Option<OffsetDateTime>,
        overdraft: Overdraft,
    ) -> Result<Vec<LedgerEntry>, LedgerError> {
        let (reason, actor) = (reason.into(), actor.into());
        non_empty("reason", &reason)?;
        non_empty("actor", &actor)?;
        let kind = EntryKind::Adjust {
            reason,
            actor,
            expires_at,
        };
        let mut batch = self.begin(at)?;
        if delta.is_negative() {
            if expires_at.is_some() {
                return Err(LedgerError::ExpiryOnDebit);
            }
            batch.sweep()?;
            if overdraft == Overdraft::Refuse {
                batch.refuse_overdraft(negate(delta)?)?;
            }
        } else if delta.is_positive() {
            check_expiry(at, expires_at)?;
        } else {
            return Err(LedgerError::ZeroAdjustment);
        }
        batch.push(delta, kind)?;
        let done = batch.finish();
        Ok(self.commit(done))
    }

    fn order_points(&self, order: &EventKey) -> Result<OrderPoints, LedgerError> {
        self.state
            .order(order)
            .copied()
            .ok_or_else(|| LedgerError::UnknownOrder {
                order: order.clone(),
            })
    }
}

fn require_positive(points: Points) -> Result<(), LedgerError> {
    if points.is_positive() {
        Ok(())
    } else {
        Err(LedgerError::NonPositivePoints { points })
    }
}
