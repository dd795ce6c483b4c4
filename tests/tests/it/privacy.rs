//! Customers' rights on both databases: erasure leaves nothing that identifies the
//! customer in any column of any table, while the books and reports stay exactly as
//! they were and the phone number can join again as a new customer.

use crate::targets;
use regulars_domain::{
    ChangeSource, CustomerId, EventKey, IntegrationId, Phone, Refund, RefundScope,
};
use regulars_loyalty::vouchers::VoucherError;
use regulars_ports::{IntegrationKind, IntegrationRecord, OutboxStatus, UnitOfWork};
use regulars_reports::Interval;
use regulars_service::{
    CampaignAction, ChangeAuthor, ConsentPatch, CustomerInput, LookupError, ManageError,
    RedeemVoucherError,
};
use regulars_tests::{World, order};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::json;
use time::macros::date;
use time::{Duration, OffsetDateTime};

/// The customer to erase, and another with a similar name and number who must stay.
pub(crate) const LAN: (&str, &str) = ("0981000001", "Lan Nguyen");
pub(crate) const OTHER: (&str, &str) = ("0981000010", "Lan Nguyễn");

/// Everything that identifies [`LAN`], in every form it could be stored in: the last
/// nine digits of the number are inside its E.164 (`+84981000001`), bare international
/// (`84981000001`) and national (`0981000001`) forms.
const LAN_TRACES: [&str; 5] = [
    "981000001",
    "lan nguyen",
    "lan.nguyen@example.com",
    "1991-03-17",
    "zalo-lan-7781",
];

pub(crate) fn by() -> ChangeAuthor {
    ChangeAuthor {
        actor: "api-key:test".to_owned(),
        source: ChangeSource::Api,
    }
}

/// Registers a customer with every personal field filled.
pub(crate) async fn register(
    w: &World,
    (phone, name): (&str, &str),
    tag: &str,
    birthday: time::Date,
) -> CustomerId {
    let input = CustomerInput {
        name: Some(name.to_owned()),
        birthday: Some(birthday),
        email: Some(format!("{tag}@example.com")),
        zalo_user_id: Some(format!("zalo-{tag}")),
        consent: ConsentPatch {
            sms: Some(true),
            email: Some(true),
            profiling: Some(true),
            ..ConsentPatch::default()
        },
        notice_version: Some(1),
        consent_source: None,
    };
    // The version the consent names must have been published.
    if w.services.notice(w.brand, Some(1)).await.is_err() {
        let texts = [("vi".to_owned(), "Thông báo xử lý dữ liệu".to_owned())].into();
        w.services
            .publish_notice(w.brand, texts)
            .await
            .unwrap_or_else(|e| panic!("notice: {e}"));
    }
    w.services
        .create_customer(w.brand, phone, input, &by())
        .await
        .unwrap_or_else(|e| panic!("register {name}: {e}"))
        .id
}

