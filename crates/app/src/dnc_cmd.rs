//! `regulars dnc import FILE [--replace]` and `regulars dnc status`: the deployment's
//! do-not-call list, loaded from the national registry's export (one number a line).
//! Numbers are stored only as keyed hashes, so `REGULARS_SECRET_KEY` must be set.

use crate::DbArgs;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use regulars::system::{OsIdGen, SystemClock};
use regulars_service::{Services, parse_do_not_call};
use std::path::PathBuf;
use std::sync::Arc;

/// Bad lines listed one by one; past this many only their count is printed.
const BAD_LINES_SHOWN: usize = 20;

/// `regulars dnc ...`
#[derive(Subcommand)]
pub enum DncCommand {
    /// Load the do-not-call registry's export: one number a line (0912…, 84912… or
    /// +84912…; spaces and dashes allowed; blank lines and # comments ignored). Bad lines
    /// are reported with their line numbers and skipped.
    Import {
        /// The registry's export (text, one number a line).
        file: PathBuf,
        /// Remove listed numbers the file does not contain (the file is the whole list).
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// How many numbers are listed, and how many wait for a re-import after a key
    /// rotation.
    Status {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Runs a `dnc` subcommand.
pub async fn run(command: DncCommand) -> Result<()> {
    match command {
        DncCommand::Import { file, replace, db } => import(file, replace, &db).await,
        DncCommand::Status { db } => status(&db).await,
    }
}

async fn services(db: &DbArgs) -> Result<Services> {
    if std::env::var_os("REGULARS_SECRET_KEY").is_none() {
        bail!("the do-not-call list is stored only as keyed hashes: set REGULARS_SECRET_KEY");
    }
    let store = Arc::new(db.connect().await?);
    Ok(Services::new(
        store,
        Arc::new(SystemClock),
        Arc::new(OsIdGen),
    ))
}

async fn import(file: PathBuf, replace: bool, db: &DbArgs) -> Result<()> {
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let parsed = parse_do_not_call(&text);
    for bad in parsed.bad.iter().take(BAD_LINES_SHOWN) {
        eprintln!("line {}: {} (skipped)", bad.line, bad.reason);
    }
    if parsed.bad.len() > BAD_LINES_SHOWN {
        eprintln!(
            "… and {} more bad lines",
            parsed.bad.len() - BAD_LINES_SHOWN
        );
    }
    let services = services(db).await?;
    let done = services.import_do_not_call(&parsed, replace).await?;
    println!(
        "do-not-call list: {} added, {} already there, {} removed, {} bad lines, {} repeated lines",
        done.added,
        done.already,
        done.removed,
        parsed.bad.len(),
        parsed.repeated
    );
    Ok(())
}

async fn status(db: &DbArgs) -> Result<()> {
    let services = services(db).await?;
    let status = services.do_not_call_status().await?;
    let last = status
        .last_import_at
        .map_or_else(|| "never".to_owned(), |at| at.to_string());
    println!(
        "do-not-call list: {} numbers ({} under a previous key), last imported {last}",
        status.numbers, status.under_previous_keys
    );
    Ok(())
}
