//! Erasure: the customer's contact details and message bodies are destroyed in one
//! transaction; the row stays under its id as a pseudonym, so the ledger, orders,
//! vouchers and reports keep their amounts and `check-ledger` stays exact.

use crate::Services;
use crate::account::load_brand;
use crate::manage::{ManageError, not_found};
use regulars_domain::{BrandId, Customer, CustomerId};
use regulars_ports::{ErasureCounts, PrivacyRequest, PrivacyRequestKind, Transaction};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// How long a brand has to answer a customer's request about their data. Vietnam's
/// Decree 13/2023 gave 72 hours for erasure and for a copy of the data; the law that
/// replaced it (No. 91/2025/QH15) leaves periods to its decrees, so the strictest known
/// figure is kept (see `docs/privacy.md`).
pub const ANSWER_PERIOD: Duration = Duration::hours(72);

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureReport {
    /// The erased customer's id, now a pseudonym.
    pub customer_id: CustomerId,
    /// The logged request.
    pub request_id: Uuid,
    /// When it was done.
    pub erased_at: OffsetDateTime,
    /// The legal deadline it met.
    pub deadline_at: OffsetDateTime,
    /// What was removed or changed.
    pub counts: ErasureCounts,
}

impl Services {
    /// Erases (de-identifies) a customer on their request, made by an admin on their
    /// behalf: see [`regulars_ports::PrivacyRepo::erase_customer`]. The request is logged
    /// with `actor`; a customer who does not exist or is already erased is
    /// [`ManageError::NotFound`] (and that answer is logged too).
    pub async fn erase_customer(
        &self,
        brand: BrandId,
        customer: CustomerId,
        actor: &str,
    ) -> Result<ErasureReport, ManageError> {
        let received = self.clock.now();
        let request_id = self.ids.new_id();
        let outcome = self
            .manage("erase_customer", async |tx| {
                load_brand::<ManageError>(tx, brand).await?;
                let Some(found) = tx.customers().customer(brand, customer).await? else {
                    return Err(not_found("customer", customer));
                };
                let request = PrivacyRequest {
                    id: request_id,
                    brand_id: brand,
                    customer_id: customer,
                    kind: PrivacyRequestKind::Erasure,
                    actor: actor.to_owned(),
                    received_at: received,
                    deadline_at: received + ANSWER_PERIOD,
                    completed_at: Some(received),
                    outcome: "done".to_owned(),
                };
                let counts = erase_in(tx, &found, &request).await?;
                Ok(ErasureReport {
                    customer_id: customer,
                    request_id,
                    erased_at: received,
                    deadline_at: request.deadline_at,
                    counts,
                })
            })
            .await;
        if let Err(ManageError::NotFound { .. }) = &outcome {
            self.log_refused(
                brand,
                customer,
                PrivacyRequestKind::Erasure,
                actor,
                received,
            )
            .await;
        }
        outcome
    }

    /// Logs a request that found no customer, in a transaction of its own; a failure
    /// to log is itself logged, the caller's answer stays the refusal.
    pub(crate) async fn log_refused(
        &self,
        brand: BrandId,
        customer: CustomerId,
        kind: PrivacyRequestKind,
        actor: &str,
        received: OffsetDateTime,
    ) {
        let request = PrivacyRequest {
            id: self.ids.new_id(),
            brand_id: brand,
            customer_id: customer,
            kind,
            actor: actor.to_owned(),
            received_at: received,
            deadline_at: received + ANSWER_PERIOD,
            completed_at: Some(received),
            outcome: "not_found".to_owned(),
        };
        let request = &request;
        let logged = self
            .manage("log_privacy_request", async |tx| {
                load_brand::<ManageError>(tx, brand).await?;
                Ok(tx.privacy().record_request(request).await?)
            })
            .await;
        if let Err(error) = logged {
            tracing::warn!(%error, %brand, "could not log a refused privacy request");
        }
    }
}

/// Erases `customer` inside `tx` and logs `request`; shared by the customer's own
/// request and the retention sweep.
pub(crate) async fn erase_in(
    tx: &mut dyn Transaction,
    customer: &Customer,
    request: &PrivacyRequest,
) -> Result<ErasureCounts, ManageError> {
    let counts = tx
        .privacy()
        .erase_customer(
            customer.brand_id,
            customer.id,
            &customer.phone,
            request.received_at,
        )
        .await?
        .ok_or_else(|| not_found("customer", customer.id))?;
    // A rating's stars stay (reports count them); the words are the customer's.
    tx.ratings()
        .erase_rating_comments(customer.brand_id, customer.id)
        .await?;
    // When they clicked or opened a message is about them: it goes.
    tx.engagement()
        .erase_customer_engagements(customer.brand_id, customer.id)
        .await?;
    // A referral links two customers: it goes with either of them, with their invite.
    tx.referrals()
        .erase_customer(customer.brand_id, customer.id)
        .await?;
    tx.privacy().record_request(request).await?;
    Ok(counts)
}
