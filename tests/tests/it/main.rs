//! End-to-end tests on real databases: every test runs on a fresh SQLite file and on a
//! fresh database of a throwaway PostgreSQL cluster, through the use cases or over HTTP
//! against the real server.

mod abuse;
mod accounts;
mod at_rest;
mod audit;
mod bad_input;
mod bonus_offers;
mod browser;
mod bulk_import;
mod bulk_import_atomic;
mod bulk_import_text;
mod callbacks;
mod campaign_form;
mod campaign_writes;
mod campaigns;
mod card_privacy;
mod channel_delivery;
mod channels;
mod claims;
mod clicks;
mod concurrency;
mod consent;
mod dashboard;
mod delivery;
mod delivery_reads;
mod do_not_call;
mod esms_reports;
mod flows;
mod goals;
mod golden_hour;
mod group_commit;
mod isolation;
mod kiotviet;
mod kiotviet_api;
mod kiotviet_fnb;
mod ledger_pages;
mod limits;
mod load;
mod manager_campaigns;
mod manager_kit;
mod manager_orders;
mod manager_pages;
mod manager_segments;
mod managers;
mod menu;
mod notice;
mod observed;
mod optout;
mod otp;
mod outbox_faults;
mod outbox_fixture;
mod own_requests;
mod page_sweep;
mod phone_change;
mod policy;
mod pos;
mod posters;
mod privacy;
mod profiling_default;
mod programme_cost;
mod programme_form;
mod ratings;
mod referral_pages;
mod referrals;
mod refunds;
mod reliability;
mod reports;
mod retries;
mod roles;
mod rotation;
mod scoring;
mod scoring_pages;
mod segment_export;
mod server;
mod signup;
mod signup_browser;
mod signup_join;
mod sms_product;
mod sms_text;
mod square;
mod stamp_form;
mod stamps;
mod story;
mod tiers;
mod till;
mod till_browser;
mod till_redemptions;
mod triggers;
mod variant_browser;
mod variant_http;
mod variants;
mod visitor;
mod webhooks;
mod worker;
mod zalo_keyword;
mod zalo_tokens;

use regulars_store::StoreOptions;
use regulars_testkit::{SqliteFile, require_pg};
use regulars_tests::{World, world};

/// A database to run a test on; keeps its SQLite file alive as long as needed.
pub struct Target {
    /// Which database.
    pub name: &'static str,
    /// The brand and use cases on it.
    pub world: World,
    /// The database's URL, for tests that read it directly.
    pub url: String,
    _file: Option<SqliteFile>,
}

/// A fresh world on SQLite and, when PostgreSQL is installed, on PostgreSQL (on CI a
/// missing PostgreSQL fails the run instead).
pub async fn targets(prefix: &str) -> Vec<Target> {
    let mut out = Vec::new();
    let file = SqliteFile::new().unwrap_or_else(|e| panic!("sqlite file: {e}"));
    let sqlite_url = file.url();
    let sqlite = world(&sqlite_url, StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    out.push(Target {
        name: "sqlite",
        world: sqlite,
        url: sqlite_url,
        _file: Some(file),
    });
    if let Some(cluster) = require_pg() {
        let url = cluster
            .create_database(prefix)
            .unwrap_or_else(|e| panic!("create database: {e}"));
        let pg = world(&url, StoreOptions::default().max_connections(60))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        out.push(Target {
            name: "postgres",
            world: pg,
            url,
            _file: None,
        });
    }
    out
}
