//! Sealing stored contact data in place: plain rows written before sealing (at start-up)
//! and rows sealed under a previous key (`regulars secrets rotate`), in batches of one
//! transaction each, so look-ups keep working throughout.
//!
//! Each batch selects rows with a value not yet in the wanted form, opens each value
//! with whichever key sealed it, seals it again under the current key (re-computing the
//! phone's blind index) and writes it back only if the row still holds what was read:
//! a row changed meanwhile is left to the next batch.
//!
//! Like the outbox claim, the sweep is an operator job over every brand's rows; each
//! write names its row by brand and primary key.

use crate::Store;
use crate::contact::{ContactKeys, open, open_opt, seal, seal_opt};
use crate::entity::{
    channel_account, customer, idempotency, oauth_token, order, outbox, pos_customer,
    pos_waiting_order,
};
use crate::error::in_ctx;
use crate::repo::{
    channel_accounts, customers, idempotency as idem, orders, outbox as out, pos_customers, tokens,
};
use regulars_domain::EventKey;
use regulars_ports::StoreError;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use serde::Serialize;

/// What sealing did: rows re-written, per table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SealReport {
    /// `(table, rows sealed)` for every table holding contact data.
    pub tables: Vec<(&'static str, u64)>,
}

impl SealReport {
    /// Rows sealed in all tables.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

/// Which rows a sweep re-writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealScope {
    /// Only values stored plain (the upgrade to sealed storage; cheap once done).
    Plain,
    /// Every value not sealed under the current key (a key rotation).
    NotCurrent,
}

/// Rows a batch reads.
const BATCH: u64 = 500;

/// Every table holding contact data (and `oauth_tokens` and `channel_accounts`, secrets
/// sealed the same way), in the order they are swept.
const TABLES: [&str; 8] = [
    "customers",
    "orders",
    "outbox",
    "pos_customers",
    "pos_waiting_orders",
    "idempotency",
    "oauth_tokens",
    "channel_accounts",
];

impl Store {
    /// Seals contact data in place under the store's current contact key: the values of
    /// `scope`, in every table that holds a phone, email or Zalo id, a batch per
    /// transaction. Running it again finds nothing to do.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] when the store has no contact keys;
    /// [`StoreError::Corrupt`] when a value is sealed under a key the store was not given
    /// (the rows before it stay sealed as they were, the ones done stay done).
    pub async fn seal_contacts(&self, scope: SealScope) -> Result<SealReport, StoreError> {
        let keys = self.contact_keys().ok_or_else(|| {
            StoreError::Invalid("no key to seal contact data under: set the server key".into())
        })?;
        let prefix = match scope {
            SealScope::Plain => "c1:".to_owned(),
            SealScope::NotCurrent => keys.current_prefix(),
        };
        let mut report = SealReport::default();
        for table in TABLES {
            let mut sealed = 0;
            loop {
                let tx = self.begin_raw().await?;
                let (seen, written) = match table {
                    "customers" => customers_batch(&tx, keys, &prefix).await?,
                    "orders" => orders_batch(&tx, keys, &prefix).await?,
                    "outbox" => outbox_batch(&tx, keys, &prefix).await?,
                    "pos_customers" => links_batch(&tx, keys, &prefix).await?,
                    "pos_waiting_orders" => waiting_batch(&tx, keys, &prefix).await?,
                    "oauth_tokens" => tokens_batch(&tx, keys, &prefix).await?,
                    "channel_accounts" => accounts_batch(&tx, keys, &prefix).await?,
                    _ => results_batch(&tx, keys, &prefix).await?,
                };
                tx.commit()
                    .await
                    .map_err(in_ctx("commit sealed contact data"))?;
                sealed += written;
                if seen < BATCH {
                    break;
                }
            }
            report.tables.push((table, sealed));
        }
        Ok(report)
    }
}

impl Store {
    /// Seals the contact data still stored plain, unless the deployment is known to have
    /// none: a sweep that finds nothing plain left marks it so (in `contact_sealing`),
    /// and every store opened without contact keys clears the mark before its first
    /// transaction. `None` when the mark spared the sweep. The mark is only set if no
    /// keyless store opened while the sweep ran.
    ///
    /// # Errors
    ///
    /// As [`Store::seal_contacts`].
    pub async fn seal_plain_contacts(&self) -> Result<Option<SealReport>, StoreError> {
        const MARK: &str =
            "SELECT sealed, plain_opens FROM contact_sealing WHERE scope = 'contacts'";
        let mark = self
            .db
            .query_one_raw(Statement::from_string(self.db.get_database_backend(), MARK))
            .await
            .map_err(in_ctx("select from contact_sealing"))?;
        let opens = match mark {
            Some(row) => {
                let sealed: bool = row
                    .try_get("", "sealed")
                    .map_err(in_ctx("contact_sealing.sealed"))?;
                if sealed {
                    return Ok(None);
                }
                Some(
                    row.try_get::<i64>("", "plain_opens")
                        .map_err(in_ctx("contact_sealing.plain_opens"))?,
                )
            }
            None => None,
        };
        let report = self.seal_contacts(SealScope::Plain).await?;
        if let Some(opens) = opens {
            self.db
                .execute_unprepared(&format!(
                    "UPDATE contact_sealing SET sealed = TRUE \
                     WHERE scope = 'contacts' AND plain_opens = {opens}"
                ))
                .await
                .map_err(in_ctx("update contact_sealing (sealed)"))?;
        }
        Ok(Some(report))
    }
}

