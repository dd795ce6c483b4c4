//! The schema is ready to be distributed by brand (Citus: `create_distributed_table(…,
//! 'brand_id')`): every primary key, unique constraint or unique index and foreign key
//! of every table starts with `brand_id`, read from the migrated database's own catalog
//! on both databases. Only the tables in [`GLOBAL`] are exempt, each for a reason.

use crate::support::{on_postgres_url, on_sqlite_url};
use crate::{Store, TestResult};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use std::collections::BTreeSet;

/// Tables that are not a brand's data, so not distributed by brand (on Citus they are
/// reference or local tables), with why.
const GLOBAL: &[(&str, &str)] = &[
    (
        "seaql_migrations",
        "the migration tool's own record of applied migrations: one per database",
    ),
    (
        "brands",
        "the tenants themselves: a brand's id is its brand_id, so the key is (id)",
    ),
    (
        "contact_sealing",
        "one row per database: whether its contact data is known to be all sealed",
    ),
];

/// One key of a table: what kind, its name, its columns in key order.
#[derive(Debug)]
struct Key {
    table: String,
    kind: String,
    name: String,
    columns: Vec<String>,
}

async fn every_key_starts_with_brand_id(store: Store, url: String) -> TestResult {
    let db = Database::connect(url.as_str()).await?;
    let (tables, keys) = match db.get_database_backend() {
        DbBackend::Postgres => postgres_keys(&db).await?,
        _ => sqlite_keys(&db).await?,
    };
    let global: BTreeSet<&str> = GLOBAL.iter().map(|(t, _)| *t).collect();
    for table in &global {
        assert!(
            tables.contains(*table),
            "the allow-list names {table}, which is no table"
        );
    }
    let mut keyless: Vec<&String> = Vec::new();
    for table in &tables {
        let has_primary = keys
            .iter()
            .any(|k| &k.table == table && k.kind == "primary key");
        if !has_primary && !global.contains(table.as_str()) {
            keyless.push(table);
        }
    }
    let wrong: Vec<String> = keys
        .iter()
        .filter(|k| !global.contains(k.table.as_str()))
        .filter(|k| k.columns.first().map(String::as_str) != Some("brand_id"))
        .map(|k| {
            format!(
                "{} {} {} ({})",
                k.table,
                k.kind,
                k.name,
                k.columns.join(", ")
            )
        })
        .collect();
    assert!(
        keyless.is_empty(),
        "tables without a primary key: {keyless:?}"
    );
    assert!(
        wrong.is_empty(),
        "keys that do not start with brand_id:\n{}",
        wrong.join("\n")
    );
    // The check sees the schema: the tables every brand's request uses are there.
    for table in [
        "customers",
        "orders",
        "ledger_entries",
        "outbox",
        "vouchers",
    ] {
        assert!(
            tables.contains(table),
            "{table} is missing from the catalog"
        );
    }
    db.close().await?;
    store.close().await?;
    Ok(())
}

async fn strings(
    db: &DatabaseConnection,
    sql: &str,
    column: &str,
) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row.try_get::<String>("", column)?);
    }
    Ok(out)
}

type Catalog = (BTreeSet<String>, Vec<Key>);

async fn postgres_keys(
    db: &DatabaseConnection,
) -> Result<Catalog, Box<dyn std::error::Error + Send + Sync>> {
    let tables: BTreeSet<String> = strings(
        db,
        "SELECT table_name::text AS t FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        "t",
    )
    .await?
    .into_iter()
    .collect();
    // Constraints (primary, unique, foreign) and every unique index, constraint-backed
    // or not; an expression column reads as "(expression)".
    let sql = "\
        SELECT c.conrelid::regclass::text AS tbl, \
          CASE c.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique constraint' \
            ELSE 'foreign key' END AS kind, \
          c.conname::text AS name, \
          COALESCE((SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
            FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) \
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum), '') AS cols \
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
        WHERE n.nspname = current_schema() AND c.contype IN ('p', 'u', 'f') \
        UNION ALL \
        SELECT t.relname::text, 'unique index', i.relname::text, \
          COALESCE((SELECT string_agg(COALESCE(a.attname::text, '(expression)'), ',' ORDER BY k.ord) \
            FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
            LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
              AND k.attnum > 0), '') \
        FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
        JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
        WHERE n.nspname = current_schema() AND ix.indisunique";
    let rows = db
        .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?;
    let mut keys = Vec::new();
    for row in rows {
        let cols: String = row.try_get("", "cols")?;
        keys.push(Key {
            table: row.try_get("", "tbl")?,
            kind: row.try_get("", "kind")?,
            name: row.try_get("", "name")?,
            columns: cols
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
        });
    }
    Ok((tables, keys))
}

