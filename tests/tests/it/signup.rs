//! The customer's own sign-up from a location's poster, over real HTTP on both
//! databases: a new phone and a phone the POS already knew both join (the POS customer
//! stays the same customer, history kept, consent now recorded with source `signup`
//! and the notice version) and land on their card page with the welcome voucher; the
//! code arrives through the SMS stand-in. Abuse: five wrong codes lock, a resend too
//! soon is refused with `Retry-After`, and every answer before the details form is the
//! same, byte for byte, for a member's phone and a stranger's.

use crate::server::{Body, TestServer, dbs, spawn};
pub(crate) use crate::visitor::{Answer, Visitor};
use async_trait::async_trait;
use regulars_domain::{BrandId, ChangeSource, Channel, CustomerId, LocationId, Purpose};
use regulars_ports::{MessageSender, OutgoingMessage, SendError, SendReceipt};
use regulars_service::{CampaignAction, ChannelSenders, DeliveryOptions, OTP_MAX_ATTEMPTS};
use regulars_tests::phone;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// The SMS stand-in: keeps what it was given.
#[derive(Default)]
pub(crate) struct SmsStandIn(Mutex<Vec<OutgoingMessage>>);

#[async_trait]
impl MessageSender for SmsStandIn {
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

impl SmsStandIn {
    /// Delivers what is due through this stand-in.
    pub(crate) async fn deliver(self: &Arc<Self>, server: &TestServer) {
        let senders = ChannelSenders::new().with(self.clone());
        server
            .services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("deliver: {e}"));
    }

    /// Every body sent to `to` (E.164), oldest first.
    pub(crate) fn bodies(&self, to: &str) -> Vec<String> {
        let sent = self.0.lock().unwrap_or_else(|e| e.into_inner());
        sent.iter()
            .filter(|m| m.recipient == to)
            .map(|m| m.body.clone())
            .collect()
    }

    /// The code of the last one-time code message to `to`.
    pub(crate) async fn code(self: &Arc<Self>, server: &TestServer, to: &str) -> String {
        self.deliver(server).await;
        let sent = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let message = sent
            .iter()
            .rev()
            .find(|m| m.recipient == to && m.data.contains_key("otp"))
            .unwrap_or_else(|| panic!("no code went to {to}"));
        assert!(!message.promotional, "a code is transactional");
        message.body[..6].to_owned()
    }
}

impl Visitor<'_> {
    /// Opens the poster's page and asks for a code for `phone` (as typed).
    pub(crate) async fn ask_code(&mut self, token: &str, phone: &str) -> Answer {
        let page = self.get(&format!("/j/{token}")).await.expect(200, "poster");
        let csrf = page.field("csrf");
        self.post(
            &format!("/j/{token}/code"),
            &[("csrf", &csrf), ("phone", phone)],
        )
        .await
    }

    /// The code form, and what giving `code` on it answers.
    pub(crate) async fn give_code(&mut self, token: &str, code: &str) -> (Answer, Answer) {
        let form = self.get(&format!("/j/{token}/code")).await;
        let csrf = form.field("csrf");
        let answer = self
            .post(
                &format!("/j/{token}/verify"),
                &[("csrf", &csrf), ("code", code)],
            )
            .await;
        (form, answer)
    }
}

/// A brand with a programme, a location and its poster token, a reward, a published
/// notice, a welcome campaign giving a voucher by SMS, and a customer the POS made by an
/// order.
pub(crate) struct PosterShop {
    pub(crate) admin: String,
    pub(crate) brand: BrandId,
    pub(crate) location: LocationId,
    pub(crate) token: String,
    pub(crate) pos_phone: String,
    pub(crate) pos_customer: String,
}

