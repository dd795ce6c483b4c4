//! The copies of the seed slice, made inside PostgreSQL.
//!
//! The four tables being filled lose their keys and indexes first — every primary key,
//! unique constraint, foreign key (their own and those of other tables that point at
//! them) and secondary index, each read back from the catalogue as
//! `pg_get_constraintdef`/`pg_get_indexdef` gives it — then get plain column-wise
//! `INSERT … SELECT`s over `generate_series` from a snapshot of the seed slice, one per
//! chunk of copies, the four tables side by side. The indexes and constraints come back
//! from those same definitions (so identical, and every foreign key validated), and the
//! tables are analysed.

use crate::{BenchResult, Shape};
use regulars_domain::BrandId;
use regulars_testkit::PgCluster;
use std::process::Command;
use std::time::Instant;

/// The tables the copies fill, parents first.
const TABLES: [&str; 4] = ["customers", "customer_stats", "orders", "order_lines"];

/// At most this many seed rows times copies per statement (about a million rows).
const ROWS_PER_STATEMENT: u64 = 1_000_000;

/// Field separator of the rows psql prints (the ASCII unit separator).
const SEP: &str = "\u{1f}";

/// psql on the bench's database.
pub(crate) struct Psql<'a> {
    pub(crate) cluster: &'a PgCluster,
    pub(crate) db: &'a str,
}

impl Psql<'_> {
    pub(crate) fn run(&self, sql: &str) -> BenchResult<String> {
        let port = self.cluster.port().to_string();
        let out = Command::new(self.cluster.bin("psql"))
            .args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-d"])
            .arg(self.db)
            .args(["-X", "-q", "-t", "-A", "-F", SEP, "-v", "ON_ERROR_STOP=1"])
            .args(["-c", sql])
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

    /// The rows of a query, each split into its fields.
    fn rows(&self, sql: &str) -> BenchResult<Vec<Vec<String>>> {
        Ok(self
            .run(sql)?
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.split(SEP).map(str::to_owned).collect())
            .collect())
    }
}

/// 70 % of the customers (by a hash of their id) consent to SMS and to profiling.
pub(crate) fn consent_sql(brand: BrandId) -> String {
    format!(
        "UPDATE customers SET consent_sms = true, consent_state_sms = 'granted', \
         consent_state_profiling = 'granted' \
         WHERE brand_id = '{brand}' AND get_byte(decode(md5(id::text), 'hex'), 0) % 10 < 7"
    )
}

/// Adds `shape.copies` copies of the seed slice; returns each phase with its seconds.
pub(crate) fn copy_slice(
    psql: &Psql<'_>,
    brand: BrandId,
    shape: Shape,
) -> BenchResult<Vec<(&'static str, f64)>> {
    let mut phases = Vec::new();
    let mut timed = |name: &'static str, started: Instant| {
        let seconds = started.elapsed().as_secs_f64();
        println!("brand_scale: load phase {name}: {seconds:.1} s");
        phases.push((name, seconds));
    };
    let started = Instant::now();
    let keys = Keys::read(psql)?;
    psql.run(&keys.drop_sql())?;
    for table in TABLES {
        psql.run(&format!(
            "CREATE UNLOGGED TABLE scale_seed_{table} AS \
             SELECT * FROM {table} WHERE brand_id = '{brand}'"
        ))?;
    }
    timed("keys dropped, seed snapshot", started);

    let started = Instant::now();
    let statements = TABLES
        .iter()
        .map(|table| copy_statements(psql, table, shape))
        .collect::<BenchResult<Vec<_>>>()?;
    std::thread::scope(|scope| {
        let workers: Vec<_> = statements
            .iter()
            .map(|list| {
                scope.spawn(move || list.iter().try_for_each(|sql| psql.run(sql).map(drop)))
            })
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .unwrap_or_else(|_| Err("a copy thread panicked".into()))
        })
    })?;
    timed("copies inserted", started);

    let started = Instant::now();
    let drop_seed: Vec<String> = TABLES
        .iter()
        .map(|t| format!("DROP TABLE scale_seed_{t};"))
        .collect();
    psql.run(&drop_seed.concat())?;
    for sql in &keys.index_sql() {
        psql.run(sql)?;
    }
    timed("indexes re-created", started);
    let started = Instant::now();
    psql.run(&keys.constraint_sql())?;
    let after = Keys::read(psql)?;
    if after.sorted() != keys.sorted() {
        return Err("the keys and indexes re-created differ from those dropped".into());
    }
    timed("keys re-created and checked", started);
    let started = Instant::now();
    psql.run("VACUUM ANALYZE")?;
    timed("vacuum analyze", started);
    Ok(phases)
}

/// The statements that copy `table`'s seed rows, in chunks of copies: each copy `k` gets
/// new ids (an md5 of the seed id and `k`), its own phone numbers and order ids, and its
/// times shifted back by `k % 29` days.
fn copy_statements(psql: &Psql<'_>, table: &str, shape: Shape) -> BenchResult<Vec<String>> {
    let columns = psql.rows(&format!(
        "SELECT attname FROM pg_attribute WHERE attrelid = '{table}'::regclass \
         AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum"
    ))?;
    let seed_rows: u64 = psql
        .run(&format!("SELECT count(*) FROM scale_seed_{table}"))?
        .parse()
        .map_err(|e| format!("count of scale_seed_{table}: {e}"))?;
    let names: Vec<&str> = columns
        .iter()
        .filter_map(|r| r.first().map(String::as_str))
        .collect();
    let exprs: Vec<String> = names
        .iter()
        .map(|col| column_expr(table, col, shape.seed))
        .collect();
    let quoted: Vec<String> = names.iter().map(|c| format!("\"{c}\"")).collect();
    let chunk = (ROWS_PER_STATEMENT / seed_rows.max(1)).max(1);
    let mut statements = Vec::new();
    let mut first = 1;
    while first <= shape.copies {
        let last = (first + chunk - 1).min(shape.copies);
        statements.push(format!(
            "INSERT INTO {table} ({}) SELECT {} FROM scale_seed_{table} t \
             CROSS JOIN generate_series({first}, {last}) AS k",
            quoted.join(", "),
            exprs.join(", ")
        ));
        first = last + 1;
    }
    Ok(statements)
}

