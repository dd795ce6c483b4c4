//! Operations on points accounts that do not come from a POS: manual adjustments, the
//! expiry sweep and the ledger check.

use crate::Services;
use crate::account::{Account, load_brand, points_expiry};
use crate::error::{
    CorruptLedger, ErrorClass, UnknownBrand, UseCaseError, common_variants, store_class,
};
use crate::requests::{RequestKey, replay, settle};
use regulars_domain::{BrandId, CustomerId, Points};
use regulars_loyalty::ledger::{LedgerError, LedgerState, LotsWanted, Overdraft, Tally, fold};
use regulars_ports::{StoreError, Transaction};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;
use time::OffsetDateTime;

/// Accounts read per transaction by the sweep and the check.
const PAGE: u64 = 200;

/// What a manual adjustment did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentReceipt {
    /// The customer.
    pub customer_id: CustomerId,
    /// The change applied.
    pub delta: Points,
    /// Points expired first because they were due (a debit never spends expired points).
    pub expired: Points,
    /// The balance afterwards.
    pub balance: Points,
}

/// Why a manual adjustment was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AdjustError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// No such customer in the brand.
    #[error("customer {0} does not exist")]
    UnknownCustomer(CustomerId),
    /// An adjustment of zero points.
    #[error("an adjustment must change the balance")]
    ZeroDelta,
    /// The reason or the actor is blank; both are required for the audit trail.
    #[error("{field} must not be empty")]
    Blank {
        /// `"reason"` or `"actor"`.
        field: &'static str,
    },
    /// A debit larger than the points the customer has.
    #[error("insufficient points: {available} available, {requested} requested")]
    InsufficientPoints {
        /// What could be taken.
        available: Points,
        /// What was asked for.
        requested: Points,
    },
    /// The customer's stored ledger is invalid.
    #[error(transparent)]
    CorruptLedger(CorruptLedger),
    /// The ledger refused the adjustment for another reason (an overflow).
    #[error("ledger: {0}")]
    Ledger(LedgerError),
    /// The `Idempotency-Key` was already used with another request.
    #[error("the Idempotency-Key was already used with another request")]
    RequestKeyReused,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(AdjustError, ledger);

impl UseCaseError for AdjustError {
    fn class(&self) -> ErrorClass {
        match self {
            AdjustError::UnknownBrand(_) | AdjustError::UnknownCustomer(_) => ErrorClass::NotFound,
            AdjustError::ZeroDelta | AdjustError::Blank { .. } => ErrorClass::Invalid,
            AdjustError::InsufficientPoints { .. } => ErrorClass::Refused,
            AdjustError::CorruptLedger(_) | AdjustError::Ledger(_) => ErrorClass::Internal,
            AdjustError::RequestKeyReused => ErrorClass::Invalid,
            AdjustError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            AdjustError::UnknownBrand(_) => Some("brand"),
            AdjustError::RequestKeyReused => Some("Idempotency-Key"),
            AdjustError::UnknownCustomer(_) => Some("customer"),
            AdjustError::ZeroDelta | AdjustError::InsufficientPoints { .. } => Some("delta"),
            AdjustError::Blank { field } => Some(field),
            _ => None,
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            AdjustError::RequestKeyReused => Some("key_reused"),
            _ => None,
        }
    }
}

impl From<crate::requests::OtherRequest> for AdjustError {
    fn from(_: crate::requests::OtherRequest) -> Self {
        AdjustError::RequestKeyReused
    }
}

/// What an expiry sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryReport {
    /// Accounts with points that were looked at.
    pub accounts_checked: u64,
    /// Accounts that had lots due and were swept.
    pub accounts_expired: u64,
    /// Points removed in all.
    pub points_expired: Points,
    /// Accounts skipped because their stored ledger is invalid (see `check_ledger`).
    pub corrupt: Vec<CustomerId>,
}

/// Why an expiry sweep stopped.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ExpireError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// No such customer in the brand.
    #[error("customer {0} does not exist")]
    UnknownCustomer(CustomerId),
    /// The customer's stored ledger is invalid.
    #[error(transparent)]
    CorruptLedger(CorruptLedger),
    /// The ledger refused the sweep (an overflow).
    #[error("ledger: {0}")]
    Ledger(LedgerError),
    /// Storage failed. Accounts swept before the failure stay swept; running the sweep
    /// again is safe.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(ExpireError, ledger);

