//! Polling a POS's invoice list (KiotViet FnB has no invoice webhook): each invoice
//! changed since the stored cursor goes through the webhook's decoder and the same
//! idempotent counting ([`Services::receive_webhook`]), so an invoice seen twice, or
//! first by a poll and then by a webhook, counts once, and its cancellation refunds.
//!
//! One poll of an integration:
//! 1. takes the integration's lease on its cursor row (another worker polling it, a
//!    back-off not run out, or polling disabled: nothing to do);
//! 2. asks for the invoices changed since the cursor minus [`PollOptions::overlap`]
//!    (an invoice committed late with an older modification time is still seen; what
//!    is seen twice counts once), page by page, oldest change first;
//! 3. counts each invoice in its own transaction, and moves the cursor only past what
//!    was counted: a storage failure or an unreachable API stops the poll there, and the
//!    next one starts again from the last committed invoice;
//! 4. stores the cursor and gives the lease up.
//!
//! Errors: the API unavailable (timeouts, 429, 5xx) backs off (doubling from
//! [`PollOptions::base_backoff`] up to [`PollOptions::max_backoff`]); credentials refused
//! stop polling (`disabled`, shown with the integration) until new ones are given.

use crate::access::WebhookEndpoint;
use crate::error::{ErrorClass, UseCaseError};
use crate::{Services, WebhookOutcome};
use regulars_domain::{BrandId, IntegrationId};
use regulars_ports::{
    IntegrationKind, PollCursor, PosApi, PosApiError, PosEvent, StoreError, VerifiedEvent,
    WebhookDelivery,
};
use time::{Duration, OffsetDateTime};

/// How polls run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollOptions {
    /// How long one poll may hold an integration before another worker may take it.
    pub lease: Duration,
    /// How far before the cursor each poll asks again.
    pub overlap: Duration,
    /// How far back the first poll of an integration looks.
    pub first_lookback: Duration,
    /// The most pages one poll reads (the next poll goes on from where it stopped).
    pub max_pages: u32,
    /// The first wait after an error; it doubles with each error in a row.
    pub base_backoff: Duration,
    /// The longest wait after errors.
    pub max_backoff: Duration,
}

impl Default for PollOptions {
    fn default() -> Self {
        PollOptions {
            lease: Duration::minutes(5),
            overlap: Duration::minutes(10),
            first_lookback: Duration::days(1),
            max_pages: 20,
            base_backoff: Duration::minutes(1),
            max_backoff: Duration::hours(1),
        }
    }
}

/// How one integration's poll ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    /// The poll ran to its end (or its page limit).
    Polled,
    /// Not polled now: another worker holds it, it is backing off, or it is disabled.
    Skipped,
    /// Stopped early by an error; it backs off until `retry_at`.
    Failed {
        /// What went wrong.
        error: String,
        /// No poll before this time.
        retry_at: OffsetDateTime,
    },
    /// The POS refused the credentials: polling stopped until new ones are given.
    Disabled {
        /// Why.
        reason: String,
    },
}

/// What one integration's poll did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollReport {
    /// The brand.
    pub brand: BrandId,
    /// The integration.
    pub integration: IntegrationId,
    /// How it ended.
    pub outcome: PollOutcome,
    /// Invoices counted now (orders, refunds, links; not replays or duplicates).
    pub counted: u64,
    /// Invoices acknowledged without counting (in progress, unusable, skipped).
    pub ignored: u64,
    /// Pages read.
    pub pages: u32,
}

/// The cursor after a poll: the latest change time handled, never past an invoice that
/// could not be handled (`stopped_at`, a storage or API failure), and never behind the
/// cursor before.
pub fn advance_cursor(
    before: Option<OffsetDateTime>,
    handled: &[Option<OffsetDateTime>],
    stopped_at: Option<OffsetDateTime>,
) -> Option<OffsetDateTime> {
    let mut latest = handled.iter().flatten().copied().max();
    if let (Some(at), Some(stop)) = (latest, stopped_at)
        && at >= stop
    {
        latest = stop.checked_sub(Duration::microseconds(1));
    }
    match (before, latest) {
        (Some(b), Some(l)) => Some(b.max(l)),
        (b, l) => b.or(l),
    }
}

