//! The repository ports, implemented on [`StoreTransaction`](crate::tx::StoreTransaction).
//!
//! Every query filters on the brand it is given; none reads or writes another brand's rows
//! (the exceptions find the brand itself: `brand_ids` lists brands for operator jobs, an
//! API key is found by its prefix and a webhook by its integration id).

mod access;
mod account_lots;
mod account_state;
mod audit;
mod brands;
mod bulk;
mod bulk_accounts;
mod bulk_rows;
mod by_location;
mod campaigns;
pub(crate) mod channel_accounts;
mod claims;
mod config;
mod consents;
pub(crate) mod customer_list;
pub(crate) mod customers;
mod do_not_call;
mod engagement;
mod goals;
pub(crate) mod idempotency;
mod intelligence;
mod latest_visits;
mod ledger;
mod ledger_reads;
mod locations;
mod menu;
mod notices;
mod order_chain;
mod order_reads;
mod order_writes;
pub(crate) mod orders;
mod otp;
pub(crate) mod outbox;
pub(crate) mod phone_change;
pub(crate) mod pos_customers;
pub(crate) mod pos_polls;
mod privacy;
mod ratings;
mod referral_mark;
mod referrals;
mod report_groups;
mod reports;
mod segment_send_times;
mod stamps;
mod tier_reviews;
mod till;
pub(crate) mod tokens;
mod vouchers;

pub(crate) use account_lots::lot_instant;

/// Rows written by an `INSERT … ON CONFLICT DO NOTHING` (none when all conflicted).
pub(crate) fn inserted(result: sea_orm::TryInsertResult<u64>) -> u64 {
    match result {
        sea_orm::TryInsertResult::Inserted(n) => n,
        sea_orm::TryInsertResult::Empty | sea_orm::TryInsertResult::Conflicted => 0,
    }
}
