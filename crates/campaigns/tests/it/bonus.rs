//! `bonus_points` offers: validation naming `offer.points`, the text, the cost at the
//! programme's point value, and the budget capping the points planned.

use super::{campaign, customer};
use proptest::prelude::*;
use regulars_campaigns::{Campaign, CampaignError, Outcome, SkipReason, plan};
use regulars_domain::{Currency, Money, Points};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-03-02 03:00 UTC); // 10:00 in Vietnam

fn vnd(n: i64) -> Money {
    Money::from_minor_units(n, Currency::VND)
}

fn bonus(points: i64, budget: Option<i64>, value: Option<i64>) -> Campaign {
    let mut c = campaign(json!({
        "offer": {"type": "bonus_points", "points": points},
        "budget": budget.map(|b| json!({"amount": b.to_string(), "currency": "VND"})),
    }));
    c.point_value = value.map(vnd);
    c
}

fn path_of(doc: serde_json::Value) -> String {
    let mut base = json!({
        "id": regulars_domain::CampaignId::from_bytes([9; 16]),
        "name": "Test", "shop": "S", "currency": "VND",
        "trigger": {"type": "broadcast"},
    });
    for (k, v) in doc.as_object().unwrap() {
        base[k] = v.clone();
    }
    match Campaign::from_json(&base.to_string()) {
        Err(CampaignError::Invalid { path, .. }) => path,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn points_out_of_range_are_refused_naming_the_field() {
    for points in [0, -5, 1_000_001] {
        let doc = json!({"offer": {"type": "bonus_points", "points": points}});
        assert_eq!(path_of(doc), "offer.points", "{points}");
    }
    assert_eq!(
        path_of(json!({"offer": {"type": "bonus_points"}})),
        "offer",
        "a missing points field"
    );
    assert_eq!(
        path_of(json!({"offer": {"type": "bonus_points", "points": 5},
                        "template": "Mã {{code}}"})),
        "template"
    );
    assert_eq!(
        path_of(json!({"template": "Tặng {{bonus_points}} điểm"})),
        "template"
    );
}

#[test]
fn the_text_says_the_points_and_the_offer_carries_them() {
    let c = bonus(1500, None, Some(100));
    let p = plan(&c, &[customer(1)], NOW, &[], vnd(0)).unwrap();
    let Outcome::Send(m) = &p.outcomes[0] else {
        panic!("expected a message: {p:?}")
    };
    assert_eq!(
        m.text,
        "[QC] bạn ơi, Trà Sữa Mây tặng bạn 1.500 điểm thưởng, đã cộng vào tài khoản."
    );
    let offer = m.offer.as_ref().unwrap();
    assert_eq!(offer.bonus_points, Some(Points::new(1500)));
    assert_eq!(offer.reward_id, None);
    assert_eq!(offer.cost, vnd(150_000));
    assert!(m.promotional, "an offer is marketing");
    assert!(!m.text.contains("{{code}}"));

    let own = campaign(json!({
        "offer": {"type": "bonus_points", "points": 20},
        "template": "Tặng {{bonus_points}} điểm ({{reward}})",
    }));
    let p = plan(&own, &[customer(1)], NOW, &[], vnd(0)).unwrap();
    let Outcome::Send(m) = &p.outcomes[0] else {
        panic!()
    };
    assert_eq!(m.text, "[QC] Tặng 20 điểm (20 điểm)");
    // Without a point value the points cost nothing against the budget.
    assert_eq!(m.offer.as_ref().unwrap().cost, vnd(0));
}

#[test]
fn the_budget_caps_the_points_planned() {
    // 50 points at 100 đồng = 5,000 a message; 12,000 pays for two.
    let c = bonus(50, Some(12_000), Some(100));
    let customers: Vec<_> = (1..=5).map(customer).collect();
    let p = plan(&c, &customers, NOW, &[], vnd(0)).unwrap();
    assert_eq!(p.messages().count(), 2);
    assert_eq!(p.skipped(SkipReason::BudgetExhausted), 3);
    assert_eq!(p.budget_used, vnd(10_000));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Planned points times the point value, plus what was used, never exceed the
    /// budget, and the budget used grows by exactly that.
    #[test]
    fn planned_points_times_value_stay_within_budget(
        points in 1i64..5_000,
        value in 0i64..2_000,
        budget in 0i64..2_000_000,
        used in 0i64..1_000_000,
        n in 1u32..40,
    ) {
        let c = bonus(points, Some(budget), Some(value));
        let customers: Vec<_> = (1..=n).map(customer).collect();
        let p = plan(&c, &customers, NOW, &[], vnd(used)).unwrap();
        let planned: i64 = p
            .messages()
            .map(|m| m.offer.as_ref().unwrap().bonus_points.unwrap().value())
            .sum();
        let cost = planned * value;
        prop_assert_eq!(p.budget_used, vnd(used + cost));
        prop_assert!(cost == 0 || used + cost <= budget);
        let each = points * value;
        // Nobody is turned away while the budget still pays for one more.
        if p.skipped(SkipReason::BudgetExhausted) > 0 {
            prop_assert!(used + cost + each > budget);
        }
    }
}
