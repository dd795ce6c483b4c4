//! Which open lots a command needs, so that storage can keep lots as rows of their own and
//! an order reads and writes only the few it touches, however many a regular holds.
//!
//! The rule ([`LotsWanted`]): a credit needs no lot (it opens one and pays debt from the
//! figures); an expiry sweep at `t` needs the lots due at `t`; a debit of `n` points at
//! `t` (a redemption, a negative adjustment) needs the due ones and then the
//! first-expiring ones until they hold `n`; a refund needs the same for what it can still
//! take back, and the order's own lot. In consumption order (earliest expiry first,
//! never-expiring last, ties by the older credit) the due lots and the first-expiring ones
//! are one run from the start, so what a state holds is described by one bound
//! ([`LotView`]): every lot below it is held. A command that would go past the bound
//! refuses with [`LedgerError::LotsNotLoaded`]; it never guesses.

use super::LedgerError;
use super::account::{AccountState, Expiry};
use super::state::{Lot, add, sub};
use regulars_domain::Points;
use std::collections::BTreeSet;
use time::{Duration, OffsetDateTime};

/// The open lots an [`AccountState`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(super) enum LotView {
    /// None known beyond those loaded by seq.
    Nothing,
    /// Every open lot whose `(expiry, seq)` is below this one.
    Below(Expiry, u64),
    /// Every open lot.
    #[default]
    All,
}

/// The open lots a command may touch, as storage is asked for them (see the module).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LotsWanted {
    /// Every lot due at this time.
    pub due_at: Option<OffsetDateTime>,
    /// After the due ones, the first-expiring lots until they hold at least this much.
    pub debit: Points,
    /// Lots by the seq of the credit that opened them, whether still open or not.
    pub seqs: Vec<u64>,
}

/// What storage found for a [`LotsWanted`]: [`LotsWanted::select`] over its open lots.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LotsFound {
    /// The run from the start of consumption order: the due lots, then the
    /// first-expiring ones up to the debit.
    pub run: Vec<Lot>,
    /// The lots asked for by seq that are not in `run`.
    pub extra: Vec<Lot>,
}

impl LotsWanted {
    /// What a credit needs: nothing.
    pub fn none() -> Self {
        LotsWanted::default()
    }

    /// What an expiry sweep at `at` needs: the lots due then.
    pub fn sweep(at: OffsetDateTime) -> Self {
        LotsWanted {
            due_at: Some(at),
            ..LotsWanted::default()
        }
    }

    /// What a debit of `points` at `at` needs: the due lots (it sweeps first), then the
    /// first-expiring ones up to `points`.
    pub fn debit(at: OffsetDateTime, points: Points) -> Self {
        LotsWanted {
            due_at: Some(at),
            debit: points.max(Points::ZERO),
            seqs: Vec::new(),
        }
    }

    /// What a reversal of at most `points` of the order whose lot is `own_lot` needs: a
    /// debit's lots and the order's own lot.
    pub fn refund(at: OffsetDateTime, points: Points, own_lot: u64) -> Self {
        LotsWanted {
            seqs: vec![own_lot],
            ..LotsWanted::debit(at, points)
        }
    }

    /// What an adjustment by `delta` at `at` needs: a debit's lots when it takes points
    /// away, none when it gives them (it opens a lot).
    pub fn adjust(at: OffsetDateTime, delta: Points) -> Self {
        match delta.checked_neg() {
            Some(debit) if debit.is_positive() => LotsWanted::debit(at, debit),
            _ => LotsWanted::none(),
        }
    }

    /// Every open lot (a debit of every point there can be).
    pub fn all() -> Self {
        LotsWanted {
            due_at: None,
            debit: Points::new(i64::MAX),
            seqs: Vec::new(),
        }
    }

    fn is_due(&self, lot: &Lot) -> bool {
        matches!((self.due_at, lot.expires_at), (Some(now), Some(at)) if at <= now)
    }

