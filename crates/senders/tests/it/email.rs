//! SMTP email against a real SMTP server (aiosmtpd).

use crate::message;
use regulars_domain::Channel;
use regulars_ports::{MessageSender, SendError};
use regulars_senders::{SmtpSender, SmtpSettings, SmtpTls, message_id_for};
use regulars_testkit::providers::{SmtpServer, require_smtp, require_smtp_with_logins};
use std::time::Duration;

const TO: &str = "an.nguyen@example.vn";

fn settings(server: &SmtpServer) -> SmtpSettings {
    SmtpSettings {
        host: server.host(),
        port: Some(server.port()),
        tls: SmtpTls::None,
        from: "Cà Phê Sữa Đá <no-reply@caphe.example>".to_owned(),
        username: None,
        password: None,
        timeout: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn delivers_utf8_vietnamese_with_encoded_subject_and_stable_message_id() {
    let Some(server) = require_smtp() else { return };
    let smtp = SmtpSender::new(settings(&server)).unwrap();
    assert_eq!(smtp.channel(), Channel::Email);
    let msg = message(Channel::Email, TO, "mail-1");

    let receipt = smtp.send(&msg).await.unwrap();

    let mails = server.messages().unwrap();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.rcpt_tos, vec![TO.to_owned()]);
    assert_eq!(mail.mail_from, "no-reply@caphe.example");
    assert_eq!(mail.header("Subject"), Some("Điểm thưởng của bạn"));
    assert_eq!(mail.header("To"), Some(TO));
    assert_eq!(
        mail.header("From"),
        Some("Cà Phê Sữa Đá <no-reply@caphe.example>")
    );
    let expected_id = message_id_for("mail-1", "caphe.example");
    assert_eq!(mail.header("Message-ID"), Some(expected_id.as_str()));
    assert_eq!(receipt.provider_message_id, expected_id);
    assert!(
        mail.header("Content-Type").is_some_and(
            |c| c.starts_with("text/plain") && c.to_ascii_lowercase().contains("utf-8")
        ),
        "{:?}",
        mail.header("Content-Type")
    );
    assert_eq!(
        mail.body.as_deref().map(str::trim_end),
        Some(msg.body.as_str())
    );
    // On the wire the headers are 7-bit: the subject is an RFC 2047 encoded word.
    let raw_subject = mail
        .raw
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("subject:"))
        .unwrap();
    assert!(raw_subject.contains("=?utf-8?"), "{raw_subject}");
    assert!(raw_subject.is_ascii(), "{raw_subject}");
}

#[tokio::test]
async fn promotional_mail_is_marked_qc_in_its_subject() {
    let Some(server) = require_smtp() else { return };
    let smtp = SmtpSender::new(settings(&server)).unwrap();
    let mut promo = message(Channel::Email, TO, "mail-qc");
    promo.promotional = true;
    smtp.send(&promo).await.unwrap();
    let mut marked = message(Channel::Email, TO, "mail-qc-2");
    marked.promotional = true;
    marked.subject = Some("[QC] Ưu đãi".to_owned());
    smtp.send(&marked).await.unwrap();
    let receipt = message(Channel::Email, TO, "mail-receipt");
    smtp.send(&receipt).await.unwrap();

    let mails = server.messages().unwrap();
    let subjects: Vec<Option<&str>> = mails.iter().map(|m| m.header("Subject")).collect();
    assert_eq!(
        subjects,
        [
            Some("[QC] Điểm thưởng của bạn"),
            Some("[QC] Ưu đãi"),
            Some("Điểm thưởng của bạn")
        ]
    );
}

#[tokio::test]
async fn promotional_mail_offers_one_click_unsubscribe_and_a_receipt_does_not() {
    let Some(server) = require_smtp() else { return };
    let smtp = SmtpSender::new(settings(&server)).unwrap();
    let url = "https://loyalty.example.vn/u/AbC-123_x";
    let mut promo = message(Channel::Email, TO, "mail-unsub");
    promo.promotional = true;
    promo.unsubscribe_url = Some(url.to_owned());
    smtp.send(&promo).await.unwrap();
    let mut receipt = message(Channel::Email, TO, "mail-unsub-receipt");
    receipt.unsubscribe_url = Some(url.to_owned());
    smtp.send(&receipt).await.unwrap();
    let mut broken = message(Channel::Email, TO, "mail-unsub-broken");
    broken.promotional = true;
    broken.unsubscribe_url = Some("https://x.vn/u/a>\r\nBcc: evil@example.com".to_owned());
    smtp.send(&broken).await.unwrap();

    let mails = server.messages().unwrap();
    assert_eq!(mails.len(), 3);
    assert_eq!(
        mails[0].header("List-Unsubscribe"),
        Some(format!("<{url}>").as_str())
    );
    assert_eq!(
        mails[0].header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    for mail in &mails[1..] {
        assert_eq!(mail.header("List-Unsubscribe"), None, "{}", mail.raw);
        assert_eq!(mail.header("List-Unsubscribe-Post"), None, "{}", mail.raw);
        assert!(!mail.raw.contains("evil@"), "{}", mail.raw);
    }
}

#[tokio::test]
async fn an_open_pixel_goes_in_an_html_part_beside_the_text() {
    let Some(server) = require_smtp() else { return };
    let smtp = SmtpSender::new(settings(&server)).unwrap();
    let pixel = "https://loyalty.example.vn/o/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.gif";
    let mut tracked = message(Channel::Email, TO, "mail-pixel");
    tracked.body = "Xin chào <An> & bạn".to_owned();
    tracked.open_pixel = Some(pixel.to_owned());
    smtp.send(&tracked).await.unwrap();
    let mut broken = message(Channel::Email, TO, "mail-pixel-broken");
    broken.open_pixel = Some("https://x.vn/o/a\"><script>".to_owned());
    smtp.send(&broken).await.unwrap();

    let mails = server.messages().unwrap();
    assert_eq!(mails.len(), 2);
    let raw = &mails[0].raw;
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(raw.contains("text/plain"), "{raw}");
    assert!(raw.contains("text/html"), "{raw}");
    let flat = raw
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    assert!(flat.contains(pixel), "{raw}");
    assert!(!mails[1].raw.contains("multipart"), "{}", mails[1].raw);
    assert!(!mails[1].raw.contains("<script>"), "{}", mails[1].raw);
}

#[tokio::test]
async fn the_same_dedupe_key_gives_the_same_message_id() {
    let Some(server) = require_smtp() else { return };
    let smtp = SmtpSender::new(settings(&server)).unwrap();
    let msg = message(Channel::Email, TO, "order 42 / receipt");
    let first = smtp.send(&msg).await.unwrap();
    let second = smtp.send(&msg).await.unwrap();
    assert_eq!(first, second);
    // SMTP has no idempotency: both went out, with one Message-ID a mailbox can collapse.
    let mails = server.messages().unwrap();
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[0].header("Message-ID"), mails[1].header("Message-ID"));
}

