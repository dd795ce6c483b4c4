//! The error type for invalid domain values.

use thiserror::Error;

/// Why a value could not be accepted into the domain.
///
/// Every variant names the offending field so an API can report it back to the caller.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// A phone number that is not a valid E.164 number or national form.
    #[error("invalid phone number {input:?}: {reason}")]
    InvalidPhone {
        /// What was given.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A currency code that is not three upper-case ASCII letters, or is unknown.
    #[error("invalid currency {0:?}: expected a three-letter ISO 4217 code")]
    InvalidCurrency(String),
    /// An amount with more decimal places than its currency allows.
    #[error("amount {amount} has more decimal places than {currency} allows ({allowed})")]
    TooPrecise {
        /// The amount, as given.
        amount: String,
        /// The currency code.
        currency: String,
        /// Decimal places the currency allows.
        allowed: u32,
    },
    /// Two amounts in different currencies were combined.
    #[error("currency mismatch: {left} vs {right}")]
    CurrencyMismatch {
        /// Currency of the left operand.
        left: String,
        /// Currency of the right operand.
        right: String,
    },
    /// A field that must not be negative was negative.
    #[error("{field} must not be negative")]
    Negative {
        /// The field's name.
        field: &'static str,
    },
    /// A field that must not be empty was empty.
    #[error("{field} must not be empty")]
    Empty {
        /// The field's name.
        field: &'static str,
    },
    /// A field is outside its allowed range.
    #[error("{field} is out of range: {reason}")]
    OutOfRange {
        /// The field's name.
        field: &'static str,
        /// What the allowed range is.
        reason: String,
    },
    /// Arithmetic on amounts or points overflowed.
    #[error("arithmetic overflow in {0}")]
    Overflow(&'static str),
}

impl DomainError {
    /// The name of the input field this error is about, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            DomainError::InvalidPhone { .. } => Some("phone"),
            DomainError::InvalidCurrency(_) => Some("currency"),
            DomainError::TooPrecise { .. } => Some("amount"),
            DomainError::CurrencyMismatch { .. } => Some("currency"),
            DomainError::Negative { field }
            | DomainError::Empty { field }
            | DomainError::OutOfRange { field, .. } => Some(field),
            DomainError::Overflow(_) => None,
        }
    }
}
