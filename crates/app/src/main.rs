//! `regulars`: the loyalty platform's binary.

mod demo;
mod models_cmd;
mod rules_cmd;

use regulars::system;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use regulars_domain::BrandId;
use regulars_service::Services;
use regulars_store::{Store, StoreOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use time::UtcOffset;

#[derive(Parser)]
#[command(
    name = "regulars",
    version,
    about = "Loyalty and customer intelligence for food & beverage shops"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a café chain's last months through the real use cases, then print
    /// balances, tiers and the ledger check.
    Demo {
        /// Customers to simulate.
        #[arg(long, default_value_t = 300)]
        customers: u32,
        /// Days of history, ending now.
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// Seed of the simulation.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Create or upgrade the database schema.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Recompute every balance from its ledger and report mismatches (exit code 1 when
    /// there are any).
    CheckLedger {
        /// Only this brand.
        #[arg(long)]
        brand: Option<BrandId>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Check and try earning rules without a database.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Fit customer-base models (BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma) on a summary
    /// CSV and score every customer.
    Models {
        #[command(subcommand)]
        command: models_cmd::ModelsCommand,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Validate an earning-rules document and print it back in canonical form.
    Check {
        /// The rules document (JSON).
        rules: PathBuf,
    },
    /// Show what an order earns under a rules document, line by line.
    Explain {
        /// The rules document (JSON).
        #[arg(long)]
        rules: PathBuf,
        /// The order (JSON, as the generic POS webhook sends it).
        #[arg(long)]
        order: PathBuf,
        /// The brand's UTC offset, e.g. +07:00.
        #[arg(long, default_value = "+07:00", value_parser = parse_offset)]
        offset: UtcOffset,
        /// Which visit of the customer this order is (1 = first).
        #[arg(long, default_value_t = 2)]
        visit: u32,
        /// The customer's tier code.
        #[arg(long)]
        tier: Option<String>,
        /// The order is on the customer's birthday.
        #[arg(long)]
        birthday: bool,
        /// Points the customer already earned earlier that day.
        #[arg(long, default_value_t = 0)]
        earned_today: i64,
    },
}

/// Where the data lives.
#[derive(clap::Args)]
struct DbArgs {
    /// The database: `sqlite://FILE?mode=rwc` (embedded) or `postgres://user:pass@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    database_url: String,
}

/// The embedded default: a SQLite file in the working directory.
const DEFAULT_DATABASE_URL: &str = "sqlite://regulars.db?mode=rwc";

impl DbArgs {
    async fn connect(&self) -> Result<Store> {
        let store = Store::connect(&self.database_url, StoreOptions::default())
            .await
            .context("cannot open the database")?;
        Ok(store)
    }
}

fn parse_offset(s: &str) -> Result<UtcOffset, String> {
    let format = time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
    UtcOffset::parse(s, format).map_err(|e| format!("expected an offset like +07:00: {e}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Models { command } => models_cmd::run(command).and_then(models_cmd::print),
        Command::Demo {
            customers,
            days,
            seed,
            db,
        } => {
            let store = db.connect().await?;
            println!("database: {}", redact(&db.database_url));
            demo::run(
                store,
                &demo::DemoOptions {
                    customers,
                    days,
                    seed,
                },
            )
            .await
        }
        Command::Migrate { db } => {
            db.connect().await?;
            println!("schema up to date: {}", redact(&db.database_url));
            Ok(())
        }
        Command::CheckLedger { brand, db } => {
            let store = Arc::new(db.connect().await?);
            let services = Services::new(
                store,
                Arc::new(system::SystemClock),
                Arc::new(system::OsIdGen),
            );
            let report = services.check_ledger(brand).await?;
            println!(
                "{} brands, {} accounts checked, {} mismatches, {} invalid ledgers",
                report.brands_checked,
                report.accounts_checked,
                report.mismatches.len(),
                report.invalid.len()
            );
            for m in &report.mismatches {
                println!("  mismatch: {m:?}");
            }
            for i in &report.invalid {
                println!("  invalid: {i:?}");
            }
            if report.mismatches.is_empty() && report.invalid.is_empty() {
                Ok(())
            } else {
                bail!("the ledger check found problems")
            }
        }
        Command::Rules { command } => match command {
            RulesCommand::Check { rules } => {
                let loaded = rules_cmd::load_rules(&rules)?;
                println!("{}", serde_json::to_string_pretty(&loaded)?);
                Ok(())
            }
            RulesCommand::Explain {
                rules,
                order,
                offset,
                visit,
                tier,
                birthday,
                earned_today,
            } => {
                if visit == 0 {
                    bail!("--visit starts at 1 (the customer's first visit)");
                }
                let opts = rules_cmd::ExplainOptions {
                    offset,
                    visit,
                    tier,
                    birthday,
                    earned_today,
                };
                print!("{}", rules_cmd::explain(&rules, &order, &opts)?);
                Ok(())
            }
        },
    }
}

/// The URL with any password hidden, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
