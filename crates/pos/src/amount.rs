//! Amounts as POS systems send them: decimal strings or JSON numbers, in major units.

use regulars_domain::{Currency, Money};
use rust_decimal::Decimal;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::fmt;
use std::str::FromStr;

/// A non-negative amount in the currency's major units, read from `"45000"`, `"19.99"`,
/// `45000` or `19.99`. Which currency it is in is known only from the brand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Amount(pub Decimal);

impl Amount {
    /// The amount as money of `currency`, or why it cannot be.
    pub fn money(self, currency: Currency) -> Result<Money, String> {
        Money::new(self.0, currency).map_err(|e| e.to_string())
    }
}

/// Parses a plain decimal (`123`, `123.45`); no exponent, sign, spaces or separators.
pub(crate) fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let well_formed = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && text.bytes().filter(|b| *b == b'.').count() <= 1
        && !text[1..].contains('-')
        && text.bytes().any(|b| b.is_ascii_digit());
    if !well_formed {
        return Err(format!(
            "{text:?} is not a plain decimal amount such as 45000 or 19.99"
        ));
    }
    let value =
        Decimal::from_str(text).map_err(|e| format!("{text:?} is not a valid amount: {e}"))?;
    non_negative(value)
}

fn non_negative(value: Decimal) -> Result<Decimal, String> {
    if value.is_sign_negative() && !value.is_zero() {
        Err(format!("amounts must not be negative, got {value}"))
    } else {
        Ok(value)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AmountVisitor;

        impl Visitor<'_> for AmountVisitor {
            type Value = Amount;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount as a decimal string or a number")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                parse_decimal(v).map(Amount).map_err(E::custom)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
                Ok(Amount(Decimal::from(v)))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
                non_negative(Decimal::from(v))
                    .map(Amount)
                    .map_err(E::custom)
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
                // The shortest text that reads back as the same f64 is what the sender
                // wrote in all practical cases (45000.5, 19.99), so go through it rather
                // than through the binary value.
                if !v.is_finite() {
                    return Err(E::custom("amounts must be finite"));
                }
                let text = format!("{v}");
                let value = Decimal::from_str(&text)
                    .map_err(|e| E::custom(format!("{text} is not a valid amount: {e}")))?;
                non_negative(value).map(Amount).map_err(E::custom)
            }
        }

        deserializer.deserialize_any(AmountVisitor)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_strings_and_numbers() {
        for (json, expected) in [
            ("\"45000\"", Decimal::from(45_000)),
            ("45000", Decimal::from(45_000)),
            ("19.99", Decimal::new(1999, 2)),
            ("\"19.99\"", Decimal::new(1999, 2)),
            ("0", Decimal::ZERO),
        ] {
            let a: Amount = serde_json::from_str(json).unwrap();
            assert_eq!(a.0, expected, "{json}");
        }
    }

    #[test]
    fn rejects_negative_and_odd_forms() {
        for json in [
            "-1",
            "-0.5",
            "\"-3\"",
            "\"1e5\"",
            "\" 5\"",
            "\"\"",
            "\"1.2.3\"",
            "true",
            "\"5-\"",
        ] {
            assert!(serde_json::from_str::<Amount>(json).is_err(), "{json}");
        }
    }
}