async fn sqlite_keys(
    db: &DatabaseConnection,
) -> Result<Catalog, Box<dyn std::error::Error + Send + Sync>> {
    let tables: BTreeSet<String> = strings(
        db,
        "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        "t",
    )
    .await?
    .into_iter()
    .collect();
    let mut keys = Vec::new();
    for table in &tables {
        let primary = strings(
            db,
            &format!("SELECT name AS c FROM pragma_table_info('{table}') WHERE pk > 0 ORDER BY pk"),
            "c",
        )
        .await?;
        if !primary.is_empty() {
            keys.push(Key {
                table: table.clone(),
                kind: "primary key".into(),
                name: format!("{table}_pkey"),
                columns: primary,
            });
        }
        // Unique indexes of UNIQUE constraints ('u') and CREATE UNIQUE INDEX ('c'); the
        // primary key's own ('pk') is read above. An expression column has no name.
        let unique = strings(
            db,
            &format!(
                "SELECT name AS i FROM pragma_index_list('{table}') \
                 WHERE \"unique\" = 1 AND origin <> 'pk' ORDER BY name"
            ),
            "i",
        )
        .await?;
        for index in unique {
            let columns = strings(
                db,
                &format!(
                    "SELECT COALESCE(name, '(expression)') AS c FROM pragma_index_xinfo('{index}') \
                     WHERE key = 1 ORDER BY seqno"
                ),
                "c",
            )
            .await?;
            keys.push(Key {
                table: table.clone(),
                kind: "unique index".into(),
                name: index,
                columns,
            });
        }
        let fks = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!(
                    "SELECT id, \"from\" AS c, \"table\" AS target \
                     FROM pragma_foreign_key_list('{table}') ORDER BY id, seq"
                ),
            ))
            .await?;
        let mut by_id: Vec<(i64, String, Vec<String>)> = Vec::new();
        for row in fks {
            let id: i64 = row.try_get("", "id")?;
            let column: String = row.try_get("", "c")?;
            let target: String = row.try_get("", "target")?;
            match by_id.last_mut() {
                Some((last, _, cols)) if *last == id => cols.push(column),
                _ => by_id.push((id, target, vec![column])),
            }
        }
        for (id, target, columns) in by_id {
            keys.push(Key {
                table: table.clone(),
                kind: "foreign key".into(),
                name: format!("{table}_fk{id}_{target}"),
                columns,
            });
        }
    }
    Ok((tables, keys))
}

#[tokio::test]
async fn sqlite_every_key_starts_with_brand_id() -> TestResult {
    on_sqlite_url(every_key_starts_with_brand_id).await
}

#[tokio::test]
async fn postgres_every_key_starts_with_brand_id() -> TestResult {
    on_postgres_url("distribution", every_key_starts_with_brand_id).await
}

