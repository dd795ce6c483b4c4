//! The scoring job on real databases: orders in through the use cases, models fitted,
//! every customer scored and segmented, movement kept between runs.

use crate::targets;
use regulars_domain::{CustomerId, EventKey, Refund, RefundScope};
use regulars_service::ScoringOptions;
use regulars_tests::order;
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};

const REGULARS: u64 = 20;
const LAPSED: u64 = 20;
const ONCE: u64 = 20;

/// Named RFM segments: every customer is in exactly one of them.
const RFM: [&str; 11] = [
    "Champions",
    "Loyal",
    "Potential loyalist",
    "New customers",
    "Promising",
    "Need attention",
    "About to sleep",
    "At risk",
    "Can't lose them",
    "Hibernating",
    "Lost",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoring_fits_scores_segments_and_keeps_movement() {
    for target in targets("scoring").await {
        let w = &target.world;
        let name = target.name;
        let now = OffsetDateTime::now_utc();
        let mut n = 0u32;
        let mut next_id = || {
            n += 1;
            format!("S-{n}")
        };
        // Regulars: every 6 days for the last 90 days, the last one 2 days ago.
        for c in 0..REGULARS {
            for k in 0..15i64 {
                let at = now - Duration::days(2 + 6 * k) - Duration::hours(c as i64 % 5);
                w.services
                    .ingest_order(w.brand, order(w.brand, &next_id(), c, at, 2))
                    .await
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
        // Lapsed: every 6 days from 180 to 126 days ago, then nothing. The first of them
        // had every order refunded: visits worth nothing, which the spend model cannot
        // take but the purchase model must still fit around.
        for c in REGULARS..REGULARS + LAPSED {
            for k in 0..10i64 {
                let at = now - Duration::days(126 + 6 * k);
                let id = next_id();
                w.services
                    .ingest_order(w.brand, order(w.brand, &id, c, at, 1))
                    .await
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                if c == REGULARS {
                    refund_in_full(w, &id, at + Duration::hours(1)).await;
                }
            }
        }
        // One-time buyers, 45 days ago; the first of them refunded in full.
        for c in REGULARS + LAPSED..REGULARS + LAPSED + ONCE {
            let id = next_id();
            w.services
                .ingest_order(w.brand, order(w.brand, &id, c, now - Duration::days(45), 3))
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            if c == REGULARS + LAPSED {
                refund_in_full(w, &id, now - Duration::days(44)).await;
            }
        }
        let lapsing = w
            .services
            .save_segment(
                w.brand,
                None,
                "Lapsed regulars",
                "recency_days > 60 and frequency >= 5",
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(lapsing.live_count, 0, "{name}: nothing is scored yet");

        let options = ScoringOptions {
            page: 7, // several pages, one short
            ..ScoringOptions::default()
        };
        let run = w
            .services
            .score_brand(w.brand, &options)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let total = REGULARS + LAPSED + ONCE;
        assert_eq!(run.customers, total, "{name}");
        assert!(
            run.summary["bgnbd"]["parameters"]["r"].is_number(),
            "{name}: {}",
            run.summary
        );
        let named: u64 = RFM.iter().filter_map(|s| run.segment_sizes.get(*s)).sum();
        assert_eq!(
            named, total,
            "{name}: one named RFM segment each: {:?}",
            run.segment_sizes
        );
        assert_eq!(
            run.segment_sizes.get("Lapsed regulars"),
            Some(&LAPSED),
            "{name}"
        );

        let ids = customer_ids(w, total).await;
        let mut scores = BTreeMap::new();
        for (i, id) in ids.iter().enumerate() {
            let s = w
                .services
                .customer_scores(w.brand, *id)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                s.segments
                    .iter()
                    .filter(|x| RFM.contains(&x.as_str()))
                    .count(),
                1,
                "{name}: {s:?}"
            );
            assert!(s.previous_segments.is_empty(), "{name}: first run");
            scores.insert(i as u64, s);
        }
        let p = |c: u64| {
            scores[&c]
                .p_alive
                .unwrap_or_else(|| panic!("{name}: p_alive of {c}"))
        };
        let min_regular = (0..REGULARS).map(p).fold(1.0, f64::min);
        let max_lapsed = (REGULARS..REGULARS + LAPSED).map(p).fold(0.0, f64::max);
        assert!(
            min_regular > max_lapsed,
            "{name}: regulars {min_regular} vs lapsed {max_lapsed}"
        );
        for c in 0..REGULARS {
            let s = &scores[&c];
            assert_eq!(s.typical_gap_days, Some(6.0), "{name}: {s:?}");
            assert!(s.regularity.is_some_and(|r| r > 0.9), "{name}: {s:?}");
            assert!(
                s.expected_visits_30d.is_some_and(|e| e > 1.0),
                "{name}: a weekly-ish regular comes back within 30 days: {s:?}"
            );
            let due = s
                .next_visit_at
                .unwrap_or_else(|| panic!("{name}: next visit"));
            assert!(
                (due - (now + Duration::days(4))).abs() < Duration::days(2),
                "{name}: {due}"
            );
            assert_eq!(s.favourite_item.as_deref(), Some("TS-OOLONG"), "{name}");
            assert!(s.preferred_hour.is_some(), "{name}");
        }
        for c in REGULARS + LAPSED..total {
            let s = &scores[&c];
            assert_eq!(
                s.p_alive,
                Some(1.0),
                "{name}: BG/NBD keeps one-time buyers alive"
            );
            assert_eq!(s.typical_gap_days, None, "{name}");
        }
        assert!(
            scores[&(REGULARS + LAPSED)].rfm.is_some_and(|r| r[2] == 1),
            "{name}: the refunded buyer spent nothing: {:?}",
            scores[&(REGULARS + LAPSED)]
        );

        // The custom segment counts live; a second run keeps the first run's segments.
        let counted = w
            .services
            .segment(w.brand, lapsing.segment.id)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(counted.live_count, LAPSED, "{name}");
        w.services
            .score_brand(w.brand, &options)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for (i, id) in ids.iter().enumerate() {
            let s = w
                .services
                .customer_scores(w.brand, *id)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s.previous_segments, scores[&(i as u64)].segments, "{name}");
        }
        let entrants = w
            .services
            .segment_entrants(w.brand, "Champions", None, 100)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(entrants.is_empty(), "{name}: nobody moved: {entrants:?}");
        let runs = w
            .services
            .scoring_runs(w.brand, 10)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(runs.len(), 2, "{name}");
        assert!(runs[0].at >= runs[1].at, "{name}: newest first");
    }
}

/// Refunds order `id` in full at `at`.
async fn refund_in_full(w: &regulars_tests::World, id: &str, at: OffsetDateTime) {
    let key =
        |source: &str, id: String| EventKey::new(source, id).unwrap_or_else(|e| panic!("{e}"));
    let refund = Refund {
        brand_id: w.brand,
        key: key("pos:generic", format!("R-{id}")),
        order: key("pos:generic", id.to_owned()),
        refunded_at: at,
        scope: RefundScope::Full,
    };
    w.services
        .refund_order(w.brand, refund)
        .await
        .unwrap_or_else(|e| panic!("refund {id}: {e}"));
}

/// The brand's customers in the order the fixture created them (customer n has phone n).
async fn customer_ids(w: &regulars_tests::World, total: u64) -> Vec<CustomerId> {
    let mut ids = Vec::new();
    for c in 0..total {
        let phone = regulars_tests::phone(c);
        let view = w
            .services
            .customer_lookup(w.brand, phone.as_str())
            .await
            .unwrap_or_else(|e| panic!("customer {c}: {e}"));
        ids.push(view.customer.id);
    }
    ids
}