/// The wait after `failures` errors in a row (at least one).
pub fn backoff(options: &PollOptions, failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(30);
    let wait = options
        .base_backoff
        .checked_mul(1i32 << doublings.min(20))
        .unwrap_or(options.max_backoff);
    wait.min(options.max_backoff)
}

/// A storage failure of the poll's own bookkeeping, as a use-case error (so conflicts
/// run again).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct PollStoreError(#[from] StoreError);

impl UseCaseError for PollStoreError {
    fn class(&self) -> ErrorClass {
        crate::error::store_class(&self.0)
    }

    fn field(&self) -> Option<&'static str> {
        None
    }
}

/// Why a poll stopped before its end.
enum Stop {
    /// Try again after a back-off.
    Retry(String),
    /// The credentials were refused: stop until new ones are given.
    Disable(String),
}

#[derive(Default)]
struct Tally {
    counted: u64,
    ignored: u64,
    pages: u32,
    handled: Vec<Option<OffsetDateTime>>,
    stopped_at: Option<OffsetDateTime>,
}

impl Services {
    /// Polls every active KiotViet FnB integration once (those another worker polls, or
    /// that back off, are skipped). Only listing the integrations can fail; each
    /// integration's own failure is in its report.
    pub async fn poll_pos_invoices(
        &self,
        api: &dyn PosApi,
        options: &PollOptions,
    ) -> Result<Vec<PollReport>, StoreError> {
        let records = self
            .transact("poll_integrations", |mut tx| async move {
                let result = tx
                    .access()
                    .integrations_of_kind(IntegrationKind::KiotvietFnb)
                    .await
                    .map_err(PollStoreError);
                (tx, result)
            })
            .await
            .map_err(|e| e.0)?;
        let mut reports = Vec::with_capacity(records.len());
        for record in records {
            let endpoint = match self.webhook_endpoint(record.id).await {
                Ok(endpoint) => endpoint,
                Err(error) => {
                    tracing::warn!(%error, integration = %record.id, "a polled integration cannot be opened");
                    continue;
                }
            };
            reports.push(self.poll_integration(api, &endpoint, options).await?);
        }
        Ok(reports)
    }

    /// Polls one integration (see the module docs).
    pub async fn poll_integration(
        &self,
        api: &dyn PosApi,
        endpoint: &WebhookEndpoint,
        options: &PollOptions,
    ) -> Result<PollReport, StoreError> {
        let (brand, integration) = (endpoint.brand, endpoint.integration);
        let owner = self.ids.new_id().to_string();
        let now = self.clock.now();
        let until = now + options.lease;
        let owner_ref = owner.as_str();
        let leased = self
            .transact("lease_poll", |mut tx| async move {
                let result = tx
                    .access()
                    .lease_poll(brand, integration, owner_ref, now, until)
                    .await
                    .map_err(PollStoreError);
                (tx, result)
            })
            .await
            .map_err(|e| e.0)?;
        let mut report = PollReport {
            brand,
            integration,
            outcome: PollOutcome::Skipped,
            counted: 0,
            ignored: 0,
            pages: 0,
        };
        let Some(mut cursor) = leased else {
            return Ok(report);
        };
        let since = cursor.cursor.unwrap_or(now - options.first_lookback) - options.overlap;
        let mut tally = Tally::default();
        let stop = self
            .poll_pages(api, endpoint, since, options, &mut tally)
            .await;
        let finished = self.clock.now();
        cursor.cursor = advance_cursor(cursor.cursor, &tally.handled, tally.stopped_at);
        cursor.polled_at = Some(finished);
        report.outcome = match stop {
            None => {
                cursor.failures = 0;
                cursor.retry_at = None;
                cursor.last_error = None;
                PollOutcome::Polled
            }
            Some(Stop::Retry(error)) => {
                cursor.failures = cursor.failures.saturating_add(1);
                let retry_at = finished + backoff(options, cursor.failures);
                cursor.retry_at = Some(retry_at);
                cursor.last_error = Some(error.clone());
                tracing::warn!(%brand, %integration, %error, failures = cursor.failures, %retry_at, "POS invoice poll failed; backing off");
                PollOutcome::Failed { error, retry_at }
            }
            Some(Stop::Disable(reason)) => {
                cursor.failures = cursor.failures.saturating_add(1);
                cursor.disabled = Some(reason.clone());
                cursor.last_error = Some(reason.clone());
                tracing::error!(%brand, %integration, %reason, "POS invoice polling stopped: the POS refused the integration's credentials; give it new ones (PUT /v1/integrations/<id>/access)");
                PollOutcome::Disabled { reason }
            }
        };
        (report.counted, report.ignored, report.pages) =
            (tally.counted, tally.ignored, tally.pages);
        let cursor = &cursor;
        let kept = self
            .transact("finish_poll", |mut tx| async move {
                let result = tx
                    .access()
                    .finish_poll(owner_ref, cursor)
                    .await
                    .map_err(PollStoreError);
                (tx, result)
            })
            .await
            .map_err(|e| e.0)?;
        if !kept {
            tracing::warn!(%brand, %integration, "a POS invoice poll outlived its lease; another poll took over");
        }
        Ok(report)
    }

