//! A campaign run's statements on both databases: a page of customers is read and
//! written with a fixed number of statements — one per kind of read and one per table
//! written — however many customers the page holds, and however many orders each made.

use crate::observed::{observed, taken};
use crate::targets;
use regulars_domain::BrandId;
use regulars_service::{CampaignAction, CampaignRunReport, Services};
use serde_json::json;
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// Statements of a run of one campaign over one page, `BEGIN` and `COMMIT` aside: the
/// active campaigns (with the brand) before the pages; then the page's campaign (brand,
/// locked row, row re-read, stamped with the run's time), the brand's policy, the
/// customers with their stats, balances, moves down and latest orders, their scores,
/// what was already sent to them; then one insert each for the vouchers,
/// the treated and the held-out members and the outbox, and the campaign's budget.
const STATEMENTS_PER_RUN: usize = 19;

/// Customers `from..to`, each with SMS consent and `orders` orders a day apart.
async fn customers(services: &Services, brand: BrandId, from: u64, to: u64, orders: i64) {
    let now = OffsetDateTime::now_utc();
    for n in from..to {
        regulars_tests::sms_customer(services, brand, n, "Lan")
            .await
            .unwrap_or_else(|e| panic!("customer {n}: {e}"));
        for k in 0..orders {
            let at = now - Duration::days(k + 1) - Duration::minutes(n as i64);
            services
                .ingest_order(
                    brand,
                    regulars_tests::order(brand, &format!("W-{n}-{k}"), n, at, 1),
                )
                .await
                .unwrap_or_else(|e| panic!("order {n}-{k}: {e}"));
        }
    }
}

/// Runs a voucher broadcast holding out `holdout` of every customer with `services` and
/// returns its statements and its run; the campaign is ended after, so the next run is
/// alone.
async fn broadcast(
    services: &Services,
    log: &Mutex<Vec<String>>,
    brand: BrandId,
    reward: &str,
    holdout: f64,
) -> (Vec<String>, CampaignRunReport) {
    let document = json!({"name": "Ưu đãi", "trigger": {"type": "broadcast"},
        "offer": {"type": "fixed", "reward": {"reward_id": reward,
                  "cost": {"amount": "20000", "currency": "VND"}}},
        "template": "Mã {{code}}: {{reward}}.",
        "channels": ["sms"], "holdout": holdout, "frequency_cap": null});
    run_alone(services, log, brand, &document).await
}

