//! The form and the document agree: round trips over generated rules, and parse errors
//! named by the field.

use super::*;
use proptest::prelude::*;
use proptest::sample::subsequence;

fn label() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(r"[a-zA-Z0-9[à-ỹ&&\p{L}] ]{0,12}[a-z[à-ỹ&&\p{L}]]")
}

fn code() -> impl Strategy<Value = String> {
    "[A-Z][A-Z0-9-]{0,10}"
}

fn points(max: i64) -> impl Strategy<Value = Points> {
    (1..=max).prop_map(Points::new)
}

fn amount(currency: Currency) -> impl Strategy<Value = Decimal> {
    (1_i64..=10_000_000, 0..=currency.minor_units())
        .prop_map(|(mantissa, scale)| Decimal::new(mantissa, scale))
}

fn factor() -> impl Strategy<Value = Decimal> {
    (0_u32..=2).prop_flat_map(|scale| {
        let top = 5 * 10_i64.pow(scale);
        (0..=top).prop_map(move |m| Decimal::new(m, scale))
    })
}

fn time() -> impl Strategy<Value = LocalTime> {
    (0_u8..24, 0_u8..60).prop_filter_map("a time", |(h, m)| LocalTime::new(h, m))
}

fn list<T: Clone + std::fmt::Debug + 'static>(
    items: Vec<T>,
) -> impl Strategy<Value = Option<Vec<T>>> {
    let n = items.len();
    proptest::option::of(subsequence(items, 1..=n).prop_shuffle())
}

fn conditions() -> impl Strategy<Value = Conditions> {
    let days: Vec<Weekday> = WEEKDAYS.iter().map(|(d, _)| *d).collect();
    let codes = |prefix: &str| (1..=4).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>();
    (
        list(codes("tier-")),
        list(days),
        proptest::option::of((time(), time()).prop_filter("from and to differ", |(a, b)| a != b)),
        list(codes("shop-")),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(tiers, weekdays, hours, locations, birthday)| Conditions {
            tiers,
            weekdays,
            hours: hours.map(|(from, to)| TimeWindow { from, to }),
            locations,
            birthday,
        })
}

fn product_bonus() -> impl Strategy<Value = ProductBonus> {
    (label(), code(), any::<bool>(), points(1_000)).prop_map(|(label, code, by_sku, points)| {
        ProductBonus {
            label,
            sku: by_sku.then(|| code.clone()),
            category: (!by_sku).then_some(code),
            points_per_unit: points,
        }
    })
}

fn visit_bonus() -> impl Strategy<Value = VisitBonus> {
    (label(), 0..3, 1_u32..50, points(1_000)).prop_map(|(label, kind, n, points)| match kind {
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
    })
}

fn cap() -> impl Strategy<Value = Option<Cap>> {
    proptest::option::of((label(), 0_i64..100_000).prop_map(|(label, points)| Cap {
        label,
        points: Points::new(points),
    }))
}

