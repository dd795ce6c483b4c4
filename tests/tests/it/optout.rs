//! Opting out from the message itself: every promotional message ends with the brand's
//! opt-out instruction and the customer's own link; `/u/{token}` takes them off a channel
//! (or, for email, the one-click `POST` a mail program sends), recorded as consent data;
//! the next campaign skips them while transactional messages still go.

use crate::server::{TestServer, dbs, spawn_configured};
use regulars_campaigns::Policy;
use regulars_campaigns::plan::SkipReason;
use regulars_domain::{BrandId, ChangeSource, Channel, CustomerId};
use regulars_ports::{MessageSender, OutgoingMessage, SendError, SendReceipt};
use regulars_service::{
    CampaignAction, ChangeAuthor, ChannelSenders, ConsentPatch, CustomerInput, DeliveryOptions,
};
use regulars_tests::phone;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// The public address the server is told it is reached at.
const PUBLIC: &str = "https://loyalty.example.vn";

/// A channel that keeps what it was asked to send.
struct Recorder(Channel, Mutex<Vec<OutgoingMessage>>);

impl Recorder {
    fn sent(&self) -> Vec<OutgoingMessage> {
        self.1.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl MessageSender for Recorder {
    fn channel(&self) -> Channel {
        self.0
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        if let Ok(mut sent) = self.1.lock() {
            sent.push(message.clone());
        }
        Ok(SendReceipt {
            provider_message_id: message.dedupe_key.clone(),
        })
    }
}

async fn server_with_public_url(db: crate::server::Db) -> TestServer {
    spawn_configured(
        db,
        |settings| settings.public_url = Some(PUBLIC.to_owned()),
        Arc::new(regulars::system::SystemClock),
    )
    .await
}

/// No legal hours or caps (so the test does not depend on the hour), the default
/// opt-out instruction.
async fn any_hour(server: &TestServer, brand: BrandId) {
    server
        .services
        .set_messaging_policy(
            brand,
            Policy {
                opt_out_instruction: regulars_domain::DEFAULT_OPT_OUT_INSTRUCTION.to_owned(),
                ..Policy::unrestricted()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("policy: {e}"));
}

async fn launch(server: &TestServer, brand: BrandId, doc: Value) -> regulars_domain::CampaignId {
    let c = server
        .services
        .create_campaign(brand, &doc)
        .await
        .unwrap_or_else(|e| panic!("campaign {doc}: {e}"));
    server
        .services
        .set_campaign_status(brand, c.id, CampaignAction::Launch)
        .await
        .unwrap_or_else(|e| panic!("launch: {e}"));
    c.id
}

async fn end(server: &TestServer, brand: BrandId, id: regulars_domain::CampaignId) {
    server
        .services
        .set_campaign_status(brand, id, CampaignAction::End)
        .await
        .unwrap_or_else(|e| panic!("end: {e}"));
}

/// The token of the link at the end of `body`.
fn token_in(body: &str) -> String {
    let (_, link) = body
        .rsplit_once("\nTu choi QC: ")
        .unwrap_or_else(|| panic!("no opt-out instruction in {body:?}"));
    link.strip_prefix(&format!("{PUBLIC}/u/"))
        .unwrap_or_else(|| panic!("not a link of {PUBLIC}: {link:?}"))
        .to_owned()
}

/// The consent events of `customer` as `(purpose, state, source)`.
async fn history(
    server: &TestServer,
    brand: BrandId,
    customer: CustomerId,
) -> Vec<(String, String, String)> {
    let (_, events) = server
        .services
        .consent_history(brand, customer)
        .await
        .unwrap_or_else(|e| panic!("history: {e}"));
    events
        .iter()
        .map(|e| {
            (
                e.purpose.as_str().to_owned(),
                e.state.as_str().to_owned(),
                e.source.as_str().to_owned(),
            )
        })
        .collect()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_opts_out_of_sms_from_the_link_in_a_message() {
    for db in dbs() {
        let server = server_with_public_url(db).await;
        let brand = server.tenant("Opt-out").await.brand;
        any_hour(&server, brand).await;
        let services = &server.services;
        let lan = regulars_tests::sms_customer(services, brand, 1, "Lan")
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        regulars_tests::sms_customer(services, brand, 2, "Bình")
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let broadcast = json!({"name": "Khai trương", "trigger": {"type": "broadcast"},
            "channels": ["sms"], "holdout": 0.0, "frequency_cap": null,
            "template": "Chao {{name}}, Tra Sua May khai truong!"});
        let first = launch(&server, brand, broadcast.clone()).await;
        services
            .run_campaigns(brand)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let sms = Arc::new(Recorder(Channel::Sms, Mutex::new(Vec::new())));
        let senders = ChannelSenders::new().with(sms.clone());
        let round = services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        assert_eq!(round.sent, 2, "{db:?}: {round:?}");
        let to_lan = sms
            .sent()
            .into_iter()
            .find(|m| m.recipient == phone(1).as_str())
            .unwrap_or_else(|| panic!("{db:?}: nothing sent to Lan"));
        assert!(
            to_lan
                .body
                .starts_with("Chao Lan, Tra Sua May khai truong!\nTu choi QC: "),
            "{db:?}: {}",
            to_lan.body
        );
        let token = token_in(&to_lan.body);
        assert_eq!(
            to_lan.unsubscribe_url.as_deref(),
            Some(format!("{PUBLIC}/u/{token}").as_str())
        );

        // Opening the link changes nothing (mail scanners open links); an altered one
        // is refused.
        let page = reqwest::get(format!("{}/u/{token}", server.base))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(page.status().as_u16(), 200, "{db:?}");
        let html = page.text().await.unwrap_or_default();
        assert!(
            html.contains("stop-one") && html.contains("SMS"),
            "{db:?}: {html}"
        );
        let mut altered = token.clone().into_bytes();
        altered[40] = if altered[40] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap_or_default();
        assert_eq!(
            form(&server, &format!("/u/{altered}"), "channel=sms")
                .await
                .0,
            404,
            "{db:?}"
        );
        assert_eq!(
            form(&server, &format!("/u/{token}"), "channel=fax").await.0,
            400,
            "{db:?}"
        );
        assert!(
            !history(&server, brand, lan.id)
                .await
                .iter()
                .any(|e| e.2 == "unsubscribe_link"),
            "{db:?}"
        );

        // The customer stops SMS from the page.
        let (status, html) = form(&server, &format!("/u/{token}"), "channel=sms").await;
        assert_eq!(status, 200, "{db:?}: {html}");
        assert!(html.contains("data-state=\"withdrawn\""), "{db:?}: {html}");
        let events = history(&server, brand, lan.id).await;
        assert_eq!(
            events.last(),
            Some(&(
                "marketing_sms".to_owned(),
                "withdrawn".to_owned(),
                "unsubscribe_link".to_owned()
            )),
            "{db:?}: {events:?}"
        );
        // Again: nothing more is recorded.
        form(&server, &format!("/u/{token}"), "channel=sms").await;
        assert_eq!(
            history(&server, brand, lan.id).await.len(),
            events.len(),
            "{db:?}"
        );

        // The next promotional campaign skips her SMS; a receipt still goes, without
        // any opt-out instruction.
        end(&server, brand, first).await;
        let mut second = broadcast.clone();
        second["name"] = json!("Tuần lễ vàng");
        let second = launch(&server, brand, second).await;
        let receipt = launch(
            &server,
            brand,
            json!({"name": "Hoá đơn", "trigger": {"type": "after_purchase"}, "channels": ["sms"],
                   "holdout": 0.0, "frequency_cap": null, "template": "Cam on {{name}}!"}),
        )
        .await;
        services
            .ingest_order(
                brand,
                regulars_tests::order(brand, "R-1", 1, time::OffsetDateTime::now_utc(), 1),
            )
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let runs = services
            .run_campaigns(brand)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let run_of = |id| {
            runs.iter()
                .find(|r| r.campaign_id == id)
                .unwrap_or_else(|| panic!("{db:?}: {runs:?}"))
        };
        assert_eq!(run_of(second).messages, 1, "{db:?}: {runs:?}");
        assert_eq!(
            run_of(second).skipped.get(&SkipReason::OptedOut),
            Some(&1),
            "{db:?}: {runs:?}"
        );
        // The receipt was planned with the order itself; the run finds it already there.
        assert_eq!(
            run_of(receipt).skipped.get(&SkipReason::AlreadySent),
            Some(&1),
            "{db:?}: {runs:?}"
        );
        let before = sms.sent().len();
        services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let new: Vec<OutgoingMessage> = sms.sent().into_iter().skip(before).collect();
        let to_lan: Vec<&OutgoingMessage> = new
            .iter()
            .filter(|m| m.recipient == phone(1).as_str())
            .collect();
        assert_eq!(to_lan.len(), 1, "{db:?}: {new:?}");
        assert_eq!(to_lan[0].body, "Cam on Lan!", "{db:?}");
        assert!(
            !to_lan[0].promotional && to_lan[0].unsubscribe_url.is_none(),
            "{db:?}"
        );
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotional_email_offers_one_click_unsubscribe_and_a_receipt_does_not() {
    let Some(smtp) = regulars_testkit::providers::require_smtp() else {
        return;
    };
    for db in dbs() {
        let server = server_with_public_url(db).await;
        let brand = server.tenant("Email opt-out").await.brand;
        any_hour(&server, brand).await;
        let services = &server.services;
        let mai = services
            .create_customer(
                brand,
                phone(7).as_str(),
                CustomerInput {
                    name: Some("Mai".to_owned()),
                    email: Some("mai@example.com".to_owned()),
                    consent: ConsentPatch {
                        email: Some(true),
                        ..ConsentPatch::default()
                    },
                    ..CustomerInput::default()
                },
                &ChangeAuthor {
                    actor: "test".to_owned(),
                    source: ChangeSource::Import,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        launch(
            &server,
            brand,
            json!({"name": "Ưu đãi", "trigger": {"type": "broadcast"}, "channels": ["email"],
                   "holdout": 0.0, "frequency_cap": null, "template": "Chào {{name}}!"}),
        )
        .await;
        launch(
            &server,
            brand,
            json!({"name": "Hoá đơn", "trigger": {"type": "after_purchase"}, "channels": ["email"],
                   "holdout": 0.0, "frequency_cap": null, "template": "Cảm ơn {{name}}!"}),
        )
        .await;
        services
            .ingest_order(
                brand,
                regulars_tests::order(brand, "E-1", 7, time::OffsetDateTime::now_utc(), 1),
            )
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        services
            .run_campaigns(brand)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let sender = regulars_senders::SmtpSender::new(regulars_senders::SmtpSettings {
            host: smtp.host(),
            port: Some(smtp.port()),
            tls: regulars_senders::SmtpTls::None,
            from: "Trà Sữa Mây <no-reply@may.example>".to_owned(),
            username: None,
            password: None,
            timeout: std::time::Duration::from_secs(10),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let senders = ChannelSenders::new().with(Arc::new(sender));
        let round = services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        assert_eq!(round.sent, 2, "{db:?}: {round:?}");
        let mails = smtp.messages().unwrap_or_else(|e| panic!("{e}"));
        let of = |subject: &str| {
            mails
                .iter()
                .rev()
                .find(|m| m.header("Subject").is_some_and(|s| s.ends_with(subject)))
                .unwrap_or_else(|| panic!("{db:?}: no mail {subject}: {mails:?}"))
        };
        let promo = of("Ưu đãi");
        let link = promo
            .header("List-Unsubscribe")
            .and_then(|h| h.strip_prefix('<'))
            .and_then(|h| h.strip_suffix('>'))
            .unwrap_or_else(|| panic!("{db:?}: {}", promo.raw));
        assert!(link.starts_with(&format!("{PUBLIC}/u/")), "{db:?}: {link}");
        assert_eq!(
            promo.header("List-Unsubscribe-Post"),
            Some("List-Unsubscribe=One-Click")
        );
        let body = promo.body.clone().unwrap_or_default();
        assert!(
            body.trim_end().ends_with(&format!("Tu choi QC: {link}")),
            "{db:?}: {body}"
        );
        let receipt = of("Hoá đơn");
        assert_eq!(
            receipt.header("List-Unsubscribe"),
            None,
            "{db:?}: {}",
            receipt.raw
        );
        assert_eq!(receipt.header("List-Unsubscribe-Post"), None, "{db:?}");
        assert!(
            !receipt.body.clone().unwrap_or_default().contains("Tu choi"),
            "{db:?}"
        );

        // The mail program's one-click POST, with no page in between.
        let token = link.rsplit('/').next().unwrap_or_default();
        let (status, _) = form(
            &server,
            &format!("/u/{token}"),
            "List-Unsubscribe=One-Click",
        )
        .await;
        assert_eq!(status, 200, "{db:?}");
        let events = history(&server, brand, mai.id).await;
        assert_eq!(
            events.last(),
            Some(&(
                "marketing_email".to_owned(),
                "withdrawn".to_owned(),
                "unsubscribe_link".to_owned()
            )),
            "{db:?}: {events:?}"
        );
        server.stop().await;
    }
}
