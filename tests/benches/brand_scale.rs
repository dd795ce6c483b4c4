//! A chain's nightly work on one large brand on PostgreSQL: the scoring job from stored
//! data (`regulars score`, the release binary run as its own process), the overview of
//! the last 90 days, a live segment count and a campaign run over every customer with
//! its writes — each timed, each with the peak resident memory of the process doing it.
//!
//! The brand: `REGULARS_BENCH_SCALE_CUSTOMERS` customers (1,000,000 unless set) with
//! `REGULARS_BENCH_SCALE_VISITS` orders each on average (10 unless set), generated from a
//! fixed seed. How it is loaded:
//! * a *seed slice* of at most `REGULARS_BENCH_SCALE_SEED` customers (2,000 unless set)
//!   is written as a history CSV and imported by `regulars import orders` (the real
//!   import, every rule applied) — visit counts heavy-tailed (most customers come a few
//!   times, some every few days), lapsed customers, lunch and evening peaks, 1–3 lines
//!   from an 8-item menu, a home shop for most visits, 70 % with SMS and profiling
//!   consent;
//! * the rest are copies of the slice made inside PostgreSQL (`INSERT … SELECT` over
//!   `generate_series`): each copy gets new ids, its own phone numbers and order ids, and
//!   its history shifted back by 0–28 days. Copies carry customers, their statistics,
//!   orders and lines — what the measured paths read — but no ledger (their balance is
//!   zero) and no idempotency records. The import is far from `COPY` speed today (about
//!   500 orders/s); ten million orders through it would take hours.
//!
//! Peak memory: `VmHWM` from `/proc/PID/status`, polled every 20 ms for the `score`
//! process; for the in-process measurements the bench resets its own peak
//! (`/proc/self/clear_refs`) before each and reads it after.
//!
//! Each row's peer is the bound the brand must stay within (the ratio is the share of it
//! used). Results go to `$REGULARS_BENCH_REPORTS/brand_scale.json`.

use regulars::system::{OsIdGen, SystemClock};
use regulars_domain::{BrandId, EventKey, LineItem, Money, Order, Phone};
use regulars_pos::BrandContext;
use regulars_pos::csv_gen::write_csv;
use regulars_reports::Interval;
use regulars_service::{CampaignAction, Services};
use regulars_store::StoreOptions;
use regulars_testkit::PgCluster;
use regulars_tests::bench::{row, write_report};
use regulars_tests::world;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

type BenchResult<T> = Result<T, String>;

/// The bounds the brand must stay within (the rows' peers).
const SCORE_BOUND_S: f64 = 600.0;
const SCORE_BOUND_MIB: f64 = 2048.0;
const OVERVIEW_BOUND_S: f64 = 2.0;
const CAMPAIGN_BOUND_S: f64 = 300.0;

/// The segment counted live.
const SEGMENT_RULE: &str = "recency_days > 60 and frequency >= 5";

