//! The till over real HTTP on both databases: a device enrolled for a location, a staff
//! member signing in with a PIN, an order recorded by amount (a double tap credits
//! once), a voucher redeemed by its code, a customer registered with the consent they
//! chose; a PIN that opens only its own location's till, never the dashboard or the API;
//! and the lock-out after too many wrong PINs.

use crate::server::{Body, TestServer, dbs, spawn};
use crate::visitor::{Answer, Visitor};
use regulars_service::PIN_ATTEMPTS;
use regulars_tests::phone;
use serde_json::{Value, json};

/// A browser-less till: a visitor with the till's own steps.
pub(crate) type Till<'a> = Visitor<'a>;

impl Visitor<'_> {
    /// Enrols this till with a device token.
    pub(crate) async fn enrol(&mut self, token: &str) {
        self.post("/till/enrol", &[("token", token)])
            .await
            .expect(303, "enrol");
        assert!(self.cookie("regulars_device").is_some());
    }

    /// Signs `staff` in with `pin`; the answer's status says how it went.
    pub(crate) async fn sign_in(&mut self, staff: &str, pin: &str) -> Answer {
        let form = self.get("/till/").await.expect(200, "sign-in form");
        let csrf = form.field("csrf");
        self.post(
            "/till/login",
            &[("csrf", &csrf), ("staff", staff), ("pin", pin)],
        )
        .await
    }
}

/// A brand with a programme, two locations, a customer with a voucher, two devices
/// (one per location) and one staff member at each location.
pub(crate) struct Shop {
    pub(crate) admin: String,
    pub(crate) customer: String,
    pub(crate) phone: String,
    pub(crate) voucher: String,
    pub(crate) device_q1: String,
    pub(crate) device_q3: String,
    pub(crate) lan_q1: String,
    pub(crate) minh_q3: String,
}