pub(crate) async fn poster_shop(server: &TestServer, n: u64) -> PosterShop {
    let tenant = server.tenant("Trà Sữa Mây").await;
    let admin = tenant.admin.clone();
    let rules: Value =
        serde_json::from_str(regulars_tests::RULES).unwrap_or_else(|e| panic!("{e}"));
    server
        .put("/v1/program/earning-rules", &admin, &rules)
        .await
        .expect(200, "rules");
    server.unrestricted(&admin).await;
    let location = server
        .post(
            "/v1/locations",
            &admin,
            &json!({"code": "q1", "name": "Quận 1"}),
        )
        .await
        .expect(201, "location")
        .str("/id");
    let reward = server
        .post(
            "/v1/rewards",
            &admin,
            &json!({"name": "Topping miễn phí", "cost": 10,
                    "kind": {"type": "free_modifier", "sku": "TOP-CHEESE"}, "validity_days": 30}),
        )
        .await
        .expect(201, "reward")
        .str("/id");
    server
        .call(
            Method::PUT,
            "/v1/brand/notice",
            Some(&admin),
            Body::Json(
                &json!({"texts": {"vi": "Chúng tôi dùng số điện thoại của bạn để tích điểm.",
                                          "en": "We use your phone number to credit points."}}),
            ),
        )
        .await
        .expect(200, "notice");
    let campaign = server
        .services
        .create_campaign(
            tenant.brand,
            &json!({"name": "Chào mừng", "trigger": {"type": "welcome"},
                    "offer": {"type": "fixed", "reward": {"reward_id": reward,
                              "cost": {"amount": "10000", "currency": "VND"}}},
                    "template": "Chào {{name}}! Quà chào mừng [{{code}}]: {{reward}}.",
                    "channels": ["sms"], "holdout": 0.0, "frequency_cap": null}),
        )
        .await
        .unwrap_or_else(|e| panic!("campaign: {e}"));
    server
        .services
        .set_campaign_status(tenant.brand, campaign.id, CampaignAction::Launch)
        .await
        .unwrap_or_else(|e| panic!("launch: {e}"));
    let pos_phone = phone(n).as_str().to_owned();
    let order = crate::pos::order_data("SU-1", Some(&pos_phone), OffsetDateTime::now_utc(), 2);
    server
        .send(
            Method::POST,
            "/v1/orders",
            Some(&admin),
            Body::Json(&order),
            &[("Idempotency-Key", "order-SU-1".to_owned())],
        )
        .await
        .expect(200, "pos order");
    let pos_customer = server
        .get(
            &format!(
                "/v1/customers/lookup?phone={}",
                pos_phone.replace('+', "%2B")
            ),
            &admin,
        )
        .await
        .expect(200, "pos customer")
        .str("/customer/id");
    let location: LocationId = location.parse().unwrap_or_else(|e| panic!("{e:?}"));
    let token = server
        .services
        .signup_token(tenant.brand, location)
        .await
        .unwrap_or_else(|e| panic!("token: {e}"));
    PosterShop {
        admin,
        brand: tenant.brand,
        location,
        token,
        pos_phone,
        pos_customer,
    }
}

/// The national form of an E.164 Vietnamese phone, as a customer types it.
pub(crate) fn national(e164: &str) -> String {
    format!("0{}", &e164[3..])
}

