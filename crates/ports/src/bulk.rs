//! Order history written set-wise: what an import reads for a whole chunk of orders in
//! a few statements, and the one write that stores what the rules decided for it.

use crate::{
    CountedTimes, CustomerStats, IdempotentRecord, LockedAccount, StoreError, StoredOrder,
};
use async_trait::async_trait;
use regulars_domain::{BrandId, Customer, CustomerId, EventKey, Phone};
use regulars_loyalty::ledger::{AccountState, LedgerEntry, LotsFound, Tally};

/// What a customer's account becomes after a chunk of imported orders.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountWrite {
    /// The customer.
    pub customer: CustomerId,
    /// The locked head the entries continue; `None` for an account created by this
    /// write (its entries start at sequence number 0 from a zero balance).
    pub head: Option<crate::AccountHead>,
    /// The new entries, in order.
    pub entries: Vec<LedgerEntry>,
    /// The state they fold to (its balance is the new cached balance).
    pub state: AccountState,
    /// The tallies to store, each replacing the one under its key.
    pub tallies: Vec<Tally>,
}

/// Everything one chunk of imported orders writes, in one transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportWrite {
    /// Customers first seen in the chunk.
    pub customers: Vec<Customer>,
    /// The orders.
    pub orders: Vec<StoredOrder>,
    /// The accounts the orders credited.
    pub accounts: Vec<AccountWrite>,
    /// The customers' visit statistics after the chunk (inserted or replaced).
    pub stats: Vec<CustomerStats>,
    /// The idempotency record of every order.
    pub records: Vec<(EventKey, IdempotentRecord)>,
    /// The orders without a customer, each open to a claim (after `orders`).
    pub claims: Vec<crate::ClaimableOrder>,
    /// The customers' counted order times as the chunk found them (before its orders).
    /// A customer here whose orders in the chunk all come after the latest of them has
    /// their orders linked to each other as they are written; the others (missing here,
    /// or with an order at or before that time) have their stored orders linked again
    /// after the write. Either way the links are those of every stored order in time
    /// order.
    pub counted_before: Vec<(CustomerId, CountedTimes)>,
}

/// Set-wise reads and the write of an import.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BulkRepo: Send {
    /// The records already remembered under any of `keys` (with their key).
    async fn seen_many(
        &mut self,
        brand: BrandId,
        keys: &[EventKey],
    ) -> Result<Vec<(EventKey, IdempotentRecord)>, StoreError>;

    /// The brand's customers with any of these phones, found the way
    /// `CustomerRepo::customer_by_phone` finds one.
    async fn customers_by_phones(
        &mut self,
        brand: BrandId,
        phones: &[Phone],
    ) -> Result<Vec<Customer>, StoreError>;

    /// Locks the accounts of existing customers (creating missing head rows), as
    /// `LedgerRepo::lock_account_state` does for one.
    async fn lock_accounts(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
    ) -> Result<Vec<(CustomerId, LockedAccount)>, StoreError>;

    /// Every open lot of each of these accounts, as `LedgerRepo::lots` finds them for
    /// `LotsWanted::all()`; every customer asked for is in the answer.
    async fn all_lots_of(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
    ) -> Result<Vec<(CustomerId, LotsFound)>, StoreError>;

    /// The stored statistics of these customers (those that have any).
    async fn stats_of(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
    ) -> Result<Vec<CustomerStats>, StoreError>;

    /// Writes the chunk. An account whose head moved since it was locked is a
    /// [`StoreError::Conflict`]; a key already remembered or a phone already taken is
    /// the same error the one-by-one writes give.
    async fn write_import(&mut self, brand: BrandId, write: &ImportWrite)
    -> Result<(), StoreError>;
}
