//! Unit tests, one group per rule kind, and the worked example of `docs/rules.md`.

use super::*;
use regulars_domain::{BrandId, EventKey, LineItem, Modifier, Money, Order, Points};
use rust_decimal_macros::dec;
use time::macros::{datetime, offset};
use time::{OffsetDateTime, UtcOffset};

const HCMC: UtcOffset = offset!(+7);

#[track_caller]
fn rules(json: &str) -> EarningRules {
    EarningRules::from_json(json).unwrap_or_else(|e| panic!("rules should load: {e}"))
}

#[track_caller]
fn load_error(json: &str) -> String {
    match EarningRules::from_json(json) {
        Ok(_) => panic!("rules should not load: {json}"),
        Err(e) => e.to_string(),
    }
}

fn vnd(amount: i64) -> Money {
    Money::from_minor_units(amount, Currency::VND)
}

fn line(sku: &str, category: Option<&str>, quantity: u32, price: i64) -> LineItem {
    LineItem {
        sku: sku.into(),
        name: sku.into(),
        category: category.map(Into::into),
        quantity,
        unit_price: vnd(price),
        modifiers: vec![],
    }
}

fn topping(mut line: LineItem, sku: &str, price: i64) -> LineItem {
    line.modifiers.push(Modifier {
        sku: sku.into(),
        name: sku.into(),
        unit_price: vnd(price),
    });
    line
}

/// An order paying `total` VND, placed at `placed_at`, at location `q1`.
fn order_at(total: i64, placed_at: OffsetDateTime, lines: Vec<LineItem>) -> Order {
    Order {
        brand_id: BrandId::from_bytes([1; 16]),
        key: EventKey {
            source: "pos:test".into(),
            external_id: "T-1".into(),
        },
        location: Some("q1".into()),
        customer_phone: None,
        placed_at,
        lines,
        total: vnd(total),
    }
}

/// Wednesday 2026-05-06, 10:00 in Ho Chi Minh City.
fn order(total: i64) -> Order {
    order_at(
        total,
        datetime!(2026-05-06 03:00 UTC),
        vec![line("TS-OOLONG", Some("milk-tea"), 1, total)],
    )
}

fn ctx() -> EarningContext {
    EarningContext::new(HCMC, 2)
}

#[track_caller]
fn earn(rules: &EarningRules, order: &Order, ctx: &EarningContext) -> Earning {
    let earning = rules
        .evaluate(order, ctx)
        .unwrap_or_else(|e| panic!("evaluation should succeed: {e}"));
    let sum = Points::checked_sum(earning.explanation.iter().map(|l| l.points));
    assert_eq!(sum, Some(earning.points), "explanation must add up");
    earning
}

#[track_caller]
fn points(rules: &EarningRules, order: &Order, ctx: &EarningContext) -> i64 {
    earn(rules, order, ctx).points.value()
}

fn text(earning: &Earning) -> Vec<String> {
    earning
        .explanation
        .iter()
        .map(ToString::to_string)
        .collect()
}

const BASE: &str = r#""base": {"per_amount": "10000", "points": 1, "rounding": "floor"}"#;

