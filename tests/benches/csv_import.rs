//! Order-history import: a CSV of N orders (`REGULARS_BENCH_CSV_ORDERS`, 20,000 unless
//! set), then one of five times as many, made by `csv_gen::sample_orders`, read from a
//! file and imported the way `regulars import orders` does it — `CsvOrders` over a
//! buffered file, then `import_orders` (read and written set-wise) on chunks of
//! `IMPORT_CHUNK` orders in file order — into PostgreSQL and SQLite.
//! Reported in rows (line items) per second, orders per second in the note.
//!
//! What a chunk costs: a handful of reads (keys seen, customers by phone, the accounts
//! locked with their lots and stats) and one statement per table written; on PostgreSQL
//! each write, lock and lot read binds its rows as one value (a JSON array, or an array
//! of ids), so its text is the same in every chunk. Shorten a run with `REGULARS_BENCH_CSV_ORDERS=10000`;
//! a debug build (`cargo test -p regulars-tests --bench csv_import`) spends most of its
//! time in the unoptimised dependencies (JSON, SHA-256 of the fingerprints, the drivers),
//! so compare figures of the same build profile only.
//!
//! Peer on PostgreSQL, same cluster, same run: `COPY` of the same file into a plain table
//! with the same columns (psql's `\copy`, the cluster's own psql), the floor of any bulk
//! load. On SQLite there is no peer; the figure is for the record.
//!
//! Results go to `$REGULARS_BENCH_REPORTS/csv_import.json` (set by `cargo xtask bench`).

use regulars_domain::BrandId;
use regulars_pos::BrandContext;
use regulars_pos::csv_gen::{sample_orders, write_csv};
use regulars_pos::csv_import::{CsvOrders, DEFAULT_SOURCE};
use regulars_service::IMPORT_CHUNK;
use regulars_store::StoreOptions;
use regulars_testkit::{PgCluster, PgOptions, SqliteFile};
use regulars_tests::bench::{row, write_report};
use regulars_tests::{World, world};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

type BenchResult<T> = Result<T, String>;

/// The table `COPY` loads: the CSV's columns, typed as the importer reads them.
const COPY_TABLE: &str = "order_id text, placed_at timestamptz, location text, \
     customer_phone text, sku text, name text, category text, quantity integer, \
     unit_price numeric, modifiers text, order_total numeric";

/// `COPY` runs per measurement; the median is reported.
const COPY_RUNS: usize = 3;

fn main() {
    if let Err(e) = run() {
        eprintln!("csv_import benchmark failed: {e}");
        std::process::exit(1);
    }
}

