//! The customer's own requests from their card page over real HTTP on both databases:
//! a code to the phone on file opens a session; behind it they download everything as
//! JSON and CSV, correct their email, withdraw SMS marketing and erase themselves. The
//! card link alone opens no personal data, and a code or session of one customer never
//! opens another's.

use crate::dashboard::shop;
use crate::server::{TestServer, dbs, spawn_configured};
use async_trait::async_trait;
use regulars_domain::Channel;
use regulars_ports::{MessageSender, OutgoingMessage, SendError, SendReceipt};
use regulars_service::{ChannelSenders, DeliveryOptions};
use regulars_tests::{ManualClock, phone};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// An SMS channel that keeps what it was given.
#[derive(Default)]
pub(crate) struct Inbox(pub(crate) Mutex<Vec<OutgoingMessage>>);

#[async_trait]
impl MessageSender for Inbox {
    fn channel(&self) -> Channel {
        Channel::Sms
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        let mut sent = self.0.lock().unwrap_or_else(|e| e.into_inner());
        sent.push(message.clone());
        Ok(SendReceipt {
            provider_message_id: format!("sms-{}", sent.len()),
        })
    }
}

/// Delivers what is due and gives the last code that went to `phone`.
pub(crate) async fn code_for(server: &TestServer, inbox: &Arc<Inbox>, phone: &str) -> String {
    let senders = ChannelSenders::new().with(inbox.clone());
    server
        .services
        .deliver_due(&senders, &DeliveryOptions::default())
        .await
        .unwrap_or_else(|e| panic!("deliver: {e}"));
    let sent = inbox.0.lock().unwrap_or_else(|e| e.into_inner());
    sent.iter()
        .rev()
        .find(|m| m.recipient == phone)
        .and_then(|m| m.body.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| panic!("no code went to {phone}"))
}

/// An HTML (or download) answer.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
    content_type: String,
    pub(crate) text: String,
}

impl Page {
    #[track_caller]
    pub(crate) fn expect(self, status: u16, what: &str) -> Page {
        assert_eq!(self.status, status, "{what}: {}", self.text);
        self
    }

    #[track_caller]
    pub(crate) fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .text
            .find(marker)
            .unwrap_or_else(|| panic!("no CSRF token in {}", self.text))
            + marker.len();
        let end = self.text[start..].find('"').unwrap_or(0) + start;
        self.text[start..end].to_owned()
    }
}

/// A browser without JavaScript: a cookie jar, no redirects followed.
pub(crate) struct Phone<'a> {
    server: &'a TestServer,
    client: reqwest::Client,
    pub(crate) jar: BTreeMap<String, String>,
}

