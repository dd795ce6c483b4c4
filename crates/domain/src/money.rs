//! Exact money amounts in an ISO 4217 currency.

use crate::DomainError;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// An ISO 4217 currency: its three-letter code and how many decimal places it uses.
///
/// The Vietnamese đồng (`VND`) has no minor unit, so `Currency::VND.minor_units()` is 0.
///
/// ```
/// use regulars_domain::Currency;
/// let vnd: Currency = "VND".parse()?;
/// assert_eq!(vnd.minor_units(), 0);
/// assert_eq!(Currency::USD.minor_units(), 2);
/// assert!("vnd".parse::<Currency>().is_err());
/// # Ok::<(), regulars_domain::DomainError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

/// Currencies whose decimal places Regulars knows. Codes not listed here are rejected,
/// because guessing the minor unit of a currency would make amounts wrong.
const KNOWN: &[(&str, u8)] = &[
    ("AUD", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CNY", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("IDR", 2),
    ("INR", 2),
    ("JPY", 0),
    ("KHR", 2),
    ("KRW", 0),
    ("LAK", 2),
    ("MYR", 2),
    ("NZD", 2),
    ("PHP", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TWD", 2),
    ("USD", 2),
    ("VND", 0),
];

impl Currency {
    /// Vietnamese đồng, no minor unit.
    pub const VND: Currency = Currency {
        code: *b"VND",
        minor_units: 0,
    };
    /// US dollar, two decimal places.
    pub const USD: Currency = Currency {
        code: *b"USD",
        minor_units: 2,
    };

    /// The three-letter code, e.g. `"VND"`.
    pub fn code(&self) -> &str {
        // The code is checked to be ASCII upper-case letters on construction.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Number of decimal places of the minor unit (0 for VND, 2 for USD).
    pub const fn minor_units(&self) -> u32 {
        self.minor_units as u32
    }
}

impl FromStr for Currency {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KNOWN
            .iter()
            .find(|(code, _)| *code == s)
            .map(|(code, minor)| {
                let b = code.as_bytes();
                Currency {
                    code: [b[0], b[1], b[2]],
                    minor_units: *minor,
                }
            })
            .ok_or_else(|| DomainError::InvalidCurrency(s.to_owned()))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An exact amount of money in one currency.
///
/// The amount is a [`Decimal`] whose scale never exceeds the currency's minor units, so
/// `Money` converts losslessly to and from integer minor units (what storage keeps).
///
/// ```
/// use regulars_domain::{Currency, Money};
/// use rust_decimal::Decimal;
/// let m = Money::new(Decimal::new(1999, 2), Currency::USD)?; // 19.99 USD
/// assert_eq!(m.to_minor_units()?, 1999);
/// assert!(Money::new(Decimal::new(5, 1), Currency::VND).is_err()); // 0.5 VND does not exist
/// # Ok::<(), regulars_domain::DomainError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MoneyRepr", into = "MoneyRepr")]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoneyRepr {
    amount: Decimal,
    currency: Currency,
}

impl TryFrom<MoneyRepr> for Money {
    type Error = DomainError;
    fn try_from(r: MoneyRepr) -> Result<Self, Self::Error> {
        Money::new(r.amount, r.currency)
    }
}

impl From<Money> for MoneyRepr {
    fn from(m: Money) -> Self {
        MoneyRepr {
            amount: m.amount,
            currency: m.currency,
        }
    }
}

impl Money {
    /// An amount, checked to have no more decimal places than the currency allows.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Self, DomainError> {
        let normalized = amount.normalize();
        if normalized.scale() > currency.minor_units() {
            return Err(DomainError::TooPrecise {
                amount: amount.to_string(),
                currency: currency.code().to_owned(),
                allowed: currency.minor_units(),
            });
        }
        Ok(Money {
            amount: normalized,
            currency,
        })
    }

    /// Zero in the given currency.
    pub fn zero(currency: Currency) -> Self {
        Money {
            amount: Decimal::ZERO,
            currency,
        }
    }

    /// Builds an amount from integer minor units (đồng for VND, cents for USD).
    pub fn from_minor_units(units: i64, currency: Currency) -> Self {
        Money {
            amount: Decimal::new(units, currency.minor_units()).normalize(),
            currency,
        }
    }

    /// The amount in integer minor units, as stored.
    pub fn to_minor_units(&self) -> Result<i64, DomainError> {
        let factor = Decimal::from(10_i64.pow(self.currency.minor_units()));
        let units = self
            .amount
            .checked_mul(factor)
            .ok_or(DomainError::Overflow("money"))?;
        i64::try_from(units).map_err(|_| DomainError::Overflow("money"))
    }

    /// The decimal amount.
    pub const fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// True when below zero.
    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// True when exactly zero.
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    /// `self + other`; errors on a currency mismatch or overflow.
    pub fn checked_add(&self, other: &Money) -> Result<Money, DomainError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(DomainError::Overflow("money"))?;
        Ok(Money {
            amount: amount.normalize(),
            currency: self.currency,
        })
    }

    /// `self - other`; errors on a currency mismatch or overflow.
    pub fn checked_sub(&self, other: &Money) -> Result<Money, DomainError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_sub(other.amount)
            .ok_or(DomainError::Overflow("money"))?;
        Ok(Money {
            amount: amount.normalize(),
            currency: self.currency,
        })
    }

    /// `self * n` for a whole quantity.
    pub fn checked_mul_qty(&self, n: u32) -> Result<Money, DomainError> {
        let amount = self
            .amount
            .checked_mul(Decimal::from(n))
            .ok_or(DomainError::Overflow("money"))?;
        Ok(Money {
            amount: amount.normalize(),
            currency: self.currency,
        })
    }

    /// Compares two amounts of the same currency.
    pub fn cmp_amount(&self, other: &Money) -> Result<std::cmp::Ordering, DomainError> {
        self.same_currency(other)?;
        Ok(self.amount.cmp(&other.amount))
    }

    fn same_currency(&self, other: &Money) -> Result<(), DomainError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(DomainError::CurrencyMismatch {
                left: self.currency.code().to_owned(),
                right: other.currency.code().to_owned(),
            })
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vnd_rejects_fractions_but_accepts_trailing_zeros() {
        assert!(Money::new(Decimal::new(4_500_000, 2), Currency::VND).is_ok());
        assert!(Money::new(Decimal::new(4_500_001, 2), Currency::VND).is_err());
    }

    #[test]
    fn unknown_currency_is_an_error() {
        assert!("XYZ".parse::<Currency>().is_err());
        assert!(serde_json::from_str::<Currency>("\"usd\"").is_err());
    }

    #[test]
    fn mismatched_currencies_do_not_add() {
        let a = Money::zero(Currency::VND);
        let b = Money::zero(Currency::USD);
        assert!(matches!(
            a.checked_add(&b),
            Err(DomainError::CurrencyMismatch { .. })
        ));
    }

    #[test]
    fn json_round_trip_keeps_exact_amount() -> Result<(), serde_json::Error> {
        let m = Money::from_minor_units(1999, Currency::USD);
        let json = serde_json::to_string(&m)?;
        assert_eq!(json, r#"{"amount":"19.99","currency":"USD"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json)?, m);
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1.5","currency":"VND"}"#).is_err());
        Ok(())
    }

    proptest! {
        #[test]
        fn minor_units_round_trip(units in -1_000_000_000_000i64..1_000_000_000_000, usd in any::<bool>()) {
            let c = if usd { Currency::USD } else { Currency::VND };
            let m = Money::from_minor_units(units, c);
            prop_assert_eq!(m.to_minor_units(), Ok(units));
            prop_assert_eq!(Money::new(m.amount(), c), Ok(m));
        }
    }
}
