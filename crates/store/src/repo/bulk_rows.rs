//! The one set-wise `INSERT` every table of an import is written with, the rows' values
//! taken out of their active models (no clone, no query builder per row):
//!
//! * **PostgreSQL**: the rows bound as one JSON array and read back with
//!   `jsonb_populate_recordset`, so a table's statement has the same short text whatever
//!   the number of rows — prepared once per connection, planned in microseconds — where a
//!   multi-row `VALUES` of tens of thousands of placeholders was parsed, planned and sent
//!   a placeholder at a time, anew for every shape of its last batch.
//! * **SQLite**: a multi-row `VALUES`, as many rows a statement as its limit of bound
//!   values allows, the text built once for every full batch (so the driver prepares it
//!   once and reuses it).

use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use regulars_ports::StoreError;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, EntityName, EntityTrait, IdenStatic, Iterable,
    Statement, Value,
};
use std::fmt::Write as _;

/// Bound values a statement may carry: SQLite's limit (32,766) and PostgreSQL's (65,535).
fn value_limit(backend: DbBackend) -> usize {
    match backend {
        DbBackend::Postgres => 65_535,
        _ => 32_766,
    }
}

/// Rows of one table, flattened: `columns.len()` values a row, in column order.
pub(super) struct Rows {
    table: &'static str,
    columns: Vec<&'static str>,
    values: Vec<Value>,
    /// What follows `VALUES …`: an `ON CONFLICT` clause, or nothing.
    tail: String,
}

impl Rows {
    /// No rows yet of `table` with these columns.
    pub(super) fn new(table: &'static str, columns: &[&'static str]) -> Rows {
        Rows {
            table,
            columns: columns.to_vec(),
            values: Vec::new(),
            tail: String::new(),
        }
    }

    /// Rows of an entity's table, every column of the entity, taken out of `models`
    /// (each with every column set: a column left unset is the caller's bug).
    pub(super) fn of_models<A>(models: Vec<A>) -> Result<Rows, StoreError>
    where
        A: ActiveModelTrait,
    {
        let entity = A::Entity::default();
        let columns: Vec<_> = <A::Entity as EntityTrait>::Column::iter().collect();
        let names: Vec<&'static str> = columns.iter().map(IdenStatic::as_str).collect();
        let mut rows = Rows::new(entity.table_name(), &names);
        rows.values.reserve(models.len() * columns.len());
        for mut model in models {
            for column in &columns {
                let value = model.take(*column).into_value().ok_or_else(|| {
                    crate::error::unstorable(
                        rows.table,
                        format!("no value for the column {}", column.as_str()),
                    )
                })?;
                rows.values.push(value);
            }
        }
        Ok(rows)
    }

    /// Each row replaces the one under the same `key` columns: `updated` columns take
    /// the new row's values.
    pub(super) fn upsert(mut self, key: &[&str], updated: &[&str]) -> Rows {
        let sets: Vec<String> = updated
            .iter()
            .map(|c| format!("\"{c}\" = excluded.\"{c}\""))
            .collect();
        let key: Vec<String> = key.iter().map(|c| format!("\"{c}\"")).collect();
        self.tail = format!(
            " ON CONFLICT ({}) DO UPDATE SET {}",
            key.join(", "),
            sets.join(", ")
        );
        self
    }

    /// Adds one row (as many values as there are columns).
    pub(super) fn push(&mut self, row: impl IntoIterator<Item = Value>) {
        self.values.extend(row);
    }

    /// Writes the rows: on PostgreSQL a statement per `JSON_ROWS` rows, on SQLite as few
    /// statements as the limit of bound values allows.
    pub(super) async fn insert(
        self,
        tx: &StoreTransaction,
        context: &'static str,
    ) -> Result<(), StoreError> {
        let width = self.columns.len();
        if width == 0 || self.values.is_empty() {
            return Ok(());
        }
        let backend = tx.tx.get_database_backend();
        if backend == DbBackend::Postgres {
            return self.insert_json(tx, context).await;
        }
        let per_statement = (value_limit(backend) / width).max(1);
        let rows = self.values.len() / width;
        let mut full: Option<String> = None;
        let mut values = self.values.into_iter();
        let mut done = 0;
        while done < rows {
            let count = per_statement.min(rows - done);
            let sql = if count == per_statement {
                full.get_or_insert_with(|| {
                    statement(backend, self.table, &self.columns, count, &self.tail)
                })
                .clone()
            } else {
                statement(backend, self.table, &self.columns, count, &self.tail)
            };
            let batch: Vec<Value> = values.by_ref().take(count * width).collect();
            tx.tx
                .execute_raw(Statement::from_sql_and_values(backend, sql, batch))
                .await
                .map_err(in_ctx(context))?;
            done += count;
        }
        Ok(())
    }
}

