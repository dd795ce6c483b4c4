//! `regulars demo --no-serve` on a small population: the year runs through the real use
//! cases, the ledger is clean, and the campaigns were delivered and can be judged.

use crate::{databases, printed, run};
use regulars::system::{OsIdGen, SystemClock};
use regulars_domain::BrandId;
use regulars_loyalty::referrals::RefusalReason;
use regulars_ports::OutboxStatus;
use regulars_service::{Scope, Services};
use regulars_store::{Store, StoreOptions};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_tells_a_year_with_campaigns() {
    for db in databases("demo") {
        let demo = run(
            &db,
            &["demo", "--no-serve", "--customers", "150", "--seed", "11"],
        );
        assert!(
            demo.success,
            "{}: demo failed\n{}\n{}",
            db.name, demo.stdout, demo.stderr
        );
        let out = &demo.stdout;
        for needle in [
            "The year of",
            "came back at least once",
            "Win back",
            "Happy birthday",
            "joined:",
            "consent granted:",
            "opt-outs:",
            "campaign runs skipped:",
            "stamp card",
            "referrals:",
            "ratings by shop",
            "goal: repeat_rate",
            "The campaign results are simulated",
        ] {
            assert!(out.contains(needle), "{}: no {needle:?} in\n{out}", db.name);
        }
        let doors = door_figures(out);
        assert!(
            doors.poster > 0 && doors.till > 0 && doors.pos > 0,
            "{}: every door is used\n{out}",
            db.name
        );
        assert_eq!(
            doors.poster + doors.till + doors.pos,
            doors.customers,
            "{}: every customer joined through one door\n{out}",
            db.name
        );
        for (channel, (granted, opted_out)) in &doors.channels {
            assert!(
                opted_out <= granted,
                "{}: {channel}: {opted_out} opt-outs of {granted} consents\n{out}",
                db.name
            );
        }
        // The ledger the demo built is consistent when checked from outside.
        let check = run(&db, &["check-ledger"]);
        assert!(
            check.success,
            "{}: {}\n{}",
            db.name, check.stdout, check.stderr
        );
        assert!(
            check.stdout.contains(" 0 mismatches, 0 invalid"),
            "{}",
            check.stdout
        );

        // Messages went through the file channel, one JSON line each, next to the
        // SQLite database (in the working directory for PostgreSQL).
        let file = db.dir().join("regulars-demo-messages.jsonl");
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
            panic!(
                "{}: no messages file {}: {e}\n{out}",
                db.name,
                file.display()
            )
        });
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(!lines.is_empty());
        assert!(
            lines
                .iter()
                .all(|m| m["body"].as_str().is_some_and(|b| !b.is_empty()))
        );
        assert!(
            out.contains(file.file_name().unwrap().to_str().unwrap()),
            "{out}"
        );

        // The campaigns, read back through the use cases.
        let brand: BrandId = printed(out, "brand ")
            .split(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let store = Store::connect(&db.url, StoreOptions::default())
            .await
            .unwrap();
        let services = Services::new(Arc::new(store), Arc::new(SystemClock), Arc::new(OsIdGen));
        let campaigns = services.campaigns(brand, None, 10).await.unwrap();
        assert_eq!(campaigns.len(), 2, "{}", db.name);
        let mut compared = 0;
        let mut sent_total = 0;
        let mut redeemed = 0;
        for campaign in &campaigns {
            let report = services.campaign_report(brand, campaign.id).await.unwrap();
            let sent = report
                .messages
                .get(&OutboxStatus::Sent)
                .copied()
                .unwrap_or(0);
            assert_eq!(
                report.messages.values().sum::<u64>(),
                sent,
                "{}: every message of {} is sent: {:?}",
                db.name,
                campaign.name,
                report.messages
            );
            sent_total += sent;
            assert!(
                report.treated <= sent,
                "{}: every treated customer got a message",
                db.name
            );
            redeemed += report.vouchers_redeemed;
            assert!(report.vouchers_issued >= report.vouchers_redeemed);
            if report.treated > 0 && report.held_out > 0 {
                compared += 1;
                assert!(report.attribution.is_ok() || report.held_out < 2);
            }
        }
        let codes = lines
            .iter()
            .filter(|m| m["data"].get("otp").is_some())
            .count();
        // Low ratings reached the shops' managers by email.
        let notices = lines
            .iter()
            .filter(|m| m["data"].get("otp").is_none() && m["promotional"] == false)
            .count();
        assert!(notices > 0, "{}: no low rating reached a manager", db.name);
        // Members who tried an invite they cannot use proved their phone too: their own
        // invite, or a friend's (refused as a member already, or, for a member who once
        // joined through an invite, as referred before — that reason is checked first).
        let referrals = services.referral_counts(brand).await.unwrap();
        let members_again: u64 = referrals
            .refused
            .iter()
            .filter(|(r, _)| {
                matches!(
                    r,
                    RefusalReason::SelfReferral
                        | RefusalReason::ExistingCustomer
                        | RefusalReason::AlreadyReferred
                )
            })
            .map(|(_, n)| n)
            .sum();
        assert_eq!(
            codes as u64,
            doors.poster + members_again,
            "{}: one sign-up code per poster sign-up ({:?})",
            db.name,
            referrals.refused
        );
        assert_eq!(
            sent_total as usize,
            lines.len() - codes - notices,
            "{}: one line per sent campaign message",
            db.name
        );
        let win_back = campaigns
            .iter()
            .find(|c| c.name.contains("Win back"))
            .unwrap();
        let report = services.campaign_report(brand, win_back.id).await.unwrap();
        assert!(
            report.treated > 0 && report.held_out > 0,
            "{}: both groups of the win-back campaign are non-empty: {report:?}",
            db.name
        );
        assert!(compared >= 1);
        let definition: serde_json::Value = serde_json::from_str(&win_back.definition).unwrap();
        let variants = definition["variants"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            variants.len(),
            2,
            "{}: the win-back tests two offers: {definition}",
            db.name
        );
        assert!(
            report.variants.len() == 2 && report.variants.iter().all(|v| v.treated > 0),
            "{}: both offers went out: {:?}",
            db.name,
            report.variants
        );
        let verdict = report.verdict.as_ref();
        println!(
            "{}: win-back variants {:?}, verdict {verdict:?}",
            db.name,
            report
                .variants
                .iter()
                .map(|v| (&v.name, v.treated, v.vouchers_redeemed))
                .collect::<Vec<_>>()
        );
        assert!(
            verdict.is_some(),
            "{}: the report compares the two offers",
            db.name
        );
        // The story shows each offer and the verdict on them, as the report has it.
        for v in &report.variants {
            let line = format!("variant \"{}\": {} messaged", v.name, v.treated);
            assert!(out.contains(&line), "{}: no {line:?} in\n{out}", db.name);
        }
        let said = match verdict {
            Some(v) if v.sure => "    winner: ",
            _ => "    not yet sure which offer is better: ",
        };
        assert!(out.contains(said), "{}: no {said:?} in\n{out}", db.name);
        programmes_have_figures(&services, brand, db.name).await;
        // Some of the customers who got a voucher came back and used it.
        assert!(
            redeemed > 0,
            "{}: no campaign voucher was redeemed\n{out}",
            db.name
        );
    }
}

