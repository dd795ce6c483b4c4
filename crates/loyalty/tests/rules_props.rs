//! Properties of earning rules, over random valid rule sets, orders and contexts.

use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use regulars_domain::{BrandId, Currency, EventKey, LineItem, Modifier, Money, Order, Points};
use regulars_loyalty::rules::{
    BaseRate, Cap, Conditions, Earning, EarningContext, EarningRules, LocalTime, MinimumSpend,
    Multiplier, ProductBonus, Rounding, RulesError, Stacking, TimeWindow, VisitBonus, Weekday,
};
use rust_decimal::Decimal;
use time::{OffsetDateTime, UtcOffset};

const SKUS: &[&str] = &["TS-OOLONG", "TS-PASSION", "CAKE", "TOP-PEARL", "TOP-CHEESE"];
const CATEGORIES: &[&str] = &["milk-tea", "fruit-tea", "food"];
const TIERS: &[&str] = &["silver", "gold", "diamond"];
const LOCATIONS: &[&str] = &["q1", "q3", "thu-duc"];
const WEEKDAYS: &[Weekday] = &[
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// Labels with characters JSON must escape, and Vietnamese.
fn label() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("L[a-zA-Z0-9 àáạảãâầấậăằắđêềếệôồốộơờớợưừứự\"\\\\/\n\t😀]{0,12}")
}

fn codes(from: &'static [&'static str]) -> impl Strategy<Value = Option<Vec<String>>> {
    proptest::option::of(
        proptest::sample::subsequence(from, 1..=from.len())
            .prop_map(|v| v.into_iter().map(String::from).collect()),
    )
}

fn local_time() -> impl Strategy<Value = LocalTime> {
    (0_u8..24, prop::sample::select(vec![0_u8, 15, 30, 59]))
        .prop_map(|(h, m)| LocalTime::new(h, m).unwrap_or(LocalTime::MIDNIGHT))
}

fn conditions() -> impl Strategy<Value = Conditions> {
    (
        codes(TIERS),
        proptest::option::of(proptest::sample::subsequence(WEEKDAYS, 1..=7)),
        proptest::option::of(
            (local_time(), local_time())
                .prop_filter("a window's ends differ", |(a, b)| a != b)
                .prop_map(|(from, to)| TimeWindow { from, to }),
        ),
        codes(LOCATIONS),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(tiers, weekdays, hours, locations, birthday)| Conditions {
            tiers,
            weekdays,
            hours,
            locations,
            birthday,
        })
}

fn factor() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (0_i64..=300).prop_map(|m| Decimal::new(m, 2)),
        (0_i64..=12).prop_map(|m| Decimal::new(m * 25, 2)),
        (0_i64..=100).prop_map(Decimal::from),
        (0_i64..=20_000).prop_map(|m| Decimal::new(m, 4)),
    ]
}

fn rounding() -> impl Strategy<Value = Rounding> {
    prop::sample::select(vec![Rounding::Floor, Rounding::Nearest, Rounding::Ceil])
}

fn product_bonus() -> impl Strategy<Value = ProductBonus> {
    (
        label(),
        any::<bool>(),
        prop::sample::select(SKUS),
        prop::sample::select(CATEGORIES),
        1_i64..=20,
    )
        .prop_map(|(label, by_sku, sku, category, points)| ProductBonus {
            label,
            sku: by_sku.then(|| sku.to_owned()),
            category: (!by_sku).then(|| category.to_owned()),
            points_per_unit: Points::new(points),
        })
}

fn visit_bonus() -> impl Strategy<Value = VisitBonus> {
    (label(), 0_u8..3, 1_u32..=12, 1_i64..=50).prop_map(|(label, kind, n, points)| {
        let points = Points::new(points);
        match kind {
            0 => VisitBonus::FirstVisit { label, points },
            1 => VisitBonus::NthVisit {
                label,
                visit: n,
                points,
            },
            _ => VisitBonus::EveryNthVisit {
                label,
                every: n,
                points,
            },
        }
    })
}

fn cap() -> impl Strategy<Value = Option<Cap>> {
    proptest::option::of((label(), 0_i64..=300).prop_map(|(label, points)| Cap {
        label,
        points: Points::new(points),
    }))
}