fn order_count() -> usize {
    std::env::var("REGULARS_BENCH_CSV_ORDERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000)
}

/// A CSV file that is removed when dropped.
struct CsvFile {
    dir: PathBuf,
    path: PathBuf,
    orders: usize,
    rows: usize,
}

impl CsvFile {
    fn write(orders: usize) -> BenchResult<CsvFile> {
        let dir = std::env::temp_dir().join(format!(
            "regulars-csv-bench-{}-{orders}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let path = dir.join("orders.csv");
        // The file carries no brand: any context writes the same rows.
        let context = BrandContext::vietnam(BrandId::from_bytes([1; 16]));
        let history = sample_orders(&context, 2024, orders);
        let rows = history.iter().map(|o| o.lines.len()).sum();
        let file = File::create(&path).map_err(|e| e.to_string())?;
        write_csv(&history, std::io::BufWriter::new(file)).map_err(|e| e.to_string())?;
        Ok(CsvFile {
            dir,
            path,
            orders,
            rows,
        })
    }
}

impl Drop for CsvFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What one import did.
struct Imported {
    seconds: f64,
    imported: u64,
}

/// The imports measured: `n` orders, and five times as many (a longer history, into
/// tables that grow as it goes: a chunk must not cost more than the one before).
fn sizes() -> [usize; 2] {
    let n = order_count();
    [n, n.saturating_mul(5)]
}

fn run() -> BenchResult<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let cluster =
        PgCluster::start_with(PgOptions::new().durable(true)).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for orders in sizes() {
        let csv = CsvFile::write(orders)?;
        rows.push(on_postgres(&rt, &cluster, &csv)?);
        rows.push(on_sqlite(&rt, &csv)?);
    }
    write_report("csv_import.json", &rows)
}

/// The import into a fresh PostgreSQL database beside `COPY` of the same file.
fn on_postgres(
    rt: &tokio::runtime::Runtime,
    cluster: &PgCluster,
    csv: &CsvFile,
) -> BenchResult<serde_json::Value> {
    let db = cluster
        .create_database(&format!("import_{}", csv.orders))
        .map_err(|e| e.to_string())?;
    let ours = rt.block_on(async {
        let world = world(&db, StoreOptions::default()).await?;
        import(&world, &csv.path).await
    })?;
    check(&ours, csv)?;
    let db_name = db.rsplit('/').next().unwrap_or("import").to_owned();
    let copy_seconds = copy_median(cluster, &db_name, csv)?;
    let copy_rows_per_s = csv.rows as f64 / copy_seconds;
    Ok(row(
        &format!("csv_import/postgres/{}_orders", csv.orders),
        csv.rows as f64 / ours.seconds,
        "rows/s",
        Some((
            "COPY into a plain table",
            copy_rows_per_s,
            "rows/s",
            "psql \\copy of the same file, same cluster, same run, median of 3",
        )),
        &note(&ours, csv),
    ))
}

/// The import into a fresh SQLite file.
fn on_sqlite(rt: &tokio::runtime::Runtime, csv: &CsvFile) -> BenchResult<serde_json::Value> {
    let file = SqliteFile::new().map_err(|e| e.to_string())?;
    let ours = rt.block_on(async {
        let world = world(&file.url(), StoreOptions::default()).await?;
        import(&world, &csv.path).await
    })?;
    check(&ours, csv)?;
    Ok(row(
        &format!("csv_import/sqlite/{}_orders", csv.orders),
        csv.rows as f64 / ours.seconds,
        "rows/s",
        None,
        &note(&ours, csv),
    ))
}

fn note(ours: &Imported, csv: &CsvFile) -> String {
    format!(
        "{} orders/s; {} orders of {} rows in {:.1} s, in chunks of {} orders read and written set-wise as `regulars import orders` does",
        (csv.orders as f64 / ours.seconds).round(),
        csv.orders,
        csv.rows,
        ours.seconds,
        IMPORT_CHUNK
    )
}

fn check(ours: &Imported, csv: &CsvFile) -> BenchResult<()> {
    if ours.imported as usize == csv.orders {
        Ok(())
    } else {
        Err(format!(
            "{} of {} orders imported",
            ours.imported, csv.orders
        ))
    }
}

/// Imports the file into the world's brand: the brand's context looked up, the file read
/// through a buffer by `CsvOrders`, the orders imported `IMPORT_CHUNK` at a time in file
/// order. Every row must import.
async fn import(world: &World, path: &Path) -> BenchResult<Imported> {
    let started = Instant::now();
    let found = world
        .services
        .brand(world.brand)
        .await
        .map_err(|e| format!("brand: {e}"))?;
    let context = BrandContext {
        brand_id: world.brand,
        currency: found.currency,
        calling_code: found.calling_code,
        utc_offset: found.utc_offset,
    };
    let handle = File::open(path).map_err(|e| e.to_string())?;
    let orders = CsvOrders::with_source(BufReader::new(handle), context, DEFAULT_SOURCE)
        .map_err(|e| e.to_string())?;
    let mut imported = 0;
    let mut batch = Vec::with_capacity(IMPORT_CHUNK);
    let mut rows = orders.peekable();
    while let Some(item) = rows.next() {
        batch.push(item.map_err(|row| format!("line {}: {}", row.line, row.problem))?);
        if batch.len() < IMPORT_CHUNK && rows.peek().is_some() {
            continue;
        }
        let receipts = world.services.import_orders(world.brand, &batch).await;
        for (order, receipt) in batch.drain(..).zip(receipts) {
            let id = order.key.external_id;
            let receipt = receipt.map_err(|e| format!("order {id}: {e}"))?;
            if receipt.duplicate {
                return Err(format!("order {id} was already known"));
            }
            imported += 1;
        }
    }
    Ok(Imported {
        seconds: started.elapsed().as_secs_f64(),
        imported,
    })
}

/// Loads the file with `COPY` into a fresh table `COPY_RUNS` times; the median time in
/// seconds, each including psql's start and connection (a few milliseconds).
fn copy_median(cluster: &PgCluster, db: &str, csv: &CsvFile) -> BenchResult<f64> {
    let mut times = Vec::new();
    for run in 0..COPY_RUNS {
        let table = format!("copied_rows_{run}");
        psql(cluster, db, &format!("CREATE TABLE {table} ({COPY_TABLE})"))?;
        let path = csv.path.display().to_string().replace('\'', "''");
        let started = Instant::now();
        let out = psql(
            cluster,
            db,
            &format!("\\copy {table} FROM '{path}' WITH (FORMAT csv, HEADER true)"),
        )?;
        let seconds = started.elapsed().as_secs_f64();
        if out.trim() != format!("COPY {}", csv.rows) {
            return Err(format!("COPY loaded {out:?}, expected {} rows", csv.rows));
        }
        times.push(seconds);
    }
    times.sort_by(f64::total_cmp);
    times
        .get(times.len() / 2)
        .copied()
        .ok_or_else(|| "no COPY run".to_owned())
}

fn psql(cluster: &PgCluster, db: &str, command: &str) -> BenchResult<String> {
    let port = cluster.port().to_string();
    let out = Command::new(cluster.bin("psql"))
        .args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-d", db])
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-c", command])
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "psql {command:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
