//! KiotViet's invoice list (`GET /invoices`, Retail guide §2.12.1; KiotViet FnB's Public
//! API answers the same shape): `{"total", "pageSize", "data": [invoice, …]}` with
//! camelCase invoices, each read with the webhook's mapping.

use super::invoice;
use crate::BrandContext;
use regulars_ports::{Ignored, IgnoredReason, InvoicePage, PolledInvoice};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct ListAnswer {
    #[serde(default)]
    total: Option<u64>,
    #[serde(default)]
    data: Vec<Value>,
}

/// Reads one page of the invoice list. Fails only when the answer is not a list at all;
/// an invoice that cannot be used is listed with why (as a webhook's would be).
pub fn parse_invoice_list(body: &[u8], brand: &BrandContext) -> Result<InvoicePage, String> {
    let answer: ListAnswer = serde_json::from_slice(body)
        .map_err(|e| format!("not KiotViet's invoice list ({{total, data: […]}}): {e}"))?;
    let invoices: Vec<PolledInvoice> = answer
        .data
        .into_iter()
        .enumerate()
        .map(|(i, data)| {
            let at = format!("data[{i}]");
            if !data.is_object() {
                return PolledInvoice {
                    modified_at: None,
                    event: Err(Ignored {
                        reason: IgnoredReason::Malformed,
                        path: at,
                        detail: "an invoice is not an object".to_owned(),
                    }),
                };
            }
            let (event, modified_at) = invoice::read_listed(data, &at, brand);
            PolledInvoice { modified_at, event }
        })
        .collect();
    let total = answer.total.unwrap_or(invoices.len() as u64);
    Ok(InvoicePage { total, invoices })
}

/// How `lastModifiedFrom` is written: the retailer's local time without an offset, as
/// KiotViet writes its own times.
pub fn format_since(
    since: time::OffsetDateTime,
    brand: &BrandContext,
) -> Result<String, time::error::Format> {
    since
        .to_offset(brand.utc_offset)
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]"
        ))
}