fn with_base(rest: &str) -> EarningRules {
    let sep = if rest.is_empty() { "" } else { "," };
    rules(&format!(r#"{{"currency": "VND", {BASE}{sep} {rest}}}"#))
}

mod base_rate {
    use super::*;

    fn base(rounding: &str) -> EarningRules {
        rules(&format!(
            r#"{{"currency": "VND", "base": {{"per_amount": "10000", "points": 1, "rounding": "{rounding}"}}}}"#
        ))
    }

    #[test]
    fn rounds_by_policy() {
        let cases = [
            // total, floor, nearest, ceil
            (0, 0, 0, 0),
            (9_999, 0, 1, 1),
            (10_000, 1, 1, 1),
            (14_999, 1, 1, 2),
            (15_000, 1, 2, 2),
            (25_000, 2, 3, 3),
            (24_999, 2, 2, 3),
            (1_234_567, 123, 123, 124),
        ];
        for (total, floor, nearest, ceil) in cases {
            assert_eq!(
                points(&base("floor"), &order(total), &ctx()),
                floor,
                "{total} floor"
            );
            assert_eq!(
                points(&base("nearest"), &order(total), &ctx()),
                nearest,
                "{total} nearest"
            );
            assert_eq!(
                points(&base("ceil"), &order(total), &ctx()),
                ceil,
                "{total} ceil"
            );
        }
    }

    #[test]
    fn several_points_per_amount_and_cents() {
        let usd = rules(
            r#"{"currency": "USD", "base": {"per_amount": "0.50", "points": 3, "rounding": "floor"}}"#,
        );
        let mut o = order(0);
        // 19.99 USD × 3 / 0.50 = 119.94: the rate is exact, not counted in whole halves.
        o.total = Money::from_minor_units(1_999, Currency::USD);
        assert_eq!(points(&usd, &o, &ctx()), 119);
    }

    #[test]
    fn is_computed_on_the_paid_total_not_the_lines() {
        let o = order_at(
            30_000,
            datetime!(2026-05-06 03:00 UTC),
            vec![line("TS-OOLONG", None, 2, 45_000)],
        );
        assert_eq!(points(&base("floor"), &o, &ctx()), 3);
    }

    #[test]
    fn explains_itself() {
        let earning = earn(&base("nearest"), &order(25_000), &ctx());
        assert_eq!(
            text(&earning),
            ["Base rate: +3 (25000 VND at 1 per 10000 VND, nearest)"]
        );
    }

    #[test]
    fn refuses_another_currency() {
        let mut o = order(0);
        o.total = Money::from_minor_units(1_000, Currency::USD);
        assert_eq!(
            base("floor").evaluate(&o, &ctx()),
            Err(RulesError::CurrencyMismatch {
                rules: Currency::VND,
                order: Currency::USD
            })
        );
    }

    #[test]
    fn overflow_is_an_error() {
        let r = rules(
            r#"{"currency": "VND", "base": {"per_amount": "1", "points": 1000000, "rounding": "floor"}}"#,
        );
        let o = order(i64::MAX);
        assert!(matches!(
            r.evaluate(&o, &ctx()),
            Err(RulesError::Overflow(_))
        ));
    }
}

mod minimum_spend {
    use super::*;

    fn rules_with_min() -> EarningRules {
        with_base(
            r#""minimum_spend": {"amount": "20000"},
               "product_bonuses": [{"sku": "TS-OOLONG", "points_per_unit": 5}],
               "visit_bonuses": [{"kind": "first_visit", "points": 20}]"#,
        )
    }

    #[test]
    fn gates_everything_including_visit_bonuses() {
        let first = EarningContext::new(HCMC, 1);
        let earning = earn(&rules_with_min(), &order(19_999), &first);
        assert_eq!(earning.points, Points::ZERO);
        assert_eq!(
            text(&earning),
            ["Minimum spend: +0 (19999 VND paid, minimum 20000 VND)"]
        );
    }

    #[test]
    fn paying_exactly_the_minimum_earns() {
        let first = EarningContext::new(HCMC, 1);
        assert_eq!(
            points(&rules_with_min(), &order(20_000), &first),
            2 + 5 + 20
        );
    }
}

mod product_bonuses {
    use super::*;

    #[test]
    fn count_units_of_lines_and_modifiers() {
        let r = rules(
            r#"{"currency": "VND", "product_bonuses": [
                {"label": "Oolong", "sku": "TS-OOLONG", "points_per_unit": 2},
                {"label": "Pearls", "sku": "TOP-PEARL", "points_per_unit": 1},
                {"label": "Fruit tea", "category": "fruit-tea", "points_per_unit": 3},
                {"label": "Never bought", "sku": "CAKE", "points_per_unit": 9}
            ]}"#,
        );
        let o = order_at(
            200_000,
            datetime!(2026-05-06 03:00 UTC),
            vec![
                topping(
                    line("TS-OOLONG", Some("milk-tea"), 3, 45_000),
                    "TOP-PEARL",
                    5_000,
                ),
                topping(
                    line("TS-PASSION", Some("fruit-tea"), 2, 40_000),
                    "TOP-PEARL",
                    5_000,
                ),
                line("TOP-PEARL", Some("topping"), 1, 5_000),
            ],
        );
        let earning = earn(&r, &o, &ctx());
        assert_eq!(
            text(&earning),
            [
                "Oolong: +6 (3 × 2)",
                "Pearls: +6 (6 × 1)", // 3 + 2 as toppings, 1 sold alone
                "Fruit tea: +6 (2 × 3)",
            ]
        );
        assert_eq!(earning.points, Points::new(18));
    }

    #[test]
    fn categories_do_not_match_modifiers() {
        let r = rules(
            r#"{"currency": "VND", "product_bonuses": [{"category": "TOP-PEARL", "points_per_unit": 1}]}"#,
        );
        let o = order_at(
            50_000,
            datetime!(2026-05-06 03:00 UTC),
            vec![topping(
                line("TS-OOLONG", None, 1, 45_000),
                "TOP-PEARL",
                5_000,
            )],
        );
        assert_eq!(points(&r, &o, &ctx()), 0);
    }

    #[test]
    fn default_labels_name_the_product() {
        let r = rules(
            r#"{"currency": "VND", "product_bonuses": [
                {"sku": "TS-OOLONG", "points_per_unit": 1},
                {"category": "milk-tea", "points_per_unit": 1}]}"#,
        );
        let earning = earn(&r, &order(45_000), &ctx());
        assert_eq!(
            text(&earning),
            [
                "Bonus for TS-OOLONG: +1 (1 × 1)",
                "Bonus for category milk-tea: +1 (1 × 1)"
            ]
        );
    }
}

mod multipliers {
    use super::*;

    fn one(factor: &str, when: &str) -> EarningRules {
        with_base(&format!(
            r#""multipliers": [{{"label": "M", "factor": "{factor}", "when": {when}}}]"#
        ))
    }

