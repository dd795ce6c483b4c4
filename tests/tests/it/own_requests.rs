//! The customer's own requests on both databases: after a one-time code to their phone
//! (purpose `card`), they download what is held about them, correct their details,
//! withdraw consent and erase themselves; every request is logged with actor `customer`
//! and its deadline, and what they were shown is in the access log.

use crate::privacy::{LAN, OTHER, register};
use crate::targets;
use async_trait::async_trait;
use regulars::system::OsIdGen;
use regulars_domain::{BrandId, ChangeSource, Channel, ConsentState, Phone, Purpose};
use regulars_ports::{
    AccessChannel, AccessQuery, MessageSender, OutgoingMessage, PrivacyRequestKind, SendError,
    SendReceipt, UnitOfWork,
};
use regulars_service::{
    CUSTOMER_ACTOR, ChannelSenders, ConsentPatch, DeliveryOptions, OtpPurpose, OwnCorrection,
    OwnRequestError, SecretKey, Services,
};
use regulars_tests::ManualClock;
use std::sync::{Arc, Mutex};
use time::Duration;
use time::macros::date;

/// An SMS channel that keeps what it was given.
#[derive(Default)]
struct Inbox(Mutex<Vec<OutgoingMessage>>);

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

/// A session for `phone` opened with the code that went to it, for `purpose`.
async fn session(
    services: &Services,
    inbox: &Arc<Inbox>,
    brand: BrandId,
    phone: &str,
    purpose: OtpPurpose,
) -> String {
    let brand_phone = Phone::parse(phone, Phone::VIETNAM).unwrap_or_else(|e| panic!("{e}"));
    let client = "10.0.0.7";
    services
        .issue_otp(brand, &brand_phone, purpose, client)
        .await
        .unwrap_or_else(|e| panic!("issue: {e}"));
    let senders = ChannelSenders::new().with(inbox.clone());
    services
        .deliver_due(&senders, &DeliveryOptions::default())
        .await
        .unwrap_or_else(|e| panic!("deliver: {e}"));
    let code = {
        let sent = inbox.0.lock().unwrap_or_else(|e| e.into_inner());
        sent.iter()
            .rev()
            .find(|m| m.recipient == brand_phone.as_str())
            .and_then(|m| m.body.split_whitespace().next().map(str::to_owned))
            .unwrap_or_else(|| panic!("no code went to {phone}"))
    };
    services
        .verify_otp(brand, &brand_phone, purpose, &code, client)
        .await
        .unwrap_or_else(|e| panic!("verify: {e}"))
        .token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_exports_corrects_withdraws_and_erases_after_a_code() {
    for target in targets("own_requests").await {
        let (w, name) = (&target.world, target.name);
        let services = Services::new(
            w.store.clone(),
            ManualClock::starting_now(),
            Arc::new(OsIdGen),
        )
        .with_secret_key(SecretKey::from_bytes([3; 32]));
        let inbox = Arc::new(Inbox::default());
        let lan = register(w, LAN, "lan.nguyen", date!(1991 - 03 - 17)).await;
        let other = register(w, OTHER, "lan.nguyen2", date!(1992 - 04 - 18)).await;

        // Without a session, or with a code for another purpose, nothing is done.
        let none = services.own_export(w.brand, "00").await;
        assert!(
            matches!(none, Err(OwnRequestError::NoSession)),
            "{name}: {none:?}"
        );
        let signup = session(&services, &inbox, w.brand, LAN.0, OtpPurpose::SignUp).await;
        let wrong = services.own_export(w.brand, &signup).await;
        assert!(
            matches!(wrong, Err(OwnRequestError::NoSession)),
            "{name}: {wrong:?}"
        );
        // A phone that is no member's has nothing to ask about.
        let stranger = session(&services, &inbox, w.brand, "0981000099", OtpPurpose::Card).await;
        let nobody = services.own_export(w.brand, &stranger).await;
        assert!(
            matches!(nobody, Err(OwnRequestError::NotACustomer)),
            "{name}: {nobody:?}"
        );

        let token = session(&services, &inbox, w.brand, LAN.0, OtpPurpose::Card).await;
        let export = services
            .own_export(w.brand, &token)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(export.customer.id, lan, "{name}");
        assert_eq!(export.customer.name.as_deref(), Some(LAN.1), "{name}");

        let corrected = services
            .own_correction(
                w.brand,
                &token,
                OwnCorrection {
                    name: Some(Some("Lan N.".into())),
                    email: Some(None),
                    birthday: Some(Some(date!(1991 - 03 - 18))),
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(corrected.name.as_deref(), Some("Lan N."), "{name}");
        assert_eq!(corrected.email, None, "{name}");
        let empty = services
            .own_correction(w.brand, &token, OwnCorrection::default())
            .await;
        assert!(
            matches!(empty, Err(OwnRequestError::Empty(_))),
            "{name}: {empty:?}"
        );

        // Withdrawing is all the page does with consent: a `true` is not taken.
        let withdrawn = services
            .own_consent_withdrawal(
                w.brand,
                &token,
                ConsentPatch {
                    sms: Some(false),
                    profiling: Some(false),
                    email: Some(true),
                    ..ConsentPatch::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(withdrawn.consent.sms, ConsentState::Withdrawn, "{name}");
        assert_eq!(
            withdrawn.consent.profiling,
            ConsentState::Withdrawn,
            "{name}"
        );
        let again = services
            .own_export(w.brand, &token)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let from_card = again
            .consents
            .iter()
            .filter(|c| c.source == ChangeSource::CardPage && c.actor == CUSTOMER_ACTOR)
            .map(|c| c.purpose)
            .collect::<Vec<_>>();
        assert!(
            from_card.contains(&Purpose::Marketing(Channel::Sms))
                && from_card.contains(&Purpose::Profiling)
                && !from_card.contains(&Purpose::Marketing(Channel::Email)),
            "{name}: {:?}",
            again.consents
        );

        // Erasure needs its confirmation step, then ends the session.
        let unconfirmed = services.own_erasure(w.brand, &token, false).await;
        assert!(
            matches!(unconfirmed, Err(OwnRequestError::NotConfirmed)),
            "{name}: {unconfirmed:?}"
        );
        let erased = services
            .own_erasure(w.brand, &token, true)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(erased.customer_id, lan, "{name}");
        let after = services.own_export(w.brand, &token).await;
        assert!(
            matches!(after, Err(OwnRequestError::NoSession)),
            "{name}: {after:?}"
        );

        // Every request is logged with the customer as actor and its deadline.
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let requests = tx
            .privacy()
            .requests(w.brand, lan)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let others = tx
            .privacy()
            .requests(w.brand, other)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        drop(tx);
        let kinds: Vec<PrivacyRequestKind> = requests.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                PrivacyRequestKind::Export,
                PrivacyRequestKind::Correction,
                PrivacyRequestKind::ConsentWithdrawal,
                PrivacyRequestKind::Export,
                PrivacyRequestKind::Erasure,
            ],
            "{name}: {requests:?}"
        );
        assert!(
            requests.iter().all(|r| r.actor == CUSTOMER_ACTOR
                && r.outcome == "done"
                && r.deadline_at - r.received_at == Duration::hours(72)),
            "{name}: {requests:?}"
        );
        assert!(others.is_empty(), "{name}: {others:?}");

        // What the customer was shown is in the access log, as read by the customer.
        services
            .flush_access_log()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let log = services
            .access_log(
                w.brand,
                &AccessQuery {
                    since: None,
                    until: None,
                    key: None,
                    customer: Some(lan),
                    after: None,
                    limit: 100,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            log.iter()
                .filter(|r| r.channel == AccessChannel::Customer && r.key_id.is_none())
                .count(),
            4,
            "{name}: {log:?}"
        );
    }
}
