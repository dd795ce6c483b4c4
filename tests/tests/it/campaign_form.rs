//! The campaign form over real HTTP on both databases: an owner builds a win-back
//! campaign with two offer variants without JSON, previews it (whom it would reach, the
//! skips by reason, the most it would cost, and the SMS the customers would get, with
//! its segments), and saves the same document the API would store; viewers and
//! managers are refused the form.

use crate::dashboard::{Visitor, shop};
use crate::pos::order_data;
use crate::server::{TestServer, dbs, spawn};
use regulars_campaigns::sms::{SAMPLE_CODE, SAMPLE_OPT_OUT_LINK};
use regulars_domain::sms::measure;
use regulars_tests::phone;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

pub(crate) const TEMPLATE: &str = "{{name}} ơi, {{shop}} nhớ bạn! Mã quà: {{code}}";

/// The exact value of the `<data>` in the element with id `id`.
fn data_value(page: &str, id: &str) -> Option<i64> {
    let start = page.find(&format!("id=\"{id}\""))?;
    let rest = &page[start..];
    let at = rest.find("value=\"")? + "value=\"".len();
    let end = rest[at..].find('"')? + at;
    rest[at..end].parse().ok()
}

/// The skipped counts by reason in the preview table.
fn skipped(page: &str) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(at) = rest.find("data-reason=\"") {
        rest = &rest[at + "data-reason=\"".len()..];
        let end = rest.find('"').unwrap_or(0);
        let reason = rest[..end].to_owned();
        let v = rest
            .find("value=\"")
            .map(|v| v + "value=\"".len())
            .unwrap_or(0);
        let n = rest[v..rest[v..].find('"').map_or(v, |e| e + v)]
            .parse()
            .unwrap_or(-1);
        out.push((reason, n));
    }
    out.sort();
    out
}

/// Customers who visited three times long ago: `consenting` of them said yes to SMS.
pub(crate) async fn lapsed_customers(server: &TestServer, admin: &str, consenting: u64) {
    for i in 0..consenting + 1 {
        let phone = phone(8_400 + i).as_str().to_owned();
        let (name, consent) = if i < consenting {
            ("Chị Lan", json!({"sms": true}))
        } else {
            ("Anh Nam", json!({}))
        };
        server
            .post(
                "/v1/customers",
                admin,
                &json!({"phone": phone, "name": name, "consent": consent}),
            )
            .await
            .expect(201, "customer");
        for k in 0..3 {
            let at = OffsetDateTime::now_utc() - Duration::days(100 - 10 * k);
            server
                .post(
                    "/v1/orders",
                    admin,
                    &order_data(&format!("WB-{i}-{k}"), Some(&phone), at, 1),
                )
                .await
                .expect(200, "order");
        }
    }
}

/// The form's fields for the two-variant win-back.
fn win_back_fields<'a>(topping: &'a str, discount: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("currency", "VND"),
        ("rest", ""),
        ("name", "Win back"),
        ("trigger.type", "overdue"),
        ("trigger.factor", "1.5"),
        ("audience.kind", ""),
        ("offer.type", ""),
        ("variants[0].name", "Topping"),
        ("variants[0].offer.type", "fixed"),
        ("variants[0].offer.reward.reward_id", topping),
        ("variants[0].offer.reward.cost", "8000"),
        ("variants[1].name", "20k off"),
        ("variants[1].offer.type", "fixed"),
        ("variants[1].offer.reward.reward_id", discount),
        ("variants[1].offer.reward.cost", "20000"),
        ("variants[2].name", ""),
        ("variants[2].offer.type", ""),
        ("template", TEMPLATE),
        ("channels[0]", "sms"),
        ("channels[1]", ""),
        ("channels[2]", ""),
        ("send_time.type", "now"),
        ("holdout", "0.2"),
        ("budget", "30000"),
        ("frequency_cap.max", "2"),
        ("frequency_cap.days", "7"),
        ("attribution_days", "14"),
        ("gross_margin", "0.65"),
    ]
}

/// The same campaign as the API takes it.
fn win_back_document(topping: &str, discount: &str) -> Value {
    let cost = |n: &str| json!({"amount": n, "currency": "VND"});
    let fixed =
        |r: &str, c: &str| json!({"type": "fixed", "reward": {"reward_id": r, "cost": cost(c)}});
    json!({
        "name": "Win back",
        "trigger": {"type": "overdue", "factor": 1.5},
        "variants": [
            {"name": "Topping", "offer": fixed(topping, "8000")},
            {"name": "20k off", "offer": fixed(discount, "20000")},
        ],
        "template": TEMPLATE,
        "channels": ["sms"],
        "send_time": {"type": "now"},
        "holdout": 0.2,
        "budget": cost("30000"),
        "frequency_cap": {"max": 2, "days": 7},
        "attribution_days": 14,
        "gross_margin": 0.65,
    })
}