/// The column holds a value, not in the wanted form.
fn stale(column: impl ColumnTrait, prefix: &str) -> Condition {
    Condition::all()
        .add(column.is_not_null())
        .add(column.not_like(format!("{prefix}%")))
}

/// The column still holds `value` (for a write conditional on what was read).
fn holds(column: impl ColumnTrait, value: Option<&str>) -> SimpleExpr {
    match value {
        Some(value) => column.eq(value),
        None => column.is_null(),
    }
}

async fn customers_batch(
    tx: &DatabaseTransaction,
    keys: &ContactKeys,
    prefix: &str,
) -> Result<(u64, u64), StoreError> {
    use customer::Column as C;
    let rows = customer::Entity::find()
        .filter(
            Condition::any()
                .add(stale(C::Phone, prefix))
                .add(stale(C::Email, prefix))
                .add(stale(C::ZaloUserId, prefix))
                // Sealed before Zalo ids had a blind index.
                .add(
                    Condition::all()
                        .add(C::ZaloUserId.is_not_null())
                        .add(C::ZaloIndex.is_null()),
                ),
        )
        .order_by_asc(C::BrandId)
        .order_by_asc(C::Id)
        .limit(BATCH)
        .all(tx)
        .await
        .map_err(in_ctx("select from customers (seal)"))?;
    let mut written = 0;
    for row in &rows {
        let [phone, email, zalo] = customers::places(row.brand_id, &row.id);
        let plain_phone = open(Some(keys), &phone, &row.phone)?;
        let plain_email = open_opt(Some(keys), &email, row.email.as_deref())?;
        let plain_zalo = open_opt(Some(keys), &zalo, row.zalo_user_id.as_deref())?;
        let done = customer::Entity::update_many()
            .col_expr(
                C::Phone,
                Expr::value(seal(Some(keys), &phone, &plain_phone)),
            )
            .col_expr(
                C::PhoneIndex,
                Expr::value(keys.phone_index(row.brand_id, &plain_phone)),
            )
            .col_expr(
                C::Email,
                Expr::value(seal_opt(Some(keys), &email, plain_email.as_deref())),
            )
            .col_expr(
                C::ZaloUserId,
                Expr::value(seal_opt(Some(keys), &zalo, plain_zalo.as_deref())),
            )
            .col_expr(
                C::ZaloIndex,
                Expr::value(
                    plain_zalo
                        .as_deref()
                        .map(|id| keys.zalo_index(row.brand_id, id)),
                ),
            )
            .filter(C::BrandId.eq(row.brand_id))
            .filter(C::Id.eq(row.id))
            .filter(holds(C::Phone, Some(&row.phone)))
            .filter(holds(C::Email, row.email.as_deref()))
            .filter(holds(C::ZaloUserId, row.zalo_user_id.as_deref()))
            .exec(tx)
            .await
            .map_err(in_ctx("update customers (seal)"))?;
        written += done.rows_affected;
    }
    Ok((rows.len() as u64, written))
}

async fn orders_batch(
    tx: &DatabaseTransaction,
    keys: &ContactKeys,
    prefix: &str,
) -> Result<(u64, u64), StoreError> {
    use order::Column as C;
    let rows = order::Entity::find()
        .filter(stale(C::CustomerPhone, prefix))
        .order_by_asc(C::BrandId)
        .order_by_asc(C::Id)
        .limit(BATCH)
        .all(tx)
        .await
        .map_err(in_ctx("select from orders (seal)"))?;
    let mut written = 0;
    for row in &rows {
        let place = orders::phone_place(row.brand_id, row.id);
        let plain = open_opt(Some(keys), &place, row.customer_phone.as_deref())?;
        let done = order::Entity::update_many()
            .col_expr(
                C::CustomerPhone,
                Expr::value(seal_opt(Some(keys), &place, plain.as_deref())),
            )
            .filter(C::BrandId.eq(row.brand_id))
            .filter(C::Id.eq(row.id))
            .filter(holds(C::CustomerPhone, row.customer_phone.as_deref()))
            .exec(tx)
            .await
            .map_err(in_ctx("update orders (seal)"))?;
        written += done.rows_affected;
    }
    Ok((rows.len() as u64, written))
}