    #[test]
    fn tier_condition() {
        let r = one("2", r#"{"tiers": ["gold", "diamond"]}"#);
        assert_eq!(points(&r, &order(50_000), &ctx()), 5);
        assert_eq!(points(&r, &order(50_000), &ctx().with_tier("silver")), 5);
        assert_eq!(points(&r, &order(50_000), &ctx().with_tier("gold")), 10);
        assert_eq!(points(&r, &order(50_000), &ctx().with_tier("diamond")), 10);
    }

    #[test]
    fn location_condition() {
        let r = one("3", r#"{"locations": ["q3"]}"#);
        let mut o = order(50_000);
        assert_eq!(points(&r, &o, &ctx()), 5);
        o.location = Some("q3".into());
        assert_eq!(points(&r, &o, &ctx()), 15);
        o.location = None;
        assert_eq!(points(&r, &o, &ctx()), 5);
    }

    #[test]
    fn birthday_condition() {
        let on = one("3", r#"{"birthday": true}"#);
        let off = one("3", r#"{"birthday": false}"#);
        let birthday = ctx().with_birthday(true);
        assert_eq!(points(&on, &order(50_000), &birthday), 15);
        assert_eq!(points(&on, &order(50_000), &ctx()), 5);
        assert_eq!(points(&off, &order(50_000), &birthday), 5);
        assert_eq!(points(&off, &order(50_000), &ctx()), 15);
    }

    #[test]
    fn birthday_from_the_customer_on_the_local_calendar() {
        use regulars_domain::{ChannelConsent, Customer, CustomerId, Phone};
        let customer = Customer {
            id: CustomerId::from_bytes([2; 16]),
            brand_id: BrandId::from_bytes([1; 16]),
            phone: Phone::parse("0901234567", Phone::VIETNAM).unwrap_or_else(|e| panic!("{e}")),
            name: None,
            birthday: Some(time::macros::date!(1990 - 05 - 07)),
            email: None,
            zalo_user_id: None,
            consent: ChannelConsent::default(),
            created_at: datetime!(2026-01-01 00:00 UTC),
        };
        // 18:00 UTC on the 6th is already the 7th in Vietnam.
        let evening = datetime!(2026-05-06 18:00 UTC);
        assert!(ctx().with_birthday_of(&customer, evening).birthday);
        assert!(
            !ctx()
                .with_birthday_of(&customer, datetime!(2026-05-06 16:00 UTC))
                .birthday
        );
    }

    /// Happy hour Monday to Friday, 14:00 to 17:00 local time.
    fn happy_hour() -> EarningRules {
        one(
            "2",
            r#"{"weekdays": ["mon", "tue", "wed", "thu", "fri"], "hours": {"from": "14:00", "to": "17:00"}}"#,
        )
    }

    #[test]
    fn weekday_and_hours_are_local() {
        let r = happy_hour();
        let at = |utc: OffsetDateTime| points(&r, &order_at(50_000, utc, order(0).lines), &ctx());
        assert_eq!(at(datetime!(2026-05-06 06:59 UTC)), 5); // Wed 13:59
        assert_eq!(at(datetime!(2026-05-06 07:00 UTC)), 10); // Wed 14:00
        assert_eq!(at(datetime!(2026-05-06 09:59:59 UTC)), 10); // Wed 16:59:59
        assert_eq!(at(datetime!(2026-05-06 10:00 UTC)), 5); // Wed 17:00
        assert_eq!(at(datetime!(2026-05-09 08:00 UTC)), 5); // Sat 15:00
        // Sunday 22:00 UTC is Monday 05:00 in Vietnam: a weekday, but outside the hours.
        assert_eq!(at(datetime!(2026-05-10 22:00 UTC)), 5);
        // The brand's offset decides: 15:00 UTC on a Wednesday at UTC+0 is happy hour.
        let utc_ctx = EarningContext::new(UtcOffset::UTC, 2);
        let o = order_at(50_000, datetime!(2026-05-06 15:00 UTC), order(0).lines);
        assert_eq!(points(&r, &o, &utc_ctx), 10);
    }

    #[test]
    fn window_across_midnight_belongs_to_the_day_it_opened() {
        let r = one(
            "2",
            r#"{"weekdays": ["fri"], "hours": {"from": "22:00", "to": "02:00"}}"#,
        );
        let at = |utc: OffsetDateTime| points(&r, &order_at(50_000, utc, order(0).lines), &ctx());
        assert_eq!(at(datetime!(2026-05-08 14:59 UTC)), 5); // Fri 21:59
        assert_eq!(at(datetime!(2026-05-08 15:00 UTC)), 10); // Fri 22:00
        assert_eq!(at(datetime!(2026-05-08 18:30 UTC)), 10); // Sat 01:30, Friday night
        assert_eq!(at(datetime!(2026-05-08 19:00 UTC)), 5); // Sat 02:00
        assert_eq!(at(datetime!(2026-05-07 18:30 UTC)), 5); // Fri 01:30, Thursday night
        assert_eq!(at(datetime!(2026-05-09 15:30 UTC)), 5); // Sat 22:30
    }

    #[test]
    fn hours_without_weekdays_and_until_midnight() {
        let r = one("2", r#"{"hours": {"from": "21:00", "to": "00:00"}}"#);
        let at = |utc: OffsetDateTime| points(&r, &order_at(50_000, utc, order(0).lines), &ctx());
        assert_eq!(at(datetime!(2026-05-09 13:59 UTC)), 5); // Sat 20:59
        assert_eq!(at(datetime!(2026-05-09 16:59 UTC)), 10); // Sat 23:59
        assert_eq!(at(datetime!(2026-05-09 17:00 UTC)), 5); // Sun 00:00
    }

    #[test]
    fn all_conditions_must_hold() {
        let r = one(
            "2",
            r#"{"tiers": ["gold"], "locations": ["q1"], "birthday": true}"#,
        );
        let gold = ctx().with_tier("gold");
        assert_eq!(points(&r, &order(50_000), &gold), 5);
        assert_eq!(points(&r, &order(50_000), &gold.with_birthday(true)), 10);
    }

    #[test]
    fn apply_to_base_and_product_bonuses_but_not_visit_bonuses() {
        let r = with_base(
            r#""product_bonuses": [{"sku": "TS-OOLONG", "points_per_unit": 2}],
               "multipliers": [{"label": "Double", "factor": "2"}],
               "visit_bonuses": [{"kind": "nth_visit", "visit": 2, "points": 10}]"#,
        );
        let earning = earn(&r, &order(50_000), &ctx());
        assert_eq!(
            text(&earning),
            [
                "Base rate: +5 (50000 VND at 1 per 10000 VND, floor)",
                "Bonus for TS-OOLONG: +2 (1 × 2)",
                "Double: +7 (×2 on 7)",
                "Visit 2: +10 (visit 2)",
            ]
        );
        assert_eq!(earning.points, Points::new(24));
    }

    #[test]
    fn fractional_factor_rounds_once_by_the_base_policy() {
        for (rounding, expected) in [("floor", 10), ("nearest", 11), ("ceil", 11)] {
            let r = rules(&format!(
                r#"{{"currency": "VND",
                    "base": {{"per_amount": "10000", "points": 1, "rounding": "{rounding}"}},
                    "multipliers": [{{"factor": "1.5"}}]}}"#
            ));
            // 7 points × 1.5 = 10.5
            let earning = earn(&r, &order(70_000), &ctx());
            assert_eq!(earning.points.value(), expected, "{rounding}");
            assert_eq!(earning.explanation[1].label, "Multiplier ×1.5");
        }
    }

    #[test]
    fn factor_below_one_and_zero() {
        let half = one("0.5", "{}");
        let earning = earn(&half, &order(50_000), &ctx());
        assert_eq!(earning.points, Points::new(2)); // floor(2.5)
        assert_eq!(earning.explanation[1].points, Points::new(-3));
        assert_eq!(points(&one("0", "{}"), &order(50_000), &ctx()), 0);
    }

    fn three(stacking: &str) -> EarningRules {
        with_base(&format!(
            r#""stacking": "{stacking}",
               "multipliers": [
                   {{"label": "Gold", "factor": "1.5", "when": {{"tiers": ["gold"]}}}},
                   {{"label": "Birthday", "factor": "3", "when": {{"birthday": true}}}},
                   {{"label": "Q1", "factor": "2", "when": {{"locations": ["q1"]}}}}
               ]"#
        ))
    }

    #[test]
    fn highest_takes_only_the_largest_factor() {
        let c = ctx().with_tier("gold").with_birthday(true);
        let earning = earn(&three("highest"), &order(50_000), &c);
        assert_eq!(text(&earning)[1..], ["Birthday: +10 (×3 on 5)"]);
        assert_eq!(earning.points, Points::new(15));
        let earning = earn(&three("highest"), &order(50_000), &ctx().with_tier("gold"));
        assert_eq!(text(&earning)[1..], ["Q1: +5 (×2 on 5)"]);
    }

    #[test]
    fn highest_prefers_the_first_listed_on_a_tie() {
        let r = with_base(
            r#""multipliers": [{"label": "A", "factor": "2"}, {"label": "B", "factor": "2.0"}]"#,
        );
        let earning = earn(&r, &order(50_000), &ctx());
        assert_eq!(earning.explanation[1].label, "A");
        assert_eq!(earning.explanation.len(), 2);
    }

    #[test]
    fn multiply_compounds_and_rounds_once() {
        let c = ctx().with_tier("gold").with_birthday(true);
        let earning = earn(&three("multiply"), &order(50_000), &c);
        // 5 × 1.5 × 3 × 2 = 45; the lines telescope: 7 (7.5 floored), 22 (22.5), 45.
        assert_eq!(
            text(&earning)[1..],
            [
                "Gold: +2 (×1.5 on 5)",
                "Birthday: +15 (×3 on 7)",
                "Q1: +23 (×2 on 22)"
            ]
        );
        assert_eq!(earning.points, Points::new(45));
    }

    #[test]
    fn multiply_is_exact_with_many_decimals() {
        // 999 × 1.0001 × 1.0001 = 999.1998..., rounded up once, at the end: 1000.
        // Rounding after each factor would give ceil(1000 × 1.0001) = 1001.
        let r = rules(
            r#"{"currency": "VND", "stacking": "multiply",
                "base": {"per_amount": "1000", "points": 1, "rounding": "ceil"},
                "multipliers": [{"factor": "1.0001"}, {"factor": "1.0001"}]}"#,
        );
        assert_eq!(points(&r, &order(999_000), &ctx()), 1000);
    }
}

mod visit_bonuses {
    use super::*;

    fn bonuses() -> EarningRules {
        rules(
            r#"{"currency": "VND", "visit_bonuses": [
                {"kind": "first_visit", "label": "Welcome", "points": 20},
                {"kind": "nth_visit", "visit": 5, "points": 15},
                {"kind": "every_nth_visit", "every": 10, "points": 30}
            ]}"#,
        )
    }

