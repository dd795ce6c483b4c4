//! A customer's rating of one visit: 1 to 5 stars and an optional short comment, given
//! through the signed link of a thank-you message. One rating per order.

use crate::{BrandId, CustomerId, DomainError, OrderId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Most characters a rating's comment keeps.
pub const MAX_COMMENT_CHARS: usize = 500;

/// The stars of a brand's "low" rating when it has set no threshold of its own: a
/// rating of this many stars or fewer is sent to the location's manager.
pub const DEFAULT_LOW_THRESHOLD: Stars = Stars(2);

/// Stars of a rating: 1 to 5.
///
/// ```
/// use regulars_domain::Stars;
/// assert_eq!(Stars::new(4)?.value(), 4);
/// assert!(Stars::new(0).is_err());
/// assert!(Stars::new(6).is_err());
/// # Ok::<(), regulars_domain::DomainError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Stars(u8);

impl Stars {
    /// `value` stars, 1 to 5.
    pub fn new(value: u8) -> Result<Stars, DomainError> {
        if (1..=5).contains(&value) {
            Ok(Stars(value))
        } else {
            Err(DomainError::OutOfRange {
                field: "stars",
                reason: format!("must be 1 to 5, got {value}"),
            })
        }
    }

    /// The number of stars.
    pub fn value(self) -> u8 {
        self.0
    }

    /// Whether a rating of these stars is low under `threshold` (at or below it).
    pub fn is_low(self, threshold: Stars) -> bool {
        self <= threshold
    }
}

impl TryFrom<u8> for Stars {
    type Error = DomainError;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Stars::new(value)
    }
}

impl From<Stars> for u8 {
    fn from(s: Stars) -> u8 {
        s.0
    }
}

/// A comment as a rating keeps it: trimmed, `None` when empty, refused when longer than
/// [`MAX_COMMENT_CHARS`] characters (never cut, so nothing the customer wrote is lost
/// silently).
///
/// ```
/// use regulars_domain::rating_comment;
/// assert_eq!(rating_comment(Some("  cold tea ")).unwrap(), Some("cold tea".to_owned()));
/// assert_eq!(rating_comment(Some("   ")).unwrap(), None);
/// assert!(rating_comment(Some(&"x".repeat(501))).is_err());
/// ```
pub fn rating_comment(comment: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(text) = comment.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let chars = text.chars().count();
    if chars > MAX_COMMENT_CHARS {
        return Err(DomainError::OutOfRange {
            field: "comment",
            reason: format!("at most {MAX_COMMENT_CHARS} characters, got {chars}"),
        });
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(DomainError::OutOfRange {
            field: "comment",
            reason: "contains control characters".to_owned(),
        });
    }
    Ok(Some(text.to_owned()))
}

/// One customer's rating of one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// The brand.
    pub brand_id: BrandId,
    /// The order rated (one rating each).
    pub order_id: OrderId,
    /// Who rated it.
    pub customer_id: CustomerId,
    /// The location code of the order; `None` when the order had none.
    pub location: Option<String>,
    /// The stars.
    pub stars: Stars,
    /// The comment, if any (personal data: erased with the customer).
    pub comment: Option<String>,
    /// When it was given.
    pub created_at: OffsetDateTime,
}

/// The dedupe key of the notice a low rating of `order` sends to its location's
/// manager: one notice per order, and what erasure looks for to scrub its text.
pub fn rating_notice_key(order: OrderId) -> String {
    format!("rating-notice:{order}")
}
