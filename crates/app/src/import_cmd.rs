//! `regulars import orders FILE.csv`: order history from a CSV file (format in
//! `docs/pos.md`), through the same ingestion as live orders, so a re-run counts
//! nothing twice. Orders are imported `IMPORT_CHUNK` at a time, in file order, each
//! chunk read and written set-wise in one transaction (`Services::import_orders`).

use crate::DbArgs;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use regulars::system::{OsIdGen, SystemClock};
use regulars_domain::{BrandId, Order};
use regulars_pos::BrandContext;
use regulars_pos::csv_import::{CsvOrders, DEFAULT_SOURCE, RowError};
use regulars_service::{IMPORT_CHUNK, Services};
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// `regulars import ...`
#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import order history from CSV (one row per line item; see docs/pos.md).
    Orders {
        /// The CSV file.
        file: PathBuf,
        /// The brand the orders belong to.
        #[arg(long)]
        brand: BrandId,
        /// The source recorded with each order (its idempotency key is source + order id).
        #[arg(long, default_value = DEFAULT_SOURCE)]
        source: String,
        /// Write the row errors here as CSV (line,column,order_id,problem) instead of
        /// listing them on stderr.
        #[arg(long)]
        errors: Option<PathBuf>,
        /// No progress bar (for logs and scripts).
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// A reader that counts the bytes read through it, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// One problem with the file, for the error report.
struct Problem {
    line: Option<u64>,
    column: Option<&'static str>,
    order_id: Option<String>,
    message: String,
}

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    /// Orders counted now.
    pub imported: u64,
    /// Orders counted by an earlier run (or a live delivery).
    pub already_known: u64,
    /// Orders refused (their rows are in the error report).
    pub failed: u64,
}

/// Runs an import command.
pub async fn run(command: ImportCommand) -> Result<()> {
    let ImportCommand::Orders {
        file,
        brand,
        source,
        errors,
        quiet,
        db,
    } = command;
    let store = Arc::new(db.connect().await?);
    let services = Services::new(store, Arc::new(SystemClock), Arc::new(OsIdGen));
    let found = services
        .brand(brand)
        .await
        .with_context(|| format!("brand {brand}"))?;
    let size = std::fs::metadata(&file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    let handle = File::open(&file).with_context(|| format!("cannot open {}", file.display()))?;
    let read = Arc::new(AtomicU64::new(0));
    let reader = Counting {
        inner: BufReader::new(handle),
        read: read.clone(),
    };
    let context = BrandContext {
        brand_id: brand,
        currency: found.currency,
        calling_code: found.calling_code,
        utc_offset: found.utc_offset,
    };
    let orders = CsvOrders::with_source(reader, context, source)
        .with_context(|| format!("{} cannot be imported", file.display()))?;
    let bar = progress_bar(quiet, size);
    let (summary, problems) = import_rows(&services, brand, orders, &bar, &read).await;
    bar.finish_and_clear();
    println!(
        "{}: {} orders imported, {} already known, {} refused",
        file.display(),
        summary.imported,
        summary.already_known,
        summary.failed
    );
    report(&problems, errors.as_ref())?;
    if summary.failed > 0 {
        bail!(
            "{} orders were refused; fix their rows and run the import again (imported orders are not counted twice)",
            summary.failed
        );
    }
    Ok(())
}

/// A bar of the file's bytes read (hidden when `quiet`).
fn progress_bar(quiet: bool, size: u64) -> ProgressBar {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(size)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Imports the rows `IMPORT_CHUNK` orders at a time, in file order, counting what
/// became of each and keeping the problems for the report; the bar follows the bytes
/// read.
async fn import_rows(
    services: &Services,
    brand: BrandId,
    rows: impl Iterator<Item = Result<Order, RowError>>,
    bar: &ProgressBar,
    read: &AtomicU64,
) -> (ImportSummary, Vec<Problem>) {
    let mut summary = ImportSummary::default();
    let mut problems = Vec::new();
    let mut batch: Vec<Order> = Vec::with_capacity(IMPORT_CHUNK);
    let mut rows = rows.peekable();
    while rows.peek().is_some() || !batch.is_empty() {
        match rows.next() {
            Some(Ok(order)) => batch.push(order),
            Some(Err(row)) => {
                summary.failed += 1;
                problems.push(Problem {
                    line: Some(row.line),
                    column: row.column,
                    order_id: row.order_id.clone(),
                    message: row.problem.clone(),
                });
            }
            None => {}
        }
        if batch.len() == IMPORT_CHUNK || (rows.peek().is_none() && !batch.is_empty()) {
            let results = services.import_orders(brand, &batch).await;
            for (order, result) in batch.drain(..).zip(results) {
                match result {
                    Ok(receipt) if receipt.duplicate => summary.already_known += 1,
                    Ok(_) => summary.imported += 1,
                    Err(error) => {
                        summary.failed += 1;
                        problems.push(Problem {
                            line: None,
                            column: None,
                            order_id: Some(order.key.external_id),
                            message: error.to_string(),
                        });
                    }
                }
            }
            bar.set_position(read.load(Ordering::Relaxed));
            bar.set_message(format!(
                "{} new, {} known, {} failed",
                summary.imported, summary.already_known, summary.failed
            ));
        }
    }
    (summary, problems)
}

fn report(problems: &[Problem], to: Option<&PathBuf>) -> Result<()> {
    match to {
        Some(path) => {
            let mut out =
                File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(out, "line,column,order_id,problem")?;
            for p in problems {
                writeln!(
                    out,
                    "{},{},{},{}",
                    p.line.map(|l| l.to_string()).unwrap_or_default(),
                    p.column.unwrap_or(""),
                    csv_field(p.order_id.as_deref().unwrap_or("")),
                    csv_field(&p.message)
                )?;
            }
            if !problems.is_empty() {
                println!("row errors written to {}", path.display());
            }
        }
        None => {
            for p in problems {
                let mut at = String::new();
                if let Some(line) = p.line {
                    at.push_str(&format!("line {line}"));
                }
                if let Some(column) = p.column {
                    at.push_str(&format!(", column {column}"));
                }
                if let Some(order) = &p.order_id {
                    if !at.is_empty() {
                        at.push_str(", ");
                    }
                    at.push_str(&format!("order {order}"));
                }
                eprintln!("{at}: {}", p.message);
            }
        }
    }
    Ok(())
}

/// A cell of the error report, quoted when it must be. A cell that a spreadsheet would
/// read as a formula (leading `=`, `+`, `-`, `@`, tab or carriage return) gets a `'`
/// first: order ids and messages quote the imported file, which anyone may have written.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn formula_cells_are_defused_and_others_kept() {
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        for formula in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            let cell = csv_field(formula);
            assert!(
                cell.trim_start_matches('"').starts_with('\''),
                "{formula:?}: {cell}"
            );
        }
        assert_eq!(csv_field("A-1"), "A-1");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field(""), "");
    }
}
