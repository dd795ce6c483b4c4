//! Cost of building item affinity over a brand's whole order history.

use criterion::{Criterion, criterion_group, criterion_main};
use regulars_models::habits::affinity::{AffinityConfig, AffinityModel};
use std::collections::HashMap;
use std::hint::black_box;

const ORDERS: usize = 1_000_000;
const SKUS: u64 = 300;

/// One million orders of 1–4 items from 300 SKUs, the same every run.
fn baskets(skus: &[String]) -> Vec<Vec<&str>> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..ORDERS)
        .map(|_| {
            let n = 1 + next() % 4;
            // Skewed popularity: a few drinks dominate, as in a real menu.
            (0..n)
                .map(|_| {
                    let r = next() % SKUS;
                    skus[(r * r / SKUS) as usize].as_str()
                })
                .collect()
        })
        .collect()
}

fn build(c: &mut Criterion) {
    let skus: Vec<String> = (0..SKUS).map(|i| format!("SKU-{i:03}")).collect();
    let orders = baskets(&skus);
    let mut group = c.benchmark_group("affinity");
    group.sample_size(10);
    group.bench_function("build_1m_orders", |b| {
        b.iter(|| AffinityModel::build(black_box(&orders), AffinityConfig::default()))
    });
    group.finish();
    // The peer: one pass counting every SKU occurrence by its string, the least any
    // analysis of the same orders has to do.
    let mut group = c.benchmark_group("baseline");
    group.sample_size(10);
    group.bench_function("count_skus_1m_orders", |b| {
        b.iter(|| {
            let mut counts: HashMap<&str, u64> = HashMap::new();
            for order in black_box(&orders) {
                for sku in order {
                    *counts.entry(sku).or_insert(0) += 1;
                }
            }
            counts
        })
    });
    group.finish();
}

criterion_group!(benches, build);
criterion_main!(benches);
