//! The earning rules form over real HTTP on both databases: an owner writes "double
//! points 14:00–16:00 on weekdays at Shop 2" without JSON, previews a sample order (the
//! numbers the rules' own evaluation gives), saves it, and the next orders earn as
//! previewed; a refused form names the field and saves nothing.

use crate::dashboard::{Visitor, shop};
use crate::server::{TestServer, dbs, spawn};
use regulars_domain::{BrandId, Currency, EventKey, LineItem, Money, Order};
use regulars_loyalty::rules::{EarningContext, EarningRules};
use serde_json::{Value, json};
use time::macros::{datetime, offset};
use time::{Duration, OffsetDateTime, Time};

/// The rule as the API would take it.
pub(crate) const DOUBLE_AT_SHOP_2: &str = r#"{"currency": "VND",
    "base": {"per_amount": "10000", "points": 1, "rounding": "floor"},
    "multipliers": [{"label": "Double points", "factor": "2",
        "when": {"weekdays": ["mon", "tue", "wed", "thu", "fri"],
                 "hours": {"from": "14:00", "to": "16:00"},
                 "locations": ["shop-2"]}}]}"#;

/// The same rule as the form's fields.
pub(crate) fn double_at_shop_2_fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("currency", "VND"),
        ("base.points", "1"),
        ("base.per_amount", "10000"),
        ("base.rounding", "floor"),
        ("base.label", ""),
        ("product_bonuses[0].sku", ""),
        ("product_bonuses[0].category", ""),
        ("product_bonuses[0].points_per_unit", ""),
        ("multipliers[0].factor", "2"),
        ("multipliers[0].label", "Double points"),
        ("multipliers[0].when.hours.from", "14:00"),
        ("multipliers[0].when.hours.to", "16:00"),
        ("multipliers[0].when.weekdays", "mon"),
        ("multipliers[0].when.weekdays", "tue"),
        ("multipliers[0].when.weekdays", "wed"),
        ("multipliers[0].when.weekdays", "thu"),
        ("multipliers[0].when.weekdays", "fri"),
        ("multipliers[0].when.locations", "shop-2"),
        ("multipliers[0].when.birthday", ""),
        ("multipliers[1].factor", ""),
        ("stacking", "highest"),
        ("visit_bonuses[0].kind", "first_visit"),
        ("visit_bonuses[0].points", ""),
        ("order_cap.points", ""),
        ("day_cap.points", ""),
        ("point_value", ""),
    ]
}

/// What the rules give two oolong teas at `location`, `at` local time: the pure
/// evaluation, the number the preview and the till must agree with.
pub(crate) fn expected_points(location: &str, at: OffsetDateTime, visit: u32) -> i64 {
    let rules = EarningRules::from_json(DOUBLE_AT_SHOP_2).unwrap_or_else(|e| panic!("{e}"));
    let order = Order {
        brand_id: BrandId::from_bytes([1; 16]),
        key: EventKey::new("test", "sample").unwrap_or_else(|e| panic!("{e}")),
        location: Some(location.to_owned()),
        customer_phone: None,
        placed_at: at,
        lines: vec![LineItem {
            sku: "TS-OOLONG".into(),
            name: "Trà sữa ô long".into(),
            category: Some("milk-tea".into()),
            quantity: 2,
            unit_price: Money::from_minor_units(45_000, Currency::VND),
            modifiers: vec![],
        }],
        total: Money::from_minor_units(90_000, Currency::VND),
    };
    rules
        .evaluate(&order, &EarningContext::new(offset!(+7), visit))
        .unwrap_or_else(|e| panic!("{e}"))
        .points
        .value()
}

/// The menu item and the second shop the form picks from.
pub(crate) async fn menu_and_shop_2(server: &TestServer, admin: &str) {
    let menu = json!({"items": [{"sku": "TS-OOLONG", "name": "Trà sữa ô long", "category": "milk-tea",
                                 "price": {"amount": "45000", "currency": "VND"}}]});
    server
        .put("/v1/menu", admin, &menu)
        .await
        .expect(200, "menu");
    server
        .post(
            "/v1/locations",
            admin,
            &json!({"code": "shop-2", "name": "Shop 2"}),
        )
        .await
        .expect(201, "shop 2");
}

/// The brand's earning rules as the API gives them.
pub(crate) async fn saved_rules(server: &TestServer, admin: &str) -> Value {
    server
        .get("/v1/program", admin)
        .await
        .expect(200, "programme")
        .json["earning_rules"]
        .clone()
}

/// The number in the preview's total.
pub(crate) fn preview_total(page: &str) -> Option<i64> {
    let marker = "id=\"preview-total\">";
    let start = page.find(marker)? + marker.len();
    let end = page[start..].find('<')? + start;
    page[start..end].trim().parse().ok()
}

