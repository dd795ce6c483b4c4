//! [`BulkRepo`]: an import's reads for a whole chunk of orders, and its write as a few
//! multi-row statements per table instead of a dozen statements per order. The rows are
//! built by the same functions as the one-by-one writes (the sealing of contact data
//! included), so a row written here is the row those would have written. On PostgreSQL
//! an import's transaction plans each statement for its values
//! (`StoreTransaction::plan_for_values`): plans kept from when the tables were small
//! would scan them whole for every chunk as they grow.

use super::account_state::{TALLY_KEY, tally_row};
use super::bulk_accounts;
use super::bulk_rows::Rows;
use super::claims::open_row;
use super::customers::{
    STATS_KEY, STATS_UPDATED, customer_from_row, customer_to_row, stats_from_row, stats_to_row,
};
use super::idempotency::{record_from_row, record_row};
use super::ledger::entry_row;
use super::orders::order_rows;
use crate::convert::{to_i64, to_json};
use crate::entity::{balance, customer, customer_stats, idempotency};
use crate::error::{in_ctx, unstorable};
use crate::repo::order_chain::{import_links, relink};
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, Customer, CustomerId, EventKey, Phone};
use regulars_loyalty::ledger::LotsFound;
use regulars_ports::{
    AccountWrite, BulkRepo, CustomerStats, IdempotentRecord, ImportWrite, LockedAccount, StoreError,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, EntityTrait, IdenStatic, IntoActiveModel,
    QueryFilter,
};
use std::collections::BTreeMap;

/// Values per `IN (…)` list.
const KEYS: usize = 1000;

/// Customers relinked in one statement after an import's orders are written (those
/// whose imported orders came before their stored ones).
const RELINK_CHUNK: usize = 1_000;

#[async_trait]
impl BulkRepo for StoreTransaction {
    async fn seen_many(
        &mut self,
        brand: BrandId,
        keys: &[EventKey],
    ) -> Result<Vec<(EventKey, IdempotentRecord)>, StoreError> {
        self.plan_for_values().await?;
        let mut by_source: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for key in keys {
            by_source
                .entry(key.source.as_str())
                .or_default()
                .push(key.external_id.as_str());
        }
        let mut found = Vec::new();
        for (source, ids) in by_source {
            for chunk in ids.chunks(KEYS) {
                let rows = idempotency::Entity::find()
                    .filter(idempotency::Column::BrandId.eq(brand.as_uuid()))
                    .filter(idempotency::Column::Source.eq(source))
                    .filter(idempotency::Column::ExternalId.is_in(chunk.iter().copied()))
                    .all(&self.tx)
                    .await
                    .map_err(in_ctx("select from idempotency"))?;
                for row in rows {
                    found.push(record_from_row(self.keys(), row)?);
                }
            }
        }
        Ok(found)
    }

    /// By blind index first (under every key), then the plain phone for the phones the
    /// index did not find, as the one-phone look-up does.
    async fn customers_by_phones(
        &mut self,
        brand: BrandId,
        phones: &[Phone],
    ) -> Result<Vec<Customer>, StoreError> {
        self.plan_for_values().await?;
        let mut found: BTreeMap<String, Customer> = BTreeMap::new();
        if let Some(keys) = self.keys() {
            let indexes: Vec<String> = phones
                .iter()
                .flat_map(|phone| keys.phone_indexes(brand.as_uuid(), phone.as_str()))
                .collect();
            for chunk in indexes.chunks(KEYS) {
                let rows = customer::Entity::find()
                    .filter(customer::Column::BrandId.eq(brand.as_uuid()))
                    .filter(customer::Column::ErasedAt.is_null())
                    .filter(customer::Column::PhoneIndex.is_in(chunk.iter().cloned()))
                    .all(&self.tx)
                    .await
                    .map_err(in_ctx("select from customers"))?;
                for row in rows {
                    let customer = customer_from_row(self.keys(), row)?;
                    found.insert(customer.phone.as_str().to_owned(), customer);
                }
            }
        }
        let rest: Vec<&str> = phones
            .iter()
            .map(Phone::as_str)
            .filter(|phone| !found.contains_key(*phone))
            .collect();
        for chunk in rest.chunks(KEYS) {
            let rows = customer::Entity::find()
                .filter(customer::Column::BrandId.eq(brand.as_uuid()))
                .filter(customer::Column::ErasedAt.is_null())
                .filter(customer::Column::Phone.is_in(chunk.iter().copied()))
                .all(&self.tx)
                .await
                .map_err(in_ctx("select from customers"))?;
            for row in rows {
                let customer = customer_from_row(self.keys(), row)?;
                found.insert(customer.phone.as_str().to_owned(), customer);
            }
        }
        Ok(found.into_values().collect())
    }

    async fn lock_accounts(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
    ) -> Result<Vec<(CustomerId, LockedAccount)>, StoreError> {
        self.plan_for_values().await?;
        bulk_accounts::lock_accounts(self, brand, customers).await
    }

    async fn all_lots_of(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
    ) -> Result<Vec<(CustomerId, LotsFound)>, StoreError> {
        self.plan_for_values().await?;
        bulk_accounts::all_lots_of(self, brand, customers).await
    }

    async fn stats_of(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
    ) -> Result<Vec<CustomerStats>, StoreError> {
        self.plan_for_values().await?;
        let mut found = Vec::new();
        for chunk in customers.chunks(KEYS) {
            let rows = customer_stats::Entity::find()
                .filter(customer_stats::Column::BrandId.eq(brand.as_uuid()))
                .filter(customer_stats::Column::CustomerId.is_in(chunk.iter().map(|c| c.as_uuid())))
                .all(&self.tx)
                .await
                .map_err(in_ctx("select from customer_stats"))?;
            for row in rows {
                found.push(stats_from_row(row)?);
            }
        }
        Ok(found)
    }

