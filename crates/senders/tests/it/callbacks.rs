//! Delivery-status callbacks.

use proptest::prelude::*;
use regulars_domain::Channel;
use regulars_ports::DeliveryStatus;
use regulars_senders::callbacks::{
    CallbackError, ZALO_EVENT_WINDOW, esms_callback, zalo_event, zalo_signature,
};
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);
const APP_ID: &str = "4301234567890123456";
const OA_SECRET: &str = "oa-secret-key";

#[test]
fn esms_success_failure_rejection_and_pending() {
    let delivered = esms_callback(
        "SMSID=dc712784-9c5f&SendFailed=0&SendStatus=5&SendSuccess=1&TotalPrice=0.0000\
         &TotalReceiver=1&TotalSent=1&RequestId=msg-7&TypeId=2&telcoid=1&phonenumber=0901888484",
        NOW,
    )
    .unwrap();
    assert_eq!(delivered.channel, Channel::Sms);
    assert_eq!(delivered.provider_message_id, "dc712784-9c5f");
    assert_eq!(delivered.dedupe_key.as_deref(), Some("msg-7"));
    assert_eq!(delivered.status, DeliveryStatus::Delivered);
    assert_eq!(delivered.at, NOW);

    // eSMS's own sample: sent to the network, both receivers failed.
    let failed = esms_callback(
        "SMSID=abc&SendFailed=2&SendStatus=5&SendSuccess=0&TotalReceiver=2&TotalSent=2&RequestId=&TypeId=2",
        NOW,
    )
    .unwrap();
    assert!(matches!(failed.status, DeliveryStatus::Failed { .. }));
    assert_eq!(failed.dedupe_key, None, "an empty RequestId is no key");

    assert!(matches!(
        esms_callback("SMSID=abc&SendStatus=5&SendSuccess=0&SendFailed=0", NOW),
        Err(CallbackError::NotFinal(_))
    ));

    let rejected = esms_callback("SMSID=abc&SendStatus=4", NOW).unwrap();
    assert!(matches!(rejected.status, DeliveryStatus::Failed { .. }));

    for pending in ["1", "2", "7"] {
        assert_eq!(
            esms_callback(&format!("?SMSID=abc&SendStatus={pending}"), NOW),
            Err(CallbackError::NotFinal(pending.to_owned()))
        );
    }
}

#[test]
fn esms_malformed_callbacks_are_errors() {
    assert!(matches!(
        esms_callback("SendStatus=5&SendSuccess=1", NOW),
        Err(CallbackError::Malformed(_))
    ));
    assert!(matches!(
        esms_callback("SMSID=abc", NOW),
        Err(CallbackError::Malformed(_))
    ));
    assert!(matches!(
        esms_callback("", NOW),
        Err(CallbackError::Malformed(_))
    ));
}

fn zalo_body(event: &str) -> String {
    format!(
        r#"{{"app_id":"{APP_ID}","sender":{{"id":"579745863508352884"}},"recipient":{{"id":"84912345678"}},"event_name":"{event}","message":{{"delivery_time":"1795435200000","msg_id":"08e0b7b3d7b4","tracking_id":"msg-9"}},"timestamp":"1795435201000"}}"#
    )
}

#[test]
fn zalo_delivery_report_with_a_valid_signature() {
    let body = zalo_body("user_received_message");
    let signature = zalo_signature(APP_ID, body.as_bytes(), "1795435201000", OA_SECRET);
    let update = zalo_event(
        &[
            ("Content-Type", "application/json"),
            ("X-ZEvent-Signature", &signature),
        ],
        body.as_bytes(),
        APP_ID,
        OA_SECRET,
        NOW,
    )
    .unwrap();
    assert_eq!(update.channel, Channel::Zalo);
    assert_eq!(update.provider_message_id, "08e0b7b3d7b4");
    assert_eq!(update.dedupe_key.as_deref(), Some("msg-9"));
    assert_eq!(update.status, DeliveryStatus::Delivered);
    assert_eq!(
        update.at,
        datetime!(2026-11-23 12:00 UTC),
        "delivery_time, not the arrival"
    );

    // The header name is case-insensitive, the mac= prefix and hex case optional.
    let bare = signature.trim_start_matches("mac=").to_ascii_uppercase();
    assert!(
        zalo_event(
            &[("x-zevent-signature", &bare)],
            body.as_bytes(),
            APP_ID,
            OA_SECRET,
            NOW
        )
        .is_ok()
    );
}

