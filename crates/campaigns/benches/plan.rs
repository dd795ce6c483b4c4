//! Cost of planning a campaign over a million customers, against evaluating only its
//! audience rule on the same customers.

use criterion::{Criterion, criterion_group, criterion_main};
use regulars_campaigns::{Campaign, CustomerFacts, plan};
use regulars_domain::{CampaignId, Currency, CustomerId, Money, Phone, Points};
use regulars_segments::Rule;
use std::hint::black_box;
use time::macros::datetime;

const ROWS: usize = 1_000_000;
const RULE: &str = r#"recency_days > 30 and frequency >= 3 and tier in ("gold", "silver")"#;

/// A deterministic xorshift stream, so every run measures the same customers.
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
}

fn customers() -> Vec<CustomerFacts> {
    let mut s = Stream(0x9E37_79B9_7F4A_7C15);
    let tiers = ["bronze", "silver", "gold", "diamond"];
    let items = ["TS-OOLONG", "CF-SUA", "BANH-MI", "MATCHA"];
    (0..ROWS)
        .map(|i| {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let id = CustomerId::from_bytes(bytes);
            let phone = Phone::parse(&format!("09{:08}", i), Phone::VIETNAM)
                .unwrap_or_else(|e| panic!("bench phone: {e}"));
            let mut c = CustomerFacts::new(id, phone);
            c.features.recency_days = s.below(365) as u32;
            c.features.frequency = 1 + s.below(50) as u32;
            c.features.tier = Some(tiers[s.below(4) as usize].to_owned());
            c.consent =
                regulars_domain::ChannelConsent::marketing(s.below(2) == 0, s.below(3) != 0, false);
            c.zalo_user_id = (s.below(2) == 0).then(|| format!("z{i}"));
            c.preferred_hour = (s.below(3) != 0).then(|| s.below(24) as u8);
            c.favourite_item = Some(items[s.below(4) as usize].to_owned());
            c.next_best_item = Some(items[s.below(4) as usize].to_owned());
            c.name = Some(format!("Khách {i}"));
            c.points_balance = Points::new(s.below(5_000) as i64);
            c
        })
        .collect()
}

fn campaign() -> Campaign {
    let reward = |id: u8, sku: &str, cost: u32| {
        serde_json::json!({
            "reward": {
                "id": regulars_domain::RewardId::from_bytes([id; 16]),
                "name": format!("1 {sku} miễn phí"),
                "cost": 100,
                "kind": {"type": "free_item", "sku": sku},
                "validity_days": 14,
            },
            "cost": {"amount": cost.to_string(), "currency": "VND"},
        })
    };
    let doc = serde_json::json!({
        "id": CampaignId::from_bytes([9; 16]),
        "name": "Win back gold and silver",
        "shop": "Trà Sữa Mây",
        "currency": "VND",
        "trigger": {"type": "broadcast"},
        "audience": {"rule": RULE},
        "offer": {
            "type": "personalised",
            "candidates": [reward(1, "TS-OOLONG", 18_000), reward(2, "CF-SUA", 12_000), reward(3, "BANH-MI", 25_000)],
            "max_cost_per_customer": {"amount": "20000", "currency": "VND"},
        },
        "budget": {"amount": "3000000000", "currency": "VND"},
        "send_time": {"type": "preferred_hour", "fallback_hour": 10},
    });
    Campaign::from_json(&doc.to_string()).unwrap_or_else(|e| panic!("bench campaign: {e}"))
}

/// A `/proc/self/status` field in KiB (Linux), 0 elsewhere.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Memory of one plan over the million customers: the peak resident size it adds, next
/// to the resident size of its input (the customers' facts), written as a report row for
/// `cargo xtask bench` (`campaign_memory.json`).
fn measure_memory(customers_kib: u64, campaign: &Campaign, customers: &[CustomerFacts]) {
    let before = status_kib("VmRSS:");
    let now = datetime!(2026-03-02 03:00 UTC);
    let messages = plan(campaign, customers, now, &[], Money::zero(Currency::VND))
        .map(|p| p.messages().count())
        .unwrap_or(0);
    let peak = status_kib("VmHWM:");
    let added_mib = peak.saturating_sub(before) as f64 / 1024.0;
    let input_mib = customers_kib as f64 / 1024.0;
    eprintln!(
        "plan of {ROWS} customers: peak +{added_mib:.0} MiB over {input_mib:.0} MiB of facts, {messages} messages"
    );
    let row = serde_json::json!([{
        "name": "campaigns/plan_1m_customers/peak_memory",
        "value": added_mib,
        "unit": "MiB",
        "note": format!("peak resident size a plan adds ({messages} messages planned)"),
        "peer": {
            "name": "the 1M customers' facts in memory",
            "value": input_mib,
            "unit": "MiB",
            "what": "resident size of the planner's input, same process",
        },
        "ratio": if input_mib > 0.0 { added_mib / input_mib } else { 0.0 },
    }])
    .to_string();
    if let Some(dir) = std::env::var_os("REGULARS_BENCH_REPORTS") {
        let _ = std::fs::write(std::path::Path::new(&dir).join("campaign_memory.json"), row);
    }
}

fn bench(c: &mut Criterion) {
    let at_start = status_kib("VmRSS:");
    let customers = customers();
    let customers_kib = status_kib("VmRSS:").saturating_sub(at_start);
    let campaign = campaign();
    let rule = Rule::parse(RULE).unwrap_or_else(|e| panic!("bench rule: {e}"));
    let now = datetime!(2026-03-02 03:00 UTC);
    measure_memory(customers_kib, &campaign, &customers);
    // What is measured: how many customers end in a message and in each skip.
    if let Ok(p) = plan(&campaign, &customers, now, &[], Money::zero(Currency::VND)) {
        let mut counts = std::collections::BTreeMap::new();
        for o in &p.outcomes {
            let key = match o {
                regulars_campaigns::Outcome::Send(_) => "send".to_owned(),
                regulars_campaigns::Outcome::Skip { reason, .. } => format!("{reason:?}"),
            };
            *counts.entry(key).or_insert(0usize) += 1;
        }
        eprintln!("plan of 1,000,000 customers: {counts:?}");
    }
    let mut group = c.benchmark_group("campaigns");
    group.sample_size(10);
    group.bench_function("plan_1m_customers", |b| {
        b.iter(|| {
            let p = plan(
                black_box(&campaign),
                black_box(&customers),
                now,
                &[],
                Money::zero(Currency::VND),
            );
            black_box(p.map(|p| p.outcomes.len()).unwrap_or(0))
        })
    });
    group.finish();
    let mut group = c.benchmark_group("baseline");
    group.sample_size(10);
    group.bench_function("audience_rule_1m_customers", |b| {
        b.iter(|| {
            black_box(&customers)
                .iter()
                .filter(|c| rule.matches(&c.features))
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
