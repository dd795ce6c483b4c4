//! The access log: who read which customers' personal data, when, which parts of it and
//! through which route. Append-only; it holds ids, never the data itself.

use crate::StoreError;
use async_trait::async_trait;
use regulars_domain::{ApiKeyId, BrandId, CustomerId, LocationId, StaffId};
use time::OffsetDateTime;
use uuid::Uuid;

/// A part of a customer's personal data a read can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PersonalData {
    /// Name, birthday, tier, balance, spend.
    Profile,
    /// Phone, email, Zalo id (masked or not).
    Contact,
    /// Consent per channel.
    Consent,
    /// Orders and what was in them.
    Orders,
    /// The points ledger.
    Ledger,
    /// Vouchers and their codes.
    Vouchers,
    /// Scores, predictions and segments.
    Scores,
    /// Messages sent or planned, with their recipients.
    Messages,
    /// A download of the data (an export), whatever it contains.
    Export,
}

impl PersonalData {
    /// Every part, in a stable order.
    pub const ALL: [PersonalData; 9] = [
        PersonalData::Profile,
        PersonalData::Contact,
        PersonalData::Consent,
        PersonalData::Orders,
        PersonalData::Ledger,
        PersonalData::Vouchers,
        PersonalData::Scores,
        PersonalData::Messages,
        PersonalData::Export,
    ];

    /// Its stored and shown name.
    pub fn as_str(self) -> &'static str {
        match self {
            PersonalData::Profile => "profile",
            PersonalData::Contact => "contact",
            PersonalData::Consent => "consent",
            PersonalData::Orders => "orders",
            PersonalData::Ledger => "ledger",
            PersonalData::Vouchers => "vouchers",
            PersonalData::Scores => "scores",
            PersonalData::Messages => "messages",
            PersonalData::Export => "export",
        }
    }

    /// The part named `name`, if any.
    pub fn parse(name: &str) -> Option<PersonalData> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// How the reader came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessChannel {
    /// The JSON API, with an API key.
    Api,
    /// The dashboard, in a session signed in with an API key.
    Dashboard,
    /// The operator's command line on the server (no key).
    Cli,
    /// A till, signed in by a staff member on a location's device (no key).
    Till,
    /// The customer themselves, on their card page after a one-time code (no key).
    Customer,
}

impl AccessChannel {
    /// Its stored and shown name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessChannel::Api => "api",
            AccessChannel::Dashboard => "dashboard",
            AccessChannel::Cli => "cli",
            AccessChannel::Till => "till",
            AccessChannel::Customer => "customer",
        }
    }

    /// The channel named `name`, if any.
    pub fn parse(name: &str) -> Option<AccessChannel> {
        [
            AccessChannel::Api,
            AccessChannel::Dashboard,
            AccessChannel::Cli,
            AccessChannel::Till,
            AccessChannel::Customer,
        ]
        .into_iter()
        .find(|c| c.as_str() == name)
    }
}

/// One read of personal data: one request, however many customers it showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    /// Its id.
    pub id: Uuid,
    /// The brand whose customers were read.
    pub brand_id: BrandId,
    /// When.
    pub at: OffsetDateTime,
    /// The API key that read (the dashboard session's key too); `None` from the CLI.
    pub key_id: Option<ApiKeyId>,
    /// How the reader came in.
    pub channel: AccessChannel,
    /// What was read: the route pattern, e.g. `GET /v1/customers/{id}`.
    pub route: String,
    /// Which parts of the customers' data it showed.
    pub fields: Vec<PersonalData>,
    /// Every customer it showed, in the order shown.
    pub customers: Vec<CustomerId>,
    /// The staff member at the till, for reads and actions at a till.
    pub staff_id: Option<StaffId>,
    /// The location of the till.
    pub location_id: Option<LocationId>,
}

/// Which records of a brand's access log to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessQuery {
    /// Recorded at or after.
    pub since: Option<OffsetDateTime>,
    /// Recorded before.
    pub until: Option<OffsetDateTime>,
    /// Read with this key only.
    pub key: Option<ApiKeyId>,
    /// Showing this customer only.
    pub customer: Option<CustomerId>,
    /// The records after this `(at, id)` in list order (time, then id).
    pub after: Option<(OffsetDateTime, Uuid)>,
    /// At most this many.
    pub limit: u64,
}

/// The access log, append-only but for pruning after its retention.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AuditRepo: Send {
    /// Appends records (one statement for a batch).
    async fn record_accesses(&mut self, records: &[AccessRecord]) -> Result<(), StoreError>;
    /// The brand's records matching `query`, oldest first.
    async fn accesses(
        &mut self,
        brand: BrandId,
        query: &AccessQuery,
    ) -> Result<Vec<AccessRecord>, StoreError>;
    /// Forgets the records made before `before`, in every brand (the log's retention);
    /// returns how many.
    async fn prune_accesses(&mut self, before: OffsetDateTime) -> Result<u64, StoreError>;
}
