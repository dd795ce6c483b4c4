//! [`LedgerRepo`]: the append-only points ledger and its cached balances.
//!
//! The `balances` row is the account's head: its balance and its number of entries, which
//! is the sequence number the next entry must carry (entries are numbered from 0, as the
//! ledger numbers them). [`lock_account`](LedgerRepo::lock_account) creates it if needed
//! and locks it; [`append`](LedgerRepo::append) moves it with a conditional `UPDATE …
//! WHERE next_seq = head`, so a writer that built on a stale head gets a conflict instead of forking the
//! ledger, whatever the isolation level.

use super::{account_lots, account_state, config, ledger_reads};
use crate::convert::{from_json, to_i64, to_json, to_micros, to_micros_opt, to_u64};
use crate::entity::{balance, ledger_entry};
use crate::error::{corrupt, in_ctx, unstorable};
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, CustomerId, Points};
use regulars_loyalty::ledger::{
    AccountState, EntryKind, LedgerEntry, LotsFound, LotsWanted, Tally,
};
use regulars_ports::{AccountHead, ExpiringLots, LedgerRepo, LockedAccount, StoreError};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};
use time::OffsetDateTime;

#[async_trait]
impl LedgerRepo for StoreTransaction {
    /// Creates the account's head row if missing and reads it, in one `INSERT … ON
    /// CONFLICT DO UPDATE … RETURNING`. On PostgreSQL the row stays locked until the
    /// transaction ends, and a concurrent transaction on the same account waits here.
    /// On SQLite the store's single connection already runs one transaction at a time.
    /// A customer that does not exist is [`StoreError::NotFound`].
    async fn lock_account(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<AccountHead, StoreError> {
        Ok(self.lock_account_state(brand, customer).await?.head)
    }

    /// [`lock_account`](LedgerRepo::lock_account) takes the lock and reads the whole
    /// head row, the stored state included, and the brand's config version in one
    /// statement (see `config::lock_balance_row`). A stored state that does not parse is
    /// [`StoreError::Corrupt`].
    async fn lock_account_state(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<LockedAccount, StoreError> {
        let row = config::lock_balance_row(self, brand, customer)
            .await?
            .ok_or_else(|| {
                StoreError::NotFound(format!("ledger account of customer {customer}"))
            })?;
        let first_expiry: Option<i64> = row
            .try_get("", "first_expiry")
            .map_err(in_ctx("account_lots.expires_at"))?;
        super::bulk_accounts::locked_account(&row, first_expiry)
    }

    async fn tallies(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        keys: &[String],
    ) -> Result<Vec<Tally>, StoreError> {
        account_state::tallies(self, brand, customer, keys).await
    }

    async fn stored_account(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Option<(AccountState, Vec<Tally>)>, StoreError> {
        let row: Option<Option<String>> = balance::Entity::find()
            .select_only()
            .column(balance::Column::State)
            .filter(balance::Column::BrandId.eq(brand.as_uuid()))
            .filter(balance::Column::CustomerId.eq(customer.as_uuid()))
            .into_tuple()
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from balances"))?;
        let Some(text) = row.flatten() else {
            return Ok(None);
        };
        let mut state = from_json::<AccountState>("balances.state", &text)?;
        let wanted = LotsWanted::all();
        let lots = account_lots::all_lots(self, brand, customer).await?;
        state
            .add_lots(&wanted, wanted.select(lots))
            .map_err(|e| corrupt("account_lots", e))?;
        let tallies = account_state::all_tallies(self, brand, customer).await?;
        Ok(Some((state, tallies)))
    }

    async fn lots(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        wanted: &LotsWanted,
    ) -> Result<LotsFound, StoreError> {
        account_lots::lots(self, brand, customer, wanted).await
    }

    async fn append_with_state(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        head: AccountHead,
        entries: &[LedgerEntry],
        state: &AccountState,
        tallies: &[Tally],
    ) -> Result<AccountHead, StoreError> {
        let new_head = self
            .append_entries(brand, customer, head, entries, state.balance(), Some(state))
            .await?;
        account_state::write_tallies(self, brand, customer, tallies).await?;
        account_lots::write_lots(self, brand, customer, &state.lot_changes()).await?;
        Ok(new_head)
    }

    async fn entries(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        ledger_reads::entries_where(self, brand, customer, |select| select).await
    }

    async fn entries_page(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        from: u64,
        limit: u64,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        ledger_reads::entries_page(self, brand, customer, from, limit).await
    }

    async fn entries_since(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        since: OffsetDateTime,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        ledger_reads::entries_since(self, brand, customer, since).await
    }

    async fn available_points(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        at: OffsetDateTime,
    ) -> Result<Option<Points>, StoreError> {
        ledger_reads::available_points(self, brand, customer, at).await
    }

    async fn next_expiring_lots(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
        after: OffsetDateTime,
    ) -> Result<Vec<ExpiringLots>, StoreError> {
        ledger_reads::next_expiring_lots(self, brand, customers, after).await
    }

    async fn append(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        head: AccountHead,
        entries: &[LedgerEntry],
        new_balance: Points,
    ) -> Result<AccountHead, StoreError> {
        let new_head = self
            .append_entries(brand, customer, head, entries, new_balance, None)
            .await?;
        // The state is cleared, and built again with its lots from the entries.
        account_lots::delete_all(self, brand, customer).await?;
        Ok(new_head)
    }

    async fn balances(
        &mut self,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<(CustomerId, Points)>, StoreError> {
        let mut select = balance::Entity::find()
            .select_only()
            .column(balance::Column::CustomerId)
            .column(balance::Column::Balance)
            .filter(balance::Column::BrandId.eq(brand.as_uuid()));
        if let Some(after) = after {
            select = select.filter(balance::Column::CustomerId.gt(after.as_uuid()));
        }
        let rows: Vec<(uuid::Uuid, i64)> = select
            .order_by_asc(balance::Column::CustomerId)
            .limit(limit)
            .into_tuple()
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from balances"))?;
        Ok(rows
            .into_iter()
            .map(|(id, balance)| (CustomerId::from_uuid(id), Points::new(balance)))
            .collect())
    }

    /// Bonus entries are filed under their campaign in the order columns (see
    /// [`BONUS_SOURCE`]): one indexed range. SUM of a BIGINT is NUMERIC on PostgreSQL:
    /// cast back.
    async fn campaign_bonus(
        &mut self,
        brand: BrandId,
        campaign: regulars_domain::CampaignId,
    ) -> Result<(u64, Points), StoreError> {
        let row: Option<(i64, i64)> = ledger_entry::Entity::find()
            .select_only()
            .column_as(Expr::cust("COUNT(*)"), "n")
            .column_as(
                Expr::cust("CAST(COALESCE(SUM(amount), 0) AS BIGINT)"),
                "total",
            )
            .filter(ledger_entry::Column::BrandId.eq(brand.as_uuid()))
            .filter(ledger_entry::Column::OrderSource.eq(BONUS_SOURCE))
            .filter(ledger_entry::Column::OrderExternalId.eq(campaign.as_uuid().to_string()))
            .filter(ledger_entry::Column::Kind.eq("campaign_bonus"))
            .into_tuple()
            .one(&self.tx)
            .await
            .map_err(in_ctx("sum campaign bonus entries"))?;
        let (n, total) = row.unwrap_or((0, 0));
        Ok((to_u64("bonus entries", n)?, Points::new(total)))
    }
}

impl StoreTransaction {
    /// [`LedgerRepo::append`], storing `state` (or clearing the stored one): checks that the entries continue `head` (sequence numbers `head.next_seq,
    /// head.next_seq + 1, …`) and that `new_balance` is `head.balance` plus their amounts,
    /// then moves the head with one conditional `UPDATE` (zero rows:
    /// [`StoreError::Conflict`]) and inserts the entries. Entries that do not fit the head,
    /// or a balance that does not add up, are a caller's bug and reported as
    /// [`StoreError::Invalid`].
    pub(crate) async fn append_entries(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        head: AccountHead,
        entries: &[LedgerEntry],
        new_balance: Points,
        state: Option<&AccountState>,
    ) -> Result<AccountHead, StoreError> {
        let (next_seq, state_json) = checked_append(head, entries, new_balance, state)?;
        let moved = balance::Entity::update_many()
            .col_expr(balance::Column::Balance, Expr::value(new_balance.value()))
            .col_expr(
                balance::Column::NextSeq,
                Expr::value(to_i64("seq", next_seq)?),
            )
            .col_expr(balance::Column::State, Expr::value(state_json))
            .filter(balance::Column::BrandId.eq(brand.as_uuid()))
            .filter(balance::Column::CustomerId.eq(customer.as_uuid()))
            .filter(balance::Column::NextSeq.eq(to_i64("seq", head.next_seq)?))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update balances"))?;
        if moved.rows_affected == 0 {
            return Err(StoreError::Conflict(format!(
                "ledger of customer {customer} no longer has {} entries (or its account is not \
                 locked)",
                head.next_seq
            )));
        }
        let rows = entries
            .iter()
            .map(|entry| {
                entry_row(brand, customer, entry).map(|row| row.into_active_model().reset_all())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        if !rows.is_empty() {
            ledger_entry::Entity::insert_many(rows)
                .exec_without_returning(&self.tx)
                .await
                .map_err(in_ctx("insert into ledger_entries"))?;
        }
        Ok(AccountHead {
            balance: new_balance,
            next_seq,
        })
    }
}

/// What [`StoreTransaction::append_entries`] checks before it writes: the entries
/// continue `head`, `new_balance` adds up and the state (if any) is at the new head.
/// Returns the new head's `next_seq` and the state to store, as JSON.
pub(crate) fn checked_append(
    head: AccountHead,
    entries: &[LedgerEntry],
    new_balance: Points,
    state: Option<&AccountState>,
) -> Result<(u64, Option<String>), StoreError> {
    let mut next_seq = head.next_seq;
    let mut sum = head.balance;
    for entry in entries {
        if entry.seq != next_seq {
            return Err(unstorable(
                "ledger entries",
                format!("entry seq {} where {next_seq} comes next", entry.seq),
            ));
        }
        next_seq = next_seq
            .checked_add(1)
            .ok_or_else(|| unstorable("ledger entries", "sequence number overflow"))?;
        sum = sum
            .checked_add(entry.amount)
            .ok_or_else(|| unstorable("ledger entries", "balance overflow"))?;
    }
    if let Some(state) = state
        && state.next_seq() != next_seq
    {
        return Err(unstorable(
            "account state",
            format!(
                "the state is at entry {} where the head is at {next_seq}",
                state.next_seq()
            ),
        ));
    }
    // The figures alone: the lots are rows of their own.
    let state_json = state
        .map(|s| to_json("account state", &s.without_lots()))
        .transpose()?;
    if sum != new_balance {
        return Err(unstorable(
            "ledger entries",
            format!("the new balance {new_balance} is not the head's plus the entries' ({sum})"),
        ));
    }
    Ok((next_seq, state_json))
}

/// The `order_source` of campaign bonus entries, whose `order_external_id` is the
/// campaign id.
pub(crate) const BONUS_SOURCE: &str = "campaign";

pub(super) fn entry_row(
    brand: BrandId,
    customer: CustomerId,
    entry: &LedgerEntry,
) -> Result<ledger_entry::Model, StoreError> {
    let (order, expires_at) = match &entry.kind {
        EntryKind::Earn {
            order, expires_at, ..
        } => (
            Some((order.source.clone(), order.external_id.clone())),
            *expires_at,
        ),
        EntryKind::Reverse { order, .. } => (
            Some((order.source.clone(), order.external_id.clone())),
            None,
        ),
        // A campaign's bonus is filed under its campaign in the (indexed) reference
        // columns, so the campaign's report finds what it credited without a scan.
        EntryKind::CampaignBonus {
            campaign,
            expires_at,
            ..
        } => (
            Some((BONUS_SOURCE.to_owned(), campaign.as_uuid().to_string())),
            *expires_at,
        ),
        EntryKind::Adjust { expires_at, .. } | EntryKind::Restore { expires_at, .. } => {
            (None, *expires_at)
        }
        EntryKind::Redeem { .. } | EntryKind::Expire { .. } => (None, None),
    };
    let (order_source, order_external_id) = order.unzip();
    Ok(ledger_entry::Model {
        brand_id: brand.as_uuid(),
        customer_id: customer.as_uuid(),
        seq: to_i64("seq", entry.seq)?,
        at: to_micros(entry.at),
        amount: entry.amount.value(),
        kind: entry.kind.name().to_owned(),
        order_source,
        order_external_id,
        expires_at: to_micros_opt(expires_at),
        entry: to_json("ledger entry", entry)?,
    })
}
