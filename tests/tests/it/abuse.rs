//! Unauthenticated floods stay cheap and cannot starve real callers, over HTTP on both
//! databases: junk sent to an integration's URL leaves its POS's budget alone, garbage
//! API keys from one address stop costing database look-ups, dashboard sign-in is
//! limited, and a dashboard session or `qr-link` spends its key's requests like the API.
//! Expensive work is admin-only: scoring is a job polled by id, previews are refused to
//! viewers.
//! Floods come from another loopback address (127.0.0.2) than the genuine callers
//! (127.0.0.1); rate limits run on a clock the test moves by hand.

use crate::pos::{order_data, paid, sign};
use crate::server::{TestServer, dbs, spawn_configured};
use regulars_http::RateLimit;
use regulars_ports::Clock;
use regulars_tests::{ManualClock, phone};
use std::net::{IpAddr, Ipv4Addr};
use time::Duration;

/// An HTTP client whose connections come from `127.0.0.<last>`, redirects not followed.
fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"))
}

async fn status(request: reqwest::RequestBuilder) -> u16 {
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("request: {e}"))
        .status()
        .as_u16()
}

const SMALL: RateLimit = RateLimit {
    per_second: 1,
    burst: 3,
};

/// A well-formed key no brand has: `rgk_` + 13 + `_` + 52 characters of the alphabet.
fn garbage_key(n: u32) -> String {
    let digits = format!("{n:013}");
    format!("rgk_{digits}_{}", "a".repeat(52))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_flood_does_not_starve_the_signed_pos() {
    for db in dbs() {
        let clock = ManualClock::starting_now();
        let server = spawn_configured(db, |s| s.rate_limit = Some(SMALL), clock.clone()).await;
        let tenant = server.tenant("Flooded").await;
        let rules: serde_json::Value =
            serde_json::from_str(regulars_tests::RULES).unwrap_or_else(|e| panic!("{e}"));
        server
            .put("/v1/program/earning-rules", &tenant.admin, &rules)
            .await
            .expect(200, "rules");
        let made = server
            .post(
                "/v1/integrations",
                &tenant.admin,
                &serde_json::json!({"kind": "generic"}),
            )
            .await
            .expect(201, "integration");
        let (path, secret) = (made.str("/integration/webhook_path"), made.str("/secret"));
        let url = format!("{}{path}", server.base);
        let now = clock.now();
        let body = paid(
            "evt-genuine",
            order_data("FL-1", Some(phone(1).as_str()), now - Duration::hours(1), 1),
        );

        // Far more junk than the integration's burst, signed with a wrong secret.
        let attacker = client_from(2);
        let mut refused = Vec::new();
        for i in 0..40 {
            let junk = paid(
                &format!("evt-junk-{i}"),
                order_data("FL-X", None, now - Duration::hours(1), 1),
            );
            let (name, value) = sign("not-the-secret", &junk, now);
            refused.push(
                status(
                    attacker
                        .post(&url)
                        .header("content-type", "application/json")
                        .header(name, value)
                        .body(junk),
                )
                .await,
            );
        }
        assert!(
            refused.iter().all(|s| *s == 401 || *s == 429),
            "{db:?}: {refused:?}"
        );
        assert_eq!(
            refused.last(),
            Some(&429),
            "{db:?}: junk has its own budget: {refused:?}"
        );

        // The POS's signed delivery still goes through.
        let (name, value) = sign(&secret, &body, now);
        let genuine = status(
            client_from(1)
                .post(&url)
                .header("content-type", "application/json")
                .header(name, value)
                .body(body),
        )
        .await;
        assert_eq!(genuine, 200, "{db:?}: the signed delivery");
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_keys_from_one_address_get_429_without_database_lookups() {
    for db in dbs() {
        let clock = ManualClock::starting_now();
        let server = spawn_configured(db, |_| {}, clock.clone()).await;
        let tenant = server.tenant("Probed").await;
        let url = format!("{}/v1/brand", server.base);
        // The admin works before the flood (so its key is known to this process).
        assert_eq!(
            status(client_from(1).get(&url).bearer_auth(&tenant.admin)).await,
            200
        );

        let before = server.services.key_lookups();
        let attacker = client_from(2);
        let mut answers = Vec::new();
        for n in 0..100 {
            answers.push(status(attacker.get(&url).bearer_auth(garbage_key(n))).await);
        }
        let looked_up = server.services.key_lookups() - before;
        let limited = answers.iter().filter(|s| **s == 429).count();
        assert!(
            answers.iter().all(|s| *s == 401 || *s == 429),
            "{db:?}: {answers:?}"
        );
        assert!(limited >= 75, "{db:?}: only {limited} of 100 got 429");
        assert!(
            looked_up <= 25,
            "{db:?}: {looked_up} garbage keys reached the database"
        );

        // A refused key sent again (from anywhere) is answered from memory.
        let before = server.services.key_lookups();
        assert_eq!(
            status(client_from(3).get(&url).bearer_auth(garbage_key(0))).await,
            401
        );
        assert_eq!(server.services.key_lookups(), before, "{db:?}: cached");

        // A key that works is not refused, even from the spent address.
        assert_eq!(
            status(client_from(1).get(&url).bearer_auth(&tenant.admin)).await,
            200
        );
        assert_eq!(
            status(attacker.get(&url).bearer_auth(&tenant.admin)).await,
            200,
            "{db:?}: a known key from the spent address"
        );

        // The budget comes back with time.
        clock.advance(Duration::seconds(60));
        assert_eq!(
            status(attacker.get(&url).bearer_auth(garbage_key(1000))).await,
            401,
            "{db:?}: after a minute"
        );
        server.stop().await;
    }
}

/// The sign-in form's nonce cookie (`name=value`) and CSRF token.
async fn login_form(client: &reqwest::Client, server: &TestServer) -> (String, String) {
    let response = client
        .get(format!("{}/dashboard/login", server.base))
        .send()
        .await
        .unwrap_or_else(|e| panic!("login form: {e}"));
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("regulars_login="))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no sign-in cookie"))
        .to_owned();
    let text = response.text().await.unwrap_or_default();
    let marker = "name=\"csrf\" value=\"";
    let start = text.find(marker).unwrap_or_else(|| panic!("no token")) + marker.len();
    let end = text[start..].find('"').unwrap_or(0) + start;
    (cookie, text[start..end].to_owned())
}

async fn sign_in(
    client: &reqwest::Client,
    server: &TestServer,
    form: &(String, String),
    key: &str,
) -> reqwest::Response {
    client
        .post(format!("{}/dashboard/login", server.base))
        .header("cookie", &form.0)
        .form(&[("key", key), ("csrf", form.1.as_str())])
        .send()
        .await
        .unwrap_or_else(|e| panic!("sign in: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_sign_in_sessions_and_qr_links_are_limited() {
    for db in dbs() {
        let clock = ManualClock::starting_now();
        let server = spawn_configured(db, |s| s.rate_limit = Some(SMALL), clock.clone()).await;
        let tenant = server.tenant("Signed").await;

        // Guessing keys at the sign-in form: refused, then limited.
        let attacker = client_from(2);
        let form = login_form(&attacker, &server).await;
        let mut answers = Vec::new();
        for n in 0..40 {
            answers.push(
                sign_in(&attacker, &server, &form, &garbage_key(n))
                    .await
                    .status()
                    .as_u16(),
            );
        }
        assert_eq!(answers.first(), Some(&401), "{db:?}: {answers:?}");
        assert_eq!(answers.last(), Some(&429), "{db:?}: {answers:?}");

        // A session spends its key's requests, like the API.
        let browser = client_from(1);
        let form = login_form(&browser, &server).await;
        let signed = sign_in(&browser, &server, &form, &tenant.admin).await;
        assert_eq!(signed.status().as_u16(), 303, "{db:?}: sign in");
        let session = signed
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("regulars_session="))
            .and_then(|c| c.split(';').next())
            .unwrap_or_else(|| panic!("{db:?}: no session"))
            .to_owned();
        let mut pages = Vec::new();
        for _ in 0..(SMALL.burst + 1) {
            pages.push(
                status(
                    browser
                        .get(format!("{}/dashboard/customers", server.base))
                        .header("cookie", &session),
                )
                .await,
            );
        }
        assert_eq!(
            pages.last(),
            Some(&429),
            "{db:?}: dashboard pages: {pages:?}"
        );

        // qr-link too, on the same key's bucket.
        clock.advance(Duration::seconds(60));
        let customer = server
            .post(
                "/v1/customers",
                &tenant.admin,
                &serde_json::json!({"phone": phone(7).as_str()}),
            )
            .await
            .expect(201, "customer")
            .str("/id");
        let link = format!("{}/v1/customers/{customer}/qr-link", server.base);
        let mut links = Vec::new();
        for _ in 0..SMALL.burst {
            links.push(status(browser.post(&link).bearer_auth(&tenant.admin)).await);
        }
        assert_eq!(links.first(), Some(&201), "{db:?}: {links:?}");
        assert_eq!(links.last(), Some(&429), "{db:?}: qr-link: {links:?}");
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoring_is_an_admin_job_polled_by_id_and_previews_are_admin_only() {
    for db in dbs() {
        let server = crate::server::spawn(db).await;
        let a = server.tenant("Jobs A").await;
        let b = server.tenant("Jobs B").await;
        let viewer = server
            .post("/v1/keys", &a.admin, &serde_json::json!({"role": "viewer"}))
            .await
            .expect(201, "viewer key")
            .str("/token");
        server
            .post("/v1/scoring/runs", &viewer, &serde_json::json!({}))
            .await
            .expect_error(403, "forbidden", "a viewer starts scoring");
        let started = server
            .post("/v1/scoring/runs", &a.admin, &serde_json::json!({}))
            .await
            .expect(202, "scoring starts");
        let job = started.str("/id");
        assert_eq!(started.json["kind"], "scoring", "{}", started.text);
        // Another brand cannot see it, a viewer may not poll it.
        server
            .get(&format!("/v1/jobs/{job}"), &b.admin)
            .await
            .expect_error(404, "not_found", "another brand's job");
        server
            .get(&format!("/v1/jobs/{job}"), &viewer)
            .await
            .expect_error(403, "forbidden", "a viewer polls");
        // Polled to the end, it holds the run.
        let done = server.score(&a.admin).await;
        assert!(done.json["scoring_run"]["id"].is_string(), "{}", done.text);

        let campaign = server
            .post(
                "/v1/campaigns",
                &a.admin,
                &serde_json::json!({"name": "Hi", "trigger": {"type": "broadcast"}}),
            )
            .await
            .expect(201, "campaign")
            .str("/id");
        server
            .post(
                &format!("/v1/campaigns/{campaign}/preview"),
                &viewer,
                &serde_json::json!({}),
            )
            .await
            .expect_error(403, "forbidden", "a viewer's preview");
        server
            .post(
                &format!("/v1/campaigns/{campaign}/preview"),
                &a.admin,
                &serde_json::json!({}),
            )
            .await
            .expect(200, "an admin's preview");
        server.stop().await;
    }
}