/// Random rule sets that pass validation.
fn valid_rules() -> impl Strategy<Value = EarningRules> {
    let base = proptest::option::of(
        (
            label(),
            prop::sample::select(vec![1_000_i64, 5_000, 10_000, 12_345, 100_000]),
            1_i64..=5,
            rounding(),
        )
            .prop_map(|(label, per_amount, points, rounding)| BaseRate {
                label,
                per_amount: Decimal::from(per_amount),
                points: Points::new(points),
                rounding,
            }),
    );
    let minimum =
        proptest::option::of((label(), 0_i64..=100).prop_map(|(label, k)| MinimumSpend {
            label,
            amount: Decimal::from(k * 1_000),
        }));
    let multipliers = prop::collection::vec(
        (label(), factor(), conditions()).prop_map(|(label, factor, when)| Multiplier {
            label,
            factor,
            when,
        }),
        0..5,
    );
    (
        base,
        minimum,
        prop::collection::vec(product_bonus(), 0..4),
        multipliers,
        any::<bool>(),
        prop::collection::vec(visit_bonus(), 0..3),
        cap(),
        cap(),
    )
        .prop_map(
            |(
                base,
                minimum_spend,
                product_bonuses,
                multipliers,
                multiply,
                visit_bonuses,
                order_cap,
                day_cap,
            )| {
                let mut rules = EarningRules {
                    currency: Currency::VND,
                    base,
                    minimum_spend,
                    product_bonuses,
                    multipliers,
                    stacking: if multiply {
                        Stacking::Multiply
                    } else {
                        Stacking::Highest
                    },
                    visit_bonuses,
                    order_cap,
                    day_cap,
                    point_value: None,
                };
                // Large factors may exceed what "multiply" allows as a whole.
                if rules.validate().is_err() {
                    rules.stacking = Stacking::Highest;
                }
                rules
            },
        )
        .prop_filter("rules must be valid", |r| r.validate().is_ok())
}

fn vnd(amount: i64) -> Money {
    Money::from_minor_units(amount, Currency::VND)
}

fn line() -> impl Strategy<Value = LineItem> {
    (
        prop::sample::select(SKUS),
        proptest::option::of(prop::sample::select(CATEGORIES)),
        1_u32..=5,
        prop::collection::vec(prop::sample::select(&SKUS[3..]), 0..3),
    )
        .prop_map(|(sku, category, quantity, modifiers)| LineItem {
            sku: sku.into(),
            name: sku.into(),
            category: category.map(Into::into),
            quantity,
            unit_price: vnd(30_000),
            modifiers: modifiers
                .into_iter()
                .map(|m| Modifier {
                    sku: m.into(),
                    name: m.into(),
                    unit_price: vnd(5_000),
                })
                .collect(),
        })
}

/// 2020 to 2030.
fn instant() -> impl Strategy<Value = OffsetDateTime> {
    (1_577_836_800_i64..1_893_456_000)
        .prop_map(|t| OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH))
}

fn order_with(
    total: i64,
    placed_at: OffsetDateTime,
    location: Option<&str>,
    lines: Vec<LineItem>,
) -> Order {
    Order {
        brand_id: BrandId::from_bytes([3; 16]),
        key: EventKey {
            source: "pos:prop".into(),
            external_id: "P-1".into(),
        },
        location: location.map(Into::into),
        customer_phone: None,
        placed_at,
        lines,
        total: vnd(total),
    }
}

/// Realistic orders: up to 5 million VND, 1 to 5 lines.
fn order() -> impl Strategy<Value = Order> {
    (
        0_i64..=5_000_000,
        instant(),
        proptest::option::of(prop::sample::select(LOCATIONS)),
        prop::collection::vec(line(), 1..6),
    )
        .prop_map(|(total, at, location, lines)| order_with(total, at, location, lines))
}

fn offset() -> impl Strategy<Value = UtcOffset> {
    prop::sample::select(vec![(7, 0), (0, 0), (-5, 0), (5, 30), (14, 0), (-12, 0)])
        .prop_map(|(h, m)| UtcOffset::from_hms(h, m, 0).unwrap_or(UtcOffset::UTC))
}

fn context() -> impl Strategy<Value = EarningContext> {
    (
        offset(),
        proptest::option::of(prop::sample::select(TIERS)),
        any::<bool>(),
        1_u32..=40,
        0_i64..=400,
    )
        .prop_map(|(offset, tier, birthday, visit, earned)| EarningContext {
            offset,
            tier: tier.map(Into::into),
            birthday,
            visit_number: visit,
            earned_today: Points::new(earned),
        })
}

