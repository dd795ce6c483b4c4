//! Referrals: the brand's referral programme, each member's personal invite link, and
//! the referrals recorded when friends sign up through one (see `docs/referrals.md`).
//!
//! An invite token is `<brand>.<code>`: the code is 16 random bytes from the CSPRNG,
//! stored with the member on first use, so the link neither names the customer nor can
//! be guessed, and nothing but the store can say whose it is. The sign-up through it
//! ([`Services::sign_up_referred`]) records the referral or the reason it is refused
//! (`signup.rs`); the friend's first order rewards both and a full refund of that order
//! takes the rewards back (`reward.rs`), each in the transaction of that order or refund.

mod by_location;
mod reward;
mod signup;

pub use reward::REFERRAL_ACTOR;
pub(crate) use signup::Joined;

use crate::Services;
use crate::account::load_brand;
use crate::manage::{ManageError, invalid, not_found};
use crate::secrets::to_hex;
use regulars_domain::{BrandId, CustomerId};
use regulars_loyalty::referrals::ReferralProgramme;
use regulars_ports::{Brand, Referral, ReferralCounts, StoreError, Transaction};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// Hexadecimal digits of an invite code (16 random bytes).
const CODE_HEX: usize = 32;
/// Most referrals a listing returns.
pub const MAX_REFERRALS_LISTED: u64 = 500;
/// Referral sign-ups one client address may make per hour (in this process's memory);
/// past it, sign-ups still register the customer but the referral is refused.
pub const REFERRAL_SIGNUPS_PER_ADDRESS: u32 = 3;

/// What the page behind an invite link shows, and where the sign-up continues.
#[derive(Debug, Clone, PartialEq)]
pub struct InvitePage {
    /// The brand.
    pub brand: Brand,
    /// The inviting member.
    pub referrer: CustomerId,
    /// The first word of the inviting member's name, when they gave one.
    pub referrer_name: Option<String>,
    /// The sign-up (poster) token of the brand's first location, where the flow goes on.
    pub signup_token: String,
}

