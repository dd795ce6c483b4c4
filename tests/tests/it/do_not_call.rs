//! The do-not-call list: imported from the registry's file for the whole deployment,
//! stored as keyed hashes only, honoured when promotional SMS are planned and again
//! when they are delivered; transactional messages still go.

use regulars_campaigns::plan::SkipReason;
use regulars_ports::{OutboxStatus, UnitOfWork};
use regulars_service::{
    CampaignAction, ChannelSenders, DeliveryOptions, SecretKey, SecretKeys, parse_do_not_call,
};
use regulars_store::StoreOptions;
use regulars_tests::phone;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;
use std::sync::Arc;

/// A channel that records the numbers it was asked to send to.
struct Recorder(std::sync::Mutex<Vec<String>>);

impl Recorder {
    fn sent(&self) -> Vec<String> {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl regulars_ports::MessageSender for Recorder {
    fn channel(&self) -> regulars_domain::Channel {
        regulars_domain::Channel::Sms
    }

    async fn send(
        &self,
        message: &regulars_ports::OutgoingMessage,
    ) -> Result<regulars_ports::SendReceipt, regulars_ports::SendError> {
        if let Ok(mut sent) = self.0.lock() {
            sent.push(message.recipient.clone());
        }
        Ok(regulars_ports::SendReceipt {
            provider_message_id: message.dedupe_key.clone(),
        })
    }
}

/// The national form of test phone `n` (`09…`), as the registry writes numbers.
fn national(n: u64) -> String {
    format!("0{}", &phone(n).as_str()[3..])
}

/// Every row of `do_not_call`, as text.
async fn dump(url: &str) -> String {
    let db = Database::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT brand_id, phone_hash, key_id, import_id FROM do_not_call",
        ))
        .await
        .unwrap_or_else(|e| panic!("select: {e}"));
    rows.iter()
        .map(|r| {
            let hash: String = r.try_get("", "phone_hash").unwrap_or_default();
            let key: String = r.try_get("", "key_id").unwrap_or_default();
            format!("{hash} {key}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listed_numbers_get_no_promotional_sms_and_receipts_still_go() {
    for target in crate::targets("do_not_call").await {
        let name = target.name;
        let keys = SecretKeys::new(SecretKey::from_bytes([5; 32]));
        let w = &regulars_tests::world_with_keys(
            &target.url,
            StoreOptions::default().max_connections(8),
            Some(&keys),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut ids = Vec::new();
        for n in 0..3u64 {
            let c = regulars_tests::sms_customer(&w.services, w.brand, n, &format!("Khách {n}"))
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            ids.push(c.id);
        }
        let (free, listed, listed_later) = (ids[0], ids[1], ids[2]);
        w.services
            .set_messaging_policy(w.brand, regulars_campaigns::Policy::unrestricted())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));

        // The registry's file: comments, a blank line, a bad line, another form of
        // the same number.
        let file = format!(
            "# DNC export\n{}\n\nnot a number\n+{}\n",
            national(1),
            &phone(1).as_str()[1..]
        );
        let parsed = parse_do_not_call(&file);
        assert_eq!(parsed.bad.len(), 1, "{name}");
        assert_eq!(parsed.bad[0].line, 4, "{name}");
        let done = w
            .services
            .import_do_not_call(&parsed, false)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (done.added, done.already, done.removed),
            (1, 0, 0),
            "{name}"
        );
        let again = w
            .services
            .import_do_not_call(&parsed, false)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((again.added, again.already), (0, 1), "{name}");

        let create = |doc: serde_json::Value| async move {
            let c = w
                .services
                .create_campaign(w.brand, &doc)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            w.services
                .set_campaign_status(w.brand, c.id, CampaignAction::Launch)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            c.id
        };
        // A plain thank-you is transactional: it reaches the listed number.
        create(
            json!({"name": "Cảm ơn", "trigger": {"type": "after_purchase"},
            "channels": ["sms"], "holdout": 0.0}),
        )
        .await;
        let now = time::OffsetDateTime::now_utc();
        w.services
            .ingest_order(w.brand, regulars_tests::order(w.brand, "DNC-1", 1, now, 1))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let recorder = Arc::new(Recorder(std::sync::Mutex::new(Vec::new())));
        let senders = ChannelSenders::new().with(recorder.clone());
        let round = w
            .services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(round.sent, 1, "{name}: {round:?}");
        assert_eq!(recorder.sent(), [phone(1).as_str()], "{name}");

        // A promotional broadcast by SMS skips the listed number.
        let broadcast = create(
            json!({"name": "Khai trương", "trigger": {"type": "broadcast"},
            "channels": ["sms"], "policy": {}, "holdout": 0.0, "frequency_cap": null}),
        )
        .await;
        let runs = w
            .services
            .run_campaigns(w.brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let run = runs
            .iter()
            .find(|r| r.campaign_id == broadcast)
            .unwrap_or_else(|| panic!("{name}: {runs:?}"));
        assert_eq!(run.messages, 2, "{name}: {run:?}");
        assert_eq!(
            run.skipped.get(&SkipReason::DoNotCall),
            Some(&1),
            "{name}: {run:?}"
        );
        // Listed after planning: the queued message is cancelled, not sent.
        let replaced = parse_do_not_call(&format!("{}\n{}\n", national(1), national(2)));
        let done = w
            .services
            .import_do_not_call(&replaced, true)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (done.added, done.already, done.removed),
            (1, 1, 0),
            "{name}"
        );
        let round = w
            .services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((round.sent, round.cancelled), (1, 1), "{name}: {round:?}");
        assert!(
            !recorder.sent().contains(&phone(2).as_str().to_owned()),
            "{name}: {:?}",
            recorder.sent()
        );
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let messages = tx
            .outbox()
            .messages(w.brand, Some(broadcast), None, 100)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        drop(tx);
        let status = |customer| {
            messages
                .iter()
                .find(|m| m.customer_id == Some(customer))
                .unwrap_or_else(|| panic!("{name}: {messages:?}"))
        };
        assert_eq!(status(free).status, OutboxStatus::Sent, "{name}");
        let cancelled = status(listed_later);
        assert_eq!(cancelled.status, OutboxStatus::Cancelled, "{name}");
        assert!(
            cancelled
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("do-not-call")),
            "{name}: {cancelled:?}"
        );
        assert!(
            messages.iter().all(|m| m.customer_id != Some(listed)),
            "{name}: {messages:?}"
        );

        // Replacing with a shorter file removes what it no longer lists.
        let shorter = parse_do_not_call(&national(2));
        let done = w
            .services
            .import_do_not_call(&shorter, true)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (done.added, done.already, done.removed),
            (0, 1, 1),
            "{name}"
        );
        let status = w
            .services
            .do_not_call_status()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (status.numbers, status.under_previous_keys),
            (1, 0),
            "{name}"
        );
        assert!(
            w.services
                .import_do_not_call(&parse_do_not_call("# nothing\n"), true)
                .await
                .is_err(),
            "{name}: an empty replacement empties nothing"
        );

        // A copy of the table shows no number in any form.
        let copy = dump(&target.url).await;
        assert_eq!(copy.lines().count(), 1, "{name}: {copy}");
        for n in [1, 2] {
            for form in [national(n), phone(n).as_str().to_owned()] {
                assert!(!copy.contains(&form[1..]), "{name}: {form} in {copy}");
            }
        }
    }
}

