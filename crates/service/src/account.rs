//! Steps shared by the use cases: loading a brand, opening a customer's points account
//! under its lock, and writing the entries a ledger command produced.

use crate::error::{CorruptLedger, UnknownBrand};
use regulars_domain::{BrandId, CustomerId, Points, local_date};
use regulars_loyalty::ledger::{Ledger, LedgerEntry, LedgerError, LotsWanted};
use regulars_loyalty::tiers::{QualificationMetric, TierProgram};
use regulars_ports::{AccountAppend, AccountHead, Brand, StoreError, Transaction};
use time::{Duration, OffsetDateTime, UtcOffset};

/// The brand, or [`UnknownBrand`].
pub(crate) async fn load_brand<E>(tx: &mut dyn Transaction, brand: BrandId) -> Result<Brand, E>
where
    E: From<StoreError> + From<UnknownBrand>,
{
    match tx.brands().brand(brand).await? {
        Some(found) => Ok(found),
        None => Err(UnknownBrand(brand).into()),
    }
}

/// A customer's points account, locked for the rest of the transaction.
///
/// Its ledger is resumed from the stored account state, so opening it costs the same
/// whatever the length of the history; only an account without a usable stored state
/// (one that predates it, or whose state disagrees with its head) loads and folds its
/// entries once, and stores the state and every tally with its next append.
pub(crate) struct Account {
    pub customer: CustomerId,
    pub head: AccountHead,
    pub ledger: Ledger,
    /// True when the ledger was folded from all the entries (it holds them and every
    /// tally) rather than resumed from the stored state.
    rebuilt: bool,
    /// The brand's config version, read by the statement that took the lock.
    pub config_version: Option<i64>,
    /// Whether a referral may wait for this customer's first order, read by the same
    /// statement.
    pub referral_pending: bool,
}

impl Account {
    /// Locks the account (concurrent use cases on it wait) and resumes its ledger from
    /// the stored state, or builds it from the entries when there is none.
    ///
    /// A cached balance that disagrees with the entries is logged, not refused: the
    /// entries are the truth and decide every command, so the customer is not blocked.
    /// Appends move the cache by exactly what they add (the storage contract), which
    /// keeps the drift visible to `check_ledger` until someone repairs it.
    pub async fn open<E>(
        tx: &mut dyn Transaction,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Account, E>
    where
        E: From<StoreError> + From<CorruptLedger>,
    {
        let locked = tx.ledger().lock_account_state(brand, customer).await?;
        let head = locked.head;
        let stateless = locked.state.is_none();
        if let Some(state) = locked.state
            && state.next_seq() == head.next_seq
            && state.balance() == head.balance
        {
            return Ok(Account {
                customer,
                head,
                ledger: Ledger::resume(state, []),
                rebuilt: false,
                config_version: locked.config_version,
                referral_pending: locked.referral_pending,
            });
        }
        // An account nothing was ever appended to has no entries to read: every append
        // moves `next_seq` in its own transaction.
        let ledger = if stateless && head.next_seq == 0 && head.balance == Points::ZERO {
            Ledger::new()
        } else {
            load_ledger::<E>(tx, brand, customer).await?
        };
        if ledger.balance() != head.balance {
            tracing::warn!(
                %brand, %customer, cached = %head.balance, entries = %ledger.balance(),
                "cached balance differs from the ledger's entries; the entries win"
            );
        }
        Ok(Account {
            customer,
            head,
            ledger,
            rebuilt: true,
            config_version: locked.config_version,
            referral_pending: locked.referral_pending,
        })
    }

    /// Makes the stored tallies under `keys` known to the ledger before a command that
    /// looks them up (a refund's order, the redemptions it may restore).
    pub async fn load_tallies(
        &mut self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        keys: &[String],
    ) -> Result<(), StoreError> {
        if self.rebuilt || keys.is_empty() {
            return Ok(());
        }
        let tallies = tx.ledger().tallies(brand, self.customer, keys).await?;
        self.ledger.add_tallies(tallies);
        Ok(())
    }

    /// Makes sure the ledger holds the open lots `wanted` names (see [`LotsWanted`]):
    /// reads them when the lots already held do not answer it. A resumed ledger holds no
    /// lot at first, only the word of the locking statement on the earliest expiry.
    pub async fn want_lots(
        &mut self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        wanted: &LotsWanted,
    ) -> Result<(), StoreError> {
        if self.ledger.holds_lots_for(wanted) {
            return Ok(());
        }
        let found = tx.ledger().lots(brand, self.customer, wanted).await?;
        self.ledger
            .add_lots(wanted, found)
            .map_err(|e| StoreError::Corrupt(format!("open lots of {}: {e}", self.customer)))
    }

    /// Runs a ledger command with the lots `wanted` names loaded first. Should the
    /// command still find a lot missing (the rule and the command disagree: a bug), every
    /// lot is loaded and it runs once more, so the customer is never refused for it.
    pub async fn command<T>(
        &mut self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        wanted: &LotsWanted,
        mut command: impl FnMut(&mut Ledger) -> Result<T, LedgerError>,
    ) -> Result<Result<T, LedgerError>, StoreError> {
        self.want_lots(tx, brand, wanted).await?;
        match command(&mut self.ledger) {
            Err(LedgerError::LotsNotLoaded) => {
                tracing::warn!(%brand, customer = %self.customer, ?wanted,
                    "a ledger command needed more lots than asked for; reading them all");
                self.want_lots(tx, brand, &LotsWanted::all()).await?;
                Ok(command(&mut self.ledger))
            }
            other => Ok(other),
        }
    }

    /// Every entry of the account, the ones appended in this transaction included: read
    /// back only where a rule still needs the history (a points-metric tier window, a
    /// daily cap for a day the state no longer keeps).
    pub async fn history(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        if self.rebuilt {
            return Ok(self.ledger.entries().to_vec());
        }
        let mut entries = tx.ledger().entries(brand, self.customer).await?;
        let stored = u64::try_from(entries.len()).unwrap_or(u64::MAX);
        entries.extend(
            self.ledger
                .entries()
                .iter()
                .filter(|e| e.seq >= stored)
                .cloned(),
        );
        Ok(entries)
    }

    /// The entries a tier programme's qualifying window needs: the account's history
    /// for a points metric; none for a spend metric, which reads the customer's stats.
    pub async fn tier_history(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        program: &TierProgram,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        match program.metric() {
            QualificationMetric::Points => self.history(tx, brand).await,
            QualificationMetric::Spend { .. } => Ok(Vec::new()),
        }
    }

    /// Points earned by orders placed on the brand's local day of `at` (for the per-day
    /// cap). Orders count by the day they were placed, whenever they were recorded, so a
    /// late or back-dated order is capped with the other orders of its own day. Read from
    /// the account state, which keeps the recent days; an order placed before them (a
    /// delivery days late) counts from the entries.
    pub async fn earned_on_day(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        at: OffsetDateTime,
        offset: UtcOffset,
    ) -> Result<Points, StoreError> {
        let Some(day) = local_date(at, offset) else {
            return Ok(Points::ZERO);
        };
        if let Some(earned) = self.ledger.state().account().earned_on_day(day, offset) {
            return Ok(earned);
        }
        let history = self.history(tx, brand).await?;
        let ledger = Ledger::from_entries(history)
            .map_err(|e| StoreError::Corrupt(format!("ledger of {}: {e}", self.customer)))?;
        Ok(ledger.earned_on_day(day, offset))
    }

    /// The time a command issued at `wanted` is recorded at: never before the last entry,
    /// because the ledger refuses entries out of order. An order delivered late, after
    /// entries dated later than it, is recorded at the last entry's time.
    pub fn time_for(&self, wanted: OffsetDateTime) -> OffsetDateTime {
        match self.ledger.state().last_at() {
            Some(last) if last > wanted => last,
            _ => wanted,
        }
    }

    /// The balance after the commands run so far, from the entries.
    pub fn balance(&self) -> Points {
        self.ledger.balance()
    }

    /// Appends `entries` (what ledger commands returned) with the account state they
    /// fold to and the tallies they changed (every tally, when the ledger was built from
    /// the entries), in the caller's transaction; the cached balance moves by their sum.
    pub async fn append(
        &mut self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        entries: &[LedgerEntry],
    ) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let expected = entries
            .iter()
            .try_fold(self.head.balance, |balance, e| {
                balance.checked_add(e.amount)
            })
            .ok_or_else(|| StoreError::Other("cached balance overflow".into()))?;
        let state = self.ledger.state().account();
        if state.balance() != expected {
            // The cache had drifted from the entries: keep it moving by the entries'
            // sum (the storage contract) and let the state be built again next time.
            self.head = tx
                .ledger()
                .append(brand, self.customer, self.head, entries, expected)
                .await?;
            return Ok(());
        }
        let tallies = if self.rebuilt {
            self.ledger.all_tallies()
        } else {
            self.ledger.changed_tallies()
        };
        self.head = tx
            .ledger()
            .append_with_state(brand, self.customer, self.head, entries, state, &tallies)
            .await?;
        self.ledger.lots_saved();
        Ok(())
    }