    #[test]
    fn first_nth_and_every_nth() {
        let at = |visit: u32| {
            points(
                &bonuses(),
                &order(50_000),
                &EarningContext::new(HCMC, visit),
            )
        };
        let expected = [
            (1, 20),
            (2, 0),
            (5, 15),
            (9, 0),
            (10, 30),
            (15, 0),
            (20, 30),
            (30, 30),
        ];
        for (visit, pts) in expected {
            assert_eq!(at(visit), pts, "visit {visit}");
        }
    }

    #[test]
    fn labels_default_to_the_visit() {
        let earning = earn(&bonuses(), &order(50_000), &EarningContext::new(HCMC, 10));
        assert_eq!(text(&earning), ["Every 10 visits: +30 (visit 10)"]);
        let earning = earn(&bonuses(), &order(50_000), &EarningContext::new(HCMC, 1));
        assert_eq!(text(&earning), ["Welcome: +20 (visit 1)"]);
    }

    #[test]
    fn several_can_apply_to_one_visit() {
        let r = rules(
            r#"{"currency": "VND", "visit_bonuses": [
                {"kind": "nth_visit", "visit": 10, "points": 5},
                {"kind": "every_nth_visit", "every": 5, "points": 7},
                {"kind": "every_nth_visit", "every": 1, "points": 1}
            ]}"#,
        );
        assert_eq!(points(&r, &order(0), &EarningContext::new(HCMC, 10)), 13);
        assert_eq!(points(&r, &order(0), &EarningContext::new(HCMC, 3)), 1);
    }
}