    /// The definition of what storage returns: from `lots` in consumption order, the run
    /// of due lots and first-expiring lots while those before hold less than the debit,
    /// and the lots asked for by seq outside that run. Given any superset of the answer
    /// in the same order, it gives the same answer, so storage may over-select and call it.
    pub fn select(&self, lots: impl IntoIterator<Item = Lot>) -> LotsFound {
        let mut found = LotsFound::default();
        let mut before = Points::ZERO;
        let mut in_run = true;
        for lot in lots {
            if in_run && (self.is_due(&lot) || before < self.debit) {
                if !self.is_due(&lot) {
                    before = before
                        .checked_add(lot.remaining)
                        .unwrap_or(Points::new(i64::MAX));
                }
                found.run.push(lot);
                continue;
            }
            in_run = false;
            if self.seqs.contains(&lot.seq) {
                found.extra.push(lot);
            }
        }
        found
    }
}

/// What storage writes of an account's lots after a command (see
/// [`AccountState::lot_changes`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LotChanges {
    /// The stored lots are replaced whole by `write` (a state folded from the entries,
    /// or read from the earlier form that kept its lots inline): delete every stored lot
    /// of the account first.
    pub replace_all: bool,
    /// Lots to insert or update, by seq.
    pub write: Vec<Lot>,
    /// Seqs of lots to delete.
    pub delete: Vec<u64>,
}

/// The key that follows `key` in consumption order.
fn after(key: (Expiry, u64)) -> Option<LotView> {
    key.1.checked_add(1).map(|seq| LotView::Below(key.0, seq))
}

impl AccountState {
    /// Points in open lots this state does not hold (zero when it holds them all).
    pub(super) fn unloaded(&self) -> Result<Points, LedgerError> {
        let held = Points::checked_sum(self.lots.values().copied()).ok_or(LedgerError::Overflow)?;
        sub(add(self.balance, self.debt)?, held)
    }

    fn holds_all(&self) -> Result<bool, LedgerError> {
        Ok(self.view == LotView::All || self.unloaded()? == Points::ZERO)
    }

    /// The expiry of the lot opened by `seq` if it is open, `None` if it is known closed.
    pub(super) fn find_lot(&self, seq: u64) -> Result<Option<Expiry>, LedgerError> {
        if let Some(expiry) = self.lot_expiry.get(&seq) {
            return Ok(Some(*expiry));
        }
        if self.removed.contains(&seq) || self.absent.contains(&seq) || self.holds_all()? {
            return Ok(None);
        }
        Err(LedgerError::LotsNotLoaded)
    }

    /// The first lot in consumption order, `None` when there is none; `unloaded` is
    /// [`unloaded`](Self::unloaded) before the debit began.
    pub(super) fn next_lot(&self, unloaded: Points) -> Result<Option<(Expiry, u64)>, LedgerError> {
        let first = self.lots.first_key_value().map(|(key, _)| *key);
        if self.view == LotView::All || unloaded == Points::ZERO {
            return Ok(first);
        }
        match (first, self.view) {
            (Some(key), LotView::Below(expiry, seq)) if key < (expiry, seq) => Ok(Some(key)),
            _ => Err(LedgerError::LotsNotLoaded),
        }
    }

    /// Refuses when lots due at `at` may be missing.
    pub(super) fn require_due_lots(&self, at: OffsetDateTime) -> Result<(), LedgerError> {
        let covered = match self.view {
            LotView::All => true,
            LotView::Below(expiry, _) => expiry > Expiry::At(at),
            LotView::Nothing => false,
        };
        if covered || self.holds_all()? {
            Ok(())
        } else {
            Err(LedgerError::LotsNotLoaded)
        }
    }

    /// Closes a held lot.
    pub(super) fn close_lot(&mut self, key: (Expiry, u64)) {
        self.lots.remove(&key);
        self.lot_expiry.remove(&key.1);
        if !self.folding {
            self.touched.remove(&key.1);
            self.removed.insert(key.1);
        }
    }

    /// Whether the held lots already answer `wanted`: then storage need not be asked.
    pub fn holds_lots_for(&self, wanted: &LotsWanted) -> bool {
        if self.view == LotView::All || self.unloaded().is_ok_and(|u| u == Points::ZERO) {
            return true;
        }
        if let Some(at) = wanted.due_at
            && self.require_due_lots(at).is_err()
        {
            return false;
        }
        if wanted.seqs.iter().any(|seq| self.find_lot(*seq).is_err()) {
            return false;
        }
        if !wanted.debit.is_positive() {
            return true;
        }
        // The held run below the bound must hold the debit.
        let LotView::Below(expiry, seq) = self.view else {
            return false;
        };
        let held = self
            .lots
            .range(..(expiry, seq))
            .filter(|((e, _), _)| wanted.due_at.is_none_or(|at| !e.is_due(at)))
            .map(|(_, points)| *points);
        Points::checked_sum(held).is_some_and(|held| held >= wanted.debit)
    }

