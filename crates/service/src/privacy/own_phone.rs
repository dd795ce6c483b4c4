//! The customer's own change of phone number from their card page: a code goes to the
//! NEW number (purpose [`OtpPurpose::PhoneChange`]) and only the right code changes it.
//! Sending the code says nothing about the number (the answer is the same whether or
//! not it is a member's); only after the code proved the customer holds the number are
//! they told that it belongs to another member.

use super::own::{CUSTOMER_ACTOR, OwnRequestError};
use crate::audit::Reader;
use crate::privacy::phone::{PhoneChangeError, PhoneChanged};
use crate::{ChangeAuthor, OtpPurpose, Services};
use regulars_domain::{BrandId, ChangeSource, Phone};
use regulars_ports::{AccessChannel, PersonalData};

impl Services {
    /// The number `typed` as the brand reads it, refused when it is not one or is the
    /// customer's own already.
    async fn own_new_phone(
        &self,
        brand: BrandId,
        token: &str,
        typed: &str,
    ) -> Result<(regulars_domain::CustomerId, Phone), OwnRequestError> {
        let customer = self.own_customer(brand, token).await?;
        let found = self.brand(brand).await?;
        let phone = Phone::parse(typed.trim(), found.calling_code)
            .map_err(|e| PhoneChangeError::Invalid(e.to_string()))?;
        let current = self
            .manage("own_phone", async |tx| {
                Ok(tx.customers().customer(brand, customer).await?)
            })
            .await?
            .ok_or(OwnRequestError::NotACustomer)?;
        if current.phone == phone {
            return Err(OwnRequestError::Empty("phone"));
        }
        Ok((customer, phone))
    }

    /// Sends a code to the new number `typed` for a customer signed in on their card
    /// page, asked from client address `client`; gives the number as read, for the code
    /// form. The answer is the same whether or not the number is a member's.
    ///
    /// # Errors
    ///
    /// As [`Services::own_customer`]; [`PhoneChangeError::Invalid`] for a number that is
    /// not one; [`OwnRequestError::Empty`] for the customer's own number; the code's
    /// rate limits ([`crate::OtpError::TooManyCodes`]).
    pub async fn own_phone_code(
        &self,
        brand: BrandId,
        token: &str,
        typed: &str,
        client: &str,
    ) -> Result<Phone, OwnRequestError> {
        let (_, phone) = self.own_new_phone(brand, token, typed).await?;
        self.issue_otp(brand, &phone, OtpPurpose::PhoneChange, client)
            .await?;
        Ok(phone)
    }

    /// Changes the signed-in customer's number to `typed` when `code` is the one sent
    /// to it; logged as a `correct_phone` request and in the change history (source
    /// `card_page`).
    ///
    /// # Errors
    ///
    /// As [`Services::own_phone_code`]; the code's refusals ([`crate::OtpError`]);
    /// [`PhoneChangeError::Taken`] (only once the code was right) when another member
    /// has the number.
    pub async fn own_phone_change(
        &self,
        brand: BrandId,
        token: &str,
        typed: &str,
        code: &str,
        client: &str,
    ) -> Result<PhoneChanged, OwnRequestError> {
        let (customer, phone) = self.own_new_phone(brand, token, typed).await?;
        let proof = self
            .verify_otp(brand, &phone, OtpPurpose::PhoneChange, code, client)
            .await?;
        // The code proved the number; the session it opened is not needed.
        self.end_customer_session(brand, &proof.token).await?;
        let by = ChangeAuthor {
            actor: CUSTOMER_ACTOR.to_owned(),
            source: ChangeSource::CardPage,
        };
        let changed = self
            .change_phone(brand, customer, phone.as_str(), &by)
            .await
            .map_err(|e| match e {
                PhoneChangeError::UnknownCustomer(_) => OwnRequestError::NotACustomer,
                other => OwnRequestError::Phone(other),
            })?;
        let reader = Reader {
            key: None,
            channel: AccessChannel::Customer,
            till: None,
        };
        self.record_access(
            brand,
            reader,
            "card page",
            &[PersonalData::Contact],
            &[customer],
        )
        .await?;
        Ok(changed)
    }
}
