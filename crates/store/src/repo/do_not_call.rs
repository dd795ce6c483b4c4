//! [`DoNotCallRepo`]: the deployment's do-not-call list, numbers kept only as keyed
//! hashes under the nil brand id (the deployment's scope).

use crate::contact::ContactKeys;
use crate::convert::{from_micros_opt, to_micros};
use crate::entity::do_not_call;
use crate::error::in_ctx;
use crate::repo::inserted;
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::Phone;
use regulars_ports::{DoNotCallListed, DoNotCallRepo, DoNotCallStatus, StoreError};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect};
use std::collections::{HashMap, HashSet};
use time::OffsetDateTime;
use uuid::Uuid;

/// The brand id of the deployment's own rows: the list is not a brand's.
const DEPLOYMENT: Uuid = Uuid::nil();

/// Numbers looked up per statement (each under every key).
const CHUNK: usize = 400;

fn keys_needed(keys: Option<&ContactKeys>) -> Result<&ContactKeys, StoreError> {
    keys.ok_or_else(|| {
        StoreError::Invalid(
            "the do-not-call list stores numbers only as keyed hashes: set REGULARS_SECRET_KEY"
                .into(),
        )
    })
}

impl StoreTransaction {
    /// The stored rows among `hashes`, by hash.
    async fn listed_rows(
        &mut self,
        hashes: Vec<String>,
    ) -> Result<HashMap<String, do_not_call::Model>, StoreError> {
        use do_not_call::Column as C;
        let rows = do_not_call::Entity::find()
            .filter(C::BrandId.eq(DEPLOYMENT))
            .filter(C::PhoneHash.is_in(hashes))
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from do_not_call"))?;
        Ok(rows
            .into_iter()
            .map(|r| (r.phone_hash.clone(), r))
            .collect())
    }

    async fn list_chunk(
        &mut self,
        phones: &[Phone],
        import: &str,
        now: OffsetDateTime,
    ) -> Result<DoNotCallListed, StoreError> {
        use do_not_call::Column as C;
        let keys = keys_needed(self.keys())?.clone();
        let hashes: Vec<Vec<(String, String)>> = phones
            .iter()
            .map(|p| {
                keys.do_not_call_hashes(p.as_str())
                    .into_iter()
                    .map(|(id, h)| (id.to_owned(), h))
                    .collect()
            })
            .collect();
        let found = self
            .listed_rows(hashes.iter().flatten().map(|(_, h)| h.clone()).collect())
            .await?;
        let mut outcome = DoNotCallListed::default();
        let mut seen = Vec::new();
        let mut stale = Vec::new();
        let mut new_rows = Vec::new();
        for per_key in &hashes {
            let Some((current_id, current)) = per_key.first() else {
                continue;
            };
            if found.contains_key(current) {
                outcome.already += 1;
                seen.push(current.clone());
                continue;
            }
            // Listed under a previous key: hashed again under the current one.
            let previous = per_key[1..].iter().find_map(|(_, h)| found.get(h));
            if previous.is_some() {
                outcome.already += 1;
            } else {
                outcome.added += 1;
            }
            if let Some(row) = previous {
                stale.push(row.phone_hash.clone());
            }
            new_rows.push(
                do_not_call::Model {
                    brand_id: DEPLOYMENT,
                    phone_hash: current.clone(),
                    key_id: current_id.clone(),
                    import_id: import.to_owned(),
                    added_at: previous.map_or(to_micros(now), |r| r.added_at),
                    seen_at: to_micros(now),
                }
                .into_active_model(),
            );
        }
        if !seen.is_empty() {
            do_not_call::Entity::update_many()
                .col_expr(C::ImportId, Expr::value(import))
                .col_expr(C::SeenAt, Expr::value(to_micros(now)))
                .filter(C::BrandId.eq(DEPLOYMENT))
                .filter(C::PhoneHash.is_in(seen))
                .exec(&self.tx)
                .await
                .map_err(in_ctx("update do_not_call"))?;
        }
        if !stale.is_empty() {
            do_not_call::Entity::delete_many()
                .filter(C::BrandId.eq(DEPLOYMENT))
                .filter(C::PhoneHash.is_in(stale))
                .exec(&self.tx)
                .await
                .map_err(in_ctx("delete from do_not_call"))?;
        }
        if !new_rows.is_empty() {
            let done = do_not_call::Entity::insert_many(new_rows)
                .on_conflict_do_nothing_on([C::BrandId, C::PhoneHash])
                .exec_without_returning(&self.tx)
                .await
                .map_err(in_ctx("insert into do_not_call"))?;
            // A number given twice in one batch is written once.
            let written = inserted(done);
            let duplicates = outcome.added.saturating_sub(written);
            outcome.added -= duplicates;
            outcome.already += duplicates;
        }
        Ok(outcome)
    }
}

#[async_trait]
impl DoNotCallRepo for StoreTransaction {
    async fn list_do_not_call(
        &mut self,
        phones: &[Phone],
        import: &str,
        now: OffsetDateTime,
    ) -> Result<DoNotCallListed, StoreError> {
        keys_needed(self.keys())?;
        let mut total = DoNotCallListed::default();
        for chunk in phones.chunks(CHUNK) {
            let done = self.list_chunk(chunk, import, now).await?;
            total.added += done.added;
            total.already += done.already;
        }
        Ok(total)
    }

    async fn unlist_do_not_call_except(&mut self, import: &str) -> Result<u64, StoreError> {
        use do_not_call::Column as C;
        let done = do_not_call::Entity::delete_many()
            .filter(C::BrandId.eq(DEPLOYMENT))
            .filter(C::ImportId.ne(import))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("delete from do_not_call"))?;
        Ok(done.rows_affected)
    }

    async fn do_not_call_listed(&mut self, phones: &[Phone]) -> Result<HashSet<Phone>, StoreError> {
        // Without a key nothing can have been listed.
        let Some(keys) = self.keys().cloned() else {
            return Ok(HashSet::new());
        };
        let mut listed = HashSet::new();
        for chunk in phones.chunks(CHUNK) {
            let mut by_hash: HashMap<String, &Phone> = HashMap::new();
            for phone in chunk {
                for (_, hash) in keys.do_not_call_hashes(phone.as_str()) {
                    by_hash.insert(hash, phone);
                }
            }
            let found = self.listed_rows(by_hash.keys().cloned().collect()).await?;
            listed.extend(
                found
                    .keys()
                    .filter_map(|h| by_hash.get(h).map(|p| (*p).clone())),
            );
        }
        Ok(listed)
    }

    async fn do_not_call_status(&mut self) -> Result<DoNotCallStatus, StoreError> {
        use do_not_call::Column as C;
        let rows: Vec<(String, i64, Option<i64>)> = do_not_call::Entity::find()
            .select_only()
            .column(C::KeyId)
            .column_as(C::PhoneHash.count(), "n")
            .column_as(C::SeenAt.max(), "last")
            .filter(C::BrandId.eq(DEPLOYMENT))
            .group_by(C::KeyId)
            .into_tuple()
            .all(&self.tx)
            .await
            .map_err(in_ctx("count do_not_call"))?;
        let current = self.keys().map(|k| k.current_id().to_owned());
        let mut status = DoNotCallStatus::default();
        let mut last = None;
        for (key_id, n, seen) in rows {
            let n = u64::try_from(n).unwrap_or(0);
            status.numbers += n;
            if current.as_deref() != Some(key_id.as_str()) {
                status.under_previous_keys += n;
            }
            last = last.max(seen);
        }
        status.last_import_at = from_micros_opt(last)?;
        Ok(status)
    }
}