#[tokio::test]
async fn smtp_4xx_is_retryable_and_5xx_permanent() {
    let Some(server) = require_smtp() else { return };
    let smtp = SmtpSender::new(settings(&server)).unwrap();

    server
        .set_reply(Some("451 4.3.0 Mailbox busy, try again later"))
        .unwrap();
    let err = smtp
        .send(&message(Channel::Email, TO, "m-451"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Retryable { reason, .. } if reason.contains("451") || reason.contains("busy")),
        "{err:?}"
    );

    server.set_reply(Some("550 5.1.1 No such user")).unwrap();
    let err = smtp
        .send(&message(Channel::Email, TO, "m-550"))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");

    server.set_reply(None).unwrap();
    smtp.send(&message(Channel::Email, TO, "m-ok"))
        .await
        .unwrap();
    assert_eq!(server.messages().unwrap().len(), 1);
}

#[tokio::test]
async fn a_bad_address_is_permanent_and_a_dead_server_retryable() {
    let Some(server) = require_smtp() else { return };
    let smtp = SmtpSender::new(settings(&server)).unwrap();
    let err = smtp
        .send(&message(Channel::Email, "not an address", "bad"))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
    let err = smtp
        .send(&message(Channel::Sms, TO, "wrong-channel"))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");

    let port = server.port();
    drop(server);
    let dead = SmtpSender::new(SmtpSettings {
        host: "127.0.0.1".to_owned(),
        port: Some(port),
        tls: SmtpTls::None,
        from: "no-reply@caphe.example".to_owned(),
        username: None,
        password: None,
        timeout: Duration::from_secs(2),
    })
    .unwrap();
    let err = dead
        .send(&message(Channel::Email, TO, "dead"))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Retryable { .. }), "{err:?}");
}

#[test]
fn settings_are_checked_up_front() {
    let base = SmtpSettings {
        host: "smtp.example.com".to_owned(),
        port: None,
        tls: SmtpTls::Starttls,
        from: "no-reply@example.com".to_owned(),
        username: Some("mailer".to_owned()),
        password: Some("pw".to_owned()),
        timeout: Duration::from_secs(10),
    };
    assert!(SmtpSender::new(base.clone()).is_ok());
    assert!(
        SmtpSender::new(SmtpSettings {
            tls: SmtpTls::Implicit,
            ..base.clone()
        })
        .is_ok()
    );
    assert!(
        SmtpSender::new(SmtpSettings {
            from: "nobody".into(),
            ..base.clone()
        })
        .is_err()
    );
    assert!(
        SmtpSender::new(SmtpSettings {
            password: None,
            ..base.clone()
        })
        .is_err()
    );
    assert!(!format!("{base:?}").contains("pw"), "password redacted");
}

#[tokio::test]
async fn logs_in_over_a_plain_loopback_connection_and_a_refused_login_is_permanent() {
    let Some(server) = require_smtp_with_logins(&[("shop", "right-password")]) else {
        return;
    };
    let login = |password: &str| SmtpSettings {
        username: Some("shop".to_owned()),
        password: Some(password.to_owned()),
        ..settings(&server)
    };
    let smtp = SmtpSender::new(login("right-password")).unwrap();
    smtp.send(&message(Channel::Email, TO, "mail-login"))
        .await
        .unwrap();
    let mails = server.messages().unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].auth_user.as_deref(), Some("shop"));

    // The server answers 535: a wrong password does not get better by retrying.
    let wrong = SmtpSender::new(login("wrong-password")).unwrap();
    match wrong.send(&message(Channel::Email, TO, "mail-wrong")).await {
        Err(SendError::Permanent { reason }) => assert!(reason.contains("535"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.messages().unwrap().len(), 1);
}
