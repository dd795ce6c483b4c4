//! Goals: the owner sets a target for a figure through the API or the dashboard, and
//! the overview shows its figure now, progress, trend and status; bad goals are refused
//! naming the field; a manager sees its locations' goals only.

use crate::dashboard::Visitor;
use crate::pos::rfc3339;
use crate::server::{TestServer, dbs, spawn};
use regulars_tests::{RULES, phone};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

async fn sell(server: &TestServer, admin: &str, id: &str, code: &str, n: u64) {
    let at = OffsetDateTime::now_utc() - Duration::hours(3);
    let body = json!({"order_id": id, "placed_at": rfc3339(at), "currency": "VND",
        "location": code, "customer_phone": phone(n).as_str(),
        "lines": [{"sku": "CF", "name": "Cà phê", "quantity": 1, "unit_price": "30000"}],
        "total": "30000"});
    server
        .post("/v1/orders", admin, &body)
        .await
        .expect(200, id);
}

fn day(days: i64) -> String {
    // The brand's local date (UTC+7) moved by `days`.
    let local =
        OffsetDateTime::now_utc().to_offset(time::macros::offset!(+7)) + Duration::days(days);
    local.date().to_string()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goals_show_progress_and_status_and_refuse_bad_values() {
    for db in dbs() {
        let server = spawn(db).await;
        let tenant = server.tenant("Goals").await;
        let other = server.tenant("Other goals").await;
        let admin = tenant.admin.as_str();
        let rules: Value = serde_json::from_str(RULES).unwrap_or_else(|e| panic!("{e}"));
        server
            .put("/v1/program/earning-rules", admin, &rules)
            .await
            .expect(200, "rules");
        let q1 = server
            .post(
                "/v1/locations",
                admin,
                &json!({"code": "q1", "name": "Shop 1"}),
            )
            .await
            .expect(201, "q1")
            .str("/id");
        let theirs = server
            .post(
                "/v1/locations",
                &other.admin,
                &json!({"code": "q1", "name": "Theirs"}),
            )
            .await
            .expect(201, "theirs")
            .str("/id");
        // Customer 1 came twice, customer 2 once: a repeat rate of 1/2, two members.
        sell(&server, admin, "g-1", "q1", 1).await;
        sell(&server, admin, "g-2", "q1", 1).await;
        sell(&server, admin, "g-3", "q1", 2).await;

        // Without a start value the goal starts from the figure now.
        let made = server
            .post(
                "/v1/goals",
                admin,
                &json!({"metric": "repeat_rate", "target_value": 0.75, "deadline": day(60)}),
            )
            .await
            .expect(201, "goal from now");
        assert!(
            (f(&made.json["start_value"]) - 0.5).abs() < 1e-9,
            "{db:?}: {}",
            made.text
        );
        assert_eq!(made.json["direction"], "increase", "{db:?}");
        server
            .call(
                reqwest::Method::DELETE,
                &format!("/v1/goals/{}", made.str("/id")),
                Some(admin),
                crate::server::Body::None,
            )
            .await
            .expect(204, "removed");

        // From 40 % to 75 %: at 50 % now, 2/7 of the way, ahead of a path just begun.
        server
            .post(
                "/v1/goals",
                admin,
                &json!({"metric": "repeat_rate", "start_value": 0.4, "target_value": 0.75, "deadline": day(60)}),
            )
            .await
            .expect(201, "repeat goal");
        // Bringing active members down from 10 to 5 at Shop 1: 2 already is achieved.
        server
            .post(
                "/v1/goals",
                admin,
                &json!({"metric": "active_members", "start_value": 10, "target_value": 5,
                        "deadline": day(30), "location_id": q1}),
            )
            .await
            .expect(201, "decrease goal");
        let list = server.get("/v1/goals", admin).await.expect(200, "goals");
        let items = list.json["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 2, "{db:?}: {}", list.text);
        let repeat = &items[0];
        assert!(
            (f(&repeat["current"]) - 0.5).abs() < 1e-9,
            "{db:?}: {repeat}"
        );
        assert!(
            (f(&repeat["progress"]) - 0.1 / 0.35).abs() < 1e-6,
            "{db:?}: {repeat}"
        );
        assert_eq!(repeat["status"], "on_track", "{db:?}: {repeat}");
        assert_eq!(repeat["trend"].as_array().map(Vec::len), Some(6), "{db:?}");
        let members = &items[1];
        assert_eq!(members["goal"]["direction"], "decrease", "{db:?}");
        assert!(
            (f(&members["current"]) - 2.0).abs() < 1e-9,
            "{db:?}: {members}"
        );
        assert_eq!(members["status"], "achieved", "{db:?}: {members}");
        assert!((f(&members["progress"]) - 1.0).abs() < 1e-9, "{db:?}");

        // Bad goals name their field.
        for (body, status, field) in [
            (
                json!({"metric": "revenue", "target_value": 1, "deadline": day(9)}),
                422,
                "metric",
            ),
            (
                json!({"metric": "repeat_rate", "target_value": 1.5, "deadline": day(9)}),
                422,
                "target_value",
            ),
            (
                json!({"metric": "repeat_rate", "start_value": -1, "target_value": 0.5, "deadline": day(9)}),
                422,
                "start_value",
            ),
            (
                json!({"metric": "repeat_rate", "target_value": 0.5, "deadline": "soon"}),
                400,
                "deadline",
            ),
            (
                json!({"metric": "repeat_rate", "target_value": 0.5, "deadline": day(0)}),
                422,
                "deadline",
            ),
            (
                json!({"metric": "repeat_rate", "target_value": 0.5, "deadline": day(9), "location_id": theirs}),
                422,
                "location",
            ),
            (
                json!({"metric": "repeat_rate", "target_value": 0.5, "deadline": day(9), "location_id": "q1"}),
                400,
                "location_id",
            ),
        ] {
            let reply = server.post("/v1/goals", admin, &body).await;
            let named = reply.expect_error(status, "invalid", &format!("{db:?}: {body}"));
            assert_eq!(named.as_deref(), Some(field), "{db:?}: {body}");
        }
        // Another brand sees none of them.
        let theirs_list = server
            .get("/v1/goals", &other.admin)
            .await
            .expect(200, "theirs");
        assert_eq!(theirs_list.json["items"], json!([]), "{db:?}");

        // A viewer reads, never writes; a manager of Shop 1 sees Shop 1's goal only.
        let viewer = server
            .post("/v1/keys", admin, &json!({"role": "viewer"}))
            .await
            .expect(201, "viewer")
            .str("/token");
        server
            .get("/v1/goals", &viewer)
            .await
            .expect(200, "viewer reads");
        server
            .post(
                "/v1/goals",
                &viewer,
                &json!({"metric": "repeat_rate", "target_value": 0.5, "deadline": day(9)}),
            )
            .await
            .expect_error(403, "forbidden", "viewer writes");
        let manager = server
            .post(
                "/v1/keys",
                admin,
                &json!({"role": "manager", "locations": [q1]}),
            )
            .await
            .expect(201, "manager")
            .str("/token");
        let theirs_only = server
            .get("/v1/goals", &manager)
            .await
            .expect(200, "manager");
        let items = theirs_only.json["items"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(items.len(), 1, "{db:?}: {}", theirs_only.text);
        assert_eq!(items[0]["goal"]["location_id"], json!(q1), "{db:?}");

        // The dashboard: the overview shows both goals; the admin sets one by the form,
        // rates in percent.
        let mut owner = Visitor::new(&server);
        owner.sign_in(admin).await.expect(303, "admin signs in");
        let page = owner
            .get("/dashboard/overview?lang=en")
            .await
            .expect(200, "overview");
        assert!(page.text.contains("id=\"goals\""), "{db:?}");
        assert!(page.text.contains("data-status=\"on_track\""), "{db:?}");
        assert!(page.text.contains("data-status=\"achieved\""), "{db:?}");
        let csrf = page.csrf();
        let deadline = day(45);
        owner
            .post(
                "/dashboard/goals",
                &[
                    ("csrf", &csrf),
                    ("metric", "redemption_rate"),
                    ("start_value", "10"),
                    ("target_value", "30 %"),
                    ("deadline", &deadline),
                    ("location", ""),
                ],
            )
            .await
            .expect(303, "goal by form");
        owner
            .post(
                "/dashboard/goals",
                &[
                    ("csrf", &csrf),
                    ("metric", "repeat_rate"),
                    ("start_value", ""),
                    ("target_value", "500"),
                    ("deadline", &deadline),
                    ("location", ""),
                ],
            )
            .await
            .expect(422, "a rate over 100 %");
        let list = server.get("/v1/goals", admin).await.expect(200, "goals");
        let set = list.json["items"]
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .find(|g| g["goal"]["metric"] == "redemption_rate")
            })
            .cloned()
            .unwrap_or_else(|| panic!("{db:?}: no goal set by the form: {}", list.text));
        assert!(
            (f(&set["goal"]["target_value"]) - 0.3).abs() < 1e-9,
            "{db:?}: {set}"
        );
        let mut watcher = Visitor::new(&server);
        watcher
            .sign_in(&viewer)
            .await
            .expect(303, "viewer signs in");
        let seen = watcher
            .get("/dashboard/overview")
            .await
            .expect(200, "viewer overview");
        assert!(
            seen.text.contains("id=\"goals\"") && !seen.text.contains("goal-form"),
            "{db:?}"
        );
        server.stop().await;
    }
}