/// After a key rotation the list still answers under the previous key, and an import
/// under the new key hashes the numbers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_survives_a_key_rotation_and_a_re_import_rehashes_it() {
    for target in crate::targets("do_not_call_rotation").await {
        let name = target.name;
        let old = SecretKey::from_bytes([5; 32]);
        let new = SecretKey::from_bytes([6; 32]);
        let before = regulars_tests::world_with_keys(
            &target.url,
            StoreOptions::default().max_connections(4),
            Some(&SecretKeys::new(old.clone())),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let parsed = parse_do_not_call(&format!("{}\n{}\n", national(7), national(8)));
        before
            .services
            .import_do_not_call(&parsed, false)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let rotated = SecretKeys::new(new).with_previous(vec![old]);
        let after = regulars_tests::world_with_keys(
            &target.url,
            StoreOptions::default().max_connections(4),
            Some(&rotated),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let status = after
            .services
            .do_not_call_status()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (status.numbers, status.under_previous_keys),
            (2, 2),
            "{name}"
        );
        let mut tx = after.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let found = tx
            .do_not_call()
            .do_not_call_listed(&[phone(7), phone(9)])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        drop(tx);
        assert_eq!(found.into_iter().collect::<Vec<_>>(), [phone(7)], "{name}");
        let done = after
            .services
            .import_do_not_call(&parsed, true)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (done.added, done.already, done.removed),
            (0, 2, 0),
            "{name}"
        );
        let status = after
            .services
            .do_not_call_status()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (status.numbers, status.under_previous_keys),
            (2, 0),
            "{name}"
        );
    }
}

/// `regulars dnc import` and `regulars dnc status` as an operator runs them: bad lines
/// named by line number, the counts printed, `--replace` removing what the file no
/// longer lists, and no import without the server key.
#[test]
fn the_command_imports_a_registry_file_and_reports_its_counts() {
    let file = regulars_testkit::SqliteFile::new().unwrap_or_else(|e| panic!("sqlite: {e}"));
    let mut list = file.path().as_os_str().to_owned();
    list.push(".dnc.txt");
    let list = std::path::PathBuf::from(list);
    let key = "05".repeat(32);
    let run = |args: &[&str], with_key: bool| {
        let mut command = std::process::Command::new(crate::reliability::binary());
        command
            .args(args)
            .env("DATABASE_URL", file.url())
            .env_remove("REGULARS_SECRET_KEY")
            .env_remove("REGULARS_CONFIG");
        if with_key {
            command.env("REGULARS_SECRET_KEY", &key);
        }
        let out = command.output().unwrap_or_else(|e| panic!("regulars: {e}"));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, _, err) = run(&["migrate"], true);
    assert!(ok, "{err}");
    let write = |text: String| std::fs::write(&list, text).unwrap_or_else(|e| panic!("{e}"));
    let path = list.to_string_lossy().into_owned();

    write(format!(
        "# registry\n{}\n{}\n0123\n\n{}\n",
        national(1),
        national(2),
        national(1)
    ));
    let (ok, out, err) = run(&["dnc", "import", &path], false);
    assert!(!ok, "imported without a key: {out}");
    assert!(err.contains("REGULARS_SECRET_KEY"), "{err}");
    let (ok, out, err) = run(&["dnc", "import", &path], true);
    assert!(ok, "{err}");
    assert!(err.contains("line 4:"), "{err}");
    assert!(
        out.contains("2 added, 0 already there, 0 removed, 1 bad lines, 1 repeated lines"),
        "{out}"
    );
    write(format!("{}\n{}\n", national(2), national(3)));
    let (ok, out, err) = run(&["dnc", "import", &path, "--replace"], true);
    assert!(ok, "{err}");
    assert!(
        out.contains("1 added, 1 already there, 1 removed, 0 bad lines"),
        "{out}"
    );
    let (ok, out, err) = run(&["dnc", "status"], true);
    assert!(ok, "{err}");
    assert!(out.contains("2 numbers (0 under a previous key)"), "{out}");
}