pub(crate) async fn shop(server: &TestServer, n: u64) -> Shop {
    let tenant = server.tenant("Trà Sữa").await;
    let admin = tenant.admin.clone();
    let rules: Value =
        serde_json::from_str(regulars_tests::RULES).unwrap_or_else(|e| panic!("{e}"));
    server
        .put("/v1/program/earning-rules", &admin, &rules)
        .await
        .expect(200, "rules");
    let mut locations = Vec::new();
    for code in ["q1", "q3"] {
        let id = server
            .post(
                "/v1/locations",
                &admin,
                &json!({"code": code, "name": format!("Shop {code}")}),
            )
            .await
            .expect(201, "location")
            .str("/id");
        locations.push(id);
    }
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
    let phone = phone(n).as_str().to_owned();
    let customer = server
        .post(
            "/v1/customers",
            &admin,
            &json!({"phone": phone, "name": "Nguyễn Lan"}),
        )
        .await
        .expect(201, "customer")
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
    let device = |location: String| {
        let admin = admin.clone();
        async move {
            server
                .post(
                    "/v1/till-devices",
                    &admin,
                    &json!({"location_id": location, "label": "tablet"}),
                )
                .await
                .expect(201, "device")
                .str("/token")
        }
    };
    let device_q1 = device(locations[0].clone()).await;
    let device_q3 = device(locations[1].clone()).await;
    let staff = |location: String, name: &'static str, pin: &'static str| {
        let admin = admin.clone();
        async move {
            server
                .post(
                    "/v1/staff",
                    &admin,
                    &json!({"location_id": location, "name": name, "pin": pin}),
                )
                .await
                .expect(201, "staff")
                .str("/id")
        }
    };
    let lan_q1 = staff(locations[0].clone(), "Lan", "2468").await;
    let minh_q3 = staff(locations[1].clone(), "Minh", "1357").await;
    Shop {
        admin,
        customer,
        phone,
        voucher,
        device_q1,
        device_q3,
        lan_q1,
        minh_q3,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cashier_records_an_order_once_redeems_and_registers() {
    for db in dbs() {
        let server = spawn(db).await;
        let shop = shop(&server, 7101).await;
        let mut till = Till::new(&server);
        // Not enrolled: the till asks for a device token.
        let page = till.get("/till/").await.expect(200, "not enrolled");
        assert!(page.text.contains("device-token"));
        till.enrol(&shop.device_q1).await;
        till.sign_in(&shop.lan_q1, "2468")
            .await
            .expect(303, "sign in");

        // Find the customer by phone (as typed at the counter): the search field is
        // focused for a scanner, and the account shows balance and vouchers.
        let national = format!("0{}", &shop.phone[3..]);
        let page = till
            .get(&format!("/till/find?q={national}"))
            .await
            .expect(200, "find by phone");
        assert!(page.text.contains("Nguyễn Lan"), "{}", page.text);
        assert!(page.text.contains("autofocus"));
        assert!(page.text.contains(&shop.voucher));
        let balance_before = server
            .get(&format!("/v1/customers/{}", shop.customer), &shop.admin)
            .await
            .expect(200, "profile")
            .int("/balance");

        // Record an order by amount; the same form submitted twice credits once.
        let csrf = page.field("csrf");
        let key = page.field("key");
        let form = [
            ("csrf", csrf.as_str()),
            ("customer", shop.customer.as_str()),
            ("amount", "45.000"),
            ("key", key.as_str()),
        ];
        let first = till.post("/till/orders", &form).await.expect(200, "order");
        let second = till.post("/till/orders", &form).await.expect(200, "again");
        assert!(first.text.contains("till-message"), "{}", first.text);
        assert!(!first.text.contains("bấm hai lần"), "{}", first.text);
        assert!(second.text.contains("bấm hai lần"), "{}", second.text);
        let balance_after = server
            .get(&format!("/v1/customers/{}", shop.customer), &shop.admin)
            .await
            .expect(200, "profile")
            .int("/balance");
        let earned = balance_after - balance_before;
        assert!(earned > 0, "{:?}: the order earned nothing", server.db);
        let orders = server
            .get(
                &format!("/v1/customers/{}/orders", shop.customer),
                &shop.admin,
            )
            .await
            .expect(200, "orders");
        let till_orders = orders.json["items"].as_array().map_or(0, |items| {
            items.iter().filter(|o| o["source"] == "till").count()
        });
        assert_eq!(till_orders, 1, "{:?}: one order for two taps", server.db);

        // Redeem the voucher by its code, as a scanner types it (lower case too).
        let page = till
            .post(
                "/till/vouchers",
                &[
                    ("csrf", &csrf),
                    ("customer", &shop.customer),
                    ("code", &shop.voucher.to_lowercase()),
                ],
            )
            .await
            .expect(200, "redeem");
        assert!(page.text.contains("Đã dùng voucher"), "{}", page.text);
        let again = till
            .post(
                "/till/vouchers",
                &[
                    ("csrf", &csrf),
                    ("customer", &shop.customer),
                    ("code", &shop.voucher),
                ],
            )
            .await
            .expect(200, "redeem again");
        assert!(!again.text.contains("Đã dùng voucher"), "{}", again.text);

        // Register a new customer who chose SMS only.
        let newcomer = phone(7199).as_str().to_owned();
        let page = till
            .post(
                "/till/customers",
                &[
                    ("csrf", &csrf),
                    ("phone", &newcomer),
                    ("name", "Trần Minh"),
                    ("sms", "yes"),
                ],
            )
            .await
            .expect(200, "register");
        assert!(page.text.contains("Trần Minh"), "{}", page.text);
        let found = server
            .get(
                &format!(
                    "/v1/customers/lookup?phone={}",
                    newcomer.replace('+', "%2B")
                ),
                &shop.admin,
            )
            .await
            .expect(200, "lookup");
        let id = found.str("/customer/id");
        let history = server
            .get(&format!("/v1/customers/{id}/consents"), &shop.admin)
            .await
            .expect(200, "consents");
        let text = history.json.to_string();
        assert!(text.contains("\"till\""), "{text}");
        assert_eq!(
            history.json["current"]["marketing_sms"], "granted",
            "{text}"
        );
        assert_eq!(
            history.json["current"]["marketing_zalo"], "never_asked",
            "{text}"
        );

        // Every action is in the access log with the staff member and the location.
        let log = server
            .get("/v1/audit/access", &shop.admin)
            .await
            .expect(200, "log");
        let till_rows: Vec<&Value> = log.json["items"]
            .as_array()
            .map(|items| items.iter().filter(|r| r["channel"] == "till").collect())
            .unwrap_or_default();
        assert!(
            till_rows.iter().any(|r| r["route"] == "POST /till/orders"),
            "{log:?}"
        );
        assert!(
            till_rows
                .iter()
                .all(|r| r["staff_id"] == shop.lan_q1.as_str())
        );
        // The report by staff member: Lan rang up one order of 45,000 (tapped twice,
        // counted once), signed one customer up and redeemed one voucher, all at q1.
        let staff = server
            .get("/v1/reports/staff", &shop.admin)
            .await
            .expect(200, "staff report");
        let rows = staff.json["rows"].as_array().cloned().unwrap_or_default();
        assert_eq!(rows.len(), 1, "{:?}: {}", server.db, staff.text);
        let lan = &rows[0];
        assert_eq!(lan["staff_id"], shop.lan_q1.as_str(), "{}", staff.text);
        assert_eq!((&lan["name"], &lan["code"]), (&json!("Lan"), &json!("q1")));
        assert_eq!(
            (
                lan["orders"].as_u64(),
                lan["sign_ups"].as_u64(),
                lan["vouchers_redeemed"].as_u64()
            ),
            (Some(1), Some(1), Some(1)),
            "{:?}: {}",
            server.db,
            staff.text
        );
        assert_eq!(lan["revenue"]["amount"], "45000", "{}", staff.text);
        assert_eq!(staff.json["total"]["orders"], 1, "{}", staff.text);
        let mut owner = crate::dashboard::Visitor::new(&server);
        owner
            .sign_in(&shop.admin)
            .await
            .expect(303, "owner signs in");
        let page = owner
            .get("/dashboard/overview?lang=en")
            .await
            .expect(200, "overview");
        assert!(
            page.text.contains("id=\"by-staff\"") && page.text.contains(">Lan<"),
            "{:?}: no staff table",
            server.db
        );
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_opens_only_its_own_locations_till() {
    for db in dbs() {
        let server = spawn(db).await;
        let shop = shop(&server, 7201).await;
        // Lan's right PIN on the Q3 device: refused, as a wrong PIN.
        let mut q3 = Till::new(&server);
        q3.enrol(&shop.device_q3).await;
        let form = q3.get("/till/").await.expect(200, "q3 sign-in form");
        assert!(
            !form.text.contains(&shop.lan_q1),
            "Q1 staff listed on Q3's till"
        );
        q3.sign_in(&shop.lan_q1, "2468")
            .await
            .expect(401, "Q1 PIN at Q3");
        assert!(q3.cookie("regulars_till").is_none());

        // The PIN is no API key and no dashboard credential.
        let api = server.get("/v1/customers", "2468").await;
        assert_eq!(api.status, 401, "PIN on /v1");
        let mut dashboard = Till::new(&server);
        let login = dashboard
            .get("/dashboard/login")
            .await
            .expect(200, "login form");
        let csrf = login.field("csrf");
        dashboard
            .post("/dashboard/login", &[("csrf", &csrf), ("key", "2468")])
            .await
            .expect(401, "PIN on the dashboard");

        // A till session is no dashboard session either.
        let mut q1 = Till::new(&server);
        q1.enrol(&shop.device_q1).await;
        q1.sign_in(&shop.lan_q1, "2468")
            .await
            .expect(303, "sign in at Q1");
        q1.get("/dashboard/overview")
            .await
            .expect(303, "till cookie on the dashboard");
        // Another brand's customer is not found from this brand's till.
        let other = self::shop(&server, 7202).await;
        q1.get(&format!("/till/customers/{}", other.customer))
            .await
            .expect(404, "another brand's customer");
        let page = q1
            .get(&format!("/till/find?q={}", other.phone.replace('+', "%2B")))
            .await
            .expect(200, "another brand's phone");
        assert!(!page.text.contains(&other.customer), "{}", page.text);
        assert!(page.text.contains("till-not-found"), "{}", page.text);
        // Nor does a till session work once the member is removed.
        server
            .call(
                reqwest::Method::DELETE,
                &format!("/v1/staff/{}", shop.lan_q1),
                Some(&shop.admin),
                Body::None,
            )
            .await
            .expect(204, "remove");
        q1.get("/till/find?q=0900000000")
            .await
            .expect(303, "removed member");
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_pins_lock_a_member_out_until_a_new_pin() {
    for db in dbs() {
        let server = spawn(db).await;
        let shop = shop(&server, 7301).await;
        let mut till = Till::new(&server);
        till.enrol(&shop.device_q3).await;
        for i in 0..PIN_ATTEMPTS {
            till.sign_in(&shop.minh_q3, "0000")
                .await
                .expect(401, &format!("wrong PIN {i}"));
        }
        // Counted, not timed: the right PIN is refused now.
        till.sign_in(&shop.minh_q3, "1357")
            .await
            .expect(423, "locked");
        let staff = server
            .get("/v1/staff", &shop.admin)
            .await
            .expect(200, "staff");
        let minh = staff.json["items"]
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .find(|s| s["id"] == shop.minh_q3.as_str())
                    .cloned()
            })
            .unwrap_or_default();
        assert_eq!(minh["locked"], true, "{minh}");
        server
            .put(
                &format!("/v1/staff/{}/pin", shop.minh_q3),
                &shop.admin,
                &json!({"pin": "8642"}),
            )
            .await
            .expect(204, "new PIN");
        till.sign_in(&shop.minh_q3, "8642")
            .await
            .expect(303, "unlocked");
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_staff_and_enrols_a_till_from_the_dashboard() {
    let server = spawn(dbs()[0]).await;
    let shop = shop(&server, 7501).await;
    let mut admin = Till::new(&server);
    let login = admin
        .get("/dashboard/login")
        .await
        .expect(200, "login form");
    let csrf = login.field("csrf");
    admin
        .post("/dashboard/login", &[("csrf", &csrf), ("key", &shop.admin)])
        .await
        .expect(303, "admin signs in");
    let page = admin
        .get("/dashboard/staff")
        .await
        .expect(200, "staff page");
    assert!(
        page.text.contains("Lan") && page.text.contains("Minh"),
        "{}",
        page.text
    );
    let csrf = page.field("csrf");
    // The first location of the form's list.
    let marker = "<option value=\"";
    let start = page
        .text
        .find(marker)
        .map(|i| i + marker.len())
        .unwrap_or_else(|| panic!("no location option in {}", page.text));
    let end = page.text[start..].find('"').unwrap_or(0) + start;
    let location = page.text[start..end].to_owned();
    // A bad PIN is shown on the page, not a server error.
    let refused = admin
        .post(
            "/dashboard/staff",
            &[
                ("csrf", &csrf),
                ("location", &location),
                ("name", "Hoa"),
                ("pin", "12"),
            ],
        )
        .await
        .expect(422, "short PIN");
    assert!(refused.text.contains("pin"), "{}", refused.text);
    admin
        .post(
            "/dashboard/staff",
            &[
                ("csrf", &csrf),
                ("location", &location),
                ("name", "Hoa"),
                ("pin", "5791"),
            ],
        )
        .await
        .expect(303, "staff added");
    // A form without the session's CSRF token is refused.
    admin
        .post(
            "/dashboard/staff",
            &[
                ("csrf", "forged"),
                ("location", &location),
                ("name", "X"),
                ("pin", "5791"),
            ],
        )
        .await
        .expect(403, "forged form");
    // Enrolling this browser puts the device token in its cookie and opens the till.
    admin
        .post(
            "/dashboard/staff/devices",
            &[
                ("csrf", &csrf),
                ("location", &location),
                ("label", "counter"),
            ],
        )
        .await
        .expect(303, "enrolled here");
    assert!(admin.cookie("regulars_device").is_some());
    let form = admin.get("/till/").await.expect(200, "sign-in form");
    assert!(form.text.contains("Hoa"), "{}", form.text);
    let staff = server
        .get("/v1/staff", &shop.admin)
        .await
        .expect(200, "staff");
    let hoa = staff.json["items"]
        .as_array()
        .and_then(|items| items.iter().find(|s| s["name"] == "Hoa").cloned())
        .unwrap_or_default();
    admin
        .sign_in(hoa["id"].as_str().unwrap_or_default(), "5791")
        .await
        .expect(303, "Hoa signs in");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_register_form_shows_the_notice_and_records_its_version() {
    for db in dbs() {
        let server = spawn(db).await;
        let shop = shop(&server, 7301).await;
        let mut till = Till::new(&server);
        till.enrol(&shop.device_q1).await;
        till.sign_in(&shop.lan_q1, "2468")
            .await
            .expect(303, "sign in");
        // No notice published: nothing shown, no version recorded.
        let form = till.get("/till/register").await.expect(200, "form");
        assert!(!form.text.contains("notice_version"), "{db:?}");
        for text in ["Thông báo cũ", "Chúng tôi dùng số điện thoại để tích điểm."]
        {
            server
                .put(
                    "/v1/brand/notice",
                    &shop.admin,
                    &json!({"texts": {"vi": text}}),
                )
                .await
                .expect(200, "notice");
        }
        let form = till.get("/till/register").await.expect(200, "form");
        assert!(
            form.text
                .contains("Chúng tôi dùng số điện thoại để tích điểm."),
            "{db:?}: {}",
            form.text
        );
        assert_eq!(form.field("notice_version"), "2", "{db:?}");
        let csrf = form.field("csrf");
        let newcomer = phone(7399).as_str().to_owned();
        till.post(
            "/till/customers",
            &[
                ("csrf", &csrf),
                ("phone", &newcomer),
                ("name", "Trần Minh"),
                ("sms", "yes"),
                ("notice_version", "2"),
            ],
        )
        .await
        .expect(200, "register");
        let found = server
            .get(
                &format!(
                    "/v1/customers/lookup?phone={}",
                    newcomer.replace('+', "%2B")
                ),
                &shop.admin,
            )
            .await
            .expect(200, "lookup");
        let history = server
            .get(
                &format!("/v1/customers/{}/consents", found.str("/customer/id")),
                &shop.admin,
            )
            .await
            .expect(200, "consents");
        let events = history.json["history"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            !events.is_empty() && events.iter().all(|e| e["notice_version"] == 2),
            "{db:?}: {}",
            history.text
        );
        // A version the brand never published is refused, and nobody is registered.
        let other = phone(7398).as_str().to_owned();
        let refused = till
            .post(
                "/till/customers",
                &[("csrf", &csrf), ("phone", &other), ("notice_version", "9")],
            )
            .await
            .expect(422, "unpublished version");
        assert!(refused.text.contains("notice_version"), "{db:?}");
        server
            .get(
                &format!("/v1/customers/lookup?phone={}", other.replace('+', "%2B")),
                &shop.admin,
            )
            .await
            .expect(404, "not registered");
        server.stop().await;
    }
}