async fn outbox_batch(
    tx: &DatabaseTransaction,
    keys: &ContactKeys,
    prefix: &str,
) -> Result<(u64, u64), StoreError> {
    use outbox::Column as C;
    let rows = outbox::Entity::find()
        .filter(
            Condition::any()
                .add(stale(C::Phone, prefix))
                .add(stale(C::Recipient, prefix))
                .add(stale(C::Fallbacks, prefix)),
        )
        .order_by_asc(C::BrandId)
        .order_by_asc(C::Id)
        .limit(BATCH)
        .all(tx)
        .await
        .map_err(in_ctx("select from outbox (seal)"))?;
    let mut written = 0;
    for row in &rows {
        let [phone, recipient, fallbacks] = out::places(row.brand_id, row.id);
        let plain_phone = open_opt(Some(keys), &phone, row.phone.as_deref())?;
        let plain_recipient = open(Some(keys), &recipient, &row.recipient)?;
        let plain_fallbacks = open(Some(keys), &fallbacks, &row.fallbacks)?;
        let done = outbox::Entity::update_many()
            .col_expr(
                C::Phone,
                Expr::value(seal_opt(Some(keys), &phone, plain_phone.as_deref())),
            )
            .col_expr(
                C::Recipient,
                Expr::value(seal(Some(keys), &recipient, &plain_recipient)),
            )
            .col_expr(
                C::Fallbacks,
                Expr::value(seal(Some(keys), &fallbacks, &plain_fallbacks)),
            )
            .filter(C::BrandId.eq(row.brand_id))
            .filter(C::Id.eq(row.id))
            .filter(holds(C::Phone, row.phone.as_deref()))
            .filter(holds(C::Recipient, Some(&row.recipient)))
            .filter(holds(C::Fallbacks, Some(&row.fallbacks)))
            .exec(tx)
            .await
            .map_err(in_ctx("update outbox (seal)"))?;
        written += done.rows_affected;
    }
    Ok((rows.len() as u64, written))
}

async fn links_batch(
    tx: &DatabaseTransaction,
    keys: &ContactKeys,
    prefix: &str,
) -> Result<(u64, u64), StoreError> {
    use pos_customer::Column as C;
    let rows = pos_customer::Entity::find()
        .filter(stale(C::Phone, prefix))
        .order_by_asc(C::BrandId)
        .order_by_asc(C::IntegrationId)
        .order_by_asc(C::CustomerRef)
        .limit(BATCH)
        .all(tx)
        .await
        .map_err(in_ctx("select from pos_customers (seal)"))?;
    let mut written = 0;
    for row in &rows {
        let place = pos_customers::link_place(row.brand_id, row.integration_id, &row.customer_ref);
        let plain = open(Some(keys), &place, &row.phone)?;
        let done = pos_customer::Entity::update_many()
            .col_expr(C::Phone, Expr::value(seal(Some(keys), &place, &plain)))
            .filter(C::BrandId.eq(row.brand_id))
            .filter(C::IntegrationId.eq(row.integration_id))
            .filter(C::CustomerRef.eq(row.customer_ref.as_str()))
            .filter(holds(C::Phone, Some(&row.phone)))
            .exec(tx)
            .await
            .map_err(in_ctx("update pos_customers (seal)"))?;
        written += done.rows_affected;
    }
    Ok((rows.len() as u64, written))
}

async fn waiting_batch(
    tx: &DatabaseTransaction,
    keys: &ContactKeys,
    prefix: &str,
) -> Result<(u64, u64), StoreError> {
    use pos_waiting_order::Column as C;
    let rows = pos_waiting_order::Entity::find()
        .filter(stale(C::OrderJson, prefix))
        .order_by_asc(C::BrandId)
        .order_by_asc(C::IntegrationId)
        .order_by_asc(C::Source)
        .order_by_asc(C::ExternalId)
        .limit(BATCH)
        .all(tx)
        .await
        .map_err(in_ctx("select from pos_waiting_orders (seal)"))?;
    let mut written = 0;
    for row in &rows {
        let key = EventKey {
            source: row.source.clone(),
            external_id: row.external_id.clone(),
        };
        let place = pos_customers::waiting_place(row.brand_id, row.integration_id, &key);
        let plain = open(Some(keys), &place, &row.order_json)?;
        let done = pos_waiting_order::Entity::update_many()
            .col_expr(C::OrderJson, Expr::value(seal(Some(keys), &place, &plain)))
            .filter(C::BrandId.eq(row.brand_id))
            .filter(C::IntegrationId.eq(row.integration_id))
            .filter(C::Source.eq(row.source.as_str()))
            .filter(C::ExternalId.eq(row.external_id.as_str()))
            .filter(holds(C::OrderJson, Some(&row.order_json)))
            .exec(tx)
            .await
            .map_err(in_ctx("update pos_waiting_orders (seal)"))?;
        written += done.rows_affected;
    }
    Ok((rows.len() as u64, written))
}

