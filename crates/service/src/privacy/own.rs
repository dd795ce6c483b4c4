//! The customer's own requests from their card page, once a one-time code sent to their
//! phone opened a session for that purpose ([`OtpPurpose::Card`]): a copy of everything
//! held about them, corrections of their contact details, consent withdrawn per purpose,
//! and erasure. Each is logged in the request log with the actor [`CUSTOMER_ACTOR`], and
//! what the customer was shown goes into the access log under the `customer` channel.
//!
//! The phone itself is changed in `own_phone`: a new number needs a code sent to it
//! first.

use crate::audit::Reader;
use crate::manage::ManageError;
use crate::privacy::erase::ANSWER_PERIOD;
use crate::{
    ChangeAuthor, ConsentPatch, CustomerExport, CustomerPatch, ErasureReport, OtpError, OtpPurpose,
    Services,
};
use regulars_domain::{BrandId, ChangeSource, Customer, CustomerId};
use regulars_ports::{AccessChannel, PersonalData, PrivacyRequest, PrivacyRequestKind};
use thiserror::Error;
use time::Date;

/// Who the request log and the change history name for a customer's own request.
pub const CUSTOMER_ACTOR: &str = "customer";

/// The route the access log names for reads on the card page.
const CARD_ROUTE: &str = "card page";

