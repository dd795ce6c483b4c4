//! Tenant isolation, route by route from the OpenAPI document: brand A's keys reach
//! nothing of brand B's (404, exactly like an id that does not exist), lists never show
//! B's rows; a viewer key cannot write, and no key gets 401.

use crate::pos::{order_data, paid, sign};
use crate::server::{Body, Tenant, TestServer, dbs, spawn};
use regulars_tests::phone;
use reqwest::Method;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

/// What a brand has, made over HTTP.
pub(crate) struct Data {
    pub(crate) tenant: Tenant,
    pub(crate) job: String,
    pub(crate) customer: String,
    pub(crate) phone: String,
    order: String,
    pub(crate) location: String,
    reward: String,
    key: String,
    integration: String,
    secret: String,
    voucher: String,
    segment: String,
    campaign: String,
    staff: String,
    device: String,
    goal: String,
}

impl Data {
    /// Every identifier of the brand that another brand must never see.
    fn identifiers(&self) -> Vec<String> {
        vec![
            self.tenant.brand.to_string(),
            self.customer.clone(),
            self.phone.clone(),
            self.order.clone(),
            self.location.clone(),
            self.reward.clone(),
            self.key.clone(),
            self.integration.clone(),
            self.voucher.clone(),
            self.segment.clone(),
            self.campaign.clone(),
            self.staff.clone(),
            self.device.clone(),
            self.goal.clone(),
        ]
    }
}

/// The SKU every brand's menu holds (a SKU names an item within the key's own brand).
const MENU_SKU: &str = "ISO-SKU";

pub(crate) async fn populate(server: &TestServer, name: &str, customer: u64) -> Data {
    let tenant = server.tenant(name).await;
    let admin = tenant.admin.as_str();
    server
        .put(
            "/v1/program/earning-rules",
            admin,
            &serde_json::from_str::<Value>(regulars_tests::RULES).unwrap_or_else(|e| panic!("{e}")),
        )
        .await
        .expect(200, "rules");
    server
        .put(
            "/v1/brand/notice",
            admin,
            &json!({"texts": {"vi": format!("Thông báo của {name}")}}),
        )
        .await
        .expect(200, "notice");
    server
        .put(
            &format!("/v1/menu/{MENU_SKU}"),
            admin,
            &json!({"name": format!("{name} item"), "price": {"amount": "20000", "currency": "VND"}}),
        )
        .await
        .expect(201, "menu item");
    let location = server
        .post("/v1/locations", admin, &json!({"code": "q1", "name": name}))
        .await
        .expect(201, "location")
        .str("/id");
    let reward = server
        .post("/v1/rewards", admin, &reward_body())
        .await
        .expect(201, "reward")
        .str("/id");
    let key = server
        .post("/v1/keys", admin, &json!({"role": "pos"}))
        .await
        .expect(201, "key")
        .str("/key/id");
    let integration = server
        .post("/v1/integrations", admin, &json!({"kind": "generic"}))
        .await
        .expect(201, "integration");
    let phone = phone(customer).as_str().to_owned();
    let receipt = server
        .post(
            "/v1/orders",
            admin,
            &order_data(
                &format!("{name}-1"),
                Some(&phone),
                OffsetDateTime::now_utc() - Duration::hours(1),
                3,
            ),
        )
        .await
        .expect(200, "order");
    let customer = receipt.str("/customer_id");
    server
        .post(
            &format!("/v1/customers/{customer}/adjustments"),
            admin,
            &json!({"points": 100, "reason": "opening balance"}),
        )
        .await
        .expect(201, "adjustment");
    let voucher = server
        .post(
            &format!("/v1/customers/{customer}/redemptions"),
            admin,
            &json!({"reward_id": reward}),
        )
        .await
        .expect(201, "voucher")
        .str("/code");
    let segment = server
        .post(
            "/v1/segments",
            admin,
            &json!({"name": format!("{name} regulars"), "rule": "frequency >= 1"}),
        )
        .await
        .expect(201, "segment")
        .str("/id");
    let job = server.score(admin).await.str("/id");
    let campaign = server
        .post("/v1/campaigns", admin, &campaign_body(&reward))
        .await
        .expect(201, "campaign")
        .str("/id");
    let staff = server
        .post(
            "/v1/staff",
            admin,
            &json!({"location_id": location, "name": format!("{name} cashier"), "pin": "2468"}),
        )
        .await
        .expect(201, "staff")
        .str("/id");
    let device = server
        .post("/v1/till-devices", admin, &json!({"location_id": location}))
        .await
        .expect(201, "device")
        .str("/device/id");
    let goal = server
        .post("/v1/goals", admin, &goal_body(Some(&location)))
        .await
        .expect(201, "goal")
        .str("/id");
    Data {
        goal,
        staff,
        device,
        job,
        segment,
        campaign,
        customer,
        phone,
        order: receipt.str("/order_id"),
        location,
        reward,
        key,
        integration: integration.str("/integration/id"),
        secret: integration.str("/secret"),
        voucher,
        tenant,
    }
}

