//! Feedback after a visit, end to end on both databases: the thank-you message carries
//! the customer's rating link; the rating page takes 2 stars and a comment; the notice
//! reaches the location manager's address on a real SMTP server; a second rating of the
//! order is refused; an altered link is a 4xx page; another brand and another
//! location's manager see none of it; a location without a manager shows the rating as
//! needing attention on the dashboard instead.

use crate::dashboard::Visitor;
use crate::pos::rfc3339;
use crate::server::{TestServer, dbs, spawn_configured};
use regulars_campaigns::Policy;
use regulars_domain::{BrandId, Channel};
use regulars_ports::{MessageSender, OutgoingMessage, SendError, SendReceipt};
use regulars_service::{CampaignAction, ChannelSenders, DeliveryOptions};
use regulars_tests::phone;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// The public address the server is told it is reached at.
const PUBLIC: &str = "https://loyalty.example.vn";
const MANAGER: &str = "quan.ly.q1@may.example";

/// An SMS channel that keeps what it was asked to send.
struct Recorder(Mutex<Vec<OutgoingMessage>>);

#[async_trait::async_trait]
impl MessageSender for Recorder {
    fn channel(&self) -> Channel {
        Channel::Sms
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        if let Ok(mut sent) = self.0.lock() {
            sent.push(message.clone());
        }
        Ok(SendReceipt {
            provider_message_id: message.dedupe_key.clone(),
        })
    }
}

