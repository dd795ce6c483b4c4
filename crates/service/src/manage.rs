//! Managing a brand's data through the API: its settings, locations, programme, reward
//! catalogue and customers, and reading its history a page at a time.
//!
//! Listing use cases take a cursor (the last id of the previous page) and a page size;
//! a page shorter than asked for is the last one.

use crate::account::load_brand;
use crate::error::{CorruptLedger, common_variants, store_class};
use crate::scope::Scope;
use crate::{ErrorClass, Services, UseCaseError};
use regulars_domain::{BrandId, Customer, CustomerId, LocationId, OrderId, RewardId};
use regulars_loyalty::ledger::LedgerEntry;
use regulars_loyalty::rewards::Reward;
use regulars_loyalty::rules::EarningRules;
use regulars_loyalty::tiers::TierProgram;
use regulars_ports::{Brand, Location, LoyaltyProgram, StoreError, StoredOrder, Transaction};
use thiserror::Error;
use time::UtcOffset;

/// Most items one page may hold.
pub const MAX_PAGE: u64 = 500;

/// Why managing or reading a brand's data failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ManageError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// The thing named by `field` does not exist in the brand.
    #[error("{what} {id} does not exist")]
    NotFound {
        /// What was looked for (`"customer"`, `"location"`, …); also the field.
        what: &'static str,
        /// The id given.
        id: String,
    },
    /// An input is invalid.
    #[error("{field}: {message}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The input is valid but collides with what exists (a phone or code taken).
    #[error("{field}: {message}")]
    Taken {
        /// The offending field.
        field: &'static str,
        /// What it collides with.
        message: String,
    },
    /// The customer's stored ledger is invalid.
    #[error(transparent)]
    CorruptLedger(CorruptLedger),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(ManageError, ledger);

impl UseCaseError for ManageError {
    fn class(&self) -> ErrorClass {
        match self {
            ManageError::UnknownBrand(_) | ManageError::NotFound { .. } => ErrorClass::NotFound,
            ManageError::Invalid { .. } => ErrorClass::Invalid,
            ManageError::Taken { .. } => ErrorClass::Refused,
            ManageError::CorruptLedger(_) => ErrorClass::Internal,
            ManageError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ManageError::UnknownBrand(_) => Some("brand"),
            ManageError::NotFound { what, .. } => Some(what),
            ManageError::Invalid { field, .. } | ManageError::Taken { field, .. } => Some(field),
            ManageError::CorruptLedger(_) | ManageError::Store(_) => None,
        }
    }
}

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> ManageError {
    ManageError::Invalid {
        field,
        message: message.into(),
    }
}

pub(crate) fn not_found(what: &'static str, id: impl ToString) -> ManageError {
    ManageError::NotFound {
        what,
        id: id.to_string(),
    }
}

/// A location's editable fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationInput {
    /// The code POS orders carry: 1 to 64 of `a-z A-Z 0-9 - _ .`.
    pub code: String,
    /// Display name, 1 to 200 bytes.
    pub name: String,
    /// Its own UTC offset when it differs from the brand's.
    pub utc_offset: Option<UtcOffset>,
}

impl LocationInput {
    fn check(&self) -> Result<(), ManageError> {
        let code_ok = (1..=64).contains(&self.code.len())
            && self
                .code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !code_ok {
            return Err(invalid(
                "code",
                "must be 1 to 64 letters, digits, '-', '_' or '.'",
            ));
        }
        check_text("name", &self.name, 200)
    }
}

pub(crate) fn check_text(field: &'static str, text: &str, max: usize) -> Result<(), ManageError> {
    if text.trim().is_empty() {
        return Err(invalid(field, "must not be blank"));
    }
    if text.len() > max || text.chars().any(char::is_control) {
        return Err(invalid(
            field,
            format!("must be at most {max} bytes without control characters"),
        ));
    }
    Ok(())
}

pub(crate) fn page_size(limit: u64) -> Result<u64, ManageError> {
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(invalid("limit", format!("must be 1 to {MAX_PAGE}")))
    }
}

