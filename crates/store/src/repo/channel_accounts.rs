//! [`ChannelAccountStore`] on the store: a brand's own channel accounts, the whole
//! account sealed as JSON under the contact key with its brand and channel as associated
//! data (a sealed account copied onto another brand's row does not open). Each statement
//! runs on its own and names the brand.

use crate::Store;
use crate::contact::{Place, open, seal};
use crate::convert::{from_micros, to_micros};
use crate::entity::channel_account;
use crate::error::{corrupt, in_ctx, unstorable};
use async_trait::async_trait;
use regulars_domain::{BrandId, Channel};
use regulars_ports::{ChannelAccount, ChannelAccountStore, StoreError, StoredChannelAccount};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use time::OffsetDateTime;
use uuid::Uuid;

use channel_account::Column as C;

/// The column name of a channel.
pub(crate) fn channel_key(channel: Channel) -> &'static str {
    match channel {
        Channel::Zalo => "zalo",
        Channel::Sms => "sms",
        Channel::Email => "email",
    }
}

/// Where an account is sealed: its row.
pub(crate) fn account_place(brand: Uuid, channel: &str) -> Place {
    Place::new(
        "channel_accounts.sealed_account",
        brand,
        &[channel.as_bytes()],
    )
}

impl Store {
    fn account_of(&self, row: channel_account::Model) -> Result<StoredChannelAccount, StoreError> {
        let place = account_place(row.brand_id, &row.channel);
        let json = open(self.contact_keys(), &place, &row.sealed_account)?;
        let account: ChannelAccount = serde_json::from_str(&json)
            .map_err(|e| corrupt("channel_accounts.sealed_account", e))?;
        if channel_key(account.channel()) != row.channel {
            return Err(corrupt(
                "channel_accounts.sealed_account",
                "the account is for another channel than its row",
            ));
        }
        Ok(StoredChannelAccount {
            brand_id: BrandId::from_uuid(row.brand_id),
            account,
            version: row.version,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

#[async_trait]
impl ChannelAccountStore for Store {
    async fn channel_accounts(
        &self,
        brand: BrandId,
    ) -> Result<Vec<StoredChannelAccount>, StoreError> {
        channel_account::Entity::find()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .order_by_asc(C::Channel)
            .all(&self.db)
            .await
            .map_err(in_ctx("select from channel_accounts"))?
            .into_iter()
            .map(|row| self.account_of(row))
            .collect()
    }

    async fn put_channel_account(
        &self,
        brand: BrandId,
        account: &ChannelAccount,
        now: OffsetDateTime,
    ) -> Result<StoredChannelAccount, StoreError> {
        let channel = channel_key(account.channel());
        let json = serde_json::to_string(account).map_err(|e| unstorable("channel account", e))?;
        let sealed = seal(
            self.contact_keys(),
            &account_place(brand.as_uuid(), channel),
            &json,
        );
        let row = channel_account::Model {
            brand_id: brand.as_uuid(),
            channel: channel.to_owned(),
            provider: account.provider().to_owned(),
            sealed_account: sealed,
            version: 1,
            updated_at: to_micros(now),
        };
        channel_account::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::columns([C::BrandId, C::Channel])
                    .update_columns([C::Provider, C::SealedAccount, C::UpdatedAt])
                    .value(
                        C::Version,
                        Expr::col((channel_account::Entity, C::Version)).add(1),
                    )
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .map_err(in_ctx("upsert channel_accounts"))?;
        let row = channel_account::Entity::find()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::Channel.eq(channel))
            .one(&self.db)
            .await
            .map_err(in_ctx("select from channel_accounts"))?
            .ok_or_else(|| corrupt("channel_accounts", "the row just written is gone"))?;
        self.account_of(row)
    }

    async fn delete_channel_account(
        &self,
        brand: BrandId,
        channel: Channel,
    ) -> Result<bool, StoreError> {
        let done = channel_account::Entity::delete_many()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::Channel.eq(channel_key(channel)))
            .exec(&self.db)
            .await
            .map_err(in_ctx("delete from channel_accounts"))?;
        Ok(done.rows_affected > 0)
    }
}
