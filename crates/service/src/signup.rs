//! The customer's own sign-up from a location's poster.
//!
//! Each location has a public sign-up link `/j/{token}`, printed as a QR code on its
//! poster. The token names the brand and the location and carries a random secret the
//! store keeps in the clear (it is printed anyway); an admin may rotate the secret,
//! which retires the printed posters. The page behind the link proves the customer's
//! phone with a one-time code (purpose [`OtpPurpose::SignUp`]) and then calls
//! [`Services::sign_up`], which registers the phone or, when the phone is already a
//! customer (made by the POS, say), records the answers on that same customer: history
//! kept, consent now given, source `signup`, the notice version shown. Either way the
//! brand's welcome campaigns are planned at once for them.

use crate::Services;
use crate::account::load_brand;
use crate::manage::{ManageError, invalid, not_found};
use crate::otp::OtpPurpose;
use crate::profile::{ChangeAuthor, ConsentPatch, CustomerInput};
use crate::referrals::{Joined, REFERRAL_SIGNUPS_PER_ADDRESS};
use crate::secrets::to_hex;
use regulars_domain::{BrandId, ChangeSource, ChannelConsent, Customer, CustomerId, LocationId};
use regulars_loyalty::referrals::ReferralState;
use regulars_loyalty::rewards::Reward;
use regulars_ports::{Brand, Location, Notice, Transaction};
use subtle::ConstantTimeEq;
use time::Date;
use uuid::Uuid;

/// Hexadecimal digits of a poster's secret (16 random bytes).
const SECRET_HEX: usize = 32;

/// What the sign-up page of a poster shows.
#[derive(Debug, Clone, PartialEq)]
pub struct SignupPage {
    /// The brand.
    pub brand: Brand,
    /// The location whose poster it is.
    pub location: Location,
    /// The brand's active catalogue rewards, cheapest first: its public offers.
    pub offers: Vec<Reward>,
    /// The brand's current processing notice, if one is published.
    pub notice: Option<Notice>,
}

/// What a customer answers on the sign-up form, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignupDetails {
    /// Their name (optional).
    pub name: String,
    /// Their birthday as `YYYY-MM-DD` (optional).
    pub birthday: String,
    /// Promotional Zalo messages.
    pub zalo: bool,
    /// Promotional SMS.
    pub sms: bool,
    /// Promotional email.
    pub email: bool,
    /// Personalised offers.
    pub profiling: bool,
    /// The loyalty programme itself: joining needs it.
    pub programme: bool,
    /// The version of the processing notice the page showed.
    pub notice_version: Option<u32>,
}

/// A poster's token: `<brand>.<location>.<secret>`.
fn poster_token(brand: BrandId, location: LocationId, secret: &str) -> String {
    format!(
        "{}.{}.{secret}",
        brand.as_uuid().simple(),
        location.as_uuid().simple()
    )
}

/// A poster token's parts, when well shaped.
fn split_poster_token(token: &str) -> Option<(BrandId, LocationId, &str)> {
    let mut parts = token.trim().split('.');
    let (Some(brand), Some(location), Some(secret), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let brand = Uuid::try_parse(brand).ok()?;
    let location = Uuid::try_parse(location).ok()?;
    (secret.len() == SECRET_HEX && secret.bytes().all(|b| b.is_ascii_hexdigit())).then_some((
        BrandId::from_uuid(brand),
        LocationId::from_uuid(location),
        secret,
    ))
}

/// A birthday as typed: empty is none; otherwise `YYYY-MM-DD`, in the past.
fn parse_birthday(text: &str, today: Date) -> Result<Option<Date>, ManageError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let date = Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| invalid("birthday", "must be a date like 1995-08-21"))?;
    if date > today || date.year() < 1900 {
        return Err(invalid("birthday", "must be a date between 1900 and today"));
    }
    Ok(Some(date))
}