impl<'a> Phone<'a> {
    pub(crate) fn new(server: &'a TestServer) -> Phone<'a> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|e| panic!("client: {e}"));
        Phone {
            server,
            client,
            jar: BTreeMap::new(),
        }
    }

    async fn send(&mut self, method: Method, path: &str, form: &[(&str, &str)]) -> Page {
        let url = format!("{}{path}", self.server.base);
        let mut request = self.client.request(method, url);
        if !form.is_empty() {
            request = request.form(form);
        }
        if !self.jar.is_empty() {
            let cookie: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("cookie", cookie.join("; "));
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{:?}: {path}: {e}", self.server.db));
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let location = header("location");
        let content_type = header("content-type").unwrap_or_default();
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        for cookie in &set_cookies {
            let pair = cookie.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || cookie.contains("Max-Age=0") {
                    self.jar.remove(name);
                } else {
                    self.jar.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        Page {
            status,
            location,
            set_cookies,
            content_type,
            text,
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, &[]).await
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, form).await
    }

    /// Asks for a code from the card's data page; returns the code form.
    pub(crate) async fn ask_code(&mut self, card: &str) -> Page {
        let offer = self.get(&format!("{card}/data")).await.expect(200, "offer");
        let csrf = offer.csrf();
        self.post(&format!("{card}/data/code"), &[("csrf", &csrf)])
            .await
            .expect(200, "code form")
    }
}

/// The path of a customer's card page.
pub(crate) async fn card_of(server: &TestServer, key: &str, customer: &str) -> String {
    let link = server
        .post(
            &format!("/v1/customers/{customer}/qr-link"),
            key,
            &json!({}),
        )
        .await
        .expect(201, "link");
    let url = link.str("/url");
    url.strip_prefix(&server.base)
        .unwrap_or_else(|| panic!("{url} is not on {}", server.base))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_signs_in_by_code_downloads_corrects_withdraws_and_erases() {
    for db in dbs() {
        let clock = ManualClock::starting_now();
        let server = spawn_configured(db, |_| {}, clock.clone()).await;
        let a = shop(&server, "Card A", 801).await;
        let admin = a.tenant.admin.as_str();
        let inbox = Arc::new(Inbox::default());
        // Another member with a similar name and phone, who must never show.
        let b_phone = phone(8010).as_str().to_owned();
        let b = server
            .post(
                "/v1/customers",
                admin,
                &json!({"phone": b_phone, "name": "Card B Nguyễn Lan", "email": "b@example.com"}),
            )
            .await
            .expect(201, "customer b")
            .str("/id");
        server
            .call(
                Method::PATCH,
                &format!("/v1/customers/{}", a.customer),
                Some(admin),
                crate::server::Body::Json(&json!({"consent": {"sms": true}})),
            )
            .await
            .expect(200, "sms consent");
        let card_a = card_of(&server, &a.pos, &a.customer).await;
        let card_b = card_of(&server, &a.pos, &b).await;

        // A stolen link alone: the offer of a code and nothing personal.
        let mut thief = Phone::new(&server);
        let offer = thief
            .get(&format!("{card_a}/data"))
            .await
            .expect(200, "offer");
        for secret in [
            &a.phone,
            &a.name,
            &a.voucher,
            &a.phone[a.phone.len() - 4..].to_owned(),
        ] {
            assert!(
                !offer.text.contains(secret.as_str()),
                "{db:?}: {secret} shown"
            );
        }
        let download = thief.get(&format!("{card_a}/data/export.json")).await;
        assert_eq!(download.status, 303, "{db:?}: {}", download.text);
        assert_eq!(download.location, Some(format!("{card_a}/data")), "{db:?}");
        assert!(!download.text.contains(&a.phone), "{db:?}");
        let forged = thief
            .post(
                &format!("{card_a}/data/withdraw"),
                &[("csrf", "x"), ("sms", "on")],
            )
            .await;
        assert_eq!(forged.status, 303, "{db:?}: {}", forged.text);
        let code_without_form = thief
            .post(&format!("{card_a}/data/code"), &[("csrf", "forged")])
            .await;
        assert_eq!(code_without_form.status, 403, "{db:?}");

        // A code for A is no code for B's card.
        let mut other = Phone::new(&server);
        other.ask_code(&card_a).await;
        let a_code = code_for(&server, &inbox, &a.phone).await;
        let b_form = other
            .get(&format!("{card_b}/data"))
            .await
            .expect(200, "b offer");
        let refused = other
            .post(
                &format!("{card_b}/data/verify"),
                &[("csrf", &b_form.csrf()), ("code", &a_code)],
            )
            .await;
        assert_eq!(refused.status, 422, "{db:?}: {}", refused.text);
        assert!(!other.jar.contains_key("regulars_card"), "{db:?}");

        clock.advance(time::Duration::seconds(61));
        // A wrong code, then the right one: a signed, HttpOnly, SameSite=Strict cookie.
        let mut lan = Phone::new(&server);
        let form = lan.ask_code(&card_a).await;
        let wrong = lan
            .post(
                &format!("{card_a}/data/verify"),
                &[("csrf", &form.csrf()), ("code", "000000")],
            )
            .await;
        assert_eq!(wrong.status, 422, "{db:?}: {}", wrong.text);
        let code = code_for(&server, &inbox, &a.phone).await;
        let opened = lan
            .post(
                &format!("{card_a}/data/verify"),
                &[("csrf", &wrong.csrf()), ("code", &code)],
            )
            .await
            .expect(303, "verify");
        assert_eq!(opened.location, Some(format!("{card_a}/data")), "{db:?}");
        let cookie = opened
            .set_cookies
            .iter()
            .find(|c| c.starts_with("regulars_card="))
            .unwrap_or_else(|| panic!("{db:?}: no session cookie: {opened:?}"));
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let screens = lan
            .get(&format!("{card_a}/data"))
            .await
            .expect(200, "screens");
        assert!(screens.text.contains(&a.phone), "{db:?}");
        assert!(
            screens.text.contains("Dữ liệu của tôi"),
            "{db:?}: Vietnamese by default"
        );
        let english = lan
            .get(&format!("{card_a}/data?lang=en"))
            .await
            .expect(200, "en");
        assert!(english.text.contains("Download my data"), "{db:?}");

        // A's session opens nothing on B's card.
        let on_b = lan
            .get(&format!("{card_b}/data"))
            .await
            .expect(200, "b offer");
        assert!(
            !on_b.text.contains(&b_phone) && !on_b.text.contains("b@example.com"),
            "{db:?}"
        );
        let b_download = lan.get(&format!("{card_b}/data/export.json")).await;
        assert_eq!(b_download.status, 303, "{db:?}");

        // Everything of A's, nothing of B's, as JSON and as CSV.
        let json_page = lan
            .get(&format!("{card_a}/data/export.json"))
            .await
            .expect(200, "json");
        let doc: Value = serde_json::from_str(&json_page.text).unwrap_or(Value::Null);
        assert_eq!(doc["customer"]["id"], a.customer.as_str(), "{db:?}");
        assert_eq!(doc["orders"].as_array().map(Vec::len), Some(3), "{db:?}");
        assert!(json_page.text.contains(&a.voucher), "{db:?}");
        let csv = lan
            .get(&format!("{card_a}/data/export.csv"))
            .await
            .expect(200, "csv");
        assert!(csv.content_type.starts_with("text/csv"), "{db:?}");
        assert!(
            csv.text.starts_with("section,record,field,value\r\n"),
            "{db:?}"
        );
        assert!(
            csv.text.contains(&a.voucher) && csv.text.contains(&a.phone),
            "{db:?}"
        );
        for text in [&json_page.text, &csv.text] {
            for theirs in [
                &b,
                &b_phone,
                &"Card B".to_owned(),
                &"b@example.com".to_owned(),
            ] {
                assert!(
                    !text.contains(theirs.as_str()),
                    "{db:?}: {theirs} in the export"
                );
            }
        }

        // The email corrected; a birthday that is no date is refused.
        let screens = lan
            .get(&format!("{card_a}/data"))
            .await
            .expect(200, "screens");
        let csrf = screens.csrf();
        let bad = lan
            .post(
                &format!("{card_a}/data/correct"),
                &[
                    ("csrf", &csrf),
                    ("name", &a.name),
                    ("email", ""),
                    ("birthday", "31/05"),
                ],
            )
            .await;
        assert_eq!(bad.status, 422, "{db:?}: {}", bad.text);
        lan.post(
            &format!("{card_a}/data/correct"),
            &[
                ("csrf", &csrf),
                ("name", &a.name),
                ("email", "lan@example.com"),
                ("birthday", ""),
            ],
        )
        .await
        .expect(200, "correct");
        let profile = server
            .get(&format!("/v1/customers/{}", a.customer), admin)
            .await
            .expect(200, "profile");
        assert_eq!(
            profile.json["customer"]["email"], "lan@example.com",
            "{db:?}"
        );
        assert_eq!(profile.json["customer"]["name"], a.name.as_str(), "{db:?}");

        // SMS marketing withdrawn; a forged form does nothing.
        let forged = lan
            .post(
                &format!("{card_a}/data/withdraw"),
                &[("csrf", "forged"), ("sms", "on")],
            )
            .await;
        assert_eq!(forged.status, 403, "{db:?}");
        lan.post(
            &format!("{card_a}/data/withdraw"),
            &[("csrf", &csrf), ("sms", "on")],
        )
        .await
        .expect(200, "withdraw");
        let consents = server
            .get(&format!("/v1/customers/{}/consents", a.customer), admin)
            .await
            .expect(200, "consents");
        assert_eq!(
            consents.json["current"]["marketing_sms"], "withdrawn",
            "{db:?}"
        );
        let last = consents.json["history"]
            .as_array()
            .and_then(|h| h.last().cloned())
            .unwrap_or_default();
        assert_eq!(last["source"], "card_page", "{db:?}: {}", consents.text);

        // What the screens showed is in the access log, under the customer's channel.
        let log = server
            .get("/v1/audit/access", admin)
            .await
            .expect(200, "access log");
        let shown = log.json["items"].as_array().is_some_and(|items| {
            items
                .iter()
                .any(|r| r["channel"] == "customer" && r["route"] == "GET /c/{token}/data")
        });
        assert!(shown, "{db:?}: {}", log.text);

        // Each request is logged with its outcome.
        let export = server
            .get(&format!("/v1/customers/{}/export", a.customer), admin)
            .await
            .expect(200, "admin export");
        let logged: Vec<(String, String, String)> = export.json["requests"]
            .as_array()
            .map(|r| {
                r.iter()
                    .map(|r| {
                        let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
                        (s("kind"), s("actor"), s("outcome"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        for kind in ["export", "correction", "consent_withdrawal"] {
            assert!(
                logged.contains(&(kind.into(), "customer".into(), "done".into())),
                "{db:?}: {kind} not in {logged:?}"
            );
        }

        // Erasure asks first, then erases, ends the session, and the card is gone.
        let ask = lan
            .post(&format!("{card_a}/data/erase"), &[("csrf", &csrf)])
            .await
            .expect(200, "confirm step");
        assert!(ask.text.contains("erase-confirm"), "{db:?}");
        server
            .get(&format!("/v1/customers/{}", a.customer), admin)
            .await
            .expect(200, "not erased yet");
        let session = lan.jar.get("regulars_card").cloned().unwrap_or_default();
        lan.post(
            &format!("{card_a}/data/erase"),
            &[("csrf", &ask.csrf()), ("confirm", "yes")],
        )
        .await
        .expect(200, "erase");
        assert!(
            !lan.jar.contains_key("regulars_card"),
            "{db:?}: cookie kept"
        );
        lan.get(&card_a).await.expect(404, "card after erasure");
        lan.get(&format!("{card_a}/data"))
            .await
            .expect(404, "data after erasure");
        lan.jar.insert("regulars_card".into(), session);
        lan.get(&format!("{card_a}/data/export.json"))
            .await
            .expect(404, "old session after erasure");
        server
            .get(&format!("/v1/customers/{}", a.customer), admin)
            .await
            .expect(404, "erased");
        server
            .get(&format!("/v1/customers/{b}"), admin)
            .await
            .expect(200, "b untouched");
        server.stop().await;
    }
}
