//! Vouchers issued: bought with points from the catalogue, or given by a campaign or staff.

use crate::Services;
use crate::account::{Account, load_brand};
use crate::error::{CorruptLedger, ErrorClass, UseCaseError, common_variants, store_class};
use crate::requests::{RequestKey, replay, settle};
use regulars_domain::{BrandId, CustomerId, OrderId, Points, RewardId, VoucherId};
use regulars_loyalty::ledger::{LedgerError, LotsWanted};
use regulars_loyalty::rewards::{Reward, RewardError};
use regulars_loyalty::vouchers::{NewVoucher, Voucher, VoucherCode, VoucherError, VoucherSource};
use regulars_ports::{StoreError, Transaction};
use thiserror::Error;
use time::{Duration, OffsetDateTime};

/// Why a reward could not be bought with points.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RedeemRewardError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// No such customer in the brand.
    #[error("customer {0} does not exist")]
    UnknownCustomer(CustomerId),
    /// No such reward in the brand's catalogue.
    #[error("reward {0} does not exist")]
    UnknownReward(RewardId),
    /// The reward is not for sale now.
    #[error("reward {0} is not active")]
    InactiveReward(RewardId),
    /// The customer cannot afford it.
    #[error("insufficient points: {available} available, {requested} requested")]
    InsufficientPoints {
        /// Points the customer can spend now (due points expired first).
        available: Points,
        /// The reward's cost.
        requested: Points,
    },
    /// The catalogue entry is invalid (a configuration error).
    #[error("reward {reward} is misconfigured: {error}")]
    InvalidReward {
        /// The reward.
        reward: RewardId,
        /// What is wrong with it.
        error: RewardError,
    },
    /// The voucher could not be issued (a configuration error).
    #[error("voucher: {0}")]
    Voucher(VoucherError),
    /// The customer's stored ledger is invalid.
    #[error(transparent)]
    CorruptLedger(CorruptLedger),
    /// The ledger refused the debit for another reason (an overflow).
    #[error("ledger: {0}")]
    Ledger(LedgerError),
    /// The `Idempotency-Key` was already used with another request.
    #[error("the Idempotency-Key was already used with another request")]
    RequestKeyReused,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(RedeemRewardError, ledger);

impl UseCaseError for RedeemRewardError {
    fn class(&self) -> ErrorClass {
        match self {
            RedeemRewardError::UnknownBrand(_)
            | RedeemRewardError::UnknownCustomer(_)
            | RedeemRewardError::UnknownReward(_) => ErrorClass::NotFound,
            RedeemRewardError::InactiveReward(_) | RedeemRewardError::InsufficientPoints { .. } => {
                ErrorClass::Refused
            }
            RedeemRewardError::InvalidReward { .. }
            | RedeemRewardError::Voucher(_)
            | RedeemRewardError::CorruptLedger(_)
            | RedeemRewardError::Ledger(_) => ErrorClass::Internal,
            RedeemRewardError::RequestKeyReused => ErrorClass::Invalid,
            RedeemRewardError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            RedeemRewardError::UnknownBrand(_) => Some("brand"),
            RedeemRewardError::RequestKeyReused => Some("Idempotency-Key"),
            RedeemRewardError::UnknownCustomer(_) => Some("customer"),
            RedeemRewardError::UnknownReward(_)
            | RedeemRewardError::InactiveReward(_)
            | RedeemRewardError::InsufficientPoints { .. } => Some("reward"),
            _ => None,
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            RedeemRewardError::RequestKeyReused => Some("key_reused"),
            _ => None,
        }
    }
}

impl From<crate::requests::OtherRequest> for RedeemRewardError {
    fn from(_: crate::requests::OtherRequest) -> Self {
        RedeemRewardError::RequestKeyReused
    }
}

/// A voucher given without spending points: by a campaign or by staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoucherGrant {
    /// Who receives it.
    pub customer: CustomerId,
    /// What it gives.
    pub reward: RewardId,
    /// Who gives it: a campaign or a staff member ([`VoucherSource::Redemption`] is
    /// refused: vouchers bought with points go through `redeem_reward`).
    pub source: VoucherSource,
    /// How long it stays valid; the reward's `validity_days` when `None`.
    pub validity: Option<Duration>,
    /// The order whose full refund must void it (a "thank you" voucher), if any.
    pub issued_by: Option<OrderId>,
}

