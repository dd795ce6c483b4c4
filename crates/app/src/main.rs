//! `regulars`: the loyalty platform's binary.

mod admin_cmd;
mod audit_cmd;
mod demo;
mod dnc_cmd;
mod import_cmd;
mod models_cmd;
mod rules_cmd;
mod secrets_cmd;

use regulars::server::Application;

use regulars::settings::{LogFormat, Settings};
use regulars::system::{self, OsIdGen, SystemClock};
use regulars::worker::{PosPoller, WorkerMetrics, WorkerOptions, run_worker};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use regulars_domain::BrandId;
use regulars_service::{ChannelSenders, Services};
use regulars_store::{Store, StoreOptions, redact};
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
    /// Run the HTTP API server (configuration: regulars.toml and REGULARS_* variables).
    Serve {
        /// Configuration file (default: ./regulars.toml when it exists).
        #[arg(long, env = "REGULARS_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Run the background worker: plan active campaigns on schedule and deliver the
    /// outbox (configuration as for `serve`). Stops gracefully on SIGINT/SIGTERM.
    Work {
        /// Configuration file (default: ./regulars.toml when it exists).
        #[arg(long, env = "REGULARS_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Manage brands.
    Brand {
        #[command(subcommand)]
        command: admin_cmd::BrandCommand,
    },
    /// Manage a brand's API keys.
    Key {
        #[command(subcommand)]
        command: admin_cmd::KeyCommand,
    },
    /// Fit the customer models on stored orders, score every customer and recompute
    /// segments (all brands, or one).
    Score {
        /// Only this brand.
        #[arg(long)]
        brand: Option<BrandId>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// The deployment's do-not-call list (the national registry's numbers).
    Dnc {
        #[command(subcommand)]
        command: dnc_cmd::DncCommand,
    },
    /// Manage the server's secret keys (rotation).
    Secrets {
        #[command(subcommand)]
        command: secrets_cmd::SecretsCommand,
    },
    /// Import history.
    Import {
        #[command(subcommand)]
        command: import_cmd::ImportCommand,
    },
    /// Simulate a café chain's last year through the real use cases — customers, points,
    /// rewards, scoring, a win-back and a birthday campaign delivered to a JSON-lines
    /// file — then tell its story and serve the dashboard.
    Demo {
        /// Only simulate and print the summary; do not start the server.
        #[arg(long)]
        no_serve: bool,
        /// Where the server listens (default 127.0.0.1:8080, or REGULARS_LISTEN).
        #[arg(long)]
        listen: Option<String>,
        /// Customers to simulate.
        #[arg(long, default_value_t = 2000)]
        customers: u32,
        /// Days of history, ending now.
        #[arg(long, default_value_t = 365)]
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
    /// The access log of reads of customers' personal data.
    Audit {
        #[command(subcommand)]
        command: audit_cmd::AuditCommand,
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
pub(crate) struct DbArgs {
    /// The database: `sqlite://FILE?mode=rwc` (embedded) or `postgres://user:pass@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub(crate) database_url: String,
}

use regulars::settings::DEFAULT_DATABASE_URL;

impl DbArgs {
    pub(crate) async fn connect(&self) -> Result<Store> {
        regulars::sealing::open(&self.database_url, StoreOptions::default()).await
    }
}

pub(crate) fn parse_offset(s: &str) -> Result<UtcOffset, String> {
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
        Command::Serve { config } => serve(config).await,
        Command::Work { config } => work(config).await,
        Command::Brand { command } => admin_cmd::brand(command).await,
        Command::Key { command } => admin_cmd::key(command).await,
        Command::Audit { command } => audit_cmd::run(command).await,
        Command::Import { command } => import_cmd::run(command).await,
        Command::Secrets { command } => secrets_cmd::run(command).await,
        Command::Dnc { command } => dnc_cmd::run(command).await,
        Command::Score { brand, db } => score(brand, &db).await,
        Command::Models { command } => models_cmd::run(command).and_then(models_cmd::print),
        Command::Demo {
            no_serve,
            listen,
            customers,
            days,
            seed,
            db,
        } => run_demo(no_serve, listen, customers, days, seed, &db).await,
        Command::Migrate { db } => migrate(&db).await,
        Command::CheckLedger { brand, db } => check_ledger(brand, &db).await,
        Command::Rules { command } => rules(command),
    }
}

/// Simulates the demo chain's year, then (unless `no_serve`) serves it with an admin key.
async fn run_demo(
    no_serve: bool,
    listen: Option<String>,
    customers: u32,
    days: u32,
    seed: u64,
    db: &DbArgs,
) -> Result<()> {
    let store = Arc::new(db.connect().await?);
    println!("database: {}", redact(&db.database_url));
    let brand = demo::run(
        store.clone(),
        &demo::DemoOptions {
            customers,
            days,
            seed,
            messages: demo::messages_path(&db.database_url),
        },
    )
    .await?;
    if no_serve {
        return Ok(());
    }
    let mut settings =
        Settings::load(None, |name| std::env::var(name).ok()).context("invalid configuration")?;
    settings.database_url = db.database_url.clone();
    if let Some(listen) = listen {
        settings.listen = listen;
    }
    init_logs(settings.log_format);
    let app = Application::with_store_simulating(&settings, store, brand)?;
    let key = app
        .services()
        .create_api_key(brand, regulars_ports::Role::Admin, Some("demo".to_owned()))
        .await
        .context("cannot create the demo's admin key")?;
    let host = settings
        .listen
        .rsplit_once(':')
        .map_or("127.0.0.1", |(h, _)| h);
    let url = format!("http://{host}:{}", app.port());
    println!();
    println!("serving the demo brand on {url} (Ctrl-C stops it)");
    println!("  admin key   {}", key.token);
    println!("  API docs    {url}/docs/");
    println!("  dashboard   {url}/dashboard/login (sign in with the admin key)");
    println!(
        "  try         curl -H 'Authorization: Bearer {}' '{url}/v1/customers?limit=3'",
        key.token
    );
    app.track_outbox(std::time::Duration::from_secs(15));
    app.run_until_stopped().await.context("the server failed")
}

/// Creates or upgrades the schema.
async fn migrate(db: &DbArgs) -> Result<()> {
    db.connect().await?;
    println!("schema up to date: {}", redact(&db.database_url));
    Ok(())
}

/// Recomputes every balance from its ledger; an error when anything differs.
async fn check_ledger(brand: Option<BrandId>, db: &DbArgs) -> Result<()> {
    let store = Arc::new(db.connect().await?);
    let services = Services::new(
        store,
        Arc::new(system::SystemClock),
        Arc::new(system::OsIdGen),
    );
    let report = services.check_ledger(brand).await?;
    println!(
        "{} brands, {} accounts checked, {} mismatches, {} invalid ledgers, {} stored \
         states differ",
        report.brands_checked,
        report.accounts_checked,
        report.mismatches.len(),
        report.invalid.len(),
        report.state_mismatches.len()
    );
    for m in &report.mismatches {
        println!("  mismatch: {m:?}");
    }
    for i in &report.invalid {
        println!("  invalid: {i:?}");
    }
    for s in &report.state_mismatches {
        println!("  stored state differs: {s:?}");
    }
    if report.is_clean() {
        Ok(())
    } else {
        bail!("the ledger check found problems")
    }
}

/// Checks or explains earning rules, without a database.
fn rules(command: RulesCommand) -> Result<()> {
    match command {
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
    }
}

async fn score(brand: Option<BrandId>, db: &DbArgs) -> Result<()> {
    let store = Arc::new(db.connect().await?);
    let services = Services::new(
        store,
        Arc::new(system::SystemClock),
        Arc::new(system::OsIdGen),
    );
    let options = regulars_service::ScoringOptions::default();
    // A spinner with the elapsed time on a terminal (hidden when stderr is not one).
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    spinner.set_message(match brand {
        Some(brand) => format!("fitting and scoring brand {brand}"),
        None => "fitting and scoring every brand".to_owned(),
    });
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let runs = match brand {
        Some(brand) => vec![(brand, services.score_brand(brand, &options).await)],
        None => services.score_all_brands(&options).await?,
    };
    spinner.finish_and_clear();
    let mut failed = 0;
    for (brand, run) in runs {
        match run {
            Ok(run) => {
                println!("brand {brand}: {} customers scored", run.customers);
                for model in ["bgnbd", "gamma_gamma"] {
                    let fit = &run.summary[model];
                    match fit.get("parameters") {
                        Some(params) => println!(
                            "  {model:<12} {params}  log-likelihood {}",
                            fit["stats"]["log_likelihood"]
                        ),
                        None => println!("  {model:<12} not fitted: {}", fit["error"]),
                    }
                }
                for (segment, size) in &run.segment_sizes {
                    println!("  {segment:<28} {size}");
                }
            }
            Err(error) => {
                failed += 1;
                eprintln!("brand {brand}: {error}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} brands could not be scored");
    }
    Ok(())
}

async fn serve(config: Option<PathBuf>) -> Result<()> {
    let settings = Settings::load(config.as_deref(), |name| std::env::var(name).ok())
        .context("invalid configuration")?;
    init_logs(settings.log_format);
    let app = Application::build(&settings).await?;
    tracing::info!(
        port = app.port(),
        database = %redact(&settings.database_url),
        webhooks = settings.secret_key.is_some(),
        "serving"
    );
    if settings.secret_key.is_none() {
        tracing::warn!("REGULARS_SECRET_KEY is not set: POS integrations (webhooks) are disabled");
    }
    if let Some(interval) = settings.scoring_interval {
        app.schedule_scoring(interval);
    }
    app.track_outbox(std::time::Duration::from_secs(15));
    if settings.worker.in_serve {
        let senders = senders(&settings, app.token_store(), app.channel_account_store())?;
        let mut options = WorkerOptions::from_settings(&settings.worker);
        options.pos_api = regulars::server::pos_api(&settings).map(PosPoller);
        let services = app.services();
        let metrics = WorkerMetrics::register(&app.metrics());
        let handle = app.handle();
        tokio::spawn(async move {
            run_worker(
                services,
                senders,
                options,
                metrics,
                std::future::pending::<()>(),
            )
            .await;
            drop(handle);
        });
    }
    println!(
        "regulars listening on http://{}:{} (API reference: /docs/)",
        settings
            .listen
            .rsplit_once(':')
            .map_or("127.0.0.1", |(h, _)| h),
        app.port()
    );
    app.run_until_stopped().await.context("the server failed")?;
    tracing::info!("stopped");
    Ok(())
}

async fn work(config: Option<PathBuf>) -> Result<()> {
    let settings = Settings::load(config.as_deref(), |name| std::env::var(name).ok())
        .context("invalid configuration")?;
    init_logs(settings.log_format);
    let store = Store::connect(&settings.database_url, StoreOptions::default())
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                redact(&settings.database_url)
            )
        })?;
    let store = Arc::new(regulars::sealing::keyed(&store, &settings));
    let mut services = Services::new(store.clone(), Arc::new(SystemClock), Arc::new(OsIdGen))
        .with_channel_accounts(store.clone());
    if let Some(keys) = settings.secret_keys() {
        services = services.with_secret_keys(keys);
    }
    if settings.public_url.is_none() || settings.secret_key.is_none() {
        tracing::warn!(
            "no REGULARS_PUBLIC_URL or REGULARS_SECRET_KEY: promotional messages go out without the customer's opt-out link"
        );
    }
    let services = services.with_public_url(settings.public_url.clone());
    let senders = senders(&settings, store.clone(), store)?;
    tracing::info!(
        database = %redact(&settings.database_url),
        channels = ?senders.channels(),
        "worker started"
    );
    let mut options = WorkerOptions::from_settings(&settings.worker);
    options.pos_api = regulars::server::pos_api(&settings).map(PosPoller);
    let totals = run_worker(
        Arc::new(services),
        senders,
        options,
        WorkerMetrics::default(),
        shutdown_signal(),
    )
    .await;
    tracing::info!(
        campaign_runs = totals.campaign_runs,
        planned = totals.planned,
        campaign_failures = totals.campaign_failures,
        delivery_failures = totals.delivery_failures,
        sent = totals.delivery.sent,
        dead = totals.delivery.dead,
        "worker stopped"
    );
    Ok(())
}

/// The channels the configuration sets up, with their secrets from the environment and
/// their OAuth tokens shared through the database; brands' own channel accounts (in
/// `accounts`) take precedence for their brand.
fn senders(
    settings: &Settings,
    tokens: Arc<dyn regulars_ports::TokenStore>,
    accounts: Arc<dyn regulars_ports::ChannelAccountStore>,
) -> Result<ChannelSenders> {
    let built = regulars_senders::build_with_tokens(
        &settings.senders,
        |name| std::env::var(name).ok(),
        Some(tokens.clone()),
    )
    .context("the message channels ([senders]) cannot be set up")?;
    let factory = regulars_senders::BrandSenderFactory::new(settings.senders.clone(), Some(tokens));
    let mut senders = ChannelSenders::new().with_brand_accounts(accounts, Arc::new(factory));
    for (_, sender) in built.into_map() {
        senders = senders.with(sender);
    }
    if senders.channels().is_empty() {
        tracing::warn!(
            "no message channel is configured ([senders] in regulars.toml): every due message of a brand without its own channel accounts will be marked dead"
        );
    }
    Ok(senders)
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Structured logs on stderr, filtered by `RUST_LOG` (default `info`).
pub(crate) fn init_logs(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