#[test]
fn zalo_signatures_are_enforced() {
    let body = zalo_body("user_received_message");
    let good = zalo_signature(APP_ID, body.as_bytes(), "1795435201000", OA_SECRET);
    assert_eq!(
        zalo_event(&[], body.as_bytes(), APP_ID, OA_SECRET, NOW),
        Err(CallbackError::MissingSignature("X-ZEvent-Signature"))
    );
    let wrong_secret = zalo_signature(APP_ID, body.as_bytes(), "1795435201000", "other");
    assert_eq!(
        zalo_event(
            &[("X-ZEvent-Signature", &wrong_secret)],
            body.as_bytes(),
            APP_ID,
            OA_SECRET,
            NOW
        ),
        Err(CallbackError::BadSignature)
    );
    assert_eq!(
        zalo_event(
            &[("X-ZEvent-Signature", &good)],
            body.as_bytes(),
            "another-app",
            OA_SECRET,
            NOW
        ),
        Err(CallbackError::BadSignature)
    );
    let tampered = body.replace("08e0b7b3d7b4", "08e0b7b3d7b5");
    assert_eq!(
        zalo_event(
            &[("X-ZEvent-Signature", &good)],
            tampered.as_bytes(),
            APP_ID,
            OA_SECRET,
            NOW
        ),
        Err(CallbackError::BadSignature)
    );
    assert!(matches!(
        zalo_event(
            &[("X-ZEvent-Signature", &good)],
            b"not json",
            APP_ID,
            OA_SECRET,
            NOW
        ),
        Err(CallbackError::Malformed(_))
    ));
}

#[test]
fn other_zalo_events_are_not_delivery_reports() {
    let body = zalo_body("user_send_text");
    let signature = zalo_signature(APP_ID, body.as_bytes(), "1795435201000", OA_SECRET);
    assert_eq!(
        zalo_event(
            &[("X-ZEvent-Signature", &signature)],
            body.as_bytes(),
            APP_ID,
            OA_SECRET,
            NOW
        ),
        Err(CallbackError::NotADeliveryReport(
            "user_send_text".to_owned()
        ))
    );
}

proptest! {
    /// Whatever the body, its own signature verifies and any one changed byte does not.
    #[test]
    fn signature_covers_every_byte(
        msg_id in "[a-f0-9]{8,20}",
        ts in 1_600_000_000_000u64..1_900_000_000_000u64,
        flip in any::<prop::sample::Index>(),
    ) {
        let body = format!(
            r#"{{"app_id":"{APP_ID}","event_name":"user_received_message","message":{{"msg_id":"{msg_id}"}},"timestamp":"{ts}"}}"#
        );
        let sig = zalo_signature(APP_ID, body.as_bytes(), &ts.to_string(), OA_SECRET);
        let arrived = OffsetDateTime::from_unix_timestamp((ts / 1000) as i64).unwrap();
        let update = zalo_event(&[("X-ZEvent-Signature", &sig)], body.as_bytes(), APP_ID, OA_SECRET, arrived).unwrap();
        prop_assert_eq!(update.provider_message_id, msg_id);
        let mut changed = body.into_bytes();
        let i = flip.index(changed.len());
        changed[i] = if changed[i] == b'x' { b'y' } else { b'x' };
        prop_assert!(zalo_event(&[("X-ZEvent-Signature", &sig)], &changed, APP_ID, OA_SECRET, arrived).is_err());
    }

    /// A genuine, signed event is taken only while its timestamp is within the window
    /// of its arrival, early or late: a captured event replayed later is refused.
    #[test]
    fn signed_events_are_taken_only_while_fresh(
        ts in 1_600_000_000_000i64..1_900_000_000_000i64,
        offset_s in -7_200i64..7_200,
    ) {
        let body = format!(
            r#"{{"app_id":"{APP_ID}","event_name":"user_received_message","message":{{"msg_id":"m"}},"timestamp":"{ts}"}}"#
        );
        let sig = zalo_signature(APP_ID, body.as_bytes(), &ts.to_string(), OA_SECRET);
        let sent = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts) * 1_000_000).unwrap();
        let arrived = sent + time::Duration::seconds(offset_s);
        let result = zalo_event(&[("X-ZEvent-Signature", &sig)], body.as_bytes(), APP_ID, OA_SECRET, arrived);
        if offset_s.abs() <= ZALO_EVENT_WINDOW.whole_seconds() {
            prop_assert!(result.is_ok(), "{:?}", result);
        } else {
            prop_assert_eq!(result, Err(CallbackError::Stale(ts.to_string())));
        }
    }
}

