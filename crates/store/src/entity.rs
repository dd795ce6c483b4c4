//! sea-orm entities: one module per table the repositories read and write.
//!
//! Column types mirror the migrations; see [`crate::convert`] for how domain values map to
//! them.

pub(crate) mod access_log;
pub(crate) mod account_tally;
pub(crate) mod api_key;
pub(crate) mod balance;
pub(crate) mod brand;
pub(crate) mod brand_notice;
pub(crate) mod brand_policy;
pub(crate) mod brand_retention;
pub(crate) mod campaign;
pub(crate) mod campaign_member;
pub(crate) mod channel_account;
pub(crate) mod claim_setting;
pub(crate) mod consent_event;
pub(crate) mod customer;
pub(crate) mod customer_change;
pub(crate) mod customer_scores;
pub(crate) mod customer_session;
pub(crate) mod customer_stats;
pub(crate) mod do_not_call;
pub(crate) mod idempotency;
pub(crate) mod integration;
pub(crate) mod ledger_entry;
pub(crate) mod location;
pub(crate) mod location_signup;
pub(crate) mod menu_item;
pub(crate) mod oauth_token;
pub(crate) mod order;
pub(crate) mod order_claim;
pub(crate) mod order_line;
pub(crate) mod otp_code;
pub(crate) mod outbox;
pub(crate) mod pos_customer;
pub(crate) mod pos_poll_cursor;
pub(crate) mod pos_waiting_order;
pub(crate) mod privacy_request;
pub(crate) mod program;
pub(crate) mod referral;
pub(crate) mod referral_invite;
pub(crate) mod referral_setting;
pub(crate) mod reward;
pub(crate) mod scoring_run;
pub(crate) mod segment_definition;
pub(crate) mod staff_member;
pub(crate) mod tier_review;
pub(crate) mod till_device;
pub(crate) mod voucher;
