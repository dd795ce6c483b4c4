//! Consent as data: per purpose, with the time, source and notice version of every
//! change kept in an append-only history, "withdrawn" told apart from "never asked".

use crate::server::{Body, dbs, spawn};
use regulars_tests::phone;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_is_kept_per_purpose_with_its_history() {
    for db in dbs() {
        let server = spawn(db).await;
        let tenant = server.tenant("Consent").await;
        let admin = tenant.admin.as_str();
        let made = server
            .post(
                "/v1/customers",
                admin,
                &json!({"phone": phone(1).as_str(), "email": "lan@example.com",
                        "consent": {"zalo": false, "sms": true, "email": true, "profiling": true,
                                    "programme": true, "notice_version": 2, "source": "signup"}}),
            )
            .await
            .expect(201, "register");
        let id = made.str("/id");
        assert_eq!(made.json["consent"]["profiling"], true, "{db:?}");
        let url = format!("/v1/customers/{id}");
        // The customer takes SMS and profiling back; saying "no" to Zalo, never asked,
        // records nothing.
        server
            .call(
                Method::PATCH,
                &url,
                Some(admin),
                Body::Json(&json!({"consent": {"sms": false, "zalo": false, "profiling": false}})),
            )
            .await
            .expect(200, "withdraw");

        let got = server
            .get(&format!("{url}/consents"), admin)
            .await
            .expect(200, "consents");
        assert_eq!(
            got.json["current"],
            json!({"programme": "granted", "marketing_zalo": "never_asked",
                   "marketing_sms": "withdrawn", "marketing_email": "granted",
                   "profiling": "withdrawn"}),
            "{db:?}"
        );
        let history: Vec<(String, String, String, Value)> = got.json["history"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", got.text))
            .iter()
            .map(|e| {
                (
                    e["purpose"].as_str().unwrap_or_default().to_owned(),
                    e["state"].as_str().unwrap_or_default().to_owned(),
                    e["source"].as_str().unwrap_or_default().to_owned(),
                    e["notice_version"].clone(),
                )
            })
            .collect();
        let row = |p: &str, s: &str, src: &str, v: Value| (p.into(), s.into(), src.into(), v);
        assert_eq!(
            history,
            vec![
                row("programme", "granted", "signup", json!(2)),
                row("marketing_sms", "granted", "signup", json!(2)),
                row("marketing_email", "granted", "signup", json!(2)),
                row("profiling", "granted", "signup", json!(2)),
                row("marketing_sms", "withdrawn", "api", Value::Null),
                row("profiling", "withdrawn", "api", Value::Null),
            ],
            "{db:?}: {}",
            got.text
        );
        let profile = server.get(&url, admin).await.expect(200, "profile");
        assert_eq!(profile.json["customer"]["consent"]["sms"], false, "{db:?}");
        assert_eq!(profile.json["customer"]["consent"]["email"], true, "{db:?}");

        // Sources only the system records are refused, and so is version 0.
        for (body, field) in [
            (json!({"consent": {"sms": true, "source": "legacy"}}), "consent.source"),
            (json!({"consent": {"sms": true, "source": "unsubscribe_link"}}), "consent.source"),
            (json!({"consent": {"sms": true, "notice_version": 0}}), "consent.notice_version"),
        ] {
            let refused = server
                .call(Method::PATCH, &url, Some(admin), Body::Json(&body))
                .await;
            let named = refused.expect_error(400, "invalid", &format!("{db:?}: {body}"));
            assert_eq!(named.as_deref(), Some(field), "{db:?}: {}", refused.text);
        }
        server
            .get(&format!("/v1/customers/{}/consents", uuid::Uuid::now_v7()), admin)
            .await
            .expect(404, "unknown customer");
        server.stop().await;
    }
}
