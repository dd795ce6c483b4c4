//! `regulars-load`: replays a day of POS traffic for a chain against a running server
//! (`cargo xtask load -- --help`), then checks the ledger when given the database.

use regulars_tests::load::{DayPlan, Target, check_ledger, plan, prepare, replay};
use std::path::PathBuf;
use std::time::Duration;

const USAGE: &str = "\
usage: regulars-load --url http://HOST:PORT --key ADMIN_KEY [options]

Replays a day of POS traffic (signed order.paid webhooks with lunch and evening peaks,
~2 % refunds, ~1 % duplicate deliveries, voucher redemptions at the till) compressed into
--wall seconds, then prints what was sent, acknowledged, replayed and failed, and the
latency percentiles. Exit code 1 when any request failed or the ledger check fails.

options:
  --wall SECONDS              wall time of the whole day (default 60)
  --locations N               locations of the chain (default 100)
  --orders-per-location N     orders per location in the day (default 150)
  --concurrency N             requests in flight at most (default 64)
  --seed N                    seed of the day (default 2026)
  --database-url URL          after the day, run `regulars check-ledger` on this database
  --regulars PATH             the regulars binary for the check (default: regulars on PATH)
";

struct Args {
    target: Target,
    day: DayPlan,
    wall: Duration,
    concurrency: usize,
    database_url: Option<String>,
    regulars: PathBuf,
}

fn parse() -> Result<Args, String> {
    let mut url = None;
    let mut key = None;
    let mut day = DayPlan::default();
    let mut wall = 60.0;
    let mut concurrency = 64;
    let mut database_url = None;
    let mut regulars = PathBuf::from("regulars");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            print!("{USAGE}");
            std::process::exit(0);
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {v}"))
        };
        match flag.as_str() {
            "--url" => url = Some(value.trim_end_matches('/').to_owned()),
            "--key" => key = Some(value),
            "--wall" => {
                wall = value
                    .parse::<f64>()
                    .ok()
                    .filter(|w| *w > 0.0)
                    .ok_or_else(|| format!("--wall: not a positive number: {value}"))?
            }
            "--locations" => {
                day.locations = u32::try_from(number(&value)?).map_err(|e| e.to_string())?
            }
            "--orders-per-location" => {
                day.orders_per_location =
                    u32::try_from(number(&value)?).map_err(|e| e.to_string())?
            }
            "--concurrency" => {
                concurrency = usize::try_from(number(&value)?).map_err(|e| e.to_string())?
            }
            "--seed" => day.seed = number(&value)?,
            "--database-url" => database_url = Some(value),
            "--regulars" => regulars = PathBuf::from(value),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(Args {
        target: Target {
            base: url.ok_or("--url is required")?,
            admin_key: key.ok_or("--key is required")?,
        },
        day,
        wall: Duration::from_secs_f64(wall),
        concurrency,
        database_url,
        regulars,
    })
}

fn main() {
    let args = match parse() {
        Ok(args) => args,
        Err(e) => {
            eprint!("{e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|rt| rt.block_on(run(&args)));
    match result {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("regulars-load: {e}");
            std::process::exit(1);
        }
    }
}

async fn run(args: &Args) -> Result<bool, String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let setup = prepare(&client, &args.target).await?;
    let day = plan(&args.day);
    println!(
        "replaying {} requests of a {}-location day in {:.0} s",
        day.len(),
        args.day.locations,
        args.wall.as_secs_f64()
    );
    let report = replay(
        &client,
        &args.target,
        &setup,
        &day,
        args.wall,
        args.concurrency,
    )
    .await?;
    println!("{}", report.summary());
    let mut ok = report.errors == 0;
    if let Some(url) = &args.database_url {
        match check_ledger(&args.regulars, url) {
            Ok(text) => println!("check-ledger: {text}"),
            Err(e) => {
                eprintln!("{e}");
                ok = false;
            }
        }
    }
    Ok(ok)
}
