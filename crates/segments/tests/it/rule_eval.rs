//! What rules mean, on hand-made customers.

use crate::{bare, full};
use regulars_segments::{CustomerFeatures, Rule, SegmentDefinition};

fn holds(rule: &str, c: &CustomerFeatures) -> bool {
    let rule = Rule::parse(rule).unwrap_or_else(|e| panic!("{rule}: {e}"));
    let compiled = rule.matches(c);
    assert_eq!(compiled, rule.matches_by_interpreting(c), "{rule}");
    compiled
}

#[test]
fn the_examples_of_the_product_brief() {
    let c = full(1);
    assert!(holds(
        r#"recency_days > 30 and p_alive < 0.5 and tier in ("gold", "silver")"#,
        &c
    ));
    assert!(holds(
        r#"birthday_month = 11 or favourite_product = "TS-OOLONG""#,
        &c
    ));
    assert!(!holds("not (frequency >= 5)", &c));
    assert!(holds("clv between 200000 and 1000000", &c));
    assert!(holds(r#"location = "q1""#, &c));
    assert!(!holds(r#"location = "q7""#, &c));
}

#[test]
fn comparisons_of_every_kind() {
    let c = full(1); // recency 45, frequency 12, monetary 1_500_000
    for (rule, expected) in [
        ("recency_days = 45", true),
        ("recency_days == 45", true),
        ("recency_days != 45", false),
        ("recency_days <> 44", true),
        ("recency_days < 45", false),
        ("recency_days <= 45", true),
        ("recency_days > 44.5", true),
        ("recency_days >= 46", false),
        ("monetary >= 1_500_000", true),
        ("monetary > 1.5e6", false),
        ("points_balance in (100, 120)", true),
        ("points_balance not in (100, 120)", false),
        ("days_since_first_visit between 400 and 400", true),
        ("expected_visits between -1 and 1.4", false),
        ("marketing_consent = true", true),
        ("marketing_consent != true", false),
        (r#"tier != "silver""#, true),
        (r#"tier not in ("silver", "diamond")"#, true),
        (r#"favourite_product in ("TS-OOLONG")"#, true),
    ] {
        assert_eq!(holds(rule, &c), expected, "{rule}");
    }
}

#[test]
fn precedence_is_not_then_and_then_or() {
    let c = full(1);
    // `or` binds loosest: true or (false and false).
    assert!(holds(
        "frequency = 12 or frequency = 1 and frequency = 2",
        &c
    ));
    // Parentheses change it: (true or false) and false.
    assert!(!holds(
        "(frequency = 12 or frequency = 1) and frequency = 2",
        &c
    ));
    // `not` binds tightest: (not false) and true.
    assert!(holds("not frequency = 1 and frequency = 12", &c));
    assert!(!holds("not (frequency = 1 or frequency = 12)", &c));
    assert!(holds("not not frequency = 12", &c));
    // Keywords are case-insensitive.
    assert!(holds(
        "NOT frequency = 1 AND frequency = 12 Or frequency = 3",
        &c
    ));
}

#[test]
fn a_missing_value_makes_every_comparison_false() {
    let c = bare(2);
    for rule in [
        "p_alive < 0.5",
        "p_alive >= 0.5",
        "p_alive != 0.5",
        "clv between 0 and 1e12",
        "birthday_month in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)",
        "birthday_month not in (11)",
        r#"tier = "gold""#,
        r#"tier != "gold""#,
        r#"tier not in ("gold")"#,
        r#"location = "q1""#,
        "tier is not null",
    ] {
        assert!(!holds(rule, &c), "{rule}");
    }
    // ... and `not` negates that result; `is null` asks directly.
    assert!(holds("not (p_alive < 0.5)", &c));
    assert!(holds("tier is null and p_alive is null", &c));
    assert!(!holds("tier is null", &full(1)));
}

#[test]
fn strings_compare_exactly_with_escapes() {
    let mut c = bare(3);
    c.favourite_product = Some(r#"say "hi" \ bye"#.into());
    assert!(holds(r#"favourite_product = "say \"hi\" \\ bye""#, &c));
    assert!(!holds(r#"favourite_product = "SAY \"hi\" \\ bye""#, &c));
    c.location = Some("Quận 1".into());
    assert!(holds(r#"location = "Quận 1""#, &c));
}

#[test]
fn long_chains_flatten_and_still_short_circuit_correctly() {
    let c = full(1);
    let all_true = ["frequency = 12"; 7].join(" and ");
    assert!(holds(&all_true, &c));
    let one_false = format!("{all_true} and frequency = 13");
    assert!(!holds(&one_false, &c));
    let any = format!("{} or frequency = 12", ["frequency = 1"; 6].join(" or "));
    assert!(holds(&any, &c));
}

#[test]
fn filter_keeps_the_members_in_order() {
    let customers: Vec<_> = (0..10u8)
        .map(|n| {
            let mut c = bare(n);
            c.frequency = u32::from(n);
            c
        })
        .collect();
    let rule = Rule::parse("frequency between 3 and 5 or frequency = 9").unwrap();
    let picked: Vec<u32> = rule.filter(&customers).map(|c| c.frequency).collect();
    assert_eq!(picked, vec![3, 4, 5, 9]);
}

#[test]
fn definitions_round_trip_through_json_in_canonical_form() {
    let def = SegmentDefinition::new(
        "Birthday regulars",
        "BIRTHDAY_MONTH = 11 AND (frequency>=5 OR tier IN (\"gold\"))"
            .to_lowercase()
            .as_str(),
    )
    .unwrap();
    let json = serde_json::to_string(&def).unwrap();
    assert_eq!(
        json,
        r#"{"name":"Birthday regulars","rule":"birthday_month = 11 and (frequency >= 5 or tier in (\"gold\"))"}"#
    );
    let back: SegmentDefinition = serde_json::from_str(&json).unwrap();
    assert_eq!(back, def);
    assert!(back.contains(&full(1)));
}

#[test]
fn a_stored_definition_with_a_bad_rule_is_refused_with_the_reason() {
    let err = serde_json::from_str::<SegmentDefinition>(r#"{"name": "x", "rule": "tier > 3"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`>` does not apply to `tier`"), "{err}");
}