impl Services {
    /// Runs a read or write against one brand in one transaction.
    pub(crate) async fn manage<T, F>(
        &self,
        use_case: &'static str,
        work: F,
    ) -> Result<T, ManageError>
    where
        F: for<'t> AsyncFn(&'t mut dyn Transaction) -> Result<T, ManageError>,
    {
        let work = &work;
        self.transact(use_case, |mut tx| async move {
            let result = work(tx.as_mut()).await;
            (tx, result)
        })
        .await
    }

    /// The brand's settings.
    pub async fn brand(&self, brand: BrandId) -> Result<Brand, ManageError> {
        self.manage("brand", async |tx| load_brand(tx, brand).await)
            .await
    }

    /// The brand's locations, by code.
    pub async fn locations(&self, brand: BrandId) -> Result<Vec<Location>, ManageError> {
        self.manage("locations", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            Ok(tx.locations().locations(brand).await?)
        })
        .await
    }

    /// One location.
    pub async fn location(&self, brand: BrandId, id: LocationId) -> Result<Location, ManageError> {
        self.manage("location", async |tx| {
            tx.locations()
                .location(brand, id)
                .await?
                .ok_or_else(|| not_found("location", id))
        })
        .await
    }

    /// Adds a location; its code must be new in the brand.
    pub async fn create_location(
        &self,
        brand: BrandId,
        input: LocationInput,
    ) -> Result<Location, ManageError> {
        input.check()?;
        let input = &input;
        self.manage("create_location", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            code_free(tx, brand, &input.code, None).await?;
            let location = Location {
                id: LocationId::from_uuid(self.ids.new_id()),
                brand_id: brand,
                code: input.code.clone(),
                name: input.name.trim().to_owned(),
                utc_offset: input.utc_offset,
                created_at: self.clock.now(),
            };
            tx.locations().insert_location(&location).await?;
            Ok(location)
        })
        .await
    }

    /// Replaces a location's fields.
    pub async fn update_location(
        &self,
        brand: BrandId,
        id: LocationId,
        input: LocationInput,
    ) -> Result<Location, ManageError> {
        input.check()?;
        let input = &input;
        self.manage("update_location", async |tx| {
            let Some(mut location) = tx.locations().location(brand, id).await? else {
                return Err(not_found("location", id));
            };
            code_free(tx, brand, &input.code, Some(id)).await?;
            location.code = input.code.clone();
            location.name = input.name.trim().to_owned();
            location.utc_offset = input.utc_offset;
            tx.locations().update_location(&location).await?;
            Ok(location)
        })
        .await
    }

    /// The brand's programme, if it has one.
    pub async fn program(&self, brand: BrandId) -> Result<Option<LoyaltyProgram>, ManageError> {
        self.manage("program", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            Ok(tx.brands().program(brand).await?)
        })
        .await
    }

    /// Replaces the brand's earning rules, keeping its tiers. Orders already counted
    /// keep what they earned.
    pub async fn set_earning_rules(
        &self,
        brand: BrandId,
        rules: EarningRules,
    ) -> Result<LoyaltyProgram, ManageError> {
        rules
            .validate()
            .map_err(|e| invalid("earning_rules", e.to_string()))?;
        let rules = &rules;
        self.manage("set_earning_rules", async |tx| {
            let found = load_brand::<ManageError>(tx, brand).await?;
            if rules.currency != found.currency {
                return Err(invalid(
                    "currency",
                    format!("the brand uses {}, not {}", found.currency, rules.currency),
                ));
            }
            let tiers = tx.brands().program(brand).await?.and_then(|p| p.tiers);
            let program = LoyaltyProgram {
                earning_rules: rules.clone(),
                tiers,
            };
            tx.brands().save_program(brand, &program).await?;
            Ok(program)
        })
        .await
    }

    /// Replaces (or removes, with `None`) the brand's tier programme. The brand needs
    /// earning rules first.
    pub async fn set_tiers(
        &self,
        brand: BrandId,
        tiers: Option<TierProgram>,
    ) -> Result<LoyaltyProgram, ManageError> {
        let tiers = &tiers;
        self.manage("set_tiers", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            let Some(mut program) = tx.brands().program(brand).await? else {
                return Err(invalid("tiers", "set the brand's earning rules first"));
            };
            program.tiers = tiers.clone();
            tx.brands().save_program(brand, &program).await?;
            Ok(program)
        })
        .await
    }

    /// The reward catalogue.
    pub async fn rewards(&self, brand: BrandId) -> Result<Vec<Reward>, ManageError> {
        self.manage("rewards", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            Ok(tx.brands().rewards(brand).await?)
        })
        .await
    }

    /// One catalogue reward.
    pub async fn reward(&self, brand: BrandId, id: RewardId) -> Result<Reward, ManageError> {
        self.manage("reward", async |tx| {
            tx.brands()
                .reward(brand, id)
                .await?
                .ok_or_else(|| not_found("reward", id))
        })
        .await
    }

    /// Adds a reward (`existing: None`, a new id is drawn) or replaces one of the brand's.
    pub async fn save_reward(
        &self,
        brand: BrandId,
        existing: Option<RewardId>,
        reward: Reward,
    ) -> Result<Reward, ManageError> {
        reward
            .validate()
            .map_err(|e| invalid("reward", e.to_string()))?;
        let reward = &reward;
        self.manage("save_reward", async |tx| {
            let mut reward = reward.clone();
            let found = load_brand::<ManageError>(tx, brand).await?;
            if let Some(currency) = reward.currency()
                && currency != found.currency
            {
                return Err(invalid(
                    "currency",
                    format!("the brand uses {}, not {currency}", found.currency),
                ));
            }
            match existing {
                Some(id) => {
                    if tx.brands().reward(brand, id).await?.is_none() {
                        return Err(not_found("reward", id));
                    }
                    reward.id = id;
                }
                None => reward.id = RewardId::from_uuid(self.ids.new_id()),
            }
            tx.brands().save_reward(brand, &reward).await?;
            Ok(reward)
        })
        .await
    }

    /// A page of the brand's customers, by id.
    pub async fn customers(
        &self,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<Customer>, ManageError> {
        let limit = page_size(limit)?;
        self.manage("customers", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            Ok(tx.customers().customers(brand, after, limit).await?)
        })
        .await
    }

    /// The brand's customers among `ids` (at most a page), for a page that names them.
    pub async fn customers_by_ids(
        &self,
        brand: BrandId,
        ids: &[CustomerId],
    ) -> Result<Vec<Customer>, ManageError> {
        let ids = &ids[..ids.len().min(500)];
        self.manage("customers_by_ids", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            Ok(tx.customers().customers_by_ids(brand, ids).await?)
        })
        .await
    }

    /// A page of a customer's ledger, oldest first, after entry number `after`.
    pub async fn customer_ledger(
        &self,
        brand: BrandId,
        customer: CustomerId,
        after: Option<u64>,
        limit: u64,
    ) -> Result<Vec<LedgerEntry>, ManageError> {
        let limit = page_size(limit)?;
        self.manage("customer_ledger", async |tx| {
            if tx.customers().customer(brand, customer).await?.is_none() {
                return Err(not_found("customer", customer));
            }
            let Some(from) = after.map_or(Some(0), |seq| seq.checked_add(1)) else {
                // No entry comes after the last number there is.
                return Ok(Vec::new());
            };
            Ok(tx
                .ledger()
                .entries_page(brand, customer, from, limit)
                .await?)
        })
        .await
    }

    /// A page of the brand's orders (only the customer's when given), by id.
    pub async fn orders(
        &self,
        brand: BrandId,
        customer: Option<CustomerId>,
        after: Option<OrderId>,
        limit: u64,
    ) -> Result<Vec<StoredOrder>, ManageError> {
        let limit = page_size(limit)?;
        self.manage("orders", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            if let Some(customer) = customer
                && tx.customers().customer(brand, customer).await?.is_none()
            {
                return Err(not_found("customer", customer));
            }
            Ok(tx.orders().orders(brand, customer, after, limit).await?)
        })
        .await
    }

    /// A page of the orders a caller of `scope` sees: the brand's, or those placed at
    /// the scope's locations.
    pub async fn orders_in(
        &self,
        brand: BrandId,
        scope: &Scope,
        after: Option<OrderId>,
        limit: u64,
    ) -> Result<Vec<StoredOrder>, ManageError> {
        let Scope::Locations(ids) = scope else {
            return self.orders(brand, None, after, limit).await;
        };
        let limit = page_size(limit)?;
        self.manage("orders_in", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            let codes: Vec<String> = tx
                .locations()
                .locations(brand)
                .await?
                .into_iter()
                .filter(|l| ids.contains(&l.id))
                .map(|l| l.code)
                .collect();
            if codes.is_empty() {
                return Ok(Vec::new());
            }
            Ok(tx
                .orders()
                .orders_at(brand, &codes, None, after, limit)
                .await?)
        })
        .await
    }

    /// One order with what it earned and what was refunded.
    pub async fn order(&self, brand: BrandId, id: OrderId) -> Result<StoredOrder, ManageError> {
        self.manage("order", async |tx| {
            tx.orders()
                .order(brand, id)
                .await?
                .ok_or_else(|| not_found("order", id))
        })
        .await
    }
}

/// Refuses a location code another location of the brand has.
async fn code_free(
    tx: &mut dyn Transaction,
    brand: BrandId,
    code: &str,
    except: Option<LocationId>,
) -> Result<(), ManageError> {
    let taken = tx
        .locations()
        .locations(brand)
        .await?
        .iter()
        .any(|l| l.code == code && Some(l.id) != except);
    if taken {
        return Err(ManageError::Taken {
            field: "code",
            message: format!("location code {code:?} is in use"),
        });
    }
    Ok(())
}
