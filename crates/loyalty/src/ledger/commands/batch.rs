//! How a command builds its entries: a batch folds them into a scratch copy of the
//! account, checked against every rule, and commits them to the ledger only when the
//! command succeeds.

use super::Ledger;
use crate::ledger::account::{AccountState, Tallies, Tally};
use crate::ledger::state::{negate, sub};
use crate::ledger::{EntryKind, LedgerEntry, LedgerError, LedgerState, OrderPoints, Redemption};
use regulars_domain::{EventKey, Points};
use time::OffsetDateTime;

impl Ledger {
    /// Starts a command at `at` on a scratch copy of the state's core.
    pub(super) fn begin(&self, at: OffsetDateTime) -> Result<Batch<'_>, LedgerError> {
        self.state.core.check_time(at)?;
        Ok(Batch {
            core: self.state.core.clone(),
            state: &self.state,
            staged: Vec::new(),
            entries: Vec::new(),
            at,
        })
    }

    /// Makes a command's entries and their effect the ledger's; returns the new entries.
    pub(super) fn commit(&mut self, done: Done) -> Vec<LedgerEntry> {
        self.state.core = done.core;
        for update in done.staged {
            self.changed.push(update.clone());
            self.state.record(Some(update));
        }
        self.entries.extend_from_slice(&done.entries);
        done.entries
    }
}

/// The redemptions a refund may restore, and the expiry of the lots they open again.
pub(super) struct Voidable<'a> {
    pub(super) references: &'a [String],
    pub(super) expires_at: Option<OffsetDateTime>,
}

impl Voidable<'_> {
    pub(super) const NONE: Voidable<'static> = Voidable {
        references: &[],
        expires_at: None,
    };
}

/// The tallies as a batch sees them: its own staged changes over the ledger's.
struct Staged<'s> {
    staged: &'s [Tally],
    state: &'s LedgerState,
}

impl Tallies for Staged<'_> {
    fn order(&self, order: &EventKey) -> Option<OrderPoints> {
        self.staged
            .iter()
            .rev()
            .find_map(|update| match update {
                Tally::Order { order: key, points } if key == order => Some(*points),
                _ => None,
            })
            .or_else(|| self.state.order(order).copied())
    }

    fn redemption(&self, reference: &str) -> Option<Redemption> {
        self.staged
            .iter()
            .rev()
            .find_map(|update| match update {
                Tally::Redemption {
                    reference: r,
                    redemption,
                } if r == reference => Some(*redemption),
                _ => None,
            })
            .or_else(|| self.state.redemption(reference).copied())
    }

    fn bonus(&self, message: &str) -> Option<u64> {
        self.staged
            .iter()
            .rev()
            .find_map(|update| match update {
                Tally::Bonus { message: m, seq } if m == message => Some(*seq),
                _ => None,
            })
            .or_else(|| self.state.bonus(message))
    }
}

/// The entries a command is building, folded as they are added into a copy of the core,
/// with the tallies they change held aside: the ledger is untouched until commit.
pub(super) struct Batch<'a> {
    core: AccountState,
    state: &'a LedgerState,
    staged: Vec<Tally>,
    entries: Vec<LedgerEntry>,
    at: OffsetDateTime,
}

/// A finished batch, ready to commit.
pub(super) struct Done {
    core: AccountState,
    staged: Vec<Tally>,
    entries: Vec<LedgerEntry>,
}

impl Batch<'_> {
    /// Adds an entry at the command's time, checking it against every rule.
    pub(super) fn push(&mut self, amount: Points, kind: EntryKind) -> Result<(), LedgerError> {
        let entry = LedgerEntry {
            seq: self.core.next_seq(),
            at: self.at,
            amount,
            kind,
        };
        let tallies = Staged {
            staged: &self.staged,
            state: self.state,
        };
        let update = self.core.apply(&entry, &tallies)?;
        self.staged.extend(update);
        self.entries.push(entry);
        Ok(())
    }

    /// Expires every lot due at the command's time.
    pub(super) fn sweep(&mut self) -> Result<(), LedgerError> {
        self.core.require_due_lots(self.at)?;
        let due: Vec<_> = self.core.due_lots(self.at).collect();
        for (lot, remaining) in due {
            self.push(negate(remaining)?, EntryKind::Expire { lot })?;
        }
        Ok(())
    }

    /// Restores the newest unrestored redemptions among `voidable` until their points cover
    /// what the balance lacks for `claim`; returns their references, newest first.
    pub(super) fn restore_for(
        &mut self,
        claim: Points,
        voidable: &Voidable<'_>,
    ) -> Result<Vec<String>, LedgerError> {
        let mut shortfall = sub(claim, self.available())?;
        let mut candidates: Vec<(u64, &String, Points)> = Vec::new();
        for reference in voidable.references {
            let tallies = Staged {
                staged: &self.staged,
                state: self.state,
            };
            if let Some(r) = tallies.redemption(reference)
                && !r.restored
                && !candidates.iter().any(|(_, seen, _)| *seen == reference)
            {
                candidates.push((r.seq, reference, r.points));
            }
        }
        candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
        let mut restored = Vec::new();
        for (_, reference, points) in candidates {
            if !shortfall.is_positive() {
                break;
            }
            self.push(
                points,
                EntryKind::Restore {
                    reference: reference.clone(),
                    expires_at: voidable.expires_at,
                },
            )?;
            shortfall = sub(shortfall, points)?;
            restored.push(reference.clone());
        }
        Ok(restored)
    }

    /// What can be spent now: the balance, or nothing while in debt.
    pub(super) fn available(&self) -> Points {
        self.core.balance().max(Points::ZERO)
    }

    pub(super) fn refuse_overdraft(&self, requested: Points) -> Result<(), LedgerError> {
        let available = self.available();
        if requested > available {
            return Err(LedgerError::InsufficientPoints {
                available,
                requested,
            });
        }
        Ok(())
    }

    pub(super) fn finish(self) -> Done {
        Done {
            core: self.core,
            staged: self.staged,
            entries: self.entries,
        }
    }
}