/// Why a customer's own request was not done.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum OwnRequestError {
    /// No live card-page session for this token: the customer asks for a new code.
    #[error("no open session: ask for a new code")]
    NoSession,
    /// The proved phone belongs to no customer of the brand (or they were erased).
    #[error("this phone belongs to no member")]
    NotACustomer,
    /// Erasure asked without its confirmation step.
    #[error("erasure must be confirmed")]
    NotConfirmed,
    /// A correction or withdrawal that changes nothing.
    #[error("{0}: nothing to change")]
    Empty(&'static str),
    /// The session could not be read.
    #[error(transparent)]
    Otp(#[from] OtpError),
    /// The use case refused or storage failed.
    #[error(transparent)]
    Manage(#[from] ManageError),
    /// A new phone number refused (not a number, or another member's), or storage failed.
    #[error(transparent)]
    Phone(#[from] crate::privacy::phone::PhoneChangeError),
}

/// What a customer may correct about themselves: `Some(None)` clears a field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnCorrection {
    /// Their name.
    pub name: Option<Option<String>>,
    /// Their email address.
    pub email: Option<Option<String>>,
    /// Their birthday.
    pub birthday: Option<Option<Date>>,
}

fn author() -> ChangeAuthor {
    ChangeAuthor {
        actor: CUSTOMER_ACTOR.to_owned(),
        source: ChangeSource::CardPage,
    }
}

fn reader() -> Reader {
    Reader {
        key: None,
        channel: AccessChannel::Customer,
        till: None,
    }
}

impl Services {
    /// The customer a card-page session proves, if it is live and its phone is a
    /// member's.
    ///
    /// # Errors
    ///
    /// [`OwnRequestError::NoSession`], [`OwnRequestError::NotACustomer`], or the
    /// session's storage error.
    pub async fn own_customer(
        &self,
        brand: BrandId,
        token: &str,
    ) -> Result<CustomerId, OwnRequestError> {
        let session = self
            .customer_session(brand, token)
            .await?
            .filter(|s| s.purpose == OtpPurpose::Card.as_str())
            .ok_or(OwnRequestError::NoSession)?;
        session.customer_id.ok_or(OwnRequestError::NotACustomer)
    }

    /// Everything held about the customer, for them to download (JSON or CSV as the
    /// admin's export); logged as an `export` request and in the access log.
    ///
    /// # Errors
    ///
    /// As [`Services::own_customer`]; an erased customer is
    /// [`OwnRequestError::NotACustomer`].
    pub async fn own_export(
        &self,
        brand: BrandId,
        token: &str,
    ) -> Result<CustomerExport, OwnRequestError> {
        let customer = self.own_customer(brand, token).await?;
        let export = self
            .export_customer(brand, customer, CUSTOMER_ACTOR)
            .await
            .map_err(gone)?;
        self.record_access(brand, reader(), CARD_ROUTE, &PersonalData::ALL, &[customer])
            .await?;
        Ok(export)
    }

    /// Corrects the customer's name, email or birthday as they ask; logged as a
    /// `correction` request and in the change history (source `card_page`).
    ///
    /// # Errors
    ///
    /// As [`Services::own_customer`]; [`OwnRequestError::Empty`] for a correction of
    /// nothing; [`ManageError::Invalid`] for a value the profile refuses.
    pub async fn own_correction(
        &self,
        brand: BrandId,
        token: &str,
        correction: OwnCorrection,
    ) -> Result<Customer, OwnRequestError> {
        if correction == OwnCorrection::default() {
            return Err(OwnRequestError::Empty("correction"));
        }
        let customer = self.own_customer(brand, token).await?;
        let patch = CustomerPatch {
            name: correction.name,
            email: correction.email,
            birthday: correction.birthday,
            ..CustomerPatch::default()
        };
        let changed = self
            .patch_customer(brand, customer, patch, &author())
            .await
            .map_err(gone)?;
        self.log_own(brand, customer, PrivacyRequestKind::Correction)
            .await?;
        let shown = [PersonalData::Profile, PersonalData::Contact];
        self.record_access(brand, reader(), CARD_ROUTE, &shown, &[customer])
            .await?;
        Ok(changed)
    }

    /// Withdraws the customer's consent for every purpose `withdraw` answers `false`
    /// (an answer `true` is not taken here: granting goes through the brand's notice);
    /// logged as a `consent_withdrawal` request and in the consent history (source
    /// `card_page`).
    ///
    /// # Errors
    ///
    /// As [`Services::own_customer`]; [`OwnRequestError::Empty`] when no purpose is
    /// withdrawn.
    pub async fn own_consent_withdrawal(
        &self,
        brand: BrandId,
        token: &str,
        withdraw: ConsentPatch,
    ) -> Result<Customer, OwnRequestError> {
        let no = |answer: Option<bool>| answer.filter(|yes| !yes);
        let patch = ConsentPatch {
            zalo: no(withdraw.zalo),
            sms: no(withdraw.sms),
            email: no(withdraw.email),
            profiling: no(withdraw.profiling),
            programme: no(withdraw.programme),
        };
        if patch == ConsentPatch::default() {
            return Err(OwnRequestError::Empty("consent withdrawal"));
        }
        let customer = self.own_customer(brand, token).await?;
        let changed = self
            .patch_customer(
                brand,
                customer,
                CustomerPatch {
                    consent: patch,
                    consent_source: Some(ChangeSource::CardPage),
                    ..CustomerPatch::default()
                },
                &author(),
            )
            .await
            .map_err(gone)?;
        self.log_own(brand, customer, PrivacyRequestKind::ConsentWithdrawal)
            .await?;
        let shown = [PersonalData::Profile, PersonalData::Consent];
        self.record_access(brand, reader(), CARD_ROUTE, &shown, &[customer])
            .await?;
        Ok(changed)
    }

    /// Erases the customer on their own request, after the confirmation step
    /// (`confirmed`), exactly as [`Services::erase_customer`] does; the session ends.
    ///
    /// # Errors
    ///
    /// As [`Services::own_customer`]; [`OwnRequestError::NotConfirmed`] without the
    /// confirmation.
    pub async fn own_erasure(
        &self,
        brand: BrandId,
        token: &str,
        confirmed: bool,
    ) -> Result<ErasureReport, OwnRequestError> {
        let customer = self.own_customer(brand, token).await?;
        if !confirmed {
            return Err(OwnRequestError::NotConfirmed);
        }
        let report = self
            .erase_customer(brand, customer, CUSTOMER_ACTOR)
            .await
            .map_err(gone)?;
        self.end_customer_session(brand, token).await?;
        Ok(report)
    }

    /// Logs a request answered at once.
    async fn log_own(
        &self,
        brand: BrandId,
        customer: CustomerId,
        kind: PrivacyRequestKind,
    ) -> Result<(), ManageError> {
        let received = self.clock.now();
        let request = PrivacyRequest {
            id: self.ids.new_id(),
            brand_id: brand,
            customer_id: customer,
            kind,
            actor: CUSTOMER_ACTOR.to_owned(),
            received_at: received,
            deadline_at: received + ANSWER_PERIOD,
            completed_at: Some(received),
            outcome: "done".to_owned(),
        };
        let request = &request;
        self.manage("log_privacy_request", async |tx| {
            Ok(tx.privacy().record_request(request).await?)
        })
        .await
    }
}

/// An erased customer's session names an id that no longer exists: not a member.
fn gone(error: ManageError) -> OwnRequestError {
    match error {
        ManageError::NotFound { .. } => OwnRequestError::NotACustomer,
        other => OwnRequestError::Manage(other),
    }
}