/// A goal due in 30 days, at `location` or for the brand.
pub(crate) fn goal_body(location: Option<&str>) -> Value {
    let deadline = (OffsetDateTime::now_utc() + Duration::days(30))
        .date()
        .to_string();
    json!({"metric": "active_members", "start_value": 1, "target_value": 5,
           "deadline": deadline, "location_id": location})
}

/// A campaign document whose offer is the brand's `reward`.
fn campaign_body(reward: &str) -> Value {
    json!({"name": "Come back", "trigger": {"type": "overdue"},
           "offer": {"type": "fixed", "reward": {"reward_id": reward, "cost": {"amount": "10000", "currency": "VND"}}},
           "channels": ["sms"], "policy": {}})
}

fn reward_body() -> Value {
    json!({"name": "Free topping", "cost": 10,
           "kind": {"type": "free_modifier", "sku": "TOP-CHEESE"}, "validity_days": 30})
}

/// The id of `data` that a path parameter names, by the resource it follows. A route
/// added with a parameter this does not know fails the test: give it a rule.
fn substitute(path: &str, param: &str, data: &Data) -> String {
    let resource = path
        .split(&format!("/{{{param}}}"))
        .next()
        .and_then(|before| before.rsplit('/').next())
        .unwrap_or_default();
    match (resource, param) {
        ("keys", "id") => data.key.clone(),
        ("integrations", "id") | ("webhooks", "integration") => data.integration.clone(),
        ("locations", "id") => data.location.clone(),
        ("rewards", "id") => data.reward.clone(),
        ("customers", "id") => data.customer.clone(),
        ("orders", "id") => data.order.clone(),
        ("vouchers", "code") => data.voucher.clone(),
        ("segments", "id") => data.segment.clone(),
        ("campaigns", "id") => data.campaign.clone(),
        ("jobs", "id") => data.job.clone(),
        ("staff", "id") => data.staff.clone(),
        ("till-devices", "id") => data.device.clone(),
        ("goals", "id") => data.goal.clone(),
        ("channels", "channel") => "sms".to_owned(),
        ("menu", "sku") => MENU_SKU.to_owned(),
        ("callbacks", "provider") if path.contains("{token}") => "esms".to_owned(),
        ("callbacks", "provider") => "zalo".to_owned(),
        ("{provider}", "token") => "fuzz-token".to_owned(),
        _ => panic!("no substitution rule for {{{param}}} in {path}: add one to this test"),
    }
}