/// Two orders of the customer with `phone`, the second refunded in full.
pub(crate) async fn shop(w: &World, phone: &str, tag: &str, now: OffsetDateTime) {
    let phone = Phone::parse(phone, Phone::VIETNAM).unwrap_or_else(|e| panic!("{e}"));
    for (n, hours) in [(1, 5), (2, 4)] {
        let mut o = order(
            w.brand,
            &format!("{tag}-{n}"),
            0,
            now - Duration::hours(hours),
            n,
        );
        o.customer_phone = Some(phone.clone());
        w.services
            .ingest_order(w.brand, o)
            .await
            .unwrap_or_else(|e| panic!("order {tag}-{n}: {e}"));
    }
    let key = |id: String| EventKey::new("pos:generic", &id).unwrap_or_else(|e| panic!("{e}"));
    w.services
        .refund_order(
            w.brand,
            Refund {
                brand_id: w.brand,
                key: key(format!("R-{tag}")),
                order: key(format!("{tag}-2")),
                refunded_at: now - Duration::hours(3),
                scope: RefundScope::Full,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("refund {tag}: {e}"));
}

/// Launches and runs a broadcast whose messages carry the name and a voucher code.
pub(crate) async fn broadcast(w: &World, name: &str) -> u64 {
    let campaign = w
        .services
        .create_campaign(
            w.brand,
            &json!({
                "name": name,
                "trigger": {"type": "broadcast"},
                "offer": {"type": "fixed", "reward": {"reward_id": w.reward.to_string(),
                          "cost": {"amount": "10000", "currency": "VND"}}},
                "template": "{{name}} ơi, {{shop}} tặng bạn mã [{{code}}].",
                "channels": ["sms"],
                "holdout": 0,
                "policy": {},
                "frequency_cap": null
            }),
        )
        .await
        .unwrap_or_else(|e| panic!("campaign: {e}"));
    w.services
        .set_campaign_status(w.brand, campaign.id, CampaignAction::Launch)
        .await
        .unwrap_or_else(|e| panic!("launch: {e}"));
    w.services
        .run_campaigns(w.brand)
        .await
        .unwrap_or_else(|e| panic!("run: {e}"))
        .iter()
        .map(|r| r.messages)
        .sum()
}

/// A POS integration that links code `KH-LAN` to `phone` and holds an order waiting
/// under that code (a webhook that found no link parked it while another linked the
/// code); returns the integration.
async fn waiting_under_a_linked_code(w: &World, phone: &str) -> IntegrationId {
    let phone = Phone::parse(phone, Phone::VIETNAM).unwrap_or_else(|e| panic!("{e}"));
    let now = OffsetDateTime::now_utc();
    let record = IntegrationRecord {
        id: IntegrationId::from_uuid(uuid::Uuid::now_v7()),
        brand_id: w.brand,
        kind: IntegrationKind::Generic,
        label: None,
        sealed_secret: "00ff".into(),
        sealed_access: None,
        created_at: now,
        revoked_at: None,
    };
    let waiting = order(w.brand, "KH-LAN-waiting", 0, now, 1);
    let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    let access = tx.access();
    access
        .insert_integration(&record)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    access
        .link_pos_customer(w.brand, record.id, "KH-LAN", &phone, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    access
        .keep_waiting_order(w.brand, record.id, "KH-LAN", &waiting, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    record.id
}

/// Every column of every table, from the database's own catalog.
async fn columns(db: &DatabaseConnection) -> Vec<(String, String)> {
    let backend = db.get_database_backend();
    let text = |row: &sea_orm::QueryResult, col: &str| {
        row.try_get::<String>("", col)
            .unwrap_or_else(|e| panic!("{col}: {e}"))
    };
    let mut out = Vec::new();
    if backend == DbBackend::Postgres {
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT table_name::text AS t, column_name::text AS c \
                 FROM information_schema.columns WHERE table_schema = current_schema()",
            ))
            .await
            .unwrap_or_else(|e| panic!("catalog: {e}"));
        for row in rows {
            out.push((text(&row, "t"), text(&row, "c")));
        }
    } else {
        let tables = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            ))
            .await
            .unwrap_or_else(|e| panic!("catalog: {e}"));
        for table in tables {
            let table = text(&table, "name");
            let cols = db
                .query_all_raw(Statement::from_string(
                    backend,
                    format!("SELECT name FROM pragma_table_info('{table}')"),
                ))
                .await
                .unwrap_or_else(|e| panic!("columns of {table}: {e}"));
            for col in cols {
                out.push((table.clone(), text(&col, "name")));
            }
        }
    }
    assert!(out.len() > 100, "the catalog lists every column: {out:?}");
    out
}

