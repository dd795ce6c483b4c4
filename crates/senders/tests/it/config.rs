//! Configuration: file shape, secrets from the environment, clear errors.

use crate::message;
use regulars_domain::Channel;
use regulars_senders::{ConfigError, SendersConfig, build};
use regulars_testkit::providers::{EsmsStub, ZaloZnsStub};
use std::collections::HashMap;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

fn config(json: &str) -> SendersConfig {
    serde_json::from_str(json).unwrap()
}

#[test]
fn unknown_fields_are_rejected() {
    let err =
        serde_json::from_str::<SendersConfig>(r#"{"sms": {"brandname": "X", "api_key": "leak"}}"#)
            .unwrap_err();
    assert!(err.to_string().contains("api_key"), "{err}");
    assert!(serde_json::from_str::<SendersConfig>(r#"{"fax": {}}"#).is_err());
}

#[test]
fn nothing_configured_builds_nothing() {
    let senders = build(&SendersConfig::default(), env_of(&[])).unwrap();
    assert!(senders.channels().is_empty());
}

#[test]
fn missing_secrets_are_named() {
    let zalo = config(r#"{"zalo": {}}"#);
    assert_eq!(
        build(&zalo, env_of(&[])).unwrap_err(),
        ConfigError::MissingEnv {
            var: "REGULARS_ZALO_ACCESS_TOKEN",
            needed_for: "Zalo ZNS"
        }
    );
    let err = build(
        &zalo,
        env_of(&[
            ("REGULARS_ZALO_ACCESS_TOKEN", "t"),
            ("REGULARS_ZALO_REFRESH_TOKEN", "r"),
        ]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("REGULARS_ZALO_APP_ID"), "{err}");
    let err = build(
        &zalo,
        env_of(&[
            ("REGULARS_ZALO_ACCESS_TOKEN", "t"),
            ("REGULARS_ZALO_REFRESH_TOKEN", "r"),
            ("REGULARS_ZALO_APP_ID", "a"),
        ]),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("REGULARS_ZALO_SECRET_KEY"),
        "{err}"
    );

    let sms = config(r#"{"sms": {"brandname": "REGULARS"}}"#);
    let err = build(&sms, env_of(&[("REGULARS_ESMS_API_KEY", "k")])).unwrap_err();
    assert!(
        err.to_string().contains("REGULARS_ESMS_SECRET_KEY"),
        "{err}"
    );
    // An empty variable is as good as none.
    let err = build(
        &sms,
        env_of(&[
            ("REGULARS_ESMS_API_KEY", " "),
            ("REGULARS_ESMS_SECRET_KEY", "s"),
        ]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("REGULARS_ESMS_API_KEY"), "{err}");

    let email = config(
        r#"{"email": {"host": "smtp.example.com", "tls": "starttls", "from": "a@example.com", "username": "mailer"}}"#,
    );
    let err = build(&email, env_of(&[])).unwrap_err();
    assert!(err.to_string().contains("REGULARS_SMTP_PASSWORD"), "{err}");
    // Without a username no password is needed.
    let email = config(
        r#"{"email": {"host": "smtp.example.com", "tls": "implicit", "from": "a@example.com"}}"#,
    );
    assert_eq!(
        build(&email, env_of(&[])).unwrap().channels(),
        vec![Channel::Email]
    );
}

#[test]
fn invalid_values_are_named() {
    let err = build(
        &config(r#"{"sms": {"brandname": "X", "base_url": "rest.esms.vn"}}"#),
        env_of(&[
            ("REGULARS_ESMS_API_KEY", "k"),
            ("REGULARS_ESMS_SECRET_KEY", "s"),
        ]),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Invalid {
                field: "sms.base_url",
                ..
            }
        ),
        "{err:?}"
    );
    // eSMS's advertising product (SmsType 1) has its own bulk endpoint; this sender is
    // the customer-care one.
    let err = build(
        &config(r#"{"sms": {"brandname": "X", "sms_type": "1"}}"#),
        env_of(&[
            ("REGULARS_ESMS_API_KEY", "k"),
            ("REGULARS_ESMS_SECRET_KEY", "s"),
        ]),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Invalid {
                field: "sms.sms_type",
                ..
            }
        ),
        "{err:?}"
    );
    let err = build(
        &config(r#"{"email": {"host": "h", "tls": "none", "from": "not-an-address"}}"#),
        env_of(&[]),
    )
    .unwrap_err();
    assert!(
        matches!(err, ConfigError::Invalid { field: "email", .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn built_senders_reach_their_providers() {
    let zalo = ZaloZnsStub::start().unwrap();
    let esms = EsmsStub::start().unwrap();
    let config = config(&format!(
        r#"{{
            "zalo": {{"api_base": "{z}", "oauth_base": "{z}", "templates": {{"points_earned": "240871"}}}},
            "sms": {{"base_url": "{e}", "brandname": "REGULARS"}},
            "email": {{"host": "127.0.0.1", "port": 2525, "tls": "none", "from": "no-reply@example.com"}},
            "timeout_secs": 5
        }}"#,
        z = zalo.base_url(),
        e = esms.base_url()
    ));
    let (access, refresh, app, secret) = (
        zalo.access_token(),
        zalo.refresh_token(),
        zalo.app_id(),
        zalo.secret_key(),
    );
    let (api_key, esms_secret) = (esms.api_key(), esms.secret_key());
    assert!(
        !format!("{config:?}").contains(&access),
        "secrets never in the config"
    );
    let senders = build(
        &config,
        env_of(&[
            ("REGULARS_ZALO_ACCESS_TOKEN", &access),
            ("REGULARS_ZALO_REFRESH_TOKEN", &refresh),
            ("REGULARS_ZALO_APP_ID", &app),
            ("REGULARS_ZALO_SECRET_KEY", &secret),
            ("REGULARS_ESMS_API_KEY", &api_key),
            ("REGULARS_ESMS_SECRET_KEY", &esms_secret),
        ]),
    )
    .unwrap();
    assert_eq!(
        senders.channels(),
        vec![Channel::Zalo, Channel::Sms, Channel::Email]
    );

    zalo.expire_access_token();
    let zalo_sender = senders.get(Channel::Zalo).unwrap();
    assert_eq!(zalo_sender.channel(), Channel::Zalo);
    zalo_sender
        .send(&message(Channel::Zalo, "+84912345678", "cfg-z"))
        .await
        .unwrap();
    assert_eq!(
        zalo.refresh_count(),
        1,
        "refresh credentials came from the environment"
    );
    senders
        .get(Channel::Sms)
        .unwrap()
        .send(&message(Channel::Sms, "+84912345678", "cfg-s"))
        .await
        .unwrap();
    assert_eq!(zalo.accepted_count(), 1);
    assert_eq!(esms.accepted_count(), 1);
    assert!(
        !format!("{senders:?}").contains(&access),
        "no secret in Debug"
    );
}

#[tokio::test]
async fn twilio_can_carry_sms_instead_of_esms() {
    let stub = regulars_testkit::providers::TwilioStub::start().unwrap();
    let config = config(&format!(
        r#"{{"twilio": {{"base_url": "{}", "account_sid": "{}", "from": "CAPHESUADA"}}}}"#,
        stub.base_url(),
        stub.account_sid()
    ));
    let err = build(&config, env_of(&[])).unwrap_err();
    assert!(
        err.to_string().contains("REGULARS_TWILIO_AUTH_TOKEN"),
        "{err}"
    );
    let token = stub.auth_token();
    let senders = build(&config, env_of(&[("REGULARS_TWILIO_AUTH_TOKEN", &token)])).unwrap();
    senders
        .get(Channel::Sms)
        .unwrap()
        .send(&message(Channel::Sms, "+84912345678", "cfg-t"))
        .await
        .unwrap();
    assert_eq!(stub.accepted_count(), 1);

    let both = r#"{"sms": {"brandname": "X"}, "twilio": {"account_sid": "AC1", "from": "+1"}}"#;
    let err = build(
        &serde_json::from_str(both).unwrap(),
        env_of(&[
            ("REGULARS_ESMS_API_KEY", "k"),
            ("REGULARS_ESMS_SECRET_KEY", "s"),
            ("REGULARS_TWILIO_AUTH_TOKEN", "t"),
        ]),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Invalid {
                field: "twilio",
                ..
            }
        ),
        "{err:?}"
    );
}