prop_compose! {
    fn rules()(currency in prop_oneof![Just(Currency::VND), Just(Currency::USD)])(
        currency in Just(currency),
        base in proptest::option::of((label(), amount(currency), points(1_000),
            prop_oneof![Just(Rounding::Floor), Just(Rounding::Nearest), Just(Rounding::Ceil)])),
        minimum in proptest::option::of((label(), amount(currency))),
        product_bonuses in proptest::collection::vec(product_bonus(), 0..4),
        multipliers in proptest::collection::vec((label(), factor(), conditions()), 0..4),
        stacking in prop_oneof![Just(Stacking::Highest), Just(Stacking::Multiply)],
        visit_bonuses in proptest::collection::vec(visit_bonus(), 0..4),
        order_cap in cap(),
        day_cap in cap(),
        point_value in proptest::option::of(amount(currency)),
    ) -> EarningRules {
        EarningRules {
            currency,
            base: base.map(|(label, per_amount, points, rounding)| BaseRate { label, per_amount, points, rounding }),
            minimum_spend: minimum.map(|(label, amount)| MinimumSpend { label, amount }),
            product_bonuses,
            multipliers: multipliers
                .into_iter()
                .map(|(label, factor, when)| Multiplier { label, factor, when })
                .collect(),
            stacking,
            visit_bonuses,
            order_cap,
            day_cap,
            point_value,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// The form shows every part of a document: reading its fields back gives the
    /// same rules.
    #[test]
    fn fields_of_rules_read_back_as_the_same_rules(rules in rules()) {
        prop_assert_eq!(rules.validate(), Ok(()));
        prop_assert_eq!(from_fields(&to_fields(&rules)), Ok(rules));
    }

    /// The "advanced" JSON view and the form edit one document: form → JSON → form.
    #[test]
    fn form_to_json_to_form_is_the_same_document(rules in rules()) {
        let fields = to_fields(&rules);
        let read = from_fields(&fields).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let json = serde_json::to_string(&read).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let again = EarningRules::from_json(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(to_fields(&again), fields);
        prop_assert_eq!(again, rules);
    }

    /// Empty rows the form offers for new rules add nothing.
    #[test]
    fn blank_rows_are_no_rules(rules in rules(), row in 4_usize..9) {
        let mut fields = to_fields(&rules);
        for field in ["label", "sku", "category", "points_per_unit"] {
            fields.push(format!("product_bonuses[{row}].{field}"), "");
        }
        for field in ["label", "factor", "when.hours.from", "when.hours.to", "when.birthday"] {
            fields.push(format!("multipliers[{row}].{field}"), "");
        }
        fields.push(format!("visit_bonuses[{row}].kind"), "nth_visit");
        fields.push(format!("visit_bonuses[{row}].points"), " ");
        prop_assert_eq!(from_fields(&fields), Ok(rules));
    }
}

fn form(pairs: &[(&str, &str)]) -> Fields {
    let mut fields = Fields::default();
    fields.push("currency", "VND");
    for (name, value) in pairs {
        fields.push(*name, *value);
    }
    fields
}

fn error_at(pairs: &[(&str, &str)], field: &str) -> String {
    match from_fields(&form(pairs)) {
        Ok(rules) => panic!("accepted {rules:?}"),
        Err(errors) => errors
            .get(field)
            .cloned()
            .unwrap_or_else(|| panic!("no error at {field}: {errors:?}")),
    }
}

#[test]
fn a_grouped_thousands_amount_is_refused_at_its_field() {
    let error = error_at(
        &[("base.per_amount", "10.000"), ("base.points", "1")],
        "base.per_amount",
    );
    assert!(error.contains("whole amount"), "{error}");
}

#[test]
fn reading_problems_name_their_field() {
    let error = error_at(
        &[("multipliers[3].factor", "double")],
        "multipliers[3].factor",
    );
    assert!(error.contains("number"), "{error}");
    let error = error_at(
        &[
            ("multipliers[0].factor", "2"),
            ("multipliers[0].when.hours.from", "14:00"),
        ],
        "multipliers[0].when.hours.to",
    );
    assert_eq!(error, "is required");
    error_at(
        &[
            ("multipliers[0].factor", "2"),
            ("multipliers[0].when.hours.from", "25:00"),
            ("multipliers[0].when.hours.to", "16:00"),
        ],
        "multipliers[0].when.hours.from",
    );
    error_at(&[("base.per_amount", "10000")], "base.points");
    error_at(
        &[
            ("visit_bonuses[0].kind", "nth_visit"),
            ("visit_bonuses[0].points", "5"),
        ],
        "visit_bonuses[0].number",
    );
    error_at(
        &[
            ("multipliers[0].factor", "2"),
            ("multipliers[0].when.weekdays", "funday"),
        ],
        "multipliers[0].when.weekdays",
    );
}

#[test]
fn validation_problems_are_shown_at_the_row_they_came_from() {
    // Row 0 is blank, so the rules' first multiplier is the form's row 1.
    let error = error_at(
        &[
            ("multipliers[0].factor", ""),
            ("multipliers[1].factor", "200"),
        ],
        "multipliers[1].factor",
    );
    assert!(error.contains("<= 100"), "{error}");
    error_at(
        &[
            ("product_bonuses[2].sku", "TS-OOLONG"),
            ("product_bonuses[2].category", "tea"),
            ("product_bonuses[2].points_per_unit", "1"),
        ],
        "product_bonuses[2].sku",
    );
    error_at(
        &[
            ("multipliers[0].factor", "2"),
            ("multipliers[0].when.weekdays", "mon"),
            ("multipliers[0].when.weekdays", "mon"),
        ],
        "multipliers[0].when.weekdays",
    );
    error_at(
        &[
            ("multipliers[0].factor", "2"),
            ("multipliers[0].when.hours.from", "14:00"),
            ("multipliers[0].when.hours.to", "14:00"),
        ],
        "multipliers[0].when.hours.from",
    );
    error_at(
        &[
            ("visit_bonuses[1].kind", "every_nth_visit"),
            ("visit_bonuses[1].number", "0"),
            ("visit_bonuses[1].points", "5"),
        ],
        "visit_bonuses[1].number",
    );
}

#[test]
fn the_happy_hour_rule_reads_as_the_api_document() {
    let rules = from_fields(&form(&[
        ("base.per_amount", "10000"),
        ("base.points", "1"),
        ("base.rounding", "floor"),
        ("multipliers[0].label", "Double points"),
        ("multipliers[0].factor", "2"),
        ("multipliers[0].when.hours.from", "14:00"),
        ("multipliers[0].when.hours.to", "16:00"),
        ("multipliers[0].when.weekdays", "mon"),
        ("multipliers[0].when.weekdays", "tue"),
        ("multipliers[0].when.weekdays", "wed"),
        ("multipliers[0].when.weekdays", "thu"),
        ("multipliers[0].when.weekdays", "fri"),
        ("multipliers[0].when.locations", "shop-2"),
        ("multipliers[0].when.birthday", ""),
        ("stacking", "highest"),
    ]));
    let expected = EarningRules::from_json(
        r#"{"currency": "VND",
            "base": {"per_amount": "10000", "points": 1, "rounding": "floor"},
            "multipliers": [{"label": "Double points", "factor": "2",
                "when": {"weekdays": ["mon", "tue", "wed", "thu", "fri"],
                         "hours": {"from": "14:00", "to": "16:00"},
                         "locations": ["shop-2"]}}]}"#,
    );
    assert_eq!(rules.ok(), expected.ok());
}

#[test]
fn a_row_numbered_beyond_the_limit_is_refused_not_ignored() {
    let error = error_at(&[("multipliers[5000].factor", "2")], "multipliers");
    assert!(error.contains("rows"), "{error}");
}