impl UseCaseError for ExpireError {
    fn class(&self) -> ErrorClass {
        match self {
            ExpireError::UnknownBrand(_) | ExpireError::UnknownCustomer(_) => ErrorClass::NotFound,
            ExpireError::CorruptLedger(_) | ExpireError::Ledger(_) => ErrorClass::Internal,
            ExpireError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ExpireError::UnknownBrand(_) => Some("brand"),
            ExpireError::UnknownCustomer(_) => Some("customer"),
            _ => None,
        }
    }
}

/// What the ledger check found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerReport {
    /// Brands visited.
    pub brands_checked: u64,
    /// Accounts whose entries were folded.
    pub accounts_checked: u64,
    /// Accounts whose cached balance differs from their entries.
    pub mismatches: Vec<BalanceMismatch>,
    /// Accounts whose entries break a ledger rule.
    pub invalid: Vec<InvalidLedger>,
    /// Accounts whose stored account state or tallies differ from the fold of their
    /// entries.
    #[serde(default)]
    pub state_mismatches: Vec<StateMismatch>,
}

impl LedgerReport {
    /// True when every account checked out.
    pub fn is_clean(&self) -> bool {
        self.mismatches.is_empty() && self.invalid.is_empty() && self.state_mismatches.is_empty()
    }
}

/// An account whose stored account state is not the fold of its entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateMismatch {
    /// The brand.
    pub brand: BrandId,
    /// The customer.
    pub customer: CustomerId,
    /// What differs: `state` (balance, debt, lots, position or daily earnings) or
    /// `tallies` (what an order earned and reversed, what a redemption spent).
    pub differs: String,
}

/// An account whose cached balance is not the sum of its entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceMismatch {
    /// The brand.
    pub brand: BrandId,
    /// The customer.
    pub customer: CustomerId,
    /// The balance storage cached.
    pub cached: Points,
    /// The balance the entries fold to.
    pub recomputed: Points,
}

/// An account whose stored entries do not fold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidLedger {
    /// The brand.
    pub brand: BrandId,
    /// The customer.
    pub customer: CustomerId,
    /// The cached balance.
    pub cached: Points,
    /// The first broken rule, with the entry's seq.
    pub error: String,
}

/// Why the ledger check could not run.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CheckLedgerError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(CheckLedgerError, brand);

impl UseCaseError for CheckLedgerError {
    fn class(&self) -> ErrorClass {
        match self {
            CheckLedgerError::UnknownBrand(_) => ErrorClass::NotFound,
            CheckLedgerError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            CheckLedgerError::UnknownBrand(_) => Some("brand"),
            CheckLedgerError::Store(_) => None,
        }
    }
}

impl Services {
    /// A manual adjustment of a customer's points by `actor` for `reason`, both recorded
    /// on the ledger entry (the audit trail). A credit opens a lot valid for the brand's
    /// `points_validity_days`; a debit expires due lots first and never overdraws.
    pub async fn adjust_points(
        &self,
        brand: BrandId,
        customer: CustomerId,
        delta: Points,
        reason: &str,
        actor: &str,
    ) -> Result<AdjustmentReceipt, AdjustError> {
        self.adjust_points_keyed(brand, customer, delta, reason, actor, None)
            .await
    }

    /// [`adjust_points`](Services::adjust_points) under an `Idempotency-Key`: a request
    /// made again with the same key gets the first receipt back and changes nothing more
    /// (see [`RequestKey`]).
    pub async fn adjust_points_keyed(
        &self,
        brand: BrandId,
        customer: CustomerId,
        delta: Points,
        reason: &str,
        actor: &str,
        request: Option<&RequestKey>,
    ) -> Result<AdjustmentReceipt, AdjustError> {
        if delta == Points::ZERO {
            return Err(AdjustError::ZeroDelta);
        }
        for (field, text) in [("reason", reason), ("actor", actor)] {
            if text.trim().is_empty() {
                return Err(AdjustError::Blank { field });
            }
        }
        let receipt = self
            .transact("adjust_points", |mut tx| async move {
                let result = async {
                    if let Some(first) =
                        replay::<_, AdjustError>(tx.as_mut(), brand, request).await?
                    {
                        return Ok(first);
                    }
                    let outcome = self
                        .adjust_in(tx.as_mut(), brand, customer, delta, reason, actor)
                        .await;
                    settle(tx.as_mut(), brand, request, outcome).await
                }
                .await;
                (tx, result)
            })
            .await?;
        tracing::info!(%brand, %customer, delta = delta.value(), reason, actor, "points adjusted");
        Ok(receipt)
    }