mod caps {
    use super::*;

    fn capped() -> EarningRules {
        with_base(
            r#""visit_bonuses": [{"kind": "first_visit", "points": 20}],
               "order_cap": {"points": 30},
               "day_cap": {"label": "Daily limit", "points": 50}"#,
        )
    }

    #[test]
    fn order_cap_clips_and_explains() {
        let first = EarningContext::new(HCMC, 1);
        let earning = earn(&capped(), &order(150_000), &first);
        assert_eq!(earning.points, Points::new(30));
        assert_eq!(
            text(&earning),
            [
                "Base rate: +15 (150000 VND at 1 per 10000 VND, floor)",
                "First visit: +20 (visit 1)",
                "Per-order cap: -5 (at most 30 per order, 35 before the cap)",
            ]
        );
        // Below the cap: no cap line.
        assert_eq!(earn(&capped(), &order(50_000), &first).explanation.len(), 2);
    }

    #[test]
    fn day_cap_counts_what_was_earned_earlier_today() {
        let c = |earned: i64| ctx().with_earned_today(Points::new(earned));
        assert_eq!(points(&capped(), &order(400_000), &c(0)), 30);
        assert_eq!(points(&capped(), &order(400_000), &c(25)), 25);
        assert_eq!(points(&capped(), &order(400_000), &c(50)), 0);
        assert_eq!(points(&capped(), &order(400_000), &c(80)), 0);
        assert_eq!(points(&capped(), &order(100_000), &c(25)), 10);
        let earning = earn(&capped(), &order(400_000), &c(40));
        assert_eq!(
            text(&earning)[1..],
            [
                "Per-order cap: -10 (at most 30 per order, 40 before the cap)",
                "Daily limit: -20 (at most 50 per day, 40 earned earlier today, 30 before the cap)",
            ]
        );
        assert_eq!(earning.points, Points::new(10));
    }

    #[test]
    fn a_zero_cap_stops_earning() {
        let r = with_base(r#""day_cap": {"points": 0}"#);
        assert_eq!(points(&r, &order(200_000), &ctx()), 0);
    }
}

mod context_and_order_errors {
    use super::*;

