//! Who hears of a location's low ratings (its manager's email), and where "low" ends
//! (the brand's threshold).

use crate::Services;
use crate::account::load_brand;
use crate::manage::{ManageError, invalid, not_found};
use regulars_domain::{BrandId, DEFAULT_LOW_THRESHOLD, LocationId, Stars};

/// An email address as a manager's contact: one `@`, a dotted domain, no spaces.
fn check_email(email: &str) -> Result<(), ManageError> {
    let shaped = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if shaped {
        Ok(())
    } else {
        Err(invalid("email", "is not an email address"))
    }
}

impl Services {
    /// The email of the location's manager, if set.
    pub async fn location_manager(
        &self,
        brand: BrandId,
        location: LocationId,
    ) -> Result<Option<String>, ManageError> {
        self.manage("location_manager", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            if tx.locations().location(brand, location).await?.is_none() {
                return Err(not_found("location", location));
            }
            Ok(tx.ratings().location_manager(brand, location).await?)
        })
        .await
    }

    /// Sets (or with `None` removes) the email low ratings of the location are sent to.
    pub async fn set_location_manager(
        &self,
        brand: BrandId,
        location: LocationId,
        email: Option<&str>,
    ) -> Result<Option<String>, ManageError> {
        let email = email.map(str::trim).filter(|e| !e.is_empty());
        if let Some(email) = email {
            check_email(email)?;
        }
        self.manage("set_location_manager", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            if tx.locations().location(brand, location).await?.is_none() {
                return Err(not_found("location", location));
            }
            tx.ratings()
                .set_location_manager(brand, location, email.map(str::to_owned), self.clock.now())
                .await?;
            Ok(email.map(str::to_owned))
        })
        .await
    }

    /// The stars at or below which a rating is sent to the location's manager.
    pub async fn rating_threshold(&self, brand: BrandId) -> Result<Stars, ManageError> {
        self.manage("rating_threshold", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            Ok(tx
                .ratings()
                .low_threshold(brand)
                .await?
                .unwrap_or(DEFAULT_LOW_THRESHOLD))
        })
        .await
    }

    /// Sets the brand's low-rating threshold (1 to 5 stars).
    pub async fn set_rating_threshold(
        &self,
        brand: BrandId,
        threshold: u8,
    ) -> Result<Stars, ManageError> {
        let stars = Stars::new(threshold).map_err(|e| invalid("low_threshold", e.to_string()))?;
        self.manage("set_rating_threshold", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            tx.ratings()
                .set_low_threshold(brand, stars, self.clock.now())
                .await?;
            Ok(stars)
        })
        .await
    }
}