    async fn adjust_in(
        &self,
        tx: &mut dyn Transaction,
        brand_id: BrandId,
        customer: CustomerId,
        delta: Points,
        reason: &str,
        actor: &str,
    ) -> Result<AdjustmentReceipt, AdjustError> {
        let brand = load_brand::<AdjustError>(tx, brand_id).await?;
        if tx.customers().customer(brand_id, customer).await?.is_none() {
            return Err(AdjustError::UnknownCustomer(customer));
        }
        let mut account = Account::open::<AdjustError>(tx, brand_id, customer).await?;
        let at = account.time_for(self.clock.now());
        let expires_at = if delta.is_positive() {
            points_expiry(&brand, at)
        } else {
            None
        };
        let wanted = LotsWanted::adjust(at, delta);
        let entries = account
            .command(tx, brand_id, &wanted, |l| {
                l.adjust(delta, at, reason, actor, expires_at, Overdraft::Refuse)
            })
            .await?
            .map_err(|error| match error {
                LedgerError::InsufficientPoints {
                    available,
                    requested,
                } => AdjustError::InsufficientPoints {
                    available,
                    requested,
                },
                LedgerError::ZeroAdjustment => AdjustError::ZeroDelta,
                LedgerError::EmptyField { field } => AdjustError::Blank { field },
                other => AdjustError::Ledger(other),
            })?;
        let expired = expired_in(&entries);
        account.append(tx, brand_id, &entries).await?;
        Ok(AdjustmentReceipt {
            customer_id: customer,
            delta,
            expired,
            balance: account.balance(),
        })
    }

    /// Expires every lot due at `now` in the brand's accounts.
    ///
    /// Each account is swept in its own transaction (a brand-wide transaction would hold
    /// every account lock at once), so a failure leaves the accounts already swept swept;
    /// the sweep is idempotent and may simply run again. Accounts whose stored ledger is
    /// invalid are skipped and listed.
    pub async fn expire_points(
        &self,
        brand: BrandId,
        now: OffsetDateTime,
    ) -> Result<ExpiryReport, ExpireError> {
        let mut report = ExpiryReport::default();
        let mut after = None;
        loop {
            let page = self
                .transact("expire_points", |mut tx| async move {
                    let result = balances_page::<ExpireError>(tx.as_mut(), brand, after).await;
                    (tx, result)
                })
                .await?;
            let Some(&(last, _)) = page.last() else {
                break;
            };
            after = Some(last);
            // An account at zero or below has no open lot: nothing can be due.
            for (customer, _) in page.into_iter().filter(|(_, b)| b.is_positive()) {
                report.accounts_checked += 1;
                match self.expire_customer_points(brand, customer, now).await {
                    Ok(expired) if expired.is_positive() => {
                        report.accounts_expired += 1;
                        report.points_expired = report
                            .points_expired
                            .checked_add(expired)
                            .unwrap_or(Points::new(i64::MAX));
                    }
                    Ok(_) => {}
                    Err(ExpireError::CorruptLedger(error)) => {
                        tracing::error!(%brand, %error, "account skipped by the expiry sweep");
                        report.corrupt.push(customer);
                    }
                    Err(error) => return Err(error),
                }
            }
        }
        Ok(report)
    }

    /// Expires the lots of one customer due at `now`; returns the points removed.
    pub async fn expire_customer_points(
        &self,
        brand: BrandId,
        customer: CustomerId,
        now: OffsetDateTime,
    ) -> Result<Points, ExpireError> {
        self.transact("expire_customer_points", |mut tx| async move {
            let result = expire_in(tx.as_mut(), brand, customer, now).await;
            (tx, result)
        })
        .await
    }

    /// Recomputes every cached balance from its ledger entries, for one brand or all, and
    /// reports accounts that differ or whose entries break a ledger rule. Read-only.
    pub async fn check_ledger(
        &self,
        brand: Option<BrandId>,
    ) -> Result<LedgerReport, CheckLedgerError> {
        let brands = match brand {
            Some(brand) => vec![brand],
            None => {
                self.transact("check_ledger", |mut tx| async move {
                    let result = tx
                        .brands()
                        .brand_ids()
                        .await
                        .map_err(CheckLedgerError::from);
                    (tx, result)
                })
                .await?
            }
        };
        let mut report = LedgerReport::default();
        for brand in brands {
            report.brands_checked += 1;
            let mut after = None;
            loop {
                let checked = self
                    .transact("check_ledger", |mut tx| async move {
                        let result = check_page(tx.as_mut(), brand, after).await;
                        (tx, result)
                    })
                    .await?;
                let Some(page) = checked else { break };
                report.accounts_checked += page.checked;
                report.mismatches.extend(page.mismatches);
                report.invalid.extend(page.invalid);
                report.state_mismatches.extend(page.state_mismatches);
                after = Some(page.last);
            }
        }
        Ok(report)
    }
}