#[test]
fn the_same_seed_tells_the_same_story() {
    let story = |db: &crate::Scratch| {
        let out = run(
            db,
            &[
                "demo",
                "--no-serve",
                "--customers",
                "40",
                "--days",
                "120",
                "--seed",
                "5",
            ],
        );
        assert!(out.success, "{}\n{}", out.stdout, out.stderr);
        // Ids differ between runs; the numbers of the year do not.
        out.stdout
            .lines()
            .filter(|l| l.contains("customers made") || l.contains("points earned"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let a = crate::databases("demo_seed_a").remove(0);
    let b = crate::databases("demo_seed_b").remove(0);
    let first = story(&a);
    assert!(first.contains("customers made"), "{first}");
    assert_eq!(first, story(&b));
}

/// The stamp card, referrals, ratings by shop and the goal exist with figures.
async fn programmes_have_figures(services: &Services, brand: BrandId, db: &str) {
    let cards = services.stamp_cards(brand).await.unwrap();
    assert_eq!(cards.len(), 1, "{db}: one stamp card");
    let referrals = services.referral_counts(brand).await.unwrap();
    assert!(
        referrals.rewarded > 0 && referrals.signed_up >= referrals.rewarded,
        "{db}: {referrals:?}"
    );
    for reason in [RefusalReason::SelfReferral, RefusalReason::ExistingCustomer] {
        assert!(
            referrals
                .refused
                .iter()
                .any(|(r, n)| *r == reason && *n > 0),
            "{db}: no {reason:?} refusal: {referrals:?}"
        );
    }
    let today = time::OffsetDateTime::now_utc().date();
    let ratings = services
        .ratings_report(
            brand,
            &Scope::Brand,
            Some(today - time::Duration::days(400)),
            Some(today + time::Duration::days(1)),
        )
        .await
        .unwrap();
    let shops = ratings
        .report
        .by_location
        .iter()
        .filter(|row| row.summary.count > 0)
        .count();
    assert!(shops >= 3, "{db}: ratings by shop: {:?}", ratings.report);
    assert!(
        ratings.report.by_week.len() >= 8,
        "{db}: ratings over weeks"
    );
    assert!(ratings.report.total.low > 0, "{db}: some low ratings");
    let goals = services.goal_views(brand, &Scope::Brand).await.unwrap();
    assert_eq!(goals.len(), 1, "{db}: the owner's goal");
    assert!(goals[0].current.is_some(), "{db}: {:?}", goals[0]);
    assert!(
        goals[0].goal.path.target_value > goals[0].goal.path.start_value,
        "{db}: {:?}",
        goals[0]
    );
}

/// The story's figures about how customers joined and their consent.
struct DoorFigures {
    customers: u64,
    poster: u64,
    till: u64,
    pos: u64,
    /// Per channel: consents granted, opt-outs.
    channels: Vec<(&'static str, (u64, u64))>,
}

/// The numbers in a line, in order.
fn numbers(line: &str) -> Vec<u64> {
    line.split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().unwrap())
        .collect()
}

fn door_figures(out: &str) -> DoorFigures {
    let line = |start: &str| {
        out.lines()
            .map(str::trim)
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line {start:?} in\n{out}"))
    };
    let customers = out
        .lines()
        .find(|l| l.contains("customers made"))
        .map(|l| numbers(l)[0])
        .unwrap_or_else(|| panic!("no customer count in\n{out}"));
    let joined = numbers(line("joined:"));
    let granted = numbers(line("consent granted:"));
    let opted_out = numbers(line("opt-outs:"));
    // "Zalo n (poster a, till b, POS c), SMS …": totals are every fourth number.
    let channels = ["Zalo", "SMS", "email"]
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let [total, poster, till, pos] = [0, 1, 2, 3].map(|k| granted[4 * i + k]);
            assert_eq!(total, poster + till + pos, "{name}: {granted:?}");
            (name, (total, opted_out[i]))
        })
        .collect();
    DoorFigures {
        customers,
        poster: joined[0],
        till: joined[1],
        pos: joined[2],
        channels,
    }
}
