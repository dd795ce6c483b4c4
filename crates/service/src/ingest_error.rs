//! Why an order was not ingested, and how each reason answers.

use crate::error::{CorruptLedger, ErrorClass, UseCaseError, common_variants, store_class};
use regulars_domain::{BrandId, Currency, DomainError, EventKey};
use regulars_loyalty::ledger::LedgerError;
use regulars_loyalty::rules::RulesError;
use regulars_ports::StoreError;
use thiserror::Error;
use time::OffsetDateTime;

/// Why an order was not ingested.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum IngestError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// The order names another brand than the one it was sent to.
    #[error("the order belongs to brand {order}, not to brand {brand}")]
    BrandMismatch {
        /// The brand it was sent to.
        brand: BrandId,
        /// The brand the order names.
        order: BrandId,
    },
    /// The order is incoherent (no lines, negative prices, mixed currencies, bad key).
    #[error("invalid order: {0}")]
    InvalidOrder(DomainError),
    /// The order is dated further in the future than clocks can disagree: recording it
    /// would drag every later ledger entry of the customer forward to its time.
    #[error(
        "the order is placed at {placed_at}, after now ({now}) by more than the allowed clock skew"
    )]
    PlacedInFuture {
        /// The order's time.
        placed_at: OffsetDateTime,
        /// Now, by the server's clock.
        now: OffsetDateTime,
    },
    /// The order is not in the brand's currency.
    #[error("the order is in {order}, the brand works in {brand}")]
    CurrencyMismatch {
        /// The brand's currency.
        brand: Currency,
        /// The order's currency.
        order: Currency,
    },
    /// The order's key was already used by another kind of event.
    #[error("key {}/{} was already used by a {kind} event", key.source, key.external_id)]
    KeyReused {
        /// The key.
        key: EventKey,
        /// The kind of event that used it.
        kind: String,
    },
    /// The order's key was already used by an order with other contents: a POS that
    /// numbers orders on its own, or two that share a numbering. The first order's
    /// receipt is not given to this one.
    #[error(
        "order id {} was already used by an order with other contents",
        key.external_id
    )]
    OtherOrder {
        /// The key.
        key: EventKey,
    },
    /// The earning rules could not evaluate the order.
    #[error("earning rules: {0}")]
    Rules(RulesError),
    /// The customer's stored ledger is invalid.
    #[error(transparent)]
    CorruptLedger(CorruptLedger),
    /// The ledger refused the points (an arithmetic overflow on absurd amounts).
    #[error("ledger: {0}")]
    Ledger(LedgerError),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(IngestError, ledger);

impl UseCaseError for IngestError {
    fn class(&self) -> ErrorClass {
        match self {
            IngestError::UnknownBrand(_) => ErrorClass::NotFound,
            IngestError::BrandMismatch { .. }
            | IngestError::InvalidOrder(_)
            | IngestError::PlacedInFuture { .. }
            | IngestError::CurrencyMismatch { .. } => ErrorClass::Invalid,
            IngestError::KeyReused { .. } | IngestError::OtherOrder { .. } => ErrorClass::Refused,
            IngestError::Rules(e) => match e {
                RulesError::CurrencyMismatch { .. } | RulesError::InvalidOrder { .. } => {
                    ErrorClass::Invalid
                }
                _ => ErrorClass::Internal,
            },
            IngestError::CorruptLedger(_) | IngestError::Ledger(_) => ErrorClass::Internal,
            IngestError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            IngestError::UnknownBrand(_) => Some("brand"),
            IngestError::BrandMismatch { .. } => Some("brand_id"),
            IngestError::InvalidOrder(e) => e.field(),
            IngestError::PlacedInFuture { .. } => Some("placed_at"),
            IngestError::CurrencyMismatch { .. } => Some("total"),
            IngestError::KeyReused { .. } => Some("key"),
            IngestError::OtherOrder { .. } => Some("order_id"),
            IngestError::Rules(RulesError::CurrencyMismatch { .. }) => Some("total"),
            IngestError::Rules(RulesError::InvalidOrder { field, .. }) => Some(field),
            _ => None,
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            IngestError::KeyReused { .. } | IngestError::OtherOrder { .. } => Some("key_reused"),
            _ => None,
        }
    }
}
