//! What each role may change and see: a till (`pos`) registers customers with the
//! consent they give but never rewrites an existing customer's contact details, consent
//! or birthday; `PUT` replaces a whole profile and `PATCH` merges; every change is
//! recorded with the key that made it.

use crate::server::{Body, TestServer, dbs, spawn};
use regulars_domain::{ChangeSource, CustomerId};
use regulars_tests::phone;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

/// A key of `role` made by `admin`: (token, key id).
async fn key(server: &TestServer, admin: &str, role: &str) -> (String, String) {
    let made = server
        .post("/v1/keys", admin, &json!({"role": role}))
        .await
        .expect(201, role);
    (made.str("/token"), made.str("/key/id"))
}

async fn patch(server: &TestServer, path: &str, key: &str, body: &Value) -> crate::server::Reply {
    server
        .call(Method::PATCH, path, Some(key), Body::Json(body))
        .await
}

/// A customer registered by an admin with every field set.
async fn registered(server: &TestServer, admin: &str, n: u64) -> String {
    server
        .post(
            "/v1/customers",
            admin,
            &json!({"phone": phone(n).as_str(), "name": "Lan", "birthday": "1990-05-04",
                    "email": "lan@example.com", "zalo_user_id": "z-lan",
                    "consent": {"zalo": true, "sms": true, "email": false}}),
        )
        .await
        .expect(201, "register")
        .str("/id")
}

