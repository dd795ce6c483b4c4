//! The access audit: every read of customers' personal data is recorded (who, when,
//! which customers, which parts of their data, through which route), and the log is
//! listed for an admin and the breach response, and pruned after its retention.
//!
//! A read is recorded by one `INSERT` in its own short transaction before the answer
//! leaves, and a read whose record cannot be written fails: a log that can miss reads
//! answers no breach question. The record holds ids only.

use crate::Services;
use crate::manage::{MAX_PAGE, ManageError, invalid};
use regulars_domain::{ApiKeyId, BrandId, CustomerId};
use regulars_ports::{AccessChannel, AccessQuery, AccessRecord, PersonalData, StoreError};
use time::Duration;

/// How long the access log is kept by default before the worker prunes it: two years,
/// longer than any complaint or inquiry about a read is likely to come.
pub const ACCESS_LOG_RETENTION: Duration = Duration::days(730);

/// Who read: the key (a dashboard session's key too) and how it came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    /// The API key; `None` for the operator's command line.
    pub key: Option<ApiKeyId>,
    /// The API, the dashboard or the command line.
    pub channel: AccessChannel,
}

impl Reader {
    /// A read through the JSON API with `key`.
    pub fn api(key: ApiKeyId) -> Self {
        Reader {
            key: Some(key),
            channel: AccessChannel::Api,
        }
    }

    /// A read through the dashboard, in a session signed in with `key`.
    pub fn dashboard(key: ApiKeyId) -> Self {
        Reader {
            key: Some(key),
            channel: AccessChannel::Dashboard,
        }
    }
}

impl Services {
    /// Records that `reader` was shown the `fields` of `customers` of `brand` through
    /// `route` (the route pattern, e.g. `GET /v1/customers/{id}`). A read that showed
    /// no customer is not recorded. Call it after the data is read and before it is
    /// answered; if it fails, do not answer the data.
    pub async fn record_access(
        &self,
        brand: BrandId,
        reader: Reader,
        route: &str,
        fields: &[PersonalData],
        customers: &[CustomerId],
    ) -> Result<(), ManageError> {
        if customers.is_empty() {
            return Ok(());
        }
        let mut fields = fields.to_vec();
        fields.sort_unstable();
        fields.dedup();
        let record = AccessRecord {
            id: self.ids.new_id(),
            brand_id: brand,
            at: self.clock.now(),
            key_id: reader.key,
            channel: reader.channel,
            route: route.to_owned(),
            fields,
            customers: customers.to_vec(),
        };
        let record = &record;
        self.manage("record_access", async |tx| {
            Ok(tx.audit().record_access(record).await?)
        })
        .await
    }

    /// The brand's access log matching `query`, oldest first; `until` before `since` or
    /// a page size outside 1 to [`MAX_PAGE`] is refused.
    pub async fn access_log(
        &self,
        brand: BrandId,
        query: &AccessQuery,
    ) -> Result<Vec<AccessRecord>, ManageError> {
        if !(1..=MAX_PAGE).contains(&query.limit) {
            return Err(invalid("limit", format!("must be 1 to {MAX_PAGE}")));
        }
        if let (Some(since), Some(until)) = (query.since, query.until)
            && until < since
        {
            return Err(invalid("until", "must not be before since"));
        }
        self.manage("access_log", async |tx| {
            Ok(tx.audit().accesses(brand, query).await?)
        })
        .await
    }

    /// Forgets the access records older than `retention`, in every brand (the worker's
    /// housekeeping); returns how many went.
    pub async fn prune_access_log(&self, retention: Duration) -> Result<u64, StoreError> {
        let before = self.clock.now() - retention;
        let mut tx = self.uow.begin().await?;
        match tx.audit().prune_accesses(before).await {
            Ok(n) => {
                tx.commit().await?;
                Ok(n)
            }
            Err(error) => {
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(%rollback, "rollback failed");
                }
                Err(error)
            }
        }
    }
}