    /// Adds what storage found for `wanted` ([`LotsWanted::select`] over its rows).
    /// Lots already held, or closed since the state was loaded, keep what the state
    /// says (storage has not seen this transaction's changes yet). Refuses lots that break
    /// the state's figures: more points in lots than the balance and debt allow, or a lot
    /// while in debt.
    pub fn add_lots(&mut self, wanted: &LotsWanted, found: LotsFound) -> Result<(), String> {
        let mut view = self.view;
        if let Some(at) = wanted.due_at
            && let Some(next) = at.checked_add(Duration::nanoseconds(1))
        {
            view = view.max(LotView::Below(Expiry::At(next), 0));
        }
        let mut last = None;
        for lot in &found.run {
            let key = (Expiry::from_option(lot.expires_at), lot.seq);
            if last.is_some_and(|previous| previous >= key) {
                return Err("lots not in consumption order".into());
            }
            last = Some(key);
        }
        if let Some(next) = last.and_then(after) {
            view = view.max(next);
        }
        let mut seen = BTreeSet::new();
        for lot in found.run.iter().chain(&found.extra) {
            seen.insert(lot.seq);
            if !lot.remaining.is_positive() {
                return Err(format!("lot {} holds no points", lot.seq));
            }
            if self.lot_expiry.contains_key(&lot.seq) || self.removed.contains(&lot.seq) {
                continue;
            }
            let expiry = Expiry::from_option(lot.expires_at);
            self.lots.insert((expiry, lot.seq), lot.remaining);
            self.lot_expiry.insert(lot.seq, expiry);
        }
        for seq in &wanted.seqs {
            if !seen.contains(seq) && !self.lot_expiry.contains_key(seq) {
                self.absent.insert(*seq);
            }
        }
        self.view = view;
        let unloaded = self.unloaded().map_err(|e| e.to_string())?;
        if unloaded.is_negative() || (self.debt.is_positive() && !self.lots.is_empty()) {
            return Err("the lots hold more than the balance and the debt".into());
        }
        Ok(())
    }

    /// Storage's word that no open lot expires before `first` (`None`: no open lot has
    /// an expiry), so that lots due earlier need not be asked for.
    pub fn no_lot_expires_before(&mut self, first: Option<OffsetDateTime>) {
        let bound = first.map_or(Expiry::Never, Expiry::At);
        self.view = self.view.max(LotView::Below(bound, 0));
    }

    /// The figures without the lots: what storage keeps in the account's row, the lots
    /// being rows of their own.
    pub fn without_lots(&self) -> AccountState {
        AccountState {
            balance: self.balance,
            debt: self.debt,
            next_seq: self.next_seq,
            last_at: self.last_at,
            earned: self.earned.clone(),
            view: LotView::Nothing,
            ..AccountState::default()
        }
    }

    /// What storage writes of the lots: those opened or changed since the state was
    /// loaded, those closed, and whether the stored lots are replaced whole.
    pub fn lot_changes(&self) -> LotChanges {
        let write = self
            .touched
            .iter()
            .filter_map(|seq| {
                let expiry = *self.lot_expiry.get(seq)?;
                let remaining = *self.lots.get(&(expiry, *seq))?;
                Some(Lot {
                    seq: *seq,
                    expires_at: expiry.to_option(),
                    remaining,
                })
            })
            .collect();
        LotChanges {
            replace_all: self.replace_lots,
            write,
            delete: self.removed.iter().copied().collect(),
        }
    }

    /// Marks every held lot as changed and forgets the closed ones: after a fold of the
    /// whole ledger, so that storage writes the lots afresh.
    pub(super) fn touch_all_lots(&mut self) {
        self.folding = false;
        self.touched = self.lot_expiry.keys().copied().collect();
        self.removed.clear();
        self.absent.clear();
        self.view = LotView::All;
        self.replace_lots = true;
    }

    /// Forgets what changed: storage has written it.
    pub fn lots_saved(&mut self) {
        self.touched.clear();
        self.removed.clear();
        self.replace_lots = false;
    }
}
