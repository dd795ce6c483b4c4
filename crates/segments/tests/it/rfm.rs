//! RFM scores and named segments.

use proptest::prelude::*;
use regulars_domain::CustomerId;
use regulars_segments::CustomerFeatures;
use regulars_segments::rfm::{RfmScore, RfmSegment, quintile_scores, score_all};
use std::collections::BTreeSet;

fn customer(n: usize, recency: u32, frequency: u32, monetary: i64) -> CustomerFeatures {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&(n as u64).to_le_bytes());
    CustomerFeatures::new(CustomerId::from_bytes(bytes), recency, frequency, monetary)
}

#[test]
fn distinct_values_split_into_exact_quintiles() {
    let values: Vec<u32> = (1..=100).collect();
    let scores = quintile_scores(&values);
    for (i, s) in scores.iter().enumerate() {
        assert_eq!(*s as usize, i / 20 + 1, "value {}", i + 1);
    }
}

#[test]
fn ties_share_the_average_rank() {
    // Ranks of 1,1,1,1 are 1..4 (average 2.5 → ⌈5·2.5/10⌉ = 2); 9 has rank 10.
    let scores = quintile_scores(&[1, 1, 1, 1, 2, 3, 4, 5, 6, 9]);
    assert_eq!(scores, vec![2, 2, 2, 2, 3, 3, 4, 4, 5, 5]);
    assert_eq!(quintile_scores::<u32>(&[]), Vec::<u8>::new());
    assert_eq!(quintile_scores(&[42]), vec![5]);
}

#[test]
fn recency_scores_fewer_days_higher() {
    let cs: Vec<_> = (0..5).map(|i| customer(i, 10 * i as u32, 1, 0)).collect();
    let r: Vec<u8> = score_all(&cs).iter().map(|s| s.recency).collect();
    assert_eq!(r, vec![5, 4, 3, 2, 1]);
}

#[test]
fn the_grid_names_the_corners_and_covers_every_segment() {
    let seg = |r, fm| RfmSegment::from_scores(r, fm);
    assert_eq!(seg(5, 5), RfmSegment::Champions);
    assert_eq!(seg(5, 1), RfmSegment::NewCustomers);
    assert_eq!(seg(1, 5), RfmSegment::CantLoseThem);
    assert_eq!(seg(1, 1), RfmSegment::Lost);
    assert_eq!(seg(2, 1), RfmSegment::Hibernating);
    assert_eq!(seg(3, 3), RfmSegment::NeedAttention);
    assert_eq!(seg(4, 1), RfmSegment::Promising);
    assert_eq!(seg(4, 4), RfmSegment::Loyal);
    assert_eq!(seg(3, 2), RfmSegment::AboutToSleep);
    assert_eq!(seg(2, 4), RfmSegment::AtRisk);
    assert_eq!(seg(5, 3), RfmSegment::PotentialLoyalist);
    let mut seen = BTreeSet::new();
    for r in 1..=5 {
        for fm in 1..=5 {
            seen.insert(seg(r, fm));
        }
    }
    assert_eq!(seen, RfmSegment::ALL.into_iter().collect());
    let names: BTreeSet<_> = RfmSegment::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(names.len(), 11);
}

#[test]
fn fm_is_the_floor_of_the_mean() {
    let s = RfmScore {
        recency: 1,
        frequency: 2,
        monetary: 1,
    };
    assert_eq!(s.fm(), 1);
    assert_eq!(s.segment(), RfmSegment::Lost);
    assert_eq!(s.to_string(), "121");
    let s = RfmScore {
        recency: 5,
        frequency: 5,
        monetary: 4,
    };
    assert_eq!((s.fm(), s.segment()), (4, RfmSegment::Champions));
}

#[test]
fn segments_serialise_as_snake_case() {
    let json = serde_json::to_string(&RfmSegment::CantLoseThem).unwrap();
    assert_eq!(json, "\"cant_lose_them\"");
}

fn population() -> impl Strategy<Value = Vec<(u32, u32, i64)>> {
    prop::collection::vec((0u32..60, 1u32..12, 0i64..50), 1..80)
}

fn build(rows: &[(u32, u32, i64)]) -> Vec<CustomerFeatures> {
    rows.iter()
        .enumerate()
        .map(|(i, (r, f, m))| customer(i, *r, *f, *m))
        .collect()
}

proptest! {
    #[test]
    fn scores_are_in_range_and_each_customer_has_one_segment(rows in population()) {
        let scores = score_all(&build(&rows));
        prop_assert_eq!(scores.len(), rows.len());
        for s in &scores {
            for v in [s.recency, s.frequency, s.monetary, s.fm()] {
                prop_assert!((1..=5).contains(&v));
            }
            prop_assert_eq!(RfmSegment::ALL.iter().filter(|x| **x == s.segment()).count(), 1);
        }
    }

    #[test]
    fn equal_values_get_equal_scores_and_order_follows_value(rows in population()) {
        let scores = score_all(&build(&rows));
        for (a, sa) in rows.iter().zip(&scores) {
            for (b, sb) in rows.iter().zip(&scores) {
                if a.0 == b.0 { prop_assert_eq!(sa.recency, sb.recency); }
                if a.0 < b.0 { prop_assert!(sa.recency >= sb.recency); }
                if a.1 <= b.1 { prop_assert!(sa.frequency <= sb.frequency); }
                if a.2 <= b.2 { prop_assert!(sa.monetary <= sb.monetary); }
            }
        }
    }

    #[test]
    fn better_recency_never_lowers_r(rows in population(), who in any::<prop::sample::Index>(), by in 1u32..30) {
        let i = who.index(rows.len());
        let before = score_all(&build(&rows))[i];
        let mut better = rows.clone();
        better[i].0 = better[i].0.saturating_sub(by);
        let after = score_all(&build(&better))[i];
        prop_assert!(after.recency >= before.recency);
        let mut richer = rows.clone();
        richer[i].1 += by;
        richer[i].2 += i64::from(by);
        let after = score_all(&build(&richer))[i];
        prop_assert!(after.frequency >= before.frequency);
        prop_assert!(after.monetary >= before.monetary);
    }

    #[test]
    fn input_order_does_not_change_anyones_score(rows in population(), seed in any::<u64>()) {
        let scores = score_all(&build(&rows));
        // A deterministic shuffle from the seed.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        let mut x = seed | 1;
        for i in (1..order.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            order.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let shuffled: Vec<_> = order.iter().map(|&i| rows[i]).collect();
        let again = score_all(&build(&shuffled));
        for (k, &i) in order.iter().enumerate() {
            prop_assert_eq!(again[k], scores[i]);
        }
    }
}
