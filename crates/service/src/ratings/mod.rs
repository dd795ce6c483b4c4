//! Feedback after a visit. A thank-you message may carry a rating link (`/f/{token}`,
//! [`token`]): the customer gives the order 1 to 5 stars and an optional comment, once.
//! A rating at or below the brand's threshold (default 2) is sent to the order's
//! location's manager as an operational email through the outbox; a location without a
//! manager's email shows it on the dashboard as needing attention instead.

mod manager;
mod notice;
mod report;
pub(crate) mod token;

pub use report::{LowRating, RATINGS_READ_LIMIT, RatingsView};
pub use token::{RATING_LINK_VALIDITY, RatingClaims};

use crate::Services;
use crate::account::load_brand;
use crate::error::{ErrorClass, UnknownBrand, UseCaseError, store_class};
use regulars_campaigns::render::RATING_LINK_MARKER;
use regulars_domain::{BrandId, DEFAULT_LOW_THRESHOLD, DomainError, Rating, Stars, rating_comment};
use regulars_ports::{Location, StoreError, Transaction};
use thiserror::Error;
use time::OffsetDateTime;
use token::TokenProblem;

/// What a rating page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingPage {
    /// The brand's display name.
    pub brand_name: String,
    /// The location of the order, when it is one of the brand's.
    pub location_name: Option<String>,
    /// When the order was placed.
    pub placed_at: OffsetDateTime,
    /// The rating already given for the order, if any.
    pub given: Option<Rating>,
    /// When the link stops working.
    pub expires_at: OffsetDateTime,
}

/// What submitting a rating did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingReceipt {
    /// The rating stored.
    pub rating: Rating,
    /// Whether it was low, and a notice was written to the location's manager.
    pub manager_notified: bool,
}

/// Why a rating was not taken.
#[derive(Debug, Error)]
pub enum RatingError {
    /// Altered, signed under an unknown key, or naming an order or customer not stored.
    #[error("the rating link is not valid")]
    UnknownLink,
    /// The link is authentic but too old.
    #[error("the rating link has expired")]
    Expired,
    /// The order was rated already; the first rating stays.
    #[error("this order was rated already")]
    AlreadyRated(Box<Rating>),
    /// Stars or comment out of bounds.
    #[error("{field}: {message}")]
    Invalid {
        /// `stars` or `comment`.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UnknownBrand> for RatingError {
    fn from(e: UnknownBrand) -> Self {
        RatingError::UnknownBrand(e.0)
    }
}

impl From<DomainError> for RatingError {
    fn from(e: DomainError) -> Self {
        RatingError::Invalid {
            field: e.field().unwrap_or("rating"),
            message: e.to_string(),
        }
    }
}

impl UseCaseError for RatingError {
    fn class(&self) -> ErrorClass {
        match self {
            RatingError::UnknownLink | RatingError::UnknownBrand(_) => ErrorClass::NotFound,
            RatingError::Expired | RatingError::AlreadyRated(_) => ErrorClass::Refused,
            RatingError::Invalid { .. } => ErrorClass::Invalid,
            RatingError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            RatingError::UnknownLink | RatingError::Expired => Some("token"),
            RatingError::AlreadyRated(_) => Some("order"),
            RatingError::Invalid { field, .. } => Some(field),
            RatingError::UnknownBrand(_) => Some("brand"),
            RatingError::Store(_) => None,
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            RatingError::Expired => Some("expired"),
            RatingError::AlreadyRated(_) => Some("already_rated"),
            _ => None,
        }
    }
}

/// The order a link names, with what the page and the rating need of it.
struct RatedOrder {
    brand_name: String,
    location: Option<String>,
    known: Option<Location>,
    placed_at: OffsetDateTime,
}

impl Services {
    /// The token of the rating link for `order` of `customer`, valid for
    /// [`RATING_LINK_VALIDITY`] from `now`; `None` without a server key.
    pub fn rating_token(
        &self,
        brand: BrandId,
        order: regulars_domain::OrderId,
        customer: regulars_domain::CustomerId,
        now: OffsetDateTime,
    ) -> Option<String> {
        let key = self.secret_keys.as_ref()?.current().derive(token::PURPOSE);
        token::sign(
            &key,
            &RatingClaims {
                brand,
                order,
                customer,
                expires_at: now + RATING_LINK_VALIDITY,
            },
        )
    }

    /// The rating link (`<public url>/f/<token>`); `None` without a public address or a
    /// server key.
    pub fn rating_link(
        &self,
        brand: BrandId,
        order: regulars_domain::OrderId,
        customer: regulars_domain::CustomerId,
        now: OffsetDateTime,
    ) -> Option<String> {
        let base = self.public_url.as_deref()?;
        let token = self.rating_token(brand, order, customer, now)?;
        Some(format!("{base}/f/{token}"))
    }

    /// `body` with the rating link of the customer's last order in place of
    /// `{{rating_link}}` (an after-purchase message is about that order); the marker is
    /// removed where there is no link to give (no order, public address or server key).
    pub(crate) fn with_rating_link(
        &self,
        body: String,
        brand: &regulars_ports::Brand,
        facts: &regulars_campaigns::plan::CustomerFacts,
        now: OffsetDateTime,
    ) -> String {
        if !body.contains(RATING_LINK_MARKER) {
            return body;
        }
        let link = facts
            .last_order
            .as_ref()
            .and_then(|o| self.rating_link(brand.id, o.id, facts.customer_id, now))
            .unwrap_or_default();
        body.replace(RATING_LINK_MARKER, &link)
    }

