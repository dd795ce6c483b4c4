//! The stable code that names a tier inside its programme.

use super::TierProgramError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest tier code, in bytes.
const MAX_CODE_BYTES: usize = 32;

/// The stable identifier of a tier inside its programme, e.g. `"silver"`.
///
/// 1 to 32 bytes of lower-case ASCII letters, digits, `-` and `_`. Customers' stored
/// tiers refer to it, so renaming a tier's display name never loses anyone's tier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TierCode(pub(super) String);

impl TierCode {
    /// Checks and wraps a code.
    pub fn new(code: impl Into<String>) -> Result<TierCode, TierProgramError> {
        let code = code.into();
        if code.is_empty() || code.len() > MAX_CODE_BYTES {
            return Err(TierProgramError::new(
                "code",
                format!("must be 1 to {MAX_CODE_BYTES} bytes"),
            ));
        }
        let allowed =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if !code.chars().all(allowed) {
            return Err(TierProgramError::new(
                "code",
                "only lower-case ASCII letters, digits, '-' and '_'",
            ));
        }
        Ok(TierCode(code))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TierCode {
    type Error = TierProgramError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        TierCode::new(s)
    }
}

impl From<TierCode> for String {
    fn from(code: TierCode) -> String {
        code.0
    }
}

impl fmt::Display for TierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