    /// [`append`](Self::append) made ready for a write together with other rows
    /// (see [`regulars_ports::OrderWrites`]): the append to hand to the store, `None`
    /// when there is nothing to write. An account whose cached balance has drifted from
    /// its entries is appended now, the plain way, and `None` returned as well.
    /// [`appended`](Self::appended) takes the head the write returns.
    pub async fn staged_append(
        &mut self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        entries: &[LedgerEntry],
    ) -> Result<Option<AccountAppend>, StoreError> {
        if entries.is_empty() {
            return Ok(None);
        }
        let expected = entries
            .iter()
            .try_fold(self.head.balance, |balance, e| {
                balance.checked_add(e.amount)
            })
            .ok_or_else(|| StoreError::Other("cached balance overflow".into()))?;
        if self.ledger.state().account().balance() != expected {
            self.append(tx, brand, entries).await?;
            return Ok(None);
        }
        let tallies = if self.rebuilt {
            self.ledger.all_tallies()
        } else {
            self.ledger.changed_tallies()
        };
        Ok(Some(AccountAppend {
            customer: self.customer,
            head: self.head,
            entries: entries.to_vec(),
            state: self.ledger.state().account().clone(),
            tallies,
        }))
    }

    /// Takes the head a write of a [`staged_append`](Self::staged_append) returned.
    pub fn appended(&mut self, head: AccountHead) {
        self.head = head;
        self.ledger.lots_saved();
    }
}

/// A customer's ledger without locking it, for reads.
pub(crate) async fn load_ledger<E>(
    tx: &mut dyn Transaction,
    brand: BrandId,
    customer: CustomerId,
) -> Result<Ledger, E>
where
    E: From<StoreError> + From<CorruptLedger>,
{
    let entries = tx.ledger().entries(brand, customer).await?;
    Ledger::from_entries(entries).map_err(|error| CorruptLedger { customer, error }.into())
}

/// When points credited at `from` expire under the brand's validity, `None` when they
/// never do (or the date would be beyond the calendar, which is the same in practice).
pub(crate) fn points_expiry(brand: &Brand, from: OffsetDateTime) -> Option<OffsetDateTime> {
    let days = brand.points_validity_days?;
    from.checked_add(Duration::days(i64::from(days)))
}
