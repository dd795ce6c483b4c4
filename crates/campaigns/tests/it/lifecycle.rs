//! The lifecycle triggers: welcome, reward affordable or nearly there, voucher expiring.

use super::{campaign, customer};
use proptest::prelude::*;
use regulars_campaigns::{Campaign, CampaignError, Outcome, SentMessage, VoucherExpiry, plan};
use regulars_domain::{Currency, Money, Points, VoucherId};
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-03-02 03:00 UTC); // 10:00 in Vietnam

fn zero() -> Money {
    Money::zero(Currency::VND)
}

fn with_costs(trigger: serde_json::Value, costs: &[i64]) -> Campaign {
    let mut c = campaign(json!({ "trigger": trigger }));
    c.reward_costs = costs.iter().copied().map(Points::new).collect();
    c
}

/// The dedupe key of the one message planned, if any.
fn key(
    c: &Campaign,
    f: &regulars_campaigns::CustomerFacts,
    history: &[SentMessage],
) -> Option<String> {
    let p = plan(c, std::slice::from_ref(f), NOW, history, zero()).unwrap();
    match &p.outcomes[0] {
        Outcome::Send(m) => Some(m.dedupe_key.clone()),
        Outcome::Skip { .. } => None,
    }
}

fn sent_as(f: &regulars_campaigns::CustomerFacts, c: &Campaign, dedupe_key: String) -> SentMessage {
    SentMessage {
        campaign_id: c.id,
        customer_id: f.customer_id,
        phone: f.phone.clone(),
        send_at: NOW - Duration::days(30),
        promotional: true,
        dedupe_key,
    }
}

#[test]
fn welcome_goes_once_to_a_customer_who_joined_within_the_days() {
    let c = campaign(json!({"trigger": {"type": "welcome", "within_days": 3}}));
    let mut f = customer(1);
    assert_eq!(key(&c, &f, &[]), None, "joined when is unknown");
    f.joined_at = Some(NOW - Duration::days(4));
    assert_eq!(key(&c, &f, &[]), None, "joined too long ago");
    f.joined_at = Some(NOW - Duration::hours(1));
    let k = key(&c, &f, &[]).unwrap();
    assert!(k.ends_with(":welcome"), "{k}");
    assert_eq!(
        key(&c, &f, &[sent_as(&f, &c, k)]),
        None,
        "once per customer"
    );
}

#[test]
fn reward_affordable_fires_once_per_multiple_of_the_cheapest_reward() {
    let c = with_costs(json!({"type": "reward_affordable"}), &[0, 100, 40]);
    let mut f = customer(2);
    f.points_balance = Points::new(39);
    assert_eq!(key(&c, &f, &[]), None);
    f.points_balance = Points::new(40);
    let first = key(&c, &f, &[]).unwrap();
    assert!(first.ends_with(":affordable-40-1"), "{first}");
    f.points_balance = Points::new(79);
    assert_eq!(
        key(&c, &f, &[sent_as(&f, &c, first)]),
        None,
        "same multiple"
    );
    f.points_balance = Points::new(80);
    assert!(key(&c, &f, &[]).unwrap().ends_with(":affordable-40-2"));
    let none = with_costs(json!({"type": "reward_affordable"}), &[]);
    assert_eq!(key(&none, &f, &[]), None, "no catalogue, nothing to afford");
}

#[test]
fn reward_nearly_fires_within_the_points_away() {
    let c = with_costs(json!({"type": "reward_nearly", "points_away": 10}), &[40]);
    let mut f = customer(3);
    f.points_balance = Points::new(29);
    assert_eq!(key(&c, &f, &[]), None);
    f.points_balance = Points::new(30);
    assert!(key(&c, &f, &[]).unwrap().ends_with(":nearly-40-1"));
    f.points_balance = Points::new(40);
    assert_eq!(key(&c, &f, &[]), None, "affordable, not nearly");
    f.points_balance = Points::new(75);
    assert!(key(&c, &f, &[]).unwrap().ends_with(":nearly-40-2"));
}

