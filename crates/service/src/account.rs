//! Steps shared by the use cases: loading a brand, opening a customer's points account
//! under its lock, and writing the entries a ledger command produced.

use crate::error::{CorruptLedger, UnknownBrand};
use regulars_domain::{BrandId, CustomerId, Points};
use regulars_loyalty::ledger::{Ledger, LedgerEntry};
use regulars_ports::{AccountHead, Brand, StoreError, Transaction};
use time::{Duration, OffsetDateTime};

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
pub(crate) struct Account {
    pub customer: CustomerId,
    pub head: AccountHead,
    pub ledger: Ledger,
}

impl Account {
    /// Locks the account (concurrent use cases on it wait) and loads its ledger.
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
        let head = tx.ledger().lock_account(brand, customer).await?;
        let ledger = load_ledger::<E>(tx, brand, customer).await?;
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
        })
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

    /// Appends `entries` (what ledger commands returned); the cached balance moves by
    /// their sum.
    pub async fn append(
        &mut self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        entries: &[LedgerEntry],
    ) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let new_balance = entries
            .iter()
            .try_fold(self.head.balance, |balance, e| {
                balance.checked_add(e.amount)
            })
            .ok_or_else(|| StoreError::Other("cached balance overflow".into()))?;
        self.head = tx
            .ledger()
            .append(brand, self.customer, self.head, entries, new_balance)
            .await?;
        Ok(())
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
