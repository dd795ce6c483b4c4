//! Item co-occurrence, favourites and the next best item.

use proptest::prelude::*;
use regulars_models::habits::HabitsError;
use regulars_models::habits::affinity::{
    AffinityConfig, AffinityModel, Basket, Weighting, customer_affinity, rank_items,
};
use std::collections::HashSet;
use time::Duration;
use time::macros::datetime;

const KEEP_ALL: AffinityConfig = AffinityConfig {
    min_pair_orders: 1,
    min_support: 0.0,
};

fn tea_shop() -> Vec<Vec<&'static str>> {
    let mut baskets = Vec::new();
    // Oolong usually comes with cheese foam; brown sugar with pearls.
    for _ in 0..6 {
        baskets.push(vec!["TS-OOLONG", "TOP-CHEESE"]);
    }
    for _ in 0..4 {
        baskets.push(vec!["TS-BROWN", "TOP-PEARL"]);
    }
    for _ in 0..3 {
        baskets.push(vec!["TS-OOLONG", "CAKE-TIRAMISU"]);
    }
    baskets.push(vec!["TS-BROWN", "TS-OOLONG", "TS-OOLONG"]); // a repeat counts once
    baskets.push(vec!["CAKE-TIRAMISU"]);
    baskets
}

#[test]
fn support_confidence_and_lift_by_hand() {
    let m = AffinityModel::build(tea_shop(), KEEP_ALL);
    assert_eq!(m.orders(), 15);
    assert_eq!(m.item_orders("TS-OOLONG"), 10);
    assert_eq!(m.item_orders("TOP-CHEESE"), 6);
    assert_eq!(m.item_orders("NOPE"), 0);
    let p = m.pair("TS-OOLONG", "TOP-CHEESE").unwrap();
    assert_eq!((p.a.as_str(), p.b.as_str()), ("TOP-CHEESE", "TS-OOLONG"));
    assert_eq!(p.orders, 6);
    assert!((p.support - 6.0 / 15.0).abs() < 1e-12);
    assert_eq!(p.confidence_a_to_b, 1.0);
    assert!((p.confidence_b_to_a - 0.6).abs() < 1e-12);
    assert!((p.lift - 6.0 * 15.0 / (6.0 * 10.0)).abs() < 1e-12);
    assert_eq!(m.pair("TOP-CHEESE", "TS-OOLONG"), Some(p));
    assert_eq!(m.pair("TOP-CHEESE", "TOP-PEARL"), None);
    // Strongest first: brown sugar + pearls (lift 15·4/(5·4) = 3) leads.
    assert_eq!(m.pairs()[0].a, "TOP-PEARL");
    assert!((m.pairs()[0].lift - 3.0).abs() < 1e-12);
    assert_eq!(
        m.items(),
        &[
            "CAKE-TIRAMISU",
            "TOP-CHEESE",
            "TOP-PEARL",
            "TS-BROWN",
            "TS-OOLONG"
        ]
    );
}

#[test]
fn thresholds_drop_rare_pairs() {
    let m = AffinityModel::build(
        tea_shop(),
        AffinityConfig {
            min_pair_orders: 4,
            min_support: 0.0,
        },
    );
    assert!(m.pair("TS-BROWN", "TS-OOLONG").is_none());
    assert!(m.pair("TS-OOLONG", "CAKE-TIRAMISU").is_none());
    assert_eq!(m.pairs().len(), 2);
    let m = AffinityModel::build(
        tea_shop(),
        AffinityConfig {
            min_pair_orders: 1,
            min_support: 0.3,
        },
    );
    assert_eq!(m.pairs().len(), 1);
}

fn basket(day: i64, skus: &[&str]) -> Basket {
    Basket {
        placed_at: datetime!(2026-03-01 08:00 UTC) + Duration::days(day),
        skus: skus.iter().map(|s| (*s).to_owned()).collect(),
    }
}

#[test]
fn favourites_by_count_with_deterministic_ties_and_optional_recency() {
    let history = [
        basket(0, &["TS-BROWN"]),
        basket(1, &["TS-BROWN", "TS-BROWN"]),
        basket(2, &["TS-BROWN"]),
        basket(50, &["TS-OOLONG"]),
        basket(51, &["TS-OOLONG"]),
    ];
    let by_count = rank_items(&history, Weighting::Count);
    assert_eq!(by_count[0].sku, "TS-BROWN");
    assert_eq!(by_count[0].orders, 3);
    // Recent orders count more with a 7-day half-life: oolong wins.
    let now = datetime!(2026-04-21 08:00 UTC);
    let recent = rank_items(&history, Weighting::recency(now, 7.0).unwrap());
    assert_eq!(recent[0].sku, "TS-OOLONG");
    assert!(
        recent
            .iter()
            .all(|s| s.score > 0.0 && s.score <= s.orders as f64)
    );
    // A tie on count: the more recently bought wins, then the smaller SKU.
    let tie = [basket(0, &["B"]), basket(1, &["A"])];
    assert_eq!(rank_items(&tie, Weighting::Count)[0].sku, "A");
    let same_day = [basket(0, &["B", "A"])];
    assert_eq!(rank_items(&same_day, Weighting::Count)[0].sku, "A");
    assert!(rank_items(&[], Weighting::Count).is_empty());
    assert_eq!(
        Weighting::recency(now, 0.0),
        Err(HabitsError::InvalidHalfLife { value: 0.0 })
    );
}