fn main() {
    if let Err(e) = run() {
        eprintln!("brand_scale benchmark failed: {e}");
        std::process::exit(1);
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// The brand's shape: seed slice and copies.
#[derive(Debug, Clone, Copy)]
struct Shape {
    seed: u64,
    copies: u64,
    visits: u64,
}

impl Shape {
    fn from_env() -> Shape {
        let customers = env_or("REGULARS_BENCH_SCALE_CUSTOMERS", 1_000_000).max(1);
        let seed = env_or("REGULARS_BENCH_SCALE_SEED", 2_000).clamp(1, 9_999);
        let seed = seed.min(customers);
        Shape {
            seed,
            copies: customers.div_ceil(seed) - 1,
            visits: env_or("REGULARS_BENCH_SCALE_VISITS", 10).max(1),
        }
    }
}

fn run() -> BenchResult<()> {
    let shape = Shape::from_env();
    let binary = binary()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let cluster = PgCluster::start().map_err(|e| e.to_string())?;
    let url = cluster
        .create_database("brand_scale")
        .map_err(|e| e.to_string())?;
    let db = url.rsplit('/').next().unwrap_or("brand_scale").to_owned();
    let psql = Psql {
        cluster: &cluster,
        db: &db,
    };
    let w = rt.block_on(world(&url, StoreOptions::default().max_connections(4)))?;
    let brand = w.brand;

    let started = Instant::now();
    let (orders, import_s) = import_seed(&binary, &url, brand, shape)?;
    psql.run(&consent_sql(brand))?;
    let copied = Instant::now();
    for sql in copy_sql(brand, shape) {
        psql.run(&sql)?;
    }
    psql.run("VACUUM ANALYZE")?;
    let copy_s = copied.elapsed().as_secs_f64();
    let counted = psql.run(&format!(
        "SELECT (SELECT count(*) FROM customers WHERE brand_id = '{brand}') || ' ' || \
         (SELECT count(*) FROM orders WHERE brand_id = '{brand}')"
    ))?;
    let (customers, total_orders) = parse_counts(&counted)?;
    let load = format!(
        "brand of {customers} customers and {total_orders} orders loaded in {:.0} s: \
         seed slice of {} customers ({orders} orders) through `regulars import orders` in \
         {import_s:.1} s, {} copies of it made in PostgreSQL in {copy_s:.1} s",
        started.elapsed().as_secs_f64(),
        shape.seed,
        shape.copies,
    );
    println!("brand_scale: {load}");
    let scale = format!("{customers}_customers");
    let mut rows = Vec::new();

    // The scoring job as its own process.
    let (score_s, score_mib, out) = score(&binary, &url, brand)?;
    rows.push(row(
        &format!("brand_scale/postgres/{scale}/score_seconds"),
        score_s,
        "s",
        Some(("bound", SCORE_BOUND_S, "s", "the issue's bound: 10 min")),
        &format!("`regulars score --brand`, whole process; {out}; {load}"),
    ));
    rows.push(row(
        &format!("brand_scale/postgres/{scale}/score_peak_rss"),
        score_mib,
        "MiB",
        Some(("bound", SCORE_BOUND_MIB, "MiB", "the issue's bound: 2 GiB")),
        "VmHWM of the `regulars score` process, polled every 20 ms",
    ));

    // The rest in process, each on fresh services (no cached counts).
    let fresh = || Services::new(w.store.clone(), Arc::new(SystemClock), Arc::new(OsIdGen));
    let (overview_s, overview_mib, note) = rt.block_on(measured(async {
        let services = fresh();
        let today = OffsetDateTime::now_utc().date();
        let from = today - time::Duration::days(89);
        let (_, overview) = services
            .report_overview(brand, Some(from), None, Interval::Week)
            .await
            .map_err(|e| format!("overview: {e}"))?;
        Ok(format!(
            "{} orders, {} active customers, {} returning",
            overview.orders, overview.active_customers, overview.returning_customers
        ))
    }))?;
    rows.push(row(
        &format!("brand_scale/postgres/{scale}/overview_90_days"),
        overview_s,
        "s",
        Some(("bound", OVERVIEW_BOUND_S, "s", "the issue's bound: 2 s")),
        &format!("report_overview of the last 90 days by week: {note}; bench process peak RSS {overview_mib:.0} MiB"),
    ));

    let (segment_s, segment_mib, note) = rt.block_on(measured(async {
        let services = fresh();
        let view = services
            .save_segment(brand, None, "Lapsed regulars", SEGMENT_RULE)
            .await
            .map_err(|e| format!("segment: {e}"))?;
        Ok(format!(
            "{} customers match `{SEGMENT_RULE}`",
            view.live_count
        ))
    }))?;
    rows.push(row(
        &format!("brand_scale/postgres/{scale}/segment_live_count"),
        segment_s,
        "s",
        None,
        &format!("saving a custom segment and counting it live over every stored score: {note}; bench process peak RSS {segment_mib:.0} MiB"),
    ));

    let (campaign_s, campaign_mib, note) = rt.block_on(measured(async {
        let services = fresh();
        let record = services
            .create_campaign(
                brand,
                &json!({"name": "Tặng điểm", "trigger": {"type": "broadcast"},
                    "offer": {"type": "bonus_points", "points": 20},
                    "channels": ["sms"], "holdout": 0.1, "frequency_cap": null}),
            )
            .await
            .map_err(|e| format!("campaign: {e}"))?;
        services
            .set_campaign_status(brand, record.id, CampaignAction::Launch)
            .await
            .map_err(|e| format!("launch: {e}"))?;
        let reports = services
            .run_campaigns(brand)
            .await
            .map_err(|e| format!("run: {e}"))?;
        let r = reports.first().ok_or("no campaign ran")?;
        Ok(format!(
            "{} customers planned, {} messages written, {} held out, skipped {:?}",
            r.customers, r.messages, r.held_out, r.skipped
        ))
    }))?;
    rows.push(row(
        &format!("brand_scale/postgres/{scale}/campaign_run"),
        campaign_s,
        "s",
        Some(("bound", CAMPAIGN_BOUND_S, "s", "the issue's bound: 5 min")),
        &format!("run_campaigns: an SMS broadcast of bonus points to every customer, 10 % held out, messages written to the outbox: {note}; bench process peak RSS {campaign_mib:.0} MiB"),
    ));
    rows.push(row(
        &format!("brand_scale/postgres/{scale}/in_process_peak_rss"),
        overview_mib.max(segment_mib).max(campaign_mib),
        "MiB",
        None,
        "the bench process's peak RSS over the overview, the segment count and the campaign run (the largest of the three)",
    ));
    write_report("brand_scale.json", &rows)
}

fn parse_counts(text: &str) -> BenchResult<(u64, u64)> {
    let mut parts = text.split_whitespace().map(str::parse::<u64>);
    match (parts.next(), parts.next()) {
        (Some(Ok(c)), Some(Ok(o))) => Ok((c, o)),
        _ => Err(format!("cannot read the counts from {text:?}")),
    }
}

/// Runs `work` timed, with this process's peak RSS reset before and read after.
async fn measured(
    work: impl std::future::Future<Output = BenchResult<String>>,
) -> BenchResult<(f64, f64, String)> {
    // "5" resets the peak resident set size (VmHWM) of the process.
    std::fs::write("/proc/self/clear_refs", "5").map_err(|e| format!("clear_refs: {e}"))?;
    let started = Instant::now();
    let note = work.await?;
    let seconds = started.elapsed().as_secs_f64();
    let mib = memory_mib(std::process::id(), "VmHWM")?;
    println!("brand_scale: {seconds:.2} s, {mib:.0} MiB: {note}");
    Ok((seconds, mib, note))
}

/// `regulars score --brand` as a process: (seconds, peak MiB, the line that says how
/// many customers it scored).
fn score(binary: &Path, url: &str, brand: BrandId) -> BenchResult<(f64, f64, String)> {
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(["score", "--brand", &brand.to_string()])
        .env("DATABASE_URL", url)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("run {}: {e}", binary.display()))?;
    let pid = child.id();
    let mut peak = 0.0f64;
    loop {
        if let Ok(mib) = memory_mib(pid, "VmHWM") {
            peak = peak.max(mib);
        }
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "regulars score failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let last = text
        .lines()
        .find(|l| l.contains("customers scored"))
        .unwrap_or_default()
        .trim()
        .to_owned();
    println!("brand_scale: score {seconds:.1} s, {peak:.0} MiB: {last}");
    Ok((seconds, peak, last))
}

/// A field of `/proc/PID/status` in MiB (`VmRSS`, `VmHWM`).
fn memory_mib(pid: u32, field: &str) -> BenchResult<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0)
        .ok_or_else(|| format!("no {field} in /proc/{pid}/status"))
}

