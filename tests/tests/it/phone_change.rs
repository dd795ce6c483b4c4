//! A customer's phone number changed, on both databases: by an admin over the API and by
//! the customer from their card page with a code sent to the NEW number. Afterwards the
//! customer is found by the new number and not by the old one, a copy of the database
//! holds neither number, the old number can join as a new customer, a message not yet
//! sent goes to the new number, a number another member has is refused (on the card page
//! only once its code was right) with nothing changed, and a key rotation keeps the new
//! number findable.

use crate::at_rest::{Copyable, NEW, OLD, assert_nothing_shows, lookup, settings, start};
use crate::card_privacy::{Inbox, Phone, card_of, code_for};
use crate::dashboard::shop;
use crate::outbox_fixture::outbox_message;
use crate::server::{TestServer, dbs, spawn_configured};
use regulars_domain::{BrandId, Channel, CustomerId};
use regulars_ports::{OutboxMessage, Route, UnitOfWork};
use regulars_service::{ChannelSenders, DeliveryOptions};
use regulars_store::{SealScope, Store};
use regulars_tests::{ManualClock, phone};
use serde_json::json;
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

/// A transactional SMS to `to` for `customer`, due now.
fn pending_sms(brand: BrandId, customer: &str, to: &str) -> OutboxMessage {
    let customer = Uuid::parse_str(customer).unwrap_or_else(|e| panic!("customer id: {e}"));
    let route = Route {
        channel: Channel::Sms,
        recipient: to.to_owned(),
    };
    OutboxMessage {
        customer_id: Some(CustomerId::from_uuid(customer)),
        phone: Some(to.to_owned()),
        ..outbox_message(
            brand,
            &format!("phone-change:{}", Uuid::now_v7()),
            route,
            "Điểm của bạn đã được cộng",
            OffsetDateTime::now_utc(),
        )
    }
}

async fn queue(store: &Store, message: OutboxMessage) {
    let keyed = regulars::sealing::keyed(store, &settings(OLD, &[]));
    let mut tx = keyed.begin().await.unwrap_or_else(|e| panic!("{e}"));
    tx.outbox()
        .enqueue(&[message])
        .await
        .unwrap_or_else(|e| panic!("enqueue: {e}"));
    tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
}

