//! [`TokenStore`] on the store: shared OAuth token pairs, sealed, changed only under
//! compare-and-swap on `version`. Each statement runs on its own (no transaction held
//! while a provider is called).

use crate::Store;
use crate::contact::{Place, open, seal};
use crate::convert::{from_micros_opt, to_micros, to_micros_opt};
use crate::entity::oauth_token;
use crate::error::{corrupt, in_ctx, unstorable};
use async_trait::async_trait;
use regulars_ports::{StoreError, StoredTokens, TokenAccount, TokenPair, TokenStore};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use oauth_token::Column as C;

#[derive(Serialize, Deserialize)]
struct Sealed {
    access_token: String,
    refresh_token: Option<String>,
}

/// The row's brand id: the nil id for the deployment's own account.
fn brand_of(account: &TokenAccount) -> Uuid {
    account.brand_id.map_or(Uuid::nil(), |b| b.as_uuid())
}

/// Where a pair is sealed: its row.
pub(crate) fn tokens_place(brand: Uuid, provider: &str, account: &str) -> Place {
    Place::new(
        "oauth_tokens.sealed_tokens",
        brand,
        &[provider.as_bytes(), account.as_bytes()],
    )
}

fn row_of(account: &TokenAccount) -> Condition {
    Condition::all()
        .add(C::BrandId.eq(brand_of(account)))
        .add(C::Provider.eq(account.provider.as_str()))
        .add(C::Account.eq(account.account.as_str()))
}

impl Store {
    fn seal_pair(&self, account: &TokenAccount, tokens: &TokenPair) -> Result<String, StoreError> {
        let json = serde_json::to_string(&Sealed {
            access_token: tokens.access_token.clone(),
            refresh_token: tokens.refresh_token.clone(),
        })
        .map_err(|e| unstorable("oauth tokens", e))?;
        let place = tokens_place(brand_of(account), &account.provider, &account.account);
        Ok(seal(self.contact_keys(), &place, &json))
    }

    fn stored_of(&self, row: oauth_token::Model) -> Result<StoredTokens, StoreError> {
        let place = tokens_place(row.brand_id, &row.provider, &row.account);
        let json = open(self.contact_keys(), &place, &row.sealed_tokens)?;
        let sealed: Sealed =
            serde_json::from_str(&json).map_err(|e| corrupt("oauth_tokens.sealed_tokens", e))?;
        Ok(StoredTokens {
            tokens: TokenPair {
                access_token: sealed.access_token,
                refresh_token: sealed.refresh_token,
                expires_at: from_micros_opt(row.expires_at)?,
            },
            version: row.version,
            refreshing_until: from_micros_opt(row.refreshing_until)?,
            seed: row.seed,
        })
    }
}

#[async_trait]
impl TokenStore for Store {
    async fn load(&self, account: &TokenAccount) -> Result<Option<StoredTokens>, StoreError> {
        oauth_token::Entity::find()
            .filter(C::BrandId.eq(brand_of(account)))
            .filter(row_of(account))
            .one(&self.db)
            .await
            .map_err(in_ctx("select from oauth_tokens"))?
            .map(|row| self.stored_of(row))
            .transpose()
    }

    async fn seed(
        &self,
        account: &TokenAccount,
        tokens: &TokenPair,
        seed: &str,
        now: OffsetDateTime,
    ) -> Result<StoredTokens, StoreError> {
        let sealed = self.seal_pair(account, tokens)?;
        let row = oauth_token::Model {
            brand_id: brand_of(account),
            provider: account.provider.clone(),
            account: account.account.clone(),
            sealed_tokens: sealed.clone(),
            expires_at: to_micros_opt(tokens.expires_at),
            version: 0,
            refreshing_until: None,
            seed: seed.to_owned(),
            updated_at: to_micros(now),
        };
        oauth_token::Entity::insert(row.into_active_model())
            .on_conflict_do_nothing_on([C::BrandId, C::Provider, C::Account])
            .exec_without_returning(&self.db)
            .await
            .map_err(in_ctx("insert into oauth_tokens"))?;
        for _ in 0..8 {
            let current = self
                .load(account)
                .await?
                .ok_or_else(|| corrupt("oauth_tokens", "the row just written is gone"))?;
            if current.seed == seed {
                return Ok(current);
            }
            // A new grant in the configuration replaces what was stored before it.
            oauth_token::Entity::update_many()
                .col_expr(C::SealedTokens, Expr::value(sealed.clone()))
                .col_expr(C::ExpiresAt, Expr::value(to_micros_opt(tokens.expires_at)))
                .col_expr(C::Version, Expr::value(current.version + 1))
                .col_expr(C::RefreshingUntil, Expr::value(Option::<i64>::None))
                .col_expr(C::Seed, Expr::value(seed))
                .col_expr(C::UpdatedAt, Expr::value(to_micros(now)))
                .filter(C::BrandId.eq(brand_of(account)))
                .filter(row_of(account))
                .filter(C::Version.eq(current.version))
                .exec(&self.db)
                .await
                .map_err(in_ctx("update oauth_tokens (seed)"))?;
        }
        Err(StoreError::Conflict(
            "oauth_tokens: the stored tokens keep changing while seeding".into(),
        ))
    }

    async fn claim_refresh(
        &self,
        account: &TokenAccount,
        version: i64,
        until: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = oauth_token::Entity::update_many()
            .col_expr(C::Version, Expr::value(version + 1))
            .col_expr(C::RefreshingUntil, Expr::value(to_micros(until)))
            .filter(C::BrandId.eq(brand_of(account)))
            .filter(row_of(account))
            .filter(C::Version.eq(version))
            .exec(&self.db)
            .await
            .map_err(in_ctx("update oauth_tokens (claim)"))?;
        Ok(done.rows_affected == 1)
    }

    async fn finish_refresh(
        &self,
        account: &TokenAccount,
        claimed: i64,
        tokens: &TokenPair,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = oauth_token::Entity::update_many()
            .col_expr(
                C::SealedTokens,
                Expr::value(self.seal_pair(account, tokens)?),
            )
            .col_expr(C::ExpiresAt, Expr::value(to_micros_opt(tokens.expires_at)))
            .col_expr(C::Version, Expr::value(claimed + 1))
            .col_expr(C::RefreshingUntil, Expr::value(Option::<i64>::None))
            .col_expr(C::UpdatedAt, Expr::value(to_micros(now)))
            .filter(C::BrandId.eq(brand_of(account)))
            .filter(row_of(account))
            .filter(C::Version.eq(claimed))
            .exec(&self.db)
            .await
            .map_err(in_ctx("update oauth_tokens (refresh)"))?;
        Ok(done.rows_affected == 1)
    }

    async fn release(&self, account: &TokenAccount, claimed: i64) -> Result<bool, StoreError> {
        let done = oauth_token::Entity::update_many()
            .col_expr(C::Version, Expr::value(claimed + 1))
            .col_expr(C::RefreshingUntil, Expr::value(Option::<i64>::None))
            .filter(C::BrandId.eq(brand_of(account)))
            .filter(row_of(account))
            .filter(C::Version.eq(claimed))
            .exec(&self.db)
            .await
            .map_err(in_ctx("update oauth_tokens (release)"))?;
        Ok(done.rows_affected == 1)
    }
}