async fn changes(
    server: &TestServer,
    brand: regulars_domain::BrandId,
    id: &str,
) -> Vec<regulars_domain::CustomerChange> {
    let id = CustomerId::from_uuid(Uuid::parse_str(id).unwrap_or_else(|e| panic!("{e}")));
    server
        .services
        .customer_changes(brand, id)
        .await
        .unwrap_or_else(|e| panic!("changes: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_till_registers_with_consent_but_never_rewrites_contact_or_consent() {
    for db in dbs() {
        let server = spawn(db).await;
        let tenant = server.tenant("Roles").await;
        let admin = tenant.admin.as_str();
        let (pos, pos_id) = key(&server, admin, "pos").await;
        let (_, admin_id) = {
            let keys = server.get("/v1/keys", admin).await.expect(200, "keys");
            (String::new(), keys.str("/items/0/id"))
        };
        let id = registered(&server, admin, 1).await;
        let before = server
            .get(&format!("/v1/customers/{id}"), admin)
            .await
            .expect(200, "profile")
            .json["customer"]
            .clone();
        let url = format!("/v1/customers/{id}");

        // The attack: a till rewrites the email and forges consent.
        let whole = json!({"name": "Lan", "birthday": "1990-05-04", "email": "attacker@evil.tld",
                           "zalo_user_id": "z-lan", "consent": {"zalo": true, "sms": true, "email": true}});
        server.put(&url, &pos, &whole).await.expect_error(
            403,
            "forbidden",
            &format!("{db:?}: pos PUT"),
        );
        for (field, body) in [
            ("email", json!({"email": "attacker@evil.tld"})),
            ("consent", json!({"consent": {"email": true}})),
            ("consent", json!({"consent": null})),
            ("birthday", json!({"birthday": "1990-12-06"})),
            ("zalo_user_id", json!({"zalo_user_id": "z-attacker"})),
            ("email", json!({"name": "Lan", "email": null})),
        ] {
            let refused = patch(&server, &url, &pos, &body).await;
            let named =
                refused.expect_error(403, "forbidden", &format!("{db:?}: pos PATCH {body}"));
            assert_eq!(named.as_deref(), Some(field), "{db:?}: {}", refused.text);
        }
        let after = server.get(&url, admin).await.expect(200, "profile").json["customer"].clone();
        assert_eq!(before, after, "{db:?}: nothing changed");

        // The till may fix the name, and register a new customer with the consent given.
        let renamed = patch(&server, &url, &pos, &json!({"name": "Lan Anh"}))
            .await
            .expect(200, "pos renames");
        assert_eq!(renamed.json["email"], "lan@example.com");
        assert_eq!(renamed.json["consent"]["sms"], true);
        let fresh = server
            .post(
                "/v1/customers",
                &pos,
                &json!({"phone": phone(2).as_str(), "email": "hoa@example.com",
                        "consent": {"sms": true, "email": true}}),
            )
            .await
            .expect(201, "pos registers")
            .str("/id");

        // An admin may change contact and consent.
        patch(&server, &url, admin, &json!({"consent": {"email": true}}))
            .await
            .expect(200, "admin patches consent");

        // Every change is recorded with its key, time and source.
        let log = changes(&server, tenant.brand, &id).await;
        let summary: Vec<(String, ChangeSource, Vec<String>)> = log
            .iter()
            .map(|c| (c.actor.clone(), c.source, c.fields.clone()))
            .collect();
        let by = |k: &str| format!("api-key:{k}");
        let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            summary,
            vec![
                (
                    by(&admin_id),
                    ChangeSource::Api,
                    strings(&["name", "birthday", "email", "zalo_user_id", "consent"])
                ),
                (by(&pos_id), ChangeSource::Till, strings(&["name"])),
                (by(&admin_id), ChangeSource::Api, strings(&["consent"])),
            ],
            "{db:?}"
        );
        assert!(
            log[2].consent.email.granted() && log[2].consent.sms.granted(),
            "{db:?}: {log:?}"
        );
        assert!(
            log.windows(2).all(|w| w[0].at <= w[1].at),
            "{db:?}: {log:?}"
        );
        let registration = changes(&server, tenant.brand, &fresh).await;
        assert_eq!(registration.len(), 1, "{db:?}");
        assert_eq!(registration[0].actor, by(&pos_id));
        assert_eq!(registration[0].source, ChangeSource::Till);
        assert!(registration[0].consent.sms.granted() && registration[0].consent.email.granted());
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_needs_the_whole_profile_and_patch_keeps_what_it_does_not_name() {
    for db in dbs() {
        let server = spawn(db).await;
        let tenant = server.tenant("Profiles").await;
        let admin = tenant.admin.as_str();
        let id = registered(&server, admin, 3).await;
        let url = format!("/v1/customers/{id}");

        // The old footgun: `{"name": …}` wiped consent, birthday and email.
        let refused = server.put(&url, admin, &json!({"name": "New name"})).await;
        let field = refused.expect_error(422, "invalid", &format!("{db:?}: partial PUT"));
        assert_eq!(
            field.as_deref(),
            Some("birthday"),
            "{db:?}: {}",
            refused.text
        );
        for missing in ["birthday", "email", "zalo_user_id", "consent"] {
            assert!(
                refused.json["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(missing)),
                "{db:?}: names {missing}: {}",
                refused.text
            );
        }
        let kept = server.get(&url, admin).await.expect(200, "profile");
        assert_eq!(kept.json["customer"]["name"], "Lan", "{db:?}");
        assert_eq!(kept.json["customer"]["consent"]["sms"], true, "{db:?}");

        // PATCH: omitted kept, null cleared, consent merged per channel.
        let patched = patch(
            &server,
            &url,
            admin,
            &json!({"name": "Lan Anh", "zalo_user_id": null, "consent": {"zalo": false}}),
        )
        .await
        .expect(200, "patch");
        assert_eq!(patched.json["name"], "Lan Anh", "{db:?}");
        assert_eq!(patched.json["birthday"], "1990-05-04", "{db:?}");
        assert_eq!(patched.json["email"], "lan@example.com", "{db:?}");
        assert_eq!(patched.json["zalo_user_id"], Value::Null, "{db:?}");
        assert_eq!(
            patched.json["consent"],
            json!({"zalo": false, "sms": true, "email": false, "profiling": false,
                   "programme": false}),
            "{db:?}"
        );
        let stored = server.get(&url, admin).await.expect(200, "profile");
        assert_eq!(stored.json["customer"], patched.json, "{db:?}");

        // A merge-patch content type is JSON too; a bad value names its field.
        let typed = server
            .call(
                Method::PATCH,
                &url,
                Some(admin),
                Body::Raw(
                    Some("application/merge-patch+json"),
                    br#"{"birthday": null}"#.to_vec(),
                ),
            )
            .await
            .expect(200, "merge-patch+json");
        assert_eq!(typed.json["birthday"], Value::Null, "{db:?}");
        assert_eq!(typed.json["email"], "lan@example.com", "{db:?}");
        let bad = patch(&server, &url, admin, &json!({"email": "not-an-email"})).await;
        assert_eq!(
            bad.expect_error(422, "invalid", "bad email").as_deref(),
            Some("email")
        );

        // A whole PUT replaces, null included.
        let whole = json!({"name": "Lan", "birthday": null, "email": null, "zalo_user_id": null,
                           "consent": {"zalo": false, "sms": false, "email": false}});
        let replaced = server.put(&url, admin, &whole).await.expect(200, "put");
        assert_eq!(replaced.json["email"], Value::Null, "{db:?}");
        assert_eq!(replaced.json["consent"]["sms"], false, "{db:?}");
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_show_only_where_they_are_redeemed_and_viewers_see_contacts_hidden() {
    for db in dbs() {
        let server = spawn(db).await;
        let tenant = server.tenant("Exposure").await;
        let admin = tenant.admin.as_str();
        let (viewer, _) = key(&server, admin, "viewer").await;
        let (pos, _) = key(&server, admin, "pos").await;
        let id = registered(&server, admin, 4).await;
        let reward = server
            .post(
                "/v1/rewards",
                admin,
                &json!({"name": "Free topping", "cost": 10,
                        "kind": {"type": "free_modifier", "sku": "TOP"}, "validity_days": 30}),
            )
            .await
            .expect(201, "reward")
            .str("/id");
        server
            .post(
                &format!("/v1/customers/{id}/adjustments"),
                admin,
                &json!({"points": 10, "reason": "opening"}),
            )
            .await
            .expect(201, "points");
        let code = server
            .post(
                &format!("/v1/customers/{id}/redemptions"),
                &pos,
                &json!({"reward_id": reward}),
            )
            .await
            .expect(201, "voucher")
            .str("/code");
        let campaign = server
            .post(
                "/v1/campaigns",
                admin,
                &json!({"name": "Hello", "trigger": {"type": "broadcast"}, "holdout": 0,
                        "channels": ["sms"], "template": "Mã {{code}} cho {{name}}",
                        "offer": {"type": "fixed", "reward": {"reward_id": reward,
                                  "cost": {"amount": "10000", "currency": "VND"}}}}),
            )
            .await
            .expect(201, "campaign")
            .str("/id");
        server
            .post(
                &format!("/v1/campaigns/{campaign}/launch"),
                admin,
                &json!({}),
            )
            .await
            .expect(200, "launch");
        server
            .post("/v1/campaigns/runs", admin, &json!({}))
            .await
            .expect(201, "run");

        let full_phone = phone(4).as_str().to_owned();
        let hidden = phone(4).partly_hidden();
        let masked = regulars_loyalty::vouchers::masked_code(&code);
        let lookup = format!(
            "/v1/customers/lookup?phone={}",
            full_phone.replace('+', "%2B")
        );
        for url in [format!("/v1/customers/{id}"), lookup] {
            // A viewer: phone partly hidden, no email or Zalo id, codes masked.
            let seen = server.get(&url, &viewer).await.expect(200, "viewer");
            assert_eq!(seen.json["customer"]["phone"], hidden.as_str(), "{db:?}");
            assert_eq!(seen.json["customer"]["email"], Value::Null, "{db:?}");
            assert_eq!(seen.json["customer"]["zalo_user_id"], Value::Null, "{db:?}");
            let codes: Vec<&str> = seen.json["vouchers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["code"].as_str())
                .collect();
            assert!(codes.contains(&masked.as_str()), "{db:?}: {}", seen.text);
            assert!(!seen.text.contains(&code), "{db:?}: {}", seen.text);
            assert!(!seen.text.contains("lan@example.com"), "{db:?}");
            // The till, where the code is redeemed, and the admin see it whole.
            for k in [&pos, admin] {
                let whole = server.get(&url, k).await.expect(200, "till");
                assert!(whole.text.contains(&code), "{db:?}: {}", whole.text);
                assert_eq!(whole.json["customer"]["phone"], full_phone.as_str());
            }
        }
        let list = server
            .get("/v1/customers", &viewer)
            .await
            .expect(200, "list");
        assert_eq!(list.json["items"][0]["phone"], hidden.as_str(), "{db:?}");
        assert_eq!(list.json["items"][0]["email"], Value::Null, "{db:?}");

        // Message lists: every body with its code masked; the recipient whole to an
        // admin only.
        let url = format!("/v1/campaigns/{campaign}/messages");
        for (k, recipient) in [
            (&viewer, hidden.as_str()),
            (&pos, hidden.as_str()),
            (&tenant.admin, full_phone.as_str()),
        ] {
            let seen = server.get(&url, k).await.expect(200, "messages");
            let m = &seen.json["items"][0];
            assert_eq!(m["recipient"], recipient, "{db:?}: {}", seen.text);
            let body = m["body"].as_str().unwrap_or_default();
            assert!(body.starts_with("[QC] Mã "), "{db:?}: {body}");
            assert!(body.contains('…'), "{db:?}: {body}");
            let issued = &body["[QC] Mã ".len()..body.find(" cho").unwrap_or(body.len())];
            assert_eq!(issued.chars().count(), 5, "{db:?}: {body}");
            assert!(!seen.text.contains(&code), "{db:?}");
        }
        server.stop().await;
    }
}

/// The properties of an operation's JSON request body, from the OpenAPI document.
fn body_properties(doc: &Value, path: &str, method: &str) -> Vec<String> {
    let schema =
        &doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"];
    let schema = match schema["$ref"].as_str() {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .cloned()
            .unwrap_or(Value::Null),
        None => schema.clone(),
    };
    schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// From the OpenAPI document: every write route refuses a viewer key, and every route
/// that changes an existing customer's contact details or consent refuses a till key,
/// while registering a customer with the consent they give stays open to the till.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_refuses_a_viewer_and_every_contact_change_refuses_a_till() {
    use crate::isolation::{fill, method_of, operations, populate, valid_body};
    const GUARDED: [&str; 5] = ["email", "zalo_user_id", "birthday", "consent", "phone"];
    for db in dbs() {
        let server = spawn(db).await;
        let a = populate(&server, "Sweep", 501).await;
        let admin = a.tenant.admin.clone();
        let (viewer, _) = key(&server, &admin, "viewer").await;
        let (pos, _) = key(&server, &admin, "pos").await;
        let doc = server
            .call(Method::GET, "/openapi.json", None, Body::None)
            .await
            .expect(200, "openapi")
            .json;
        let (mut writes, mut contact_changes, mut registrations) = (0, 0, 0);
        for (method, path, secured) in operations(&server).await {
            if !secured || method == "get" {
                continue;
            }
            let url = fill(&path, &a);
            let what = format!("{db:?}: {method} {path}");
            let body = valid_body(&method, &path, &a);
            let as_viewer = match &body {
                Some(b) => {
                    server
                        .call(method_of(&method), &url, Some(&viewer), Body::Json(b))
                        .await
                }
                None => {
                    server
                        .call(method_of(&method), &url, Some(&viewer), Body::None)
                        .await
                }
            };
            as_viewer.expect_error(403, "forbidden", &format!("viewer: {what}"));
            writes += 1;

            let properties = body_properties(&doc, &path, &method);
            let guarded: Vec<&str> = GUARDED
                .into_iter()
                .filter(|g| properties.iter().any(|p| p == g))
                .collect();
            if guarded.is_empty() {
                continue;
            }
            if path.contains('{') {
                // An existing customer: a forged email and consent, and whatever else
                // the document takes, all refused to the till.
                let mut forged = json!({"email": "attacker@evil.tld",
                    "consent": {"zalo": true, "sms": true, "email": true},
                    "birthday": "1990-01-01", "zalo_user_id": "z-attacker"});
                for p in &properties {
                    if forged.get(p).is_none() {
                        forged[p] = Value::Null;
                    }
                }
                server
                    .call(method_of(&method), &url, Some(&pos), Body::Json(&forged))
                    .await
                    .expect_error(403, "forbidden", &format!("till: {what}"));
                contact_changes += 1;
            } else {
                // Registration: the consent the customer gives at the counter.
                let n = 900 + registrations;
                server
                    .call(
                        method_of(&method),
                        &url,
                        Some(&pos),
                        Body::Json(&json!({"phone": phone(n).as_str(),
                            "email": "new@example.com", "consent": {"sms": true}})),
                    )
                    .await
                    .expect(201, &format!("till registers: {what}"));
                registrations += 1;
            }
        }
        assert!(writes >= 25, "{db:?}: {writes} write routes");
        assert!(
            contact_changes >= 2,
            "{db:?}: {contact_changes} contact routes"
        );
        assert!(registrations >= 1, "{db:?}: {registrations} registrations");
        let profile = server
            .get(&format!("/v1/customers/{}", a.customer), &admin)
            .await
            .expect(200, "profile");
        assert_eq!(profile.json["customer"]["email"], Value::Null, "{db:?}");
        server.stop().await;
    }
}