/// Signs `phone` up through the whole flow with SMS consent; returns the card path.
async fn sign_up(
    server: &TestServer,
    sms: &Arc<SmsStandIn>,
    shop: &PosterShop,
    phone: &str,
    name: &str,
) -> String {
    let mut visitor = Visitor::new(server);
    visitor
        .ask_code(&shop.token, &national(phone))
        .await
        .expect(303, "code sent");
    let code = sms.code(server, phone).await;
    let (_, opened) = visitor.give_code(&shop.token, &code).await;
    opened.expect(303, "code accepted");
    let form = visitor
        .get(&format!("/j/{}/details", shop.token))
        .await
        .expect(200, "details");
    // Every consent box starts unticked.
    assert!(!form.text.contains("checked"), "{}", form.text);
    let csrf = form.field("csrf");
    let path = format!("/j/{}/join", shop.token);
    // Without the programme's consent, nobody joins.
    visitor
        .post(&path, &[("csrf", &csrf), ("name", name)])
        .await
        .expect(422, "no programme consent");
    let joined = visitor
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("name", name),
                ("birthday", "1996-04-30"),
                ("sms", "yes"),
                ("programme", "yes"),
            ],
        )
        .await
        .expect(303, "joined");
    let card = joined
        .header("location")
        .unwrap_or_else(|| panic!("no card"))
        .to_owned();
    assert!(card.starts_with("/c/"), "{card}");
    card
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_phone_and_a_pos_phone_join_from_the_poster_and_see_the_welcome_voucher() {
    for db in dbs() {
        let server = spawn(db).await;
        let shop = poster_shop(&server, 8101).await;
        let sms = Arc::new(SmsStandIn::default());
        // The poster's page shows the offers and the notice.
        let mut visitor = Visitor::new(&server);
        let page = visitor
            .get(&format!("/j/{}", shop.token))
            .await
            .expect(200, "poster");
        assert!(page.text.contains("Topping miễn phí"), "{db:?}");
        assert!(page.text.contains("Chúng tôi dùng số điện thoại"), "{db:?}");
        assert!(page.text.contains("lang=\"vi\""), "{db:?}");
        // A rotated or made-up token is a 404 page.
        visitor
            .get(&format!("/j/{}x", shop.token))
            .await
            .expect(404, "bad token");

        let before = server
            .get(&format!("/v1/customers/{}", shop.pos_customer), &shop.admin)
            .await
            .expect(200, "pos customer");
        let points_before = before.int("/balance");
        assert!(points_before > 0, "{db:?}: {}", before.text);
        for (who, name) in [
            (phone(8102).as_str().to_owned(), "Hoa"),
            (shop.pos_phone.clone(), "Lan"),
        ] {
            let card = sign_up(&server, &sms, &shop, &who, name).await;
            let page = visitor.get(&card).await.expect(200, "card");
            assert!(page.text.contains(name), "{db:?}: {}", page.text);
            // The welcome voucher is on the card at once.
            assert!(
                page.text.contains("class=\"voucher\""),
                "{db:?}: {who}: {}",
                page.text
            );
            // And its message went out by SMS, to a customer who consented.
            sms.deliver(&server).await;
            let bodies = sms.bodies(&who);
            assert!(
                bodies.iter().any(|b| b.contains("Quà chào mừng")),
                "{db:?}: {bodies:?}"
            );
        }

        // The POS customer is the same customer: history kept, consent recorded.
        let id: CustomerId = shop
            .pos_customer
            .parse()
            .unwrap_or_else(|e| panic!("{e:?}"));
        let after = server
            .get(&format!("/v1/customers/{}", shop.pos_customer), &shop.admin)
            .await
            .expect(200, "pos customer after");
        assert_eq!(after.int("/balance"), points_before, "{db:?}");
        assert_eq!(after.json["customer"]["name"], "Lan", "{db:?}");
        let (customer, history) = server
            .services
            .consent_history(shop.brand, id)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(customer.consent.allows(Channel::Sms), "{db:?}");
        assert!(!customer.consent.allows(Channel::Zalo), "{db:?}");
        let sms_event = history
            .iter()
            .find(|e| e.purpose == Purpose::Marketing(Channel::Sms))
            .unwrap_or_else(|| panic!("{db:?}: no SMS consent event: {history:?}"));
        assert_eq!(sms_event.source, ChangeSource::Signup, "{db:?}");
        assert_eq!(sms_event.notice_version, Some(1), "{db:?}");
        let changes = server
            .services
            .customer_changes(shop.brand, id)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            changes.iter().any(|c| c.source == ChangeSource::Signup),
            "{db:?}: {changes:?}"
        );
        // Two customers in all: nobody was made twice.
        let listed = server.walk("/v1/customers", &shop.admin, 50, "id").await;
        assert_eq!(listed.len(), 2, "{db:?}");
        // Rotating the token retires the old poster.
        server
            .services
            .rotate_signup_token(shop.brand, shop.location)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        visitor
            .get(&format!("/j/{}", shop.token))
            .await
            .expect(404, "rotated");
        server.stop().await;
    }
}