/// Rows a PostgreSQL statement carries as its one JSON value (a few megabytes at most).
const JSON_ROWS: usize = 20_000;

impl Rows {
    /// PostgreSQL: `INSERT INTO "table" (columns) SELECT columns FROM
    /// jsonb_populate_recordset(NULL::"table", $1::jsonb)` and the tail, `JSON_ROWS`
    /// rows a statement; the table's own column types read the JSON back.
    async fn insert_json(
        self,
        tx: &StoreTransaction,
        context: &'static str,
    ) -> Result<(), StoreError> {
        let width = self.columns.len();
        let names = self
            .columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO \"{table}\" ({names}) SELECT {names} \
             FROM jsonb_populate_recordset(NULL::\"{table}\", $1::jsonb){tail}",
            table = self.table,
            tail = self.tail
        );
        for batch in self.values.chunks(JSON_ROWS * width) {
            let json = json_rows(self.table, &self.columns, batch)?;
            tx.tx
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    sql.clone(),
                    [Value::from(json)],
                ))
                .await
                .map_err(in_ctx(context))?;
        }
        Ok(())
    }
}

/// `[{"a":…,"b":…},…]`: the flattened `values`, `columns.len()` a row, as a JSON array of
/// objects.
fn json_rows(table: &str, columns: &[&str], values: &[Value]) -> Result<String, StoreError> {
    let width = columns.len().max(1);
    let mut json = String::with_capacity(2 + values.len() * 24);
    json.push('[');
    for (i, row) in values.chunks(width).enumerate() {
        json.push_str(if i == 0 { "{" } else { ",{" });
        for (j, (name, value)) in columns.iter().zip(row).enumerate() {
            json_cell(&mut json, j, name, value, table)?;
        }
        json.push('}');
    }
    json.push(']');
    Ok(json)
}

/// Appends `"name":value` (after a comma unless it is the `index` 0) to a JSON object
/// being written: the kinds of value the order's tables hold, each as PostgreSQL reads
/// it back exactly (ids and text as strings, integers as numbers, none as `null`).
pub(super) fn json_cell(
    json: &mut String,
    index: usize,
    name: &str,
    value: &Value,
    table: &str,
) -> Result<(), StoreError> {
    if index > 0 {
        json.push(',');
    }
    // Writing to a String cannot fail; column names need no escaping.
    let _ = write!(json, "\"{name}\":");
    let written = match value {
        Value::Uuid(Some(id)) => write!(json, "\"{id}\""),
        Value::String(Some(text)) => {
            json_string(json, text);
            Ok(())
        }
        Value::BigInt(Some(n)) => write!(json, "{n}"),
        Value::Int(Some(n)) => write!(json, "{n}"),
        Value::SmallInt(Some(n)) => write!(json, "{n}"),
        Value::Bool(Some(yes)) => write!(json, "{yes}"),
        Value::Uuid(None)
        | Value::String(None)
        | Value::BigInt(None)
        | Value::Int(None)
        | Value::SmallInt(None)
        | Value::Bool(None) => {
            json.push_str("null");
            Ok(())
        }
        other => {
            return Err(StoreError::Other(format!(
                "{table}.{name}: {other:?} is not written through JSON"
            )));
        }
    };
    written.map_err(|e| StoreError::Other(format!("{table}.{name} as JSON: {e}")))
}

