//! Schema migrations, applied in order and recorded in `seaql_migrations`.
//!
//! A migration, once released, is never edited: a schema change is a new migration. Each
//! migration is written once for both databases with sea-query's schema builder; where
//! the databases differ (PostgreSQL's `uuid` and `boolean`, SQLite's dynamic types) the
//! builder picks the type, and every value whose meaning must be identical on both
//! (money, points, timestamps) is a 64-bit integer.

mod m20260601_000001_initial;
mod m20261123_000001_integrations;
mod m20261123_000002_intelligence;
mod m20261124_000001_campaigns;
mod m20261124_100001_report_indexes;
mod m20261206_100001_refund_overdraw;
mod m20261206_200001_idempotency_fingerprints;
mod m20261206_300001_customer_changes;
mod m20261206_300002_brand_policies;
mod m20261206_500001_session_epoch;
mod m20261206_700001_pos_customers;
mod m20261206_800001_outbox_provider_key;
mod m20261207_100001_customer_rights;
mod m20261207_100002_retention;
mod m20261207_200001_customer_phone_index;
mod m20261207_300001_consent;
mod m20261207_400001_access_log;
mod m20261207_600001_integration_access;
mod m20261207_700001_distribution_keys;
mod m20261208_100001_till;
mod m20261208_200001_otp;
mod m20261208_200002_notices;
mod m20261208_500001_tier_reviews;
mod m20261208_600001_oauth_tokens;
mod m20261208_700001_account_state;
mod m20261208_800001_contact_sealing;
mod m20261209_100001_signup_posters;
mod m20261209_300001_do_not_call;
mod m20261209_400001_order_claims;
mod m20261209_500001_channel_accounts;
mod m20261209_600001_pos_poll_cursors;
mod m20261209_700001_config_version;
mod m20261210_400001_manager_locations;
mod m20261210_500001_zalo_index;
mod m20261210_600001_menu;
mod m20261211_200001_account_lots;
mod m20261211_300001_stamp_cards;
mod m20261211_400001_referrals;
mod m20261211_500001_ratings;
mod m20261211_800001_owner_reports;
mod m20261212_100001_campaign_variants;
mod m20261212_200001_engagement;
mod m20261212_500001_referral_pending;
mod m20261212_600001_scale_indexes;
mod m20261212_700001_redeemed_vouchers_index;
mod m20261213_300001_segment_send_times;
mod m20261215_100001_redemption_location;
mod m20261216_100001_counted_times;
mod m20261217_100001_outbox_open_index;

#[cfg(test)]
mod inventory;

use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Every migration of the store, oldest first.
pub(crate) struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260601_000001_initial::Migration),
            Box::new(m20261123_000001_integrations::Migration),
            Box::new(m20261123_000002_intelligence::Migration),
            Box::new(m20261124_000001_campaigns::Migration),
            Box::new(m20261124_100001_report_indexes::Migration),
            Box::new(m20261206_100001_refund_overdraw::Migration),
            Box::new(m20261206_200001_idempotency_fingerprints::Migration),
            Box::new(m20261206_300001_customer_changes::Migration),
            Box::new(m20261206_300002_brand_policies::Migration),
            Box::new(m20261206_500001_session_epoch::Migration),
            Box::new(m20261206_700001_pos_customers::Migration),
            Box::new(m20261206_800001_outbox_provider_key::Migration),
            Box::new(m20261207_100001_customer_rights::Migration),
            Box::new(m20261207_100002_retention::Migration),
            Box::new(m20261207_200001_customer_phone_index::Migration),
            Box::new(m20261207_300001_consent::Migration),
            Box::new(m20261207_400001_access_log::Migration),
            Box::new(m20261207_600001_integration_access::Migration),
            Box::new(m20261207_700001_distribution_keys::Migration),
            Box::new(m20261208_100001_till::Migration),
            Box::new(m20261208_200001_otp::Migration),
            Box::new(m20261208_200002_notices::Migration),
            Box::new(m20261208_500001_tier_reviews::Migration),
            Box::new(m20261208_600001_oauth_tokens::Migration),
            Box::new(m20261208_700001_account_state::Migration),
            Box::new(m20261208_800001_contact_sealing::Migration),
            Box::new(m20261209_100001_signup_posters::Migration),
            Box::new(m20261209_300001_do_not_call::Migration),
            Box::new(m20261209_400001_order_claims::Migration),
            Box::new(m20261209_500001_channel_accounts::Migration),
            Box::new(m20261209_600001_pos_poll_cursors::Migration),
            Box::new(m20261209_700001_config_version::Migration),
            Box::new(m20261210_400001_manager_locations::Migration),
            Box::new(m20261210_500001_zalo_index::Migration),
            Box::new(m20261210_600001_menu::Migration),
            Box::new(m20261211_200001_account_lots::Migration),
            Box::new(m20261211_300001_stamp_cards::Migration),
            Box::new(m20261211_400001_referrals::Migration),
            Box::new(m20261211_500001_ratings::Migration),
            Box::new(m20261211_800001_owner_reports::Migration),
            Box::new(m20261212_100001_campaign_variants::Migration),
            Box::new(m20261212_200001_engagement::Migration),
            Box::new(m20261212_500001_referral_pending::Migration),
            Box::new(m20261212_600001_scale_indexes::Migration),
            Box::new(m20261212_700001_redeemed_vouchers_index::Migration),
            Box::new(m20261213_300001_segment_send_times::Migration),
            Box::new(m20261215_100001_redemption_location::Migration),
            Box::new(m20261216_100001_counted_times::Migration),
            Box::new(m20261217_100001_outbox_open_index::Migration),
        ]
    }
}
