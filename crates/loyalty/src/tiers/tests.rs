use super::*;
use regulars_domain::{Currency, Money, Points};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use time::macros::{datetime, offset};
use time::{Date, Month};

fn spend_program() -> Result<TierProgram, serde_json::Error> {
    serde_json::from_str(
        r#"{
            "metric": {"kind": "spend", "currency": "VND"},
            "window_days": 180,
            "review_period": "month",
            "tiers": [
                {"code": "silver", "name": "Bạc", "threshold": "1000000",
                 "benefits": {"earn_multiplier": "1.2"}},
                {"code": "gold", "name": "Vàng", "threshold": 3000000,
                 "benefits": {"earn_multiplier": 1.5, "perks": ["Free upsize"]}}
            ]
        }"#,
    )
}

fn vnd(n: i64) -> QualifyingValue {
    QualifyingValue::Spend(Money::from_minor_units(n, Currency::VND))
}

fn code(s: &str) -> TierCode {
    TierCode(s.into())
}

#[test]
fn json_round_trip() -> Result<(), serde_json::Error> {
    let p = spend_program()?;
    assert_eq!(p.tiers()[1].benefits.earn_multiplier, dec!(1.5));
    let again: TierProgram = serde_json::from_str(&serde_json::to_string(&p)?)?;
    assert_eq!(again, p);
    Ok(())
}

#[test]
fn invalid_json_names_the_field() -> Result<(), serde_json::Error> {
    let good = serde_json::to_value(spend_program()?)?;
    let cases = [
        (
            "/tiers/1/threshold",
            serde_json::json!("999999"),
            "tiers[1].threshold",
        ),
        (
            "/tiers/0/threshold",
            serde_json::json!("0.5"),
            "tiers[0].threshold",
        ),
        (
            "/tiers/1/code",
            serde_json::json!("silver"),
            "tiers[1].code",
        ),
        ("/tiers/1/code", serde_json::json!("Gold"), "tiers[1].code"),
        (
            "/tiers/0/benefits/earn_multiplier",
            serde_json::json!("0.9"),
            "tiers[0].benefits.earn_multiplier",
        ),
        (
            "/tiers/0/benefits/perks",
            serde_json::json!([" "]),
            "tiers[0].benefits.perks[0]",
        ),
        ("/window_days", serde_json::json!(0), "window_days"),
    ];
    for (pointer, bad, field) in cases {
        let mut v = good.clone();
        if let Some(slot) = v.pointer_mut(pointer) {
            *slot = bad;
        }
        let err = serde_json::from_value::<TierProgram>(v)
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.starts_with(&format!("{field}: "))),
            "{pointer}: {err:?}"
        );
    }
    let mut v = good.clone();
    v["surprise"] = serde_json::json!(true);
    assert!(serde_json::from_value::<TierProgram>(v).is_err());
    for metric in [
        serde_json::json!({"kind": "points", "currency": "VND"}),
        serde_json::json!({"kind": "spend"}),
        serde_json::json!({"kind": "spend", "currency": "VND", "x": 1}),
    ] {
        let mut v = good.clone();
        v["metric"] = metric;
        assert!(serde_json::from_value::<TierProgram>(v).is_err());
    }
    Ok(())
}

#[test]
fn no_tier_below_the_lowest_threshold() -> Result<(), Box<dyn std::error::Error>> {
    let p = spend_program()?;
    assert_eq!(p.tier_for(vnd(999_999))?, None);
    assert_eq!(
        p.on_activity(None, vnd(10))?,
        TierDecision::Unchanged { tier: None }
    );
    assert_eq!(
        p.at_period_end(Some(&code("gold")), vnd(0))?,
        TierDecision::Downgrade {
            from: code("gold"),
            to: None
        }
    );
    assert_eq!(p.earn_multiplier(None)?, Decimal::ONE);
    assert_eq!(p.earn_multiplier(Some(&code("gold")))?, dec!(1.5));
    Ok(())
}

#[test]
fn values_in_another_metric_are_refused() -> Result<(), serde_json::Error> {
    let p = spend_program()?;
    let usd = QualifyingValue::Spend(Money::from_minor_units(1, Currency::USD));
    assert!(matches!(
        p.tier_for(usd),
        Err(TierError::MetricMismatch { .. })
    ));
    let pts = QualifyingValue::Points(Points::new(1));
    assert!(matches!(
        p.on_activity(None, pts),
        Err(TierError::MetricMismatch { .. })
    ));
    assert_eq!(
        p.on_activity(Some(&code("platinum")), vnd(0)),
        Err(TierError::UnknownTier {
            code: code("platinum")
        })
    );
    Ok(())
}

#[test]
fn progress_for_the_customer_page() -> Result<(), Box<dyn std::error::Error>> {
    let p = spend_program()?;
    let progress = p.progress(Some(&code("silver")), vnd(700_000))?;
    assert_eq!(
        progress,
        TierProgress {
            tier: Some(code("silver")),
            value: vnd(700_000),
            next: Some(NextTier {
                tier: code("gold"),
                threshold: vnd(3_000_000),
                remaining: vnd(2_300_000),
            }),
            to_keep: vnd(300_000),
        }
    );
    let top = p.progress(None, vnd(3_500_000))?;
    assert_eq!(top.tier, Some(code("gold")));
    assert_eq!(top.next, None);
    assert_eq!(top.to_keep, vnd(0));
    let none = p.progress(None, vnd(0))?;
    assert_eq!(none.next.map(|n| n.remaining), Some(vnd(1_000_000)));
    Ok(())
}

#[test]
fn period_ends() -> Result<(), TierError> {
    let vn = offset!(+7);
    let month = ReviewPeriod::Month;
    assert_eq!(
        month.next_period_end(datetime!(2026-12-31 16:59:59 UTC), vn)?,
        datetime!(2027-01-01 00:00 +7)
    );
    // Exactly at a boundary, the period that just began ends next.
    assert_eq!(
        month.next_period_end(datetime!(2026-12-31 17:00 UTC), vn)?,
        datetime!(2027-02-01 00:00 +7)
    );
    let quarter = ReviewPeriod::Quarter;
    for (m, end) in [
        (1, datetime!(2026-04-01 00:00 +7)),
        (3, datetime!(2026-04-01 00:00 +7)),
        (4, datetime!(2026-07-01 00:00 +7)),
        (9, datetime!(2026-10-01 00:00 +7)),
        (10, datetime!(2027-01-01 00:00 +7)),
        (12, datetime!(2027-01-01 00:00 +7)),
    ] {
        let month = Month::try_from(m).map_err(|_| TierError::DateOutOfRange)?;
        let day =
            Date::from_calendar_date(2026, month, 15).map_err(|_| TierError::DateOutOfRange)?;
        assert_eq!(
            quarter.next_period_end(day.midnight().assume_offset(vn), vn)?,
            end
        );
    }
    assert_eq!(
        ReviewPeriod::Year.next_period_end(datetime!(2026-06-01 00:00 UTC), vn)?,
        datetime!(2027-01-01 00:00 +7)
    );
    assert_eq!(
        ReviewPeriod::Year.next_period_end(datetime!(9999-06-01 00:00 UTC), vn),
        Err(TierError::DateOutOfRange)
    );
    Ok(())
}
