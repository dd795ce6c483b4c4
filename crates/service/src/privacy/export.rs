//! Export: everything held about one customer, for their right to a copy of it.

use crate::Services;
use crate::account::load_brand;
use crate::manage::{ManageError, not_found};
use crate::privacy::erase::ANSWER_PERIOD;
use regulars_domain::{
    BrandId, ConsentEvent, Currency, Customer, CustomerChange, CustomerId, OrderId,
};
use regulars_loyalty::ledger::LedgerEntry;
use regulars_loyalty::vouchers::Voucher;
use regulars_ports::{
    CustomerScores, OutboxMessage, PrivacyRequest, PrivacyRequestKind, StoredOrder,
};
use time::OffsetDateTime;

/// Orders read per page while exporting.
const ORDER_PAGE: u64 = 500;

/// Everything the brand holds about a customer.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerExport {
    /// When it was made.
    pub generated_at: OffsetDateTime,
    /// The brand's currency (amounts of scores are in it).
    pub currency: Currency,
    /// Profile and current consent.
    pub customer: Customer,
    /// Every change of profile and consent: when, by whom, from where, which fields.
    pub changes: Vec<CustomerChange>,
    /// Every consent given or withdrawn, per purpose, with its source and notice version.
    pub consents: Vec<ConsentEvent>,
    /// Orders with their lines, oldest id first.
    pub orders: Vec<StoredOrder>,
    /// Points ledger, in sequence order.
    pub ledger: Vec<LedgerEntry>,
    /// Vouchers.
    pub vouchers: Vec<Voucher>,
    /// The last scoring run's view: scores and segments.
    pub scores: Option<CustomerScores>,
    /// Messages written to them: status, channel, times, body.
    pub messages: Vec<OutboxMessage>,
    /// Their requests about their data, this export included.
    pub requests: Vec<PrivacyRequest>,
    /// Their ratings of visits, with comments.
    pub ratings: Vec<regulars_domain::Rating>,
    /// Their clicks on links of messages and opens of emails.
    pub engagements: Vec<regulars_domain::Engagement>,
}

impl Services {
    /// Everything held about a customer, on their request made by an admin on their
    /// behalf; the request is logged with `actor`. An unknown or erased customer is
    /// [`ManageError::NotFound`] (logged too).
    pub async fn export_customer(
        &self,
        brand: BrandId,
        customer: CustomerId,
        actor: &str,
    ) -> Result<CustomerExport, ManageError> {
        let received = self.clock.now();
        let request_id = self.ids.new_id();
        let outcome = self
            .manage("export_customer", async |tx| {
                let found = load_brand::<ManageError>(tx, brand).await?;
                let Some(person) = tx.customers().customer(brand, customer).await? else {
                    return Err(not_found("customer", customer));
                };
                tx.privacy()
                    .record_request(&PrivacyRequest {
                        id: request_id,
                        brand_id: brand,
                        customer_id: customer,
                        kind: PrivacyRequestKind::Export,
                        actor: actor.to_owned(),
                        received_at: received,
                        deadline_at: received + ANSWER_PERIOD,
                        completed_at: Some(received),
                        outcome: "done".to_owned(),
                    })
                    .await?;
                let mut orders = Vec::new();
                let mut after: Option<OrderId> = None;
                loop {
                    let page = tx
                        .orders()
                        .orders(brand, Some(customer), after, ORDER_PAGE)
                        .await?;
                    after = page.last().map(|o| o.id);
                    let full = page.len() as u64 == ORDER_PAGE;
                    orders.extend(page);
                    if !full {
                        break;
                    }
                }
                Ok(CustomerExport {
                    generated_at: received,
                    currency: found.currency,
                    changes: tx.customers().changes(brand, customer).await?,
                    consents: tx.customers().consent_history(brand, customer).await?,
                    orders,
                    ledger: tx.ledger().entries(brand, customer).await?,
                    vouchers: tx.vouchers().vouchers_of(brand, customer).await?,
                    scores: tx
                        .intelligence()
                        .scores_of(brand, &[customer])
                        .await?
                        .into_iter()
                        .next(),
                    messages: tx
                        .privacy()
                        .messages_of(brand, customer, &person.phone)
                        .await?,
                    requests: tx.privacy().requests(brand, customer).await?,
                    ratings: tx.ratings().customer_ratings(brand, customer).await?,
                    engagements: tx
                        .engagement()
                        .customer_engagements(brand, customer)
                        .await?,
                    customer: person,
                })
            })
            .await;
        if let Err(ManageError::NotFound { .. }) = &outcome {
            self.log_refused(brand, customer, PrivacyRequestKind::Export, actor, received)
                .await;
        }
        outcome
    }
}
