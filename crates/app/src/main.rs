//! `regulars`: the loyalty platform's binary.

mod rules_cmd;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
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
    /// Check and try earning rules without a database.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
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

fn parse_offset(s: &str) -> Result<UtcOffset, String> {
    let format = time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
    UtcOffset::parse(s, format).map_err(|e| format!("expected an offset like +07:00: {e}"))
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
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
