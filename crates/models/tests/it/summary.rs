//! Summaries from visits, grouping and the analyst CSV.

use proptest::prelude::*;
use regulars_models::Summary;
use regulars_models::summary::{Visit, from_visits, group, group_counts, parse_csv};

#[test]
fn visits_follow_lifetimes_semantics() {
    let v = |c: &'static str, day: f64, amount: f64| Visit {
        customer: c,
        day,
        amount: Some(amount),
    };
    let visits = [
        v("a", 10.0, 5.0),
        v("a", 10.7, 5.0), // same day as the first: merged into the first period
        v("a", 13.2, 4.0),
        v("a", 13.9, 2.0), // same day: 6 in total that day
        v("a", 20.0, 10.0),
        v("a", 45.0, 99.0), // after the observation end: ignored
        v("b", 30.0, 1.0),
    ];
    let rows = from_visits(&visits, 40.0, 1.0);
    let (a, b) = (rows[0].1, rows[1].1);
    assert_eq!((a.frequency, a.recency, a.t), (2.0, 10.0, 30.0));
    assert_eq!(a.monetary_value, Some(8.0)); // (6 + 10) / 2, first day excluded
    assert_eq!(
        (b.frequency, b.recency, b.t, b.monetary_value),
        (0.0, 0.0, 10.0, None)
    );
    // Weekly periods: days 10..13 fall in week 1, day 20 in week 2.
    let weekly = from_visits(&visits, 40.0, 7.0);
    assert_eq!(
        (weekly[0].1.frequency, weekly[0].1.recency, weekly[0].1.t),
        (1.0, 1.0, 4.0)
    );
}

#[test]
fn csv_errors_name_line_and_column() {
    let cases = [
        ("", 1, "-"),
        ("id,frequency,recency,T\n", 1, "customer_id"),
        ("customer_id,frequency,recency,T\nc,1,2\n", 2, "-"),
        (
            "customer_id,frequency,recency,T\nc,1,2,3\nd,1,x,3\n",
            3,
            "recency",
        ),
        (
            "customer_id,frequency,recency,T\nc,-1,0,3\n",
            2,
            "frequency",
        ),
        ("customer_id,frequency,recency,T\nc,1,5,3\n", 2, "recency"),
        (
            "customer_id,frequency,recency,T,monetary_value\nc,1,2,3,-4\n",
            2,
            "monetary_value",
        ),
        ("customer_id,frequency,recency,T\nc,1,2,inf\n", 2, "T"),
    ];
    for (text, line, column) in cases {
        let err = parse_csv(text).unwrap_err();
        assert_eq!(
            (err.line, err.column.as_str()),
            (line, column),
            "{text:?}: {err}"
        );
    }
}

#[test]
fn csv_reads_optional_columns_in_any_order() {
    let text = "T,recency,frequency,customer_id,monetary_value,weight\r\n\
                38.86,30.43,2,\"c1\",22.35,3\r\n\r\n38.86,0,0,c2,,1\r\n";
    let rows = parse_csv(text).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, "c1");
    assert_eq!(rows[0].1.monetary_value, Some(22.35));
    assert_eq!(rows[0].1.weight, 3.0);
    assert_eq!(rows[1].1.monetary_value, None);
}

fn arb_summary() -> impl Strategy<Value = Summary> {
    (0u8..4, 0u8..3, 1u8..3, proptest::option::of(1u8..3)).prop_map(|(x, r, t, m)| {
        let x = f64::from(x);
        let t = f64::from(t) * 10.0;
        let recency = if x == 0.0 {
            0.0
        } else {
            f64::from(r + 1) * 3.0
        };
        Summary {
            frequency: x,
            recency,
            t,
            monetary_value: m.map(f64::from),
            weight: 1.0,
        }
    })
}

proptest! {
    #[test]
    fn grouping_keeps_every_customer_once(rows in proptest::collection::vec(arb_summary(), 0..60)) {
        for grouped in [group(&rows), group_counts(&rows)] {
            let total: f64 = grouped.iter().map(|r| r.weight).sum();
            prop_assert_eq!(total, rows.len() as f64);
            // No two groups share a key, and each group's weight is its row count.
            for g in &grouped {
                let same = rows.iter().filter(|r| r.frequency == g.frequency && r.recency == g.recency && r.t == g.t).count();
                prop_assert!(g.weight <= same as f64);
            }
        }
        let counts = group_counts(&rows);
        for (i, a) in counts.iter().enumerate() {
            for b in &counts[i + 1..] {
                prop_assert!((a.frequency, a.recency, a.t) != (b.frequency, b.recency, b.t));
            }
        }
    }
}
