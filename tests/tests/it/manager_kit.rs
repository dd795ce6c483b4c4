//! What the tests of a shop's manager share: a brand with the test earning rules and two
//! shops, orders at them, a manager key of some of them, a dashboard visitor signed in
//! with a key, and the check that a manager's page offers the location picker but no
//! other shop and nothing brand-wide.

use crate::dashboard::Visitor;
use crate::pos::rfc3339;
use crate::server::{Tenant, TestServer};
use regulars_tests::{RULES, phone};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

/// A brand with the test earning rules and two shops, `q1` (Shop 1) and `q2` (Shop 2).
pub(crate) struct TwoShops {
    /// The brand and its admin key.
    pub(crate) tenant: Tenant,
    /// Shop 1's location id.
    pub(crate) q1: String,
    /// Shop 2's location id.
    pub(crate) q2: String,
}

impl TwoShops {
    /// A brand named `name` with the rules and the two shops.
    pub(crate) async fn new(server: &TestServer, name: &str) -> TwoShops {
        let tenant = server.tenant(name).await;
        let admin = tenant.admin.as_str();
        let rules: Value = serde_json::from_str(RULES).unwrap_or_else(|e| panic!("{e}"));
        server
            .put("/v1/program/earning-rules", admin, &rules)
            .await
            .expect(200, "rules");
        let q1 = location(server, admin, "q1", "Shop 1").await;
        let q2 = location(server, admin, "q2", "Shop 2").await;
        TwoShops { tenant, q1, q2 }
    }

    /// The brand's admin key.
    pub(crate) fn admin(&self) -> &str {
        &self.tenant.admin
    }
}

/// A new location of the brand; its id.
pub(crate) async fn location(server: &TestServer, admin: &str, code: &str, name: &str) -> String {
    server
        .post("/v1/locations", admin, &json!({"code": code, "name": name}))
        .await
        .expect(201, "location")
        .str("/id")
}

/// An order of `total` at `code` by customer `n`, two hours ago.
pub(crate) async fn sell(
    server: &TestServer,
    admin: &str,
    id: &str,
    code: &str,
    n: u64,
    total: i64,
) {
    let at = OffsetDateTime::now_utc() - Duration::hours(2);
    let body = json!({"order_id": id, "placed_at": rfc3339(at), "currency": "VND",
        "location": code, "customer_phone": phone(n).as_str(),
        "lines": [{"sku": "CF", "name": "Cà phê", "quantity": 1, "unit_price": total.to_string()}],
        "total": total.to_string()});
    server
        .post("/v1/orders", admin, &body)
        .await
        .expect(200, id);
}

/// A new manager key of the locations `shops`, made with `admin`; the full key.
pub(crate) async fn manager_key(server: &TestServer, admin: &str, shops: &[&str]) -> String {
    server
        .post(
            "/v1/keys",
            admin,
            &json!({"role": "manager", "locations": shops}),
        )
        .await
        .expect(201, "manager key")
        .str("/token")
}

/// A dashboard visitor signed in with `key` (`who` names it in a failure).
pub(crate) async fn signed_in<'a>(server: &'a TestServer, key: &str, who: &str) -> Visitor<'a> {
    let mut visitor = Visitor::new(server);
    visitor
        .sign_in(key)
        .await
        .expect(303, &format!("{who} signs in"));
    visitor
}

/// A page of the manager of Shop 1: the location picker is shown, and neither Shop 2
/// nor any of `brand_wide` (ids, classes or texts of what only an owner sees) is.
pub(crate) fn assert_picker_shown_brand_wide_hidden(page: &str, brand_wide: &[&str], what: &str) {
    assert!(
        page.contains("id=\"location-filter\""),
        "{what}: no location picker"
    );
    for hidden in brand_wide.iter().chain(&["Shop 2"]) {
        assert!(!page.contains(hidden), "{what}: {hidden} shown");
    }
}