    async fn write_import(
        &mut self,
        brand: BrandId,
        write: &ImportWrite,
    ) -> Result<(), StoreError> {
        self.plan_for_values().await?;
        let customers = write
            .customers
            .iter()
            .map(|c| {
                Ok(customer_to_row(self.keys(), c)?
                    .into_active_model()
                    .reset_all())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Rows::of_models(customers)?
            .insert(self, "insert into customers (brand_id, phone unique)")
            .await?;

        let links = import_links(&write.orders, &write.counted_before);
        let mut orders = Vec::with_capacity(write.orders.len());
        let mut lines = Vec::new();
        for stored in &write.orders {
            let (mut row, order_lines) = order_rows(self.keys(), stored)?;
            if let Some(link) = links.known.get(&stored.id) {
                row.prev_counted_at = ActiveValue::Set(*link);
            }
            orders.push(row);
            lines.extend(order_lines);
        }
        Rows::of_models(orders)?
            .insert(
                self,
                "insert into orders (brand_id, source, external_id unique)",
            )
            .await?;
        Rows::of_models(lines)?
            .insert(self, "insert into order_lines")
            .await?;
        // The chains of the customers whose orders came before their stored ones.
        for chunk in links.relink.chunks(RELINK_CHUNK) {
            relink(self, brand, chunk, None).await?;
        }
        let claims = write
            .claims
            .iter()
            .map(|c| Ok(open_row(brand, c)?.into_active_model().reset_all()))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Rows::of_models(claims)?
            .insert(self, "insert into order_claims (brand_id, code unique)")
            .await?;

        self.write_accounts(brand, &write.accounts).await?;

        let stats = write
            .stats
            .iter()
            .map(|s| Ok(stats_to_row(brand, s)?.into_active_model().reset_all()))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Rows::of_models(stats)?
            .upsert(
                &STATS_KEY.map(|c| c.as_str()),
                &STATS_UPDATED.map(|c| c.as_str()),
            )
            .insert(self, "upsert into customer_stats")
            .await?;

        let records = write
            .records
            .iter()
            .map(|(key, record)| {
                Ok(record_row(self.keys(), brand, key, record)?
                    .into_active_model()
                    .reset_all())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Rows::of_models(records)?
            .insert(
                self,
                "insert into idempotency (brand_id, source, external_id)",
            )
            .await?;
        Ok(())
    }
}

impl StoreTransaction {
    /// New accounts: their head rows inserted. Accounts locked before: their heads moved
    /// by one conditional `UPDATE` per thousand. Then the lots every fold opened, changed
    /// and closed, the entries and the tallies, each a few multi-row statements.
    async fn write_accounts(
        &mut self,
        brand: BrandId,
        accounts: &[AccountWrite],
    ) -> Result<(), StoreError> {
        let mut heads = Vec::new();
        let mut moved = Vec::new();
        let mut lots = Vec::with_capacity(accounts.len());
        let mut entries = Vec::new();
        let mut tallies = Vec::new();
        for account in accounts {
            for tally in &account.tallies {
                tallies.push(tally_row(brand, account.customer, tally)?);
            }
            match account.head {
                Some(head) => moved.push((account, head)),
                None => heads.push(new_head(brand, account)?),
            }
            lots.push((account.customer, account.state.lot_changes()));
            for entry in &account.entries {
                entries.push(
                    entry_row(brand, account.customer, entry)?
                        .into_active_model()
                        .reset_all(),
                );
            }
        }
        Rows::of_models(heads)?
            .insert(self, "insert into balances")
            .await?;
        bulk_accounts::move_heads(self, brand, &moved).await?;
        bulk_accounts::write_lot_changes(self, brand, &lots).await?;
        Rows::of_models(entries)?
            .insert(self, "insert into ledger_entries")
            .await?;
        Rows::of_models(tallies)?
            .upsert(
                &TALLY_KEY.map(|c| c.as_str()),
                &[crate::entity::account_tally::Column::Tally.as_str()],
            )
            .insert(self, "upsert into account_tallies")
            .await?;
        Ok(())
    }
}

/// The head row of an account created with its first entries, after checking that they
/// are numbered from 0 and add up to the state's balance (a caller's bug otherwise).
fn new_head(brand: BrandId, account: &AccountWrite) -> Result<balance::ActiveModel, StoreError> {
    let mut sum = regulars_domain::Points::ZERO;
    for (entry, seq) in account.entries.iter().zip(0u64..) {
        if entry.seq != seq {
            return Err(unstorable(
                "ledger entries",
                format!("entry seq {} where {seq} comes next", entry.seq),
            ));
        }
        sum = sum
            .checked_add(entry.amount)
            .ok_or_else(|| unstorable("ledger entries", "balance overflow"))?;
    }
    let next_seq = u64::try_from(account.entries.len()).unwrap_or(u64::MAX);
    if sum != account.state.balance() || account.state.next_seq() != next_seq {
        return Err(unstorable(
            "account state",
            format!(
                "the state (balance {}, entry {}) is not what the entries add up to ({sum}, {next_seq})",
                account.state.balance(),
                account.state.next_seq()
            ),
        ));
    }
    Ok(balance::Model {
        brand_id: brand.as_uuid(),
        customer_id: account.customer.as_uuid(),
        balance: sum.value(),
        next_seq: to_i64("seq", next_seq)?,
        // The figures alone: the lots are rows of their own.
        state: Some(to_json("account state", &account.state.without_lots())?),
    }
    .into_active_model()
    .reset_all())
}
