//! Twilio-style SMS against the test kit's stand-in.

use crate::message;
use regulars_domain::Channel;
use regulars_ports::{MessageSender, SendError};
use regulars_senders::{TwilioSettings, TwilioSms};
use regulars_testkit::providers::{Fault, TwilioStub};
use std::time::Duration;

const PHONE: &str = "+84987654321";

fn settings(stub: &TwilioStub) -> TwilioSettings {
    TwilioSettings {
        base_url: stub.base_url(),
        account_sid: stub.account_sid(),
        from: "CAPHESUADA".to_owned(),
        status_callback: Some("https://regulars.example/callbacks/twilio".to_owned()),
        timeout: Duration::from_secs(5),
    }
}

fn sender(stub: &TwilioStub) -> TwilioSms {
    TwilioSms::new(settings(stub), stub.auth_token()).unwrap()
}

#[tokio::test]
async fn sends_with_basic_auth_and_the_dedupe_key_as_idempotency_token() {
    let stub = TwilioStub::start().unwrap();
    let sms = sender(&stub);
    let msg = message(Channel::Sms, PHONE, "tw-1");
    let receipt = sms.send(&msg).await.unwrap();
    assert!(receipt.provider_message_id.starts_with("SM"));
    let deliveries = stub.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0].text, msg.body,
        "UTF-8 body survives form encoding"
    );
    assert_eq!(deliveries[0].recipient, PHONE);
    let request = stub.requests().pop().unwrap();
    assert_eq!(request.headers["i-twilio-idempotency-token"], "tw-1");
    assert!(request.body.contains("StatusCallback="), "{}", request.body);

    // A replay of the same key is answered, not sent again.
    assert_eq!(sms.send(&msg).await.unwrap(), receipt);
    assert_eq!(stub.accepted_count(), 1);
}

#[tokio::test]
async fn a_messaging_service_is_sent_as_such() {
    let stub = TwilioStub::start().unwrap();
    let sms = TwilioSms::new(
        TwilioSettings {
            from: "MG0123456789abcdef".to_owned(),
            ..settings(&stub)
        },
        stub.auth_token(),
    )
    .unwrap();
    sms.send(&message(Channel::Sms, PHONE, "tw-mg"))
        .await
        .unwrap();
    let body = stub.requests().pop().unwrap().body;
    assert!(
        body.contains("MessagingServiceSid=MG0123456789abcdef"),
        "{body}"
    );
    assert!(!body.contains("From="), "{body}");
}

#[tokio::test]
async fn refusals_are_permanent_and_outages_retryable() {
    let stub = TwilioStub::start().unwrap();
    let wrong = TwilioSms::new(settings(&stub), "wrong-token").unwrap();
    let err = wrong
        .send(&message(Channel::Sms, PHONE, "a"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Permanent { reason } if reason.contains("20003")),
        "{err:?}"
    );

    let sms = sender(&stub);
    let err = sms
        .send(&message(Channel::Sms, "0987654321", "b"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Permanent { reason } if reason.contains("21211")),
        "{err:?}"
    );

    stub.push_fault(Fault::ProviderCode(21610));
    let err = sms
        .send(&message(Channel::Sms, PHONE, "c"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Permanent { reason } if reason.contains("21610")),
        "{err:?}"
    );

    for (i, fault) in [Fault::Http(503), Fault::Http(429), Fault::Drop]
        .into_iter()
        .enumerate()
    {
        stub.push_fault(fault.clone());
        let err = sms
            .send(&message(Channel::Sms, PHONE, &format!("o-{i}")))
            .await
            .unwrap_err();
        assert!(
            matches!(err, SendError::Retryable { .. }),
            "{fault:?}: {err:?}"
        );
    }
    let err = sms
        .send(&message(Channel::Zalo, PHONE, "z"))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
    assert_eq!(stub.accepted_count(), 0);
}

#[tokio::test]
async fn a_timeout_is_retryable_and_the_resend_not_delivered_again() {
    let stub = TwilioStub::start().unwrap();
    let sms = TwilioSms::new(
        TwilioSettings {
            timeout: Duration::from_millis(300),
            ..settings(&stub)
        },
        stub.auth_token(),
    )
    .unwrap();
    stub.push_fault(Fault::Delay(Duration::from_secs(3)));
    let msg = message(Channel::Sms, PHONE, "tw-slow");
    let err = sms.send(&msg).await.unwrap_err();
    assert!(
        matches!(&err, SendError::Retryable { reason, .. } if reason.contains("timed out")),
        "{err:?}"
    );
    sms.send(&msg).await.unwrap();
    assert_eq!(stub.accepted_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vietnam_needs_an_alphanumeric_sender_and_no_promotions() {
    let stub = TwilioStub::start().unwrap();
    let from_number = TwilioSms::new(
        TwilioSettings {
            from: "+15005550006".to_owned(),
            ..settings(&stub)
        },
        stub.auth_token(),
    )
    .unwrap();
    let err = from_number
        .send(&message(Channel::Sms, PHONE, "vn-number"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Permanent { reason } if reason.contains("alphanumeric")),
        "{err:?}"
    );
    // Elsewhere a number is fine.
    from_number
        .send(&message(Channel::Sms, "+14155550100", "us-number"))
        .await
        .unwrap();
    let mut promo = message(Channel::Sms, PHONE, "vn-promo");
    promo.promotional = true;
    let err = sender(&stub).send(&promo).await.unwrap_err();
    assert!(
        matches!(&err, SendError::Permanent { reason } if reason.contains("promotional")),
        "{err:?}"
    );
    // Neither refused message reached Twilio.
    assert_eq!(stub.accepted_count(), 1);
}