/// The `regulars` binary of this build: target/<profile>/deps/brand_scale-<hash> ->
/// target/<profile>/regulars.
fn binary() -> BenchResult<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join(format!("regulars{}", std::env::consts::EXE_SUFFIX)))
        .ok_or("no target directory")?;
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "{} is missing: `cargo xtask bench` builds it (cargo build --release -p regulars)",
            bin.display()
        ))
    }
}

/// psql on the bench's database.
struct Psql<'a> {
    cluster: &'a PgCluster,
    db: &'a str,
}

impl Psql<'_> {
    fn run(&self, sql: &str) -> BenchResult<String> {
        let port = self.cluster.port().to_string();
        let out = Command::new(self.cluster.bin("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                self.db,
            ])
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "psql {sql:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

/// 70 % of the customers (by a hash of their id) consent to SMS and to profiling.
fn consent_sql(brand: BrandId) -> String {
    format!(
        "UPDATE customers SET consent_sms = true, consent_state_sms = 'granted', \
         consent_state_profiling = 'granted' \
         WHERE brand_id = '{brand}' AND get_byte(decode(md5(id::text), 'hex'), 0) % 10 < 7"
    )
}

/// The statements that add `shape.copies` copies of the seed slice: each row read back
/// as JSON, its keys and times replaced, and written as a row of the same table.
fn copy_sql(brand: BrandId, shape: Shape) -> Vec<String> {
    let id = |col: &str| format!("md5(t.{col}::text || ':' || k)::uuid");
    let shift = |col: &str| format!("t.{col} - (k % 29) * 86400000000");
    // A seed phone is +849 and the customer's number in 8 digits (below the seed size);
    // copy k of customer c gets number k * seed + c.
    let phone = |col: &str| {
        format!(
            "'+849' || lpad((k::bigint * {} + right(t.{col}, 8)::bigint)::text, 8, '0')",
            shape.seed
        )
    };
    let tables: [(&str, Vec<(&str, String)>); 4] = [
        (
            "customers",
            vec![
                ("id", id("id")),
                ("phone", phone("phone")),
                ("created_at", shift("created_at")),
            ],
        ),
        (
            "customer_stats",
            vec![
                ("customer_id", id("customer_id")),
                ("first_visit_at", shift("first_visit_at")),
                ("last_visit_at", shift("last_visit_at")),
            ],
        ),
        (
            "orders",
            vec![
                ("id", id("id")),
                ("customer_id", id("customer_id")),
                ("customer_phone", phone("customer_phone")),
                ("external_id", "t.external_id || '-' || k".to_owned()),
                ("placed_at", shift("placed_at")),
                ("created_at", shift("created_at")),
            ],
        ),
        ("order_lines", vec![("order_id", id("order_id"))]),
    ];
    tables
        .iter()
        .map(|(table, overrides)| {
            let pairs: Vec<String> = overrides
                .iter()
                .map(|(col, expr)| format!("'{col}', {expr}"))
                .collect();
            format!(
                "INSERT INTO {table} SELECT (jsonb_populate_record(NULL::{table}, \
                 to_jsonb(t) || jsonb_build_object({}))).* \
                 FROM {table} t CROSS JOIN generate_series(1, {}) AS k \
                 WHERE t.brand_id = '{brand}'",
                pairs.join(", "),
                shape.copies
            )
        })
        .collect()
}

/// Writes the seed slice as CSV and imports it with `regulars import orders`:
/// (orders, seconds).
fn import_seed(
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
