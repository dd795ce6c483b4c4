//! Correcting a customer's phone number, by an admin on their behalf or by the customer
//! from their card page once a code sent to the new number proved they hold it.
//!
//! What follows the number: the customer row holds the new number only (sealed, found
//! through its blind index); their messages not yet sent to the old number go to the new
//! one (delivery sends to the address stored with a message, so they are re-addressed in
//! the same transaction); their consent stays as it was, since consent is the person's
//! and not the number's; the do-not-call list is checked against the number a message
//! goes to, so it follows the new number; POS customer links keep the number the POS
//! gave until the POS sends its own update. The old number is free: it may join again
//! as a new customer.

use crate::account::load_brand;
use crate::error::{ErrorClass, UseCaseError, common_variants, store_class};
use crate::privacy::erase::ANSWER_PERIOD;
use crate::{ChangeAuthor, Services};
use regulars_domain::{BrandId, Customer, CustomerChange, CustomerId, Phone};
use regulars_ports::{PhoneChange, PrivacyRequest, PrivacyRequestKind, StoreError, Transaction};
use thiserror::Error;
use time::OffsetDateTime;
use uuid::Uuid;

/// Why a phone number was not changed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PhoneChangeError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// No such customer in the brand (or they were erased).
    #[error("customer {0} does not exist")]
    UnknownCustomer(CustomerId),
    /// The number is not a phone number.
    #[error("phone: {0}")]
    Invalid(String),
    /// Another customer of the brand has this number: nothing was changed.
    #[error("phone: this number belongs to another member")]
    Taken,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(PhoneChangeError, brand);

impl UseCaseError for PhoneChangeError {
    fn class(&self) -> ErrorClass {
        match self {
            PhoneChangeError::UnknownBrand(_) | PhoneChangeError::UnknownCustomer(_) => {
                ErrorClass::NotFound
            }
            PhoneChangeError::Invalid(_) => ErrorClass::Invalid,
            PhoneChangeError::Taken => ErrorClass::Refused,
            PhoneChangeError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            PhoneChangeError::UnknownBrand(_) => Some("brand"),
            PhoneChangeError::UnknownCustomer(_) => Some("customer"),
            PhoneChangeError::Invalid(_) | PhoneChangeError::Taken => Some("phone"),
            PhoneChangeError::Store(_) => None,
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            PhoneChangeError::Taken => Some("phone_taken"),
            _ => None,
        }
    }
}

/// A phone number changed (or found already right).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneChanged {
    /// The customer as they are now.
    pub customer: Customer,
    /// False when the customer already had the number (nothing was written).
    pub changed: bool,
    /// Messages not yet sent moved from the old number to the new one.
    pub readdressed: u64,
    /// The logged request.
    pub request_id: Uuid,
}

impl Services {
    /// Gives `customer` the number `phone` (any common form, read with the brand's
    /// calling code), as `by` asks: see the module's documentation for what follows.
    /// Logged as a `correct_phone` request (with its outcome, refusals too) and in the
    /// change history.
    ///
    /// # Errors
    ///
    /// [`PhoneChangeError::Invalid`] for a number that is not one;
    /// [`PhoneChangeError::Taken`] when another customer of the brand has it;
    /// [`PhoneChangeError::UnknownCustomer`] for a customer who does not exist or was
    /// erased; [`PhoneChangeError::UnknownBrand`], [`PhoneChangeError::Store`].
    pub async fn change_phone(
        &self,
        brand: BrandId,
        customer: CustomerId,
        phone: &str,
        by: &ChangeAuthor,
    ) -> Result<PhoneChanged, PhoneChangeError> {
        let received = self.clock.now();
        let request_id = self.ids.new_id();
        let outcome = self
            .transact("change_phone", |mut tx| async move {
                let result = self
                    .change_phone_in(
                        tx.as_mut(),
                        brand,
                        customer,
                        phone,
                        by,
                        received,
                        request_id,
                    )
                    .await;
                (tx, result)
            })
            .await;
        let refused = match &outcome {
            Err(PhoneChangeError::Taken) => Some("phone_taken"),
            Err(PhoneChangeError::UnknownCustomer(_)) => Some("not_found"),
            _ => None,
        };
        if let Some(refused) = refused {
            self.log_phone_refusal(brand, customer, &by.actor, received, refused)
                .await;
        }
        outcome
    }

    #[allow(clippy::too_many_arguments)]
    async fn change_phone_in(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        id: CustomerId,
        phone: &str,
        by: &ChangeAuthor,
        received: OffsetDateTime,
        request_id: Uuid,
    ) -> Result<PhoneChanged, PhoneChangeError> {
        let found = load_brand::<PhoneChangeError>(tx, brand).await?;
        let phone = Phone::parse(phone, found.calling_code)
            .map_err(|e| PhoneChangeError::Invalid(e.to_string()))?;
        let Some(mut customer) = tx.customers().customer(brand, id).await? else {
            return Err(PhoneChangeError::UnknownCustomer(id));
        };
        let (changed, readdressed) = match tx.customers().change_phone(brand, id, &phone).await {
            Ok(PhoneChange::Changed { readdressed, .. }) => (true, readdressed),
            Ok(PhoneChange::Unchanged) => (false, 0),
            Ok(PhoneChange::Taken) => return Err(PhoneChangeError::Taken),
            Err(StoreError::NotFound(_)) => return Err(PhoneChangeError::UnknownCustomer(id)),
            Err(other) => return Err(other.into()),
        };
        customer.phone = phone;
        if changed {
            let change = CustomerChange {
                id: self.ids.new_id(),
                brand_id: brand,
                customer_id: id,
                at: received,
                actor: by.actor.clone(),
                source: by.source,
                fields: vec!["phone".to_owned()],
                consent: customer.consent,
            };
            tx.customers().record_change(&change).await?;
        }
        let request = PrivacyRequest {
            id: request_id,
            brand_id: brand,
            customer_id: id,
            kind: PrivacyRequestKind::CorrectPhone,
            actor: by.actor.clone(),
            received_at: received,
            deadline_at: received + ANSWER_PERIOD,
            completed_at: Some(received),
            outcome: if changed { "done" } else { "unchanged" }.to_owned(),
        };
        tx.privacy().record_request(&request).await?;
        Ok(PhoneChanged {
            customer,
            changed,
            readdressed,
            request_id,
        })
    }

    /// Logs a refused change in a transaction of its own (the refused one wrote
    /// nothing); a failure to log is itself logged.
    async fn log_phone_refusal(
        &self,
        brand: BrandId,
        customer: CustomerId,
        actor: &str,
        received: OffsetDateTime,
        outcome: &str,
    ) {
        let request = &PrivacyRequest {
            id: self.ids.new_id(),
            brand_id: brand,
            customer_id: customer,
            kind: PrivacyRequestKind::CorrectPhone,
            actor: actor.to_owned(),
            received_at: received,
            deadline_at: received + ANSWER_PERIOD,
            completed_at: Some(received),
            outcome: outcome.to_owned(),
        };
        let logged: Result<(), PhoneChangeError> = self
            .transact("log_privacy_request", |mut tx| async move {
                let result = async {
                    load_brand::<PhoneChangeError>(tx.as_mut(), brand).await?;
                    Ok(tx.privacy().record_request(request).await?)
                }
                .await;
                (tx, result)
            })
            .await;
        if let Err(error) = logged {
            tracing::warn!(%error, %brand, "could not log a refused phone change");
        }
    }
}