/// The most recent weekday before today, at `hour`:00 Vietnam time.
pub(crate) fn last_weekday_at(hour: u8) -> OffsetDateTime {
    let mut day = OffsetDateTime::now_utc().to_offset(offset!(+7)) - Duration::days(1);
    while day.weekday().number_from_monday() > 5 {
        day -= Duration::days(1);
    }
    day.replace_time(Time::from_hms(hour, 0, 0).unwrap_or_else(|e| panic!("{e}")))
}

pub(crate) fn order(id: &str, phone: &str, at: OffsetDateTime) -> Value {
    json!({"order_id": id, "location": "shop-2", "placed_at": crate::pos::rfc3339(at),
           "currency": "VND", "customer_phone": phone, "total": "90000",
           "lines": [{"sku": "TS-OOLONG", "name": "Trà sữa ô long", "category": "milk-tea",
                      "quantity": 2, "unit_price": "45000"}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_writes_previews_and_saves_a_happy_hour_by_the_form() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = shop(&server, "Brand F", 941).await;
        let admin_key = a.tenant.admin.as_str();
        menu_and_shop_2(&server, admin_key).await;
        let mut admin = Visitor::new(&server);
        admin.sign_in(admin_key).await.expect(303, "sign in");
        let page = admin
            .get("/dashboard/programme")
            .await
            .expect(200, "programme");
        assert!(page.text.contains("id=\"rules-form\""), "{db:?}");
        assert!(
            page.text.contains("Shop 2 (shop-2)"),
            "{db:?}: the shop pick-list"
        );
        let csrf = page.csrf();

        // Preview: Wednesday 15:00 at Shop 2, two teas, the customer's second visit.
        let mut form = double_at_shop_2_fields();
        form.extend([
            ("csrf", csrf.as_str()),
            ("sample.weekday", "wed"),
            ("sample.time", "15:00"),
            ("sample.location", "shop-2"),
            ("sample.tier", ""),
            ("sample.visit", "2"),
            ("sample.lines[0].sku", "TS-OOLONG"),
            ("sample.lines[0].quantity", "2"),
        ]);
        let mut preview = form.clone();
        preview.push(("action", "preview"));
        let shown = admin
            .post("/dashboard/programme/earning-rules", &preview)
            .await
            .expect(200, "preview");
        let wednesday = expected_points("shop-2", datetime!(2026-01-07 15:00 +7), 2);
        assert_eq!(wednesday, 18, "9 base points, doubled");
        assert_eq!(
            preview_total(&shown.text),
            Some(wednesday),
            "{db:?}: {}",
            shown.text
        );
        assert!(
            shown.text.contains("Double points"),
            "{db:?}: the rule's line"
        );
        let before = saved_rules(&server, admin_key).await;
        assert_ne!(
            before["multipliers"][0]["label"], "Double points",
            "{db:?}: a preview saves nothing"
        );

        // A refused form: the error is next to the field and nothing is saved.
        let mut bad = form.clone();
        bad.retain(|(name, _)| *name != "multipliers[0].when.hours.to");
        bad.push(("multipliers[0].when.hours.to", "4pm"));
        bad.push(("action", "save"));
        let refused = admin
            .post("/dashboard/programme/earning-rules", &bad)
            .await
            .expect(422, "refused");
        assert!(
            refused
                .text
                .contains("data-for=\"multipliers[0].when.hours.to\">must be a time"),
            "{db:?}: {}",
            refused.text
        );
        assert!(
            refused.text.contains("value=\"4pm\""),
            "{db:?}: the input is kept"
        );

        // Saved: the same document the API takes.
        let mut save = form.clone();
        save.push(("action", "save"));
        let saved = admin
            .post("/dashboard/programme/earning-rules", &save)
            .await
            .expect(200, "save");
        assert!(saved.text.contains("id=\"saved\""), "{db:?}");
        let rules = saved_rules(&server, admin_key).await;
        let api =
            EarningRules::from_json(&rules.to_string()).unwrap_or_else(|e| panic!("{e}: {rules}"));
        let wanted = EarningRules::from_json(DOUBLE_AT_SHOP_2).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(api, wanted, "{db:?}");

        // Orders at Shop 2 earn as previewed at 15:00 on a weekday, not at 17:00.
        let at_three = last_weekday_at(15);
        let earned = server
            .post(
                "/v1/orders",
                admin_key,
                &order("F-1500", &a.phone, at_three),
            )
            .await
            .expect(200, "order at 15:00");
        assert_eq!(
            earned.int("/points_earned"),
            wednesday,
            "{db:?}: {}",
            earned.text
        );
        let at_five = last_weekday_at(17);
        let later = server
            .post("/v1/orders", admin_key, &order("F-1700", &a.phone, at_five))
            .await
            .expect(200, "order at 17:00");
        assert_eq!(
            later.int("/points_earned"),
            expected_points("shop-2", at_five, 5),
            "{db:?}"
        );
        assert_eq!(
            later.int("/points_earned"),
            9,
            "{db:?}: no doubling at 17:00"
        );
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_sets_tiers_by_the_form() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = shop(&server, "Brand T", 942).await;
        let admin_key = a.tenant.admin.as_str();
        let mut admin = Visitor::new(&server);
        admin.sign_in(admin_key).await.expect(303, "sign in");
        let page = admin
            .get("/dashboard/programme")
            .await
            .expect(200, "programme");
        assert!(page.text.contains("id=\"tiers-form\""), "{db:?}");
        assert!(
            page.text.contains("value=\"silver\""),
            "{db:?}: the saved tiers are in the form"
        );
        let csrf = page.csrf();
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("metric", "points"),
            ("metric.currency", "VND"),
            ("window_days", "180"),
            ("review_period", "quarter"),
            ("tiers[0].code", "member"),
            ("tiers[0].name", "Member"),
            ("tiers[0].threshold", "0"),
            ("tiers[0].benefits.earn_multiplier", "1"),
            ("tiers[0].benefits.perks", ""),
            ("tiers[1].code", "gold"),
            ("tiers[1].name", "Gold"),
            ("tiers[1].threshold", "0"),
            ("tiers[1].benefits.earn_multiplier", "1.5"),
            ("tiers[1].benefits.perks", "Free upsize\r\nBirthday drink"),
            ("tiers[2].code", ""),
            ("tiers[2].name", ""),
            ("tiers[2].threshold", ""),
            ("tiers[2].benefits.earn_multiplier", ""),
            ("tiers[2].benefits.perks", ""),
        ];
        let refused = admin
            .post("/dashboard/programme/tiers", &form)
            .await
            .expect(422, "a threshold not above the previous one");
        assert!(
            refused.text.contains("data-for=\"tiers[1].threshold\""),
            "{db:?}: {}",
            refused.text
        );
        let before = server
            .get("/v1/program", admin_key)
            .await
            .expect(200, "programme");
        assert_eq!(
            before.json["tiers"]["window_days"], 365,
            "{db:?}: nothing saved"
        );
        form.retain(|(name, _)| *name != "tiers[1].threshold");
        form.push(("tiers[1].threshold", "500"));
        admin
            .post("/dashboard/programme/tiers", &form)
            .await
            .expect(200, "tiers");
        let saved = server
            .get("/v1/program", admin_key)
            .await
            .expect(200, "programme");
        let expected = json!({"metric": {"kind": "points"}, "window_days": 180, "review_period": "quarter",
        "tiers": [
            {"code": "member", "name": "Member", "threshold": 0, "benefits": {"earn_multiplier": "1"}},
            {"code": "gold", "name": "Gold", "threshold": 500,
             "benefits": {"earn_multiplier": "1.5", "perks": ["Free upsize", "Birthday drink"]}}
        ]});
        let wanted: regulars_loyalty::tiers::TierProgram =
            serde_json::from_value(expected).unwrap_or_else(|e| panic!("{e}"));
        let got: regulars_loyalty::tiers::TierProgram =
            serde_json::from_value(saved.json["tiers"].clone())
                .unwrap_or_else(|e| panic!("{e}: {}", saved.text));
        assert_eq!(got, wanted, "{db:?}");
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_adds_a_reward_by_the_form() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = shop(&server, "Brand R", 943).await;
        let admin_key = a.tenant.admin.as_str();
        let mut admin = Visitor::new(&server);
        admin.sign_in(admin_key).await.expect(303, "sign in");
        let page = admin
            .get("/dashboard/programme")
            .await
            .expect(200, "programme");
        assert!(page.text.contains("id=\"new-reward\""), "{db:?}");
        let csrf = page.csrf();
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("name", "10% off"),
            ("cost", "50"),
            ("validity_days", "30"),
            ("kind", "percent_discount"),
            ("kind.sku", ""),
            ("kind.amount", ""),
            ("kind.percent", "0"),
            ("kind.cap", "20000"),
            ("min_order_total", ""),
            ("active", "on"),
        ];
        let refused = admin
            .post("/dashboard/programme/rewards", &form)
            .await
            .expect(422, "no percentage");
        assert!(
            refused.text.contains("data-for=\"kind.percent\""),
            "{db:?}: {}",
            refused.text
        );
        form.retain(|(name, _)| *name != "kind.percent");
        form.push(("kind.percent", "10"));
        admin
            .post("/dashboard/programme/rewards", &form)
            .await
            .expect(200, "reward");
        let rewards = server
            .get("/v1/rewards", admin_key)
            .await
            .expect(200, "rewards");
        let added = rewards.text.contains("10% off") && rewards.text.contains("percent_discount");
        assert!(added, "{db:?}: {}", rewards.text);
        let mut viewer = Visitor::new(&server);
        viewer.sign_in(&a.viewer).await.expect(303, "viewer");
        let seen = viewer
            .get("/dashboard/programme")
            .await
            .expect(200, "viewer");
        assert!(!seen.text.contains("new-reward"), "{db:?}");
        viewer
            .post(
                "/dashboard/programme/rewards",
                &[("csrf", &seen.csrf()), ("name", "x")],
            )
            .await
            .expect(403, "a viewer adds a reward");
        server.stop().await;
    }
}
