//! The brand's processing notice: versioned text per language, every version kept, and
//! consent recording the version the customer was shown.

use crate::server::{Body, dbs, spawn};
use regulars_tests::phone;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_publication_is_a_new_version_and_old_ones_stay_readable() {
    for db in dbs() {
        let server = spawn(db).await;
        let tenant = server.tenant("Notice").await;
        let admin = tenant.admin.as_str();
        let what = |s: &str| format!("{db:?}: {s}");
        let none = server.get("/v1/brand/notice", admin).await;
        none.expect_error(404, "not_found", &what("nothing published yet"));

        let put = |texts: serde_json::Value| {
            let server = &server;
            async move {
                server
                    .call(
                        Method::PUT,
                        "/v1/brand/notice",
                        Some(admin),
                        Body::Json(&json!({ "texts": texts })),
                    )
                    .await
            }
        };
        let first = put(json!({"vi": "Chúng tôi dùng số điện thoại của bạn để tích điểm."}))
            .await
            .expect(200, &what("first version"));
        assert_eq!(first.json["version"], 1, "{}", first.text);
        let second = put(json!({"vi": "Bản mới.", "en": "The new version."}))
            .await
            .expect(200, &what("second version"));
        assert_eq!(second.json["version"], 2, "{}", second.text);

        let latest = server
            .get("/v1/brand/notice", admin)
            .await
            .expect(200, &what("latest"));
        assert_eq!(
            latest.json["texts"],
            json!({"vi": "Bản mới.", "en": "The new version."}),
            "{}",
            latest.text
        );
        let old = server
            .get("/v1/brand/notice?version=1", admin)
            .await
            .expect(200, &what("version 1"));
        assert_eq!(
            old.json["texts"],
            json!({"vi": "Chúng tôi dùng số điện thoại của bạn để tích điểm."}),
            "{}",
            old.text
        );
        server
            .get("/v1/brand/notice?version=9", admin)
            .await
            .expect_error(404, "not_found", &what("no version 9"));
        server
            .get("/v1/brand/notice?version=x", admin)
            .await
            .expect(400, &what("a version that is no number"));

        // Bad texts are refused with the field named, and publish nothing.
        for bad in [
            json!({"en": "English only"}),
            json!({"vi": "   "}),
            json!({"vi": "ok", "fr": "non"}),
            json!({"vi": "x".repeat(20_001)}),
        ] {
            let field = put(bad)
                .await
                .expect_error(422, "invalid", &what("bad texts"));
            assert_eq!(field.as_deref(), Some("texts"), "{db:?}");
        }
        let still = server
            .get("/v1/brand/notice", admin)
            .await
            .expect(200, &what("still 2"));
        assert_eq!(still.json["version"], 2, "{}", still.text);

        // Only an admin publishes; a viewer reads.
        let viewer = server
            .post("/v1/keys", admin, &json!({"role": "viewer"}))
            .await
            .expect(201, &what("viewer key"))
            .str("/token");
        server
            .call(
                Method::PUT,
                "/v1/brand/notice",
                Some(&viewer),
                Body::Json(&json!({"texts": {"vi": "no"}})),
            )
            .await
            .expect_error(403, "forbidden", &what("a viewer publishes"));
        server
            .get("/v1/brand/notice", &viewer)
            .await
            .expect(200, &what("a viewer reads"));

        // A version never published is no proof of what the customer read: refused,
        // on registration and on a change, and nothing is written.
        let unpublished = server
            .post(
                "/v1/customers",
                admin,
                &json!({"phone": phone(4).as_str(),
                        "consent": {"sms": true, "notice_version": 3, "source": "signup"}}),
            )
            .await;
        let field = unpublished.expect_error(422, "invalid", &what("version 3 on registration"));
        assert_eq!(field.as_deref(), Some("consent.notice_version"), "{db:?}");
        server
            .get(
                &format!(
                    "/v1/customers/lookup?phone={}",
                    phone(4).as_str().replace('+', "%2B")
                ),
                admin,
            )
            .await
            .expect(404, &what("not registered"));

        // Consent given after reading version 2 records it.
        let made = server
            .post(
                "/v1/customers",
                admin,
                &json!({"phone": phone(3).as_str(),
                        "consent": {"sms": true, "notice_version": 2, "source": "signup"}}),
            )
            .await
            .expect(201, &what("register"));
        let consents = server
            .get(
                &format!("/v1/customers/{}/consents", made.str("/id")),
                admin,
            )
            .await
            .expect(200, &what("consents"));
        let versions: Vec<_> = consents.json["history"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", consents.text))
            .iter()
            .map(|e| e["notice_version"].clone())
            .collect();
        assert!(
            !versions.is_empty() && versions.iter().all(|v| v == 2),
            "{db:?}: {}",
            consents.text
        );
        let refused = server
            .call(
                Method::PATCH,
                &format!("/v1/customers/{}", made.str("/id")),
                Some(admin),
                Body::Json(&json!({"consent": {"email": true, "notice_version": 7}})),
            )
            .await;
        let field = refused.expect_error(422, "invalid", &what("version 7 on a change"));
        assert_eq!(field.as_deref(), Some("consent.notice_version"), "{db:?}");
        let after = server
            .get(&format!("/v1/customers/{}", made.str("/id")), admin)
            .await
            .expect(200, &what("profile"));
        assert_eq!(after.json["customer"]["consent"]["email"], false, "{db:?}");
    }
}
