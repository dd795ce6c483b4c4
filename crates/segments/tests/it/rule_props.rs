//! Properties of the rule language: printing is canonical, compiling keeps the meaning,
//! and no input makes the parser panic.

use proptest::prelude::*;
use regulars_domain::CustomerId;
use regulars_segments::rule::{CmpOp, Expr, Field, FieldType, Literal, parse};
use regulars_segments::{CustomerFeatures, Rule};

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-1000i64..1000).prop_map(|n| n as f64),
        (-1e7f64..1e7),
        prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("gold".to_owned()),
        Just("silver".to_owned()),
        Just("q1".to_owned()),
        Just("TS-OOLONG".to_owned()),
        "[a-zA-Z0-9 \"\\\\ậ_-]{0,8}",
    ]
}

fn literal_of(ty: FieldType) -> BoxedStrategy<Literal> {
    match ty {
        FieldType::Number => number().prop_map(Literal::Number).boxed(),
        FieldType::Text => text().prop_map(Literal::Text).boxed(),
        FieldType::Bool => any::<bool>().prop_map(Literal::Bool).boxed(),
    }
}

fn op_for(ty: FieldType) -> BoxedStrategy<CmpOp> {
    let eq = prop_oneof![Just(CmpOp::Eq), Just(CmpOp::Ne)];
    match ty {
        FieldType::Number => prop_oneof![
            eq,
            Just(CmpOp::Lt),
            Just(CmpOp::Le),
            Just(CmpOp::Gt),
            Just(CmpOp::Ge)
        ]
        .boxed(),
        _ => eq.boxed(),
    }
}

/// A well-typed leaf on any field.
fn leaf() -> impl Strategy<Value = Expr> {
    prop::sample::select(Field::ALL.to_vec()).prop_flat_map(|field| {
        let ty = field.field_type();
        let compare = (op_for(ty), literal_of(ty))
            .prop_map(move |(op, value)| Expr::Compare { field, op, value })
            .boxed();
        let mut options = vec![compare];
        if ty != FieldType::Bool {
            options.push(
                (any::<bool>(), prop::collection::vec(literal_of(ty), 1..4))
                    .prop_map(move |(negated, values)| Expr::In {
                        field,
                        negated,
                        values,
                    })
                    .boxed(),
            );
        }
        if ty == FieldType::Number {
            options.push(
                (number(), number())
                    .prop_map(move |(a, b)| Expr::Between {
                        field,
                        low: a.min(b),
                        high: a.max(b),
                    })
                    .boxed(),
            );
        }
        if field.is_optional() {
            options.push(
                any::<bool>()
                    .prop_map(move |negated| Expr::IsNull { field, negated })
                    .boxed(),
            );
        }
        prop::strategy::Union::new(options)
    })
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(5, 40, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::Or(Box::new(l), Box::new(r))),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

fn customer() -> impl Strategy<Value = CustomerFeatures> {
    let small = prop_oneof![Just(0.0), Just(0.5), Just(1.0), number()];
    (
        (
            0u32..400,
            0u32..60,
            -10i64..3_000_000,
            0u32..800,
            -50i64..500,
        ),
        (
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(text()),
        ),
        (
            prop::option::of(small.clone()),
            prop::option::of(small.clone()),
            prop::option::of(small),
            prop::option::of(1u8..=12),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (recency, frequency, monetary, first, points),
                (tier, fav, loc),
                (p, clv, ev, bm, consent),
            )| {
                let mut c = CustomerFeatures::new(
                    CustomerId::from_bytes([7; 16]),
                    recency,
                    frequency,
                    monetary,
                );
                c.days_since_first_visit = first;
                c.points_balance = points;
                c.tier = tier;
                c.favourite_product = fav;
                c.location = loc;
                c.p_alive = p;
                c.clv = clv;
                c.expected_visits = ev;
                c.birthday_month = bm;
                c.marketing_consent = consent;
                c
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn printing_then_parsing_gives_the_same_tree(e in expr()) {
        let printed = e.to_string();
        let parsed = parse(&printed);
        prop_assert_eq!(parsed.as_ref(), Ok(&e), "printed as {}", printed);
        // The canonical form is a fixed point.
        if let Ok(p) = parsed {
            prop_assert_eq!(p.to_string(), printed);
        }
    }

    #[test]
    fn the_compiled_rule_means_what_the_tree_says(e in expr(), cs in prop::collection::vec(customer(), 1..8)) {
        let rule = Rule::from_expr(e);
        for c in &cs {
            prop_assert_eq!(rule.matches(c), rule.matches_by_interpreting(c), "{}", rule);
        }
    }

    #[test]
    fn not_negates_exactly(e in expr(), c in customer()) {
        let rule = Rule::from_expr(e.clone());
        let negated = Rule::from_expr(Expr::Not(Box::new(e)));
        prop_assert_eq!(negated.matches(&c), !rule.matches(&c));
    }

    #[test]
    fn the_parser_never_panics_and_errors_point_inside_the_text(s in "\\PC{0,40}") {
        if let Err(e) = parse(&s) {
            prop_assert!(e.position.offset <= s.len());
            prop_assert!(s.is_char_boundary(e.position.offset));
            prop_assert!(e.position.column >= 1);
        }
    }

    #[test]
    fn token_soup_never_panics(words in prop::collection::vec(prop::sample::select(vec![
        "recency_days", "tier", "p_alive", "marketing_consent", "and", "or", "not", "in", "between",
        "is", "null", "true", "false", "(", ")", ",", "=", "!=", "<", ">=", "30", "-0.5", "\"gold\"",
        "1e400", "\"", "_", "1_", "x",
    ]), 0..12)) {
        let s = words.join(" ");
        let _ = parse(&s);
    }
}