/// A location of the brand, or [`ManageError::NotFound`].
async fn location_of(
    tx: &mut dyn Transaction,
    brand: BrandId,
    location: LocationId,
) -> Result<Location, ManageError> {
    tx.locations()
        .location(brand, location)
        .await?
        .ok_or_else(|| not_found("location", location))
}

impl Services {
    pub(crate) fn new_poster_secret(&self) -> String {
        let mut bytes = [0_u8; SECRET_HEX / 2];
        self.ids.fill_bytes(&mut bytes);
        to_hex(&bytes)
    }

    /// The token of the location's sign-up link (`/j/{token}`), made on first use.
    ///
    /// # Errors
    ///
    /// [`ManageError::NotFound`] (`location`), [`ManageError::UnknownBrand`],
    /// [`ManageError::Store`].
    pub async fn signup_token(
        &self,
        brand: BrandId,
        location: LocationId,
    ) -> Result<String, ManageError> {
        let fresh = &self.new_poster_secret();
        let now = self.clock.now();
        self.manage("signup_token", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            location_of(tx, brand, location).await?;
            self.poster_token_in(tx, brand, location, fresh, now).await
        })
        .await
    }

    /// The token of the location's sign-up link, its secret made from `fresh` on first
    /// use, in the caller's transaction.
    pub(crate) async fn poster_token_in(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        location: LocationId,
        fresh: &str,
        now: time::OffsetDateTime,
    ) -> Result<String, ManageError> {
        let secret = match tx.locations().signup_secret(brand, location).await? {
            Some(secret) => secret,
            None => {
                tx.locations()
                    .set_signup_secret(brand, location, fresh, now)
                    .await?;
                fresh.to_owned()
            }
        };
        Ok(poster_token(brand, location, &secret))
    }

    /// Replaces the location's sign-up secret: links printed before stop working.
    ///
    /// # Errors
    ///
    /// As [`Services::signup_token`].
    pub async fn rotate_signup_token(
        &self,
        brand: BrandId,
        location: LocationId,
    ) -> Result<String, ManageError> {
        let fresh = &self.new_poster_secret();
        let now = self.clock.now();
        self.manage("rotate_signup_token", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            location_of(tx, brand, location).await?;
            tx.locations()
                .set_signup_secret(brand, location, fresh, now)
                .await?;
            Ok(poster_token(brand, location, fresh))
        })
        .await
    }

    /// What the sign-up page of a poster token shows. A token that is malformed,
    /// rotated away or names nothing is [`ManageError::NotFound`] (`poster`).
    ///
    /// # Errors
    ///
    /// [`ManageError::NotFound`], [`ManageError::Store`].
    pub async fn signup_page(&self, token: &str) -> Result<SignupPage, ManageError> {
        let gone = || not_found("poster", "(this link)");
        let (brand, location, secret) = split_poster_token(token).ok_or_else(gone)?;
        self.manage("signup_page", async |tx| {
            let (found, location) = poster(tx, brand, location, secret).await?;
            let mut offers: Vec<Reward> = tx
                .brands()
                .rewards(brand)
                .await?
                .into_iter()
                .filter(|r| r.active)
                .collect();
            offers.sort_by(|a, b| a.cost.cmp(&b.cost).then_with(|| a.name.cmp(&b.name)));
            let notice = tx.notices().notice(brand, None).await?;
            Ok(SignupPage {
                brand: found,
                location,
                offers,
                notice,
            })
        })
        .await
    }

    /// Signs up the phone that the customer session `session` proved (a sign-up code),
    /// from the poster `token`, with `details`: registers it, or records the answers on
    /// the customer who already has it. The session is bound to the customer and the
    /// brand's welcome campaigns are planned for them in the same transaction.
    ///
    /// # Errors
    ///
    /// [`ManageError::NotFound`] (`poster`, or `session` when it ended or is not a
    /// sign-up session); [`ManageError::Invalid`] (`name`, `birthday`, `programme`);
    /// [`ManageError::Store`].
    pub async fn sign_up(
        &self,
        token: &str,
        session: &str,
        details: &SignupDetails,
    ) -> Result<Customer, ManageError> {
        let (customer, _) = self.sign_up_with(token, session, details, None).await?;
        Ok(customer)
    }

    /// [`Services::sign_up`] through the invite `invite` (a member's `/r/{token}`
    /// link), from the client address `client`: besides signing up, records the
    /// referral — pending until the friend's first order — or the reason it is refused
    /// (see [`regulars_loyalty::referrals::check_signup`]); the sign-up itself goes
    /// through either way. Answers the referral's state, `None` when the invite names
    /// no member of the poster's brand (another brand's link, a deleted member).
    ///
    /// # Errors
    ///
    /// As [`Services::sign_up`].
    pub async fn sign_up_referred(
        &self,
        token: &str,
        session: &str,
        details: &SignupDetails,
        invite: &str,
        client: &str,
    ) -> Result<(Customer, Option<ReferralState>), ManageError> {
        let now = self.clock.now();
        let counts = &self.otp.referral_signups;
        let within_budget = counts
            .exhausted(client, REFERRAL_SIGNUPS_PER_ADDRESS, now)
            .is_none();
        counts.count(client, now);
        self.sign_up_with(token, session, details, Some((invite, within_budget)))
            .await
    }

    async fn sign_up_with(
        &self,
        token: &str,
        session: &str,
        details: &SignupDetails,
        invite: Option<(&str, bool)>,
    ) -> Result<(Customer, Option<ReferralState>), ManageError> {
        let gone = || not_found("poster", "(this link)");
        let (brand, location, secret) = split_poster_token(token).ok_or_else(gone)?;
        let proved = self
            .customer_session(brand, session)
            .await
            .map_err(|e| match e {
                crate::otp::OtpError::Store(e) => ManageError::Store(e),
                _ => not_found("session", "(expired)"),
            })?
            .filter(|s| s.purpose == OtpPurpose::SignUp.as_str())
            .ok_or_else(|| not_found("session", "(expired)"))?;
        if !details.programme {
            return Err(invalid(
                "programme",
                "joining needs your consent to the loyalty programme",
            ));
        }
        let now = self.clock.now();
        let birthday = parse_birthday(&details.birthday, now.date())?;
        let name = details.name.trim();
        let input = CustomerInput {
            name: (!name.is_empty()).then(|| name.to_owned()),
            birthday,
            consent: ConsentPatch {
                zalo: Some(details.zalo),
                sms: Some(details.sms),
                email: Some(details.email),
                profiling: Some(details.profiling),
                programme: Some(true),
            },
            notice_version: details.notice_version,
            consent_source: Some(ChangeSource::Signup),
            ..CustomerInput::default()
        };
        input.check()?;
        let input = &input;
        let session_hash = &self.token_hash(brand, session);
        self.manage("sign_up", async |tx| {
            let (found, location) = poster(tx, brand, location, secret).await?;
            let by = ChangeAuthor {
                actor: format!("signup@location:{}", location.code),
                source: ChangeSource::Signup,
            };
            let existing = tx
                .customers()
                .customer_by_phone(brand, &proved.phone)
                .await?;
            let existed = existing.is_some();
            let customer = match existing {
                None => {
                    self.join_new(tx, brand, &proved.phone, input, &by, now)
                        .await?
                }
                Some(before) => self.join_known(tx, before, input, &by).await?,
            };
            let referral = match invite {
                Some((invite, within_budget)) => {
                    let joined = Joined {
                        customer: &customer,
                        existed,
                        within_budget,
                        now,
                    };
                    self.record_referral_in(tx, invite, &joined).await?
                }
                None => None,
            };
            tx.otp()
                .bind_session(brand, session_hash, customer.id)
                .await?;
            // Joining is now, also for a customer the POS made long ago.
            self.after_registration_in(tx, &found, &customer, now)
                .await?;
            Ok((customer, referral))
        })
        .await
    }

    /// Registers a phone no customer has, with the sign-up's answers.
    async fn join_new(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        phone: &regulars_domain::Phone,
        input: &CustomerInput,
        by: &ChangeAuthor,
        now: time::OffsetDateTime,
    ) -> Result<Customer, ManageError> {
        let customer = Customer {
            id: CustomerId::from_uuid(self.ids.new_id()),
            brand_id: brand,
            phone: phone.clone(),
            name: input.name.clone(),
            birthday: input.birthday,
            email: None,
            zalo_user_id: None,
            consent: input.consent.apply(ChannelConsent::default()),
            created_at: now,
        };
        tx.customers().insert_customer(&customer).await?;
        self.record_change(tx, &customer, input.given(), by).await?;
        self.record_consent(tx, &ChannelConsent::default(), &customer, input, by)
            .await?;
        Ok(customer)
    }

    /// Records the sign-up's answers on the customer who already has the phone: a name
    /// or birthday left empty keeps the stored one; the rest of the profile stays.
    async fn join_known(
        &self,
        tx: &mut dyn Transaction,
        before: Customer,
        input: &CustomerInput,
        by: &ChangeAuthor,
    ) -> Result<Customer, ManageError> {
        let mut customer = before.clone();
        if input.name.is_some() {
            customer.name.clone_from(&input.name);
        }
        if input.birthday.is_some() {
            customer.birthday = input.birthday;
        }
        customer.consent = input.consent.apply(before.consent);
        let fields: Vec<String> = before
            .changed_fields(&customer)
            .into_iter()
            .map(str::to_owned)
            .collect();
        if !fields.is_empty() {
            tx.customers().update_customer(&customer).await?;
            self.record_change(tx, &customer, fields, by).await?;
            self.record_consent(tx, &before.consent, &customer, input, by)
                .await?;
        }
        Ok(customer)
    }
}