async fn form(server: &TestServer, path: &str, body: &str) -> (u16, String) {
    let reply = reqwest::Client::new()
        .post(format!("{}{path}", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let status = reply.status().as_u16();
    (status, reply.text().await.unwrap_or_default())
}

async fn page(server: &TestServer, path: &str) -> (u16, String) {
    let reply = reqwest::get(format!("{}{path}", server.base))
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = reply.status().as_u16();
    (status, reply.text().await.unwrap_or_default())
}

async fn location(server: &TestServer, admin: &str, code: &str, name: &str) -> String {
    server
        .post("/v1/locations", admin, &json!({"code": code, "name": name}))
        .await
        .expect(201, "location")
        .str("/id")
}

async fn sell(server: &TestServer, admin: &str, id: &str, code: &str, n: u64) {
    let at = OffsetDateTime::now_utc() - Duration::minutes(5);
    let body = json!({"order_id": id, "placed_at": rfc3339(at), "currency": "VND",
        "location": code, "customer_phone": phone(n).as_str(),
        "lines": [{"sku": "TS", "name": "Trà sữa", "quantity": 1, "unit_price": "45000"}],
        "total": "45000"});
    server
        .post("/v1/orders", admin, &body)
        .await
        .expect(200, "order");
}

async fn thank_you(server: &TestServer, brand: BrandId) {
    server
        .services
        .set_messaging_policy(brand, Policy::unrestricted())
        .await
        .unwrap_or_else(|e| panic!("policy: {e}"));
    // The rating link is read off the text as written (click tracking is tested in
    // `clicks`).
    server
        .services
        .set_engagement_settings(
            brand,
            regulars_domain::EngagementSettings {
                track_links: false,
                track_opens: false,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("tracking: {e}"));
    let c = server
        .services
        .create_campaign(
            brand,
            &json!({"name": "Cảm ơn", "trigger": {"type": "after_purchase"}, "channels": ["sms"],
                "holdout": 0.0, "frequency_cap": null,
                "template": "Cam on {{name}}! Danh gia: {{rating_link}}"}),
        )
        .await
        .unwrap_or_else(|e| panic!("campaign: {e}"));
    server
        .services
        .set_campaign_status(brand, c.id, CampaignAction::Launch)
        .await
        .unwrap_or_else(|e| panic!("launch: {e}"));
}

/// The token of the rating link in an SMS to customer `n`.
fn token_for(sms: &Recorder, n: u64) -> String {
    let sent = sms.0.lock().map(|s| s.clone()).unwrap_or_default();
    let body = sent
        .iter()
        .rev()
        .find(|m| m.recipient == phone(n).as_str())
        .map(|m| m.body.clone())
        .unwrap_or_else(|| panic!("nothing sent to customer {n}: {sent:?}"));
    let (_, link) = body
        .split_once("Danh gia: ")
        .unwrap_or_else(|| panic!("no link in {body:?}"));
    link.strip_prefix(&format!("{PUBLIC}/f/"))
        .unwrap_or_else(|| panic!("not a rating link of {PUBLIC}: {link:?}"))
        .trim()
        .to_owned()
}

fn ratings_of(reply: &Value) -> (u64, Option<f64>) {
    (
        reply["total"]["count"].as_u64().unwrap_or(u64::MAX),
        reply["total"]["average"].as_f64(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_low_rating_reaches_the_location_manager() {
    let Some(smtp) = regulars_testkit::providers::require_smtp() else {
        return;
    };
    for db in dbs() {
        let what = |s: &str| format!("{db:?}: {s}");
        let server = spawn_configured(
            db,
            |settings| settings.public_url = Some(PUBLIC.to_owned()),
            Arc::new(regulars::system::SystemClock),
        )
        .await;
        let a = server.tenant("Trà Sữa Mây").await;
        let b = server.tenant("Quán Khác").await;
        let admin = a.admin.as_str();
        let q1 = location(&server, admin, "q1", "Mây Quận 1").await;
        let q3 = location(&server, admin, "q3", "Mây Quận 3").await;
        server
            .put(
                &format!("/v1/locations/{q1}/manager"),
                admin,
                &json!({ "email": MANAGER }),
            )
            .await
            .expect(200, &what("manager email"));
        assert_eq!(
            server
                .get(&format!("/v1/locations/{q1}/manager"), admin)
                .await
                .expect(200, &what("manager read"))
                .json["email"],
            MANAGER
        );
        // Another brand's admin cannot read or set this brand's manager.
        server
            .get(&format!("/v1/locations/{q1}/manager"), &b.admin)
            .await
            .expect_error(404, "not_found", &what("their manager"));
        thank_you(&server, a.brand).await;
        for (n, name) in [(1, "Lan"), (2, "Bình")] {
            regulars_tests::sms_customer(&server.services, a.brand, n, name)
                .await
                .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        }
        sell(&server, admin, "F-1", "q1", 1).await;
        sell(&server, admin, "F-2", "q3", 2).await;

        let sms = Arc::new(Recorder(Mutex::new(Vec::new())));
        let sender = regulars_senders::SmtpSender::new(regulars_senders::SmtpSettings {
            host: smtp.host(),
            port: Some(smtp.port()),
            tls: regulars_senders::SmtpTls::None,
            from: "Regulars <no-reply@may.example>".to_owned(),
            username: None,
            password: None,
            timeout: std::time::Duration::from_secs(10),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let senders = ChannelSenders::new()
            .with(sms.clone())
            .with(Arc::new(sender));
        let options = DeliveryOptions::default();
        let round = server
            .services
            .deliver_due(&senders, &options)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        assert_eq!(round.sent, 2, "{db:?}: {round:?}");
        let token = token_for(&sms, 1);
        assert_eq!(token.len(), 87, "{db:?}: {token}");

        // The page: the shop and the form; an altered or unknown link is a clear 404.
        let (status, html) = page(&server, &format!("/f/{token}?lang=en")).await;
        assert_eq!(status, 200, "{db:?}: {html}");
        assert!(
            html.contains("Mây Quận 1") && html.contains("id=\"rate\""),
            "{db:?}: {html}"
        );
        let mut altered = token.clone().into_bytes();
        altered[30] = if altered[30] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap_or_default();
        for path in [format!("/f/{altered}"), "/f/nonsense".to_owned()] {
            assert_eq!(page(&server, &path).await.0, 404, "{db:?}: GET {path}");
            assert_eq!(
                form(&server, &path, "stars=1").await.0,
                404,
                "{db:?}: POST {path}"
            );
        }
        // Out-of-range stars or an overlong comment: 400, nothing stored.
        for body in ["stars=0", "stars=6", "stars=", "comment=x"] {
            assert_eq!(
                form(&server, &format!("/f/{token}"), body).await.0,
                400,
                "{db:?}: {body}"
            );
        }
        let long = format!("stars=3&comment={}", "a".repeat(501));
        assert_eq!(
            form(&server, &format!("/f/{token}"), &long).await.0,
            400,
            "{db:?}"
        );

        // Two stars and a comment: thanked, and the manager's notice is in the outbox.
        let (status, html) = form(
            &server,
            &format!("/f/{token}"),
            "stars=2&comment=Tr%C3%A0+ngu%E1%BB%99i%2C+ch%E1%BB%9D+l%C3%A2u",
        )
        .await;
        assert_eq!(status, 200, "{db:?}: {html}");
        assert!(html.contains("data-stars=\"2\""), "{db:?}: {html}");
        // Again: refused, the first rating shown.
        let (status, html) = form(&server, &format!("/f/{token}"), "stars=5").await;
        assert_eq!(status, 409, "{db:?}: {html}");
        assert!(html.contains("data-stars=\"2\""), "{db:?}: {html}");

        let round = server
            .services
            .deliver_due(&senders, &options)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        assert_eq!(round.sent, 1, "{db:?}: {round:?}");
        let mails = smtp.messages().unwrap_or_else(|e| panic!("{e}"));
        let notice = mails
            .iter()
            .find(|m| m.rcpt_tos.iter().any(|r| r == MANAGER))
            .unwrap_or_else(|| panic!("{db:?}: no mail to the manager: {mails:?}"));
        let body = notice.body.clone().unwrap_or_default();
        assert!(
            body.contains("2/5") && body.contains("Trà nguội, chờ lâu"),
            "{db:?}: {body}"
        );
        assert!(body.contains("Mây Quận 1"), "{db:?}: {body}");
        assert_eq!(
            notice.header("List-Unsubscribe"),
            None,
            "{db:?}: operational"
        );

        // Customer 2 rates the Quận 3 visit 1 star: no manager there, nothing is sent,
        // and it needs attention on the dashboard.
        let token2 = token_for(&sms, 2);
        assert_eq!(
            form(&server, &format!("/f/{token2}"), "stars=1").await.0,
            200,
            "{db:?}"
        );
        let round = server
            .services
            .deliver_due(&senders, &options)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        assert_eq!(round.sent, 0, "{db:?}: {round:?}");

        // The report: both ratings, by location and by week; the brand's only.
        let report = server
            .get("/v1/reports/ratings", admin)
            .await
            .expect(200, &what("report"))
            .json;
        assert_eq!(ratings_of(&report), (2, Some(1.5)), "{db:?}: {report}");
        assert_eq!(report["low_threshold"], 2, "{db:?}");
        assert_eq!(
            report["by_location"].as_array().map(Vec::len),
            Some(2),
            "{db:?}"
        );
        assert_eq!(
            report["by_week"][0]["count"].as_u64().map(|c| c >= 1),
            Some(true)
        );
        let low = report["recent_low"].as_array().cloned().unwrap_or_default();
        assert_eq!(low.len(), 2, "{db:?}: {report}");
        let of = |code: &str| {
            low.iter()
                .find(|l| l["code"] == code)
                .cloned()
                .unwrap_or_else(|| panic!("{db:?}: no low rating at {code}: {report}"))
        };
        assert_eq!(of("q1")["comment"], "Trà nguội, chờ lâu", "{db:?}");
        assert_eq!(of("q1")["needs_attention"], false, "{db:?}");
        assert_eq!(of("q1")["customer_name"], "Lan", "{db:?}");
        assert_eq!(of("q3")["needs_attention"], true, "{db:?}");
        let theirs = server
            .get("/v1/reports/ratings", &b.admin)
            .await
            .expect(200, &what("their report"))
            .json;
        assert_eq!(ratings_of(&theirs), (0, None), "{db:?}: {theirs}");

        // A manager of Quận 3 sees its own rating only, without the customer's name;
        // asking for Quận 1 is refused.
        let manager = server
            .post(
                "/v1/keys",
                admin,
                &json!({"role": "manager", "locations": [q3]}),
            )
            .await
            .expect(201, &what("manager key"))
            .str("/token");
        let mine = server
            .get("/v1/reports/ratings", &manager)
            .await
            .expect(200, &what("manager report"))
            .json;
        assert_eq!(ratings_of(&mine), (1, Some(1.0)), "{db:?}: {mine}");
        assert_eq!(
            mine["recent_low"][0]["customer_name"],
            Value::Null,
            "{db:?}"
        );
        server
            .get(&format!("/v1/reports/ratings?location={q1}"), &manager)
            .await
            .expect_error(403, "forbidden", &what("manager asks for Quận 1"));

        // The dashboard: the admin reads both, Quận 3's marked as needing attention;
        // the manager's page shows Quận 3 only.
        let mut visitor = Visitor::new(&server);
        visitor
            .sign_in(admin)
            .await
            .expect(303, &what("admin signs in"));
        let html = visitor
            .get("/dashboard/ratings?lang=en")
            .await
            .expect(200, &what("ratings page"))
            .text;
        assert!(html.contains("Trà nguội, chờ lâu"), "{db:?}");
        assert!(html.contains("Needs attention"), "{db:?}");
        assert!(
            html.contains("/dashboard/customers/"),
            "{db:?}: customer linked"
        );
        let mut visitor = Visitor::new(&server);
        visitor
            .sign_in(&manager)
            .await
            .expect(303, &what("manager signs in"));
        let html = visitor
            .get("/dashboard/ratings?lang=en")
            .await
            .expect(200, &what("manager's ratings page"))
            .text;
        assert!(
            !html.contains("Trà nguội"),
            "{db:?}: Quận 1's comment shown"
        );
        assert!(
            !html.contains("/dashboard/customers/"),
            "{db:?}: customers linked"
        );
        visitor
            .get(&format!("/dashboard/ratings?location={q1}"))
            .await
            .expect(403, &what("manager forges a location"));
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_removes_the_comment_and_export_carries_it() {
    for db in dbs() {
        let server = spawn_configured(
            db,
            |settings| settings.public_url = Some(PUBLIC.to_owned()),
            Arc::new(regulars::system::SystemClock),
        )
        .await;
        let a = server.tenant("Erase ratings").await;
        let admin = a.admin.as_str();
        location(&server, admin, "q1", "Q1").await;
        thank_you(&server, a.brand).await;
        let lan = regulars_tests::sms_customer(&server.services, a.brand, 1, "Lan")
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        sell(&server, admin, "E-1", "q1", 1).await;
        let sms = Arc::new(Recorder(Mutex::new(Vec::new())));
        server
            .services
            .deliver_due(
                &ChannelSenders::new().with(sms.clone()),
                &DeliveryOptions::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let token = token_for(&sms, 1);
        assert_eq!(
            form(
                &server,
                &format!("/f/{token}"),
                "stars=4&comment=Ngon+l%E1%BA%AFm"
            )
            .await
            .0,
            200,
            "{db:?}"
        );
        let export = server
            .get(&format!("/v1/customers/{}/export", lan.id), admin)
            .await
            .expect(200, "export")
            .json;
        assert_eq!(export["ratings"][0]["stars"], 4, "{db:?}: {export}");
        assert_eq!(export["ratings"][0]["comment"], "Ngon lắm", "{db:?}");
        server
            .post(
                &format!("/v1/customers/{}/erasure", lan.id),
                admin,
                &json!({}),
            )
            .await
            .expect(200, "erasure");
        let report = server
            .get("/v1/reports/ratings", admin)
            .await
            .expect(200, "report")
            .json;
        // The stars still count; the words are gone, and the link opens nothing.
        assert_eq!(ratings_of(&report), (1, Some(4.0)), "{db:?}: {report}");
        assert!(!report.to_string().contains("Ngon"), "{db:?}: {report}");
        assert_eq!(page(&server, &format!("/f/{token}")).await.0, 404, "{db:?}");
        server.stop().await;
    }
}
