//! Zalo ZNS against the test kit's stand-in.

use crate::message;
use regulars_domain::Channel;
use regulars_ports::{MessageSender, SendError, provider_key};
use regulars_senders::{ZaloCredentials, ZaloSettings, ZaloZns};
use regulars_testkit::providers::{Fault, ZaloZnsStub};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const PHONE: &str = "+84912345678";

fn settings(stub: &ZaloZnsStub) -> ZaloSettings {
    ZaloSettings {
        api_base: stub.base_url(),
        oauth_base: stub.base_url(),
        timeout: Duration::from_secs(5),
        templates: BTreeMap::from([("points_earned".to_owned(), "240871".to_owned())]),
    }
}

fn credentials(stub: &ZaloZnsStub) -> ZaloCredentials {
    ZaloCredentials {
        access_token: stub.access_token(),
        refresh_token: Some(stub.refresh_token()),
        app_id: Some(stub.app_id()),
        secret_key: Some(stub.secret_key()),
    }
}

fn sender(stub: &ZaloZnsStub) -> ZaloZns {
    ZaloZns::new(settings(stub), credentials(stub)).unwrap()
}

#[tokio::test]
async fn sends_a_template_message_with_the_provider_key_as_tracking_id() {
    let stub = ZaloZnsStub::start().unwrap();
    let zns = sender(&stub);
    assert_eq!(zns.channel(), Channel::Zalo);

    let receipt = zns
        .send(&message(Channel::Zalo, PHONE, "msg-1"))
        .await
        .unwrap();

    let deliveries = stub.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0].provider_message_id,
        receipt.provider_message_id
    );
    assert_eq!(deliveries[0].dedupe_key, provider_key("msg-1"));
    assert_eq!(deliveries[0].recipient, "84912345678");
    let request = stub.requests().pop().unwrap();
    assert_eq!(request.path, "/message/template");
    assert_eq!(request.headers["access_token"], stub.access_token());
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["phone"], "84912345678");
    assert_eq!(
        body["template_id"], "240871",
        "template name mapped to the ZNS id"
    );
    assert_eq!(body["tracking_id"], provider_key("msg-1").as_str());
    assert_eq!(body["template_data"]["customer_name"], "Nguyễn Văn An");
    assert_eq!(body["template_data"]["points"], "120");
}

#[tokio::test]
async fn an_unlisted_template_name_is_used_as_the_zns_id() {
    let stub = ZaloZnsStub::start().unwrap();
    let zns = sender(&stub);
    let mut msg = message(Channel::Zalo, PHONE, "msg-raw-id");
    msg.template = Some("999001".to_owned());
    zns.send(&msg).await.unwrap();
    let body: Value = serde_json::from_str(&stub.requests().pop().unwrap().body).unwrap();
    assert_eq!(body["template_id"], "999001");
}

#[tokio::test]
async fn provider_validation_failures_are_permanent() {
    let stub = ZaloZnsStub::start().unwrap();
    let zns = sender(&stub);

    // E.164 but not a Vietnamese mobile number: Zalo answers -108.
    let err = zns
        .send(&message(Channel::Zalo, "+8412345678", "bad-phone"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Permanent { reason } if reason.contains("-108")),
        "{err:?}"
    );

    // Not a ZNS template id: -109.
    let mut msg = message(Channel::Zalo, PHONE, "bad-template");
    msg.template = Some("not-a-template".to_owned());
    let err = zns.send(&msg).await.unwrap_err();
    assert!(
        matches!(&err, SendError::Permanent { reason } if reason.contains("-109")),
        "{err:?}"
    );

    // No template data: -111.
    let mut msg = message(Channel::Zalo, PHONE, "no-data");
    msg.data.clear();
    let err = zns.send(&msg).await.unwrap_err();
    assert!(
        matches!(&err, SendError::Permanent { reason } if reason.contains("-111")),
        "{err:?}"
    );

    assert_eq!(stub.accepted_count(), 0);
}

#[tokio::test]
async fn refuses_what_it_cannot_send_without_calling_zalo() {
    let stub = ZaloZnsStub::start().unwrap();
    let zns = sender(&stub);
    for msg in [
        message(Channel::Zalo, "0912345678", "not-e164"),
        message(Channel::Sms, PHONE, "wrong-channel"),
        {
            let mut m = message(Channel::Zalo, PHONE, "no-template");
            m.template = None;
            m
        },
    ] {
        let err = zns.send(&msg).await.unwrap_err();
        assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
    }
    assert_eq!(stub.request_count(), 0);
}

