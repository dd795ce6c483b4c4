//! Who is this customer: what the till and the customer's QR page show.

use crate::Services;
use crate::account::{load_brand, load_ledger};
use crate::error::{CorruptLedger, ErrorClass, UseCaseError, common_variants, store_class};
use crate::ingest::fresh_stats;
use crate::tiering::{held_tier, qualifying};
use regulars_domain::{BrandId, Customer, CustomerId, DomainError, Phone, Points};
use regulars_loyalty::ledger::LedgerEntry;
use regulars_loyalty::rewards::Reward;
use regulars_loyalty::tiers::{QualificationMetric, TierProgram, TierProgress};
use regulars_loyalty::vouchers::Voucher;
use regulars_ports::{Brand, CustomerStats, StoreError, TierState, Transaction};
use serde::Serialize;
use thiserror::Error;
use time::OffsetDateTime;

/// A customer as the till and their own page see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerView {
    /// The profile.
    pub customer: Customer,
    /// Points spendable now: lots already due to expire are not counted, swept or not.
    pub balance: Points,
    /// Visits, spend and tier.
    pub stats: CustomerStats,
    /// The tier held, if any.
    pub tier: Option<TierState>,
    /// How far the next tier is, when the brand runs tiers and the qualifying value is
    /// known exactly (see [tier qualification](crate#tier-qualification)).
    pub tier_progress: Option<TierProgress>,
    /// Vouchers usable now, newest first.
    pub vouchers: Vec<Voucher>,
    /// Active catalogue rewards the balance can buy now, cheapest first.
    pub redeemable_rewards: Vec<Reward>,
    /// Progress on each of the brand's stamp cards.
    pub stamps: Vec<crate::StampProgress>,
}

/// Why a customer could not be shown.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LookupError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// The phone number is not one (read with the brand's calling code).
    #[error("invalid phone: {0}")]
    InvalidPhone(DomainError),
    /// No customer with this phone number in the brand.
    #[error("no customer with phone {0}")]
    UnknownPhone(String),
    /// No customer with this id in the brand.
    #[error("customer {0} does not exist")]
    UnknownCustomer(CustomerId),
    /// The customer's stored ledger is invalid.
    #[error(transparent)]
    CorruptLedger(CorruptLedger),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(LookupError, ledger);

impl UseCaseError for LookupError {
    fn class(&self) -> ErrorClass {
        match self {
            LookupError::UnknownBrand(_)
            | LookupError::UnknownPhone(_)
            | LookupError::UnknownCustomer(_) => ErrorClass::NotFound,
            LookupError::InvalidPhone(_) => ErrorClass::Invalid,
            LookupError::CorruptLedger(_) => ErrorClass::Internal,
            LookupError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            LookupError::UnknownBrand(_) => Some("brand"),
            LookupError::InvalidPhone(_) | LookupError::UnknownPhone(_) => Some("phone"),
            LookupError::UnknownCustomer(_) => Some("customer"),
            LookupError::CorruptLedger(_) | LookupError::Store(_) => None,
        }
    }
}

impl Services {
    /// Looks a customer up by the phone number given at the till, in any common form
    /// (national numbers are read with the brand's calling code). Read-only.
    pub async fn customer_lookup(
        &self,
        brand: BrandId,
        phone: &str,
    ) -> Result<CustomerView, LookupError> {
        self.transact("customer_lookup", |mut tx| async move {
            let result = self.lookup_by_phone(tx.as_mut(), brand, phone).await;
            (tx, result)
        })
        .await
    }

