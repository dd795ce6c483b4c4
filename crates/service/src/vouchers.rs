//! Vouchers at the till: is this code good, and redeem it exactly once.

use crate::Services;
use crate::error::{ErrorClass, UseCaseError, common_variants, store_class};
use crate::requests::{RequestKey, replay, settle};
use regulars_domain::{BrandId, DomainError, EventKey, LocationId};
use regulars_loyalty::rewards::Reward;
use regulars_loyalty::vouchers::{
    Voucher, VoucherCode, VoucherCodeError, VoucherError, VoucherStatus,
};
use regulars_ports::{RedeemOutcome, StoreError, Transaction};
use serde::Serialize;
use thiserror::Error;

/// What a voucher code gives and whether it can be used now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoucherCheck {
    /// The voucher as stored.
    pub voucher: Voucher,
    /// The reward it gives; `None` when the reward was removed from the catalogue.
    pub reward: Option<Reward>,
    /// True when it can be redeemed now.
    pub redeemable: bool,
    /// Why not, when it cannot: already redeemed, expired, voided, not yet valid.
    pub refusal: Option<VoucherError>,
}

/// Why a voucher could not be checked.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ValidateVoucherError {
    /// Not a voucher code (a mistyped symbol is caught by the check symbol).
    #[error("invalid voucher code: {0}")]
    InvalidCode(VoucherCodeError),
    /// No voucher with this code in the brand.
    #[error("no voucher with code {0}")]
    UnknownCode(VoucherCode),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(ValidateVoucherError, store);

impl UseCaseError for ValidateVoucherError {
    fn class(&self) -> ErrorClass {
        match self {
            ValidateVoucherError::UnknownCode(_) => ErrorClass::NotFound,
            ValidateVoucherError::InvalidCode(_) => ErrorClass::Invalid,
            ValidateVoucherError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ValidateVoucherError::InvalidCode(_) | ValidateVoucherError::UnknownCode(_) => {
                Some("code")
            }
            ValidateVoucherError::Store(_) => None,
        }
    }
}

/// Why a voucher was not redeemed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RedeemVoucherError {
    /// Not a voucher code.
    #[error("invalid voucher code: {0}")]
    InvalidCode(VoucherCodeError),
    /// The order key given is invalid.
    #[error("invalid order key: {0}")]
    InvalidOrder(DomainError),
    /// No voucher with this code in the brand.
    #[error("no voucher with code {0}")]
    UnknownCode(VoucherCode),
    /// The till named a location the brand does not have.
    #[error("the brand has no location {0}")]
    UnknownLocation(LocationId),
    /// The voucher cannot be redeemed: already redeemed, expired, voided, not yet valid.
    #[error("voucher {code} cannot be redeemed: {reason}")]
    Refused {
        /// The code.
        code: VoucherCode,
        /// Why, from the voucher's state.
        reason: VoucherError,
    },
    /// The `Idempotency-Key` was already used with another request.
    #[error("the Idempotency-Key was already used with another request")]
    RequestKeyReused,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(RedeemVoucherError, store);

impl UseCaseError for RedeemVoucherError {
    fn class(&self) -> ErrorClass {
        match self {
            RedeemVoucherError::UnknownCode(_) => ErrorClass::NotFound,
            RedeemVoucherError::InvalidCode(_)
            | RedeemVoucherError::InvalidOrder(_)
            | RedeemVoucherError::UnknownLocation(_) => ErrorClass::Invalid,
            RedeemVoucherError::Refused { .. } => ErrorClass::Refused,
            RedeemVoucherError::RequestKeyReused => ErrorClass::Invalid,
            RedeemVoucherError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            RedeemVoucherError::InvalidCode(_)
            | RedeemVoucherError::UnknownCode(_)
            | RedeemVoucherError::Refused { .. } => Some("code"),
            RedeemVoucherError::InvalidOrder(_) => Some("order"),
            RedeemVoucherError::UnknownLocation(_) => Some("location_id"),
            RedeemVoucherError::RequestKeyReused => Some("Idempotency-Key"),
            RedeemVoucherError::Store(_) => None,
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            RedeemVoucherError::RequestKeyReused => Some("key_reused"),
            _ => None,
        }
    }
}

impl From<crate::requests::OtherRequest> for RedeemVoucherError {
    fn from(_: crate::requests::OtherRequest) -> Self {
        RedeemVoucherError::RequestKeyReused
    }
}

