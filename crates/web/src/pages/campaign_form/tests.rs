#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::fields::{document_of, from_fields, to_fields};
use crate::pages::programme::Fields;
use proptest::prelude::*;
use regulars_campaigns::Campaign;
use regulars_domain::{Currency, Money, Points, RewardId};
use regulars_loyalty::rewards::{Reward, RewardKind};
use serde_json::{Value, json};

fn catalogue() -> Vec<Reward> {
    let reward = |n: u128, name: &str, kind: RewardKind| Reward {
        id: RewardId::from_uuid(uuid::Uuid::from_u128(n)),
        name: name.to_owned(),
        cost: Points::new(100),
        kind,
        active: true,
        validity_days: 14,
        min_order_total: None,
    };
    vec![
        reward(
            1,
            "Trà sữa miễn phí",
            RewardKind::FreeItem {
                sku: "TS-OOLONG".into(),
            },
        ),
        reward(
            2,
            "Trân châu",
            RewardKind::FreeModifier {
                sku: "TOP-PEARL".into(),
            },
        ),
        reward(
            3,
            "Giảm 20.000₫",
            RewardKind::FixedDiscount {
                amount: Money::from_minor_units(20_000, Currency::VND),
            },
        ),
    ]
}

/// What the service does with `reward_id`: the catalogue reward in its place.
fn resolve(doc: &mut Value) {
    let rewards = catalogue();
    let one = |p: &mut Value| {
        let Value::Object(map) = p else { return };
        if let Some(Value::String(id)) = map.remove("reward_id") {
            let r = rewards.iter().find(|r| r.id.to_string() == id).unwrap();
            map.insert("reward".into(), serde_json::to_value(r).unwrap());
        }
    };
    let offer = |o: &mut Value| {
        if let Some(r) = o.get_mut("reward") {
            one(r);
        }
        if let Some(Value::Array(c)) = o.get_mut("candidates") {
            c.iter_mut().for_each(one);
        }
    };
    if let Some(o) = doc.get_mut("offer") {
        offer(o);
    }
    if let Some(Value::Array(vs)) = doc.get_mut("variants") {
        for v in vs {
            if let Some(o) = v.get_mut("offer") {
                offer(o);
            }
        }
    }
    doc["id"] = json!("00000000-0000-0000-0000-0000000000aa");
}

fn money() -> impl Strategy<Value = Value> {
    (0_i64..200_000).prop_map(|n| json!({"amount": (n * 1000).to_string(), "currency": "VND"}))
}

fn priced() -> impl Strategy<Value = Value> {
    (0_usize..3, money()).prop_map(
        |(i, cost)| json!({"reward": serde_json::to_value(&catalogue()[i]).unwrap(), "cost": cost}),
    )
}

fn offer() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        priced().prop_map(|r| json!({"type": "fixed", "reward": r})),
        (prop::collection::vec(priced(), 1..4), money()).prop_map(|(c, m)| json!({
            "type": "personalised", "candidates": c, "max_cost_per_customer": m
        })),
        (1_i64..5000).prop_map(|p| json!({"type": "bonus_points", "points": p})),
    ]
}

fn trigger() -> impl Strategy<Value = Value> {
    prop_oneof![
        (1_u32..100).prop_map(|f| json!({"type": "overdue", "factor": f64::from(f) / 10.0})),
        (1_u32..99)
            .prop_map(|t| json!({"type": "p_alive_below", "threshold": f64::from(t) / 100.0})),
        (0_u32..60).prop_map(|d| json!({"type": "birthday", "days_before": d})),
        (1_u32..700).prop_map(|h| json!({"type": "after_purchase", "within_hours": h})),
        (1_u32..300).prop_map(|d| json!({"type": "welcome", "within_days": d})),
        (1_u32..300).prop_map(|d| json!({"type": "points_expiring", "within_days": d})),
        (1_u32..300).prop_map(|d| json!({"type": "voucher_expiring", "days_before": d})),
        (1_u32..300).prop_map(|p| json!({"type": "reward_nearly", "points_away": p})),
        Just(json!({"type": "broadcast"})),
        Just(json!({"type": "reward_affordable"})),
        (1_u32..30).prop_map(|d| json!({"type": "tier_down", "within_days": d})),
    ]
}

