//! The access audit: every read of customers' personal data is recorded (who, when,
//! which customers, which parts of their data, through which route), and the log is
//! listed for an admin and the breach response, and pruned after its retention.
//!
//! A read's record goes into an in-process buffer (microseconds on the request path);
//! the server writes the buffer every [`ACCESS_FLUSH_INTERVAL`] in one transaction, and
//! once more when it stops. One `INSERT` with its commit per read measured as much as
//! the read itself on SQLite (whose commits reach the disk), so reads are batched. What
//! is lost is bounded: the records of the last interval if the process dies. A buffer
//! that cannot be written (the database down) keeps its records and retries; once it
//! holds [`MAX_PENDING_ACCESSES`] records, reads are refused rather than left
//! unrecorded. Whoever reads the log in this process ([`Services::access_log`]) writes
//! the buffer first. The record holds ids only.

use crate::Services;
use crate::manage::{MAX_PAGE, ManageError, invalid};
use regulars_domain::{ApiKeyId, BrandId, CustomerId, LocationId, StaffId};
use regulars_ports::{AccessChannel, AccessQuery, AccessRecord, PersonalData, StoreError};
use std::sync::Mutex;
use time::Duration;

/// How often the server writes the buffered access records.
pub const ACCESS_FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// Most records the buffer holds while they cannot be written; beyond, reads are refused.
pub const MAX_PENDING_ACCESSES: usize = 10_000;

/// Rows per `INSERT` when the buffer is written.
const INSERT_ROWS: usize = 200;

/// Access records not written yet, and the lock that keeps one writer at a time (so
/// records are written in the order they were made).
#[derive(Debug, Default)]
pub(crate) struct AccessBuffer {
    pending: Mutex<Vec<AccessRecord>>,
    writing: tokio::sync::Mutex<()>,
}

fn buffer_error() -> ManageError {
    ManageError::Store(StoreError::Unavailable(
        "the access log cannot be written now".to_owned(),
    ))
}

/// How long the access log is kept by default before the worker prunes it: two years,
/// longer than any complaint or inquiry about a read is likely to come.
pub const ACCESS_LOG_RETENTION: Duration = Duration::days(730);

/// Who read: the key (a dashboard session's key too) and how it came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    /// The API key; `None` for the operator's command line.
    pub key: Option<ApiKeyId>,
    /// The API, the dashboard, the command line or a till.
    pub channel: AccessChannel,
    /// The staff member and location, at a till.
    pub till: Option<(StaffId, LocationId)>,
}

impl Reader {
    /// A read through the JSON API with `key`.
    pub fn api(key: ApiKeyId) -> Self {
        Reader {
            key: Some(key),
            channel: AccessChannel::Api,
            till: None,
        }
    }

    /// A read through the dashboard, in a session signed in with `key`.
    pub fn dashboard(key: ApiKeyId) -> Self {
        Reader {
            key: Some(key),
            channel: AccessChannel::Dashboard,
            till: None,
        }
    }

    /// A read or an action at a till of `location`, by staff member `staff`.
    pub fn till(staff: StaffId, location: LocationId) -> Self {
        Reader {
            key: None,
            channel: AccessChannel::Till,
            till: Some((staff, location)),
        }
    }
}

impl Services {
    /// Records that `reader` was shown the `fields` of `customers` of `brand` through
    /// `route` (the route pattern, e.g. `GET /v1/customers/{id}`), in the buffer the
    /// server writes every [`ACCESS_FLUSH_INTERVAL`]. A read that showed no customer is
    /// not recorded. Call it after the data is read and before it is answered; if it
    /// fails (the buffer is full because the log cannot be written), do not answer.
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
            staff_id: reader.till.map(|(staff, _)| staff),
            location_id: reader.till.map(|(_, location)| location),
        };
        let mut pending = self.access.pending.lock().map_err(|_| buffer_error())?;
        if pending.len() >= MAX_PENDING_ACCESSES {
            return Err(buffer_error());
        }
        pending.push(record);
        Ok(())
    }

    /// Writes the buffered access records in one transaction; returns how many. On a
    /// failure they stay buffered, ahead of newer ones, for the next try.
    pub async fn flush_access_log(&self) -> Result<u64, ManageError> {
        let _writer = self.access.writing.lock().await;
        let batch = std::mem::take(&mut *self.access.pending.lock().map_err(|_| buffer_error())?);
        if batch.is_empty() {
            return Ok(0);
        }
        let written = self.write_accesses(&batch).await;
        match written {
            Ok(()) => Ok(batch.len() as u64),
            Err(error) => {
                let mut pending = self.access.pending.lock().map_err(|_| buffer_error())?;
                let newer = std::mem::replace(&mut *pending, batch);
                pending.extend(newer);
                Err(ManageError::Store(error))
            }
        }
    }

    /// How many access records wait in the buffer.
    pub fn pending_accesses(&self) -> usize {
        self.access.pending.lock().map_or(0, |p| p.len())
    }

    /// Writes `records` in one transaction.
    async fn write_accesses(&self, records: &[AccessRecord]) -> Result<(), StoreError> {
        let mut tx = self.uow.begin().await?;
        for chunk in records.chunks(INSERT_ROWS) {
            if let Err(error) = tx.audit().record_accesses(chunk).await {
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(%rollback, "rollback failed");
                }
                return Err(error);
            }
        }
        tx.commit().await
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
        self.flush_access_log().await?;
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