/// The `(table, column)`s holding `needle` anywhere in their text, case-insensitively.
pub(crate) async fn found(db: &DatabaseConnection, needle: &str) -> Vec<(String, String)> {
    let backend = db.get_database_backend();
    let mut hits = Vec::new();
    for (table, column) in columns(db).await {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM \"{table}\" \
             WHERE LOWER(CAST(\"{column}\" AS TEXT)) LIKE '%{}%'",
            needle.to_lowercase().replace('\'', "''")
        );
        let row = db
            .query_one_raw(Statement::from_string(backend, sql))
            .await
            .unwrap_or_else(|e| panic!("scan {table}.{column}: {e}"))
            .unwrap_or_else(|| panic!("no count for {table}.{column}"));
        let n: i64 = row.try_get("", "n").unwrap_or_else(|e| panic!("{e}"));
        if n > 0 {
            hits.push((table, column));
        }
    }
    hits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_leaves_no_trace_and_the_books_unchanged() {
    for target in targets("erasure").await {
        let (w, name) = (&target.world, target.name);
        let db = Database::connect(&target.url)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        w.services
            .set_messaging_policy(w.brand, regulars_campaigns::Policy::unrestricted())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let now = OffsetDateTime::now_utc();
        let lan = register(w, LAN, "lan.nguyen", date!(1991 - 03 - 17)).await;
        register(w, OTHER, "lan.nguyen2", date!(1992 - 04 - 18)).await;
        shop(w, LAN.0, "L", now).await;
        shop(w, OTHER.0, "O", now).await;
        w.services
            .patch_customer(
                w.brand,
                lan,
                regulars_service::CustomerPatch {
                    zalo_user_id: Some(Some("zalo-lan-7781".into())),
                    ..Default::default()
                },
                &by(),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(broadcast(w, "Khai trương").await, 2, "{name}");
        for trace in LAN_TRACES {
            assert!(
                !found(&db, trace).await.is_empty(),
                "{name}: {trace} stored"
            );
        }
        let overview = || async {
            w.services
                .report_overview(w.brand, None, None, Interval::Day)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        let before = overview().await;
        let integration = waiting_under_a_linked_code(w, LAN.0).await;
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let vouchers = tx
            .vouchers()
            .vouchers_of(w.brand, lan)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        drop(tx);
        assert_eq!(vouchers.len(), 1, "{name}: the broadcast's voucher");

        let report = w
            .services
            .erase_customer(w.brand, lan, "api-key:test")
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.counts.orders, 2, "{name}: {report:?}");
        assert_eq!(report.counts.messages, 1, "{name}: {report:?}");
        assert_eq!(report.counts.messages_cancelled, 1, "{name}: {report:?}");
        assert_eq!(report.counts.pos_links, 1, "{name}: {report:?}");
        assert_eq!(report.counts.pos_waiting_orders, 1, "{name}: {report:?}");
        assert_eq!(report.counts.vouchers_voided, 1, "{name}: {report:?}");

        // The voucher's code no longer redeems: a code is a bearer token.
        for voucher in &vouchers {
            let redeemed = w
                .services
                .redeem_voucher(w.brand, voucher.code().as_str(), None)
                .await;
            assert!(
                matches!(
                    &redeemed,
                    Err(RedeemVoucherError::Refused {
                        reason: VoucherError::Voided { .. },
                        ..
                    })
                ),
                "{name}: {redeemed:?}"
            );
        }
        // Nothing waits any more under the POS code that named the customer.
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let waiting = tx
            .access()
            .take_waiting_orders(w.brand, integration, "KH-LAN")
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        drop(tx);
        assert_eq!(waiting, vec![], "{name}");
        assert_eq!(report.deadline_at - report.erased_at, Duration::hours(72));

        for trace in LAN_TRACES {
            let hits = found(&db, trace).await;
            assert!(hits.is_empty(), "{name}: {trace} still in {hits:?}");
        }
        // The other customer, similar in name and number, is untouched.
        assert!(!found(&db, "981000010").await.is_empty(), "{name}");
        assert!(!found(&db, "lan nguyễn").await.is_empty(), "{name}");

        // The books and the reports are exactly as before.
        let ledger = w
            .services
            .check_ledger(Some(w.brand))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            ledger.mismatches.is_empty() && ledger.invalid.is_empty(),
            "{name}: {ledger:?}"
        );
        assert_eq!(ledger.accounts_checked, 2, "{name}");
        assert_eq!(overview().await.1, before.1, "{name}");

        // Erased is gone: by id, by phone, a second time, and from campaigns.
        let view = w.services.customer_view(w.brand, lan).await;
        assert!(
            matches!(view, Err(LookupError::UnknownCustomer(_))),
            "{name}: {view:?}"
        );
        let lookup = w.services.customer_lookup(w.brand, LAN.0).await;
        assert!(
            matches!(lookup, Err(LookupError::UnknownPhone(_))),
            "{name}: {lookup:?}"
        );
        let again = w
            .services
            .erase_customer(w.brand, lan, "api-key:test")
            .await;
        assert!(
            matches!(again, Err(ManageError::NotFound { .. })),
            "{name}: {again:?}"
        );
        assert_eq!(
            broadcast(w, "Lần hai").await,
            1,
            "{name}: only the other customer"
        );

        // The other customer's message still waits to go out; Lan's was cancelled.
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let counts = tx
            .outbox()
            .counts(w.brand, None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        drop(tx);
        assert_eq!(
            counts.get(&OutboxStatus::Cancelled),
            Some(&1),
            "{name}: {counts:?}"
        );
        assert_eq!(
            counts.get(&OutboxStatus::Pending),
            Some(&2),
            "{name}: {counts:?}"
        );

        // The number joins again as a new customer.
        let back = register(w, LAN, "lan.back", date!(1991 - 03 - 17)).await;
        assert_ne!(back, lan, "{name}");
        db.close().await.unwrap_or_else(|e| panic!("{e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_and_erasure_over_http_are_an_admins_and_answer_404_after() {
    use crate::server::{dbs, spawn};
    for db in dbs() {
        let server = spawn(db).await;
        let admin = server.tenant("Rights").await.admin;
        let pos = server
            .post("/v1/keys", &admin, &json!({"role": "pos"}))
            .await
            .expect(201, "pos key")
            .str("/token");
        let customer = server
            .post(
                "/v1/customers",
                &admin,
                &json!({"phone": LAN.0, "name": LAN.1, "email": "lan@example.com"}),
            )
            .await
            .expect(201, "register")
            .str("/id");
        let reward = server
            .post(
                "/v1/rewards",
                &admin,
                &json!({"name": "Free topping", "cost": 10,
                        "kind": {"type": "free_modifier", "sku": "TOP-CHEESE"}, "validity_days": 30}),
            )
            .await
            .expect(201, "reward")
            .str("/id");
        server
            .post(
                &format!("/v1/customers/{customer}/adjustments"),
                &admin,
                &json!({"points": 100, "reason": "opening balance"}),
            )
            .await
            .expect(201, "adjustment");
        let voucher = server
            .post(
                &format!("/v1/customers/{customer}/redemptions"),
                &admin,
                &json!({"reward_id": reward}),
            )
            .await
            .expect(201, "voucher")
            .str("/code");
        let export = format!("/v1/customers/{customer}/export");
        let json = server.get(&export, &admin).await.expect(200, "export");
        assert_eq!(json.str("/customer/id"), customer, "{db:?}");
        assert_eq!(json.str("/customer/name"), LAN.1, "{db:?}");
        let csv = server
            .get(&format!("{export}?format=csv"), &admin)
            .await
            .expect(200, "csv");
        assert!(
            csv.text.starts_with("section,record,field,value\r\n"),
            "{db:?}"
        );
        assert!(
            csv.text.contains(&format!("customer,,name,{}", LAN.1)),
            "{}",
            csv.text
        );
        // Both downloads are in the access log, with every part of the data.
        let log = server
            .get(&format!("/v1/audit/access?customer_id={customer}"), &admin)
            .await
            .expect(200, "access log");
        let exports = log.json["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter(|r| r["route"] == "GET /v1/customers/{id}/export")
                    .filter(|r| r["fields"].to_string().contains("export"))
                    .count()
            })
            .unwrap_or_default();
        assert_eq!(exports, 2, "{db:?}: {}", log.text);
        server
            .get(&format!("{export}?format=xml"), &admin)
            .await
            .expect_error(400, "invalid", &format!("{db:?}: format"));
        server.get(&export, &pos).await.expect_error(
            403,
            "forbidden",
            &format!("{db:?}: till exports"),
        );
        let path = format!("/v1/customers/{customer}/erasure");
        server.post(&path, &pos, &json!({})).await.expect_error(
            403,
            "forbidden",
            &format!("{db:?}: till erases"),
        );
        let done = server
            .post(&path, &admin, &json!({}))
            .await
            .expect(200, &format!("{db:?}: erase"));
        assert_eq!(done.str("/customer_id"), customer, "{db:?}");
        assert_eq!(done.json["vouchers_voided"], 1, "{db:?}: {}", done.text);
        let refused = server
            .post(&format!("/v1/vouchers/{voucher}/redeem"), &pos, &json!({}))
            .await;
        refused.expect_error(409, "refused", &format!("{db:?}: voucher after erasure"));
        assert!(refused.text.contains("voided"), "{db:?}: {}", refused.text);
        server
            .get(&format!("/v1/customers/{customer}"), &admin)
            .await
            .expect_error(404, "not_found", &format!("{db:?}: profile"));
        server
            .get(&format!("/v1/customers/lookup?phone={}", LAN.0), &pos)
            .await
            .expect_error(404, "not_found", &format!("{db:?}: lookup"));
        server.post(&path, &admin, &json!({})).await.expect_error(
            404,
            "not_found",
            &format!("{db:?}: erased twice"),
        );
        server.get(&export, &admin).await.expect_error(
            404,
            "not_found",
            &format!("{db:?}: export after erasure"),
        );
        let listed = server
            .get("/v1/customers", &admin)
            .await
            .expect(200, "list");
        assert!(!listed.text.contains(&customer), "{db:?}: {}", listed.text);
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_holds_every_record_of_the_customer_and_nothing_of_another() {
    for target in targets("export").await {
        let (w, name) = (&target.world, target.name);
        w.services
            .set_messaging_policy(w.brand, regulars_campaigns::Policy::unrestricted())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let now = OffsetDateTime::now_utc();
        let lan = register(w, LAN, "lan.nguyen", date!(1991 - 03 - 17)).await;
        let other = register(w, OTHER, "lan.nguyen2", date!(1992 - 04 - 18)).await;
        shop(w, LAN.0, "L", now).await;
        shop(w, OTHER.0, "O", now).await;
        assert_eq!(broadcast(w, "Khai trương").await, 2, "{name}");

        let export = w
            .services
            .export_customer(w.brand, lan, "api-key:test")
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(export.customer.id, lan, "{name}");
        let ids: Vec<&str> = export
            .orders
            .iter()
            .map(|o| o.order.key.external_id.as_str())
            .collect();
        assert_eq!(ids, ["L-1", "L-2"], "{name}");
        assert!(export.orders.iter().all(|o| o.customer_id == Some(lan)));
        assert!(!export.orders[1].refunded.is_zero(), "{name}: the refund");
        let ledger = w
            .services
            .customer_ledger(w.brand, lan, None, 500)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(export.ledger, ledger, "{name}: every ledger entry");
        assert!(export.ledger.len() >= 3, "{name}: earn, earn, reversal");
        assert_eq!(export.vouchers.len(), 1, "{name}");
        assert!(export.vouchers.iter().all(|v| v.customer() == lan));
        assert_eq!(export.messages.len(), 1, "{name}");
        assert!(export.messages.iter().all(|m| m.customer_id == Some(lan)));
        assert!(export.messages[0].body.contains(LAN.1), "{name}: the body");
        assert!(!export.changes.is_empty(), "{name}: the registration");
        assert!(export.changes.iter().all(|c| c.customer_id == lan));
        // The consents given at registration (SMS, email, profiling), with their notice.
        assert_eq!(export.consents.len(), 3, "{name}: {:?}", export.consents);
        assert!(
            export
                .consents
                .iter()
                .all(|c| c.customer_id == lan && c.notice_version == Some(1))
        );
        assert_eq!(export.requests.len(), 1, "{name}: this export, logged");

        // Nothing of the other customer, whose name and number are so alike.
        let other_vouchers = w
            .services
            .customer_view(w.brand, other)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .vouchers;
        let text = format!("{export:?}");
        let mut theirs = vec![
            "981000010".to_owned(),
            OTHER.1.to_owned(),
            "lan.nguyen2".to_owned(),
            other.to_string(),
            "\"O-1\"".to_owned(),
            "\"O-2\"".to_owned(),
        ];
        theirs.extend(other_vouchers.iter().map(|v| v.code().to_string()));
        for trace in &theirs {
            assert!(
                !text.contains(trace.as_str()),
                "{name}: export shows {trace}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deidentifies_the_inactive_and_purges_old_bodies() {
    use regulars_ports::RetentionPolicy;
    use std::sync::Arc;
    for target in targets("retention").await {
        let (w, name) = (&target.world, target.name);
        let db = Database::connect(&target.url)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        w.services
            .set_messaging_policy(w.brand, regulars_campaigns::Policy::unrestricted())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let now = OffsetDateTime::now_utc();
        let lan = register(w, LAN, "lan.nguyen", date!(1991 - 03 - 17)).await;
        let other = register(w, OTHER, "lan.nguyen2", date!(1992 - 04 - 18)).await;
        shop(w, LAN.0, "L", now).await;
        shop(w, OTHER.0, "O", now).await;
        assert_eq!(broadcast(w, "Khai trương").await, 2, "{name}");
        let sent = OffsetDateTime::now_utc() + Duration::minutes(1);
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let claimed = tx
            .outbox()
            .claim_due(sent, sent + Duration::minutes(5), 10)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(claimed.len(), 2, "{name}");
        for m in &claimed {
            tx.outbox()
                .mark_sent(m, &format!("pid-{}", m.id), sent)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
        let policy = RetentionPolicy {
            inactive_customer_months: Some(12),
            message_body_days: Some(30),
        };
        w.services
            .set_retention_policy(w.brand, policy)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));

        // Today nobody is inactive and every body is recent.
        let today = w
            .services
            .apply_retention(w.brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (today.customers_erased, today.message_bodies_purged),
            (0, 0),
            "{name}"
        );

        // 400 days on, the other customer came back yesterday; Lan never did.
        let later = regulars_service::Services::new(
            w.store.clone(),
            regulars_tests::ManualClock::at(now + Duration::days(400)),
            Arc::new(regulars::system::OsIdGen),
        );
        let mut back = order(w.brand, "O-3", 0, now + Duration::days(399), 1);
        back.customer_phone =
            Some(Phone::parse(OTHER.0, Phone::VIETNAM).unwrap_or_else(|e| panic!("{e}")));
        later
            .ingest_order(w.brand, back)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let report = later
            .apply_retention(w.brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.customers_erased, 1, "{name}: {report:?}");
        assert_eq!(report.message_bodies_purged, 2, "{name}: {report:?}");
        let again = later
            .apply_retention(w.brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (again.customers_erased, again.message_bodies_purged),
            (0, 0),
            "{name}: nothing twice"
        );

        let gone = later.customer_view(w.brand, lan).await;
        assert!(
            matches!(gone, Err(LookupError::UnknownCustomer(_))),
            "{name}: {gone:?}"
        );
        for trace in LAN_TRACES {
            let hits = found(&db, trace).await;
            assert!(hits.is_empty(), "{name}: {trace} still in {hits:?}");
        }
        // The active customer keeps everything but the old message's body.
        let kept = later
            .customer_view(w.brand, other)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(kept.customer.name.as_deref(), Some(OTHER.1), "{name}");
        let hits = found(&db, "lan nguyễn").await;
        assert_eq!(
            hits,
            [("customers".to_owned(), "name".to_owned())],
            "{name}"
        );
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let messages = tx
            .outbox()
            .messages(w.brand, None, None, 10)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        drop(tx);
        assert!(
            messages.iter().all(|m| m.body.is_empty()),
            "{name}: {messages:?}"
        );
        assert!(
            messages
                .iter()
                .all(|m| m.status == OutboxStatus::Sent && m.sent_at.is_some()),
            "{name}: status and times stay"
        );
        let logged = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM privacy_requests WHERE kind = 'retention'",
            ))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .and_then(|row| row.try_get::<i64>("", "n").ok());
        assert_eq!(logged, Some(1), "{name}");
        db.close().await.unwrap_or_else(|e| panic!("{e}"));
    }
}
