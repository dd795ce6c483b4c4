//! The seed slice: a fixed-seed history written as CSV and imported by the real
//! `regulars import orders`.

use crate::{BenchResult, Shape};
use regulars_domain::{BrandId, EventKey, LineItem, Money, Order, Phone};
use regulars_pos::BrandContext;
use regulars_pos::csv_gen::write_csv;
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use time::OffsetDateTime;

/// Writes the seed slice as CSV and imports it with `regulars import orders`:
/// (orders, seconds).
pub(crate) fn import_seed(
    binary: &Path,
    url: &str,
    brand: BrandId,
    shape: Shape,
) -> BenchResult<(usize, f64)> {
    let dir = std::env::temp_dir().join(format!("regulars-scale-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("seed.csv");
    let context = BrandContext::vietnam(brand);
    let orders = seed_orders(&context, shape, OffsetDateTime::now_utc());
    let file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
    write_csv(&orders, std::io::BufWriter::new(file)).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let out = Command::new(binary)
        .args(["import", "orders", "--quiet", "--brand", &brand.to_string()])
        .arg(&path)
        .env("DATABASE_URL", url)
        .env_remove("RUST_LOG")
        .output()
        .map_err(|e| format!("run {}: {e}", binary.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    if !out.status.success() {
        return Err(format!(
            "regulars import orders failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok((orders.len(), seconds))
}

/// A small deterministic generator (64-bit LCG), so the seed slice is always the same.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Exponential with this mean.
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}

/// (sku, name, category, price in đồng)
const MENU: &[(&str, &str, &str, i64)] = &[
    ("TS-OOLONG", "Trà sữa ô long", "milk-tea", 45_000),
    ("TS-BROWN", "Trà sữa đường đen", "milk-tea", 50_000),
    ("TS-TARO", "Trà sữa khoai môn", "milk-tea", 48_000),
    ("FT-PEACH", "Trà đào cam sả", "fruit-tea", 42_000),
    ("FT-LYCHEE", "Trà vải", "fruit-tea", 42_000),
    ("CF-SUA", "Cà phê sữa đá", "coffee", 29_000),
    ("CF-MUOI", "Cà phê muối", "coffee", 35_000),
    ("CK-TIRAMISU", "Bánh tiramisu", "cake", 39_000),
];

const LOCATIONS: &[&str] = &["q1", "q3", "thu-duc", "q7", "binh-thanh", "go-vap"];

/// Hours of the day orders are placed at (local), lunch and evening weighted.
const HOURS: &[u8] = &[
    8, 9, 10, 11, 12, 12, 13, 13, 14, 15, 16, 17, 18, 18, 19, 19, 20, 21,
];

/// The seed slice's orders, oldest first. Customer `c` (phone +849 and `c` in 8
/// digits) makes a heavy-tailed number of visits averaging `shape.visits`, at a gap of
/// their own (2–40 days), the last one 0–700 days ago (most within two months).
fn seed_orders(brand: &BrandContext, shape: Shape, now: OffsetDateTime) -> Vec<Order> {
    let mut rng = Rng(0x5ca1_ab1e ^ shape.seed);
    let money = |units: i64| Money::from_minor_units(units, brand.currency);
    let offset = brand.utc_offset;
    let mut orders = Vec::new();
    for c in 0..shape.seed {
        let visits = (1.0 + rng.exp(shape.visits as f64 - 1.0))
            .round()
            .min(400.0) as u64;
        let gap = 2.0 + rng.below(39) as f64;
        let lapse = rng.exp(60.0).min(700.0);
        let home = rng.below(LOCATIONS.len() as u64) as usize;
        let favourite = rng.below(MENU.len() as u64) as usize;
        let phone = Phone::parse(&format!("+849{c:08}"), brand.calling_code).ok();
        let mut day = lapse;
        for v in 0..visits {
            if day > 729.0 {
                break;
            }
            let hour = HOURS[rng.below(HOURS.len() as u64) as usize];
            let date = (now.to_offset(offset) - time::Duration::days(day as i64)).date();
            let minute = rng.below(60) as u8;
            let Ok(at) = date.with_hms(hour, minute, 0) else {
                continue;
            };
            let placed_at = at.assume_offset(offset).to_offset(time::UtcOffset::UTC);
            if placed_at > now {
                day += gap;
                continue;
            }
            let line_count = 1 + rng.below(3) as usize;
            let mut total = 0;
            let lines: Vec<LineItem> = (0..line_count)
                .map(|_| {
                    let i = if rng.below(2) == 0 {
                        favourite
                    } else {
                        rng.below(MENU.len() as u64) as usize
                    };
                    let (sku, name, category, price) = MENU[i];
                    total += price;
                    LineItem {
                        sku: sku.to_owned(),
                        name: name.to_owned(),
                        category: Some(category.to_owned()),
                        quantity: 1,
                        unit_price: money(price),
                        modifiers: Vec::new(),
                    }
                })
                .collect();
            let location = if rng.below(5) == 0 {
                rng.below(LOCATIONS.len() as u64) as usize
            } else {
                home
            };
            orders.push(Order {
                brand_id: brand.brand_id,
                key: EventKey {
                    source: regulars_pos::csv_import::DEFAULT_SOURCE.to_owned(),
                    external_id: format!("S{c:05}-{v:03}"),
                },
                location: Some(LOCATIONS[location].to_owned()),
                customer_phone: phone.clone(),
                placed_at,
                lines,
                total: money(total),
            });
            day += gap * (0.5 + rng.unit());
        }
    }
    orders.sort_by_key(|o| o.placed_at);
    orders
}
