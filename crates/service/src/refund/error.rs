//! Why a refund was not applied, and how each reason reaches the caller (status class,
//! field, code).

use crate::error::{CorruptLedger, ErrorClass, UseCaseError, common_variants, store_class};
use regulars_domain::{BrandId, Currency, DomainError, EventKey, Money};
use regulars_loyalty::ledger::LedgerError;
use regulars_ports::StoreError;
use thiserror::Error;

/// Why a refund was not applied.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RefundError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// The refund names another brand than the one it was sent to.
    #[error("the refund belongs to brand {refund}, not to brand {brand}")]
    BrandMismatch {
        /// The brand it was sent to.
        brand: BrandId,
        /// The brand the refund names.
        refund: BrandId,
    },
    /// The refund's own key is invalid.
    #[error("invalid refund key: {0}")]
    InvalidKey(DomainError),
    /// The key of the refunded order is invalid.
    #[error("invalid order key: {0}")]
    InvalidOrderKey(DomainError),
    /// The refund is dated further in the future than clocks can disagree.
    #[error(
        "the refund is dated {refunded_at}, after now ({now}) by more than the allowed clock skew"
    )]
    RefundedInFuture {
        /// The refund's time.
        refunded_at: time::OffsetDateTime,
        /// Now, by the server's clock.
        now: time::OffsetDateTime,
    },
    /// No such order in the brand.
    #[error("order {}/{} does not exist", order.source, order.external_id)]
    UnknownOrder {
        /// The key given.
        order: EventKey,
    },
    /// The refunded amount is not in the order's currency.
    #[error("the refund is in {refund}, the order in {order}")]
    CurrencyMismatch {
        /// The order's currency.
        order: Currency,
        /// The refund's currency.
        refund: Currency,
    },
    /// A partial refund of zero or less.
    #[error("a refunded amount must be positive, got {amount}")]
    NonPositiveAmount {
        /// The amount given.
        amount: Money,
    },
    /// The refunds would exceed what the order paid.
    #[error("refunding {amount} on top of {refunded} exceeds the order total {total}")]
    ExceedsOrder {
        /// This refund's amount.
        amount: Money,
        /// Refunded before it.
        refunded: Money,
        /// The order's total.
        total: Money,
    },
    /// The order is already refunded in full.
    #[error("order {}/{} is already fully refunded", order.source, order.external_id)]
    AlreadyRefunded {
        /// The order.
        order: EventKey,
    },
    /// The refund's key was already used by another kind of event.
    #[error("key {}/{} was already used by a {kind} event", key.source, key.external_id)]
    KeyReused {
        /// The key.
        key: EventKey,
        /// The kind of event that used it.
        kind: String,
    },
    /// The refund's id was already used by a refund with other contents (another order
    /// or amount); the first refund's receipt is not given to this one.
    #[error(
        "refund id {} was already used by a refund with other contents",
        key.external_id
    )]
    OtherRefund {
        /// The refund's key.
        key: EventKey,
    },
    /// Stored amounts that cannot be combined (another currency, an overflow).
    #[error("amounts: {0}")]
    Money(DomainError),
    /// The customer's stored ledger is invalid.
    #[error(transparent)]
    CorruptLedger(CorruptLedger),
    /// The ledger refused the reversal; the stored order and ledger disagree.
    #[error("ledger: {0}")]
    Ledger(LedgerError),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(RefundError, ledger);

impl UseCaseError for RefundError {
    fn class(&self) -> ErrorClass {
        match self {
            RefundError::UnknownBrand(_) | RefundError::UnknownOrder { .. } => ErrorClass::NotFound,
            RefundError::BrandMismatch { .. }
            | RefundError::InvalidKey(_)
            | RefundError::InvalidOrderKey(_)
            | RefundError::RefundedInFuture { .. }
            | RefundError::CurrencyMismatch { .. }
            | RefundError::NonPositiveAmount { .. }
            | RefundError::ExceedsOrder { .. } => ErrorClass::Invalid,
            RefundError::AlreadyRefunded { .. }
            | RefundError::KeyReused { .. }
            | RefundError::OtherRefund { .. } => ErrorClass::Refused,
            RefundError::Money(_) | RefundError::CorruptLedger(_) | RefundError::Ledger(_) => {
                ErrorClass::Internal
            }
            RefundError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            RefundError::UnknownBrand(_) => Some("brand"),
            RefundError::BrandMismatch { .. } => Some("brand_id"),
            RefundError::InvalidKey(_) | RefundError::KeyReused { .. } => Some("key"),
            RefundError::OtherRefund { .. } => Some("refund_id"),
            RefundError::RefundedInFuture { .. } => Some("refunded_at"),
            RefundError::InvalidOrderKey(_)
            | RefundError::UnknownOrder { .. }
            | RefundError::AlreadyRefunded { .. } => Some("order"),
            RefundError::CurrencyMismatch { .. }
            | RefundError::NonPositiveAmount { .. }
            | RefundError::ExceedsOrder { .. } => Some("scope.amount"),
            _ => None,
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            RefundError::KeyReused { .. } | RefundError::OtherRefund { .. } => Some("key_reused"),
            _ => None,
        }
    }
}
