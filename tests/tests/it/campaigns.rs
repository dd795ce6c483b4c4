//! The win-back campaign over HTTP, on data whose answer is worked out here by hand: a
//! scoring run puts a known group of lapsed regulars in a custom segment, an `overdue`
//! campaign reaches the consented ones but its hold-out group, each message carries its
//! voucher's code, a second run sends nothing new, and after some customers come back the
//! report's money adds up to what the orders say. Then the life cycle, roles, bad
//! documents and unknown ids.

use crate::pos::{order_data, rfc3339};
use crate::server::{TestServer, dbs, spawn};
use regulars_tests::phone;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Come every 6 days, the last time 2 days ago: not overdue.
const REGULARS: u64 = 8;
/// Came 6 times, every 6 days, 156 to 126 days ago: overdue and in the segment.
const LAPSED: u64 = 24;
/// Of the lapsed, this many (the first ones) consent to SMS; the others to nothing.
const CONSENTED: u64 = 18;
/// Came 3 times, every 6 days, 100 to 88 days ago: overdue, too few visits for the segment.
const FEW: u64 = 4;
/// Came once, 45 days ago: no usual gap, so never overdue.
const ONCE: u64 = 4;
const CUSTOMERS: u64 = REGULARS + LAPSED + FEW + ONCE;
const SEGMENT: &str = "Lapsed regulars";
const HOLDOUT: f64 = 0.4;
/// What one redeemed voucher costs the shop, in đồng.
const OFFER_COST: i64 = 18_000;
const GROSS_MARGIN: f64 = 0.65;
const Z_95: f64 = 1.959_963_984_540_054;
/// Phone numbers of this test's customers start here.
const PHONES: u64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Regular,
    Lapsed { consent: bool },
    Few,
    Once,
}

fn group_of(i: u64) -> Group {
    match i {
        i if i < REGULARS => Group::Regular,
        i if i < REGULARS + LAPSED => Group::Lapsed {
            consent: i - REGULARS < CONSENTED,
        },
        i if i < REGULARS + LAPSED + FEW => Group::Few,
        _ => Group::Once,
    }
}

/// Visit times of customer `i` (oldest last is fine: the server sorts).
fn visits(i: u64, now: OffsetDateTime) -> Vec<OffsetDateTime> {
    let every = |from: i64, n: i64| -> Vec<OffsetDateTime> {
        (0..n)
            .map(|k| now - Duration::days(from + 6 * k) - Duration::hours((i % 5) as i64))
            .collect()
    };
    match group_of(i) {
        Group::Regular => every(2, 6),
        Group::Lapsed { .. } => every(126, 6),
        Group::Few => every(88, 3),
        Group::Once => every(45, 1),
    }
}