    #[test]
    fn are_reported_not_panicked() {
        let r = with_base("");
        let mut negative = order(0);
        negative.total = Money::new(dec!(-1), Currency::VND).unwrap_or(vnd(0));
        assert_eq!(
            r.evaluate(&negative, &ctx()).map_err(|e| e.to_string()),
            Err("order.total must not be negative".into())
        );
        assert_eq!(
            r.evaluate(&order(0), &EarningContext::new(HCMC, 0))
                .map_err(|e| e.to_string()),
            Err("context.visit_number must be >= 1 (1 is the first visit)".into())
        );
        assert!(matches!(
            r.evaluate(&order(0), &ctx().with_earned_today(Points::new(-1))),
            Err(RulesError::InvalidContext {
                field: "earned_today",
                ..
            })
        ));
    }

    #[test]
    fn placed_at_out_of_range_for_the_offset() {
        let r = with_base(r#""multipliers": [{"factor": "2", "when": {"weekdays": ["mon"]}}]"#);
        let o = order_at(10_000, datetime!(+9999-12-31 23:00 UTC), order(0).lines);
        assert!(matches!(
            r.evaluate(&o, &ctx()),
            Err(RulesError::InvalidOrder {
                field: "placed_at",
                ..
            })
        ));
        // No multiplier looks at time, so the odd timestamp does not matter.
        assert_eq!(points(&with_base(""), &o, &ctx()), 1);
    }

    #[test]
    fn rules_built_in_code_are_validated_too() {
        let mut r = with_base("");
        if let Some(base) = &mut r.base {
            base.per_amount = Decimal::ZERO;
        }
        assert_eq!(
            r.evaluate(&order(10_000), &ctx())
                .map_err(|e| e.to_string()),
            Err("base.per_amount must be > 0".into())
        );
    }
}

mod loading {
    use super::*;

