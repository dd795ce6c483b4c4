//! Delivery through brands' own channel accounts: each brand's messages go through its
//! own account (the stand-ins see each brand's credentials, the SMTP relay each brand's
//! login), the deployment's `[senders]` for brands without one; a changed account is
//! picked up by the next round; a brand whose provider hangs does not hold up another
//! brand's messages; and a brand whose SMTP login is refused does not stop another's.

use crate::at_rest::Copyable;
use crate::channels::{SECRETS, esms_body, settings, start};
use crate::outbox_fixture::outbox_message;
use regulars_domain::{BrandId, Channel};
use regulars_ports::{OutboxMessage, OutboxStatus, Route, TokenAccount, TokenStore, UnitOfWork};
use regulars_service::{ChannelSenders, DeliveryOptions};
use regulars_store::Store;
use regulars_testkit::providers::{EsmsStub, SmtpServer, ZaloZnsStub, require_smtp_with_logins};
use regulars_tests::phone;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::server::dbs;

/// A message of `brand` due now.
fn message(brand: BrandId, channel: Channel, recipient: &str, n: u64) -> OutboxMessage {
    let now = OffsetDateTime::now_utc();
    let route = Route {
        channel,
        recipient: recipient.to_owned(),
    };
    OutboxMessage {
        template: (channel == Channel::Zalo).then(|| "240871".to_owned()),
        subject: (channel == Channel::Email).then(|| "Cảm ơn".to_owned()),
        data: BTreeMap::from([("customer_name".to_owned(), "Lan".to_owned())]),
        created_at: now,
        ..outbox_message(
            brand,
            &format!("channels:{}:{n}", Uuid::now_v7()),
            route,
            "Cảm ơn bạn đã ghé quán",
            now - time::Duration::seconds(1),
        )
    }
}

async fn enqueue(store: &Store, messages: &[OutboxMessage]) {
    let mut tx = store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    tx.outbox()
        .enqueue(messages)
        .await
        .unwrap_or_else(|e| panic!("enqueue: {e}"));
    tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
}

