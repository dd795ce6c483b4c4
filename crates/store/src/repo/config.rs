//! The brand's config version: read with the brand and its programme (so a copy kept in
//! memory knows what it is a copy of), and read again in the statement that locks a
//! customer's account (so the copy is checked against what is committed before a rule
//! is applied, without a statement of its own).

use super::brands::{brand_from_row, program_from_columns};
use crate::entity::brand;
use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, CustomerId};
use regulars_ports::{BrandConfig, StoreError};
use sea_orm::{ConnectionTrait, FromQueryResult, QueryResult, Statement, Value};

/// A placeholder: `$n` on PostgreSQL, `?` (values in order) on SQLite.
fn placeholder(tx: &StoreTransaction, n: usize) -> String {
    if tx.is_postgres() {
        format!("${n}")
    } else {
        "?".to_owned()
    }
}

/// The brand, its programme and its config version in one statement (one snapshot).
pub(super) async fn brand_config(
    tx: &StoreTransaction,
    brand: BrandId,
) -> Result<Option<BrandConfig>, StoreError> {
    let sql = format!(
        "SELECT b.*, p.earning_rules AS program_earning_rules, p.tiers AS program_tiers \
         FROM brands b LEFT JOIN programs p ON p.brand_id = b.id WHERE b.id = {}",
        placeholder(tx, 1)
    );
    let statement = Statement::from_sql_and_values(
        tx.tx.get_database_backend(),
        sql,
        [Value::from(brand.as_uuid())],
    );
    let Some(row) = tx
        .tx
        .query_one_raw(statement)
        .await
        .map_err(in_ctx("select from brands and programs"))?
    else {
        return Ok(None);
    };
    let model = brand::Model::from_query_result(&row, "").map_err(in_ctx("read brands row"))?;
    let version = model.config_version;
    let rules: Option<String> = row
        .try_get("", "program_earning_rules")
        .map_err(in_ctx("read programs row"))?;
    let tiers: Option<String> = row
        .try_get("", "program_tiers")
        .map_err(in_ctx("read programs row"))?;
    let program = rules
        .map(|rules| program_from_columns(&rules, tiers.as_deref()))
        .transpose()?;
    // Read in the same transaction after the version: a change to the cards moves the
    // version in its own transaction, so the pair is never older than the version.
    let stamp_cards = super::stamps::cards_of(tx, brand).await?;
    Ok(Some(BrandConfig {
        version: Some(version),
        brand: brand_from_row(model)?,
        program,
        stamp_cards,
    }))
}

/// Creates the account's head row if missing and locks it, in one statement
/// (`INSERT … ON CONFLICT DO UPDATE … RETURNING`: on PostgreSQL the conflicting row is
/// locked, as `SELECT … FOR UPDATE` would, and a concurrent transaction on the account
/// waits here), returning the row with the brand's config version read in the same
/// statement. The update writes back the value it read, so the row is unchanged.
pub(super) async fn lock_balance_row(
    tx: &StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
) -> Result<Option<QueryResult>, StoreError> {
    let p = |n| placeholder(tx, n);
    let sql = format!(
        "INSERT INTO balances (brand_id, customer_id, balance, next_seq, state) \
         VALUES ({}, {}, 0, 0, NULL) \
         ON CONFLICT (brand_id, customer_id) DO UPDATE SET next_seq = balances.next_seq \
         RETURNING balance, next_seq, state, referral_pending, \
         (SELECT config_version FROM brands WHERE id = {}) AS config_version, \
         (SELECT MIN(expires_at) FROM account_lots WHERE brand_id = {} AND customer_id = {}) \
         AS first_expiry",
        p(1),
        p(2),
        p(3),
        p(4),
        p(5)
    );
    let statement = Statement::from_sql_and_values(
        tx.tx.get_database_backend(),
        sql,
        [
            Value::from(brand.as_uuid()),
            Value::from(customer.as_uuid()),
            Value::from(brand.as_uuid()),
            Value::from(brand.as_uuid()),
            Value::from(customer.as_uuid()),
        ],
    );
    tx.tx
        .query_one_raw(statement)
        .await
        .map_err(in_ctx("upsert into balances returning"))
}
