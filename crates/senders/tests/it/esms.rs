//! eSMS against the test kit's stand-in.

use crate::message;
use regulars_domain::Channel;
use regulars_ports::{MessageSender, SendError, provider_key};
use regulars_senders::{Esms, EsmsSettings};
use regulars_testkit::providers::{EsmsStub, Fault, REQUEST_ID_MAX_CHARS};
use serde_json::Value;
use std::time::Duration;

const PHONE: &str = "+84987654321";

fn settings(stub: &EsmsStub) -> EsmsSettings {
    EsmsSettings {
        base_url: stub.base_url(),
        callback_url: Some("https://regulars.example/callbacks/esms/abc".to_owned()),
        timeout: Duration::from_secs(5),
        ..EsmsSettings::new(stub.brandname())
    }
}

fn sender(stub: &EsmsStub) -> Esms {
    Esms::new(settings(stub), stub.api_key(), stub.secret_key()).unwrap()
}

fn last_body(stub: &EsmsStub) -> Value {
    serde_json::from_str(&stub.requests().pop().unwrap().body).unwrap()
}

#[tokio::test]
async fn sends_vietnamese_text_as_unicode_with_the_provider_key_as_request_id() {
    let stub = EsmsStub::start().unwrap();
    let sms = sender(&stub);
    assert_eq!(sms.channel(), Channel::Sms);
    let msg = message(Channel::Sms, PHONE, "sms-1");

    let receipt = sms.send(&msg).await.unwrap();

    let deliveries = stub.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0].provider_message_id,
        receipt.provider_message_id
    );
    assert_eq!(deliveries[0].text, msg.body);
    assert_eq!(deliveries[0].recipient, "84987654321");
    let body = last_body(&stub);
    assert_eq!(body["RequestId"], provider_key("sms-1").as_str());
    assert_eq!(body["IsUnicode"], "1");
    assert_eq!(body["SmsType"], "2");
    assert_eq!(body["Brandname"], "REGULARS");
    assert_eq!(body["Sandbox"], "0");
    assert_eq!(
        body["CallbackUrl"],
        "https://regulars.example/callbacks/esms/abc"
    );
}

#[tokio::test]
async fn a_campaign_sized_dedupe_key_fits_esms_request_id_limit() {
    let stub = EsmsStub::start().unwrap();
    let sms = sender(&stub);
    // `{campaign}:{customer}:{occasion}` runs to about 120 characters; eSMS takes 50.
    let long = format!(
        "{}:{}:birthday-2026-12-06",
        "0190c1a8-5f3e-7a41-9c1b-8d2e4f6a7b3c", "0190c1a8-5f3e-7a41-9c1b-8d2e4f6a7b3d"
    );
    let receipt = sms
        .send(&message(Channel::Sms, PHONE, &long))
        .await
        .unwrap();
    let request_id = last_body(&stub)["RequestId"].as_str().unwrap().to_owned();
    assert!(request_id.len() <= REQUEST_ID_MAX_CHARS, "{request_id}");
    assert_eq!(request_id, provider_key(&long));
    assert_eq!(
        stub.deliveries()[0].provider_message_id,
        receipt.provider_message_id
    );
}

#[tokio::test]
async fn ascii_text_is_not_flagged_unicode() {
    let stub = EsmsStub::start().unwrap();
    let sms = sender(&stub);
    let mut msg = message(Channel::Sms, PHONE, "sms-ascii");
    msg.body = "Ban vua nhan 120 diem.".to_owned();
    sms.send(&msg).await.unwrap();
    assert_eq!(last_body(&stub)["IsUnicode"], "0");
}