/// Creates and launches the campaign `document`, runs the brand's campaigns with
/// `services` and returns the run's statements and its report; the campaign is ended
/// after, so the next run is alone.
async fn run_alone(
    services: &Services,
    log: &Mutex<Vec<String>>,
    brand: BrandId,
    document: &serde_json::Value,
) -> (Vec<String>, CampaignRunReport) {
    let record = services
        .create_campaign(brand, document)
        .await
        .unwrap_or_else(|e| panic!("campaign: {e}"));
    services
        .set_campaign_status(brand, record.id, CampaignAction::Launch)
        .await
        .unwrap_or_else(|e| panic!("launch: {e}"));
    taken(log);
    let runs = services
        .run_campaigns(brand)
        .await
        .unwrap_or_else(|e| panic!("run: {e}"));
    let statements = taken(log);
    services
        .set_campaign_status(brand, record.id, CampaignAction::End)
        .await
        .unwrap_or_else(|e| panic!("end: {e}"));
    let run = runs.into_iter().next().unwrap_or_else(|| panic!("no run"));
    (statements, run)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_is_written_with_one_statement_per_table_however_many_customers_it_holds() {
    for target in targets("campaign_writes").await {
        let (name, w) = (target.name, &target.world);
        let (services, log) = observed(&target.url).await;
        let reward = w.reward.to_string();
        // Nobody held out of the first page: which customers a hold-out draws is a hash
        // of random ids, and the page must send (a voucher, a message) to be compared.
        customers(&w.services, w.brand, 7_000, 7_004, 1).await;
        let (few, run) = broadcast(&services, &log, w.brand, &reward, 0.0).await;
        assert!(
            run.messages == 4 && run.vouchers == 4 && run.held_out == 0,
            "{name}: {run:?}"
        );

        // Ten times the customers, some with a long history: the same statements.
        customers(&w.services, w.brand, 7_004, 7_040, 1).await;
        customers(&w.services, w.brand, 7_040, 7_044, 12).await;
        let (many, run) = broadcast(&services, &log, w.brand, &reward, 0.2).await;
        assert!(
            run.messages > 0 && run.vouchers == run.messages && run.messages + run.held_out == 44,
            "{name}: {run:?}"
        );
        eprintln!(
            "{name}: {} statements for a page of 4 customers, {} for a page of 44",
            few.len(),
            many.len()
        );
        // Members are added in two inserts, the treated and the held out (none are held out
        // of the first page): counted apart, each at most once.
        let members = |all: &[String]| {
            all.iter()
                .filter(|sql| sql.contains("INSERT INTO \"campaign_members\""))
                .count()
        };
        assert!(members(&many) <= 2, "{name}: {many:#?}");
        assert!(
            many.len() - members(&many) <= few.len() - members(&few),
            "{name}: {} statements for 4 customers, {} for 44: {many:#?}",
            few.len(),
            many.len()
        );
        assert!(
            many.len() <= STATEMENTS_PER_RUN,
            "{name}: {} statements: {many:#?}",
            many.len()
        );
        let lines = many
            .iter()
            .filter(|sql| sql.contains("order_lines"))
            .count();
        assert_eq!(
            lines, 0,
            "{name}: a campaign reads no order lines: {many:#?}"
        );
    }
}

/// A `points_expiring` campaign finds each customer's next expiring points in the stored
/// lots, one statement for the page: a page of ten times the customers, some with a long
/// history, costs the same statements, and none reads the ledger's entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_points_expiring_page_reads_the_lots_in_one_statement_and_no_ledger() {
    for target in targets("campaign_writes_expiring").await {
        let (name, w) = (target.name, &target.world);
        let (services, log) = observed(&target.url).await;
        // The fixture's points are valid 365 days: every customer's expire within 366.
        let document = json!({"name": "Điểm sắp hết hạn",
            "trigger": {"type": "points_expiring", "within_days": 366},
            "template": "{{points}} điểm hết hạn ngày {{expiry_date}}.",
            "channels": ["sms"], "holdout": 0, "frequency_cap": null});
        customers(&w.services, w.brand, 7_100, 7_104, 1).await;
        let (few, run) = run_alone(&services, &log, w.brand, &document).await;
        assert_eq!(run.messages, 4, "{name}: {few:#?}");

        customers(&w.services, w.brand, 7_104, 7_140, 1).await;
        customers(&w.services, w.brand, 7_140, 7_144, 12).await;
        let (many, run) = run_alone(&services, &log, w.brand, &document).await;
        assert_eq!(run.messages, 44, "{name}: {many:#?}");
        eprintln!(
            "{name}: {} statements for a page of 4 customers, {} for a page of 44",
            few.len(),
            many.len()
        );
        assert_eq!(
            many.len(),
            few.len(),
            "{name}: {} statements for 4 customers, {} for 44: {many:#?}",
            few.len(),
            many.len()
        );
        assert!(
            many.len() <= STATEMENTS_PER_RUN,
            "{name}: {} statements: {many:#?}",
            many.len()
        );
        let lots = many
            .iter()
            .filter(|sql| sql.contains("account_lots"))
            .count();
        assert_eq!(lots, 1, "{name}: one read of the page's lots: {many:#?}");
        let ledger = many
            .iter()
            .filter(|sql| sql.contains("ledger_entries"))
            .count();
        assert_eq!(ledger, 0, "{name}: no read of the ledger: {many:#?}");
    }
}
