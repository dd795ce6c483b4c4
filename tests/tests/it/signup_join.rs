//! Joining from the poster counts as joining now: a customer the POS made from an order
//! two months ago who signs up today gets the welcome campaign's message (within its 7
//! days), on both databases, through the use cases with a manual clock.

use crate::signup::SmsStandIn;
use crate::targets;
use regulars::system::OsIdGen;
use regulars_campaigns::Policy;
use regulars_ports::{Clock, MessageSender, UnitOfWork};
use regulars_service::{
    CampaignAction, ChannelSenders, DeliveryOptions, LocationInput, OtpPurpose, SecretKey,
    Services, SignupDetails,
};
use regulars_tests::{ManualClock, phone};
use serde_json::json;
use std::sync::Arc;
use time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_the_pos_knew_for_months_is_welcomed_when_they_sign_up() {
    for target in targets("signup_join").await {
        let name = target.name;
        let clock = ManualClock::starting_now();
        let services = Services::new(target.world.store.clone(), clock.clone(), Arc::new(OsIdGen))
            .with_secret_key(SecretKey::from_bytes([4; 32]));
        let brand = target.world.brand;
        services
            .set_messaging_policy(brand, Policy::unrestricted())
            .await
            .unwrap_or_else(|e| panic!("{name}: policy: {e}"));
        let location = services
            .create_location(
                brand,
                LocationInput {
                    code: "q1".to_owned(),
                    name: "Quận 1".to_owned(),
                    utc_offset: None,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: location: {e}"));
        let welcome = services
            .create_campaign(
                brand,
                &json!({"name": "Chào mừng", "trigger": {"type": "welcome"}, "channels": ["sms"],
                        "holdout": 0.0, "frequency_cap": null, "template": "Chao {{name}}!"}),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: campaign: {e}"));
        services
            .set_campaign_status(brand, welcome.id, CampaignAction::Launch)
            .await
            .unwrap_or_else(|e| panic!("{name}: launch: {e}"));
        // The POS makes the customer from an order; two months go by.
        services
            .ingest_order(
                brand,
                regulars_tests::order(brand, "OLD-1", 8401, clock.now(), 1),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: order: {e}"));
        clock.advance(Duration::days(60));

        let token = services
            .signup_token(brand, location.id)
            .await
            .unwrap_or_else(|e| panic!("{name}: token: {e}"));
        let who = phone(8401);
        services
            .issue_otp(brand, &who, OtpPurpose::SignUp, "10.0.0.9")
            .await
            .unwrap_or_else(|e| panic!("{name}: issue: {e}"));
        let sms = Arc::new(SmsStandIn::default());
        let senders = ChannelSenders::new().with(sms.clone() as Arc<dyn MessageSender>);
        services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{name}: deliver: {e}"));
        let code = sms
            .bodies(who.as_str())
            .last()
            .map(|b| b[..6].to_owned())
            .unwrap_or_else(|| panic!("{name}: no code"));
        let session = services
            .verify_otp(brand, &who, OtpPurpose::SignUp, &code, "10.0.0.9")
            .await
            .unwrap_or_else(|e| panic!("{name}: verify: {e}"));
        let customer = services
            .sign_up(
                &token,
                &session.token,
                &SignupDetails {
                    name: "Lan".to_owned(),
                    sms: true,
                    programme: true,
                    ..SignupDetails::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: sign up: {e}"));
        // The same customer the POS made two months ago (stored to the microsecond).
        assert!(
            clock.now() - customer.created_at >= Duration::days(60) - Duration::seconds(1),
            "{name}: {customer:?}"
        );
        // The session now knows its customer.
        let bound = services
            .customer_session(brand, &session.token)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .and_then(|s| s.customer_id);
        assert_eq!(bound, Some(customer.id), "{name}");

        let mut tx = target
            .world
            .store
            .begin()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let messages = tx
            .outbox()
            .messages(brand, None, None, 100)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        tx.rollback().await.unwrap_or_else(|e| panic!("{e}"));
        let welcomed: Vec<_> = messages
            .iter()
            .filter(|m| m.campaign_id == Some(welcome.id) && m.customer_id == Some(customer.id))
            .collect();
        assert_eq!(welcomed.len(), 1, "{name}: {messages:?}");
        assert!(welcomed[0].dedupe_key.ends_with("welcome"), "{name}");
    }
}
