//! The file sender: one JSON line per message, shared by the channels it serves.

use crate::message;
use regulars_domain::Channel;
use regulars_ports::{MessageSender, SendError};
use regulars_senders::{ConfigError, FileMessage, FileSender, SendersConfig, build};
use regulars_testkit::SqliteFile;
use std::path::PathBuf;

/// A path in a fresh scratch directory (removed with the returned guard).
fn scratch_path(name: &str) -> (SqliteFile, PathBuf) {
    let db = SqliteFile::new().unwrap();
    let path = db.path().parent().unwrap().join(name);
    (db, path)
}

fn lines(path: &PathBuf) -> Vec<FileMessage> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn each_message_is_one_json_line_in_order() {
    let (_guard, path) = scratch_path("messages.jsonl");
    let senders = FileSender::for_channels(&path, &[Channel::Sms, Channel::Email]);
    let sms = &senders[0];
    let email = &senders[1];
    let first = sms
        .send(&message(Channel::Sms, "+84901234567", "k1"))
        .await
        .unwrap();
    email
        .send(&message(Channel::Email, "an@example.vn", "k2"))
        .await
        .unwrap();
    sms.send(&message(Channel::Sms, "+84907654321", "k3"))
        .await
        .unwrap();
    assert_eq!(first.provider_message_id, "file:k1");

    let written = lines(&path);
    assert_eq!(written.len(), 3);
    let keys: Vec<&str> = written.iter().map(|m| m.dedupe_key.as_str()).collect();
    assert_eq!(keys, ["k1", "k2", "k3"]);
    assert_eq!(written[1].channel, Channel::Email);
    assert_eq!(written[1].recipient, "an@example.vn");
    let sent = message(Channel::Sms, "+84901234567", "k1");
    assert_eq!(written[0].body, sent.body);
    assert_eq!(written[0].data, sent.data);
    assert_eq!(written[0].subject, sent.subject);
    assert_eq!(written[0].brand_id, sent.brand_id);
}

#[tokio::test]
async fn an_existing_file_is_appended_to() {
    let (_guard, path) = scratch_path("messages.jsonl");
    std::fs::write(&path, "").unwrap();
    let senders = FileSender::for_channels(&path, &[Channel::Zalo]);
    senders[0]
        .send(&message(Channel::Zalo, "+84901234567", "a"))
        .await
        .unwrap();
    // A second set of senders (a restarted worker) keeps what the first wrote.
    let again = FileSender::for_channels(&path, &[Channel::Zalo]);
    again[0]
        .send(&message(Channel::Zalo, "+84901234567", "b"))
        .await
        .unwrap();
    assert_eq!(lines(&path).len(), 2);
}

#[tokio::test]
async fn concurrent_sends_never_interleave() {
    let (_guard, path) = scratch_path("messages.jsonl");
    let senders = FileSender::for_channels(&path, &[Channel::Sms, Channel::Zalo]);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let sender = senders[i % 2].clone();
        let channel = sender.channel();
        tasks.push(tokio::spawn(async move {
            sender
                .send(&message(channel, "+84901234567", &format!("m{i}")))
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let mut keys: Vec<String> = lines(&path).into_iter().map(|m| m.dedupe_key).collect();
    keys.sort();
    let mut expected: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
    expected.sort();
    assert_eq!(keys, expected);
}

#[tokio::test]
async fn an_unwritable_path_is_retryable_and_a_wrong_channel_permanent() {
    let (_guard, path) = scratch_path("missing-dir/messages.jsonl");
    let senders = FileSender::for_channels(&path, &[Channel::Sms]);
    let err = senders[0]
        .send(&message(Channel::Sms, "+84901234567", "k"))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Retryable { .. }), "{err:?}");
    let err = senders[0]
        .send(&message(Channel::Email, "an@example.vn", "k"))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
}

#[tokio::test]
async fn configured_from_the_file_section() {
    let (_guard, path) = scratch_path("out.jsonl");
    let config: SendersConfig = serde_json::from_value(serde_json::json!({
        "file": { "path": path.to_str().unwrap() }
    }))
    .unwrap();
    let senders = build(&config, |_: &str| None).unwrap();
    assert_eq!(
        senders.channels(),
        [Channel::Zalo, Channel::Sms, Channel::Email]
    );
    senders
        .get(Channel::Email)
        .unwrap()
        .send(&message(Channel::Email, "an@example.vn", "x"))
        .await
        .unwrap();
    assert_eq!(lines(&path)[0].dedupe_key, "x");

    // Only some channels; the others stay unconfigured.
    let config: SendersConfig = serde_json::from_value(serde_json::json!({
        "file": { "path": "out.jsonl", "channels": ["sms"] }
    }))
    .unwrap();
    let senders = build(&config, |_: &str| None).unwrap();
    assert_eq!(senders.channels(), [Channel::Sms]);
}

#[test]
fn file_config_errors_are_clear() {
    let both: SendersConfig = serde_json::from_value(serde_json::json!({
        "sms": { "brandname": "REGULARS" },
        "file": { "path": "out.jsonl", "channels": ["sms", "zalo"] }
    }))
    .unwrap();
    let env = |name: &str| name.starts_with("REGULARS_ESMS_").then(|| "x".to_owned());
    let err = build(&both, env).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Invalid {
                field: "file.channels",
                ..
            }
        ),
        "{err:?}"
    );
    // The file may stand in for the channels a provider does not serve.
    let beside: SendersConfig = serde_json::from_value(serde_json::json!({
        "sms": { "brandname": "REGULARS" },
        "file": { "path": "out.jsonl", "channels": ["zalo", "email"] }
    }))
    .unwrap();
    assert_eq!(
        build(&beside, env).unwrap().channels(),
        [Channel::Zalo, Channel::Sms, Channel::Email]
    );
    for bad in [
        serde_json::json!({"file": {"path": " "}}),
        serde_json::json!({"file": {"path": "x", "channels": []}}),
    ] {
        let config: SendersConfig = serde_json::from_value(bad).unwrap();
        assert!(build(&config, |_: &str| None).is_err());
    }
    assert!(
        serde_json::from_value::<SendersConfig>(
            serde_json::json!({"file": {"path": "x", "format": "csv"}})
        )
        .is_err()
    );
}