impl Services {
    /// What the voucher with this code (as typed or scanned: case, spaces and hyphens do
    /// not matter) gives, and whether it can be redeemed now. Read-only. The brand is not
    /// loaded: a code is only ever looked up within it, so an unknown brand has no
    /// vouchers.
    pub async fn validate_voucher(
        &self,
        brand: BrandId,
        code: &str,
    ) -> Result<VoucherCheck, ValidateVoucherError> {
        let code = VoucherCode::parse(code).map_err(ValidateVoucherError::InvalidCode)?;
        let code = &code;
        self.transact("validate_voucher", |mut tx| async move {
            let result = self.validate_in(tx.as_mut(), brand, code).await;
            (tx, result)
        })
        .await
    }

    async fn validate_in(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        code: &VoucherCode,
    ) -> Result<VoucherCheck, ValidateVoucherError> {
        let voucher = tx
            .vouchers()
            .voucher_by_code(brand, code)
            .await?
            .ok_or_else(|| ValidateVoucherError::UnknownCode(code.clone()))?;
        let reward = tx.brands().reward(brand, voucher.reward()).await?;
        let refusal = voucher.validate(self.clock.now()).err();
        Ok(VoucherCheck {
            voucher,
            reward,
            redeemable: refusal.is_none(),
            refusal,
        })
    }

    /// Redeems the voucher with this code, for the order `order` if the till gives one.
    ///
    /// One conditional update in storage, so concurrent attempts redeem it exactly once.
    /// Asking again for a voucher already redeemed *for the same order* returns it as
    /// redeemed (a till retrying after a lost response); any other attempt on a voucher
    /// that is not redeemable is refused with the reason.
    pub async fn redeem_voucher(
        &self,
        brand: BrandId,
        code: &str,
        order: Option<EventKey>,
    ) -> Result<Voucher, RedeemVoucherError> {
        self.redeem_voucher_keyed(brand, code, order, None, None)
            .await
    }

    /// [`redeem_voucher`](Services::redeem_voucher) at the till of `location` (one of the
    /// brand's locations, else refused naming `location_id`), which the redemption is
    /// recorded at; without one, at the order's location when it has reached the server.
    /// Under an `Idempotency-Key`, a request made again with the same key gets the first
    /// answer back (see [`RequestKey`]).
    pub async fn redeem_voucher_keyed(
        &self,
        brand: BrandId,
        code: &str,
        order: Option<EventKey>,
        location: Option<LocationId>,
        request: Option<&RequestKey>,
    ) -> Result<Voucher, RedeemVoucherError> {
        let code = VoucherCode::parse(code).map_err(RedeemVoucherError::InvalidCode)?;
        if let Some(key) = &order {
            key.validate().map_err(RedeemVoucherError::InvalidOrder)?;
        }
        let (code, order) = (&code, &order);
        self.transact("redeem_voucher", |mut tx| async move {
            let result = async {
                if let Some(first) =
                    replay::<_, RedeemVoucherError>(tx.as_mut(), brand, request).await?
                {
                    return Ok(first);
                }
                let outcome = self
                    .redeem_voucher_in(tx.as_mut(), brand, code, order, location)
                    .await;
                settle(tx.as_mut(), brand, request, outcome).await
            }
            .await;
            (tx, result)
        })
        .await
    }

    async fn redeem_voucher_in(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        code: &VoucherCode,
        order: &Option<EventKey>,
        location: Option<LocationId>,
    ) -> Result<Voucher, RedeemVoucherError> {
        let at = match location {
            Some(id) => Some(
                tx.locations()
                    .location(brand, id)
                    .await?
                    .ok_or(RedeemVoucherError::UnknownLocation(id))?
                    .code,
            ),
            None => None,
        };
        let now = self.clock.now();
        match tx
            .vouchers()
            .redeem_voucher(brand, code, now, order.clone(), at)
            .await?
        {
            RedeemOutcome::Redeemed(voucher) => Ok(voucher),
            RedeemOutcome::NotFound => Err(RedeemVoucherError::UnknownCode(code.clone())),
            RedeemOutcome::Refused(voucher) => {
                if order.is_some()
                    && matches!(voucher.status(), VoucherStatus::Redeemed { order: o, .. } if o == order)
                {
                    return Ok(voucher);
                }
                let reason = voucher
                    .validate(now)
                    .err()
                    .unwrap_or_else(|| VoucherError::Invalid {
                        field: "status",
                        reason: "storage refused a voucher that looks redeemable".into(),
                    });
                Err(RedeemVoucherError::Refused {
                    code: code.clone(),
                    reason,
                })
            }
        }
    }
}