/// An invite token's parts, when well shaped.
pub(crate) fn split_invite(token: &str) -> Option<(BrandId, &str)> {
    let (brand, code) = token.trim().split_once('.')?;
    let brand = Uuid::try_parse(brand).ok()?;
    (code.len() == CODE_HEX && code.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some((BrandId::from_uuid(brand), code))
}

fn invite_token(brand: BrandId, code: &str) -> String {
    format!("{}.{code}", brand.as_uuid().simple())
}

/// The member an invite token belongs to, checked in constant time against the stored
/// code; `None` for anything else.
pub(crate) async fn invite_owner(
    tx: &mut dyn Transaction,
    token: &str,
) -> Result<Option<(BrandId, CustomerId)>, StoreError> {
    let Some((brand, code)) = split_invite(token) else {
        return Ok(None);
    };
    let code = code.to_ascii_lowercase();
    let Some(owner) = tx.referrals().invite_owner(brand, &code).await? else {
        return Ok(None);
    };
    let stored = tx.referrals().invite_code(brand, owner).await?;
    let matches = stored.is_some_and(|s| bool::from(s.as_bytes().ct_eq(code.as_bytes())));
    Ok(matches.then_some((brand, owner)))
}

/// The brand's programme (the default, off, when it never set one).
pub(crate) async fn programme_of(
    tx: &mut dyn Transaction,
    brand: BrandId,
) -> Result<ReferralProgramme, StoreError> {
    Ok(tx.referrals().programme(brand).await?.unwrap_or_default())
}

impl Services {
    /// The brand's referral programme (off, with nothing to give, until set).
    ///
    /// # Errors
    ///
    /// [`ManageError::UnknownBrand`], [`ManageError::Store`].
    pub async fn referral_programme(
        &self,
        brand: BrandId,
    ) -> Result<ReferralProgramme, ManageError> {
        self.manage("referral_programme", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            Ok(programme_of(tx, brand).await?)
        })
        .await
    }

    /// Replaces the brand's referral programme.
    ///
    /// # Errors
    ///
    /// [`ManageError::Invalid`] naming the field out of range,
    /// [`ManageError::UnknownBrand`], [`ManageError::Store`].
    pub async fn set_referral_programme(
        &self,
        brand: BrandId,
        programme: ReferralProgramme,
    ) -> Result<ReferralProgramme, ManageError> {
        programme
            .validate()
            .map_err(|e| invalid(e.field, e.message))?;
        let now = self.clock.now();
        let programme = &programme;
        self.manage("set_referral_programme", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            tx.referrals().save_programme(brand, programme, now).await?;
            Ok(programme.clone())
        })
        .await
    }

    /// The member's invite token (for the link `/r/{token}`), made on first use; `None`
    /// while the brand's programme is off.
    ///
    /// # Errors
    ///
    /// [`ManageError::NotFound`] (`customer`), [`ManageError::UnknownBrand`],
    /// [`ManageError::Store`].
    pub async fn invite_token(
        &self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Option<String>, ManageError> {
        let mut bytes = [0_u8; CODE_HEX / 2];
        self.ids.fill_bytes(&mut bytes);
        let fresh = &to_hex(&bytes);
        let now = self.clock.now();
        self.manage("invite_token", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            if tx.customers().customer(brand, customer).await?.is_none() {
                return Err(not_found("customer", customer));
            }
            if !programme_of(tx, brand).await?.enabled {
                return Ok(None);
            }
            let code = match tx.referrals().invite_code(brand, customer).await? {
                Some(code) => code,
                None => {
                    tx.referrals()
                        .insert_invite(brand, customer, fresh, now)
                        .await?;
                    fresh.clone()
                }
            };
            Ok(Some(invite_token(brand, &code)))
        })
        .await
    }

    /// What the page behind an invite link shows. A token that is malformed, names
    /// nobody, or whose brand has no location or no programme on is
    /// [`ManageError::NotFound`] (`invite`).
    ///
    /// # Errors
    ///
    /// [`ManageError::NotFound`], [`ManageError::Store`].
    pub async fn invite_page(&self, token: &str) -> Result<InvitePage, ManageError> {
        let gone = || not_found("invite", "(this link)");
        let fresh = &self.new_poster_secret();
        let now = self.clock.now();
        self.manage("invite_page", async |tx| {
            let (brand, referrer) = invite_owner(tx, token).await?.ok_or_else(gone)?;
            let found = load_brand::<ManageError>(tx, brand)
                .await
                .map_err(|_| gone())?;
            if !programme_of(tx, brand).await?.enabled {
                return Err(gone());
            }
            let customer = tx
                .customers()
                .customer(brand, referrer)
                .await?
                .ok_or_else(gone)?;
            let location = tx
                .locations()
                .locations(brand)
                .await?
                .into_iter()
                .next()
                .ok_or_else(gone)?;
            let signup_token = self
                .poster_token_in(tx, brand, location.id, fresh, now)
                .await?;
            Ok(InvitePage {
                brand: found,
                referrer,
                referrer_name: customer
                    .name
                    .as_deref()
                    .and_then(|n| n.split_whitespace().next())
                    .map(str::to_owned),
                signup_token,
            })
        })
        .await
    }

    /// The brand's latest referrals, newest first (at most `limit`, 1 to
    /// [`MAX_REFERRALS_LISTED`]).
    ///
    /// # Errors
    ///
    /// [`ManageError::Invalid`] (`limit`), [`ManageError::UnknownBrand`],
    /// [`ManageError::Store`].
    pub async fn referrals(
        &self,
        brand: BrandId,
        limit: u64,
    ) -> Result<Vec<Referral>, ManageError> {
        if !(1..=MAX_REFERRALS_LISTED).contains(&limit) {
            return Err(invalid(
                "limit",
                format!("must be 1 to {MAX_REFERRALS_LISTED}"),
            ));
        }
        self.manage("referrals", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            Ok(tx.referrals().referrals(brand, limit).await?)
        })
        .await
    }

    /// The brand's referral figures: members with an invite link, friends signed up,
    /// pending, rewarded, reversed, and refusals by reason.
    ///
    /// # Errors
    ///
    /// [`ManageError::UnknownBrand`], [`ManageError::Store`].
    pub async fn referral_counts(&self, brand: BrandId) -> Result<ReferralCounts, ManageError> {
        self.manage("referral_counts", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            Ok(tx.referrals().counts(brand, None).await?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_invite_token_round_trips_and_nothing_else_opens() {
        let brand = BrandId::from_uuid(Uuid::from_u128(7));
        let code = "0123456789abcdef0123456789abcdef";
        let token = invite_token(brand, code);
        assert_eq!(split_invite(&token), Some((brand, code)));
        assert!(!token.contains(&Uuid::from_u128(9).simple().to_string()));
        for bad in ["", "a.b", &token[..token.len() - 1], &format!("{token}0")] {
            assert_eq!(split_invite(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(s in "\\PC{0,120}") {
            let _ = split_invite(&s);
        }
    }
}