/// A body that is valid for the operation, so that what answers is the route's check
/// of ids and roles, not the body's shape. An operation with a body and no rule here
/// fails the test.
pub(crate) fn valid_body(method: &str, path: &str, data: &Data) -> Option<Value> {
    let body = match (method, path) {
        ("get" | "delete", _) => return None,
        ("post", "/v1/keys") => json!({"role": "viewer"}),
        ("post", "/v1/goals") => goal_body(None),
        ("patch", "/v1/brand") => json!({"refund_overdraw": "debt"}),
        ("post", "/v1/integrations") => json!({"kind": "generic"}),
        ("put", "/v1/integrations/{id}/access") => json!({"api_access": null}),
        ("post" | "put", "/v1/locations" | "/v1/locations/{id}") => {
            json!({"code": "q9", "name": "Elsewhere"})
        }
        ("put", "/v1/program/earning-rules") => {
            serde_json::from_str(regulars_tests::RULES).unwrap_or_else(|e| panic!("{e}"))
        }
        ("put", "/v1/program/tiers") => Value::Null,
        ("put", "/v1/brand/policy") => json!({"promotional_prefix": "[QC] ",
            "max_per_phone": 3, "cap_window_hours": 24, "allowed_hours": null}),
        ("post" | "put", "/v1/rewards" | "/v1/rewards/{id}") => reward_body(),
        ("post", "/v1/customers") => json!({"phone": phone(777).as_str()}),
        ("put", "/v1/customers/{id}") => json!({"name": "Renamed", "birthday": null,
            "email": null, "zalo_user_id": null, "consent": {}}),
        ("patch", "/v1/customers/{id}") => json!({"name": "Renamed"}),
        ("post", "/v1/customers/{id}/adjustments") => json!({"points": 5, "reason": "test"}),
        ("post", "/v1/customers/{id}/redemptions") => json!({"reward_id": data.reward}),
        ("post", "/v1/orders") => order_data(
            "ISO-X",
            Some(phone(778).as_str()),
            OffsetDateTime::now_utc() - Duration::hours(1),
            1,
        ),
        ("post", "/v1/refunds") => json!({"refund_id": "ISO-R", "order_id": "ISO-1",
            "refunded_at": crate::pos::rfc3339(OffsetDateTime::now_utc()), "full": true}),
        ("post", "/v1/vouchers/{code}/redeem") => json!({}),
        ("post", "/v1/orders/{id}/claim") => json!({"customer_phone": phone(779).as_str()}),
        ("post", "/v1/claims") => {
            json!({"code": "ABCDE-FGHJK", "customer_phone": phone(779).as_str()})
        }
        ("put", "/v1/settings/claims") => json!({"claim_days": 7}),
        ("put", "/v1/locations/{id}/manager") => json!({"email": "someone@elsewhere.example"}),
        ("put", "/v1/ratings/settings") => json!({"low_threshold": 3}),
        ("put", "/v1/referrals/settings") => json!({"enabled": true, "referrer_points": 50,
            "friend_points": 30, "min_purchase": 40000, "monthly_cap": 5}),
        ("post", "/v1/customers/{id}/erasure" | "/v1/customers/{id}/invite") => json!({}),
        ("put", "/v1/customers/{id}/phone") => json!({"phone": phone(780).as_str()}),
        ("put", "/v1/brand/retention") => {
            json!({"inactive_customer_months": null, "message_body_days": 90})
        }
        ("put", "/v1/brand/notice") => json!({"texts": {"vi": "Thông báo xử lý dữ liệu."}}),
        ("put", "/v1/menu") => json!({"items": [{"sku": MENU_SKU, "name": "Someone else's",
            "price": {"amount": "1000", "currency": "VND"}}]}),
        ("put", "/v1/menu/{sku}") => {
            json!({"name": "Someone else's", "price": {"amount": "1000", "currency": "VND"}})
        }
        ("put", "/v1/stamp-cards") => json!({"cards": [{"code": "coffee", "name": "Coffee card",
            "stamps_needed": 10, "earn_per": "visit", "reward_id": data.reward}]}),
        ("put", "/v1/brand/channels/{channel}") => json!({"provider": "esms",
            "api_key": "isolation-key", "secret_key": "isolation-secret", "brandname": "ISO"}),
        ("post" | "put", "/v1/segments" | "/v1/segments/{id}") => {
            json!({"name": "Someone else's", "rule": "frequency > 0"})
        }
        ("post", "/v1/scoring/runs") => json!({}),
        ("post", "/v1/staff") => {
            json!({"location_id": data.location, "name": "Someone", "pin": "1234"})
        }
        ("put", "/v1/staff/{id}/pin") => json!({"pin": "1234"}),
        ("put", "/v1/engagement/settings") => json!({"track_links": true, "track_opens": false}),
        ("post", "/v1/till-devices") => json!({"location_id": data.location}),
        ("post" | "put", "/v1/campaigns" | "/v1/campaigns/{id}") => campaign_body(&data.reward),
        (
            "post",
            "/v1/campaigns/runs"
            | "/v1/campaigns/{id}/launch"
            | "/v1/campaigns/{id}/pause"
            | "/v1/campaigns/{id}/end"
            | "/v1/campaigns/{id}/preview",
        ) => json!({}),
        ("post", "/webhooks/{integration}")
        | ("post", "/callbacks/{provider}")
        | ("post", "/callbacks/{provider}/{token}") => json!({}),
        _ => panic!("no valid body for {method} {path}: add one to this test"),
    };
    Some(body)
}

