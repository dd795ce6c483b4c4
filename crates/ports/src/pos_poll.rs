//! Polling a POS for its invoices (KiotViet FnB has no invoice webhook): the stored
//! cursor of each integration, and one page of what the POS's list answered.

use crate::webhooks::{Ignored, VerifiedEvent};
use regulars_domain::{BrandId, IntegrationId};
use time::OffsetDateTime;

/// Where an integration's invoice polling stands, kept in the database so a restart,
/// or another worker, resumes where the last committed poll left off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollCursor {
    /// The brand.
    pub brand_id: BrandId,
    /// The integration polled.
    pub integration_id: IntegrationId,
    /// Every invoice the POS changed up to this time was counted (the next poll asks
    /// again from a little before it); `None` before the first poll.
    pub cursor: Option<OffsetDateTime>,
    /// Failed polls in a row (the back-off grows with them).
    pub failures: u32,
    /// No poll before this time (back-off after an error).
    pub retry_at: Option<OffsetDateTime>,
    /// Why polling stopped for good until someone fixes the integration (its
    /// credentials were refused); `None` while it runs.
    pub disabled: Option<String>,
    /// The last error, for people.
    pub last_error: Option<String>,
    /// When a poll last finished.
    pub polled_at: Option<OffsetDateTime>,
}

/// One invoice of a POS's invoice list, read with the webhook decoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolledInvoice {
    /// When the POS last changed it (the list is ordered by this); `None` when the
    /// invoice carries no readable time, which then does not move the cursor.
    pub modified_at: Option<OffsetDateTime>,
    /// What the invoice becomes, or why it counts for nothing.
    pub event: Result<VerifiedEvent, Ignored>,
}

/// One page of a POS's invoice list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoicePage {
    /// How many invoices the whole list holds (the POS's `total`).
    pub total: u64,
    /// This page's invoices, in the POS's order (oldest change first).
    pub invoices: Vec<PolledInvoice>,
}
