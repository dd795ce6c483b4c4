//! The per-order and per-redemption tallies kept next to each account's stored state
//! (`account_tallies`), read by key and written with the entries that change them.

use crate::convert::{from_json, to_json};
use crate::entity::account_tally;
use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, CustomerId};
use regulars_loyalty::ledger::Tally;
use regulars_ports::StoreError;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
};

/// Rows per insert: well under SQLite's limit of bound variables.
const CHUNK: usize = 500;

/// The account's tallies under `keys`, by primary key.
pub(super) async fn tallies(
    tx: &mut StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
    keys: &[String],
) -> Result<Vec<Tally>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<String> = account_tally::Entity::find()
        .select_only()
        .column(account_tally::Column::Tally)
        .filter(account_tally::Column::BrandId.eq(brand.as_uuid()))
        .filter(account_tally::Column::CustomerId.eq(customer.as_uuid()))
        .filter(account_tally::Column::TallyKey.is_in(keys.iter().cloned()))
        .into_tuple()
        .all(&tx.tx)
        .await
        .map_err(in_ctx("select from account_tallies"))?;
    rows.iter()
        .map(|text| from_json("account_tallies.tally", text))
        .collect()
}

/// Every tally of the account.
pub(super) async fn all_tallies(
    tx: &mut StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
) -> Result<Vec<Tally>, StoreError> {
    let rows: Vec<String> = account_tally::Entity::find()
        .select_only()
        .column(account_tally::Column::Tally)
        .filter(account_tally::Column::BrandId.eq(brand.as_uuid()))
        .filter(account_tally::Column::CustomerId.eq(customer.as_uuid()))
        .into_tuple()
        .all(&tx.tx)
        .await
        .map_err(in_ctx("select from account_tallies"))?;
    rows.iter()
        .map(|text| from_json("account_tallies.tally", text))
        .collect()
}

/// The row of one tally.
pub(super) fn tally_row(
    brand: BrandId,
    customer: CustomerId,
    tally: &Tally,
) -> Result<account_tally::ActiveModel, StoreError> {
    Ok(account_tally::Model {
        brand_id: brand.as_uuid(),
        customer_id: customer.as_uuid(),
        tally_key: tally.key(),
        tally: to_json("tally", tally)?,
    }
    .into_active_model()
    .reset_all())
}

/// A tally row replaces the one stored under its key.
/// The key of `account_tallies`.
pub(super) const TALLY_KEY: [account_tally::Column; 3] = [
    account_tally::Column::BrandId,
    account_tally::Column::CustomerId,
    account_tally::Column::TallyKey,
];

/// Writes `tallies`, each replacing the one stored under its key.
pub(super) async fn write_tallies(
    tx: &mut StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
    tallies: &[Tally],
) -> Result<(), StoreError> {
    for chunk in tallies.chunks(CHUNK) {
        let rows = chunk
            .iter()
            .map(|tally| {
                Ok(account_tally::Model {
                    brand_id: brand.as_uuid(),
                    customer_id: customer.as_uuid(),
                    tally_key: tally.key(),
                    tally: to_json("tally", tally)?,
                }
                .into_active_model()
                .reset_all())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        account_tally::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns(TALLY_KEY)
                    .update_column(account_tally::Column::Tally)
                    .to_owned(),
            )
            .exec_without_returning(&tx.tx)
            .await
            .map_err(in_ctx("upsert into account_tallies"))?;
    }
    Ok(())
}