/// The hold-out draw as `docs/campaigns.md` specifies it, written out again: FNV-1a over
/// the parts (each followed by 0xff), the SplitMix64 finaliser, the top 53 bits as a
/// fraction of one.
fn held_out(campaign: &str, customer: &str, fraction: f64) -> bool {
    let bytes = |s: &str| {
        Uuid::parse_str(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .as_bytes()
            .to_vec()
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [b"holdout".to_vec(), bytes(campaign), bytes(customer)] {
        for b in part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    ((h >> 11) as f64 / (1u64 << 53) as f64) < fraction
}

fn campaign_document(reward: &str) -> Value {
    json!({
        "name": "Win back lapsed regulars",
        "trigger": {"type": "overdue", "factor": 1.5},
        "audience": {"segment": SEGMENT},
        "offer": {"type": "fixed",
                  "reward": {"reward_id": reward, "cost": {"amount": OFFER_COST.to_string(), "currency": "VND"}}},
        "template": "{{name}} ơi, {{shop}} nhớ bạn! Mã [{{code}}]: {{reward}}, dùng đến {{expiry_date}}.",
        "channels": ["sms"],
        "holdout": HOLDOUT,
        "policy": {}
    })
}

/// The voucher code between the brackets of the template.
fn code_in(body: &str) -> String {
    let start = body
        .find('[')
        .unwrap_or_else(|| panic!("no code in {body}"));
    let end = body[start..]
        .find(']')
        .map(|e| start + e)
        .unwrap_or_else(|| panic!("no code in {body}"));
    body[start + 1..end].to_owned()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

#[track_caller]
fn assert_close(found: &Value, expected: f64, what: &str) {
    let x = found
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {found}"));
    assert!(close(x, expected), "{what}: {x} ≠ {expected}");
}

/// The skipped counts of a run report, without zeros.
fn skipped(report: &Value) -> BTreeMap<String, u64> {
    report["skipped"]
        .as_object()
        .unwrap_or_else(|| panic!("no skipped in {report}"))
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(u64::MAX)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| ((*k).to_owned(), *n))
        .collect()
}

/// An order of a customer who comes back, with the voucher it redeems and whether it is
/// then refunded in full.
struct Return {
    data: Value,
    voucher: Option<String>,
    refunded: bool,
}

impl Return {
    fn plain(data: Value) -> Return {
        Return {
            data,
            voucher: None,
            refunded: false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn win_back_over_http_messages_the_lapsed_and_reports_what_they_brought() {
    for db in dbs() {
        win_back(spawn(db).await).await;
    }
}

async fn win_back(server: TestServer) {
    let db = server.db;
    let what = |s: &str| format!("{db:?}: {s}");
    let tenant = server.tenant("Trà Sữa Mây").await;
    let admin = tenant.admin.as_str();
    server.unrestricted(admin).await;
    let rules: Value =
        serde_json::from_str(regulars_tests::RULES).unwrap_or_else(|e| panic!("{e}"));
    server
        .put("/v1/program/earning-rules", admin, &rules)
        .await
        .expect(200, "rules");
    server
        .post(
            "/v1/locations",
            admin,
            &json!({"code": "q1", "name": "Quận 1"}),
        )
        .await
        .expect(201, "location");
    let reward = server
        .post(
            "/v1/rewards",
            admin,
            &json!({"name": "Trà sữa ô long miễn phí", "cost": 300,
                    "kind": {"type": "free_item", "sku": "TS-OOLONG"}, "validity_days": 14}),
        )
        .await
        .expect(201, "reward")
        .str("/id");
    let till = server
        .post("/v1/keys", admin, &json!({"role": "pos", "label": "till"}))
        .await
        .expect(201, "pos key")
        .str("/token");
    let viewer = server
        .post("/v1/keys", admin, &json!({"role": "viewer"}))
        .await
        .expect(201, "viewer key")
        .str("/token");

    // The history: every customer's visits, through the till.
    let now = OffsetDateTime::now_utc();
    let mut ids: Vec<String> = Vec::new();
    for i in 0..CUSTOMERS {
        let phone_text = phone(PHONES + i).as_str().to_owned();
        let mut id = None;
        for (k, at) in visits(i, now).into_iter().enumerate() {
            let receipt = server
                .post(
                    "/v1/orders",
                    &till,
                    &order_data(&format!("H-{i}-{k}"), Some(&phone_text), at, 1 + k % 3),
                )
                .await
                .expect(200, "history order");
            let customer = receipt.str("/customer_id");
            assert_eq!(*id.get_or_insert_with(|| customer.clone()), customer);
        }
        let id = id.unwrap_or_else(|| panic!("customer {i} has no order"));
        // Everyone allows profiling (the campaign targets a segment); the lapsed answer
        // about SMS.
        let consent = match group_of(i) {
            Group::Lapsed { consent } => json!({"sms": consent, "profiling": true}),
            _ => json!({"profiling": true}),
        };
        server
            .call(
                reqwest::Method::PATCH,
                &format!("/v1/customers/{id}"),
                Some(admin),
                crate::server::Body::Json(
                    &json!({"name": format!("Khách {i}"), "consent": consent}),
                ),
            )
            .await
            .expect(200, "consent");
        ids.push(id);
    }
    let segment = server
        .post(
            "/v1/segments",
            admin,
            &json!({"name": SEGMENT, "rule": "recency_days > 60 and frequency >= 5"}),
        )
        .await
        .expect(201, "segment")
        .str("/id");
    server.score(admin).await;
    let counted = server
        .get(&format!("/v1/segments/{segment}"), admin)
        .await
        .expect(200, "segment");
    assert_eq!(
        counted.json["live_count"],
        LAPSED,
        "{}",
        what(&counted.text)
    );

    // A campaign whose hold-out draw leaves both groups big enough to compare (the id
    // is the server's, so an unlucky draw is ended and another made).
    let document = campaign_document(&reward);
    let consented: Vec<&String> = (0..CUSTOMERS)
        .filter(|i| group_of(*i) == Group::Lapsed { consent: true })
        .map(|i| &ids[i as usize])
        .collect();
    let mut ended = Vec::new();
    let (campaign, treated, held) = loop {
        assert!(ended.len() < 10, "{}", what("ten unlucky draws in a row"));
        let created = server
            .post("/v1/campaigns", admin, &document)
            .await
            .expect(201, "create campaign");
        let id = created.str("/id");
        assert_eq!(created.str("/status"), "draft");
        let definition = &created.json["definition"];
        assert_eq!(definition["id"], id.as_str(), "{}", created.text);
        assert_eq!(definition["shop"], "Trà Sữa Mây");
        assert_eq!(definition["currency"], "VND");
        assert_eq!(definition["utc_offset"], "+07:00");
        assert_eq!(
            definition["offer"]["reward"]["reward"]["id"],
            reward.as_str()
        );
        assert_eq!(definition["offer"]["reward"]["reward"]["validity_days"], 14);
        let (held, treated): (Vec<&String>, Vec<&String>) = consented
            .iter()
            .copied()
            .partition(|c| held_out(&id, c, HOLDOUT));
        if held.len() >= 3 && treated.len() >= 4 {
            let treated: BTreeSet<String> = treated.into_iter().cloned().collect();
            let held: BTreeSet<String> = held.into_iter().cloned().collect();
            break (id, treated, held);
        }
        server
            .post(&format!("/v1/campaigns/{id}/end"), admin, &json!({}))
            .await
            .expect(200, "end");
        ended.push(id);
    };
    let (t, h) = (treated.len() as u64, held.len() as u64);
    let no_channel = LAPSED - CONSENTED;
    let first_run = counts(&[
        ("not_triggered", REGULARS + ONCE),
        ("not_in_audience", FEW),
        ("no_channel", no_channel),
        ("hold_out", h),
    ]);

    // The preview says what a run would do, and does nothing.
    // Previews plan the whole customer base: admins only.
    server
        .post(
            &format!("/v1/campaigns/{campaign}/preview"),
            &viewer,
            &json!({}),
        )
        .await
        .expect_error(403, "forbidden", "a viewer's preview");
    let preview = server
        .post(
            &format!("/v1/campaigns/{campaign}/preview"),
            admin,
            &json!({}),
        )
        .await
        .expect(200, "preview");
    let p = &preview.json;
    assert_eq!(p["campaign_id"], campaign.as_str());
    assert_eq!(p["customers"], CUSTOMERS, "{}", what(&preview.text));
    assert_eq!(p["messages"], t, "{}", what(&preview.text));
    assert_eq!(p["vouchers"], t, "{}", what(&preview.text));
    assert_eq!(p["held_out"], h, "{}", what(&preview.text));
    assert_eq!(skipped(p), first_run, "{}", what(&preview.text));
    // The budget counts every offer given, redeemed or not.
    assert_eq!(p["budget_used_minor"], t as i64 * OFFER_COST);
    let nothing = server
        .get(&format!("/v1/campaigns/{campaign}/messages"), admin)
        .await
        .expect(200, "messages before launch");
    assert_eq!(
        nothing.json["items"],
        json!([]),
        "{}",
        what("preview wrote")
    );
    // A draft is not run.
    let idle = server
        .post("/v1/campaigns/runs", admin, &json!({}))
        .await
        .expect(201, "run with no active campaign");
    assert_eq!(idle.json, json!([]), "{}", what(&idle.text));

    let launched = server
        .post(
            &format!("/v1/campaigns/{campaign}/launch"),
            admin,
            &json!({}),
        )
        .await
        .expect(200, "launch");
    assert_eq!(launched.str("/status"), "active");

    // The run: one outcome per customer, each skip with its reason.
    let runs = server
        .post("/v1/campaigns/runs", admin, &json!({}))
        .await
        .expect(201, "run");
    let reports = runs
        .json
        .as_array()
        .unwrap_or_else(|| panic!("{}", runs.text));
    assert_eq!(
        reports.len(),
        1,
        "{}",
        what("only the active campaign runs")
    );
    let r = &reports[0];
    assert_eq!(r["campaign_id"], campaign.as_str());
    assert_eq!(r["customers"], CUSTOMERS, "{}", what(&runs.text));
    assert_eq!(r["messages"], t, "{}", what(&runs.text));
    assert_eq!(r["vouchers"], t, "{}", what(&runs.text));
    assert_eq!(r["held_out"], h, "{}", what(&runs.text));
    assert_eq!(skipped(r), first_run, "{}", what(&runs.text));
    assert_eq!(r["budget_used_minor"], t as i64 * OFFER_COST);
    let outcomes: u64 = r["messages"].as_u64().unwrap_or(0) + skipped(r).values().sum::<u64>();
    assert_eq!(
        outcomes,
        CUSTOMERS,
        "{}",
        what("every customer has an outcome")
    );

    // Each message: to a treated customer, by SMS, with their voucher's code.
    let messages = server
        .walk(
            &format!("/v1/campaigns/{campaign}/messages"),
            &viewer,
            5,
            "id",
        )
        .await;
    let mut codes: BTreeMap<String, String> = BTreeMap::new();
    for m in &messages {
        let customer = m["customer_id"].as_str().unwrap_or_default().to_owned();
        assert!(treated.contains(&customer), "{}", what(&m.to_string()));
        let i = ids
            .iter()
            .position(|c| *c == customer)
            .unwrap_or_else(|| panic!("unknown customer {customer}"));
        assert_eq!(m["channel"], "sms");
        // A viewer sees the recipient partly hidden and the code masked: a message list
        // is no place to collect codes.
        assert_eq!(
            m["recipient"],
            phone(PHONES + i as u64).partly_hidden().as_str()
        );
        assert_eq!(m["promotional"], true);
        assert_eq!(m["status"], "pending");
        assert_eq!(m["attempts"], 0);
        let body = m["body"].as_str().unwrap_or_default();
        assert!(
            body.starts_with(&format!("Khách {i} ơi, Trà Sữa Mây nhớ bạn! Mã [")),
            "{}",
            what(body)
        );
        assert!(
            body.contains("]: Trà sữa ô long miễn phí, dùng đến "),
            "{body}"
        );
        assert!(!body.contains("{{"), "{}", what(body));
        let masked = code_in(body);
        let profile = server
            .get(&format!("/v1/customers/{customer}"), admin)
            .await
            .expect(200, "the treated customer's profile");
        let code = profile.str("/vouchers/0/code");
        assert_eq!(
            masked,
            regulars_loyalty::vouchers::masked_code(&code),
            "{}",
            what(body)
        );
        assert!(!body.contains(&code), "{}", what(body));
        let check = server
            .get(&format!("/v1/vouchers/{code}"), &viewer)
            .await
            .expect(200, "the message's voucher");
        let v = &check.json["voucher"];
        assert_eq!(v["customer_id"], customer.as_str(), "{}", check.text);
        assert_eq!(v["reward_id"], reward.as_str());
        assert_eq!(v["status"], "issued");
        assert!(
            v["source"].to_string().contains(&campaign),
            "{}",
            check.text
        );
        assert_eq!(check.json["redeemable"], true, "{}", check.text);
        assert!(
            codes.insert(customer, code).is_none(),
            "{}",
            what("one message per customer")
        );
    }
    assert_eq!(
        codes.keys().cloned().collect::<BTreeSet<_>>(),
        treated,
        "{}",
        what("the treated, exactly")
    );

    // Nobody else got a voucher: the hold-out group, the unconsented, everyone else.
    for (i, id) in ids.iter().enumerate() {
        let profile = server
            .get(&format!("/v1/customers/{id}"), admin)
            .await
            .expect(200, "profile");
        let vouchers = profile.json["vouchers"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", profile.text));
        let expected = usize::from(treated.contains(id));
        assert_eq!(
            vouchers.len(),
            expected,
            "{}",
            what(&format!("customer {i} ({:?})", group_of(i as u64)))
        );
    }

    // A second run sends nothing new.
    let again = server
        .post("/v1/campaigns/runs", admin, &json!({}))
        .await
        .expect(201, "second run");
    let r = &again.json[0];
    assert_eq!(r["messages"], 0, "{}", what(&again.text));
    assert_eq!(r["vouchers"], 0, "{}", what(&again.text));
    assert_eq!(r["held_out"], 0, "{}", what("nobody is newly held out"));
    assert_eq!(r["budget_used_minor"], t as i64 * OFFER_COST);
    assert_eq!(
        skipped(r),
        counts(&[
            ("not_triggered", REGULARS + ONCE),
            ("not_in_audience", FEW),
            ("already_sent", t),
            ("no_channel", no_channel),
            ("hold_out", h),
        ]),
        "{}",
        what(&again.text)
    );
    let still = server
        .walk(
            &format!("/v1/campaigns/{campaign}/messages"),
            admin,
            50,
            "id",
        )
        .await;
    assert_eq!(still.len() as u64, t);

    // Some come back. Treated: the first two redeem their voucher on an order, the third
    // buys without it and the fourth buys and has the order refunded in full; the rest
    // stay away. Hold-out: the first buys, the second twice, the rest stay away. A regular
    // and an unconsented lapsed customer buy too; they are in neither group.
    let treated_list: Vec<&String> = treated.iter().collect();
    let held_list: Vec<&String> = held.iter().collect();
    let mut n = 0;
    let mut buy = |customer: &String, lines: usize| {
        n += 1;
        let i = ids
            .iter()
            .position(|c| c == customer)
            .unwrap_or_else(|| panic!("unknown customer {customer}"));
        let data = order_data(
            &format!("B-{n}"),
            Some(phone(PHONES + i as u64).as_str()),
            OffsetDateTime::now_utc(),
            lines,
        );
        let total: i64 = data["total"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("total of {data}"));
        (data, total)
    };
    let mut treated_revenue = vec![0_i64; treated_list.len()];
    let mut held_revenue = vec![0_i64; held_list.len()];
    let mut orders: Vec<Return> = Vec::new();
    for (k, lines) in [(0, 2), (1, 3), (2, 1), (3, 4)] {
        let (data, total) = buy(treated_list[k], lines);
        if k != 3 {
            treated_revenue[k] += total;
        }
        let code = (k < 2).then(|| codes[treated_list[k]].clone());
        orders.push(Return {
            data,
            voucher: code,
            refunded: k == 3,
        });
    }
    for (k, lines) in [(0, 2), (1, 1), (1, 5)] {
        let (data, total) = buy(held_list[k], lines);
        held_revenue[k] += total;
        orders.push(Return::plain(data));
    }
    for outsider in [&ids[0], &ids[(REGULARS + LAPSED - 1) as usize]] {
        let (data, _) = buy(outsider, 3);
        orders.push(Return::plain(data));
    }
    for Return {
        data,
        voucher,
        refunded,
    } in &orders
    {
        server
            .post("/v1/orders", &till, data)
            .await
            .expect(200, "returning order");
        let external = data["order_id"].as_str().unwrap_or_default();
        if let Some(code) = voucher {
            let redeemed = server
                .post(
                    &format!("/v1/vouchers/{code}/redeem"),
                    &till,
                    &json!({"order_external_id": external}),
                )
                .await
                .expect(200, "redeem");
            assert_eq!(redeemed.str("/status"), "redeemed");
        }
        if *refunded {
            server
                .post(
                    "/v1/refunds",
                    &till,
                    &json!({"refund_id": format!("R-{external}"), "order_id": external,
                            "refunded_at": rfc3339(OffsetDateTime::now_utc()), "full": true}),
                )
                .await
                .expect(200, "refund");
        }
    }

    // The report, against the same figures worked out from the orders above; a viewer
    // reads the same figures.
    let viewers = server
        .get(&format!("/v1/campaigns/{campaign}/report"), &viewer)
        .await
        .expect(200, "a viewer's report");
    let report = server
        .get(&format!("/v1/campaigns/{campaign}/report"), admin)
        .await
        .expect(200, "report");
    assert_eq!(
        viewers.json, report.json,
        "a viewer's report is the admin's"
    );
    let rep = &report.json;
    let context = what(&report.text);
    assert_eq!(rep["campaign"]["id"], campaign.as_str(), "{context}");
    assert_eq!(rep["treated"], t, "{context}");
    assert_eq!(rep["held_out"], h, "{context}");
    assert_eq!(rep["messages"], json!({"pending": t}), "{context}");
    assert_eq!(rep["sent"], 0, "{context}");
    assert_eq!(rep["delivered"], 0, "{context}");
    assert_eq!(rep["vouchers_issued"], t, "{context}");
    assert_eq!(rep["vouchers_redeemed"], 2, "{context}");
    assert_close(&rep["redemption_rate"], 2.0 / t as f64, &context);
    assert_eq!(rep["window_days"], 14, "{context}");
    let treated_total: i64 = treated_revenue.iter().sum();
    let held_total: i64 = held_revenue.iter().sum();
    assert_eq!(rep["treated_revenue_minor"], treated_total, "{context}");
    assert_eq!(rep["holdout_revenue_minor"], held_total, "{context}");
    let cost = 2 * OFFER_COST;
    assert_eq!(rep["offer_cost_minor"], cost, "{context}");
    assert_close(&rep["gross_margin"], GROSS_MARGIN, &context);
    assert!(rep["attribution_unavailable"].is_null(), "{context}");
    let a = &rep["attribution"];
    let mean = |xs: &[i64]| xs.iter().sum::<i64>() as f64 / xs.len() as f64;
    let var = |xs: &[i64]| {
        let m = mean(xs);
        xs.iter().map(|x| (*x as f64 - m).powi(2)).sum::<f64>() / (xs.len() as f64 - 1.0)
    };
    let (mt, mh) = (mean(&treated_revenue), mean(&held_revenue));
    let incremental = (mt - mh) * t as f64;
    let se = (var(&treated_revenue) / t as f64 + var(&held_revenue) / h as f64).sqrt();
    assert_eq!(a["treated"], t, "{context}");
    assert_eq!(a["holdout"], h, "{context}");
    assert_close(&a["treated_mean"], mt, &context);
    assert_close(&a["holdout_mean"], mh, &context);
    assert_close(&a["incremental_revenue"], incremental, &context);
    assert_close(&a["ci_low"], (mt - mh - Z_95 * se) * t as f64, &context);
    assert_close(&a["ci_high"], (mt - mh + Z_95 * se) * t as f64, &context);
    assert_close(
        &a["incremental_margin"],
        incremental * GROSS_MARGIN,
        &context,
    );
    assert_close(&a["offer_cost"], cost as f64, &context);
    assert_close(
        &a["roi"],
        (incremental * GROSS_MARGIN - cost as f64) / cost as f64,
        &context,
    );

    life_cycle_roles_and_bad_documents(&server, admin, &viewer, &reward, &campaign, &ended).await;
    server.assert_ledger_clean().await;
    server.stop().await;
}

async fn life_cycle_roles_and_bad_documents(
    server: &TestServer,
    admin: &str,
    viewer: &str,
    reward: &str,
    active: &str,
    ended: &[String],
) {
    let db = server.db;
    let what = |s: &str| format!("{db:?}: {s}");
    let document = campaign_document(reward);

    // An active campaign cannot be edited; paused it can, and launched again.
    let field = server
        .put(&format!("/v1/campaigns/{active}"), admin, &document)
        .await
        .expect_error(409, "refused", &what("edit an active campaign"));
    assert_eq!(field.as_deref(), Some("status"));
    server
        .post(&format!("/v1/campaigns/{active}/launch"), admin, &json!({}))
        .await
        .expect_error(409, "refused", &what("launch an active campaign"));
    server
        .post(&format!("/v1/campaigns/{active}/pause"), admin, &json!({}))
        .await
        .expect(200, "pause");
    let mut renamed = document.clone();
    renamed["name"] = json!("Win back, second wave");
    let edited = server
        .put(&format!("/v1/campaigns/{active}"), admin, &renamed)
        .await
        .expect(200, "edit a paused campaign");
    assert_eq!(edited.str("/name"), "Win back, second wave");
    assert_eq!(edited.str("/status"), "paused");
    assert_eq!(edited.json["definition"]["id"], active);
    // Ended is for good: no launch, no pause, no edit, no second end.
    server
        .post(&format!("/v1/campaigns/{active}/end"), admin, &json!({}))
        .await
        .expect(200, "end");
    for (method, path) in [
        (Method::POST, format!("/v1/campaigns/{active}/launch")),
        (Method::POST, format!("/v1/campaigns/{active}/pause")),
        (Method::POST, format!("/v1/campaigns/{active}/end")),
        (Method::PUT, format!("/v1/campaigns/{active}")),
    ] {
        let reply = server
            .call(
                method.clone(),
                &path,
                Some(admin),
                crate::server::Body::Json(&document),
            )
            .await;
        let field = reply.expect_error(409, "refused", &what(&format!("{method} {path} ended")));
        assert_eq!(field.as_deref(), Some("status"));
    }
    for id in ended {
        server
            .post(&format!("/v1/campaigns/{id}/launch"), admin, &json!({}))
            .await
            .expect_error(409, "refused", &what("launch an ended campaign"));
    }
    // The ended campaign is still listed and reported.
    let listed = server.walk("/v1/campaigns", viewer, 2, "id").await;
    assert_eq!(
        listed.len(),
        1 + ended.len(),
        "{}",
        what("every campaign listed")
    );
    assert!(listed.iter().all(|c| c["status"] == "ended"));
    server
        .get(&format!("/v1/campaigns/{active}/report"), admin)
        .await
        .expect(200, "report of an ended campaign");
    let runs = server
        .post("/v1/campaigns/runs", admin, &json!({}))
        .await
        .expect(201, "run with nothing active");
    assert_eq!(runs.json, json!([]), "{}", what(&runs.text));

    // A viewer reads but neither creates, edits, moves nor runs campaigns.
    server
        .get(&format!("/v1/campaigns/{active}"), viewer)
        .await
        .expect(200, "viewer reads");
    for (method, path) in [
        (Method::POST, "/v1/campaigns".to_owned()),
        (Method::PUT, format!("/v1/campaigns/{active}")),
        (Method::POST, format!("/v1/campaigns/{active}/launch")),
        (Method::POST, format!("/v1/campaigns/{active}/pause")),
        (Method::POST, format!("/v1/campaigns/{active}/end")),
        (Method::POST, "/v1/campaigns/runs".to_owned()),
    ] {
        server
            .call(
                method.clone(),
                &path,
                Some(viewer),
                crate::server::Body::Json(&document),
            )
            .await
            .expect_error(403, "forbidden", &what(&format!("viewer {method} {path}")));
    }

    // Bad documents: 422 naming the field.
    let unknown_reward = Uuid::now_v7().to_string();
    let mut bad: Vec<(Value, &str)> = Vec::new();
    let mut d = document.clone();
    d["offer"]["reward"]["reward_id"] = json!(unknown_reward);
    bad.push((d, "offer.reward.reward_id"));
    let mut d = document.clone();
    d["offer"]["reward"]["reward_id"] = json!("not-an-id");
    bad.push((d, "offer.reward.reward_id"));
    let mut d = document.clone();
    if let Some(priced) = d["offer"]["reward"].as_object_mut() {
        priced.remove("reward_id");
    }
    bad.push((d, "offer.reward.reward_id"));
    let mut d = document.clone();
    d["trigger"] = json!({"type": "p_alive_below", "threshold": 1.5});
    bad.push((d, "trigger.threshold"));
    let mut d = document.clone();
    d["currency"] = json!("USD");
    bad.push((d, "currency"));
    let mut d = document.clone();
    d["id"] = json!(Uuid::now_v7().to_string());
    bad.push((d, "id"));
    let mut d = document.clone();
    d["holdout"] = json!(0.9);
    bad.push((d, "holdout"));
    for (body, path) in &bad {
        let reply = server.post("/v1/campaigns", admin, body).await;
        let field = reply.expect_error(422, "invalid", &what(&format!("bad {path}")));
        assert_eq!(field.as_deref(), Some(*path), "{}", what(&reply.text));
        assert!(reply.text.contains(path), "{}", what(&reply.text));
    }
    // The same checks on an edit.
    let draft = server
        .post("/v1/campaigns", admin, &document)
        .await
        .expect(201, "draft")
        .str("/id");
    let field = server
        .put(&format!("/v1/campaigns/{draft}"), admin, &bad[3].0)
        .await
        .expect_error(422, "invalid", &what("bad edit"));
    assert_eq!(field.as_deref(), Some("trigger.threshold"));

    // Unknown ids: 404, like another brand's.
    let nobody = Uuid::now_v7();
    for (method, path) in [
        (Method::GET, format!("/v1/campaigns/{nobody}")),
        (Method::PUT, format!("/v1/campaigns/{nobody}")),
        (Method::POST, format!("/v1/campaigns/{nobody}/launch")),
        (Method::POST, format!("/v1/campaigns/{nobody}/pause")),
        (Method::POST, format!("/v1/campaigns/{nobody}/end")),
        (Method::POST, format!("/v1/campaigns/{nobody}/preview")),
        (Method::GET, format!("/v1/campaigns/{nobody}/messages")),
        (Method::GET, format!("/v1/campaigns/{nobody}/report")),
        (Method::GET, "/v1/campaigns/not-a-uuid".to_owned()),
    ] {
        server
            .call(
                method.clone(),
                &path,
                Some(admin),
                crate::server::Body::Json(&document),
            )
            .await
            .expect_error(404, "not_found", &what(&format!("{method} {path}")));
    }
}
