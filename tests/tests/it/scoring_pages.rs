//! The scoring job reads and writes a brand a page at a time, twice over (gather and
//! fit, then score and store): a brand spanning many small pages must get exactly the
//! scores and segments it gets when every customer fits in one page (both runs after a
//! first, so both learn the segments' send-time patterns from the same segments).

use crate::targets;
use regulars_ports::CustomerScores;
use regulars_service::ScoringOptions;
use regulars_tests::order;
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};

const CUSTOMERS: u64 = 45;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_pages_score_like_one_page() {
    for target in targets("scoring_pages").await {
        let w = &target.world;
        let name = target.name;
        let now = OffsetDateTime::now_utc();
        let mut n = 0u32;
        for c in 0..CUSTOMERS {
            // From one visit to a dozen, every 3 to 20 days, the last 1 to 150 days ago.
            let visits = 1 + (c * 7) % 12;
            let gap = 3 + (c * 5) % 18;
            let lapse = 1 + (c * 11) % 150;
            for k in 0..visits {
                n += 1;
                let at =
                    now - Duration::days((lapse + gap * k) as i64) - Duration::hours(c as i64 % 9);
                w.services
                    .ingest_order(
                        w.brand,
                        order(
                            w.brand,
                            &format!("P-{n}"),
                            c,
                            at,
                            1 + (c as usize + k as usize) % 4,
                        ),
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
        w.services
            .save_segment(
                w.brand,
                None,
                "Lapsing",
                "recency_days > 40 and frequency >= 3",
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));

        let one_page = ScoringOptions {
            page: 1_000,
            ..ScoringOptions::default()
        };
        // A first run gives every customer the segment the next runs learn each
        // segment's send-time pattern from; the two compared runs then start alike.
        w.services
            .score_brand(w.brand, &one_page)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let whole = w
            .services
            .score_brand(w.brand, &one_page)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let before = stored(w).await;

        let small = ScoringOptions {
            page: 4, // twelve pages, the last one short
            ..ScoringOptions::default()
        };
        let paged = w
            .services
            .score_brand(w.brand, &small)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let after = stored(w).await;

        assert_eq!(paged.customers, CUSTOMERS, "{name}");
        assert_eq!(paged.customers, whole.customers, "{name}");
        assert_eq!(paged.segment_sizes, whole.segment_sizes, "{name}");
        assert_eq!(paged.summary["bgnbd"], whole.summary["bgnbd"], "{name}");
        assert_eq!(
            paged.summary["gamma_gamma"], whole.summary["gamma_gamma"],
            "{name}"
        );
        assert_eq!(before.len(), after.len(), "{name}");
        for (id, a) in &before {
            let b = after
                .get(id)
                .unwrap_or_else(|| panic!("{name}: {id} not scored"));
            assert_eq!(comparable(a), comparable(b), "{name}: customer {id}");
            // The second run remembers the first's segments.
            assert_eq!(b.previous_segments, a.segments, "{name}: customer {id}");
        }
    }
}

/// Every stored score of the brand by customer.
async fn stored(w: &regulars_tests::World) -> BTreeMap<String, CustomerScores> {
    let mut out = BTreeMap::new();
    for c in 0..CUSTOMERS {
        let phone = regulars_tests::phone(c);
        let view = w
            .services
            .customer_lookup(w.brand, phone.as_str())
            .await
            .unwrap_or_else(|e| panic!("customer {c}: {e}"));
        let id = view.customer.id;
        let scores = w
            .services
            .customer_scores(w.brand, id)
            .await
            .unwrap_or_else(|e| panic!("scores of {c}: {e}"));
        out.insert(id.to_string(), scores);
    }
    out
}

/// A score without what differs between two runs by design (when, and what came before).
fn comparable(s: &CustomerScores) -> CustomerScores {
    CustomerScores {
        scored_at: OffsetDateTime::UNIX_EPOCH,
        previous_segments: Vec::new(),
        ..s.clone()
    }
}
