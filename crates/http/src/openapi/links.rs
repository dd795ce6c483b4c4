//! OpenAPI links: how an id (or code, phone, name) one operation answers feeds the
//! operations that use it. Clients generated from the document follow them, and so does
//! schemathesis' stateful phase, which is how `cargo xtask fuzz --deep` reaches past the
//! 404 of a made-up id.

use serde_json::{Map, Value, json};

/// One link: from the answer `status` of `method path`, to `target` (`"get
/// /v1/customers/{id}"`), with the target's `parameters` and, for bodies, fields merged
/// into the generated body.
struct Link {
    from: (&'static str, &'static str, &'static str),
    name: &'static str,
    target: &'static str,
    parameters: &'static [(&'static str, &'static str)],
    body: &'static [(&'static str, &'static str)],
}

const fn to(
    from: (&'static str, &'static str, &'static str),
    name: &'static str,
    target: &'static str,
    parameters: &'static [(&'static str, &'static str)],
) -> Link {
    Link {
        from,
        name,
        target,
        parameters,
        body: &[],
    }
}

const fn with_body(
    from: (&'static str, &'static str, &'static str),
    name: &'static str,
    target: &'static str,
    parameters: &'static [(&'static str, &'static str)],
    body: &'static [(&'static str, &'static str)],
) -> Link {
    Link {
        from,
        name,
        target,
        parameters,
        body,
    }
}

const CUSTOMER: (&str, &str, &str) = ("/v1/customers", "post", "201");
const CUSTOMER_ID: &[(&str, &str)] = &[("id", "$response.body#/id")];
const REWARD: (&str, &str, &str) = ("/v1/rewards", "post", "201");
const REWARD_ID: &[(&str, &str)] = &[("id", "$response.body#/id")];
const REDEMPTION: (&str, &str, &str) = ("/v1/customers/{id}/redemptions", "post", "201");
const VOUCHER_CODE: &[(&str, &str)] = &[("code", "$response.body#/code")];
const ADJUSTMENT: (&str, &str, &str) = ("/v1/customers/{id}/adjustments", "post", "201");
const SAME_CUSTOMER: &[(&str, &str)] = &[("id", "$request.path.id")];
const ORDER: (&str, &str, &str) = ("/v1/orders", "post", "200");
const LOCATION: (&str, &str, &str) = ("/v1/locations", "post", "201");
const SEGMENT: (&str, &str, &str) = ("/v1/segments", "post", "201");
const CAMPAIGN: (&str, &str, &str) = ("/v1/campaigns", "post", "201");
const LAUNCHED: (&str, &str, &str) = ("/v1/campaigns/{id}/launch", "post", "200");
const PAUSED: (&str, &str, &str) = ("/v1/campaigns/{id}/pause", "post", "200");
const SAME_CAMPAIGN: &[(&str, &str)] = &[("id", "$request.path.id")];

const LINKS: &[Link] = &[
    // A customer registered: everything about them.
    to(CUSTOMER, "Profile", "get /v1/customers/{id}", CUSTOMER_ID),
    to(CUSTOMER, "Update", "put /v1/customers/{id}", CUSTOMER_ID),
    to(
        CUSTOMER,
        "Ledger",
        "get /v1/customers/{id}/ledger",
        CUSTOMER_ID,
    ),
    to(
        CUSTOMER,
        "Orders",
        "get /v1/customers/{id}/orders",
        CUSTOMER_ID,
    ),
    to(
        CUSTOMER,
        "Scores",
        "get /v1/customers/{id}/scores",
        CUSTOMER_ID,
    ),
    to(
        CUSTOMER,
        "Adjust",
        "post /v1/customers/{id}/adjustments",
        CUSTOMER_ID,
    ),
    to(
        CUSTOMER,
        "Redeem",
        "post /v1/customers/{id}/redemptions",
        CUSTOMER_ID,
    ),
    to(
        CUSTOMER,
        "Lookup",
        "get /v1/customers/lookup",
        &[("phone", "$response.body#/phone")],
    ),
    with_body(
        CUSTOMER,
        "Order",
        "post /v1/orders",
        &[],
        &[("customer_phone", "$response.body#/phone")],
    ),
    // Points added: spend them.
    to(
        ADJUSTMENT,
        "Redeem",
        "post /v1/customers/{id}/redemptions",
        SAME_CUSTOMER,
    ),
    to(
        ADJUSTMENT,
        "Profile",
        "get /v1/customers/{id}",
        SAME_CUSTOMER,
    ),
    to(
        ADJUSTMENT,
        "Ledger",
        "get /v1/customers/{id}/ledger",
        SAME_CUSTOMER,
    ),
    // A reward in the catalogue: read, replace, buy.
    to(REWARD, "Get", "get /v1/rewards/{id}", REWARD_ID),
    to(REWARD, "Update", "put /v1/rewards/{id}", REWARD_ID),
    with_body(
        REWARD,
        "Redeem",
        "post /v1/customers/{id}/redemptions",
        &[],
        &[("reward_id", "$response.body#/id")],
    ),
    // A voucher bought: check it, use it at the till.
    to(
        REDEMPTION,
        "Validate",
        "get /v1/vouchers/{code}",
        VOUCHER_CODE,
    ),
    to(
        REDEMPTION,
        "Use",
        "post /v1/vouchers/{code}/redeem",
        VOUCHER_CODE,
    ),
    to(
        REDEMPTION,
        "Profile",
        "get /v1/customers/{id}",
        SAME_CUSTOMER,
    ),
    // An order counted: read it, refund it, see its customer.
    to(
        ORDER,
        "Get",
        "get /v1/orders/{id}",
        &[("id", "$response.body#/order_id")],
    ),
    with_body(
        ORDER,
        "Refund",
        "post /v1/refunds",
        &[],
        &[("order_id", "$request.body#/order_id")],
    ),
    to(
        ORDER,
        "Customer",
        "get /v1/customers/{id}",
        &[("id", "$response.body#/customer_id")],
    ),
    // A location: read, replace, sell there.
    to(
        LOCATION,
        "Get",
        "get /v1/locations/{id}",
        &[("id", "$response.body#/id")],
    ),
    to(
        LOCATION,
        "Update",
        "put /v1/locations/{id}",
        &[("id", "$response.body#/id")],
    ),
    with_body(
        LOCATION,
        "Order",
        "post /v1/orders",
        &[],
        &[("location", "$response.body#/code")],
    ),
    // Keys and integrations: revoke; an integration's webhook.
    to(
        ("/v1/keys", "post", "201"),
        "Revoke",
        "delete /v1/keys/{id}",
        &[("id", "$response.body#/key/id")],
    ),
    to(
        ("/v1/integrations", "post", "201"),
        "Revoke",
        "delete /v1/integrations/{id}",
        &[("id", "$response.body#/integration/id")],
    ),
    to(
        ("/v1/integrations", "post", "201"),
        "Webhook",
        "post /webhooks/{integration}",
        &[("integration", "$response.body#/integration/id")],
    ),
    // A segment: read, replace, delete, its entrants.
    to(
        SEGMENT,
        "Get",
        "get /v1/segments/{id}",
        &[("id", "$response.body#/id")],
    ),
    to(
        SEGMENT,
        "Update",
        "put /v1/segments/{id}",
        &[("id", "$response.body#/id")],
    ),
    to(
        SEGMENT,
        "Delete",
        "delete /v1/segments/{id}",
        &[("id", "$response.body#/id")],
    ),
    to(
        SEGMENT,
        "Entrants",
        "get /v1/segments/entrants",
        &[("segment", "$response.body#/name")],
    ),
    // A campaign: its whole life cycle.
    to(
        CAMPAIGN,
        "Get",
        "get /v1/campaigns/{id}",
        &[("id", "$response.body#/id")],
    ),
    to(
        CAMPAIGN,
        "Update",
        "put /v1/campaigns/{id}",
        &[("id", "$response.body#/id")],
    ),
    to(
        CAMPAIGN,
        "Launch",
        "post /v1/campaigns/{id}/launch",
        &[("id", "$response.body#/id")],
    ),
    to(
        CAMPAIGN,
        "Preview",
        "post /v1/campaigns/{id}/preview",
        &[("id", "$response.body#/id")],
    ),
    to(
        CAMPAIGN,
        "Messages",
        "get /v1/campaigns/{id}/messages",
        &[("id", "$response.body#/id")],
    ),
    to(
        CAMPAIGN,
        "Report",
        "get /v1/campaigns/{id}/report",
        &[("id", "$response.body#/id")],
    ),
    to(
        CAMPAIGN,
        "End",
        "post /v1/campaigns/{id}/end",
        &[("id", "$response.body#/id")],
    ),
    to(
        LAUNCHED,
        "Pause",
        "post /v1/campaigns/{id}/pause",
        SAME_CAMPAIGN,
    ),
    to(
        LAUNCHED,
        "Report",
        "get /v1/campaigns/{id}/report",
        SAME_CAMPAIGN,
    ),
    to(
        LAUNCHED,
        "Messages",
        "get /v1/campaigns/{id}/messages",
        SAME_CAMPAIGN,
    ),
    to(LAUNCHED, "Run", "post /v1/campaigns/runs", &[]),
    to(
        PAUSED,
        "Launch",
        "post /v1/campaigns/{id}/launch",
        SAME_CAMPAIGN,
    ),
    to(PAUSED, "End", "post /v1/campaigns/{id}/end", SAME_CAMPAIGN),
];

/// `#/paths/~1v1~1customers~1{id}/get` for `"get /v1/customers/{id}"`.
fn operation_ref(target: &str) -> String {
    let (method, path) = target.split_once(' ').unwrap_or(("get", target));
    format!(
        "#/paths/{}/{method}",
        path.replace('~', "~0").replace('/', "~1")
    )
}

/// Adds the links that start at `method path` to `operation`'s responses.
pub(super) fn add(path: &str, method: &str, operation: &mut Value) {
    for link in LINKS
        .iter()
        .filter(|l| l.from.0 == path && l.from.1 == method)
    {
        let Some(response) = operation
            .pointer_mut(&format!("/responses/{}", link.from.2))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let mut definition = json!({
            "operationRef": operation_ref(link.target),
            "parameters": link.parameters.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect::<Map<_, _>>(),
        });
        if !link.body.is_empty() {
            definition["requestBody"] = Value::Object(
                link.body
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), json!(v)))
                    .collect(),
            );
        }
        response
            .entry("links")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|links| links.insert(link.name.to_owned(), definition));
    }
}

/// Every link's source and target, for the tests.
#[cfg(test)]
pub(super) fn all() -> Vec<(String, String)> {
    LINKS
        .iter()
        .map(|l| (format!("{} {}", l.from.1, l.from.0), l.target.to_owned()))
        .collect()
}