async fn results_batch(
    tx: &DatabaseTransaction,
    keys: &ContactKeys,
    prefix: &str,
) -> Result<(u64, u64), StoreError> {
    use idempotency::Column as C;
    let rows = idempotency::Entity::find()
        .filter(stale(C::Result, prefix))
        .order_by_asc(C::BrandId)
        .order_by_asc(C::Source)
        .order_by_asc(C::ExternalId)
        .limit(BATCH)
        .all(tx)
        .await
        .map_err(in_ctx("select from idempotency (seal)"))?;
    let mut written = 0;
    for row in &rows {
        let key = EventKey {
            source: row.source.clone(),
            external_id: row.external_id.clone(),
        };
        let place = idem::result_place(row.brand_id, &key);
        let plain = open(Some(keys), &place, &row.result)?;
        let done = idempotency::Entity::update_many()
            .col_expr(C::Result, Expr::value(seal(Some(keys), &place, &plain)))
            .filter(C::BrandId.eq(row.brand_id))
            .filter(C::Source.eq(row.source.as_str()))
            .filter(C::ExternalId.eq(row.external_id.as_str()))
            .filter(holds(C::Result, Some(&row.result)))
            .exec(tx)
            .await
            .map_err(in_ctx("update idempotency (seal)"))?;
        written += done.rows_affected;
    }
    Ok((rows.len() as u64, written))
}

async fn tokens_batch(
    tx: &DatabaseTransaction,
    keys: &ContactKeys,
    prefix: &str,
) -> Result<(u64, u64), StoreError> {
    use oauth_token::Column as C;
    let rows = oauth_token::Entity::find()
        .filter(stale(C::SealedTokens, prefix))
        .order_by_asc(C::BrandId)
        .order_by_asc(C::Provider)
        .order_by_asc(C::Account)
        .limit(BATCH)
        .all(tx)
        .await
        .map_err(in_ctx("select from oauth_tokens (seal)"))?;
    let mut written = 0;
    for row in &rows {
        let place = tokens::tokens_place(row.brand_id, &row.provider, &row.account);
        let plain = open(Some(keys), &place, &row.sealed_tokens)?;
        // The version is left alone: a refresh in flight still finishes its claim.
        let done = oauth_token::Entity::update_many()
            .col_expr(
                C::SealedTokens,
                Expr::value(seal(Some(keys), &place, &plain)),
            )
            .filter(C::BrandId.eq(row.brand_id))
            .filter(C::Provider.eq(row.provider.as_str()))
            .filter(C::Account.eq(row.account.as_str()))
            .filter(holds(C::SealedTokens, Some(&row.sealed_tokens)))
            .exec(tx)
            .await
            .map_err(in_ctx("update oauth_tokens (seal)"))?;
        written += done.rows_affected;
    }
    Ok((rows.len() as u64, written))
}

async fn accounts_batch(
    tx: &DatabaseTransaction,
    keys: &ContactKeys,
    prefix: &str,
) -> Result<(u64, u64), StoreError> {
    use channel_account::Column as C;
    let rows = channel_account::Entity::find()
        .filter(stale(C::SealedAccount, prefix))
        .order_by_asc(C::BrandId)
        .order_by_asc(C::Channel)
        .limit(BATCH)
        .all(tx)
        .await
        .map_err(in_ctx("select from channel_accounts (seal)"))?;
    let mut written = 0;
    for row in &rows {
        let place = channel_accounts::account_place(row.brand_id, &row.channel);
        let plain = open(Some(keys), &place, &row.sealed_account)?;
        // The version is left alone: the account did not change, only its sealing.
        let done = channel_account::Entity::update_many()
            .col_expr(
                C::SealedAccount,
                Expr::value(seal(Some(keys), &place, &plain)),
            )
            .filter(C::BrandId.eq(row.brand_id))
            .filter(C::Channel.eq(row.channel.as_str()))
            .filter(holds(C::SealedAccount, Some(&row.sealed_account)))
            .exec(tx)
            .await
            .map_err(in_ctx("update channel_accounts (seal)"))?;
        written += done.rows_affected;
    }
    Ok((rows.len() as u64, written))
}
