//! `balances.referral_pending`: the mark on a friend's account that a referral waits for
//! their first order. It is set in the transaction that records the referred sign-up and
//! cleared in the one that decides the referral, and the order path reads it in the
//! statement that locks the account, so an order of a customer without a pending
//! referral (nearly every order) never looks for one.
//!
//! Setting it goes through the account's head row, creating it if missing: on
//! PostgreSQL that row is the account lock, so an order that locks the account after a
//! sign-up commits sees the mark, and one that locked it before holds the sign-up back
//! until it commits. The referral row stays the judge of exactly-once (its conditional
//! `UPDATE … WHERE status = 'pending'`); the mark only says whether to ask it.

use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, CustomerId};
use regulars_ports::StoreError;
use sea_orm::{ConnectionTrait, Statement, Value};

/// Sets or clears the mark on the customer's account (its head row created if missing).
pub(super) async fn mark_referral_pending(
    tx: &StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
    pending: bool,
) -> Result<(), StoreError> {
    let sql = if tx.is_postgres() {
        "INSERT INTO balances (brand_id, customer_id, balance, next_seq, state, referral_pending) \
         VALUES ($1, $2, 0, 0, NULL, $3) \
         ON CONFLICT (brand_id, customer_id) \
         DO UPDATE SET referral_pending = excluded.referral_pending"
    } else {
        "INSERT INTO balances (brand_id, customer_id, balance, next_seq, state, referral_pending) \
         VALUES (?, ?, 0, 0, NULL, ?) \
         ON CONFLICT (brand_id, customer_id) \
         DO UPDATE SET referral_pending = excluded.referral_pending"
    };
    let statement = Statement::from_sql_and_values(
        tx.tx.get_database_backend(),
        sql,
        [
            Value::from(brand.as_uuid()),
            Value::from(customer.as_uuid()),
            Value::from(pending),
        ],
    );
    tx.tx
        .execute_raw(statement)
        .await
        .map_err(in_ctx("upsert into balances (referral_pending)"))?;
    Ok(())
}
