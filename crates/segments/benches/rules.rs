//! Cost of evaluating a compiled segment rule over a brand's customers.

use criterion::{Criterion, criterion_group, criterion_main};
use regulars_domain::CustomerId;
use regulars_segments::{CustomerFeatures, Rule};
use std::hint::black_box;

const ROWS: usize = 1_000_000;

/// Five clauses of the kinds shop owners write: two numeric comparisons, a missing-able
/// model output, a text `in` and a `between`.
const RULE: &str = r#"recency_days > 30 and p_alive < 0.5 and tier in ("gold", "silver") and frequency >= 3 and clv between 200000 and 1000000"#;

/// The same predicate written by hand: what the compiled rule is measured against.
fn hand_written(c: &CustomerFeatures) -> bool {
    c.recency_days > 30
        && c.p_alive.is_some_and(|p| p < 0.5)
        && c.tier
            .as_deref()
            .is_some_and(|t| t == "gold" || t == "silver")
        && c.frequency >= 3
        && c.clv
            .is_some_and(|v| (200_000.0..=1_000_000.0).contains(&v))
}

/// A deterministic xorshift stream, so every run measures the same rows.
struct Stream(u64);

impl Stream {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn customers() -> Vec<CustomerFeatures> {
    let mut s = Stream(0x9E37_79B9_7F4A_7C15);
    let tiers = ["bronze", "silver", "gold", "diamond"];
    (0..ROWS)
        .map(|i| {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let mut c = CustomerFeatures::new(
                CustomerId::from_bytes(bytes),
                s.below(365) as u32,
                1 + s.below(50) as u32,
                s.below(5_000_000) as i64,
            );
            c.p_alive = (s.below(10) != 0).then(|| s.unit());
            c.tier = (s.below(5) != 0).then(|| tiers[s.below(4) as usize].to_owned());
            c.clv = (s.below(10) != 0).then(|| s.unit() * 2_000_000.0);
            c.location = Some(format!("store-{}", s.below(8)));
            c
        })
        .collect()
}

fn evaluate(c: &mut Criterion) {
    let rule = match Rule::parse(RULE) {
        Ok(rule) => rule,
        Err(e) => panic!("benchmark rule must parse: {e}"),
    };
    let rows = customers();
    let by_rule = rows.iter().filter(|c| rule.matches(c)).count();
    let by_hand = rows.iter().filter(|c| hand_written(c)).count();
    assert_eq!(
        by_rule, by_hand,
        "the rule and its hand-written peer disagree"
    );
    assert!(by_rule > 0, "the benchmark rule must select someone");

    let mut group = c.benchmark_group("segments");
    group.sample_size(20);
    group.bench_function("rule_5_clauses_1m_rows", |b| {
        b.iter(|| black_box(&rows).iter().filter(|c| rule.matches(c)).count())
    });
    group.finish();
    let mut group = c.benchmark_group("baseline");
    group.sample_size(20);
    group.bench_function("hand_written_5_clauses_1m_rows", |b| {
        b.iter(|| black_box(&rows).iter().filter(|c| hand_written(c)).count())
    });
    group.finish();
}

criterion_group!(benches, evaluate);
criterion_main!(benches);