#[test]
fn voucher_expiring_names_the_voucher_and_its_date() {
    let c = campaign(
        json!({"trigger": {"type": "voucher_expiring", "days_before": 3},
                            "template": "Dùng trước {{expiry_date}}"}),
    );
    let mut f = customer(4);
    let voucher = VoucherId::from_bytes([5; 16]);
    f.expiring_voucher = Some(VoucherExpiry {
        voucher_id: voucher,
        at: NOW + Duration::days(4),
    });
    assert_eq!(key(&c, &f, &[]), None, "not yet");
    f.expiring_voucher = Some(VoucherExpiry {
        voucher_id: voucher,
        at: NOW + Duration::days(2),
    });
    let p = plan(&c, std::slice::from_ref(&f), NOW, &[], zero()).unwrap();
    let Outcome::Send(m) = &p.outcomes[0] else {
        panic!("{p:?}")
    };
    assert!(m.dedupe_key.ends_with(&format!(":voucher-{voucher}")));
    assert_eq!(m.text, "[QC] Dùng trước 04/03/2026");
    f.expiring_voucher = Some(VoucherExpiry {
        voucher_id: voucher,
        at: NOW - Duration::hours(1),
    });
    assert_eq!(key(&c, &f, &[]), None, "already expired");
}

#[test]
fn spans_are_bounded_and_named() {
    for (trigger, path) in [
        (
            json!({"type": "welcome", "within_days": 0}),
            "trigger.within_days",
        ),
        (
            json!({"type": "welcome", "within_days": 367}),
            "trigger.within_days",
        ),
        (
            json!({"type": "reward_nearly", "points_away": 0}),
            "trigger.points_away",
        ),
        (
            json!({"type": "reward_nearly", "points_away": 1_000_001}),
            "trigger.points_away",
        ),
        (
            json!({"type": "voucher_expiring", "days_before": 0}),
            "trigger.days_before",
        ),
        (
            json!({"type": "voucher_expiring", "days_before": 367}),
            "trigger.days_before",
        ),
    ] {
        let doc = json!({"id": "00000000-0000-0000-0000-000000000001", "name": "X",
                         "shop": "S", "currency": "VND", "trigger": trigger});
        let err = Campaign::from_json(&doc.to_string()).unwrap_err();
        assert!(
            matches!(&err, CampaignError::Invalid { path: p, .. } if p == path),
            "{trigger}: {err:?}"
        );
    }
}

proptest! {
    /// Affordable and nearly never fire together; affordable fires exactly when the
    /// balance pays for the cheapest reward; nearly exactly when the balance is at most
    /// `points_away` short of the next multiple of it.
    #[test]
    fn reward_triggers_match_the_balance(
        balance in -1_000i64..100_000,
        costs in prop::collection::vec(0i64..5_000, 0..4),
        away in 1u32..10_000,
    ) {
        let affordable = with_costs(json!({"type": "reward_affordable"}), &costs);
        let nearly = with_costs(json!({"type": "reward_nearly", "points_away": away}), &costs);
        let mut f = customer(7);
        f.points_balance = Points::new(balance);
        let a = key(&affordable, &f, &[]);
        let n = key(&nearly, &f, &[]);
        let cheapest = costs.iter().copied().filter(|c| *c > 0).min();
        match cheapest {
            None => prop_assert!(a.is_none() && n.is_none()),
            Some(cost) => {
                prop_assert_eq!(a.is_some(), balance >= cost);
                let b = balance.max(0);
                let short = (b / cost + 1) * cost - b;
                prop_assert_eq!(n.is_some(), short <= i64::from(away));
                if balance >= cost && b % cost == 0 {
                    // Exactly a multiple: affordable, and the next one is a whole cost away.
                    prop_assert_eq!(short, cost);
                }
            }
        }
    }

    /// A welcome is planned at most once per customer, whatever the history of other
    /// campaigns and however often it is planned.
    #[test]
    fn a_welcome_goes_at_most_once(hours in 0i64..400, runs in 1usize..5) {
        let c = campaign(json!({"trigger": {"type": "welcome"}}));
        let mut f = customer(8);
        f.joined_at = Some(NOW - Duration::hours(hours));
        let mut history = Vec::new();
        let mut sent = 0;
        for _ in 0..runs {
            if let Some(k) = key(&c, &f, &history) {
                sent += 1;
                history.push(sent_as(&f, &c, k));
            }
        }
        prop_assert_eq!(sent, usize::from(hours <= 7 * 24));
    }
}