/// Every operation of the OpenAPI document: (method, path template, needs a key).
pub(crate) async fn operations(server: &TestServer) -> Vec<(String, String, bool)> {
    let doc = server
        .call(Method::GET, "/openapi.json", None, Body::None)
        .await
        .expect(200, "openapi");
    let paths = doc.json["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("no paths: {}", doc.text));
    let mut out = Vec::new();
    for (path, item) in paths {
        for method in ["get", "post", "put", "delete", "patch"] {
            if let Some(op) = item.get(method) {
                out.push((
                    method.to_owned(),
                    path.clone(),
                    op.get("security").is_some(),
                ));
            }
        }
    }
    assert!(out.len() > 30, "the document lists every route: {out:?}");
    out
}

pub(crate) fn fill(path: &str, data: &Data) -> String {
    let mut filled = path.to_owned();
    while let Some(open) = filled.find('{') {
        let close = filled[open..]
            .find('}')
            .map(|c| open + c)
            .unwrap_or_else(|| panic!("unclosed parameter in {path}"));
        let param = filled[open + 1..close].to_owned();
        let value = substitute(path, &param, data);
        filled.replace_range(open..=close, &value);
    }
    filled
}

/// `method` on `url` with `key`, carrying `body` when the operation takes one.
async fn call(
    server: &TestServer,
    method: &str,
    url: &str,
    key: &str,
    body: Option<&Value>,
) -> crate::server::Reply {
    let body = match body {
        Some(body) => Body::Json(body),
        None => Body::None,
    };
    server.call(method_of(method), url, Some(key), body).await
}

pub(crate) fn method_of(name: &str) -> Method {
    Method::from_bytes(name.to_ascii_uppercase().as_bytes())
        .unwrap_or_else(|e| panic!("method {name}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_brand_reaches_another_brands_data_through_any_route() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = populate(&server, "Brand A", 101).await;
        let b = populate(&server, "Brand B", 202).await;
        let ops = operations(&server).await;
        let mut checked = 0;
        for (method, path, _) in ops.iter().filter(|(_, p, _)| p.contains('{')) {
            let url = fill(path, &b);
            let body = valid_body(method, path, &a);
            if path.starts_with("/callbacks/") {
                // Provider reports belong to no brand and an API key never authenticates
                // one: without the provider's keys configured none is taken at all.
                server
                    .send(
                        if method == "get" {
                            Method::GET
                        } else {
                            Method::POST
                        },
                        &url,
                        Some(&a.tenant.admin),
                        Body::Raw(Some("application/json"), b"{}".to_vec()),
                        &[],
                    )
                    .await
                    .expect_error(404, "not_found", &format!("{db:?}: {method} {url}"));
            } else if path.starts_with("/v1/brand/channels/") {
                // The channel names no record: the route acts on the key's own brand.
                // A's calls reach A's account only; B still has none of its own.
                let reply = call(&server, method, &url, &a.tenant.admin, body.as_ref()).await;
                assert!(reply.status < 500, "{db:?}: {method} {url}: {}", reply.text);
                server
                    .get("/v1/brand/channels/sms", &b.tenant.admin)
                    .await
                    .expect_error(
                        404,
                        "not_found",
                        &format!("{db:?}: B's account after A's {method}"),
                    );
            } else if path.starts_with("/v1/menu/") {
                // The SKU names an item of the key's own brand: A's calls change A's
                // menu only, and B's item of the same SKU stays B's.
                let reply = call(&server, method, &url, &a.tenant.admin, body.as_ref()).await;
                assert!(reply.status < 500, "{db:?}: {method} {url}: {}", reply.text);
                assert!(
                    !reply.text.contains("Brand B item"),
                    "{db:?}: {}",
                    reply.text
                );
                let menu = server
                    .get("/v1/menu", &b.tenant.admin)
                    .await
                    .expect(200, "B's menu");
                assert_eq!(
                    menu.json["items"][0]["name"], "Brand B item",
                    "{db:?}: B's menu after A's {method}: {}",
                    menu.text
                );
            } else if path.starts_with("/webhooks/") {
                // A webhook is addressed by its integration, not by a key: A's till
                // signing with A's secret is refused at B's endpoint.
                let bytes = paid(
                    "iso-evt",
                    order_data("ISO-W", Some(&b.phone), OffsetDateTime::now_utc(), 2),
                );
                let header = sign(&a.secret, &bytes, OffsetDateTime::now_utc());
                server
                    .send(
                        Method::POST,
                        &url,
                        Some(&a.tenant.admin),
                        Body::Raw(Some("application/json"), bytes),
                        &[(header.0, header.1)],
                    )
                    .await
                    .expect_error(401, "bad_signature", &format!("{db:?}: {url}"));
            } else {
                let reply = call(&server, method, &url, &a.tenant.admin, body.as_ref()).await;
                reply.expect_error(
                    404,
                    "not_found",
                    &format!("{db:?}: A's key on {method} {url}"),
                );
            }
            checked += 1;
        }
        assert!(checked >= 15, "{checked} id routes checked");

        // Lists and reads without ids, with A's key, never show anything of B's.
        for (method, path, secured) in &ops {
            if method != "get" || path.contains('{') || !secured || path.contains("lookup") {
                continue;
            }
            // Entrants need a segment: every RFM segment name exists in every brand.
            let url = if path.ends_with("/entrants") || path.ends_with("/segments/export") {
                format!("{path}?segment=Champions")
            } else {
                path.clone()
            };
            let reply = server.get(&url, &a.tenant.admin).await.expect(200, path);
            for id in b.identifiers() {
                assert!(!reply.text.contains(&id), "{db:?}: {path} shows B's {id}");
            }
            for id in [
                &a.customer,
                &a.order,
                &a.location,
                &a.reward,
                &a.key,
                &a.integration,
                &a.campaign,
            ] {
                let lists_it = path.ends_with(match id {
                    x if x == &a.customer => "customers",
                    x if x == &a.campaign => "campaigns",
                    x if x == &a.order => "orders",
                    x if x == &a.location => "locations",
                    x if x == &a.reward => "rewards",
                    x if x == &a.key => "keys",
                    _ => "integrations",
                });
                if lists_it {
                    assert!(
                        reply.text.contains(id.as_str()),
                        "{db:?}: {path} lists A's own {id}"
                    );
                }
            }
        }
        server
            .get(
                &format!("/v1/customers/lookup?phone={}", b.phone.replace('+', "%2B")),
                &a.tenant.admin,
            )
            .await
            .expect_error(404, "not_found", "lookup of B's phone");

        // B's data is untouched: its voucher still redeemable, its key still works.
        let check = server
            .get(&format!("/v1/vouchers/{}", b.voucher), &b.tenant.admin)
            .await
            .expect(200, "B's voucher");
        assert_eq!(check.json["redeemable"], true, "{db:?}: {}", check.text);
        let keys = server
            .get("/v1/keys", &b.tenant.admin)
            .await
            .expect(200, "B's keys");
        assert!(
            keys.json["items"]
                .as_array()
                .is_some_and(|k| k.iter().all(|k| k["revoked_at"].is_null()))
        );
        let campaign = server
            .get(&format!("/v1/campaigns/{}", b.campaign), &b.tenant.admin)
            .await
            .expect(200, "B's campaign");
        assert_eq!(
            campaign.json["status"], "draft",
            "{db:?}: {}",
            campaign.text
        );
        assert_eq!(
            campaign.json["name"], "Come back",
            "{db:?}: {}",
            campaign.text
        );
        let profile = server
            .get(&format!("/v1/customers/{}", b.customer), &b.tenant.admin)
            .await
            .expect(200, "B's customer");
        assert_eq!(profile.json["customer"]["name"], Value::Null);
        assert_eq!(profile.json["vouchers"].as_array().map(Vec::len), Some(1));
        // B's own scoring run put B's customer in B's segment, on the profile too.
        let segments = &profile.json["scores"]["segments"];
        assert!(
            segments
                .as_array()
                .is_some_and(|s| s.iter().any(|x| x == "Brand B regulars")),
            "{db:?}: {}",
            profile.text
        );

        // A viewer may read but never write; without a key nothing answers but 401.
        let viewer = server
            .post("/v1/keys", &a.tenant.admin, &json!({"role": "viewer"}))
            .await
            .expect(201, "viewer key")
            .str("/token");
        for (method, path, secured) in &ops {
            if !secured {
                continue;
            }
            let mut url = fill(path, &a);
            if path.ends_with("/lookup") {
                url.push_str(&format!("?phone={}", a.phone.replace('+', "%2B")));
            }
            if path.ends_with("/entrants") || path.ends_with("/segments/export") {
                url.push_str("?segment=Champions");
            }
            let body = valid_body(method, path, &a);
            let send = |key: Option<String>| {
                let server = &server;
                let url = url.clone();
                let body = body.clone();
                let method = method_of(method);
                async move {
                    match &body {
                        Some(b) => {
                            server
                                .call(method, &url, key.as_deref(), Body::Json(b))
                                .await
                        }
                        None => server.call(method, &url, key.as_deref(), Body::None).await,
                    }
                }
            };
            let what = format!("{db:?}: {method} {url}");
            send(None)
                .await
                .expect_error(401, "unauthorized", &format!("no key: {what}"));
            send(Some("rgk_notakey_atall".to_owned()))
                .await
                .expect_error(401, "unauthorized", &format!("bad key: {what}"));
            let as_viewer = send(Some(viewer.clone())).await;
            // Keys, integrations, till staff and devices are the brand's access
            // settings, and channel accounts hold its senders' credentials: admin only,
            // even to read.
            // So are the expensive reads and the jobs that run expensive work, and a
            // customer's whole data, exported on their request. A location manager's
            // email is a contact: admin only too, and so are a segment's members.
            let admin_only = [
                "/v1/locations/{id}/manager",
                "/v1/customers/{id}/export",
                "/v1/segments/export",
                "/v1/keys",
                "/v1/integrations",
                "/v1/jobs/{id}",
                "/v1/campaigns/{id}/preview",
                "/v1/audit/access",
                "/v1/staff",
                "/v1/till-devices",
                "/v1/brand/channels",
                "/v1/brand/channels/{channel}",
            ]
            .contains(&path.as_str());
            // A preview plans without writing anything: a read, though it is a POST.
            let reads = method == "get" || path == "/v1/campaigns/{id}/preview";
            if reads && !admin_only {
                assert_eq!(
                    as_viewer.status, 200,
                    "viewer reads {what}: {}",
                    as_viewer.text
                );
            } else {
                as_viewer.expect_error(403, "forbidden", &format!("viewer writes {what}"));
            }
        }
        server.assert_ledger_clean().await;
        server.stop().await;
    }
}
