//! POS integrations and what a webhook delivery answers.

use super::orders::{OrderReceiptDto, RefundReceiptDto};
use super::rfc3339;
use regulars_service::IntegrationInfo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// An integration to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationIn {
    /// `generic`, `kiotviet`, `kiotviet_fnb` or `square`.
    #[schema(
        example = "generic",
        pattern = "^(generic|kiotviet|kiotviet_fnb|square)$"
    )]
    pub kind: String,
    /// A note for people: at most 200 bytes, no control characters (documented up to 50
    /// characters).
    #[schema(pattern = r"^[^\x00-\x1f\x7f-\x9f]*$", max_length = 50)]
    pub label: Option<String>,
    /// The webhook secret, when the POS lets the brand choose it; drawn when absent.
    /// 16 to 256 printable ASCII characters.
    #[schema(pattern = r"^[!-~]{16,256}$")]
    pub secret: Option<String>,
    /// The POS's own API credentials, kept sealed and never shown again (see
    /// docs/pos.md): `{"kind": "square", "access_token", "notification_url"}` (required
    /// for `square`) or `{"kind": "kiotviet", "retailer", "client_id", "client_secret"}`
    /// (required for `kiotviet_fnb`, whose invoices are polled with them).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub api_access: Option<regulars_ports::PosApiAccess>,
}

/// New POS API credentials for an integration (`null` removes them).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationAccessIn {
    /// As in [`IntegrationIn::api_access`].
    #[schema(value_type = Option<Object>)]
    pub api_access: Option<regulars_ports::PosApiAccess>,
}

/// A POS integration (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntegrationDto {
    /// Its id.
    pub id: Uuid,
    /// `generic` or `kiotviet`.
    pub kind: String,
    /// A note for people.
    pub label: Option<String>,
    /// Where the POS posts its webhooks (path; prefix it with the server's URL).
    pub webhook_path: String,
    /// Whether it holds credentials for the POS's own API.
    pub api_access: bool,
    /// When it was made.
    pub created_at: String,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// For an integration whose invoices are polled (`kiotviet_fnb`): where polling
    /// stands; `null` for other kinds and before the first poll.
    pub poll: Option<PollStatusDto>,
}

impl From<&IntegrationInfo> for IntegrationDto {
    fn from(i: &IntegrationInfo) -> Self {
        IntegrationDto {
            id: i.id.as_uuid(),
            kind: i.kind.as_str().to_owned(),
            label: i.label.clone(),
            webhook_path: format!("/webhooks/{}", i.id),
            api_access: i.api_access,
            created_at: rfc3339(i.created_at),
            revoked_at: i.revoked_at.map(rfc3339),
            poll: None,
        }
    }
}

/// Where polling an integration's invoice list stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PollStatusDto {
    /// `active`, `backing_off` (after an error, until `retry_at`) or `disabled` (the POS
    /// refused the credentials: give new ones with `PUT /v1/integrations/{id}/access`).
    #[schema(pattern = "^(active|backing_off|disabled)$")]
    pub status: String,
    /// Every invoice the POS changed up to this time was counted.
    pub cursor: Option<String>,
    /// When a poll last finished.
    pub polled_at: Option<String>,
    /// Failed polls in a row.
    pub failures: u32,
    /// No poll before this time.
    pub retry_at: Option<String>,
    /// The last error (or why polling is disabled).
    pub last_error: Option<String>,
}

impl From<&regulars_ports::PollCursor> for PollStatusDto {
    fn from(c: &regulars_ports::PollCursor) -> Self {
        let status = if c.disabled.is_some() {
            "disabled"
        } else if c.retry_at.is_some() {
            "backing_off"
        } else {
            "active"
        };
        PollStatusDto {
            status: status.to_owned(),
            cursor: c.cursor.map(rfc3339),
            polled_at: c.polled_at.map(rfc3339),
            failures: c.failures,
            retry_at: c.retry_at.map(rfc3339),
            last_error: c.disabled.clone().or_else(|| c.last_error.clone()),
        }
    }
}

/// An integration just made, with its webhook secret: shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedIntegrationDto {
    /// The integration.
    pub integration: IntegrationDto,
    /// The secret the POS signs webhooks with.
    pub secret: String,
}

/// What became of one event of a webhook delivery.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookEventAck {
    /// The sender's event id.
    pub event_id: String,
    /// `counted`, `duplicate` (the order or refund was counted before under another
    /// event id), `replayed` (this event id was received before; nothing changed) or,
    /// for KiotViet only: `skipped` (the invoice cannot be counted, e.g. the
    /// cancellation of an order never received; the delivery's other invoices are),
    /// `waiting` (an order of a KiotViet customer whose phone is not known yet: kept
    /// until a `customer.update` gives it), `dropped` (the cancellation of such an
    /// order) or `linked` (a `customer.update`: the customer's code is linked to its
    /// phone, and the orders that waited for it are in `credited`).
    pub outcome: String,
    /// The order's receipt, for an order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderReceiptDto>,
    /// The refund's receipt, for a refund.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund: Option<RefundReceiptDto>,
    /// For `linked`: the receipts of the orders credited now. Absent when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub credited: Vec<OrderReceiptDto>,
}

/// A webhook delivery's outcome: one entry per event it carried (none for an event
/// type with nothing to count).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookAck {
    /// The events, in delivery order.
    pub events: Vec<WebhookEventAck>,
    /// What the delivery carried that was acknowledged without being counted (KiotViet
    /// only: its deliveries are refused only for a bad signature). Absent when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<WebhookIgnoredAck>,
}

/// A part of an authentic delivery that was acknowledged without being counted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookIgnoredAck {
    /// `malformed`, `unknown_action`, `removal`, `not_final`, `unusable` or
    /// `out_of_window`.
    #[schema(example = "not_final")]
    pub reason: String,
    /// Where in the payload.
    #[schema(example = "Notifications[0].Data[2].Status")]
    pub path: String,
    /// What was found there.
    pub detail: String,
}
