//! The access log written out for an inquiry or a breach response (`regulars audit
//! export`): CSV with a header line, or one JSON object per line, oldest first.

use regulars_domain::BrandId;
use regulars_ports::{AccessQuery, AccessRecord};
use regulars_service::{MAX_PAGE, ManageError, Services};
use std::io::Write;
use time::format_description::well_known::Rfc3339;

/// How records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Comma-separated, with a header line; lists within a cell separated by spaces.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the log failed.
    #[error("cannot read the access log of brand {0}: {1}")]
    Read(BrandId, ManageError),
    /// Writing out failed.
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
}

/// Writes the records of `brands` matching `filter` (its `after` and `limit` are the
/// export's own) to `out`; returns how many.
pub async fn export(
    services: &Services,
    brands: &[BrandId],
    filter: AccessQuery,
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    if format == ExportFormat::Csv {
        writeln!(out, "brand_id,at,id,key_id,channel,route,fields,customers")?;
    }
    let mut written = 0;
    for &brand in brands {
        let mut query = AccessQuery {
            after: None,
            limit: MAX_PAGE,
            ..filter
        };
        loop {
            let page = services
                .access_log(brand, &query)
                .await
                .map_err(|e| ExportError::Read(brand, e))?;
            for record in &page {
                match format {
                    ExportFormat::Csv => writeln!(out, "{}", csv_line(record))?,
                    ExportFormat::JsonLines => writeln!(out, "{}", json_line(record))?,
                }
                written += 1;
            }
            match page.last() {
                Some(last) if page.len() as u64 == MAX_PAGE => {
                    query.after = Some((last.at, last.id));
                }
                _ => break,
            }
        }
    }
    out.flush()?;
    Ok(written)
}

fn at(record: &AccessRecord) -> String {
    record.at.format(&Rfc3339).unwrap_or_default()
}

/// One CSV line. Every cell is an id, a time or a fixed name, so none needs quoting;
/// lists within a cell are separated by spaces.
fn csv_line(record: &AccessRecord) -> String {
    let fields: Vec<&str> = record.fields.iter().map(|f| f.as_str()).collect();
    let customers: Vec<String> = record.customers.iter().map(ToString::to_string).collect();
    format!(
        "{},{},{},{},{},{},{},{}",
        record.brand_id,
        at(record),
        record.id,
        record.key_id.map(|k| k.to_string()).unwrap_or_default(),
        record.channel.as_str(),
        record.route,
        fields.join(" "),
        customers.join(" ")
    )
}

fn json_line(record: &AccessRecord) -> serde_json::Value {
    serde_json::json!({
        "brand_id": record.brand_id.to_string(),
        "at": at(record),
        "id": record.id.to_string(),
        "key_id": record.key_id.map(|k| k.to_string()),
        "channel": record.channel.as_str(),
        "route": record.route,
        "fields": record.fields.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        "customers": record.customers.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}