    #[test]
    fn point_value_is_a_positive_amount_of_the_currency() {
        let ok = rules(r#"{"currency": "VND", "point_value": "100"}"#);
        assert_eq!(ok.point_value, Some(dec!(100)));
        assert_eq!(
            load_error(r#"{"currency": "VND", "point_value": "0"}"#),
            "point_value must be > 0"
        );
        assert_eq!(
            load_error(r#"{"currency": "VND", "point_value": "-5"}"#),
            "point_value must be >= 0"
        );
        assert!(
            load_error(r#"{"currency": "VND", "point_value": "1.5"}"#).starts_with("point_value")
        );
    }

    #[test]
    fn names_the_offending_field() {
        let cases = [
            (
                r#"{"currency": "VND", "multipliers": [{"factor": "1"}, {"factor": "2"}, {"factor": "-1"}]}"#,
                "multipliers[2].factor must be >= 0",
            ),
            (
                r#"{"currency": "VND", "multipliers": [{"factor": "100.5"}]}"#,
                "multipliers[0].factor must be <= 100",
            ),
            (
                r#"{"currency": "VND", "multipliers": [{"factor": "1.00001"}]}"#,
                "multipliers[0].factor must have at most 4 decimal places",
            ),
            (
                r#"{"currency": "VND", "multipliers": [{"factor": 1.5}]}"#,
                "multipliers[0].factor: write the decimal 1.5 as a string, e.g. \"1.5\", so it stays exact",
            ),
            (
                r#"{"currency": "VND", "multipliers": [{"factr": "2"}]}"#,
                "multipliers[0].factr: unknown field `factr`, expected one of `label`, `factor`, `when`",
            ),
            (
                r#"{"currency": "VND", "multipliers": [{"factor": "2", "when": {"weekdays": ["mon", "tue", "mon"]}}]}"#,
                "multipliers[0].when.weekdays[2] repeats an earlier entry",
            ),
            (
                r#"{"currency": "VND", "multipliers": [{"factor": "2", "when": {"weekdays": ["monday"]}}]}"#,
                "multipliers[0].when.weekdays[0]: unknown variant `monday`, expected one of `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`",
            ),
            (
                r#"{"currency": "VND", "multipliers": [{"factor": "2", "when": {"tiers": []}}]}"#,
                "multipliers[0].when.tiers must not be empty (leave the condition out to match any)",
            ),
            (
                r#"{"currency": "VND", "multipliers": [{"factor": "2", "when": {"locations": ["q1", " "]}}]}"#,
                "multipliers[0].when.locations[1] must not be blank",
            ),
            (
                r#"{"currency": "VND", "multipliers": [{"factor": "2", "when": {"hours": {"from": "14:00", "to": "14:00"}}}]}"#,
                "multipliers[0].when.hours from and to must differ (leave hours out for the whole day)",
            ),
            (
                r#"{"currency": "VND", "multipliers": [{"factor": "2", "when": {"hours": {"from": "24:00", "to": "02:00"}}}]}"#,
                "multipliers[0].when.hours.from: invalid time \"24:00\": expected \"HH:MM\" from 00:00 to 23:59",
            ),
            (
                r#"{"currency": "VND", "base": {"per_amount": "10000", "points": 1}}"#,
                "base: missing field `rounding`",
            ),
            (
                r#"{"currency": "VND", "base": {"per_amount": "10000", "points": 1, "rounding": "down"}}"#,
                "base.rounding: unknown variant `down`, expected one of `floor`, `nearest`, `ceil`",
            ),
            (
                r#"{"currency": "VND", "base": {"per_amount": "10000.5", "points": 1, "rounding": "floor"}}"#,
                "base.per_amount must have at most 0 decimal places in VND",
            ),
            (
                r#"{"currency": "VND", "base": {"per_amount": "1e4", "points": 1, "rounding": "floor"}}"#,
                "base.per_amount: invalid decimal \"1e4\": expected digits with an optional sign and point, e.g. \"1.5\"",
            ),
            (
                r#"{"currency": "VND", "base": {"per_amount": "0", "points": 1, "rounding": "floor"}}"#,
                "base.per_amount must be > 0",
            ),
            (
                r#"{"currency": "VND", "product_bonuses": [{"sku": "A", "category": "b", "points_per_unit": 1}]}"#,
                "product_bonuses[0] needs exactly one of sku or category",
            ),
            (
                r#"{"currency": "VND", "product_bonuses": [{"sku": "A", "points_per_unit": 0}]}"#,
                "product_bonuses[0].points_per_unit must be >= 1",
            ),
            (
                r#"{"currency": "VND", "visit_bonuses": [{"kind": "every_nth_visit", "every": 0, "points": 5}]}"#,
                "visit_bonuses[0].every must be >= 1",
            ),
            (
                r#"{"currency": "VND", "visit_bonuses": [{"kind": "first_visit", "points": 5, "pts": 1}]}"#,
                "visit_bonuses[0]: unknown field `pts`, expected `label` or `points`",
            ),
            (
                r#"{"currency": "VND", "visit_bonuses": [{"kind": "tenth_visit", "points": 5}]}"#,
                "visit_bonuses[0].kind: unknown variant `tenth_visit`, expected one of `first_visit`, `nth_visit`, `every_nth_visit`",
            ),
            (
                r#"{"currency": "VND", "day_cap": {"points": -1}}"#,
                "day_cap.points must be >= 0",
            ),
            (
                r#"{"currency": "VND", "order_cap": {"label": "  ", "points": 1}}"#,
                "order_cap.label must not be blank (leave it out for the default)",
            ),
            (
                r#"{"currency": "DONG"}"#,
                "currency: invalid currency \"DONG\": expected a three-letter ISO 4217 code",
            ),
            (r#"{}"#, "missing field `currency`"),
            (
                r#"{"currency": "VND", "stacking": "add"}"#,
                "stacking: unknown variant `add`, expected `highest` or `multiply`",
            ),
            (
                r#"{"currency": "VND", "base": null, "extra": 1}"#,
                "extra: unknown field `extra`, expected one of `currency`, `base`, `minimum_spend`, `product_bonuses`, `multipliers`, `stacking`, `visit_bonuses`, `order_cap`, `day_cap`, `point_value`",
            ),
            (
                r#"{"currency": "VND",
                    "multipliers": [{"factor": "2"}]
                    "stacking": "multiply"}"#,
                "invalid JSON at line 3, column 21: expected `,` or `}`",
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(load_error(json), expected, "for {json}");
        }
    }

    #[test]
    fn error_paths_are_available_as_data() {
        let err = EarningRules::from_json(
            r#"{"currency": "VND", "multipliers": [{"factor": "2", "when": {"tiers": ["gold", "gold"]}}]}"#,
        )
        .err();
        assert_eq!(
            err.as_ref().and_then(RulesError::path),
            Some("multipliers[0].when.tiers[1]")
        );
    }

    #[test]
    fn multiply_stacking_is_bounded_as_a_whole() {
        let many = |factor: &str, n: usize| {
            let one = format!(r#"{{"factor": "{factor}"}}"#);
            format!(
                r#"{{"currency": "VND", "stacking": "multiply", "multipliers": [{}]}}"#,
                vec![one; n].join(",")
            )
        };
        assert!(EarningRules::from_json(&many("10", 3)).is_ok());
        assert_eq!(
            load_error(&many("10", 4)),
            "multipliers with \"multiply\" stacking, the factors above 1 may multiply to at most 1000"
        );
        // Factors below 1 only ever shrink the product.
        assert!(EarningRules::from_json(&many("0.5", 30)).is_err()); // 30 decimal places
        assert!(EarningRules::from_json(&many("0.5", 16)).is_ok());
        assert_eq!(
            load_error(&many("1.01", 9)),
            "multipliers with \"multiply\" stacking, the factors may have at most 16 decimal places in all"
        );
        // The same rules are fine when only the highest factor counts.
        let highest = many("10", 4).replace("multiply", "highest");
        assert!(EarningRules::from_json(&highest).is_ok());
    }

    #[test]
    fn decimals_may_be_integers_but_not_floats() {
        let r = rules(
            r#"{"currency": "VND", "base": {"per_amount": 10000, "points": 1, "rounding": "floor"}}"#,
        );
        assert_eq!(r.base.map(|b| b.per_amount), Some(dec!(10000)));
    }

    #[test]
    fn an_empty_document_earns_nothing() {
        let r = rules(r#"{"currency": "VND"}"#);
        assert_eq!(r, EarningRules::empty(Currency::VND));
        let earning = earn(&r, &order(50_000), &EarningContext::new(HCMC, 1));
        assert_eq!(earning.points, Points::ZERO);
        assert!(earning.explanation.is_empty());
    }

    #[test]
    fn limits_are_what_they_say() {
        assert_eq!(MAX_AMOUNT, Decimal::from(1_000_000_000_000_000_i64));
        let long_label = "x".repeat(MAX_LABEL_CHARS + 1);
        let json = format!(
            r#"{{"currency": "VND", "day_cap": {{"label": "{long_label}", "points": 1}}}}"#
        );
        assert_eq!(
            load_error(&json),
            "day_cap.label must be at most 120 characters"
        );
        let json = format!(
            r#"{{"currency": "VND", "label": "{}"}}"#,
            " ".repeat(MAX_DOCUMENT_BYTES)
        );
        assert_eq!(
            load_error(&json),
            format!("the document is larger than {MAX_DOCUMENT_BYTES} bytes")
        );
    }

    #[test]
    fn json_round_trip_through_serde_json() -> Result<(), serde_json::Error> {
        let r = bubble_tea_rules();
        let json = serde_json::to_string_pretty(&r)?;
        assert_eq!(EarningRules::from_json(&json), Ok(r.clone()));
        // Our reader and serde_json agree on the document.
        assert_eq!(serde_json::from_str::<EarningRules>(&json)?, r);
        Ok(())
    }
}

/// The fenced block tagged `info` in `docs/rules.md`.
fn doc_block(info: &str) -> &'static str {
    const DOC: &str = include_str!("../../../../docs/rules.md");
    let fence = format!("```{info}\n");
    DOC.split_once(&fence)
        .and_then(|(_, rest)| rest.split_once("```\n"))
        .map(|(block, _)| block)
        .unwrap_or_else(|| panic!("docs/rules.md has no block tagged {info:?}"))
}

fn bubble_tea_rules() -> EarningRules {
    rules(doc_block("json rules"))
}

fn bubble_tea_order() -> Order {
    serde_json::from_str(doc_block("json order")).unwrap_or_else(|e| panic!("{e}"))
}

mod worked_example {
    use super::*;

    fn gold_tenth_visit() -> EarningContext {
        EarningContext::new(HCMC, 10).with_tier("gold")
    }

    #[test]
    fn matches_the_documentation() {
        let earning = earn(
            &bubble_tea_rules(),
            &bubble_tea_order(),
            &gold_tenth_visit(),
        );
        let documented: Vec<&str> = doc_block("text explanation").lines().collect();
        let mut shown = text(&earning);
        shown.push(format!("= {}", earning.points));
        assert_eq!(shown, documented);
        assert_eq!(earning.points, Points::new(72));
    }

    #[test]
    fn with_the_daily_cap_reached() {
        let c = gold_tenth_visit().with_earned_today(Points::new(100));
        let earning = earn(&bubble_tea_rules(), &bubble_tea_order(), &c);
        let documented: Vec<&str> = doc_block("text capped").lines().collect();
        let mut shown = text(&earning)[5..].to_vec();
        shown.push(format!("= {}", earning.points));
        assert_eq!(shown, documented);
    }

    #[test]
    fn on_saturday_the_gold_multiplier_rounds_down() {
        let mut o = bubble_tea_order();
        o.placed_at = datetime!(2026-05-09 08:10 UTC);
        let earning = earn(&bubble_tea_rules(), &o, &gold_tenth_visit());
        assert_eq!(text(&earning)[4], "Gold member: +10 (×1.5 on 21)");
        assert_eq!(earning.points, Points::new(61));
    }

    #[test]
    fn a_small_first_order() {
        let mut o = bubble_tea_order();
        o.total = vnd(15_000);
        let earning = earn(&bubble_tea_rules(), &o, &EarningContext::new(HCMC, 1));
        assert_eq!(
            text(&earning),
            ["Minimum spend: +0 (15000 VND paid, minimum 20000 VND)"]
        );
    }

    #[test]
    fn serialises_for_the_api() -> Result<(), serde_json::Error> {
        let earning = earn(
            &bubble_tea_rules(),
            &bubble_tea_order(),
            &gold_tenth_visit(),
        );
        let json = serde_json::to_value(&earning)?;
        assert_eq!(
            json["explanation"][4],
            serde_json::json!({
                "label": "Happy hour",
                "points": 21,
                "source": {"kind": "multiplier", "rule": 0, "factor": "2", "applied_to": 21}
            })
        );
        assert_eq!(serde_json::from_value::<Earning>(json)?, earning);
        Ok(())
    }
}
