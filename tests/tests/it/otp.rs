//! One-time codes on both databases: the code goes out through the outbox as a
//! transactional SMS, the right code opens a customer session once, wrong guesses lock
//! the code after five, sends are limited per phone and per client address, members and
//! strangers get the same answers, and retention drops what has expired.

use crate::targets;
use async_trait::async_trait;
use regulars::system::OsIdGen;
use regulars_domain::{Channel, Phone};
use regulars_ports::{Clock, MessageSender, OutgoingMessage, SendError, SendReceipt};
use regulars_service::{
    ChannelSenders, DeliveryOptions, OTP_MAX_ATTEMPTS, OTP_RESEND_AFTER, OTP_SEND_WINDOW,
    OTP_SENDS_PER_ADDRESS, OTP_SENDS_PER_WINDOW, OTP_VALIDITY, OtpError, OtpPurpose, SecretKey,
    Services,
};
use regulars_tests::{ManualClock, phone, sms_customer};
use std::sync::{Arc, Mutex};
use time::Duration;

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

struct Otp {
    services: Services,
    clock: Arc<ManualClock>,
    inbox: Arc<Inbox>,
}

impl Otp {
    fn on(target: &crate::Target) -> Otp {
        let clock = ManualClock::starting_now();
        let services = Services::new(target.world.store.clone(), clock.clone(), Arc::new(OsIdGen))
            .with_secret_key(SecretKey::from_bytes([3; 32]));
        Otp {
            services,
            clock,
            inbox: Arc::new(Inbox::default()),
        }
    }

    /// Delivers what is due and returns the code of the last message to `to`.
    async fn code_sent_to(&self, to: &Phone) -> String {
        let senders = ChannelSenders::new().with(self.inbox.clone());
        self.services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("deliver: {e}"));
        let sent = self.inbox.0.lock().unwrap_or_else(|e| e.into_inner());
        let message = sent
            .iter()
            .rev()
            .find(|m| m.recipient == to.as_str())
            .unwrap_or_else(|| panic!("no code went to {to}"));
        assert!(!message.promotional, "a code is transactional");
        message
            .body
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned()
    }
}

fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap_or(0);
    format!("{:06}", (n + 1) % 1_000_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_code_opens_one_session_for_members_and_strangers_alike() {
    for target in targets("otp_open").await {
        let name = target.name;
        let otp = Otp::on(&target);
        let brand = target.world.brand;
        let member = sms_customer(&otp.services, brand, 1, "Lan")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let stranger = phone(2);
        let mut answers = Vec::new();
        for who in [&member.phone, &stranger] {
            let sent = otp
                .services
                .issue_otp(brand, who, OtpPurpose::SignUp, "10.0.0.1")
                .await
                .unwrap_or_else(|e| panic!("{name}: issue: {e}"));
            assert_eq!(sent.expires_at, otp.clock.now() + OTP_VALIDITY, "{name}");
            let code = otp.code_sent_to(who).await;
            assert_eq!(code.len(), 6, "{name}: {code}");
            let refused = otp
                .services
                .verify_otp(brand, who, OtpPurpose::SignUp, &wrong(&code), "10.0.0.1")
                .await;
            // A code for another purpose opens nothing.
            let other = otp
                .services
                .verify_otp(brand, who, OtpPurpose::Card, &code, "10.0.0.1")
                .await;
            let opened = otp
                .services
                .verify_otp(brand, who, OtpPurpose::SignUp, &code, "10.0.0.1")
                .await
                .unwrap_or_else(|e| panic!("{name}: verify: {e}"));
            assert_eq!(opened.token.len(), 64, "{name}");
            // Used up: the same code again opens nothing.
            let again = otp
                .services
                .verify_otp(brand, who, OtpPurpose::SignUp, &code, "10.0.0.1")
                .await;
            answers.push((sent.resend_after - sent.expires_at, refused, other, again));
            let session = otp
                .services
                .customer_session(brand, &opened.token)
                .await
                .unwrap_or_else(|e| panic!("{name}: session: {e}"))
                .unwrap_or_else(|| panic!("{name}: no session"));
            assert_eq!(&session.phone, who, "{name}");
            let expected = (who == &member.phone).then_some(member.id);
            assert_eq!(session.customer_id, expected, "{name}");
            // Another brand's id, or a made-up token, finds nothing.
            let (other_brand, _) = regulars_tests::add_brand(&otp.services)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            for (b, t) in [(other_brand, opened.token.as_str()), (brand, "00")] {
                let none = otp.services.customer_session(b, t).await;
                assert_eq!(none, Ok(None), "{name}");
            }
            // The session ends on its own, and on signing out.
            otp.clock.advance(Duration::minutes(31));
            let ended = otp.services.customer_session(brand, &opened.token).await;
            assert_eq!(ended, Ok(None), "{name}");
            otp.clock.advance(-Duration::minutes(31));
            otp.services
                .end_customer_session(brand, &opened.token)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let gone = otp.services.customer_session(brand, &opened.token).await;
            assert_eq!(gone, Ok(None), "{name}");
        }
        assert_eq!(
            answers[0], answers[1],
            "{name}: member and stranger answered alike"
        );
        assert_eq!(
            answers[0].1,
            Err(OtpError::WrongCode {
                attempts_left: OTP_MAX_ATTEMPTS - 1
            }),
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_lock_after_five_and_expired_codes_open_nothing() {
    for target in targets("otp_lock").await {
        let name = target.name;
        let otp = Otp::on(&target);
        let brand = target.world.brand;
        let who = phone(7);
        otp.services
            .issue_otp(brand, &who, OtpPurpose::SignUp, "10.0.0.2")
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let code = otp.code_sent_to(&who).await;
        for left in (1..OTP_MAX_ATTEMPTS).rev() {
            let got = otp
                .services
                .verify_otp(brand, &who, OtpPurpose::SignUp, &wrong(&code), "10.0.0.2")
                .await;
            assert_eq!(
                got,
                Err(OtpError::WrongCode {
                    attempts_left: left
                }),
                "{name}"
            );
        }
        let fifth = otp
            .services
            .verify_otp(brand, &who, OtpPurpose::SignUp, &wrong(&code), "10.0.0.2")
            .await;
        assert_eq!(fifth, Err(OtpError::Locked), "{name}");
        // Even the right code no longer opens anything.
        let right = otp
            .services
            .verify_otp(brand, &who, OtpPurpose::SignUp, &code, "10.0.0.2")
            .await;
        assert_eq!(right, Err(OtpError::Locked), "{name}");
        let malformed = otp
            .services
            .verify_otp(brand, &who, OtpPurpose::SignUp, "12a456", "10.0.0.2")
            .await;
        assert_eq!(malformed, Err(OtpError::MalformedCode), "{name}");

        // A new code, left to expire.
        otp.clock.advance(OTP_RESEND_AFTER);
        otp.services
            .issue_otp(brand, &who, OtpPurpose::SignUp, "10.0.0.2")
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let code = otp.code_sent_to(&who).await;
        otp.clock.advance(OTP_VALIDITY);
        let late = otp
            .services
            .verify_otp(brand, &who, OtpPurpose::SignUp, &code, "10.0.0.2")
            .await;
        assert_eq!(
            late,
            Err(OtpError::WrongCode { attempts_left: 0 }),
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_guesses_never_exceed_five() {
    for target in targets("otp_race").await {
        let name = target.name;
        let otp = Otp::on(&target);
        let brand = target.world.brand;
        let who = phone(8);
        otp.services
            .issue_otp(brand, &who, OtpPurpose::SignUp, "10.0.0.3")
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let code = otp.code_sent_to(&who).await;
        let guess = wrong(&code);
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..12 {
            let (services, who, guess) = (otp.services.clone(), who.clone(), guess.clone());
            tasks.spawn(async move {
                let address = format!("10.0.1.{i}");
                services
                    .verify_otp(brand, &who, OtpPurpose::SignUp, &guess, &address)
                    .await
            });
        }
        let mut counted = 0;
        while let Some(done) = tasks.join_next().await {
            match done.unwrap_or_else(|e| panic!("{e}")) {
                Err(OtpError::WrongCode { .. }) => counted += 1,
                Err(OtpError::Locked) => {}
                other => panic!("{name}: {other:?}"),
            }
        }
        assert!(
            counted <= OTP_MAX_ATTEMPTS,
            "{name}: {counted} guesses counted"
        );
        let right = otp
            .services
            .verify_otp(brand, &who, OtpPurpose::SignUp, &code, "10.0.0.3")
            .await;
        assert_eq!(right, Err(OtpError::Locked), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_are_limited_per_phone_and_per_address_then_retention_drops_them() {
    for target in targets("otp_rate").await {
        let name = target.name;
        let otp = Otp::on(&target);
        let brand = target.world.brand;
        let who = phone(9);
        for n in 1..=OTP_SENDS_PER_WINDOW {
            otp.services
                .issue_otp(brand, &who, OtpPurpose::SignUp, "10.0.0.4")
                .await
                .unwrap_or_else(|e| panic!("{name}: send {n}: {e}"));
            // A resend right away is refused until the pause is over.
            let soon = otp
                .services
                .issue_otp(brand, &who, OtpPurpose::SignUp, "10.0.0.4")
                .await;
            assert_eq!(
                soon,
                Err(OtpError::TooManyCodes {
                    retry_after: OTP_RESEND_AFTER
                }),
                "{name}"
            );
            otp.clock.advance(OTP_RESEND_AFTER);
        }
        let over = otp
            .services
            .issue_otp(brand, &who, OtpPurpose::SignUp, "10.0.0.4")
            .await;
        let expected =
            OTP_SEND_WINDOW - OTP_RESEND_AFTER * i32::try_from(OTP_SENDS_PER_WINDOW).unwrap_or(0);
        assert_eq!(
            over,
            Err(OtpError::TooManyCodes {
                retry_after: expected
            }),
            "{name}"
        );
        // Another purpose counts on its own.
        otp.services
            .issue_otp(brand, &who, OtpPurpose::Card, "10.0.0.4")
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));

        // One address asking for many phones is stopped too.
        let mut n = 100;
        let refused = loop {
            n += 1;
            match otp
                .services
                .issue_otp(brand, &phone(n), OtpPurpose::SignUp, "10.0.0.5")
                .await
            {
                Ok(_) => {}
                Err(error) => break error,
            }
        };
        assert_eq!(n - 100, u64::from(OTP_SENDS_PER_ADDRESS) + 1, "{name}");
        assert!(
            matches!(refused, OtpError::TooManyCodes { .. }),
            "{name}: {refused:?}"
        );

        // A session and the codes, once expired and past their window, are dropped.
        let code = otp.code_sent_to(&phone(101)).await;
        otp.services
            .verify_otp(brand, &phone(101), OtpPurpose::SignUp, &code, "10.0.0.6")
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let kept = otp
            .services
            .apply_retention(brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (kept.otp_codes_dropped, kept.customer_sessions_dropped),
            (0, 0),
            "{name}"
        );
        otp.clock.advance(OTP_SEND_WINDOW + Duration::seconds(1));
        let dropped = otp
            .services
            .apply_retention(brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // Phone 9 (two purposes) and phones 102..=110; phone 101's code was used.
        let codes = 2 + u64::from(OTP_SENDS_PER_ADDRESS) - 1;
        assert_eq!(
            (dropped.otp_codes_dropped, dropped.customer_sessions_dropped),
            (codes, 1),
            "{name}"
        );
        // The window is over: phone 9 may have codes again.
        otp.services
            .issue_otp(brand, &who, OtpPurpose::SignUp, "10.0.0.7")
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