/// The deployment's senders over the stand-ins (its own eSMS and Zalo accounts), with
/// brands' own accounts read from `store`.
fn senders(
    store: &Arc<Store>,
    esms: &EsmsStub,
    zalo: &ZaloZnsStub,
    timeout: u64,
) -> ChannelSenders {
    let config: regulars_senders::SendersConfig = serde_json::from_value(json!({
        "sms": {"base_url": esms.base_url(), "brandname": esms.brandname()},
        "zalo": {"api_base": zalo.base_url(), "oauth_base": zalo.base_url()},
        "timeout_secs": timeout
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let (key, secret, token) = (esms.api_key(), esms.secret_key(), zalo.access_token());
    let env = move |name: &str| match name {
        "REGULARS_ESMS_API_KEY" => Some(key.clone()),
        "REGULARS_ESMS_SECRET_KEY" => Some(secret.clone()),
        "REGULARS_ZALO_ACCESS_TOKEN" => Some(token.clone()),
        _ => None,
    };
    let built = regulars_senders::build(&config, env).unwrap_or_else(|e| panic!("{e}"));
    let factory = regulars_senders::BrandSenderFactory::new(
        config,
        Some(store.clone() as Arc<dyn TokenStore>),
    );
    let mut senders = ChannelSenders::new().with_brand_accounts(store.clone(), Arc::new(factory));
    for (_, sender) in built.into_map() {
        senders = senders.with(sender);
    }
    senders
}

fn options() -> DeliveryOptions {
    DeliveryOptions {
        concurrency: 4,
        base_backoff: time::Duration::seconds(60),
        ..DeliveryOptions::default()
    }
}

/// The SMTP logins of brands A and B on the shared relay.
const SMTP_LOGINS: [(&str, &str); 2] = [
    ("quana-mailer", SECRETS[5]),
    ("quanb-mailer", "smtp-password-of-brand-b-8c21"),
];

/// A brand's SMTP account on the loopback relay, logging in without TLS.
fn smtp_body(relay: &SmtpServer, from: &str, user: &str, password: &str) -> Value {
    json!({"host": relay.host(), "port": relay.port(), "tls": "none",
           "username": user, "password": password, "from_address": from})
}

/// `ApiKey`s of the eSMS requests, in order.
fn esms_keys(esms: &EsmsStub) -> Vec<String> {
    esms.requests()
        .iter()
        .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
        .filter_map(|b| b["ApiKey"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_brands_send_through_their_own_accounts() {
    for db in dbs() {
        let what = |s: &str| format!("{db:?}: {s}");
        let copyable = Copyable::new(db);
        let store = copyable.store().await;
        let server = start(db, &store);
        let keyed = Arc::new(regulars::sealing::keyed(&store, &settings()));
        let a = server.tenant("Quán A").await;
        let b = server.tenant("Quán B").await;
        let esms = EsmsStub::start().unwrap_or_else(|e| panic!("{e}"));
        let zalo = ZaloZnsStub::start().unwrap_or_else(|e| panic!("{e}"));
        esms.add_account(SECRETS[0], SECRETS[1], "QUANA");
        esms.add_account(SECRETS[6], SECRETS[7], "QUANB");
        zalo.add_access_token(SECRETS[3]);
        server
            .put(
                "/v1/brand/channels/sms",
                &a.admin,
                &esms_body(SECRETS[0], SECRETS[1], "QUANA"),
            )
            .await
            .expect(200, &what("A sms"));
        server
            .put(
                "/v1/brand/channels/sms",
                &b.admin,
                &esms_body(SECRETS[6], SECRETS[7], "QUANB"),
            )
            .await
            .expect(200, &what("B sms"));
        server
            .put(
                "/v1/brand/channels/zalo",
                &a.admin,
                &json!({"app_id": "1234567890", "secret_key": SECRETS[2], "oa_id": "987654321",
                        "access_token": SECRETS[3], "refresh_token": SECRETS[4]}),
            )
            .await
            .expect(200, &what("A zalo"));
        // One SMTP relay on this machine that both brands log in to, each with its own
        // login (no TLS: the relay is on loopback).
        let smtp = require_smtp_with_logins(&[SMTP_LOGINS[0], SMTP_LOGINS[1]]);
        if let Some(relay) = &smtp {
            for (tenant, from, (user, password)) in [
                (&a, "hello@quana.example.vn", SMTP_LOGINS[0]),
                (&b, "hello@quanb.example.vn", SMTP_LOGINS[1]),
            ] {
                server
                    .put(
                        "/v1/brand/channels/email",
                        &tenant.admin,
                        &smtp_body(relay, from, user, password),
                    )
                    .await
                    .expect(200, &what("smtp account"));
            }
        }
        let a_phone = phone(5_550_001).as_str().to_owned();
        let b_phone = phone(5_550_002).as_str().to_owned();
        let mut queued = vec![
            message(a.brand, Channel::Sms, &a_phone, 1),
            message(b.brand, Channel::Sms, &b_phone, 2),
            message(a.brand, Channel::Zalo, &a_phone, 3),
            // B has no Zalo account of its own: the deployment's default sends it.
            message(b.brand, Channel::Zalo, &b_phone, 4),
        ];
        if smtp.is_some() {
            queued.push(message(a.brand, Channel::Email, "lan@example.vn", 5));
            queued.push(message(b.brand, Channel::Email, "minh@example.vn", 6));
        }
        enqueue(&keyed, &queued).await;
        let senders = senders(&keyed, &esms, &zalo, 5);
        let round = server
            .services
            .deliver_due(&senders, &options())
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        assert_eq!(
            round.sent,
            queued.len() as u64,
            "{}: {round:?}",
            what("round")
        );

        // Each brand's SMS went with its own ApiKey and brandname.
        let mut keys = esms_keys(&esms);
        keys.sort();
        assert_eq!(
            keys,
            vec![SECRETS[0].to_owned(), SECRETS[6].to_owned()],
            "{}",
            what("eSMS keys")
        );
        for r in esms.requests() {
            let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
            let expected = if body["ApiKey"] == json!(SECRETS[0]) {
                "QUANA"
            } else {
                "QUANB"
            };
            assert_eq!(body["Brandname"], json!(expected), "{}", what("brandname"));
        }
        // A's ZNS went with A's access token, B's with the deployment's.
        let mut tokens: Vec<String> = zalo
            .requests()
            .iter()
            .filter(|r| r.path == "/message/template")
            .filter_map(|r| r.headers.get("access_token").cloned())
            .collect();
        tokens.sort();
        let mut expected = vec![SECRETS[3].to_owned(), zalo.access_token()];
        expected.sort();
        assert_eq!(tokens, expected, "{}", what("ZNS tokens"));
        // A's Zalo tokens are kept per brand and app id.
        let account = TokenAccount {
            brand_id: Some(a.brand),
            provider: "zalo".to_owned(),
            account: "1234567890".to_owned(),
        };
        let stored = keyed
            .load(&account)
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        assert!(stored.is_some(), "{}", what("A's token row"));
        if let Some(smtp) = &smtp {
            let mails = smtp.messages().unwrap_or_else(|e| panic!("{e}"));
            // Each brand's mail came from its own address under its own login.
            let sent_to = |to: &str| {
                mails
                    .iter()
                    .find(|m| m.rcpt_tos.iter().any(|r| r == to))
                    .map(|m| (m.mail_from.clone(), m.auth_user.clone()))
            };
            assert_eq!(
                sent_to("lan@example.vn"),
                Some((
                    "hello@quana.example.vn".to_owned(),
                    Some(SMTP_LOGINS[0].0.to_owned())
                )),
                "{}",
                what("A's mail")
            );
            assert_eq!(
                sent_to("minh@example.vn"),
                Some((
                    "hello@quanb.example.vn".to_owned(),
                    Some(SMTP_LOGINS[1].0.to_owned())
                )),
                "{}",
                what("B's mail")
            );
        }

        // A new key for A: the next round's sender is rebuilt with it.
        esms.add_account("esms-api-key-of-brand-a-new", SECRETS[1], "QUANA");
        server
            .put(
                "/v1/brand/channels/sms",
                &a.admin,
                &json!({"api_key": "esms-api-key-of-brand-a-new"}),
            )
            .await
            .expect(200, &what("A's new key"));
        enqueue(&keyed, &[message(a.brand, Channel::Sms, &a_phone, 7)]).await;
        let round = server
            .services
            .deliver_due(&senders, &options())
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        assert_eq!(round.sent, 1, "{}: {round:?}", what("after the change"));
        assert_eq!(
            esms_keys(&esms).last().map(String::as_str),
            Some("esms-api-key-of-brand-a-new"),
            "{}",
            what("the changed key")
        );
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brand_whose_provider_hangs_does_not_hold_up_another() {
    for db in dbs() {
        let what = |s: &str| format!("{db:?}: {s}");
        let copyable = Copyable::new(db);
        let store = copyable.store().await;
        let server = start(db, &store);
        let keyed = Arc::new(regulars::sealing::keyed(&store, &settings()));
        let a = server.tenant("Quán A").await;
        let b = server.tenant("Quán B").await;
        let esms = EsmsStub::start().unwrap_or_else(|e| panic!("{e}"));
        let zalo = ZaloZnsStub::start().unwrap_or_else(|e| panic!("{e}"));
        esms.add_account(SECRETS[0], SECRETS[1], "QUANA");
        // B's account: eSMS never answers in time.
        esms.hang_for(SECRETS[6], Duration::from_secs(30));
        for (tenant, key, secret, name) in [
            (&a, SECRETS[0], SECRETS[1], "QUANA"),
            (&b, SECRETS[6], SECRETS[7], "QUANB"),
        ] {
            server
                .put(
                    "/v1/brand/channels/sms",
                    &tenant.admin,
                    &esms_body(key, secret, name),
                )
                .await
                .expect(200, &what("sms account"));
        }
        // B's messages are due first, so they are claimed first.
        let b_messages: Vec<OutboxMessage> = (0..8)
            .map(|n| message(b.brand, Channel::Sms, phone(5_560_000 + n).as_str(), n))
            .collect();
        enqueue(&keyed, &b_messages).await;
        let a_messages: Vec<OutboxMessage> = (0..6)
            .map(|n| message(a.brand, Channel::Sms, phone(5_570_000 + n).as_str(), n))
            .collect();
        enqueue(&keyed, &a_messages).await;
        let senders = senders(&keyed, &esms, &zalo, 2);

        let started = Instant::now();
        let round = server
            .services
            .deliver_due(&senders, &options())
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        let took = started.elapsed();
        assert_eq!(round.sent, 6, "{}: {round:?}", what("A's messages"));
        assert_eq!(round.claimed, 14, "{}: {round:?}", what("claimed"));
        // One provider timeout (2 s), not one per message of B's.
        assert!(
            took < Duration::from_secs(6),
            "{}: the round took {took:?}",
            what("round")
        );
        let b_tries = esms_keys(&esms).iter().filter(|k| *k == SECRETS[6]).count();
        assert!(
            b_tries < 8,
            "{}: B's provider was called {b_tries} times",
            what("B tries")
        );

        // A's next messages go at once: B's are put back until their retry, untried.
        let more: Vec<OutboxMessage> = (0..3)
            .map(|n| message(a.brand, Channel::Sms, phone(5_580_000 + n).as_str(), n))
            .collect();
        enqueue(&keyed, &more).await;
        let started = Instant::now();
        let round = server
            .services
            .deliver_due(&senders, &options())
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        assert_eq!(round.sent, 3, "{}: {round:?}", what("A's next messages"));
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{}: took {:?}",
            what("second round"),
            started.elapsed()
        );
        let b_tries_after = esms_keys(&esms).iter().filter(|k| *k == SECRETS[6]).count();
        assert_eq!(
            b_tries_after,
            b_tries,
            "{}",
            what("B is not tried again before its retry")
        );
        // None of B's messages is lost or dead: all wait for their retry.
        let mut tx = keyed.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let depth = tx.outbox().depth().await.unwrap_or_else(|e| panic!("{e}"));
        tx.rollback().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            depth.get(&OutboxStatus::Pending).copied(),
            Some(8),
            "{}: {depth:?}",
            what("B waits")
        );
        assert_eq!(
            depth.get(&OutboxStatus::Dead).copied().unwrap_or(0),
            0,
            "{}",
            what("none dead")
        );
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brand_whose_smtp_login_is_refused_does_not_stop_another() {
    let Some(relay) = require_smtp_with_logins(&[SMTP_LOGINS[0], SMTP_LOGINS[1]]) else {
        return;
    };
    for db in dbs() {
        let what = |s: &str| format!("{db:?}: {s}");
        let copyable = Copyable::new(db);
        let store = copyable.store().await;
        let server = start(db, &store);
        let keyed = Arc::new(regulars::sealing::keyed(&store, &settings()));
        let a = server.tenant("Quán A").await;
        let b = server.tenant("Quán B").await;
        let esms = EsmsStub::start().unwrap_or_else(|e| panic!("{e}"));
        let zalo = ZaloZnsStub::start().unwrap_or_else(|e| panic!("{e}"));
        // B's account holds a wrong password: the relay answers its login with 535.
        for (tenant, from, (user, password)) in [
            (&a, "hello@quana.example.vn", SMTP_LOGINS[0]),
            (
                &b,
                "hello@quanb.example.vn",
                (SMTP_LOGINS[1].0, "not-the-password"),
            ),
        ] {
            server
                .put(
                    "/v1/brand/channels/email",
                    &tenant.admin,
                    &smtp_body(&relay, from, user, password),
                )
                .await
                .expect(200, &what("smtp account"));
        }
        let before = relay.messages().unwrap_or_else(|e| panic!("{e}")).len();
        let to_a = format!("lan.{}@example.vn", Uuid::now_v7().simple());
        let to_b = format!("minh.{}@example.vn", Uuid::now_v7().simple());
        // B's message is due first, so it is tried first.
        enqueue(&keyed, &[message(b.brand, Channel::Email, &to_b, 1)]).await;
        enqueue(&keyed, &[message(a.brand, Channel::Email, &to_a, 2)]).await;
        let senders = senders(&keyed, &esms, &zalo, 5);
        let round = server
            .services
            .deliver_due(&senders, &options())
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        assert_eq!(round.claimed, 2, "{}: {round:?}", what("claimed"));
        assert_eq!(round.sent, 1, "{}: {round:?}", what("A's mail"));
        assert_eq!(round.dead, 1, "{}: {round:?}", what("B's mail"));

        // A's mail went out under A's login; nothing under B's.
        let mails = relay.messages().unwrap_or_else(|e| panic!("{e}"));
        let new: Vec<_> = mails.iter().skip(before).collect();
        assert_eq!(new.len(), 1, "{}: {new:?}", what("relay"));
        assert_eq!(
            new[0].rcpt_tos,
            vec![to_a.clone()],
            "{}",
            what("A's recipient")
        );
        assert_eq!(
            new[0].auth_user.as_deref(),
            Some(SMTP_LOGINS[0].0),
            "{}",
            what("A's login")
        );
        // B's mail is not lost silently: it carries the relay's refusal, and nothing of
        // it was sent.
        let mut tx = keyed.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let b_messages = tx
            .outbox()
            .messages(b.brand, None, None, 10)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        tx.rollback().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b_messages.len(), 1, "{}", what("B's messages"));
        let b_mail = &b_messages[0];
        // A refused login is the sender's error, not the customer's: the message is given
        // up at once (a retry with the same password cannot succeed) with the reply kept.
        assert_eq!(b_mail.status, OutboxStatus::Dead, "{}", what("B's status"));
        assert!(b_mail.sent_at.is_none(), "{}", what("B not sent"));
        let error = b_mail.last_error.clone().unwrap_or_default();
        assert!(error.contains("535"), "{}: {error:?}", what("B's error"));
        assert!(
            !error.contains("not-the-password"),
            "{}: the password is in {error:?}",
            what("B's error")
        );
        server.stop().await;
    }
}