/// The brand and location of a poster whose secret matches, else `poster` not found.
async fn poster(
    tx: &mut dyn Transaction,
    brand: BrandId,
    location: LocationId,
    secret: &str,
) -> Result<(Brand, Location), ManageError> {
    let gone = || not_found("poster", "(this link)");
    let stored = tx
        .locations()
        .signup_secret(brand, location)
        .await?
        .ok_or_else(gone)?;
    if !bool::from(stored.as_bytes().ct_eq(secret.as_bytes())) {
        return Err(gone());
    }
    let found = match load_brand::<ManageError>(tx, brand).await {
        Ok(found) => found,
        Err(ManageError::UnknownBrand(_)) => return Err(gone()),
        Err(e) => return Err(e),
    };
    let location = location_of(tx, brand, location).await.map_err(|_| gone())?;
    Ok((found, location))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn a_poster_token_round_trips_and_nothing_else_opens() {
        let brand = BrandId::from_uuid(Uuid::from_u128(7));
        let location = LocationId::from_uuid(Uuid::from_u128(9));
        let secret = "0123456789abcdef0123456789abcdef";
        let token = poster_token(brand, location, secret);
        assert_eq!(split_poster_token(&token), Some((brand, location, secret)));
        for bad in [
            "",
            "a.b.c",
            &token[..token.len() - 1],
            &format!("{token}.x"),
            &token.replace('.', "_"),
        ] {
            assert_eq!(split_poster_token(bad), None, "{bad}");
        }
    }

    #[test]
    fn birthdays_are_past_dates_or_nothing() {
        let today = date!(2026 - 12 - 07);
        assert_eq!(parse_birthday(" ", today), Ok(None));
        assert_eq!(
            parse_birthday("1995-08-21", today),
            Ok(Some(date!(1995 - 08 - 21)))
        );
        for bad in ["21/08/1995", "2027-01-01", "1800-01-01", "1995-02-30", "x"] {
            assert!(parse_birthday(bad, today).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_token_text_parses_or_is_refused_without_panicking(s in "\\PC{0,120}") {
            let _ = split_poster_token(&s);
        }
    }
}