/// Store functions whose queries do not filter on `brand_id`, with why. Everything else a
/// brand's request runs names its brand, so on a database distributed by brand it goes
/// to one shard.
const UNSCOPED: &[(&str, &str, &str)] = &[
    (
        "access.rs",
        "api_key_by_prefix",
        "a key is found before its brand is known",
    ),
    (
        "access.rs",
        "integration",
        "a webhook names its integration before its brand is known",
    ),
    (
        "audit.rs",
        "prune_accesses",
        "the retention job forgets old access records of every brand",
    ),
    (
        "brands.rs",
        "update_brand",
        "the brands table: its id is the brand id",
    ),
    (
        "brands.rs",
        "brand_ids",
        "lists the brands for jobs that then work brand by brand",
    ),
    (
        "customers.rs",
        "customers_by_zalo_user",
        "runs as raw SQL a UNION ALL of two queries, each filtered on brand_id",
    ),
    (
        "engagement.rs",
        "linked_message",
        "a link token names its message alone to stay short in an SMS; the caller checks the signature, which covers the brand, against the row found",
    ),
    (
        "idempotency.rs",
        "prune",
        "the retention job forgets old records of every brand",
    ),
    (
        "outbox/reads.rs",
        "record_delivery",
        "a provider's report names a message, not a brand",
    ),
    (
        "outbox/reads.rs",
        "depth",
        "the queue-depth metric counts every brand's messages",
    ),
    (
        "privacy.rs",
        "erase_customer",
        "the outbox update filters through `messages_of(brand, …)`, which names the brand",
    ),
    (
        "privacy.rs",
        "messages_of",
        "filters through `messages_of(brand, …)`, which names the brand",
    ),
    (
        "privacy.rs",
        "scrub_messages",
        "filters through a condition its callers build with the brand",
    ),
    (
        "pos_customers.rs",
        "take_waiting",
        "filters through a closure that names the brand",
    ),
];

/// A cheap check of the repositories' source (one level of modules deep): every `Entity::find…`, `update_many` and
/// `delete_many` chain names the brand (`BrandId`, `brand_id`, `brand.as_uuid()` or a
/// `(b, …)` key) before
/// it runs, unless its function is in [`UNSCOPED`].
#[test]
fn brand_scoped_queries_filter_on_brand_id() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/repo");
    // The repositories and the modules of those split by use case (`outbox/claim.rs`).
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .flat_map(|p| match std::fs::read_dir(&p) {
            Ok(inner) => inner.map(|e| e.unwrap().path()).collect(),
            Err(_) => vec![p],
        })
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    let starts = [
        "Entity::find()",
        "Entity::find_by_id(",
        "Entity::update_many()",
        "Entity::delete_many()",
    ];
    let runs = ["(&self.tx)", "(&tx.tx)", "(&self.tx", "(&tx.tx"];
    let mut unscoped = Vec::new();
    let mut used = BTreeSet::new();
    let mut queries = 0;
    for path in files {
        let file = path
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !starts.iter().any(|s| line.contains(s)) {
                continue;
            }
            queries += 1;
            let end = (i..lines.len())
                .find(|&j| runs.iter().any(|r| lines[j].contains(r)))
                .unwrap_or(lines.len() - 1);
            let chain = lines[i..=end].join("\n");
            let names_brand = ["BrandId", "brand_id", "brand.as_uuid()", "((b,"];
            if names_brand.iter().any(|b| chain.contains(b)) {
                continue;
            }
            let function = lines[..=i]
                .iter()
                .rev()
                .find_map(|l| l.split(" fn ").nth(1))
                .and_then(|rest| rest.split(['(', '<']).next())
                .unwrap_or("?")
                .to_owned();
            if UNSCOPED
                .iter()
                .any(|(f, n, _)| *f == file && *n == function)
            {
                used.insert((file.clone(), function));
            } else {
                unscoped.push(format!("{file}:{} in {function}", i + 1));
            }
        }
    }
    assert!(queries > 50, "the scan found only {queries} queries");
    assert!(
        unscoped.is_empty(),
        "queries without a brand_id filter:\n{}",
        unscoped.join("\n")
    );
    for (file, function, _) in UNSCOPED {
        assert!(
            used.contains(&((*file).to_owned(), (*function).to_owned())),
            "{file} {function} is allowed to skip the brand filter but no longer does: remove it from UNSCOPED"
        );
    }
}
