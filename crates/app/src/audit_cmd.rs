//! `regulars audit export`: the access log (who read which customers' personal data,
//! when and what of it) written to stdout as CSV or JSON lines, for an inquiry or a
//! breach response: `--key` lists every read one API key made.

use crate::DbArgs;
use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use regulars::audit_export::{ExportFormat, export};
use regulars::system::{OsIdGen, SystemClock};
use regulars_domain::{ApiKeyId, BrandId, CustomerId};
use regulars_ports::AccessQuery;
use regulars_service::Services;
use std::sync::Arc;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Subcommand)]
pub(crate) enum AuditCommand {
    /// Write the access log to stdout, oldest first: one line per read, with the key,
    /// channel, route, parts of the data and the ids of every customer shown.
    Export {
        /// Reads at or after this time (RFC 3339, e.g. 2026-12-01T00:00:00Z).
        #[arg(long, value_parser = parse_time)]
        since: Option<OffsetDateTime>,
        /// Reads before this time (RFC 3339).
        #[arg(long, value_parser = parse_time)]
        until: Option<OffsetDateTime>,
        /// Only this brand (default: every brand).
        #[arg(long)]
        brand: Option<BrandId>,
        /// Only the reads of this API key (a dashboard session's too): what a leaked
        /// key read.
        #[arg(long)]
        key: Option<ApiKeyId>,
        /// Only the reads that showed this customer.
        #[arg(long)]
        customer: Option<CustomerId>,
        /// `csv` (with a header line) or `json` (one object per line).
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// The output format.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Csv,
    Json,
}

fn parse_time(raw: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(raw, &Rfc3339)
        .map_err(|e| format!("expected an RFC 3339 time like 2026-12-01T00:00:00Z: {e}"))
}

/// Runs an audit command.
pub(crate) async fn run(command: AuditCommand) -> Result<()> {
    let AuditCommand::Export {
        since,
        until,
        brand,
        key,
        customer,
        format,
        db,
    } = command;
    let store = Arc::new(db.connect().await?);
    let services = Services::new(store, Arc::new(SystemClock), Arc::new(OsIdGen));
    let brands = match brand {
        Some(brand) => vec![brand],
        None => services
            .campaign_brands()
            .await
            .context("cannot list the brands")?,
    };
    let filter = AccessQuery {
        since,
        until,
        key,
        customer,
        after: None,
        limit: 1,
    };
    let format = match format {
        Format::Csv => ExportFormat::Csv,
        Format::Json => ExportFormat::JsonLines,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    export(&services, &brands, filter, format, &mut out).await?;
    Ok(())
}