/// One page of a brand's accounts with their cached balances; the brand must exist.
async fn balances_page<E>(
    tx: &mut dyn Transaction,
    brand: BrandId,
    after: Option<CustomerId>,
) -> Result<Vec<(CustomerId, Points)>, E>
where
    E: From<StoreError> + From<UnknownBrand>,
{
    if after.is_none() {
        load_brand::<E>(tx, brand).await?;
    }
    Ok(tx.ledger().balances(brand, after, PAGE).await?)
}

async fn expire_in(
    tx: &mut dyn Transaction,
    brand: BrandId,
    customer: CustomerId,
    now: OffsetDateTime,
) -> Result<Points, ExpireError> {
    if tx.customers().customer(brand, customer).await?.is_none() {
        return Err(ExpireError::UnknownCustomer(customer));
    }
    let mut account = Account::open::<ExpireError>(tx, brand, customer).await?;
    let at = account.time_for(now);
    let entries = account
        .command(tx, brand, &LotsWanted::sweep(at), |l| l.expire_due(at))
        .await?
        .map_err(ExpireError::Ledger)?;
    account.append(tx, brand, &entries).await?;
    Ok(expired_in(&entries))
}

/// Points removed by the expiry entries among `entries`.
fn expired_in(entries: &[regulars_loyalty::ledger::LedgerEntry]) -> Points {
    let removed = entries
        .iter()
        .filter(|e| matches!(e.kind, regulars_loyalty::ledger::EntryKind::Expire { .. }))
        .map(|e| Points::new(-e.amount.value()));
    Points::checked_sum(removed).unwrap_or(Points::new(i64::MAX))
}

/// What one page of the check found.
struct CheckedPage {
    last: CustomerId,
    checked: u64,
    mismatches: Vec<BalanceMismatch>,
    invalid: Vec<InvalidLedger>,
    state_mismatches: Vec<StateMismatch>,
}

async fn check_page(
    tx: &mut dyn Transaction,
    brand: BrandId,
    after: Option<CustomerId>,
) -> Result<Option<CheckedPage>, CheckLedgerError> {
    let accounts = balances_page::<CheckLedgerError>(tx, brand, after).await?;
    let Some(&(last, _)) = accounts.last() else {
        return Ok(None);
    };
    let mut page = CheckedPage {
        last,
        checked: 0,
        mismatches: Vec::new(),
        invalid: Vec::new(),
        state_mismatches: Vec::new(),
    };
    for (customer, cached) in accounts {
        page.checked += 1;
        let entries = tx.ledger().entries(brand, customer).await?;
        let folded = fold(&entries);
        if let Ok(state) = &folded
            && let Some(differs) = stored_differs(tx, brand, customer, state).await?
        {
            page.state_mismatches.push(StateMismatch {
                brand,
                customer,
                differs: differs.into(),
            });
        }
        match folded {
            Ok(state) if state.balance() == cached => {}
            Ok(state) => page.mismatches.push(BalanceMismatch {
                brand,
                customer,
                cached,
                recomputed: state.balance(),
            }),
            Err(error) => page.invalid.push(InvalidLedger {
                brand,
                customer,
                cached,
                error: error.to_string(),
            }),
        }
    }
    Ok(Some(page))
}

/// What of the stored account state differs from the fold of the entries, if any.
async fn stored_differs(
    tx: &mut dyn Transaction,
    brand: BrandId,
    customer: CustomerId,
    folded: &LedgerState,
) -> Result<Option<&'static str>, StoreError> {
    let Some((state, tallies)) = tx.ledger().stored_account(brand, customer).await? else {
        return Ok(None);
    };
    if &state != folded.account() {
        return Ok(Some("state"));
    }
    let key_of = |t: Tally| (t.key(), t);
    let stored: BTreeMap<String, Tally> = tallies.into_iter().map(key_of).collect();
    let expected: BTreeMap<String, Tally> = folded.tallies().into_iter().map(key_of).collect();
    Ok((stored != expected).then_some("tallies"))
}
