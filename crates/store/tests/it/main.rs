//! The repository suite of regulars-store, run against SQLite and PostgreSQL.
//!
//! Every case is an async function taking a freshly connected and migrated [`Store`]; the
//! `both_databases!` table below runs each one twice: on a new SQLite file
//! (`sqlite::<module>::<case>`) and on a new database in the shared throwaway PostgreSQL
//! cluster (`postgres::<module>::<case>`). Without PostgreSQL the second half prints
//! "skipped" and passes, except under `CI=true`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account_lots;
mod admin;
mod brands;
mod campaign_reads;
mod concurrency;
mod connect;
mod customers;
mod distribution;
mod exactness;
mod idempotency;
mod ledger;
mod next_expiry;
mod order_writes;
mod orders;
mod outbox_batch;
mod outbox_claim;
mod outreach;
mod phone_change;
mod report_groups;
mod reports;
mod schema;
mod sealing;
mod support;
mod tenancy;
mod tier_reviews;
mod tls;
mod transactions;
mod vouchers;

pub(crate) use regulars_store::Store;

/// What every case returns: any error fails the test with its message.
pub(crate) type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

macro_rules! both_databases {
    ($($module:ident { $($case:ident),* $(,)? })*) => {
        mod sqlite {
            $(mod $module {
                $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() -> crate::TestResult {
                    crate::support::on_sqlite(crate::$module::$case).await
                })*
            })*
        }
        mod postgres {
            $(mod $module {
                $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() -> crate::TestResult {
                    crate::support::on_postgres(stringify!($case), crate::$module::$case).await
                })*
            })*
        }
    };
}

both_databases! {
    account_lots {
        lots_are_rows_read_by_what_a_command_needs,
    }
    next_expiry {
        the_stored_reads_give_the_fold,
    }
    admin {
        keys_are_found_by_prefix_and_revoked_once,
        integrations_round_trip_and_revoke,
        pos_customers_link_and_orders_wait,
        locations_round_trip_with_unique_codes,
        customers_and_orders_page_by_id,
        histories_scores_runs_and_segments,
    }
    campaign_reads {
        latest_histories_hold_the_last_visit_of_the_histories,
        a_page_of_vouchers_is_one_insert_read_back_by_customer,
    }
    brands {
        brand_round_trip,
        program_round_trip_and_replace,
        rewards_round_trip_upsert_and_catalogue_order,
        config_version_moves_with_every_change,
    }
    customers {
        customer_round_trip_and_lookup_by_phone,
        duplicate_phone_is_a_conflict,
        consents_of_many_customers_in_one_read,
        update_customer_changes_profile_only,
        stats_round_trip,
    }
    order_writes {
        an_order_is_written_in_one_piece,
        orders_of_any_shape_share_one_statement,
        seen_with_customer_reads_both_or_either,
    }
    orders {
        order_with_lines_round_trip,
        duplicate_order_key_is_a_conflict,
        set_refunded_records_the_new_total,
    }
    ledger {
        lock_append_entries_and_balances,
        the_first_entry_is_numbered_zero_and_reads_back_as_written,
        append_on_a_stale_head_is_a_conflict,
        append_rejects_entries_that_do_not_fit,
        lock_account_of_unknown_customer_is_not_found,
    }
    vouchers {
        voucher_round_trip_and_listing,
        redeem_once_then_refused,
        expired_or_not_yet_valid_is_refused,
        unknown_code_is_not_found,
        void_issued_by_voids_only_issued_vouchers,
        duplicate_code_is_a_conflict,
    }
    idempotency {
        remember_then_seen_and_duplicate_is_a_conflict,
        prune_forgets_old_records_of_the_given_kinds_only,
    }
    report_groups {
        overview_sums_equal_the_raw_fold,
        orders_linked_as_written_equal_the_raw_fold,
    }
    reports {
        order_facts_page_by_time_then_id,
        vouchers_are_counted_by_issue_time,
        redemptions_count_at_their_location,
        segments_are_the_first_of_the_latest_scores,
    }
    transactions {
        dropping_a_transaction_discards_everything,
        rollback_discards_everything,
        commit_makes_writes_visible_to_later_transactions,
        an_import_plans_its_statements_for_their_values,
    }
    tenancy {
        another_brand_never_sees_or_touches_these_rows,
    }
    tier_reviews {
        reviews_are_recorded_once_per_period_and_per_brand,
    }
    exactness {
        money_round_trips_exactly,
        timestamps_round_trip_to_the_microsecond,
        points_round_trip_at_the_extremes,
    }
    outreach {
        campaigns_round_trip_page_and_filter,
        members_keep_their_first_assignment_and_revenue_counts_the_window,
        outbox_claims_records_and_reports,
        concurrent_claims_never_share_a_message,
    }
    outbox_batch {
        many_sends_are_recorded_at_once_each_on_its_own_claim,
    }
    sealing {
        sealed_contact_data_opens_only_with_the_key,
        plain_rows_are_found_then_sealed_in_place,
        a_key_rotation_keeps_every_row_readable_and_findable,
        an_indexed_customer_is_found_before_a_plain_twin,
    }
    phone_change {
        a_plain_store_changes_the_phone,
        a_sealing_store_changes_the_phone,
        a_changed_phone_survives_a_key_rotation,
    }
    concurrency {
        fifty_concurrent_redemptions_redeem_once,
        concurrent_appends_to_one_account_serialise,
        a_deadlock_is_a_conflict,
    }
}