/// The times a copy's history is shifted in.
const SHIFTED: [&str; 8] = [
    "created_at",
    "placed_at",
    "prev_counted_at",
    "first_visit_at",
    "last_visit_at",
    "first_counted_at",
    "last_counted_at",
    "second_last_counted_at",
];

/// What copy `k` stores in `column` of `table`.
fn column_expr(table: &str, column: &str, seed: u64) -> String {
    let id = || format!("md5(t.{column}::text || ':' || k)::uuid");
    let shift = || format!("t.{column} - (k % 29) * 86400000000");
    // A seed phone is +849 and the customer's number in 8 digits (below the seed size);
    // copy k of customer c gets number k * seed + c.
    let phone = || {
        format!("'+849' || lpad((k::bigint * {seed} + right(t.{column}, 8)::bigint)::text, 8, '0')")
    };
    match (table, column) {
        ("customers", "id") | (_, "customer_id") | ("orders", "id") | (_, "order_id") => id(),
        ("customers", "phone") | ("orders", "customer_phone") => phone(),
        ("orders", "external_id") => "t.external_id || '-' || k".to_owned(),
        (_, column) if SHIFTED.contains(&column) => shift(),
        _ => format!("t.\"{column}\""),
    }
}

/// The keys and indexes of the tables being filled, as the catalogue defines them.
#[derive(Clone, PartialEq)]
struct Keys {
    /// (table, name, definition, kind: `p`, `u`, `x` or `f`)
    constraints: Vec<(String, String, String, String)>,
    /// (name, `CREATE INDEX` statement)
    indexes: Vec<(String, String)>,
}

impl Keys {
    fn read(psql: &Psql<'_>) -> BenchResult<Keys> {
        let tables = format!("ARRAY['{}']::regclass[]", TABLES.join("', '"));
        let constraints = psql.rows(&format!(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype \
             FROM pg_constraint \
             WHERE (conrelid = ANY({tables}) AND contype IN ('p', 'u', 'x', 'f')) \
             OR (confrelid = ANY({tables}) AND contype = 'f') ORDER BY conrelid, conname"
        ))?;
        let indexes = psql.rows(&format!(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i \
             WHERE indrelid = ANY({tables}) AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
             WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid \
             AND c.contype IN ('p', 'u', 'x')) ORDER BY indrelid, indexrelid"
        ))?;
        let constraints = constraints
            .into_iter()
            .map(|r| match <[String; 4]>::try_from(r) {
                Ok([t, n, d, k]) => Ok((t, n, d, k)),
                Err(r) => Err(format!("unexpected constraint row {r:?}")),
            })
            .collect::<BenchResult<_>>()?;
        let indexes = indexes
            .into_iter()
            .map(|r| match <[String; 2]>::try_from(r) {
                Ok([n, d]) => Ok((n, d)),
                Err(r) => Err(format!("unexpected index row {r:?}")),
            })
            .collect::<BenchResult<_>>()?;
        Ok(Keys {
            constraints,
            indexes,
        })
    }

    /// Both lists in a fixed order, to compare two readings.
    fn sorted(&self) -> Keys {
        let mut keys = self.clone();
        keys.constraints.sort();
        keys.indexes.sort();
        keys
    }

    /// Foreign keys first, then the keys they depend on, then the other indexes.
    fn drop_sql(&self) -> String {
        let mut sql = String::new();
        for kinds in [["f"].as_slice(), ["p", "u", "x"].as_slice()] {
            for (table, name, _, kind) in &self.constraints {
                if kinds.contains(&kind.as_str()) {
                    sql.push_str(&format!("ALTER TABLE {table} DROP CONSTRAINT \"{name}\";"));
                }
            }
        }
        for (name, _) in &self.indexes {
            sql.push_str(&format!("DROP INDEX {name};"));
        }
        sql
    }

    /// One statement per index, with room to sort in memory.
    fn index_sql(&self) -> Vec<String> {
        self.indexes
            .iter()
            .map(|(_, def)| format!("SET maintenance_work_mem = '512MB'; {def};"))
            .collect()
    }

    /// The keys, then the foreign keys that need them (each checked against the rows,
    /// by a join with room to hash in memory).
    fn constraint_sql(&self) -> String {
        let mut sql = String::from("SET maintenance_work_mem = '512MB'; SET work_mem = '256MB';");
        for kinds in [["p", "u", "x"].as_slice(), ["f"].as_slice()] {
            for (table, name, def, kind) in &self.constraints {
                if kinds.contains(&kind.as_str()) {
                    sql.push_str(&format!(
                        "ALTER TABLE {table} ADD CONSTRAINT \"{name}\" {def};"
                    ));
                }
            }
        }
        sql
    }
}