#[tokio::test]
async fn night_and_daily_quota_answers_wait_for_the_next_allowed_time() {
    let stub = ZaloZnsStub::start().unwrap();
    let zns = sender(&stub);
    for (i, code) in [-133, -144].into_iter().enumerate() {
        stub.force_error(code);
        let err = zns
            .send(&message(Channel::Zalo, PHONE, &format!("later-{i}")))
            .await
            .unwrap_err();
        match err {
            SendError::Retryable {
                retry_after: Some(wait),
                ..
            } => assert!(
                wait > Duration::ZERO && wait <= Duration::from_secs(86_400),
                "{code}: {wait:?}"
            ),
            other => panic!("{code}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn every_mapped_error_code_class() {
    let stub = ZaloZnsStub::start().unwrap();
    let zns = sender(&stub);
    let retryable = [-100, -133, -144];
    let permanent = [
        -101, -104, -108, -109, -110, -112, -114, -115, -117, -118, -119, -139, -999,
    ];
    for (i, code) in retryable.iter().chain(permanent.iter()).enumerate() {
        stub.force_error(*code);
        let err = zns
            .send(&message(Channel::Zalo, PHONE, &format!("code-{i}")))
            .await
            .unwrap_err();
        let expect_retry = retryable.contains(code);
        match &err {
            SendError::Retryable { reason, .. } if expect_retry => {
                assert!(reason.contains(&code.to_string()), "{reason}");
            }
            SendError::Permanent { reason } if !expect_retry => {
                assert!(reason.contains(&code.to_string()), "{reason}");
            }
            other => panic!("code {code}: {other:?}"),
        }
    }
    assert_eq!(stub.accepted_count(), 0);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_send_retried() {
    let stub = ZaloZnsStub::start().unwrap();
    let zns = sender(&stub);
    zns.send(&message(Channel::Zalo, PHONE, "before"))
        .await
        .unwrap();
    stub.expire_access_token();

    zns.send(&message(Channel::Zalo, PHONE, "after"))
        .await
        .unwrap();

    assert_eq!(stub.refresh_count(), 1);
    assert_eq!(stub.accepted_count(), 2);
    let tokens = zns.current_tokens().await.unwrap();
    assert_eq!(tokens.access_token, stub.access_token());
    assert_eq!(
        tokens.refresh_token,
        Some(stub.refresh_token()),
        "rotated refresh token kept"
    );
    let refresh = stub
        .requests()
        .into_iter()
        .find(|r| r.path == "/v4/oa/access_token")
        .unwrap();
    assert_eq!(refresh.headers["secret_key"], stub.secret_key());
    assert!(
        refresh.body.contains("grant_type=refresh_token"),
        "{}",
        refresh.body
    );
    assert!(
        refresh.body.contains(&format!("app_id={}", stub.app_id())),
        "{}",
        refresh.body
    );

    // The rotated refresh token works for the next expiry too.
    stub.expire_access_token();
    zns.send(&message(Channel::Zalo, PHONE, "later"))
        .await
        .unwrap();
    assert_eq!(stub.refresh_count(), 2);
}

#[tokio::test]
async fn concurrent_sends_on_an_expired_token_refresh_it_once() {
    let stub = ZaloZnsStub::start().unwrap();
    let zns = Arc::new(sender(&stub));
    stub.expire_access_token();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let zns = Arc::clone(&zns);
        tasks.push(tokio::spawn(async move {
            zns.send(&message(Channel::Zalo, PHONE, &format!("c-{i}")))
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(
        stub.refresh_count(),
        1,
        "single-use refresh token burnt once"
    );
    assert_eq!(stub.accepted_count(), 8);
}

#[tokio::test]
async fn a_rejected_refresh_is_permanent() {
    let stub = ZaloZnsStub::start().unwrap();
    let mut creds = credentials(&stub);
    creds.secret_key = Some("wrong".to_owned());
    let zns = ZaloZns::new(settings(&stub), creds).unwrap();
    stub.expire_access_token();
    let err = zns
        .send(&message(Channel::Zalo, PHONE, "x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Permanent { reason } if reason.contains("refresh")),
        "{err:?}"
    );
    assert_eq!(stub.refresh_count(), 0);
}

#[tokio::test]
async fn an_invalid_token_without_refresh_is_permanent() {
    let stub = ZaloZnsStub::start().unwrap();
    let creds = ZaloCredentials {
        access_token: stub.access_token(),
        refresh_token: None,
        app_id: None,
        secret_key: None,
    };
    let zns = ZaloZns::new(settings(&stub), creds).unwrap();
    stub.expire_access_token();
    let err = zns
        .send(&message(Channel::Zalo, PHONE, "x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Permanent { reason } if reason.contains("no refresh")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_lost_acknowledgement_is_retryable_and_the_resend_is_not_delivered_again() {
    let stub = ZaloZnsStub::start().unwrap();
    let zns = sender(&stub);
    let msg = message(Channel::Zalo, PHONE, "ack-lost");
    stub.push_fault(Fault::DropAfterAccept);

    let err = zns.send(&msg).await.unwrap_err();
    assert!(matches!(err, SendError::Retryable { .. }), "{err:?}");
    assert_eq!(stub.accepted_count(), 1, "the provider did send it");

    let receipt = zns.send(&msg).await.unwrap();
    let deliveries = stub.deliveries();
    assert_eq!(deliveries.len(), 1, "not delivered twice");
    assert_eq!(deliveries[0].requests, 2);
    assert_eq!(
        receipt.provider_message_id,
        deliveries[0].provider_message_id
    );
}

#[tokio::test]
async fn a_timeout_is_retryable() {
    let stub = ZaloZnsStub::start().unwrap();
    let mut settings = settings(&stub);
    settings.timeout = Duration::from_millis(300);
    let zns = ZaloZns::new(settings, credentials(&stub)).unwrap();
    stub.push_fault(Fault::Delay(Duration::from_secs(3)));

    let err = zns
        .send(&message(Channel::Zalo, PHONE, "slow"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Retryable { reason, .. } if reason.contains("timed out")),
        "{err:?}"
    );

    zns.send(&message(Channel::Zalo, PHONE, "slow"))
        .await
        .unwrap();
    assert_eq!(stub.accepted_count(), 1);
}

#[tokio::test]
async fn outages_are_retryable() {
    let stub = ZaloZnsStub::start().unwrap();
    let zns = sender(&stub);
    for (i, fault) in [Fault::Http(503), Fault::Http(429), Fault::Drop]
        .into_iter()
        .enumerate()
    {
        stub.push_fault(fault.clone());
        let err = zns
            .send(&message(Channel::Zalo, PHONE, &format!("outage-{i}")))
            .await
            .unwrap_err();
        assert!(
            matches!(err, SendError::Retryable { .. }),
            "{fault:?}: {err:?}"
        );
    }
    stub.push_fault(Fault::Http(404));
    let err = zns
        .send(&message(Channel::Zalo, PHONE, "gone"))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
    assert_eq!(stub.accepted_count(), 0);

    // Nothing listening at all.
    let closed = ZaloZns::new(
        ZaloSettings {
            api_base: "http://127.0.0.1:9".to_owned(),
            ..settings(&stub)
        },
        credentials(&stub),
    )
    .unwrap();
    let err = closed
        .send(&message(Channel::Zalo, PHONE, "closed"))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Retryable { .. }), "{err:?}");
}

#[tokio::test]
async fn retrying_through_random_failures_delivers_everything_exactly_once() {
    let stub = ZaloZnsStub::start().unwrap();
    let zns = sender(&stub);
    stub.set_failure_ratio(0.4, 2026);
    let mut failures = 0;
    for i in 0..40 {
        let msg = message(Channel::Zalo, PHONE, &format!("flaky-{i}"));
        let mut attempts = 0;
        loop {
            attempts += 1;
            match zns.send(&msg).await {
                Ok(_) => break,
                Err(SendError::Retryable { .. }) if attempts < 50 => failures += 1,
                Err(e) => panic!("{e:?}"),
            }
        }
    }
    assert!(failures > 0, "a 40% failure ratio produced failures");
    let deliveries = stub.deliveries();
    assert_eq!(deliveries.len(), 40);
    let mut keys: Vec<_> = deliveries.iter().map(|d| d.dedupe_key.clone()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 40, "no key delivered twice");
}

#[tokio::test]
async fn every_token_rejection_code_zalo_uses_triggers_the_refresh() {
    for code in [-124, -216, -220] {
        let stub = ZaloZnsStub::start().unwrap();
        stub.set_stale_token_code(code);
        let zns = sender(&stub);
        stub.expire_access_token();
        zns.send(&message(Channel::Zalo, PHONE, "after-expiry"))
            .await
            .unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(stub.refresh_count(), 1, "{code}");
    }
}

#[tokio::test]
async fn a_spent_refresh_token_is_refused_by_the_stand_in() {
    let stub = ZaloZnsStub::start().unwrap();
    let spent = stub.refresh_token();
    let first = sender(&stub);
    first.refresh().await.unwrap();
    // A second process still holding the spent token cannot refresh with it.
    let second = ZaloZns::new(
        settings(&stub),
        ZaloCredentials {
            refresh_token: Some(spent),
            ..credentials(&stub)
        },
    )
    .unwrap();
    assert!(matches!(
        second.refresh().await,
        Err(SendError::Permanent { .. })
    ));
    assert_eq!(stub.refresh_count(), 1);
}