/// Why a voucher could not be issued.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum IssueVoucherError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// No such customer in the brand.
    #[error("customer {0} does not exist")]
    UnknownCustomer(CustomerId),
    /// No such reward in the brand's catalogue.
    #[error("reward {0} does not exist")]
    UnknownReward(RewardId),
    /// A redemption source: points are spent through `redeem_reward` only.
    #[error("a voucher bought with points is issued by redeeming the reward")]
    PointsSource,
    /// A validity of zero or less, or beyond the calendar.
    #[error("validity must be positive and end within the supported dates")]
    InvalidValidity,
    /// The catalogue entry is invalid (a configuration error).
    #[error("reward {reward} is misconfigured: {error}")]
    InvalidReward {
        /// The reward.
        reward: RewardId,
        /// What is wrong with it.
        error: RewardError,
    },
    /// The voucher refused its inputs (a blank staff name, for example).
    #[error("voucher: {0}")]
    Voucher(VoucherError),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(IssueVoucherError, brand);

impl UseCaseError for IssueVoucherError {
    fn class(&self) -> ErrorClass {
        match self {
            IssueVoucherError::UnknownBrand(_)
            | IssueVoucherError::UnknownCustomer(_)
            | IssueVoucherError::UnknownReward(_) => ErrorClass::NotFound,
            IssueVoucherError::PointsSource
            | IssueVoucherError::InvalidValidity
            | IssueVoucherError::Voucher(_) => ErrorClass::Invalid,
            IssueVoucherError::InvalidReward { .. } => ErrorClass::Internal,
            IssueVoucherError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            IssueVoucherError::UnknownBrand(_) => Some("brand"),
            IssueVoucherError::UnknownCustomer(_) => Some("customer"),
            IssueVoucherError::UnknownReward(_) => Some("reward"),
            IssueVoucherError::PointsSource => Some("source"),
            IssueVoucherError::InvalidValidity => Some("validity"),
            IssueVoucherError::Voucher(VoucherError::Invalid { field, .. }) => Some(field),
            _ => None,
        }
    }
}

impl Services {
    /// Buys a catalogue reward with the customer's points and issues its voucher, in one
    /// transaction: the points are debited (due lots expired first, never overdrawn) and
    /// the voucher inserted with a fresh unguessable code. Should the code collide with an
    /// existing one, the whole use case runs again with a new code.
    pub async fn redeem_reward(
        &self,
        brand: BrandId,
        customer: CustomerId,
        reward: RewardId,
    ) -> Result<Voucher, RedeemRewardError> {
        self.redeem_reward_keyed(brand, customer, reward, None)
            .await
    }

    /// [`redeem_reward`](Services::redeem_reward) under an `Idempotency-Key`: a request
    /// made again with the same key gets the first voucher back and spends nothing more
    /// (see [`RequestKey`]).
    pub async fn redeem_reward_keyed(
        &self,
        brand: BrandId,
        customer: CustomerId,
        reward: RewardId,
        request: Option<&RequestKey>,
    ) -> Result<Voucher, RedeemRewardError> {
        self.transact("redeem_reward", |mut tx| async move {
            let result = async {
                if let Some(first) =
                    replay::<_, RedeemRewardError>(tx.as_mut(), brand, request).await?
                {
                    return Ok(first);
                }
                let outcome = self
                    .redeem_reward_in(tx.as_mut(), brand, customer, reward)
                    .await;
                settle(tx.as_mut(), brand, request, outcome).await
            }
            .await;
            (tx, result)
        })
        .await
    }

