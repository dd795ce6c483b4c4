//! One customer of a `customer.update` notification (guide §2.11.3): its code and phone
//! number, which is what links KiotViet's invoices (they name `CustomerCode` only) to a
//! loyalty account.

use super::{SOURCE, join};
use crate::{BrandContext, PosEvent, VerifiedEvent};
use regulars_domain::Phone;
use regulars_ports::{Ignored, IgnoredReason};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Customer {
    id: i64,
    code: String,
    #[serde(default)]
    contact_number: Option<String>,
    #[serde(default)]
    modified_date: Option<String>,
}

/// Reads the customer at `at` into a [`PosEvent::CustomerContact`], or says why not (no
/// code, or no phone number that reads as one).
pub(super) fn read(
    data: Value,
    at: &str,
    delivery_id: &str,
    brand: &BrandContext,
) -> Result<VerifiedEvent, Ignored> {
    let customer: Customer = serde_path_to_error::deserialize(data).map_err(|e| Ignored {
        reason: IgnoredReason::Malformed,
        path: join(at, &e.path().to_string()),
        detail: e.into_inner().to_string(),
    })?;
    let unusable = |field: &str, detail: String| Ignored {
        reason: IgnoredReason::Unusable,
        path: format!("{at}.{field}"),
        detail: format!("customer {:?}: {detail}", customer.code),
    };
    let code = customer.code.trim();
    if code.is_empty() {
        return Err(unusable("Code", "no customer code".to_owned()));
    }
    if code.chars().any(char::is_control) {
        return Err(unusable(
            "Code",
            "control characters in the code".to_owned(),
        ));
    }
    let number = customer
        .contact_number
        .as_deref()
        .unwrap_or_default()
        .trim();
    if number.is_empty() {
        return Err(unusable("ContactNumber", "no phone number".to_owned()));
    }
    let phone = Phone::parse(number, brand.calling_code)
        .map_err(|e| unusable("ContactNumber", e.to_string()))?;
    // The guide types `ModifiedDate` as a (non-null) DateTime; it dates the event for
    // the window.
    let modified = customer.modified_date.as_deref().unwrap_or_default();
    let occurred_at =
        super::invoice::parse_date(modified, brand).map_err(|e| unusable("ModifiedDate", e))?;
    Ok(VerifiedEvent {
        event_id: format!("{delivery_id}/customer/{}", customer.id),
        occurred_at,
        source: SOURCE,
        customer_ref: Some(code.to_owned()),
        event: PosEvent::CustomerContact {
            customer_ref: code.to_owned(),
            phone,
        },
    })
}
