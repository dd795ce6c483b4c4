//! Setting a brand up: the brand, its loyalty programme and its reward catalogue.

use crate::error::store_class;
use crate::{ErrorClass, Services, UseCaseError};
use regulars_domain::BrandId;
use regulars_loyalty::rewards::{Reward, RewardError};
use regulars_ports::{Brand, LoyaltyProgram, StoreError, Transaction};
use thiserror::Error;

/// Everything a new brand starts with.
#[derive(Debug, Clone, PartialEq)]
pub struct BrandSetup {
    /// The brand and its settings.
    pub brand: Brand,
    /// How it earns points and runs tiers; `None` stores orders without crediting points.
    pub program: Option<LoyaltyProgram>,
    /// Its reward catalogue.
    pub rewards: Vec<Reward>,
}

/// Why a brand could not be set up.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SetupError {
    /// The brand's name is blank.
    #[error("name must not be blank")]
    BlankName,
    /// The programme's rules are in another currency than the brand.
    #[error("the earning rules are in {rules} but the brand uses {brand}")]
    CurrencyMismatch {
        /// The rules' currency.
        rules: String,
        /// The brand's currency.
        brand: String,
    },
    /// A reward is not valid.
    #[error("rewards[{index}]: {error}")]
    InvalidReward {
        /// Its position in the catalogue.
        index: usize,
        /// What is wrong.
        error: RewardError,
    },
    /// A brand with that id exists already.
    #[error("brand {0} exists already")]
    Exists(BrandId),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for SetupError {
    fn from(error: StoreError) -> Self {
        SetupError::Store(error)
    }
}

impl UseCaseError for SetupError {
    fn class(&self) -> ErrorClass {
        match self {
            SetupError::BlankName
            | SetupError::CurrencyMismatch { .. }
            | SetupError::InvalidReward { .. } => ErrorClass::Invalid,
            SetupError::Exists(_) => ErrorClass::Refused,
            SetupError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            SetupError::BlankName => Some("name"),
            SetupError::CurrencyMismatch { .. } => Some("program.earning_rules.currency"),
            SetupError::InvalidReward { .. } => Some("rewards"),
            SetupError::Exists(_) => Some("id"),
            SetupError::Store(_) => None,
        }
    }
}

impl Services {
    /// Creates a brand with its programme and catalogue, in one transaction.
    pub async fn create_brand(&self, setup: BrandSetup) -> Result<BrandId, SetupError> {
        if setup.brand.name.trim().is_empty() {
            return Err(SetupError::BlankName);
        }
        if let Some(program) = &setup.program
            && program.earning_rules.currency != setup.brand.currency
        {
            return Err(SetupError::CurrencyMismatch {
                rules: program.earning_rules.currency.to_string(),
                brand: setup.brand.currency.to_string(),
            });
        }
        for (index, reward) in setup.rewards.iter().enumerate() {
            reward
                .validate()
                .map_err(|error| SetupError::InvalidReward { index, error })?;
        }
        let setup = &setup;
        self.transact("create_brand", |mut tx| async move {
            let result = create_in(tx.as_mut(), setup).await;
            (tx, result)
        })
        .await
    }
}

async fn create_in(tx: &mut dyn Transaction, setup: &BrandSetup) -> Result<BrandId, SetupError> {
    let id = setup.brand.id;
    if tx.brands().brand(id).await?.is_some() {
        return Err(SetupError::Exists(id));
    }
    tx.brands().insert_brand(&setup.brand).await?;
    if let Some(program) = &setup.program {
        tx.brands().save_program(id, program).await?;
    }
    for reward in &setup.rewards {
        tx.brands().save_reward(id, reward).await?;
    }
    Ok(id)
}