    /// Reads pages and counts their invoices until the list ends, the page limit, or an
    /// error (returned).
    async fn poll_pages(
        &self,
        api: &dyn PosApi,
        endpoint: &WebhookEndpoint,
        since: OffsetDateTime,
        options: &PollOptions,
        tally: &mut Tally,
    ) -> Option<Stop> {
        let delivery = delivery(endpoint, self.clock.now());
        let mut current_item: u64 = 0;
        while tally.pages < options.max_pages {
            let page = match api.invoices_since(&delivery, since, current_item).await {
                Ok(page) => page,
                Err(PosApiError::Unavailable(e)) => return Some(Stop::Retry(e)),
                Err(PosApiError::Refused(e)) => return Some(Stop::Disable(e)),
            };
            tally.pages += 1;
            let read = page.invoices.len() as u64;
            for invoice in page.invoices {
                match invoice.event {
                    Ok(event) => {
                        if let Err(stop) = self.count(api, endpoint, &delivery, event, tally).await
                        {
                            tally.stopped_at = invoice.modified_at;
                            return Some(stop);
                        }
                    }
                    Err(ignored) => {
                        tracing::info!(integration = %endpoint.integration, reason = ignored.reason.as_str(), path = %ignored.path, detail = %ignored.detail, "polled invoice acknowledged without being counted");
                        tally.ignored += 1;
                    }
                }
                tally.handled.push(invoice.modified_at);
            }
            current_item += read;
            if read == 0 || current_item >= page.total {
                break;
            }
        }
        None
    }

    /// Counts one polled invoice as its webhook would be; for an order kept waiting for
    /// its customer, asks the POS's customers API for the phone. `Err` only for what a
    /// later poll may do better (storage or the API failing).
    async fn count(
        &self,
        api: &dyn PosApi,
        endpoint: &WebhookEndpoint,
        delivery: &WebhookDelivery<'_>,
        event: VerifiedEvent,
        tally: &mut Tally,
    ) -> Result<(), Stop> {
        let (event_id, occurred_at, source) =
            (event.event_id.clone(), event.occurred_at, event.source);
        let customer_ref = event.customer_ref.clone();
        let receipt = match self.receive_webhook(endpoint, event).await {
            Ok(receipt) => receipt,
            Err(error)
                if matches!(
                    error.class(),
                    ErrorClass::Internal | ErrorClass::Unavailable
                ) =>
            {
                return Err(Stop::Retry(format!("counting {event_id}: {error}")));
            }
            Err(error) => {
                tracing::warn!(%error, %event_id, integration = %endpoint.integration, "polled invoice skipped");
                tally.ignored += 1;
                return Ok(());
            }
        };
        if !receipt.replayed && !is_duplicate(&receipt.outcome) {
            tally.counted += 1;
        }
        let (WebhookOutcome::Waiting { .. }, Some(customer_ref)) = (&receipt.outcome, customer_ref)
        else {
            return Ok(());
        };
        let phone = match api.customer_phone(delivery, &customer_ref).await {
            Ok(Some(phone)) => phone,
            Ok(None) => return Ok(()),
            Err(error) => {
                tracing::warn!(%error, %customer_ref, "KiotViet customer lookup failed; the invoice waits for customer.update");
                return Ok(());
            }
        };
        let contact = VerifiedEvent {
            event_id: format!("{event_id}/customer"),
            occurred_at,
            source,
            customer_ref: None,
            event: PosEvent::CustomerContact {
                customer_ref: customer_ref.clone(),
                phone,
            },
        };
        match self.receive_webhook(endpoint, contact).await {
            Ok(_) => Ok(()),
            Err(error)
                if matches!(
                    error.class(),
                    ErrorClass::Internal | ErrorClass::Unavailable
                ) =>
            {
                Err(Stop::Retry(format!("linking {customer_ref}: {error}")))
            }
            Err(error) => {
                tracing::warn!(%error, %customer_ref, "linking a KiotViet customer failed; the invoice keeps waiting");
                Ok(())
            }
        }
    }

