//! Polling KiotViet's invoice list through its Public API (KiotViet FnB offers no
//! invoice webhook): `GET /invoices?lastModifiedFrom=…&orderBy=modifiedDate&…`, paged
//! with `pageSize` and `currentItem`, with the `Retailer` header and a client-credentials
//! token.

use crate::client::{Got, KiotVietAccess, KiotVietApi, PosClient, context, url};
use crate::kiotviet;
use regulars_ports::{InvoicePage, PosApiError, WebhookDelivery};
use time::OffsetDateTime;

/// The invoice list's answer, read as raw bytes (decoded by `kiotviet::parse_invoice_list`).
struct Raw(Vec<u8>);

impl<'de> serde::Deserialize<'de> for Raw {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(Raw(value.to_string().into_bytes()))
    }
}

impl PosClient {
    /// One page of the invoices KiotViet changed at or after `since`, oldest first.
    pub(crate) async fn kiotviet_invoices(
        &self,
        delivery: &WebhookDelivery<'_>,
        api: KiotVietApi,
        access: KiotVietAccess<'_>,
        since: OffsetDateTime,
        current_item: u64,
    ) -> Result<InvoicePage, PosApiError> {
        let (retailer, client_id, _) = access;
        let brand = context(delivery);
        let what = "KiotViet invoices";
        let from = kiotviet::format_since(since, &brand)
            .map_err(|e| PosApiError::Refused(format!("{what}: {e}")))?;
        let page_size = self.config.kiotviet_page_size.clamp(1, 100).to_string();
        let current = current_item.to_string();
        let query = [
            ("lastModifiedFrom", from.as_str()),
            ("pageSize", page_size.as_str()),
            ("currentItem", current.as_str()),
            ("orderBy", "modifiedDate"),
            ("orderDirection", "Asc"),
        ];
        // A token revoked before its time is renewed once.
        for _ in 0..2 {
            let token = self.kiotviet_token(api, access).await?;
            let request = self
                .http
                .get(url(api.base(&self.config), &["invoices"])?)
                .query(&query)
                .bearer_auth(&token)
                .header("Retailer", retailer)
                .header(reqwest::header::ACCEPT, "application/json");
            match self.get::<Raw>(what, request).await? {
                Got::Found(Raw(body)) => {
                    return kiotviet::parse_invoice_list(&body, &brand)
                        .map_err(|e| PosApiError::Refused(format!("{what}: {e}")));
                }
                Got::NotFound => {
                    return Err(PosApiError::Refused(format!(
                        "{what}: the API has no invoice list (404)"
                    )));
                }
                Got::Unauthorized => self.forget_token(api, retailer, client_id),
            }
        }
        Err(PosApiError::Refused(format!(
            "{what}: a fresh token was refused (401)"
        )))
    }
}