    async fn redeem_reward_in(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        customer: CustomerId,
        reward_id: RewardId,
    ) -> Result<Voucher, RedeemRewardError> {
        load_brand::<RedeemRewardError>(tx, brand).await?;
        if tx.customers().customer(brand, customer).await?.is_none() {
            return Err(RedeemRewardError::UnknownCustomer(customer));
        }
        let reward = tx
            .brands()
            .reward(brand, reward_id)
            .await?
            .ok_or(RedeemRewardError::UnknownReward(reward_id))?;
        let invalid = |error| RedeemRewardError::InvalidReward {
            reward: reward_id,
            error,
        };
        reward.validate().map_err(invalid)?;
        if !reward.active {
            return Err(RedeemRewardError::InactiveReward(reward_id));
        }

        let mut account = Account::open::<RedeemRewardError>(tx, brand, customer).await?;
        // The debit joins the ledger at its monotone time, which a future-dated order can
        // push ahead of the clock; the voucher is valid from the purchase's real time, so
        // the customer can use it at once.
        let now = self.clock.now();
        let at = account.time_for(now);
        let voucher_id = VoucherId::from_uuid(self.ids.new_id());
        let reference = format!("voucher:{voucher_id}");
        let entries = account
            .command(tx, brand, &LotsWanted::debit(at, reward.cost), |l| {
                l.redeem(reward.cost, at, reference.clone())
            })
            .await?
            .map_err(|error| match error {
                LedgerError::InsufficientPoints {
                    available,
                    requested,
                } => RedeemRewardError::InsufficientPoints {
                    available,
                    requested,
                },
                other => RedeemRewardError::Ledger(other),
            })?;
        let voucher = Voucher::issue(NewVoucher {
            id: voucher_id,
            code: self.voucher_code(),
            customer,
            reward: reward_id,
            source: VoucherSource::Redemption {
                points: reward.cost,
                // The debit comes last, after any expiries the purchase swept.
                ledger_seq: entries.last().map(|entry| entry.seq),
            },
            issued_at: now,
            expires_at: reward.voucher_expires_at(now).map_err(invalid)?,
        })
        .map_err(RedeemRewardError::Voucher)?;
        tx.vouchers().insert_voucher(brand, &voucher, None).await?;
        account.append(tx, brand, &entries).await?;
        Ok(voucher)
    }

    /// Issues a voucher without spending points, for a campaign or a staff member. The
    /// reward need not be active: `active` says whether it can be *bought*, and campaigns
    /// may give rewards that are not for sale.
    pub async fn issue_voucher(
        &self,
        brand: BrandId,
        grant: VoucherGrant,
    ) -> Result<Voucher, IssueVoucherError> {
        if matches!(grant.source, VoucherSource::Redemption { .. }) {
            return Err(IssueVoucherError::PointsSource);
        }
        if grant.validity.is_some_and(|v| !v.is_positive()) {
            return Err(IssueVoucherError::InvalidValidity);
        }
        let grant = &grant;
        self.transact("issue_voucher", |mut tx| async move {
            let result = self.issue_voucher_in(tx.as_mut(), brand, grant).await;
            (tx, result)
        })
        .await
    }

    async fn issue_voucher_in(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        grant: &VoucherGrant,
    ) -> Result<Voucher, IssueVoucherError> {
        load_brand::<IssueVoucherError>(tx, brand).await?;
        if tx
            .customers()
            .customer(brand, grant.customer)
            .await?
            .is_none()
        {
            return Err(IssueVoucherError::UnknownCustomer(grant.customer));
        }
        let reward: Reward = tx
            .brands()
            .reward(brand, grant.reward)
            .await?
            .ok_or(IssueVoucherError::UnknownReward(grant.reward))?;
        let invalid = |error| IssueVoucherError::InvalidReward {
            reward: grant.reward,
            error,
        };
        reward.validate().map_err(invalid)?;
        let now = self.clock.now();
        let expires_at: OffsetDateTime = match grant.validity {
            Some(validity) => now
                .checked_add(validity)
                .ok_or(IssueVoucherError::InvalidValidity)?,
            None => reward.voucher_expires_at(now).map_err(invalid)?,
        };
        let voucher = Voucher::issue(NewVoucher {
            id: VoucherId::from_uuid(self.ids.new_id()),
            code: self.voucher_code(),
            customer: grant.customer,
            reward: grant.reward,
            source: grant.source.clone(),
            issued_at: now,
            expires_at,
        })
        .map_err(IssueVoucherError::Voucher)?;
        tx.vouchers()
            .insert_voucher(brand, &voucher, grant.issued_by)
            .await?;
        Ok(voucher)
    }

    /// A fresh voucher code from 8 secure random bytes.
    pub(crate) fn voucher_code(&self) -> VoucherCode {
        let mut bytes = [0_u8; 8];
        self.ids.fill_bytes(&mut bytes);
        VoucherCode::from_random_bytes(bytes)
    }
}