    /// The integration's poll state, for people (`None` before its first poll).
    pub async fn poll_state(
        &self,
        brand: BrandId,
        integration: IntegrationId,
    ) -> Result<Option<PollCursor>, StoreError> {
        self.transact("poll_state", |mut tx| async move {
            let result = tx
                .access()
                .poll_cursor(brand, integration)
                .await
                .map_err(PollStoreError);
            (tx, result)
        })
        .await
        .map_err(|e| e.0)
    }
}

fn is_duplicate(outcome: &WebhookOutcome) -> bool {
    match outcome {
        WebhookOutcome::Order { receipt } => receipt.duplicate,
        WebhookOutcome::Refund { receipt } => receipt.duplicate,
        _ => false,
    }
}

fn delivery(endpoint: &WebhookEndpoint, now: OffsetDateTime) -> WebhookDelivery<'_> {
    WebhookDelivery {
        kind: endpoint.kind,
        headers: &[],
        body: &[],
        secret: &endpoint.secret,
        access: endpoint.access.as_ref(),
        brand: endpoint.brand,
        currency: endpoint.settings.currency,
        calling_code: endpoint.settings.calling_code,
        utc_offset: endpoint.settings.utc_offset,
        now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(micros: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::microseconds(micros)
    }

    proptest! {
        /// The cursor never moves back, never passes an invoice that was not counted,
        /// and reaches the latest change handled when nothing failed.
        #[test]
        fn the_cursor_moves_only_past_what_was_handled(
            before in proptest::option::of(0i64..1_000_000),
            handled in proptest::collection::vec(proptest::option::of(0i64..1_000_000), 0..20),
            stopped in proptest::option::of(0i64..1_000_000),
        ) {
            let handled_at: Vec<_> = handled.iter().map(|h| h.map(at)).collect();
            let after = advance_cursor(before.map(at), &handled_at, stopped.map(at));
            if let Some(b) = before {
                prop_assert!(after >= Some(at(b)));
            }
            let latest = handled.iter().flatten().max().copied();
            match (stopped, latest) {
                (Some(stop), _) => {
                    // Past the failed invoice only if the cursor already was.
                    if after >= Some(at(stop)) {
                        prop_assert!(before >= Some(stop));
                    }
                }
                (None, Some(l)) => prop_assert_eq!(after, Some(at(l.max(before.unwrap_or(l))))),
                (None, None) => prop_assert_eq!(after, before.map(at)),
            }
        }

        /// The back-off doubles from the base and never exceeds the cap.
        #[test]
        fn the_backoff_doubles_up_to_its_cap(failures in 1u32..100) {
            let options = PollOptions::default();
            let wait = backoff(&options, failures);
            prop_assert!(wait >= options.base_backoff.min(options.max_backoff));
            prop_assert!(wait <= options.max_backoff);
            prop_assert!(backoff(&options, failures + 1) >= wait);
        }
    }

    #[test]
    fn backoff_examples() {
        let options = PollOptions::default();
        assert_eq!(backoff(&options, 1), Duration::minutes(1));
        assert_eq!(backoff(&options, 2), Duration::minutes(2));
        assert_eq!(backoff(&options, 7), Duration::hours(1));
    }
}
