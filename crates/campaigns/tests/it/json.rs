use super::{campaign, free_item};
use regulars_campaigns::{Audience, Campaign, CampaignError, Offer, Policy, SendTime, Trigger};
use serde_json::json;

fn invalid_path(doc: serde_json::Value) -> String {
    match Campaign::from_json(&doc.to_string()) {
        Err(CampaignError::Invalid { path, .. }) => path,
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn base() -> serde_json::Value {
    json!({
        "id": "00000000-0000-0000-0000-000000000009",
        "name": "Win back",
        "shop": "Cà phê Sáng",
        "currency": "VND",
        "trigger": {"type": "overdue", "factor": 2.0},
    })
}

#[test]
fn defaults_are_vietnamese() {
    let c = Campaign::from_json(&base().to_string()).unwrap();
    assert_eq!(c.policy, Policy::vietnam_decree_91());
    assert_eq!(c.holdout, 0.1);
    assert_eq!(c.send_time, SendTime::Now);
    assert_eq!(c.utc_offset.whole_hours(), 7);
    assert_eq!(c.trigger, Trigger::Overdue { factor: 2.0 });
    assert!(c.is_promotional());
    let back: Campaign = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
}

#[test]
fn a_full_document_reads() {
    let mut doc = base();
    doc["audience"] = json!({"rule": "recency_days > 30 and frequency >= 3"});
    doc["offer"] = json!({
        "type": "personalised",
        "candidates": [free_item(1, "TS-OOLONG", 15_000), free_item(2, "CF-SUA", 12_000)],
        "max_cost_per_customer": {"amount": "15000", "currency": "VND"},
    });
    doc["budget"] = json!({"amount": "5000000", "currency": "VND"});
    doc["send_time"] = json!({"type": "preferred_hour", "fallback_hour": 9});
    doc["utc_offset"] = json!("+08:00");
    doc["channels"] = json!(["sms", "zalo"]);
    doc["template"] = json!("{{name}}: {{reward}} ({{expiry_date}})");
    let c = Campaign::from_json(&doc.to_string()).unwrap();
    assert!(matches!(c.audience, Some(Audience::Rule(_))));
    assert!(
        matches!(c.offer, Some(Offer::Personalised { ref candidates, .. }) if candidates.len() == 2)
    );
    assert_eq!(c.utc_offset.whole_hours(), 8);
    let _ = campaign(json!({}));
}

#[test]
fn errors_name_the_field() {
    let mut doc = base();
    doc["trigger"] = json!({"type": "overdue", "factor": -1});
    assert_eq!(invalid_path(doc), "trigger.factor");

    let mut doc = base();
    doc["holdout"] = json!(0.9);
    assert_eq!(invalid_path(doc), "holdout");

    let mut doc = base();
    doc["audience"] = json!({"rule": "recency_days > \"x\""});
    assert_eq!(invalid_path(doc), "audience.rule");

    let mut doc = base();
    doc["offer"] = json!({
        "type": "personalised",
        "candidates": [free_item(1, "A", 1000), free_item(2, "B", 1000)],
        "max_cost_per_customer": {"amount": "15000", "currency": "VND"},
    });
    doc["offer"]["candidates"][1]["cost"]["currency"] = json!("USD");
    assert_eq!(invalid_path(doc), "offer.candidates[1].cost");

    let mut doc = base();
    doc["template"] = json!("Hi {{nickname}}");
    assert_eq!(invalid_path(doc), "template");

    let mut doc = base();
    doc["template"] = json!("Take {{reward}}");
    assert_eq!(invalid_path(doc), "template");

    let mut doc = base();
    doc["send_time"] = json!({"type": "fixed_hour", "hour": 24});
    assert_eq!(invalid_path(doc), "send_time.hour");

    let mut doc = base();
    doc["policy"] = json!({"allowed_hours": {"start_hour": 22, "end_hour": 7}});
    assert_eq!(invalid_path(doc), "policy.allowed_hours");

    let mut doc = base();
    doc["colour"] = json!("red");
    assert_eq!(invalid_path(doc), "colour");

    let mut doc = base();
    doc["channels"] = json!(["sms", "sms"]);
    assert_eq!(invalid_path(doc), "channels[1]");

    assert!(matches!(
        Campaign::from_json("{\"id\": "),
        Err(CampaignError::Syntax { line: 1, .. })
    ));
}

/// Every span a campaign names is bounded: planning shifts dates by it, and a span past
/// the supported dates once panicked the planner.
#[test]
fn every_span_is_bounded() {
    let cases = [
        (
            json!({"frequency_cap": {"max": 1, "days": 367}}),
            "frequency_cap.days",
        ),
        (
            json!({"frequency_cap": {"max": 1, "days": 4_000_000_000u32}}),
            "frequency_cap.days",
        ),
        (
            json!({"frequency_cap": {"max": 0, "days": 7}}),
            "frequency_cap.max",
        ),
        (
            json!({"policy": {"cap_window_hours": 745}}),
            "policy.cap_window_hours",
        ),
        (
            json!({"policy": {"cap_window_hours": 4_000_000_000u32}}),
            "policy.cap_window_hours",
        ),
        (json!({"attribution_days": 366}), "attribution_days"),
        (
            json!({"trigger": {"type": "after_purchase", "within_hours": 745}}),
            "trigger.within_hours",
        ),
        (
            json!({"trigger": {"type": "after_purchase", "within_hours": 0}}),
            "trigger.within_hours",
        ),
        (
            json!({"trigger": {"type": "birthday", "days_before": 61}}),
            "trigger.days_before",
        ),
        (
            json!({"trigger": {"type": "tier_upgrade", "within_days": 367}}),
            "trigger.within_days",
        ),
        (
            json!({"trigger": {"type": "points_expiring", "within_days": 367}}),
            "trigger.within_days",
        ),
        (
            json!({"trigger": {"type": "points_expiring", "within_days": 0}}),
            "trigger.within_days",
        ),
    ];
    for (change, path) in cases {
        let mut doc = base();
        for (k, v) in change.as_object().unwrap() {
            doc[k] = v.clone();
        }
        assert_eq!(invalid_path(doc), path, "{change}");
    }
    // The bounds themselves are accepted.
    let mut doc = base();
    doc["frequency_cap"] = json!({"max": 1, "days": 366});
    doc["policy"] = json!({"cap_window_hours": 744});
    doc["attribution_days"] = json!(365);
    assert!(Campaign::from_json(&doc.to_string()).is_ok());
    for trigger in [
        json!({"type": "after_purchase", "within_hours": 744}),
        json!({"type": "birthday", "days_before": 60}),
        json!({"type": "tier_upgrade", "within_days": 366}),
        json!({"type": "points_expiring", "within_days": 366}),
    ] {
        let mut doc = base();
        doc["trigger"] = trigger.clone();
        assert!(Campaign::from_json(&doc.to_string()).is_ok(), "{trigger}");
    }
}

#[test]
fn the_documented_example_reads_and_plans() {
    use regulars_campaigns::{Outcome, plan};
    use regulars_domain::{Currency, Money};
    use time::macros::datetime;
    let c = Campaign::from_json(include_str!(
        "../../../../docs/examples/win-back.campaign.json"
    ))
    .unwrap();
    assert_eq!(c.policy, Policy::vietnam_decree_91());
    // A gold regular, 20 days since the last visit where 10 were expected.
    let now = datetime!(2026-03-02 03:00 UTC);
    let mut lan = super::customer(42);
    lan.name = Some("Lan".into());
    lan.features.frequency = 8;
    lan.features.tier = Some("gold".into());
    lan.last_visit_at = Some(now - time::Duration::days(20));
    lan.next_visit_at = Some(now - time::Duration::days(10));
    lan.favourite_item = Some("TS-OOLONG".into());
    lan.preferred_hour = Some(18);
    let p = plan(&c, &[lan], now, &[], Money::zero(Currency::VND)).unwrap();
    let Outcome::Send(m) = &p.outcomes[0] else {
        panic!("{:?}", p.outcomes[0])
    };
    assert_eq!(m.send_at, datetime!(2026-03-02 18:00 +7));
    assert_eq!(
        m.text,
        "[QC] Lan ơi, Trà Sữa Mây nhớ bạn! Tặng bạn Trà sữa ô long miễn phí, dùng đến 16/03/2026."
    );
    assert_eq!(
        p.budget_used,
        Money::from_minor_units(18_000, Currency::VND)
    );
}