/// Replaces every run of 32 or more hexadecimal digits or base64url characters (ids,
/// tokens, CSRF values) with `*`, so two answers compare on everything else.
fn masked(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 32 {
            out.push('*');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// An answer with what may differ between two visitors removed: cookies, dates and the
/// request's id (a counter of the server's requests).
fn comparable(answer: &Answer) -> String {
    let mut headers: Vec<String> = answer
        .headers
        .iter()
        .filter(|(k, _)| k != "set-cookie" && k != "date")
        .map(|(k, v)| {
            let v = if k == "x-request-id" { "*" } else { v };
            format!("{k}: {}", masked(v))
        })
        .collect();
    headers.sort();
    format!(
        "{}\n{}\n\n{}",
        answer.status,
        headers.join("\n"),
        masked(&answer.text)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_codes_lock_are_rate_limited_and_never_tell_a_member_from_a_stranger() {
    for db in dbs() {
        let server = spawn(db).await;
        let shop = poster_shop(&server, 8201).await;
        let sms = Arc::new(SmsStandIn::default());
        let stranger = phone(8202).as_str().to_owned();

        // Member and stranger, side by side: every answer is the same but for ids.
        let mut transcripts: Vec<Vec<String>> = Vec::new();
        for who in [&shop.pos_phone, &stranger] {
            let mut visitor = Visitor::new(&server);
            let mut seen = Vec::new();
            let page = visitor.get(&format!("/j/{}", shop.token)).await;
            seen.push(comparable(&page));
            let csrf = page.field("csrf");
            let sent = visitor
                .post(
                    &format!("/j/{}/code", shop.token),
                    &[("csrf", &csrf), ("phone", &national(who))],
                )
                .await
                .expect(303, "sent");
            seen.push(comparable(&sent));
            let code = sms.code(&server, who).await;
            let wrong = format!("{:06}", (code.parse::<u32>().unwrap_or(0) + 1) % 1_000_000);
            let (form, refused) = visitor.give_code(&shop.token, &wrong).await;
            seen.push(comparable(&form));
            seen.push(comparable(&refused.expect(422, "wrong code")));
            // A resend within the minute is refused, with when to try again.
            let again = visitor
                .post(
                    &format!("/j/{}/code", shop.token),
                    &[("csrf", &csrf), ("resend", "1")],
                )
                .await
                .expect(429, "resend too soon");
            assert!(again.header("retry-after").is_some(), "{db:?}");
            seen.push(
                comparable(&again).replace(again.header("retry-after").unwrap_or_default(), "N"),
            );
            let (_, opened) = visitor.give_code(&shop.token, &code).await;
            seen.push(comparable(&opened.expect(303, "right code")));
            let details = visitor
                .get(&format!("/j/{}/details", shop.token))
                .await
                .expect(200, "details");
            seen.push(comparable(&details));
            transcripts.push(seen);
        }
        for (step, (member, stranger)) in transcripts[0].iter().zip(&transcripts[1]).enumerate() {
            assert_eq!(member, stranger, "{db:?}: step {step} differs");
        }

        // Five wrong codes lock the code: even the right one opens nothing after.
        let third = phone(8203).as_str().to_owned();
        let mut visitor = Visitor::new(&server);
        visitor
            .ask_code(&shop.token, &national(&third))
            .await
            .expect(303, "sent");
        let code = sms.code(&server, &third).await;
        let wrong = format!("{:06}", (code.parse::<u32>().unwrap_or(0) + 1) % 1_000_000);
        for attempt in 1..=OTP_MAX_ATTEMPTS {
            let (_, refused) = visitor.give_code(&shop.token, &wrong).await;
            let expected = if attempt == OTP_MAX_ATTEMPTS {
                423
            } else {
                422
            };
            refused.expect(expected, &format!("{db:?}: wrong code {attempt}"));
        }
        let (_, locked) = visitor.give_code(&shop.token, &code).await;
        locked.expect(423, "locked");
        // No session: the details form sends the visitor back to the start.
        visitor
            .get(&format!("/j/{}/details", shop.token))
            .await
            .expect(401, "no session");
        // A form without its CSRF token is refused.
        visitor
            .post(
                &format!("/j/{}/code", shop.token),
                &[("phone", "0912345678")],
            )
            .await
            .expect(403, "no csrf");
        server.stop().await;
    }
}
