//! `regulars brand create` and `regulars key create|revoke`: what an operator does
//! before any API key exists.

use crate::DbArgs;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use regulars::system::{OsIdGen, SystemClock};
use regulars_domain::{ApiKeyId, BrandId, CallingCode, Currency};
use regulars_loyalty::ledger::RefundPolicy;
use regulars_ports::{Brand, LoyaltyProgram, Role};
use regulars_service::{BrandSetup, Services};
use std::path::PathBuf;
use std::sync::Arc;
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

/// `regulars brand ...`
#[derive(Subcommand)]
pub enum BrandCommand {
    /// Create a brand and print its first admin API key (shown once).
    Create {
        /// The brand's name.
        #[arg(long)]
        name: String,
        /// ISO 4217 currency of its prices.
        #[arg(long, default_value = "VND")]
        currency: String,
        /// Country calling code national phone numbers are read with.
        #[arg(long, default_value_t = 84)]
        calling_code: u16,
        /// The brand's UTC offset.
        #[arg(long, default_value = "+07:00", value_parser = crate::parse_offset, allow_hyphen_values = true)]
        utc_offset: UtcOffset,
        /// Days points stay valid (none: they never expire).
        #[arg(long)]
        points_validity_days: Option<u32>,
        /// What a refund does with points the customer already spent: `debt` (the balance
        /// goes negative, later earnings repay it first), `void_unredeemed` (unused
        /// vouchers bought with points are voided first, then debt) or `clamp` (the spent
        /// points are given away). Changeable later with `PATCH /v1/brand`.
        #[arg(long, default_value = "debt", value_parser = parse_refund_overdraw)]
        refund_overdraw: RefundPolicy,
        /// Earning rules (JSON, see docs/rules.md); none: orders are stored without points
        /// until rules are set through the API.
        #[arg(long)]
        rules: Option<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `regulars key ...`
#[derive(Subcommand)]
pub enum KeyCommand {
    /// Create an API key for a brand and print it (shown once).
    Create {
        /// The brand.
        #[arg(long)]
        brand: BrandId,
        /// admin, pos or viewer.
        #[arg(long)]
        role: String,
        /// A note for people.
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke an API key.
    Revoke {
        /// The brand.
        #[arg(long)]
        brand: BrandId,
        /// The key's id.
        #[arg(long)]
        key: ApiKeyId,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// A `refund_overdraw` value by its name.
fn parse_refund_overdraw(name: &str) -> Result<RefundPolicy, String> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| format!("{name:?}: expected debt, void_unredeemed or clamp"))
}

async fn services(db: &DbArgs) -> Result<Services> {
    let store = Arc::new(db.connect().await?);
    Ok(Services::new(
        store,
        Arc::new(SystemClock),
        Arc::new(OsIdGen),
    ))
}

/// Runs a brand command.
pub async fn brand(command: BrandCommand) -> Result<()> {
    match command {
        BrandCommand::Create {
            name,
            currency,
            calling_code,
            utc_offset,
            points_validity_days,
            refund_overdraw,
            rules,
            db,
        } => {
            let currency: Currency = currency
                .parse()
                .map_err(|e| anyhow::anyhow!("--currency {currency}: {e}"))?;
            let program = match rules {
                Some(path) => Some(LoyaltyProgram {
                    earning_rules: crate::rules_cmd::load_rules(&path)?,
                    tiers: None,
                }),
                None => None,
            };
            let services = services(&db).await?;
            let (brand, token) = create_brand(
                &services,
                Brand {
                    id: BrandId::from_uuid(Uuid::now_v7()),
                    name,
                    currency,
                    calling_code: CallingCode(calling_code),
                    utc_offset,
                    refund_policy: refund_overdraw,
                    points_validity_days,
                    created_at: OffsetDateTime::now_utc(),
                },
                program,
            )
            .await?;
            println!("brand:     {brand}");
            println!("admin key: {token}");
            println!("(the key is shown once; keep it somewhere safe)");
            Ok(())
        }
    }
}

/// Creates a brand and its first admin key.
pub async fn create_brand(
    services: &Services,
    brand: Brand,
    program: Option<LoyaltyProgram>,
) -> Result<(BrandId, String)> {
    let id = services
        .create_brand(BrandSetup {
            brand,
            program,
            rewards: Vec::new(),
        })
        .await
        .context("cannot create the brand")?;
    let key = services
        .create_api_key(id, Role::Admin, Some("first admin key".to_owned()))
        .await
        .context("cannot create the brand's admin key")?;
    Ok((id, key.token))
}

/// Runs a key command.
pub async fn key(command: KeyCommand) -> Result<()> {
    match command {
        KeyCommand::Create {
            brand,
            role,
            label,
            db,
        } => {
            let Some(role) = Role::parse(&role) else {
                bail!("--role must be admin, pos or viewer, not {role:?}");
            };
            let created = services(&db)
                .await?
                .create_api_key(brand, role, label)
                .await
                .context("cannot create the key")?;
            println!("key id: {}", created.info.id);
            println!("key:    {}", created.token);
            println!("(the key is shown once; keep it somewhere safe)");
            Ok(())
        }
        KeyCommand::Revoke { brand, key, db } => {
            services(&db)
                .await?
                .revoke_api_key(brand, key)
                .await
                .context("cannot revoke the key")?;
            println!("revoked {key}");
            Ok(())
        }
    }
}
