//! The points ledger port: the append-only entries of each customer's account, the
//! stored account state that summarises them, and the reads served from either.

use crate::{AccountHead, ExpiringLots, LockedAccount, StoreError};
use async_trait::async_trait;
use regulars_domain::{BrandId, CampaignId, CustomerId, Points};
use regulars_loyalty::ledger::{AccountState, LedgerEntry, LotsFound, LotsWanted, Tally};
use time::OffsetDateTime;

/// The append-only points ledger with its cached balances.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LedgerRepo: Send {
    /// Locks the customer's account for the rest of the transaction (creating it empty
    /// if needed) and returns its head: the cached balance and `next_seq`, the number of
    /// entries, which is the sequence number the next appended entry must carry (0 for an
    /// empty account). Concurrent use cases on the same account wait here.
    async fn lock_account(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<AccountHead, StoreError>;
    /// [`lock_account`](LedgerRepo::lock_account), in the same statements, also giving
    /// the stored account state: `None` until one is stored (an account that predates it,
    /// or whose entries were appended without one by [`append`](LedgerRepo::append)); and
    /// the brand's config version, read in the statement that takes the lock. The state
    /// holds the figures without the lots (rows of their own, read with
    /// [`lots`](LedgerRepo::lots)), told in the same statement which is the earliest
    /// expiry, so that an order with nothing due reads no lot.
    async fn lock_account_state(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<LockedAccount, StoreError>;
    /// The stored tallies of the account under `keys` ([`Tally::key`]); keys without a
    /// tally are left out.
    async fn tallies(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        keys: &[String],
    ) -> Result<Vec<Tally>, StoreError>;
    /// The account's open lots `wanted` asks for, as [`LotsWanted::select`] picks them
    /// from the stored lots (the lots are rows of their own beside the stored state).
    async fn lots(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        wanted: &LotsWanted,
    ) -> Result<LotsFound, StoreError>;
    /// [`append`](LedgerRepo::append) that also stores the account state the entries
    /// fold to and writes `tallies` (each replacing the one under its key), in the same
    /// transaction. `state.next_seq()` must be the new head's, otherwise
    /// [`StoreError::Invalid`].
    async fn append_with_state(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        head: AccountHead,
        entries: &[LedgerEntry],
        state: &AccountState,
        tallies: &[Tally],
    ) -> Result<AccountHead, StoreError>;
    /// The stored account state with every stored lot, and every stored tally of the
    /// account, without locking it (for the ledger check); `None` when no state is stored.
    async fn stored_account(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Option<(AccountState, Vec<Tally>)>, StoreError>;
    /// Every entry of the customer's ledger, in sequence order, exactly as appended
    /// (numbered `0, 1, …`).
    async fn entries(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<LedgerEntry>, StoreError>;
    /// A page of the customer's ledger: the entries numbered `from` onwards, in sequence
    /// order, at most `limit` of them (one indexed range, whatever the history's length).
    async fn entries_page(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        from: u64,
        limit: u64,
    ) -> Result<Vec<LedgerEntry>, StoreError>;
    /// The customer's entries recorded at or after `since`, in sequence order (a tier
    /// window; it may hold a few entries from within the microsecond before `since`,
    /// which a caller comparing exact instants leaves out).
    async fn entries_since(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        since: OffsetDateTime,
    ) -> Result<Vec<LedgerEntry>, StoreError>;
    /// What the customer can spend at `at`, from the stored state: the points remaining
    /// in the open lots not due by then (expiring after `at`, or never), as
    /// [`LedgerState::available_at`](regulars_loyalty::ledger::LedgerState::available_at)
    /// gives them. `None` when the account has no stored state (its entries are then the
    /// only answer); an account never locked has no entries and can spend nothing.
    async fn available_points(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        at: OffsetDateTime,
    ) -> Result<Option<Points>, StoreError>;
    /// Each customer's next batch of expiring points after `after`, for a page of
    /// customers in one statement: the stored open lots with points remaining whose
    /// expiry is the earliest after `after` (every lot expiring at that same instant).
    /// Every customer asked for is in the answer, once, in no particular order: with
    /// `None` when the account has no stored state (the caller folds its entries), with
    /// no lot when nothing expires after `after` (or the account was never locked, so has
    /// no entries).
    async fn next_expiring_lots(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
        after: OffsetDateTime,
    ) -> Result<Vec<ExpiringLots>, StoreError>;
    /// Appends entries after `head` and sets the cached balance, in the same transaction;
    /// returns the new head. The entries must be numbered `head.next_seq,
    /// head.next_seq + 1, …` and `new_balance` must be `head.balance` plus their amounts,
    /// otherwise [`StoreError::Invalid`]. Fails with [`StoreError::Conflict`] when the
    /// head moved. Clears the stored account state, which is then built from the entries
    /// on the next [`lock_account_state`](LedgerRepo::lock_account_state).
    async fn append(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        head: AccountHead,
        entries: &[LedgerEntry],
        new_balance: Points,
    ) -> Result<AccountHead, StoreError>;
    /// Cached balances of a brand, a page at a time, ordered by customer id. Lists only
    /// accounts that were locked at least once ([`lock_account`](LedgerRepo::lock_account)
    /// creates the account); a customer never locked has no entry here.
    async fn balances(
        &mut self,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<(CustomerId, Points)>, StoreError>;
    /// What the bonus-points offers of `campaign` credited: how many messages credited
    /// a bonus, and the points in all.
    async fn campaign_bonus(
        &mut self,
        brand: BrandId,
        campaign: CampaignId,
    ) -> Result<(u64, Points), StoreError>;
}