    /// The same view of a customer known by id (the customer's own page). Read-only.
    pub async fn customer_view(
        &self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<CustomerView, LookupError> {
        self.transact("customer_view", |mut tx| async move {
            let result = self.lookup_by_id(tx.as_mut(), brand, customer).await;
            (tx, result)
        })
        .await
    }

    async fn lookup_by_phone(
        &self,
        tx: &mut dyn Transaction,
        brand_id: BrandId,
        input: &str,
    ) -> Result<CustomerView, LookupError> {
        let brand = load_brand::<LookupError>(tx, brand_id).await?;
        let phone = Phone::parse(input, brand.calling_code).map_err(LookupError::InvalidPhone)?;
        let customer = tx
            .customers()
            .customer_by_phone(brand_id, &phone)
            .await?
            .ok_or_else(|| LookupError::UnknownPhone(phone.masked()))?;
        self.view(tx, &brand, customer).await
    }

    async fn lookup_by_id(
        &self,
        tx: &mut dyn Transaction,
        brand_id: BrandId,
        id: CustomerId,
    ) -> Result<CustomerView, LookupError> {
        let brand = load_brand::<LookupError>(tx, brand_id).await?;
        let customer = tx
            .customers()
            .customer(brand_id, id)
            .await?
            .ok_or(LookupError::UnknownCustomer(id))?;
        self.view(tx, &brand, customer).await
    }

    async fn view(
        &self,
        tx: &mut dyn Transaction,
        brand: &Brand,
        customer: Customer,
    ) -> Result<CustomerView, LookupError> {
        let now = self.clock.now();
        // The stored state answers; an account without one is folded from its entries.
        let (balance, folded) = match tx
            .ledger()
            .available_points(brand.id, customer.id, now)
            .await?
        {
            Some(available) => (available, None),
            None => {
                let ledger = load_ledger::<LookupError>(tx, brand.id, customer.id).await?;
                (ledger.state().available_at(now), Some(ledger))
            }
        };
        let stats = tx
            .customers()
            .stats(brand.id, customer.id)
            .await?
            .unwrap_or_else(|| fresh_stats(customer.id, brand.currency));

        let program = tx.brands().program(brand.id).await?;
        let tier_progress = match program.as_ref().and_then(|p| p.tiers.as_ref()) {
            Some(tiers) => {
                let window;
                let entries = match &folded {
                    Some(ledger) => ledger.entries(),
                    None => {
                        window = window_entries(tx, brand.id, customer.id, tiers, now).await?;
                        &window
                    }
                };
                progress(tiers, entries, &stats, now)
            }
            None => None,
        };

        let vouchers = tx
            .vouchers()
            .vouchers_of(brand.id, customer.id)
            .await?
            .into_iter()
            .filter(|v| v.validate(now).is_ok())
            .collect();
        let mut redeemable_rewards: Vec<Reward> = tx
            .brands()
            .rewards(brand.id)
            .await?
            .into_iter()
            .filter(|r| r.check_purchase(balance).is_ok())
            .collect();
        redeemable_rewards.sort_by_key(|r| r.cost);
        let stamps = self.stamp_progress_in(tx, brand.id, customer.id).await?;

        Ok(CustomerView {
            tier: stats.tier.clone(),
            customer,
            balance,
            stats,
            tier_progress,
            vouchers,
            redeemable_rewards,
            stamps,
        })
    }
}

/// The entries a tier programme's qualifying window needs: those of the window for a
/// points metric (or every entry, should the window start before the calendar), none for
/// a spend metric, which reads the customer's stats.
async fn window_entries(
    tx: &mut dyn Transaction,
    brand: BrandId,
    customer: CustomerId,
    tiers: &TierProgram,
    now: OffsetDateTime,
) -> Result<Vec<LedgerEntry>, StoreError> {
    match (tiers.metric(), tiers.window_start(now)) {
        (QualificationMetric::Spend { .. }, _) => Ok(Vec::new()),
        (QualificationMetric::Points, Some(start)) => {
            tx.ledger().entries_since(brand, customer, start).await
        }
        (QualificationMetric::Points, None) => tx.ledger().entries(brand, customer).await,
    }
}

/// How far the next tier is, when the qualifying value is known exactly.
fn progress(
    tiers: &TierProgram,
    entries: &[LedgerEntry],
    stats: &CustomerStats,
    now: OffsetDateTime,
) -> Option<TierProgress> {
    let q = qualifying(tiers, entries, stats, now, None).ok()??;
    if !q.exact {
        return None;
    }
    tiers
        .progress(held_tier(tiers, stats).as_ref(), q.value)
        .ok()
}