/// Appends `text` as a JSON string, escaped in place (no string of its own per value):
/// as `serde_json` writes it (`"`, `\` and control characters escaped, the common
/// ones by their short forms).
fn json_string(json: &mut String, text: &str) {
    json.reserve(text.len() + 2);
    json.push('"');
    let mut rest = text;
    while let Some(at) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ') {
        let (plain, escaped) = rest.split_at(at);
        json.push_str(plain);
        let mut chars = escaped.chars();
        match chars.next() {
            Some('"') => json.push_str("\\\""),
            Some('\\') => json.push_str("\\\\"),
            Some('\n') => json.push_str("\\n"),
            Some('\r') => json.push_str("\\r"),
            Some('\t') => json.push_str("\\t"),
            Some('\u{8}') => json.push_str("\\b"),
            Some('\u{c}') => json.push_str("\\f"),
            Some(c) => {
                let _ = write!(json, "\\u{:04x}", u32::from(c));
            }
            None => {}
        }
        rest = chars.as_str();
    }
    json.push_str(rest);
    json.push('"');
}

/// `INSERT INTO "table" ("a", "b") VALUES ($1, $2), ($3, $4)` and the tail.
fn statement(backend: DbBackend, table: &str, columns: &[&str], rows: usize, tail: &str) -> String {
    let width = columns.len();
    let mut sql = String::with_capacity(64 + rows * width * 7 + tail.len());
    let names: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    let _ = write!(
        sql,
        "INSERT INTO \"{table}\" ({}) VALUES ",
        names.join(", ")
    );
    let mut n = 1;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                DbBackend::Postgres => {
                    let _ = write!(sql, "${n}");
                }
                _ => sql.push('?'),
            }
            n += 1;
        }
        sql.push(')');
    }
    sql.push_str(tail);
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_numbers_its_placeholders_row_after_row() {
        let sql = statement(DbBackend::Postgres, "t", &["a", "b"], 2, "");
        assert_eq!(
            sql,
            "INSERT INTO \"t\" (\"a\", \"b\") VALUES ($1, $2), ($3, $4)"
        );
        let sql = statement(DbBackend::Sqlite, "t", &["a"], 2, " X");
        assert_eq!(sql, "INSERT INTO \"t\" (\"a\") VALUES (?), (?) X");
    }

    #[test]
    fn rows_become_a_json_array_of_objects_postgresql_reads_back_exactly() {
        let values = [
            Value::from(7i64),
            Value::from("a \"quoted\" name"),
            Value::from(None::<String>),
            Value::from(-1i64),
            Value::from("b"),
            Value::from(true),
        ];
        let json = json_rows("t", &["n", "name", "extra"], &values);
        assert_eq!(
            json.ok().as_deref(),
            Some(
                r#"[{"n":7,"name":"a \"quoted\" name","extra":null},{"n":-1,"name":"b","extra":true}]"#
            )
        );
        let floats = [Value::from(1.5f64)];
        assert!(json_rows("t", &["x"], &floats).is_err());
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for text in [
            "",
            "plain",
            "q\"b\\s",
            "\n\t\r\u{8}\u{c}\u{1}\u{1f}",
            "Cà phê 😀",
            "\u{2028}\u{7f}/",
        ] {
            let mut json = String::new();
            json_string(&mut json, text);
            assert_eq!(
                serde_json::from_str::<String>(&json).ok().as_deref(),
                Some(text)
            );
            assert_eq!(Some(json), serde_json::to_string(text).ok(), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_string_is_escaped_as_serde_json_escapes_it(text in "\\PC*|[\\x00-\\x7f]*") {
            let mut json = String::from("x");
            json_string(&mut json, &text);
            proptest::prop_assert_eq!(Some(json), serde_json::to_string(&text).ok().map(|q| format!("x{q}")));
        }
    }

    #[test]
    fn an_upsert_names_its_key_and_the_columns_it_replaces() {
        let rows = Rows::new("t", &["tally_key", "tally"]).upsert(&["tally_key"], &["tally"]);
        assert_eq!(
            rows.tail,
            " ON CONFLICT (\"tally_key\") DO UPDATE SET \"tally\" = excluded.\"tally\""
        );
    }
}