fn audience() -> impl Strategy<Value = Value> {
    let clause = prop_oneof![
        (0_u32..400).prop_map(|d| format!("recency_days > {d}")),
        (1_u32..99).prop_map(|p| format!("p_alive <= 0.{p}")),
        "[a-z\"\\\\ ]{0,6}".prop_map(|t| format!("tier = {}", serde_json::to_string(&t).unwrap())),
        Just("marketing_consent = true".to_owned()),
        Just("frequency != 3".to_owned()),
    ];
    prop_oneof![
        Just(Value::Null),
        prop::sample::select(vec!["Loyal", "At risk", "Quán quen"])
            .prop_map(|s| json!({"segment": s})),
        prop::collection::vec(clause, 1..4).prop_map(|c| json!({"rule": c.join(" and ")})),
        Just(json!({"rule": "tier in (\"gold\", \"silver\") or recency_days between 10 and 20"})),
    ]
}

fn campaign() -> impl Strategy<Value = Campaign> {
    let variant = (
        "[A-Za-z][A-Za-z ]{0,7}",
        offer(),
        prop::option::of("Chào \\{\\{name\\}\\}[a-z ]{0,8}"),
    )
        .prop_map(|(name, offer, template)| {
            let mut v = json!({"name": name, "offer": offer});
            if let Some(t) = template {
                v["template"] = json!(t);
            }
            v
        });
    let channels = prop::sample::subsequence(vec!["zalo", "sms", "email"], 1..=3).prop_shuffle();
    let send = prop_oneof![
        Just(json!({"type": "now"})),
        prop::option::of(0_u8..24)
            .prop_map(|h| json!({"type": "preferred_hour", "fallback_hour": h})),
        (0_u8..24).prop_map(|h| json!({"type": "fixed_hour", "hour": h})),
    ];
    (
        ("[A-Za-zà-ỹ ]{0,10}[a-z]", trigger(), audience(), offer()),
        (
            prop::collection::vec(variant, 0..3),
            prop::option::of("\\{\\{name\\}\\} ơi[a-z ]{0,10}"),
        ),
        (channels, send, 0_u32..=50, prop::option::of(money())),
        (
            prop::option::of((1_u32..5, 1_u32..30)),
            1_u32..365,
            1_u32..=100,
        ),
    )
        .prop_filter_map(
            "valid campaigns",
            |(
                (name, trigger, audience, offer),
                (variants, template),
                (channels, send, holdout, budget),
                (cap, days, margin),
            )| {
                let mut doc = json!({
                    "id": "00000000-0000-0000-0000-0000000000aa",
                    "name": name, "shop": "Mây", "currency": "VND",
                    "trigger": trigger, "audience": audience, "offer": offer,
                    "variants": variants, "template": template, "channels": channels,
                    "send_time": send, "holdout": f64::from(holdout) / 100.0, "budget": budget,
                    "frequency_cap": cap.map(|(max, days)| json!({"max": max, "days": days})),
                    "attribution_days": days, "gross_margin": f64::from(margin) / 100.0,
                });
                if doc["audience"].is_null() {
                    doc.as_object_mut().unwrap().remove("audience");
                }
                Campaign::from_json(&doc.to_string()).ok()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A campaign shown in the form and read back is the same campaign.
    #[test]
    fn campaign_to_form_to_campaign(c in campaign()) {
        let fields = to_fields(&document_of(&c), "VND");
        let (doc, _) = from_fields(&fields);
        let mut doc = doc.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        resolve(&mut doc);
        let back = Campaign::from_json(&doc.to_string())
            .map_err(|e| TestCaseError::fail(format!("{e}: {doc}")))?;
        prop_assert_eq!(back, c);
    }

    /// The form's document shown in the form again gives the same fields.
    #[test]
    fn form_to_json_to_form(c in campaign()) {
        let fields = to_fields(&document_of(&c), "VND");
        let doc = from_fields(&fields).0.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let text = serde_json::to_string_pretty(&doc).unwrap();
        let again = to_fields(&serde_json::from_str(&text).unwrap(), "VND");
        prop_assert_eq!(again, fields);
    }
}

fn posted(pairs: &[(&str, &str)]) -> Fields {
    let mut f = to_fields(
        &json!({"name": "Win back", "shop": "Mây", "currency": "VND", "trigger": {"type": "overdue"}}),
        "VND",
    );
    for (name, value) in pairs {
        match f.0.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = (*value).to_owned(),
            None => f.push(*name, *value),
        }
    }
    f
}

#[test]
fn problems_name_the_field_and_the_row() {
    let f = posted(&[
        ("variants[0].name", ""),
        ("variants[2].name", "B"),
        ("variants[2].offer.type", "fixed"),
        ("audience.kind", "rule"),
        ("audience.rule[1].field", "recency_days"),
        ("audience.rule[1].op", ">"),
        ("audience.rule[1].value", "a month"),
        ("audience.rule[2].field", "tier"),
        ("audience.rule[2].op", "<"),
        ("audience.rule[2].value", "gold"),
        ("trigger.type", "p_alive_below"),
        ("holdout", "ten percent"),
        ("frequency_cap.max", "2"),
        ("frequency_cap.days", ""),
    ]);
    let errors = from_fields(&f).0.unwrap_err();
    for name in [
        "variants[2].offer.reward.reward_id",
        "variants[2].offer.reward.cost",
        "audience.rule[1].value",
        "audience.rule[2].op",
        "trigger.threshold",
        "holdout",
        "frequency_cap.days",
    ] {
        assert!(errors.contains_key(name), "{name} in {errors:?}");
    }
    assert!(
        !errors.keys().any(|k| k.starts_with("variants[0]")),
        "{errors:?}"
    );
}

#[test]
fn a_refusal_of_the_document_is_shown_at_its_form_row() {
    let id = catalogue()[2].id.to_string();
    let f = posted(&[
        ("variants[1].name", "A"),
        ("variants[3].name", "B"),
        ("variants[3].offer.type", "personalised"),
        ("variants[3].offer.candidates[2].reward_id", &id),
        ("variants[3].offer.candidates[2].cost", "5000"),
        ("variants[3].offer.max_cost_per_customer", "30000"),
        ("offer.type", "personalised"),
        ("offer.candidates[2].reward_id", &id),
        ("offer.candidates[2].cost", "-5"),
        ("offer.max_cost_per_customer", "30000"),
        ("channels[0]", ""),
        ("channels[1]", "sms"),
        ("channels[2]", "sms"),
        ("holdout", "0.9"),
    ]);
    let (doc, rows) = from_fields(&f);
    let mut doc = doc.unwrap();
    resolve(&mut doc);
    let refusal = |doc: &Value| match Campaign::from_json(&doc.to_string()) {
        Err(regulars_campaigns::CampaignError::Invalid { path, .. }) => path,
        other => panic!("{other:?}"),
    };
    assert_eq!(rows.field_of(&f, &refusal(&doc)), "holdout");
    doc["holdout"] = json!(0.1);
    assert_eq!(rows.field_of(&f, &refusal(&doc)), "channels[2]");
    doc["channels"] = json!(["sms"]);
    // Variants and a campaign offer do not go together: the refusal names `variants`;
    // without the variants, the offer's own problem is named at its row.
    assert_eq!(refusal(&doc), "variants");
    let variants = doc
        .as_object_mut()
        .and_then(|m| m.remove("variants"))
        .unwrap_or_default();
    assert_eq!(
        rows.field_of(&f, &refusal(&doc)),
        "offer.candidates[2].cost"
    );
    doc["variants"] = variants;
    assert_eq!(
        rows.field_of(&f, "variants[1].offer.candidates[0].cost"),
        "variants[3].offer.candidates[2].cost"
    );
    assert_eq!(rows.field_of(&f, "trigger"), "trigger.type");
    assert_eq!(rows.field_of(&f, "nothing.like.it"), "");
}
