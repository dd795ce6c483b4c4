//! Offer variants: validation, deterministic and balanced assignment independent of the
//! hold-out, planning with each variant's offer and template, and the comparison.

use super::{campaign, customer, free_item};
use proptest::prelude::*;
use regulars_campaigns::compare::{compare, normal_cdf, probability_beats};
use regulars_campaigns::plan::in_holdout;
use regulars_campaigns::{Campaign, CampaignError, Outcome, plan, variant_index};
use regulars_domain::{CampaignId, Currency, CustomerId, Money};
use serde_json::json;
use time::macros::datetime;

fn vnd(n: i64) -> Money {
    Money::from_minor_units(n, Currency::VND)
}

fn invalid(doc: serde_json::Value) -> (String, String) {
    let mut base = json!({
        "id": "00000000-0000-0000-0000-000000000009",
        "name": "Win back",
        "shop": "Cà phê Sáng",
        "currency": "VND",
        "trigger": {"type": "overdue", "factor": 2.0},
    });
    for (k, v) in doc.as_object().unwrap() {
        base[k] = v.clone();
    }
    match Campaign::from_json(&base.to_string()) {
        Err(CampaignError::Invalid { path, message }) => (path, message),
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn two_variants() -> serde_json::Value {
    json!([
        {"name": "Oolong", "offer": {"type": "fixed", "reward": free_item(1, "TS-OOLONG", 15_000)}},
        {"name": "Points", "offer": {"type": "bonus_points", "points": 50},
         "template": "{{name}} ơi, tặng bạn {{reward}}!"},
    ])
}

#[test]
fn variants_are_checked_with_their_paths() {
    let one = json!([{"name": "A"}]);
    assert_eq!(invalid(json!({"variants": one})).0, "variants");
    let six: Vec<_> = (0..6).map(|i| json!({"name": format!("V{i}")})).collect();
    assert_eq!(invalid(json!({"variants": six})).0, "variants");
    let both = json!({"variants": two_variants(),
        "offer": {"type": "fixed", "reward": free_item(1, "TS-OOLONG", 1)}});
    assert_eq!(invalid(both).0, "variants");
    let same = json!([{"name": "A"}, {"name": " A "}]);
    assert_eq!(invalid(json!({"variants": same})).0, "variants[1].name");
    let empty = json!([{"name": "A"}, {"name": "  "}]);
    assert_eq!(invalid(json!({"variants": empty})).0, "variants[1].name");
    let long = json!([{"name": "A"}, {"name": "x".repeat(41)}]);
    assert_eq!(invalid(json!({"variants": long})).0, "variants[1].name");
    let mut usd = two_variants();
    usd[0]["offer"]["reward"]["cost"]["currency"] = json!("USD");
    assert_eq!(
        invalid(json!({"variants": usd})).0,
        "variants[0].offer.reward.cost"
    );
    let mut negative = two_variants();
    negative[0]["offer"]["reward"]["cost"]["amount"] = json!("-1");
    assert_eq!(
        invalid(json!({"variants": negative})).0,
        "variants[0].offer.reward.cost"
    );
    let mut points = two_variants();
    points[1]["offer"]["points"] = json!(0);
    assert_eq!(
        invalid(json!({"variants": points})).0,
        "variants[1].offer.points"
    );
    let mut template = two_variants();
    template[1]["template"] = json!("Hi {{nickname}}");
    assert_eq!(
        invalid(json!({"variants": template})).0,
        "variants[1].template"
    );
    // A variant without an offer cannot use one in its template (the campaign's here).
    let bare = json!({"template": "Take {{reward}}",
        "variants": [{"name": "A", "offer": {"type": "bonus_points", "points": 5}}, {"name": "B"}]});
    assert_eq!(invalid(bare).0, "variants[1].template");
    // {{code}} on a bonus-points variant issues no voucher.
    let mut code = two_variants();
    code[1]["template"] = json!("{{code}}");
    assert_eq!(invalid(json!({"variants": code})).0, "variants[1].template");
}

#[test]
fn a_campaign_template_with_offers_in_every_variant_is_fine() {
    let c = campaign(json!({"template": "{{name}}: {{reward}}", "variants": two_variants()}));
    assert_eq!(c.variants.len(), 2);
    assert!(c.is_promotional());
    let arm = c.arm(1).unwrap();
    assert_eq!(
        arm.template.as_deref(),
        Some("{{name}} ơi, tặng bạn {{reward}}!")
    );
    assert_eq!(
        c.arm(0).unwrap().template.as_deref(),
        Some("{{name}}: {{reward}}")
    );
    assert!(c.arm(2).is_none());
    // It reads back as it was written.
    let again = Campaign::from_json(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(again, c);
}

#[test]
fn each_message_carries_its_variant_offer_and_text() {
    let c = campaign(json!({"variants": two_variants(), "holdout": 0.2}));
    let customers: Vec<_> = (0..400).map(customer).collect();
    let p = plan(&c, &customers, datetime!(2026-03-02 03:00 UTC), &[], vnd(0)).unwrap();
    let mut counts = [0usize; 2];
    let mut held = 0;
    for o in &p.outcomes {
        match o {
            Outcome::Send(m) => {
                let i = variant_index(c.id, m.customer_id, 2);
                assert_eq!(m.variant, Some(i as u8));
                counts[i] += 1;
                let offer = m.offer.as_ref().unwrap();
                if i == 0 {
                    assert_eq!(offer.reward_name, "1 TS-OOLONG miễn phí");
                    assert_eq!(offer.cost, vnd(15_000));
                } else {
                    assert_eq!(offer.bonus_points.map(|p| p.value()), Some(50));
                    assert!(m.text.ends_with("ơi, tặng bạn 50 điểm!"), "{}", m.text);
                }
            }
            Outcome::Skip { customer_id, .. } => {
                assert!(in_holdout(c.id, *customer_id, 0.2));
                held += 1;
            }
        }
    }
    assert!(counts.iter().all(|n| *n > 120), "{counts:?}");
    assert!(held > 40, "{held}");
}

#[test]
fn the_budget_pays_for_each_variant_offer() {
    let mut variants = two_variants();
    variants[1]["offer"] = json!({"type": "fixed", "reward": free_item(2, "CF-SUA", 40_000)});
    let c =
        campaign(json!({"variants": variants, "budget": {"amount": "500000", "currency": "VND"}}));
    let customers: Vec<_> = (0..100).map(customer).collect();
    let p = plan(&c, &customers, datetime!(2026-03-02 03:00 UTC), &[], vnd(0)).unwrap();
    let spent: i64 = p
        .messages()
        .map(|m| m.offer.as_ref().unwrap().cost.to_minor_units().unwrap())
        .sum();
    assert_eq!(p.budget_used, vnd(spent));
    assert!(spent <= 500_000 && spent > 500_000 - 40_000, "{spent}");
    assert!(p.messages().any(|m| m.variant == Some(0)));
    assert!(p.messages().any(|m| m.variant == Some(1)));
}

#[test]
fn a_campaign_without_variants_plans_no_variant() {
    let c = campaign(json!({}));
    let p = plan(
        &c,
        &[customer(1)],
        datetime!(2026-03-02 03:00 UTC),
        &[],
        vnd(0),
    )
    .unwrap();
    assert!(p.messages().all(|m| m.variant.is_none()));
}

#[test]
fn comparison_edges() {
    assert_eq!(probability_beats(&[1.0], &[1.0, 2.0]), None);
    assert_eq!(probability_beats(&[2.0, 2.0], &[1.0, 1.0]), Some(1.0));
    assert_eq!(probability_beats(&[1.0, 1.0], &[1.0, 1.0]), Some(0.5));
    assert!((normal_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-6);
    assert!(compare(&[&[1.0, 2.0]]).is_none());
}

fn id(bytes: [u8; 16]) -> CustomerId {
    CustomerId::from_bytes(bytes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The same inputs give the same variant, in any order of calls.
    #[test]
    fn assignment_is_deterministic(
        campaign in any::<[u8; 16]>(),
        customers in prop::collection::vec(any::<[u8; 16]>(), 1..50),
        n in 2usize..=5,
    ) {
        let campaign = CampaignId::from_bytes(campaign);
        let forward: Vec<usize> = customers.iter().map(|c| variant_index(campaign, id(*c), n)).collect();
        let mut backward: Vec<usize> = customers.iter().rev().map(|c| variant_index(campaign, id(*c), n)).collect();
        backward.reverse();
        prop_assert_eq!(&forward, &backward);
        prop_assert!(forward.iter().all(|i| *i < n));
    }

    /// For N random customers each variant's count is within 5·sqrt(N/n) of N/n, and
    /// the shares among held-out and messaged customers are alike.
    #[test]
    fn assignment_is_balanced_and_independent_of_the_holdout(
        campaign in any::<[u8; 16]>(),
        seed in any::<u64>(),
        n in 2usize..=5,
    ) {
        let campaign = CampaignId::from_bytes(campaign);
        let total = 4_000usize;
        let mut state = seed;
        let mut all = vec![0usize; n];
        let mut held = vec![0usize; n];
        let mut messaged = vec![0usize; n];
        for _ in 0..total {
            // SplitMix64: random customer ids from the seed.
            let mut next = || {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^ (z >> 31)
            };
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&next().to_le_bytes());
            b[8..].copy_from_slice(&next().to_le_bytes());
            let customer = id(b);
            let v = variant_index(campaign, customer, n);
            all[v] += 1;
            if in_holdout(campaign, customer, 0.5) {
                held[v] += 1;
            } else {
                messaged[v] += 1;
            }
        }
        let expected = total as f64 / n as f64;
        for count in &all {
            prop_assert!((*count as f64 - expected).abs() <= 5.0 * expected.sqrt(), "{:?}", all);
        }
        let (h, m) = (held.iter().sum::<usize>() as f64, messaged.iter().sum::<usize>() as f64);
        for v in 0..n {
            let (sh, sm) = (held[v] as f64 / h, messaged[v] as f64 / m);
            // Two proportions of about 2,000 each: five standard errors apart at most.
            let se = ((1.0 / n as f64) * (1.0 - 1.0 / n as f64) * (1.0 / h + 1.0 / m)).sqrt();
            prop_assert!((sh - sm).abs() <= 5.0 * se, "held {:?} messaged {:?}", held, messaged);
        }
    }

    /// P(a beats b) + P(b beats a) = 1.
    #[test]
    fn comparison_is_symmetric(
        a in prop::collection::vec(0.0f64..200_000.0, 2..40),
        b in prop::collection::vec(0.0f64..200_000.0, 2..40),
    ) {
        let ab = probability_beats(&a, &b).unwrap();
        let ba = probability_beats(&b, &a).unwrap();
        prop_assert!((ab + ba - 1.0).abs() < 1e-9, "{} {}", ab, ba);
        prop_assert!((0.0..=1.0).contains(&ab));
        let v = compare(&[&a, &b]).unwrap();
        prop_assert!(v.probability >= 0.5);
        prop_assert_eq!(v.sure, v.probability >= 0.95);
    }

    /// Identical arms are a coin toss.
    #[test]
    fn identical_arms_are_even(a in prop::collection::vec(0.0f64..200_000.0, 2..40)) {
        let p = probability_beats(&a, &a).unwrap();
        prop_assert!((p - 0.5).abs() < 1e-9);
        prop_assert!(!compare(&[&a, &a]).unwrap().sure);
    }

    /// The same difference seen on more customers is surer.
    #[test]
    fn more_data_is_surer(
        a in prop::collection::vec(0.0f64..200_000.0, 2..20),
        b in prop::collection::vec(0.0f64..200_000.0, 2..20),
        k in 2usize..5,
    ) {
        let p1 = probability_beats(&a, &b).unwrap();
        let more = |xs: &[f64]| xs.iter().copied().cycle().take(xs.len() * k).collect::<Vec<_>>();
        let pk = probability_beats(&more(&a), &more(&b)).unwrap();
        // Repeating both arms k times shrinks the standard error: the verdict only
        // moves away from ½, in the same direction.
        prop_assert!((pk - 0.5).abs() + 1e-9 >= (p1 - 0.5).abs(), "{} {}", p1, pk);
        prop_assert!((pk - 0.5) * (p1 - 0.5) >= 0.0);
    }
}

#[test]
fn each_variant_text_must_fit_the_sms_cap() {
    let mut variants = two_variants();
    variants[1]["template"] = json!(format!("{{{{name}}}} {}", "ư".repeat(400)));
    let (path, _) = invalid(json!({
        "variants": variants, "channels": ["sms"], "sms": {"max_segments": 4},
    }));
    assert_eq!(path, "variants[1].template");
    // The campaign as stored is checked again under the brand's prefix the same way.
    let mut c = campaign(json!({"variants": two_variants(), "channels": ["sms"]}));
    c.sms = serde_json::from_value(json!({"max_segments": 4})).unwrap();
    assert!(c.check_sms().is_ok());
    c.variants[0].template = Some("ư".repeat(400));
    match c.check_sms() {
        Err(CampaignError::Invalid { path, .. }) => assert_eq!(path, "variants[0].template"),
        other => panic!("{other:?}"),
    }
}

/// Edits a launched campaign may make to `base` (name, channels, budget, a reward
/// renamed in the catalogue) and edits it may not (a variant's name, offer, template,
/// their count, the hold-out), with the path the refusal names.
fn launched_edits(case: u8, n: u16) -> (serde_json::Value, Option<&'static str>) {
    let mut variants = two_variants();
    let mut doc = json!({"holdout": 0.2});
    let refused = match case % 8 {
        0 => {
            doc["name"] = json!(format!("Win back {n}"));
            None
        }
        1 => {
            variants[0]["offer"]["reward"]["reward"]["name"] = json!(format!("Oolong {n}"));
            None
        }
        2 => {
            variants[1]["name"] = json!(format!("Points {n}"));
            Some("variants[1]")
        }
        3 => {
            variants[0]["offer"]["reward"]["cost"]["amount"] = json!((15_001 + n).to_string());
            Some("variants[0]")
        }
        4 => {
            variants[1]["offer"]["points"] = json!(51 + n);
            Some("variants[1]")
        }
        5 => {
            variants[0]["template"] = json!(format!("Quay lại nhé {n}"));
            Some("variants[0]")
        }
        6 => {
            let mut more = variants.as_array().cloned().unwrap();
            more.push(json!({"name": format!("Third {n}")}));
            variants = json!(more);
            Some("variants")
        }
        _ => {
            doc["holdout"] = json!(0.2 + f64::from(n % 30 + 1) / 100.0);
            Some("holdout")
        }
    };
    doc["variants"] = variants;
    (doc, refused)
}

proptest! {
    /// A launched campaign's variants and hold-out stay as they were: every change to
    /// them is refused naming the field, every other edit passes.
    #[test]
    fn launched_variants_are_frozen(case in 0u8..8, n in 0u16..500) {
        let launched = campaign(json!({"variants": two_variants(), "holdout": 0.2}));
        let (doc, refused) = launched_edits(case, n);
        let edited = campaign(doc);
        match (launched.check_frozen_edit(&edited), refused) {
            (Ok(()), None) => {}
            (Err(CampaignError::Invalid { path, .. }), Some(want)) => prop_assert_eq!(path, want),
            (other, want) => prop_assert!(false, "case {case}: {other:?}, wanted {want:?}"),
        }
        // The same document again is always allowed.
        prop_assert!(edited.check_frozen_edit(&edited).is_ok());
    }
}
