//! Zalo OA tokens shared through the database: two worker processes (two pools on one
//! database) and a restart keep sending across refreshes, and each single-use refresh
//! token is presented to Zalo exactly once.

use crate::targets;
use regulars_domain::{BrandId, Channel};
use regulars_ports::{MessageSender, OutgoingMessage, TokenAccount, TokenStore};
use regulars_senders::{ZaloCredentials, ZaloSettings, ZaloZns};
use regulars_store::{ContactKey, ContactKeys, Store, StoreOptions};
use regulars_testkit::providers::ZaloZnsStub;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// A new pool on the database, with the server's contact keys: one process.
async fn process_store(url: &str) -> Arc<Store> {
    let store = Store::connect(url, StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    Arc::new(store.with_contact_keys(ContactKeys::new(ContactKey::new("k1", [1; 32], [2; 32]))))
}

/// A worker's Zalo sender, configured as the environment of every process is: with the
/// tokens of the first grant.
fn worker(stub: &ZaloZnsStub, first: &ZaloCredentials, store: Arc<Store>) -> ZaloZns {
    let settings = ZaloSettings {
        api_base: stub.base_url(),
        oauth_base: stub.base_url(),
        timeout: Duration::from_secs(5),
        templates: BTreeMap::new(),
    };
    ZaloZns::new(settings, first.clone())
        .unwrap_or_else(|e| panic!("{e}"))
        .with_token_store(store, None)
}

fn message(key: &str) -> OutgoingMessage {
    OutgoingMessage {
        brand_id: BrandId::from_uuid(uuid::Uuid::now_v7()),
        channel: Channel::Zalo,
        recipient: "+84912345678".to_owned(),
        template: Some("240871".to_owned()),
        subject: None,
        body: "Cảm ơn bạn".to_owned(),
        data: BTreeMap::from([("points".to_owned(), "10".to_owned())]),
        dedupe_key: key.to_owned(),
        promotional: false,
        unsubscribe_url: None,
        open_pixel: None,
    }
}

/// Every refresh token went to Zalo once.
fn assert_each_refresh_token_spent_once(stub: &ZaloZnsStub, name: &str) {
    let presented = stub.presented_refresh_tokens();
    let distinct: BTreeSet<_> = presented.iter().collect();
    assert_eq!(
        distinct.len(),
        presented.len(),
        "{name}: a refresh token was presented twice: {presented:?}"
    );
}

#[tokio::test]
async fn two_workers_and_a_restart_keep_sending_across_refreshes() {
    for target in targets("zalotokens").await {
        let name = target.name;
        let stub = ZaloZnsStub::start().unwrap_or_else(|e| panic!("{e}"));
        let first = ZaloCredentials {
            access_token: stub.access_token(),
            refresh_token: Some(stub.refresh_token()),
            app_id: Some(stub.app_id()),
            secret_key: Some(stub.secret_key()),
        };
        let a = Arc::new(worker(&stub, &first, process_store(&target.url).await));
        let b = Arc::new(worker(&stub, &first, process_store(&target.url).await));
        a.send(&message("a-0"))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        b.send(&message("b-0"))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));

        // A day later the access token has expired; both workers send at once.
        stub.expire_access_token();
        let mut sends = Vec::new();
        for i in 0..6 {
            for (worker, tag) in [(&a, "a"), (&b, "b")] {
                let worker = worker.clone();
                sends.push(tokio::spawn(async move {
                    worker.send(&message(&format!("{tag}-{i}-expired"))).await
                }));
            }
        }
        for send in sends {
            send.await
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert_eq!(
            stub.refresh_count(),
            1,
            "{name}: one refresh for both workers"
        );
        assert_each_refresh_token_spent_once(&stub, name);

        // Both workers restart with the same environment (whose tokens are spent).
        drop((a, b));
        let c = worker(&stub, &first, process_store(&target.url).await);
        c.send(&message("c-0"))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            stub.refresh_count(),
            1,
            "{name}: the stored tokens still work"
        );
        stub.expire_access_token();
        c.send(&message("c-1"))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            stub.refresh_count(),
            2,
            "{name}: the rotated token refreshed"
        );
        assert_each_refresh_token_spent_once(&stub, name);
        assert_eq!(stub.accepted_count(), 2 + 12 + 2, "{name}");

        // At rest the tokens are sealed: a process without the key cannot read them.
        let unkeyed = Store::connect(&target.url, StoreOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let account = TokenAccount {
            brand_id: None,
            provider: "zalo".to_owned(),
            account: stub.app_id(),
        };
        assert!(unkeyed.load(&account).await.is_err(), "{name}: sealed");
        let stored = process_store(&target.url)
            .await
            .load(&account)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("{name}: stored"));
        assert_eq!(stored.tokens.access_token, stub.access_token(), "{name}");
        assert_eq!(
            stored.tokens.refresh_token,
            Some(stub.refresh_token()),
            "{name}"
        );
    }
}

#[tokio::test]
async fn tokens_are_refreshed_ahead_of_expiry_and_a_new_grant_replaces_them() {
    for target in targets("zalotokensahead").await {
        let name = target.name;
        let stub = ZaloZnsStub::start().unwrap_or_else(|e| panic!("{e}"));
        // Zalo's tokens last 25 hours; these 60 seconds, inside the refresh margin.
        stub.set_expires_in(60);
        let first = ZaloCredentials {
            access_token: stub.access_token(),
            refresh_token: Some(stub.refresh_token()),
            app_id: Some(stub.app_id()),
            secret_key: Some(stub.secret_key()),
        };
        let zns = worker(&stub, &first, process_store(&target.url).await);
        zns.refresh()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(stub.refresh_count(), 1, "{name}");
        let sends_before = template_requests(&stub);
        zns.send(&message("ahead"))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(stub.refresh_count(), 2, "{name}: refreshed before sending");
        assert_eq!(
            template_requests(&stub),
            sends_before + 1,
            "{name}: no send met an expired token"
        );

        // The operator grants again (the stored pair is now dead) and restarts with the
        // new pair in the environment: it replaces the stored tokens.
        stub.set_expires_in(90_000);
        stub.grant_again();
        let granted = ZaloCredentials {
            access_token: stub.access_token(),
            refresh_token: Some(stub.refresh_token()),
            ..first.clone()
        };
        let restarted = worker(&stub, &granted, process_store(&target.url).await);
        restarted
            .send(&message("granted"))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            stub.refresh_count(),
            2,
            "{name}: the new grant was used as it is"
        );
        assert_each_refresh_token_spent_once(&stub, name);
    }
}

fn template_requests(stub: &ZaloZnsStub) -> usize {
    stub.requests()
        .iter()
        .filter(|r| r.path == "/message/template")
        .count()
}