#[test]
fn the_next_best_item_goes_with_a_favourite_and_is_new_to_the_customer() {
    let m = AffinityModel::build(tea_shop(), KEEP_ALL);
    let oolong_only = [basket(0, &["TS-OOLONG"]), basket(3, &["TS-OOLONG"])];
    let a = customer_affinity(&m, &oolong_only, Weighting::Count, 2);
    assert_eq!(a.favourite.as_deref(), Some("TS-OOLONG"));
    let next = a.next_best.unwrap();
    // Cheese foam: lift 1.5 beats tiramisu's 15·3/(10·4) = 1.125.
    assert_eq!(next.sku, "TOP-CHEESE");
    assert_eq!(next.because_of, "TS-OOLONG");
    assert!((next.confidence - 0.6).abs() < 1e-12);
    // Once they have had cheese foam, tiramisu is next.
    let with_cheese = [
        basket(0, &["TS-OOLONG"]),
        basket(1, &["TS-OOLONG", "TOP-CHEESE"]),
    ];
    let a = customer_affinity(&m, &with_cheese, Weighting::Count, 1);
    assert_eq!(a.next_best.unwrap().sku, "CAKE-TIRAMISU");
    // Brown sugar goes with oolong less than chance (lift 15·1/(5·10) = 0.3): never offered.
    let bought: HashSet<&str> = ["TS-OOLONG", "TOP-CHEESE", "CAKE-TIRAMISU"].into();
    assert_eq!(m.next_best_item(&["TS-OOLONG"], &bought), None);
    // No history, no favourite, nothing to offer.
    let none = customer_affinity(&m, &[], Weighting::Count, 3);
    assert_eq!((none.favourite, none.next_best), (None, None));
}

#[test]
fn a_large_brand_builds_quickly_enough_to_run_in_tests() {
    // 200,000 orders of up to 4 of 300 SKUs: a smoke test of the indexed counting
    // (the 10^6 figure is for the benchmark, not for tests).
    let skus: Vec<String> = (0..300).map(|i| format!("SKU-{i:03}")).collect();
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let baskets: Vec<Vec<&str>> = (0..200_000)
        .map(|_| {
            let n = 1 + next() % 4;
            (0..n)
                .map(|_| skus[(next() % 300) as usize].as_str())
                .collect()
        })
        .collect();
    let m = AffinityModel::build(&baskets, AffinityConfig::default());
    assert_eq!(m.orders(), 200_000);
    assert_eq!(m.items().len(), 300);
    assert!(!m.pairs().is_empty());
}

fn baskets() -> impl Strategy<Value = Vec<Vec<String>>> {
    let sku = prop::sample::select(vec!["A", "B", "C", "D", "E", "F"]).prop_map(str::to_owned);
    prop::collection::vec(prop::collection::vec(sku, 0..5), 0..40)
}

proptest! {
    #[test]
    fn statistics_stay_in_range_and_lift_is_symmetric(bs in baskets(), min in 1u64..3) {
        let m = AffinityModel::build(&bs, AffinityConfig { min_pair_orders: min, min_support: 0.0 });
        for p in m.pairs() {
            prop_assert!(p.a < p.b);
            prop_assert!(p.orders >= min);
            for x in [p.support, p.confidence_a_to_b, p.confidence_b_to_a] {
                prop_assert!(x.is_finite() && (0.0..=1.0).contains(&x));
            }
            prop_assert!(p.lift.is_finite() && p.lift > 0.0);
            let back = m.pair(&p.b, &p.a).unwrap();
            prop_assert_eq!(back.lift, p.lift);
            // lift = confidence(a→b) / support(b)
            let support_b = m.item_orders(&p.b) as f64 / m.orders() as f64;
            prop_assert!((p.confidence_a_to_b / support_b - p.lift).abs() < 1e-9 * p.lift.max(1.0));
        }
        prop_assert!(m.pairs().windows(2).all(|w| w[0].lift >= w[1].lift));
    }

    #[test]
    fn the_model_does_not_depend_on_input_order(bs in baskets()) {
        let m = AffinityModel::build(&bs, KEEP_ALL);
        let mut shuffled: Vec<Vec<String>> = bs.iter().rev().cloned().collect();
        for b in &mut shuffled {
            b.reverse();
        }
        let n = AffinityModel::build(&shuffled, KEEP_ALL);
        prop_assert_eq!(m.pairs(), n.pairs());
        prop_assert_eq!(m.items(), n.items());
    }

    #[test]
    fn favourites_and_offers_do_not_depend_on_order(bs in baskets(), mine in baskets()) {
        let m = AffinityModel::build(&bs, KEEP_ALL);
        let history: Vec<Basket> = mine
            .iter()
            .enumerate()
            .map(|(i, skus)| Basket {
                placed_at: datetime!(2026-01-01 00:00 UTC) + Duration::hours(i as i64 % 7),
                skus: skus.clone(),
            })
            .collect();
        let a = customer_affinity(&m, &history, Weighting::Count, 2);
        let reversed: Vec<Basket> = history.iter().rev().cloned().collect();
        let b = customer_affinity(&m, &reversed, Weighting::Count, 2);
        prop_assert_eq!(&a, &b);
        if let Some(next) = &a.next_best {
            prop_assert!(next.lift > 1.0 && next.confidence <= 1.0);
            prop_assert!(history.iter().all(|h| !h.skus.contains(&next.sku)));
        }
    }
}
