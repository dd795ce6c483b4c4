//! The tiers form and the tier document agree; problems are named by their field.

use super::*;
use proptest::prelude::*;

fn program() -> impl Strategy<Value = TierProgram> {
    (
        prop_oneof![
            Just(QualificationMetric::Points),
            Just(QualificationMetric::Spend {
                currency: Currency::VND
            }),
            Just(QualificationMetric::Spend {
                currency: Currency::USD
            }),
        ],
        1_u32..=3660,
        prop_oneof![
            Just(ReviewPeriod::Month),
            Just(ReviewPeriod::Quarter),
            Just(ReviewPeriod::Year)
        ],
        proptest::collection::vec(
            (
                1_i64..10_000,
                r"[a-zA-Z[à-ỹ&&\p{L}]][a-zA-Z[à-ỹ&&\p{L}] ]{0,10}[a-z]",
                (100_i64..=1000, 0_u32..=2),
                proptest::collection::vec("[a-zA-Z][a-zA-Z ]{0,10}[a-z!]", 0..3),
            ),
            1..5,
        ),
    )
        .prop_map(|(metric, window, period, rows)| {
            let mut threshold = 0_i64;
            let tiers = rows
                .into_iter()
                .enumerate()
                .map(|(i, (step, name, (m, scale), perks))| {
                    let value = match metric {
                        QualificationMetric::Points => {
                            QualifyingValue::Points(Points::new(threshold))
                        }
                        QualificationMetric::Spend { currency } => {
                            QualifyingValue::Spend(Money::from_minor_units(threshold, currency))
                        }
                    };
                    threshold += step;
                    let multiplier = Decimal::new(m * 10_i64.pow(scale), 2 + scale);
                    Tier {
                        code: TierCode::new(format!("tier-{i}")).unwrap_or_else(|e| panic!("{e}")),
                        name,
                        threshold: value,
                        benefits: TierBenefits {
                            earn_multiplier: multiplier,
                            perks,
                        },
                    }
                })
                .collect();
            TierProgram::new(metric, window, period, tiers).unwrap_or_else(|e| panic!("{e}"))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The form shows every part of a tier programme: reading it back gives the same one.
    #[test]
    fn fields_of_tiers_read_back_as_the_same_tiers(program in program()) {
        let fields = to_fields(Some(&program), Currency::VND);
        prop_assert_eq!(from_fields(&fields), Ok(Some(program.clone())));
        // And through the JSON document of the advanced view.
        let json = serde_json::to_string(&program).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let again: TierProgram = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(to_fields(Some(&again), Currency::VND), fields);
    }
}

fn form(pairs: &[(&str, &str)]) -> Fields {
    let mut fields = to_fields(None, Currency::VND);
    for (name, value) in pairs {
        fields.push(*name, *value);
    }
    fields
}

#[test]
fn no_rows_is_no_tiers() {
    assert_eq!(
        from_fields(&form(&[("tiers[0].code", ""), ("tiers[0].name", "")])),
        Ok(None)
    );
}

#[test]
fn problems_name_the_row_they_came_from() {
    let errors = from_fields(&form(&[
        ("tiers[0].code", ""),
        ("tiers[1].code", "member"),
        ("tiers[1].name", "Member"),
        ("tiers[1].threshold", "0"),
        ("tiers[1].benefits.earn_multiplier", "1"),
        ("tiers[2].code", "gold"),
        ("tiers[2].name", "Gold"),
        ("tiers[2].threshold", "0"),
        ("tiers[2].benefits.earn_multiplier", "1.5"),
    ]))
    .err()
    .unwrap_or_default();
    assert!(
        errors
            .get("tiers[2].threshold")
            .is_some_and(|e| e.contains("above the previous")),
        "{errors:?}"
    );
    let errors = from_fields(&form(&[
        ("tiers[0].code", "gold"),
        ("tiers[0].name", "Gold"),
        ("tiers[0].threshold", "lots"),
        ("tiers[0].benefits.earn_multiplier", "1"),
    ]))
    .err()
    .unwrap_or_default();
    assert!(errors.contains_key("tiers[0].threshold"), "{errors:?}");
    let errors = from_fields(&form(&[
        ("tiers[0].code", "gold"),
        ("tiers[0].name", "Gold"),
        ("tiers[0].threshold", "0"),
        ("tiers[0].benefits.earn_multiplier", "11"),
    ]))
    .err()
    .unwrap_or_default();
    assert!(
        errors.contains_key("tiers[0].benefits.earn_multiplier"),
        "{errors:?}"
    );
}