/// What every successful evaluation must satisfy.
fn check_invariants(
    rules: &EarningRules,
    ctx: &EarningContext,
    earning: &Earning,
) -> Result<(), TestCaseError> {
    let sum = Points::checked_sum(earning.explanation.iter().map(|l| l.points));
    prop_assert_eq!(sum, Some(earning.points), "explanation must add up");
    prop_assert!(!earning.points.is_negative());
    if let Some(cap) = &rules.order_cap {
        prop_assert!(earning.points <= cap.points);
    }
    if let Some(cap) = &rules.day_cap {
        if ctx.earned_today <= cap.points {
            let today = ctx.earned_today.checked_add(earning.points);
            prop_assert!(today.is_some_and(|t| t <= cap.points));
        } else {
            prop_assert_eq!(earning.points, Points::ZERO);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/rules_props.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn evaluation_is_deterministic(rules in valid_rules(), order in order(), ctx in context()) {
        let first = rules.evaluate(&order, &ctx);
        let again = rules.clone().evaluate(&order.clone(), &ctx.clone());
        prop_assert_eq!(first, again);
    }

    #[test]
    fn valid_rules_and_realistic_orders_always_evaluate(
        rules in valid_rules(),
        order in order(),
        ctx in context(),
    ) {
        let earning = rules.evaluate(&order, &ctx).map_err(fail)?;
        check_invariants(&rules, &ctx, &earning)?;
    }

    #[test]
    fn spending_more_never_earns_less(
        rules in valid_rules(),
        order in order(),
        ctx in context(),
        extra in 0_i64..=5_000_000,
    ) {
        let mut bigger = order.clone();
        bigger.total = order.total.checked_add(&vnd(extra)).map_err(fail)?;
        let less = rules.evaluate(&order, &ctx).map_err(fail)?;
        let more = rules.evaluate(&bigger, &ctx).map_err(fail)?;
        prop_assert!(
            more.points >= less.points,
            "{} VND earned {} but {} VND earned {}",
            order.total, less.points, bigger.total, more.points
        );
    }

    #[test]
    fn caps_are_never_exceeded(
        rules in valid_rules(),
        order_cap in 0_i64..=100,
        day_cap in 0_i64..=200,
        order in order(),
        ctx in context(),
    ) {
        let mut rules = rules;
        rules.order_cap = Some(Cap { label: None, points: Points::new(order_cap) });
        rules.day_cap = Some(Cap { label: None, points: Points::new(day_cap) });
        let earning = rules.evaluate(&order, &ctx).map_err(fail)?;
        prop_assert!(earning.points.value() <= order_cap);
        if ctx.earned_today.value() <= day_cap {
            prop_assert!(ctx.earned_today.value() + earning.points.value() <= day_cap);
        } else {
            prop_assert_eq!(earning.points, Points::ZERO);
        }
        check_invariants(&rules, &ctx, &earning)?;
    }

    #[test]
    fn json_round_trip(rules in valid_rules(), pretty in any::<bool>()) {
        let json = if pretty {
            serde_json::to_string_pretty(&rules)
        } else {
            serde_json::to_string(&rules)
        }
        .map_err(fail)?;
        prop_assert_eq!(EarningRules::from_json(&json), Ok(rules));
    }

    #[test]
    fn evaluate_never_panics_on_arbitrary_orders_and_contexts(
        rules in valid_rules(),
        (mantissa, usd) in (any::<i64>(), any::<bool>()),
        huge in any::<bool>(),
        placed_at in (-377_705_116_800_i64..=253_402_300_799)
            .prop_map(|t| OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH)),
        offset_seconds in -93_599_i32..=93_599,
        location in proptest::option::of("[a-z0-9]{0,3}"),
        lines in prop::collection::vec(
            (prop::sample::select(SKUS), proptest::option::of(prop::sample::select(CATEGORIES)),
             any::<u32>(), prop::collection::vec(prop::sample::select(SKUS), 0..4)),
            0..6,
        ),
        tier in proptest::option::of("[a-z]{0,8}"),
        birthday in any::<bool>(),
        visit_number in any::<u32>(),
        earned_today in any::<i64>(),
    ) {
        let currency = if usd { Currency::USD } else { Currency::VND };
        let mut total = Money::from_minor_units(mantissa, currency);
        if huge {
            total = Money::new(Decimal::MAX, currency).unwrap_or(total);
        }
        let lines = lines
            .into_iter()
            .map(|(sku, category, quantity, modifiers)| LineItem {
                sku: sku.into(),
                name: String::new(),
                category: category.map(Into::into),
                quantity,
                unit_price: Money::zero(currency),
                modifiers: modifiers
                    .into_iter()
                    .map(|m| Modifier { sku: m.into(), name: String::new(), unit_price: Money::zero(currency) })
                    .collect(),
            })
            .collect();
        let mut order = order_with(0, placed_at, None, lines);
        order.total = total;
        order.location = location;
        let ctx = EarningContext {
            offset: UtcOffset::from_whole_seconds(offset_seconds).unwrap_or(UtcOffset::UTC),
            tier,
            birthday,
            visit_number,
            earned_today: Points::new(earned_today),
        };
        match rules.evaluate(&order, &ctx) {
            Ok(earning) => check_invariants(&rules, &ctx, &earning)?,
            Err(RulesError::CurrencyMismatch { .. }) => prop_assert!(usd),
            Err(RulesError::InvalidOrder { .. }
                | RulesError::InvalidContext { .. }
                | RulesError::Overflow(_)) => {}
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }

    #[test]
    fn loading_never_panics_and_agrees_with_serde_json(
        rules in valid_rules(),
        position in any::<prop::sample::Index>(),
        edit in prop::sample::select(vec!["", "\"", "}", "]", ",", "\\", "1", "-", "x", "{\"a\":", "[", "\\u00", "null", "  "]),
        cut in any::<bool>(),
    ) {
        let json = serde_json::to_string(&rules).map_err(fail)?;
        let mut at = position.index(json.len() + 1);
        while !json.is_char_boundary(at) {
            at -= 1;
        }
        let mutated = if cut {
            format!("{}{}", &json[..at], edit)
        } else {
            format!("{}{}{}", &json[..at], edit, &json[at..])
        };
        // Whatever we accept is a document serde_json reads the same way.
        if let Ok(ours) = EarningRules::from_json(&mutated) {
            let theirs: EarningRules = serde_json::from_str(&mutated).map_err(fail)?;
            prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn loading_arbitrary_text_never_panics(text in "\\PC{0,64}") {
        let _ = EarningRules::from_json(&text);
    }
}
