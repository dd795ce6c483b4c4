//! `regulars secrets rotate`: re-seals every stored secret under the current server key:
//! the webhook secrets, then the contact data (phones, emails, Zalo ids, and the rows that
//! hold them) with their blind index, in batches, look-ups working throughout.
//!
//! A rotation: start every server and worker with the new key in `REGULARS_SECRET_KEY`
//! and the old one in `REGULARS_PREVIOUS_SECRET_KEYS` (they open what either sealed, so
//! no webhook is refused in between), run this command with the same two variables,
//! then drop `REGULARS_PREVIOUS_SECRET_KEYS`. The do-not-call list keeps hashes only, so
//! it cannot be re-hashed: the command says how many numbers wait for the registry's
//! file to be imported again under the new key.

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use regulars::settings::Settings;
use regulars::system::{OsIdGen, SystemClock};
use regulars_service::Services;
use regulars_store::{SealScope, Store, StoreOptions, redact};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Subcommand)]
pub(crate) enum SecretsCommand {
    /// Re-seal every integration's webhook secret and all contact data (with the phone
    /// blind index) under REGULARS_SECRET_KEY, opening each with whichever of it and
    /// REGULARS_PREVIOUS_SECRET_KEYS sealed it.
    Rotate {
        /// Configuration file (default: ./regulars.toml when it exists).
        #[arg(long, env = "REGULARS_CONFIG")]
        config: Option<PathBuf>,
    },
}

pub(crate) async fn run(command: SecretsCommand) -> Result<()> {
    let SecretsCommand::Rotate { config } = command;
    let settings = Settings::load(config.as_deref(), |name| std::env::var(name).ok())
        .context("invalid configuration")?;
    let Some(keys) = settings.secret_keys() else {
        bail!(
            "set REGULARS_SECRET_KEY to the new key (and REGULARS_PREVIOUS_SECRET_KEYS to the old ones)"
        );
    };
    let store = Store::connect(&settings.database_url, StoreOptions::default())
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                redact(&settings.database_url)
            )
        })?;
    let store = Arc::new(regulars::sealing::keyed(&store, &settings));
    let services = Services::new(store.clone(), Arc::new(SystemClock), Arc::new(OsIdGen))
        .with_secret_keys(keys);
    let report = services.reseal_secrets().await?;
    println!(
        "{} secrets re-sealed, {} already under the current key",
        report.resealed, report.current
    );
    let sealed = store
        .seal_contacts(SealScope::NotCurrent)
        .await
        .context("cannot re-seal contact data (is the key that sealed it missing from REGULARS_PREVIOUS_SECRET_KEYS?)")?;
    println!(
        "{} rows of contact data re-sealed ({})",
        sealed.rows(),
        sealed
            .tables
            .iter()
            .map(|(table, n)| format!("{table} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // The do-not-call list holds hashes, not numbers: it cannot be hashed again here.
    let listed = services.do_not_call_status().await?;
    if listed.under_previous_keys > 0 {
        println!(
            "{} do-not-call numbers are hashed under a previous key: they are found while it is in REGULARS_PREVIOUS_SECRET_KEYS; import the registry's file again (regulars dnc import FILE) before dropping it",
            listed.under_previous_keys
        );
    }
    if !report.unopenable.is_empty() {
        let ids: Vec<String> = report.unopenable.iter().map(ToString::to_string).collect();
        bail!(
            "{} secrets open with none of the keys given (integrations {}): add the key that sealed them to REGULARS_PREVIOUS_SECRET_KEYS and run again",
            ids.len(),
            ids.join(", ")
        );
    }
    Ok(())
}
