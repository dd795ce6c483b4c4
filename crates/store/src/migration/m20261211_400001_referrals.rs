//! Referrals: each brand's referral programme, the members' invite codes, and one row
//! per sign-up through an invite (accepted or refused, with the reason).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, text, text_null, uuid, uuid_null,
};

/// Creates `referral_settings`, `referral_invites` and `referrals`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261211_400001_referrals"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("referral_settings")
                    .col(uuid("brand_id").primary_key())
                    .col(boolean("enabled"))
                    .col(big_integer("referrer_points"))
                    .col(big_integer("friend_points"))
                    .col(big_integer("min_purchase_minor"))
                    .col(big_integer("monthly_cap"))
                    .col(big_integer("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("referral_invites")
                    .col(uuid("brand_id"))
                    .col(uuid("customer_id"))
                    // 32 hexadecimal digits from the CSPRNG: the secret part of the link.
                    .col(text("code"))
                    .col(big_integer("created_at"))
                    .primary_key(Index::create().col("brand_id").col("customer_id").primary())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_referral_invites_code")
                    .table("referral_invites")
                    .col("brand_id")
                    .col("code")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("referrals")
                    .col(uuid("brand_id"))
                    .col(uuid("id"))
                    .col(uuid("referrer_id"))
                    .col(uuid("friend_id"))
                    // The friend again for an accepted referral, NULL for a refused one:
                    // the unique index below keeps one accepted referral per friend, and
                    // NULLs never collide on either database.
                    .col(uuid_null("accepted_friend"))
                    .col(text("status"))
                    .col(text_null("reason"))
                    .col(text_null("order_source"))
                    .col(text_null("order_external_id"))
                    .col(big_integer("friend_points"))
                    .col(big_integer("referrer_points"))
                    .col(boolean("referrer_capped"))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("decided_at"))
                    .primary_key(Index::create().col("brand_id").col("id").primary())
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("ux_referrals_accepted_friend", &["accepted_friend"][..]),
            ("ix_referrals_referrer", &["referrer_id", "decided_at"][..]),
            ("ix_referrals_friend", &["friend_id"][..]),
            ("ix_referrals_created", &["created_at"][..]),
        ] {
            let mut index = Index::create();
            index.name(name).table("referrals").col("brand_id");
            for col in cols {
                index.col(*col);
            }
            if name.starts_with("ux_") {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["referrals", "referral_invites", "referral_settings"] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