async fn not_found_by(server: &TestServer, admin: &str, phone: &str, what: &str) {
    server
        .get(
            &format!("/v1/customers/lookup?phone={}", phone.replace('+', "%2B")),
            admin,
        )
        .await
        .expect(404, what);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_changes_a_phone_and_the_old_number_is_free() {
    for db in dbs() {
        let what = |s: &str| format!("{db:?}: {s}");
        let copyable = Copyable::new(db);
        let store = copyable.store().await;
        let server = start(db, &store, OLD, &[]);
        let tenant = server.tenant("Quán Đổi Số").await;
        let admin = tenant.admin.as_str();
        let (old, taken, new) = (
            phone(6_100_001).as_str().to_owned(),
            phone(6_100_002).as_str().to_owned(),
            phone(6_100_003).as_str().to_owned(),
        );
        let lan = server
            .post(
                "/v1/customers",
                admin,
                &json!({"phone": old, "name": "Lan"}),
            )
            .await
            .expect(201, &what("lan"))
            .str("/id");
        let minh = server
            .post("/v1/customers", admin, &json!({"phone": taken}))
            .await
            .expect(201, &what("minh"))
            .str("/id");
        queue(&store, pending_sms(tenant.brand, &lan, &old)).await;
        let path = format!("/v1/customers/{lan}/phone");

        // Bad input names the phone; a till, a viewer and another brand are refused.
        for (body, status) in [
            (json!({"phone": "12ab"}), 422),
            (json!({}), 422),
            (json!({"phone": 912345678}), 400),
            (json!({"phone": null}), 422),
        ] {
            let reply = server.put(&path, admin, &body).await;
            let field = reply.expect_error(status, "invalid", &what(&format!("{body}")));
            assert_eq!(field.as_deref(), Some("phone"), "{db:?}: {body}");
        }
        let other = server.tenant("Quán Khác").await;
        server
            .put(&path, &other.admin, &json!({"phone": new}))
            .await
            .expect_error(404, "not_found", &what("another brand"));
        let pos = server
            .post("/v1/keys", admin, &json!({"role": "pos"}))
            .await
            .expect(201, &what("pos key"))
            .str("/token");
        server
            .put(&path, &pos, &json!({"phone": new}))
            .await
            .expect_error(403, "forbidden", &what("till"));

        // An erased customer has no number to change.
        let gone = server
            .post(
                "/v1/customers",
                admin,
                &json!({"phone": phone(6_100_004).as_str()}),
            )
            .await
            .expect(201, &what("gone"))
            .str("/id");
        server
            .post(&format!("/v1/customers/{gone}/erasure"), admin, &json!({}))
            .await
            .expect(200, &what("erase"));
        server
            .put(
                &format!("/v1/customers/{gone}/phone"),
                admin,
                &json!({"phone": phone(6_100_005).as_str()}),
            )
            .await
            .expect_error(404, "not_found", &what("erased"));
        not_found_by(&server, admin, phone(6_100_005).as_str(), &what("erased")).await;

        // A number another member has: 409, nothing changed.
        let refused = server.put(&path, admin, &json!({"phone": taken})).await;
        let field = refused.expect_error(409, "phone_taken", &what("taken"));
        assert_eq!(field.as_deref(), Some("phone"), "{db:?}");
        assert_eq!(lookup(&server, admin, &old, &what("kept")).await, lan);
        assert_eq!(lookup(&server, admin, &taken, &what("theirs")).await, minh);

        // The change, given in the national form.
        let national = format!("0{}", new.trim_start_matches("+84"));
        let changed = server
            .put(&path, admin, &json!({"phone": national}))
            .await
            .expect(200, &what("change"));
        assert_eq!(changed.str("/phone"), new, "{db:?}: {}", changed.text);
        assert_eq!(changed.str("/name"), "Lan", "{db:?}");
        assert_eq!(lookup(&server, admin, &new, &what("by new")).await, lan);
        not_found_by(&server, admin, &old, &what("by old")).await;
        server
            .put(&path, admin, &json!({"phone": new}))
            .await
            .expect(200, &what("the same number again"));

        // Logged as a request, with the refusal; the change history names the phone.
        let export = server
            .get(&format!("/v1/customers/{lan}/export"), admin)
            .await
            .expect(200, &what("export"));
        let outcomes: Vec<String> = export.json["requests"]
            .as_array()
            .unwrap_or_else(|| panic!("{db:?}: {}", export.text))
            .iter()
            .filter(|r| r["kind"] == "correct_phone")
            .map(|r| r["outcome"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(
            outcomes,
            ["phone_taken", "done", "unchanged"],
            "{db:?}: {}",
            export.text
        );

        // The message not yet sent goes to the new number, never to the old one.
        let inbox = Arc::new(Inbox::default());
        let senders = ChannelSenders::new().with(inbox.clone());
        server
            .services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{db:?}: deliver: {e}"));
        let sent: Vec<String> = inbox
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|m| m.recipient.clone())
            .collect();
        assert_eq!(sent, std::slice::from_ref(&new), "{db:?}");

        // The old number joins again as a new customer.
        let again = server
            .post("/v1/customers", admin, &json!({"phone": old}))
            .await
            .expect(201, &what("old number joins"))
            .str("/id");
        assert_ne!(again, lan, "{db:?}");

        // A copy of the database shows none of the numbers.
        assert_nothing_shows(
            &copyable.copy(),
            &[old.clone(), new.clone(), taken.clone()],
            &[],
            &what("copy"),
        );
        server.stop().await;

        // A key rotation: found by the new number during and after.
        let store = copyable.store().await;
        let server = start(db, &store, NEW, &[OLD]);
        assert_eq!(lookup(&server, admin, &new, &what("during")).await, lan);
        regulars::sealing::keyed(&store, &settings(NEW, &[OLD]))
            .seal_contacts(SealScope::NotCurrent)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: rotate: {e}"));
        server.stop().await;
        let store = copyable.store().await;
        let server = start(db, &store, NEW, &[]);
        assert_eq!(lookup(&server, admin, &new, &what("after")).await, lan);
        assert_eq!(
            lookup(&server, admin, &old, &what("the new member")).await,
            again
        );
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_changes_their_phone_with_a_code_sent_to_the_new_number() {
    for db in dbs() {
        let what = |s: &str| format!("{db:?}: {s}");
        let clock = ManualClock::starting_now();
        let server = spawn_configured(db, |_| {}, clock.clone()).await;
        let a = shop(&server, "Card Phone", 802).await;
        let admin = a.tenant.admin.as_str();
        let inbox = Arc::new(Inbox::default());
        let taken = phone(8_020_777).as_str().to_owned();
        let fresh = phone(8_020_888).as_str().to_owned();
        let other = server
            .post("/v1/customers", admin, &json!({"phone": taken}))
            .await
            .expect(201, &what("other member"))
            .str("/id");
        let card = card_of(&server, &a.pos, &a.customer).await;

        // Signed in by a code to the number on file.
        let mut lan = Phone::new(&server);
        let form = lan.ask_code(&card).await;
        let code = code_for(&server, &inbox, &a.phone).await;
        lan.post(
            &format!("{card}/data/verify"),
            &[("csrf", &form.csrf()), ("code", &code)],
        )
        .await
        .expect(303, &what("signed in"));
        let screens = lan
            .get(&format!("{card}/data"))
            .await
            .expect(200, &what("screens"));
        assert!(screens.text.contains("Đổi số điện thoại"), "{db:?}");
        let csrf = screens.csrf();

        // Without the session's CSRF token: refused.
        lan.post(
            &format!("{card}/data/phone"),
            &[("csrf", "forged"), ("phone", &fresh)],
        )
        .await
        .expect(403, &what("forged"));
        // Not a number, or the number on file: said at once (they reveal no one).
        lan.post(
            &format!("{card}/data/phone"),
            &[("csrf", &csrf), ("phone", "12ab")],
        )
        .await
        .expect(422, &what("not a number"));
        lan.post(
            &format!("{card}/data/phone"),
            &[("csrf", &csrf), ("phone", &a.phone)],
        )
        .await
        .expect(422, &what("own number"));

        // A member's number and a stranger's get the same answer before the code.
        let to_taken = lan
            .post(
                &format!("{card}/data/phone"),
                &[("csrf", &csrf), ("phone", &taken)],
            )
            .await
            .expect(200, &what("code to a member's number"));
        let to_fresh = lan
            .post(
                &format!("{card}/data/phone"),
                &[("csrf", &csrf), ("phone", &fresh)],
            )
            .await
            .expect(200, &what("code to a new number"));
        assert_eq!(
            to_taken.text.replace(&taken, "N"),
            to_fresh.text.replace(&fresh, "N"),
            "{db:?}: the answers differ"
        );

        // The member's number, proved: refused only now, with nothing changed.
        let code = code_for(&server, &inbox, &taken).await;
        let refused = lan
            .post(
                &format!("{card}/data/phone/verify"),
                &[("csrf", &csrf), ("phone", &taken), ("code", &code)],
            )
            .await
            .expect(409, &what("taken after proof"));
        assert!(
            refused.text.contains("thành viên khác"),
            "{db:?}: {}",
            refused.text
        );
        assert_eq!(
            lookup(&server, admin, &a.phone, &what("unchanged")).await,
            a.customer
        );
        assert_eq!(lookup(&server, admin, &taken, &what("theirs")).await, other);

        // A wrong code, then the right one to the new number.
        lan.post(
            &format!("{card}/data/phone/verify"),
            &[("csrf", &csrf), ("phone", &fresh), ("code", "000000")],
        )
        .await
        .expect(422, &what("wrong code"));
        let code = code_for(&server, &inbox, &fresh).await;
        let done = lan
            .post(
                &format!("{card}/data/phone/verify"),
                &[("csrf", &csrf), ("phone", &fresh), ("code", &code)],
            )
            .await
            .expect(200, &what("changed"));
        assert!(done.text.contains(&fresh), "{db:?}: {}", done.text);
        assert_eq!(
            lookup(&server, admin, &fresh, &what("by new")).await,
            a.customer
        );
        not_found_by(&server, admin, &a.phone, &what("by old")).await;
        // Sent again: the number is theirs now, nothing to change.
        lan.post(
            &format!("{card}/data/phone/verify"),
            &[("csrf", &csrf), ("phone", &fresh), ("code", &code)],
        )
        .await
        .expect(422, &what("code used up"));
        // The old number can join as a new customer.
        server
            .post("/v1/customers", admin, &json!({"phone": a.phone}))
            .await
            .expect(201, &what("old number joins"));
        // In English too.
        let english = lan
            .get(&format!("{card}/data?lang=en"))
            .await
            .expect(200, &what("en"));
        assert!(english.text.contains("Change phone number"), "{db:?}");
        server.stop().await;
    }
}
