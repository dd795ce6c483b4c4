//! What every use-case error can tell its caller: which input field is at fault and how
//! the outside world should treat it, so the HTTP layer and the CLI map errors in one
//! place.

use regulars_domain::{BrandId, CustomerId};
use regulars_loyalty::ledger::LedgerError;
use regulars_ports::StoreError;
use serde::Serialize;
use thiserror::Error;

/// How a caller should treat an error, independent of the use case.
///
/// A suggested HTTP mapping is given for each class; the HTTP crate owns the real one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The input is malformed or contradicts itself (400/422); the field says where.
    Invalid,
    /// Something the input names does not exist (404); the field says which.
    NotFound,
    /// The input is fine but a business rule refuses it: not enough points, a voucher
    /// already redeemed (409/422).
    Refused,
    /// Concurrent writers kept colliding after every retry (409/503); trying again later
    /// may succeed.
    Conflict,
    /// The database cannot be reached (503).
    Unavailable,
    /// A bug, corrupt stored data or a broken brand configuration (500).
    Internal,
}

/// Implemented by every use-case error.
pub trait UseCaseError: std::error::Error + Send + Sync + 'static {
    /// How the caller should treat it.
    fn class(&self) -> ErrorClass;

    /// The input field at fault, when there is one (`"phone"`, `"order"`, `"reward"`, ...).
    fn field(&self) -> Option<&'static str>;

    /// A more precise error code than the class gives, e.g. `key_reused` for an
    /// idempotency key that came back with another payload.
    fn code(&self) -> Option<&'static str> {
        None
    }

    /// True when retrying the whole use case may succeed: a storage conflict.
    fn is_conflict(&self) -> bool {
        self.class() == ErrorClass::Conflict
    }
}

/// The class of a storage failure.
pub(crate) fn store_class(error: &StoreError) -> ErrorClass {
    match error {
        StoreError::Conflict(_) => ErrorClass::Conflict,
        StoreError::NotFound(_) => ErrorClass::NotFound,
        StoreError::Unavailable(_) => ErrorClass::Unavailable,
        // A refused input is a bug in the use case: retrying it would fail the same way.
        StoreError::Corrupt(_) | StoreError::Invalid(_) | StoreError::Other(_) => {
            ErrorClass::Internal
        }
    }
}

/// The brand named in a request does not exist.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("brand {0} does not exist")]
pub struct UnknownBrand(pub BrandId);

/// A customer's stored ledger does not fold: its entries break a ledger rule. Nothing is
/// appended to such an account until it is repaired.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the stored ledger of customer {customer} is invalid: {error}")]
pub struct CorruptLedger {
    /// The customer whose ledger is invalid.
    pub customer: CustomerId,
    /// The rule the entries break.
    #[source]
    pub error: LedgerError,
}

/// The `From` conversions shared by the use-case error enums, so `?` works on storage
/// and shared-step errors: `store` gives `From<StoreError>` (variant `Store`), `brand`
/// adds `From<UnknownBrand>` (variant `UnknownBrand`), `ledger` adds `From<CorruptLedger>`
/// (variant `CorruptLedger`).
macro_rules! common_variants {
    ($error:ident, store) => {
        impl From<regulars_ports::StoreError> for $error {
            fn from(error: regulars_ports::StoreError) -> Self {
                $error::Store(error)
            }
        }
    };
    ($error:ident, brand) => {
        common_variants!($error, store);
        impl From<$crate::error::UnknownBrand> for $error {
            fn from(error: $crate::error::UnknownBrand) -> Self {
                $error::UnknownBrand(error.0)
            }
        }
    };
    ($error:ident, ledger) => {
        common_variants!($error, brand);
        impl From<$crate::error::CorruptLedger> for $error {
            fn from(error: $crate::error::CorruptLedger) -> Self {
                $error::CorruptLedger(error)
            }
        }
    };
}
pub(crate) use common_variants;