#[tokio::test]
async fn provider_validation_failures_are_permanent() {
    let stub = EsmsStub::start().unwrap();

    let wrong_keys = Esms::new(settings(&stub), "nope", stub.secret_key()).unwrap();
    let err = wrong_keys
        .send(&message(Channel::Sms, PHONE, "k"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Permanent { reason } if reason.contains("101")),
        "{err:?}"
    );

    let wrong_brand = Esms::new(
        EsmsSettings {
            brandname: "OTHER".into(),
            ..settings(&stub)
        },
        stub.api_key(),
        stub.secret_key(),
    )
    .unwrap();
    let err = wrong_brand
        .send(&message(Channel::Sms, PHONE, "b"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Permanent { reason } if reason.contains("104")),
        "{err:?}"
    );

    let wrong_type = Esms::new(
        EsmsSettings {
            sms_type: "1".into(),
            ..settings(&stub)
        },
        stub.api_key(),
        stub.secret_key(),
    )
    .unwrap();
    let err = wrong_type
        .send(&message(Channel::Sms, PHONE, "t"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Permanent { reason } if reason.contains("118")),
        "{err:?}"
    );

    let sms = sender(&stub);
    let err = sms
        .send(&message(Channel::Sms, "+8412345678", "p"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Permanent { reason } if reason.contains("108")),
        "{err:?}"
    );

    for code in [99, 102, 103, 140, 146, 177, 300] {
        stub.force_error(code);
        let err = sms
            .send(&message(Channel::Sms, PHONE, &format!("forced-{code}")))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, SendError::Permanent { reason } if reason.contains(&code.to_string())),
            "{code}: {err:?}"
        );
    }
    assert_eq!(stub.accepted_count(), 0);
}

#[tokio::test]
async fn a_repeated_request_id_is_accepted_once() {
    let stub = EsmsStub::start().unwrap();
    let sms = sender(&stub);
    let msg = message(Channel::Sms, PHONE, "sms-dup");
    let first = sms.send(&msg).await.unwrap();
    let second = sms.send(&msg).await.unwrap();
    assert_ne!(first.provider_message_id, "");
    assert_eq!(
        second.provider_message_id,
        provider_key("sms-dup"),
        "eSMS does not repeat the SMSID: the receipt carries the RequestId"
    );
    assert_eq!(stub.accepted_count(), 1);
    assert_eq!(stub.deliveries()[0].requests, 2);
}

#[tokio::test]
async fn a_lost_acknowledgement_is_retryable_and_the_resend_is_not_delivered_again() {
    let stub = EsmsStub::start().unwrap();
    let sms = sender(&stub);
    let msg = message(Channel::Sms, PHONE, "sms-ack-lost");
    stub.push_fault(Fault::DropAfterAccept);
    let err = sms.send(&msg).await.unwrap_err();
    assert!(matches!(err, SendError::Retryable { .. }), "{err:?}");
    sms.send(&msg).await.unwrap();
    assert_eq!(stub.accepted_count(), 1);
}

#[tokio::test]
async fn timeouts_and_outages_are_retryable() {
    let stub = EsmsStub::start().unwrap();
    let quick = Esms::new(
        EsmsSettings {
            timeout: Duration::from_millis(300),
            ..settings(&stub)
        },
        stub.api_key(),
        stub.secret_key(),
    )
    .unwrap();
    stub.push_fault(Fault::Delay(Duration::from_secs(3)));
    let err = quick
        .send(&message(Channel::Sms, PHONE, "slow"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Retryable { reason, .. } if reason.contains("timed out")),
        "{err:?}"
    );

    for (i, fault) in [Fault::Http(503), Fault::Http(502), Fault::Drop]
        .into_iter()
        .enumerate()
    {
        stub.push_fault(fault.clone());
        let err = quick
            .send(&message(Channel::Sms, PHONE, &format!("outage-{i}")))
            .await
            .unwrap_err();
        assert!(
            matches!(err, SendError::Retryable { .. }),
            "{fault:?}: {err:?}"
        );
    }
    // The slow one went out (the stub answered late); the outages did not.
    assert_eq!(stub.accepted_count(), 1);
}

#[tokio::test]
async fn refuses_other_channels_and_non_e164_numbers_without_calling_esms() {
    let stub = EsmsStub::start().unwrap();
    let sms = sender(&stub);
    for msg in [
        message(Channel::Email, PHONE, "e"),
        message(Channel::Sms, "0987654321", "n"),
    ] {
        let err = sms.send(&msg).await.unwrap_err();
        assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
    }
    assert_eq!(stub.request_count(), 0);
}
