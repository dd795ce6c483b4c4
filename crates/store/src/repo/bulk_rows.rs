//! The one multi-row `INSERT` every table of an import is written with: the rows' values
//! taken out of their active models (no clone, no query builder per row), as many rows a
//! statement as the database's limit of bound values allows, the statement text built once
//! for every full batch (so the driver prepares it once and reuses it).

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

    /// Writes the rows, as few statements as the limit of bound values allows.
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
    fn an_upsert_names_its_key_and_the_columns_it_replaces() {
        let rows = Rows::new("t", &["tally_key", "tally"]).upsert(&["tally_key"], &["tally"]);
        assert_eq!(
            rows.tail,
            " ON CONFLICT (\"tally_key\") DO UPDATE SET \"tally\" = excluded.\"tally\""
        );
    }
}
