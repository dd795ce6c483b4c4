//! Cost of evaluating earning rules at the till.

use criterion::{Criterion, criterion_group, criterion_main};
use regulars_domain::{BrandId, Currency, EventKey, LineItem, Modifier, Money, Order, Points};
use regulars_loyalty::rules::{EarningContext, EarningRules};
use std::hint::black_box;
use time::macros::{datetime, offset};

/// Twenty rules: base rate, minimum spend, 6 product bonuses, 8 multipliers, 3 visit
/// bonuses and 2 caps (the stacking policy is a setting, not a rule), loaded from JSON.
const TWENTY_RULES: &str = r#"{
  "currency": "VND",
  "base": {"per_amount": "10000", "points": 1, "rounding": "floor"},
  "minimum_spend": {"amount": "20000"},
  "product_bonuses": [
    {"label": "Signature oolong", "sku": "TS-OOLONG", "points_per_unit": 2},
    {"label": "Brown sugar", "sku": "TS-BROWN", "points_per_unit": 2},
    {"label": "Cheese foam", "sku": "TOP-CHEESE", "points_per_unit": 1},
    {"label": "Pearls", "sku": "TOP-PEARL", "points_per_unit": 1},
    {"label": "Fruit tea", "category": "fruit-tea", "points_per_unit": 1},
    {"label": "Cakes", "category": "cake", "points_per_unit": 3}
  ],
  "multipliers": [
    {"label": "Happy hour", "factor": "2",
     "when": {"weekdays": ["mon", "tue", "wed", "thu", "fri"], "hours": {"from": "14:00", "to": "17:00"}}},
    {"label": "Late night", "factor": "1.5",
     "when": {"weekdays": ["fri", "sat"], "hours": {"from": "22:00", "to": "02:00"}}},
    {"label": "Silver", "factor": "1.1", "when": {"tiers": ["silver"]}},
    {"label": "Gold", "factor": "1.25", "when": {"tiers": ["gold"]}},
    {"label": "Diamond", "factor": "1.5", "when": {"tiers": ["diamond"]}},
    {"label": "New shop", "factor": "1.2", "when": {"locations": ["thu-duc", "q7"]}},
    {"label": "Birthday", "factor": "3", "when": {"birthday": true}},
    {"label": "Weekend at Q1", "factor": "1.3", "when": {"weekdays": ["sat", "sun"], "locations": ["q1"]}}
  ],
  "stacking": "multiply",
  "visit_bonuses": [
    {"kind": "first_visit", "label": "Welcome", "points": 20},
    {"kind": "nth_visit", "visit": 5, "points": 10},
    {"kind": "every_nth_visit", "every": 10, "points": 30}
  ],
  "order_cap": {"points": 300},
  "day_cap": {"points": 500}
}"#;

fn vnd(amount: i64) -> Money {
    Money::from_minor_units(amount, Currency::VND)
}

fn line(sku: &str, category: &str, quantity: u32, price: i64, toppings: &[&str]) -> LineItem {
    LineItem {
        sku: sku.into(),
        name: sku.into(),
        category: Some(category.into()),
        quantity,
        unit_price: vnd(price),
        modifiers: toppings
            .iter()
            .map(|t| Modifier {
                sku: (*t).into(),
                name: (*t).into(),
                unit_price: vnd(5_000),
            })
            .collect(),
    }
}

fn five_line_order() -> Order {
    Order {
        brand_id: BrandId::from_bytes([9; 16]),
        key: EventKey {
            source: "pos:bench".into(),
            external_id: "B-1".into(),
        },
        location: Some("q1".into()),
        customer_phone: None,
        // Wednesday 15:10 in Ho Chi Minh City: happy hour.
        placed_at: datetime!(2026-05-06 08:10 UTC),
        lines: vec![
            line(
                "TS-OOLONG",
                "milk-tea",
                2,
                45_000,
                &["TOP-CHEESE", "TOP-PEARL"],
            ),
            line("TS-BROWN", "milk-tea", 1, 50_000, &["TOP-PEARL"]),
            line("TS-PASSION", "fruit-tea", 1, 40_000, &[]),
            line("CAKE-TIRAMISU", "cake", 1, 35_000, &[]),
            line("TS-JASMINE", "fruit-tea", 3, 38_000, &["TOP-CHEESE"]),
        ],
        total: vnd(396_000),
    }
}

fn evaluate(c: &mut Criterion) {
    let rules = match EarningRules::from_json(TWENTY_RULES) {
        Ok(rules) => rules,
        Err(e) => panic!("benchmark rules must load: {e}"),
    };
    let order = five_line_order();
    let ctx = EarningContext::new(offset!(+7), 10)
        .with_tier("gold")
        .with_earned_today(Points::new(40));
    c.bench_function("rules/evaluate_5_lines_20_rules", |b| {
        b.iter(|| black_box(&rules).evaluate(black_box(&order), black_box(&ctx)))
    });
    // The peer: reading the same order from the POS's JSON, which every evaluation in
    // production follows. Rules should cost about as much as, or less than, parsing.
    let order_json = match serde_json::to_string(&order) {
        Ok(json) => json,
        Err(e) => panic!("benchmark order must serialise: {e}"),
    };
    c.bench_function("baseline/parse_order_json", |b| {
        b.iter(|| serde_json::from_str::<regulars_domain::Order>(black_box(&order_json)))
    });
}

criterion_group!(benches, evaluate);
criterion_main!(benches);