#[test]
fn a_zalo_event_without_a_timestamp_is_refused() {
    let body = format!(
        r#"{{"app_id":"{APP_ID}","event_name":"user_received_message","message":{{"msg_id":"m"}}}}"#
    );
    let sig = zalo_signature(APP_ID, body.as_bytes(), "", OA_SECRET);
    assert_eq!(
        zalo_event(
            &[("X-ZEvent-Signature", &sig)],
            body.as_bytes(),
            APP_ID,
            OA_SECRET,
            NOW
        ),
        Err(CallbackError::Stale(String::new()))
    );
}

/// The vendor's `user_send_text` example (see `tests/fixtures/README.md`).
const USER_SEND_TEXT: &str = include_str!("../fixtures/zalo_user_send_text.json");
/// Its signed `timestamp`, as a time.
const SENT: OffsetDateTime = datetime!(2025-08-05 14:46:18.258 UTC);

#[test]
fn a_follower_text_is_verified_and_read_as_the_vendor_documents_it() {
    use regulars_ports::ProviderEvent;
    use regulars_senders::callbacks::zalo_provider_event;
    let body = USER_SEND_TEXT.trim().as_bytes();
    let sig = zalo_signature(APP_ID, body, "1754405178258", OA_SECRET);
    let event = zalo_provider_event(
        &[("X-ZEvent-Signature", &sig)],
        body,
        APP_ID,
        OA_SECRET,
        SENT + time::Duration::seconds(3),
    )
    .unwrap();
    let ProviderEvent::Text(text) = event else {
        panic!("not a text: {event:?}");
    };
    assert_eq!(text.channel, Channel::Zalo);
    assert_eq!(text.sender, "4411682737790366300");
    assert_eq!(text.text, "Hello from user");
    assert_eq!(text.event_id, "message_id_123");
    assert_eq!(text.at, SENT);

    // Signed like every event: a wrong signature or a replay later is refused.
    assert_eq!(
        zalo_provider_event(
            &[("X-ZEvent-Signature", "mac=00")],
            body,
            APP_ID,
            OA_SECRET,
            SENT
        ),
        Err(CallbackError::BadSignature)
    );
    assert!(matches!(
        zalo_provider_event(
            &[("X-ZEvent-Signature", &sig)],
            body,
            APP_ID,
            OA_SECRET,
            SENT + ZALO_EVENT_WINDOW + time::Duration::seconds(1)
        ),
        Err(CallbackError::Stale(_))
    ));
    // The delivery-report reader still answers only reports.
    assert_eq!(
        zalo_event(
            &[("X-ZEvent-Signature", &sig)],
            body,
            APP_ID,
            OA_SECRET,
            SENT
        ),
        Err(CallbackError::NotADeliveryReport("user_send_text".into()))
    );
}

#[test]
fn a_follower_event_without_text_or_sender_is_not_a_text() {
    use regulars_senders::callbacks::zalo_provider_event;
    let sticker = br#"{"app_id":"1","event_name":"user_send_text","timestamp":"1754405178258","sender":{"id":"44"},"message":{"msg_id":"m"}}"#;
    let anonymous = br#"{"app_id":"1","event_name":"user_send_text","timestamp":"1754405178258","message":{"msg_id":"m","text":"HUY"}}"#;
    let sign = |body: &[u8]| zalo_signature(APP_ID, body, "1754405178258", OA_SECRET);
    assert!(matches!(
        zalo_provider_event(
            &[("X-ZEvent-Signature", &sign(sticker))],
            sticker,
            APP_ID,
            OA_SECRET,
            SENT
        ),
        Err(CallbackError::NotADeliveryReport(_))
    ));
    assert!(matches!(
        zalo_provider_event(
            &[("X-ZEvent-Signature", &sign(anonymous))],
            anonymous,
            APP_ID,
            OA_SECRET,
            SENT
        ),
        Err(CallbackError::Malformed(_))
    ));
}