    /// What an authentic, unexpired rating token names (under the current server key or
    /// a previous one).
    pub fn open_rating_token(&self, token: &str) -> Result<RatingClaims, RatingError> {
        let keys = self.secret_keys.as_ref().ok_or(RatingError::UnknownLink)?;
        token::open(
            keys.all().map(|k| k.derive(token::PURPOSE)),
            token,
            self.clock.now(),
        )
        .map_err(|p| match p {
            TokenProblem::Invalid => RatingError::UnknownLink,
            TokenProblem::Expired => RatingError::Expired,
        })
    }

    /// What the rating page of `token` shows. Read-only.
    pub async fn rating_page(&self, token: &str) -> Result<RatingPage, RatingError> {
        let claims = self.open_rating_token(token)?;
        let claims = &claims;
        self.transact("rating_page", |mut tx| async move {
            let result = async {
                let order = rated_order(tx.as_mut(), claims).await?;
                let given = tx
                    .ratings()
                    .rating_of_order(claims.brand, claims.order)
                    .await?;
                Ok(RatingPage {
                    brand_name: order.brand_name,
                    location_name: order.known.map(|l| l.name),
                    placed_at: order.placed_at,
                    given,
                    expires_at: claims.expires_at,
                })
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Stores the customer's rating of the order of `token`: `stars` 1 to 5 and an
    /// optional comment (at most 500 characters). One rating per order: a second is
    /// [`RatingError::AlreadyRated`] with the first. A low rating writes an operational
    /// email to the location's manager in the same transaction.
    pub async fn submit_rating(
        &self,
        token: &str,
        stars: u8,
        comment: Option<&str>,
    ) -> Result<RatingReceipt, RatingError> {
        let claims = self.open_rating_token(token)?;
        let stars = Stars::new(stars)?;
        let comment = rating_comment(comment)?;
        let (claims, comment) = (&claims, &comment);
        let receipt = self
            .transact("submit_rating", |mut tx| async move {
                let result = self.rate_in(tx.as_mut(), claims, stars, comment).await;
                (tx, result)
            })
            .await?;
        if receipt.manager_notified {
            self.bell.ring();
        }
        Ok(receipt)
    }

    async fn rate_in(
        &self,
        tx: &mut dyn Transaction,
        claims: &RatingClaims,
        stars: Stars,
        comment: &Option<String>,
    ) -> Result<RatingReceipt, RatingError> {
        let order = rated_order(tx, claims).await?;
        if let Some(first) = tx
            .ratings()
            .rating_of_order(claims.brand, claims.order)
            .await?
        {
            return Err(RatingError::AlreadyRated(Box::new(first)));
        }
        let rating = Rating {
            brand_id: claims.brand,
            order_id: claims.order,
            customer_id: claims.customer,
            location: order.location.clone(),
            stars,
            comment: comment.clone(),
            created_at: self.clock.now(),
        };
        if !tx.ratings().insert_rating(&rating).await? {
            // Another submit of the same link committed first.
            let first = tx
                .ratings()
                .rating_of_order(claims.brand, claims.order)
                .await?
                .ok_or(RatingError::UnknownLink)?;
            return Err(RatingError::AlreadyRated(Box::new(first)));
        }
        let threshold = tx
            .ratings()
            .low_threshold(claims.brand)
            .await?
            .unwrap_or(DEFAULT_LOW_THRESHOLD);
        let mut manager_notified = false;
        if stars.is_low(threshold)
            && let Some(location) = &order.known
            && let Some(email) = tx
                .ratings()
                .location_manager(claims.brand, location.id)
                .await?
        {
            let message = self.rating_notice(&order.brand_name, location, &rating, &email);
            manager_notified = tx.outbox().enqueue(&[message]).await? > 0;
        }
        Ok(RatingReceipt {
            rating,
            manager_notified,
        })
    }
}

/// The order of `claims`, credited to its customer (who is not erased).
async fn rated_order(
    tx: &mut dyn Transaction,
    claims: &RatingClaims,
) -> Result<RatedOrder, RatingError> {
    let brand = load_brand::<RatingError>(tx, claims.brand).await?;
    let stored = tx
        .orders()
        .order(claims.brand, claims.order)
        .await?
        .filter(|o| o.customer_id == Some(claims.customer))
        .ok_or(RatingError::UnknownLink)?;
    if tx
        .customers()
        .customer(claims.brand, claims.customer)
        .await?
        .is_none()
    {
        return Err(RatingError::UnknownLink);
    }
    let location = stored.order.location.clone();
    let known = match &location {
        Some(code) => tx
            .locations()
            .locations(claims.brand)
            .await?
            .into_iter()
            .find(|l| &l.code == code),
        None => None,
    };
    Ok(RatedOrder {
        brand_name: brand.name,
        location,
        known,
        placed_at: stored.order.placed_at,
    })
}