/// A stored campaign's definition without its id.
async fn definition(server: &TestServer, admin: &str, id: &str) -> Value {
    let mut d = server
        .get(&format!("/v1/campaigns/{id}"), admin)
        .await
        .expect(200, "campaign")
        .json["definition"]
        .clone();
    d.as_object_mut().map(|m| m.remove("id"));
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_builds_previews_and_saves_a_two_variant_win_back_by_the_form() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = shop(&server, "Quán Mây", 971).await;
        let admin_key = a.tenant.admin.as_str();
        let discount = server
            .post(
                "/v1/rewards",
                admin_key,
                &json!({"name": "Giảm 20.000₫", "cost": 50, "validity_days": 14,
                        "kind": {"type": "fixed_discount", "amount": {"amount": "20000", "currency": "VND"}}}),
            )
            .await
            .expect(201, "discount")
            .str("/id");
        lapsed_customers(&server, admin_key, 6).await;
        server.score(admin_key).await;
        let mut admin = Visitor::new(&server);
        admin.sign_in(admin_key).await.expect(303, "sign in");
        let page = admin
            .get("/dashboard/campaigns/new")
            .await
            .expect(200, "form");
        assert!(page.text.contains("id=\"campaign-fields\""), "{db:?}");
        assert!(
            page.text.contains("Giảm 20.000₫"),
            "{db:?}: the reward pick-list"
        );
        assert!(
            page.text.contains("At risk"),
            "{db:?}: the segment pick-list"
        );
        let csrf = page.csrf();
        let mut form = win_back_fields(&a.reward, &discount);
        form.push(("csrf", &csrf));

        // Preview: nothing saved; the figures are the planner's for the same data.
        let mut preview = form.clone();
        preview.push(("action", "preview"));
        let shown = admin
            .post("/dashboard/campaigns", &preview)
            .await
            .expect(200, "preview");
        let listed = server
            .get("/v1/campaigns", admin_key)
            .await
            .expect(200, "list");
        assert_eq!(
            listed.json["items"],
            json!([]),
            "{db:?}: a preview saves nothing"
        );
        let messages = data_value(&shown.text, "preview-messages");
        let max_cost = data_value(&shown.text, "preview-max-cost");
        assert!(
            max_cost.is_some_and(|c| (0..=30_000).contains(&c)),
            "{db:?}: {max_cost:?}"
        );

        // The SMS every messaged customer would get, as the test writes it.
        let policy = server
            .get("/v1/brand/policy", admin_key)
            .await
            .expect(200, "policy");
        let body = format!("Chị Lan ơi, Quán Mây nhớ bạn! Mã quà: {SAMPLE_CODE}");
        let prefix = policy.json["promotional_prefix"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let sms = regulars_domain::with_opt_out(
            &format!("{prefix}{body}"),
            policy.json["opt_out_instruction"]
                .as_str()
                .unwrap_or_default(),
            Some(SAMPLE_OPT_OUT_LINK),
        );
        assert!(messages.is_some_and(|m| m > 0), "{db:?}: {}", shown.text);
        assert!(
            shown.text.contains(&sms),
            "{db:?}: {sms:?} in {}",
            shown.text
        );
        assert_eq!(
            data_value(&shown.text, "preview-sms-segments"),
            Some(i64::from(measure(&sms).segments)),
            "{db:?}"
        );
        assert_eq!(
            data_value(&shown.text, "preview-sms-units"),
            Some(measure(&sms).units as i64),
            "{db:?}"
        );

        // A refusal names the field and saves nothing.
        let mut bad = form.clone();
        bad.retain(|(n, _)| *n != "holdout");
        bad.extend([("holdout", "0.9"), ("action", "save")]);
        let refused = admin
            .post("/dashboard/campaigns", &bad)
            .await
            .expect(422, "refused");
        assert!(
            refused.text.contains("data-for=\"holdout\""),
            "{db:?}: {}",
            refused.text
        );

        // Saving stores what the API stores for the same document.
        let mut save = form.clone();
        save.push(("action", "save"));
        let saved = admin
            .post("/dashboard/campaigns", &save)
            .await
            .expect(303, "save");
        let location = saved.location.clone().unwrap_or_default();
        let id = location
            .strip_prefix("/dashboard/campaigns/")
            .unwrap_or_else(|| panic!("saved at {location}"))
            .to_owned();
        let by_api = server
            .post(
                "/v1/campaigns",
                admin_key,
                &win_back_document(&a.reward, &discount),
            )
            .await
            .expect(201, "the API's campaign")
            .str("/id");
        let stored = definition(&server, admin_key, &id).await;
        assert_eq!(
            stored,
            definition(&server, admin_key, &by_api).await,
            "{db:?}"
        );
        assert_eq!(stored["variants"][1]["name"], "20k off", "{db:?}");

        // The saved draft previewed in its edit form: the API's preview of it, figure for
        // figure (the hold-out is drawn from the campaign's id, so a new campaign's
        // preview draws its own).
        let planned = server
            .post(
                &format!("/v1/campaigns/{id}/preview"),
                admin_key,
                &json!({}),
            )
            .await
            .expect(200, "API preview");
        let mut expected: Vec<(String, i64)> = planned.json["skipped"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default();
        expected.sort();
        let mut again = save.clone();
        again.retain(|(n, _)| *n != "action");
        again.push(("action", "preview"));
        let edited = admin
            .post(&format!("/dashboard/campaigns/{id}/edit"), &again)
            .await
            .expect(200, "edit preview");
        assert_eq!(
            data_value(&edited.text, "preview-messages"),
            planned.json["messages"].as_i64(),
            "{db:?}"
        );
        assert_eq!(
            data_value(&edited.text, "preview-max-cost"),
            planned.json["budget_used_minor"].as_i64(),
            "{db:?}"
        );
        assert_eq!(skipped(&edited.text), expected, "{db:?}");
        // The new campaign's preview: the same customers skipped for reasons that do
        // not depend on the id, and the same number eligible.
        let eligible = |messages: Option<i64>, skips: &[(String, i64)]| {
            let drawn = ["hold_out", "budget_exhausted"];
            let fixed: Vec<(String, i64)> = skips
                .iter()
                .filter(|(r, _)| !drawn.contains(&r.as_str()))
                .cloned()
                .collect();
            let sum: i64 = skips
                .iter()
                .filter(|(r, _)| drawn.contains(&r.as_str()))
                .map(|(_, n)| n)
                .sum();
            (fixed, sum + messages.unwrap_or(0))
        };
        assert_eq!(
            eligible(messages, &skipped(&shown.text)),
            eligible(planned.json["messages"].as_i64(), &expected),
            "{db:?}"
        );
        assert!(
            expected.iter().any(|(r, _)| r == "no_channel"),
            "{db:?}: {expected:?}"
        );

        // The draft opens in the same form, and an edit saves through it.
        let edit = admin
            .get(&format!("/dashboard/campaigns/{id}/edit"))
            .await
            .expect(200, "edit form");
        assert!(edit.text.contains("value=\"20k off\""), "{db:?}");
        let mut renamed = save.clone();
        renamed.retain(|(n, _)| *n != "name");
        renamed.push(("name", "Win back, June"));
        admin
            .post(&format!("/dashboard/campaigns/{id}/edit"), &renamed)
            .await
            .expect(303, "edit");
        assert_eq!(
            definition(&server, admin_key, &id).await["name"],
            "Win back, June",
            "{db:?}"
        );

        // Viewers and managers are refused the form.
        let shops = server
            .get("/v1/locations", admin_key)
            .await
            .expect(200, "locations");
        let q1 = shops.json["items"][0]["id"].clone();
        let manager = server
            .post(
                "/v1/keys",
                admin_key,
                &json!({"role": "manager", "locations": [q1]}),
            )
            .await
            .expect(201, "manager key")
            .str("/token");
        for key in [a.viewer.as_str(), manager.as_str()] {
            let mut other = Visitor::new(&server);
            other.sign_in(key).await.expect(303, "sign in");
            other
                .get("/dashboard/campaigns/new")
                .await
                .expect(403, "new form");
            other
                .get(&format!("/dashboard/campaigns/{id}/edit"))
                .await
                .expect(403, "edit form");
            let seen = other
                .get("/dashboard/overview")
                .await
                .expect(200, "overview");
            let mut posted = save.clone();
            posted.retain(|(n, _)| *n != "csrf");
            let token = seen.csrf();
            posted.push(("csrf", &token));
            other
                .post("/dashboard/campaigns", &posted)
                .await
                .expect(403, "create");
            other
                .post(&format!("/dashboard/campaigns/{id}/edit"), &posted)
                .await
                .expect(403, "edit");
        }
    }
}
