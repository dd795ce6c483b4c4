//! The dashboard and the customer pages over real HTTP on both databases: sign-in and
//! its cookie, CSRF, viewer limits, revocation, tenant scoping, languages, and the
//! signed customer links.

use crate::pos::order_data;
use crate::server::{Tenant, TestServer, dbs, spawn};
use regulars_tests::phone;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

/// A brand with a programme, a reward, a named customer with points and a voucher,
/// a scoring run, and one key of each role.
pub struct Shop {
    /// The brand and its first admin key.
    pub tenant: Tenant,
    /// A viewer key.
    pub viewer: String,
    /// A till key.
    pub pos: String,
    /// The viewer key's id.
    pub viewer_id: String,
    /// The customer's id.
    pub customer: String,
    /// The customer's name.
    pub name: String,
    /// The customer's phone as registered.
    pub phone: String,
    /// The reward's id.
    pub reward: String,
    /// The voucher the customer holds.
    pub voucher: String,
    /// The customer's balance.
    pub balance: i64,
}

/// Makes a [`Shop`] over the JSON API.
pub async fn shop(server: &TestServer, name: &str, n: u64) -> Shop {
    let tenant = server.tenant(name).await;
    let admin = tenant.admin.as_str();
    let rules: Value =
        serde_json::from_str(regulars_tests::RULES).unwrap_or_else(|e| panic!("{e}"));
    server
        .put("/v1/program/earning-rules", admin, &rules)
        .await
        .expect(200, "rules");
    let tiers = json!({
        "metric": {"kind": "points"}, "window_days": 365, "review_period": "year",
        "tiers": [
            {"code": "member", "name": "Member", "threshold": 0, "benefits": {"earn_multiplier": "1"}},
            {"code": "silver", "name": "Silver", "threshold": 100_000, "benefits": {"earn_multiplier": "1"}}
        ]
    });
    server
        .put("/v1/program/tiers", admin, &tiers)
        .await
        .expect(200, "tiers");
    server
        .post("/v1/locations", admin, &json!({"code": "q1", "name": name}))
        .await
        .expect(201, "location");
    let reward = server
        .post(
            "/v1/rewards",
            admin,
            &json!({"name": "Free topping", "cost": 10,
                    "kind": {"type": "free_modifier", "sku": "TOP-CHEESE"}, "validity_days": 30}),
        )
        .await
        .expect(201, "reward")
        .str("/id");
    let customer_name = format!("{name} Nguyễn Lan");
    let phone = phone(n).as_str().to_owned();
    let customer = server
        .post(
            "/v1/customers",
            admin,
            &json!({"phone": phone, "name": customer_name}),
        )
        .await
        .expect(201, "customer")
        .str("/id");
    for i in 0..3 {
        server
            .post(
                "/v1/orders",
                admin,
                &order_data(
                    &format!("{name}-{i}"),
                    Some(&phone),
                    OffsetDateTime::now_utc() - Duration::days(30 - 10 * i),
                    2,
                ),
            )
            .await
            .expect(200, "order");
    }
    server
        .post(
            &format!("/v1/customers/{customer}/adjustments"),
            admin,
            &json!({"points": 100, "reason": "opening balance"}),
        )
        .await
        .expect(201, "adjustment");
    let voucher = server
        .post(
            &format!("/v1/customers/{customer}/redemptions"),
            admin,
            &json!({"reward_id": reward}),
        )
        .await
        .expect(201, "voucher")
        .str("/code");
    server
        .post("/v1/scoring/runs", admin, &json!({}))
        .await
        .expect(201, "scoring run");
    let viewer = server
        .post("/v1/keys", admin, &json!({"role": "viewer"}))
        .await
        .expect(201, "viewer key");
    let pos = server
        .post("/v1/keys", admin, &json!({"role": "pos"}))
        .await
        .expect(201, "pos key")
        .str("/token");
    let balance = server
        .get(&format!("/v1/customers/{customer}"), admin)
        .await
        .expect(200, "profile")
        .int("/balance");
    Shop {
        viewer: viewer.str("/token"),
        viewer_id: viewer.str("/key/id"),
        pos,
        customer,
        name: customer_name,
        phone,
        reward,
        voucher,
        balance,
        tenant,
    }
}

/// An HTML answer.
#[derive(Debug)]
struct Page {
    status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
    csp: Option<String>,
    text: String,
}

impl Page {
    #[track_caller]
    fn expect(self, status: u16, what: &str) -> Page {
        assert_eq!(self.status, status, "{what}: {}", self.text);
        self
    }

    /// The CSRF token of the page's forms.
    #[track_caller]
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .text
            .find(marker)
            .unwrap_or_else(|| panic!("no CSRF token in {}", self.text))
            + marker.len();
        let end = self.text[start..].find('"').unwrap_or(0) + start;
        self.text[start..end].to_owned()
    }
}

/// A browser-less dashboard user: one cookie jar, no redirects followed.
struct Visitor<'a> {
    server: &'a TestServer,
    client: reqwest::Client,
    cookie: Option<String>,
}

impl<'a> Visitor<'a> {
    fn new(server: &'a TestServer) -> Visitor<'a> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|e| panic!("client: {e}"));
        Visitor {
            server,
            client,
            cookie: None,
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder, what: &str) -> Page {
        let request = match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        };
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{:?}: {what}: {e}", self.server.db));
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let set_cookies = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        let csp = response
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.unwrap_or_default();
        Page {
            status,
            location,
            set_cookies,
            csp,
            text,
        }
    }

    async fn get(&self, path: &str) -> Page {
        let url = format!("{}{path}", self.server.base);
        self.send(self.client.get(url), path).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let url = format!("{}{path}", self.server.base);
        self.send(self.client.post(url).form(form), path).await
    }

    /// The sign-in form's nonce cookie (`name=value`) and token.
    async fn login_form(&self) -> (String, String) {
        let form = self.get("/dashboard/login").await.expect(200, "login form");
        let cookie = form
            .set_cookies
            .iter()
            .find(|c| c.starts_with("regulars_login="))
            .and_then(|c| c.split(';').next())
            .unwrap_or_else(|| panic!("no sign-in cookie: {form:?}"))
            .to_owned();
        (cookie, form.csrf())
    }

    /// Posts the sign-in form with `key`, the form's `cookie` and `token`.
    async fn post_login(&self, key: &str, cookie: &str, token: &str) -> Page {
        let url = format!("{}/dashboard/login", self.server.base);
        let request = self
            .client
            .post(url)
            .header("cookie", cookie)
            .form(&[("key", key), ("csrf", token)]);
        let response = Visitor {
            server: self.server,
            client: self.client.clone(),
            cookie: None,
        };
        response.send(request, "sign in").await
    }

    /// Signs in with `key` as a browser does (form first); returns the sign-in answer.
    async fn sign_in(&mut self, key: &str) -> Page {
        let (cookie, token) = self.login_form().await;
        let page = self.post_login(key, &cookie, &token).await;
        if let Some(cookie) = page
            .set_cookies
            .iter()
            .find(|c| c.starts_with("regulars_session="))
        {
            self.cookie = cookie.split(';').next().map(str::to_owned);
        }
        page
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_signed_scoped_and_end_with_their_key() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = shop(&server, "Brand A", 301).await;
        let b = shop(&server, "Brand B", 302).await;

        // Signed out: every page sends to the sign-in page.
        let mut admin = Visitor::new(&server);
        let page = admin
            .get("/dashboard/overview")
            .await
            .expect(303, "signed out");
        assert_eq!(page.location.as_deref(), Some("/dashboard/login"));

        // The sign-in form is bound to its own nonce cookie: without it, or with
        // another browser's, a sign-in is refused (no login CSRF).
        let (cookie, token) = admin.login_form().await;
        let (other_cookie, _) = admin.login_form().await;
        admin
            .post_login(&a.tenant.admin, "", &token)
            .await
            .expect(403, "no sign-in cookie");
        admin
            .post_login(&a.tenant.admin, &other_cookie, &token)
            .await
            .expect(403, "another form's cookie");
        admin
            .post_login(&a.tenant.admin, &cookie, "")
            .await
            .expect(403, "no token");

        // A wrong key is refused in the form; a till key cannot open the dashboard.
        admin.sign_in("rgk_not_a_key").await.expect(401, "bad key");
        admin.sign_in(&a.pos).await.expect(401, "till key");
        assert!(admin.cookie.is_none());

        // The cookie: HttpOnly, SameSite=Strict, expiring, and not the key.
        let signed = admin.sign_in(&a.tenant.admin).await.expect(303, "sign in");
        let set = signed
            .set_cookies
            .iter()
            .find(|c| c.starts_with("regulars_session="))
            .unwrap_or_else(|| panic!("no session cookie: {signed:?}"));
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        assert!(set.contains("Max-Age="), "{set}");
        assert!(
            !set.contains(&a.tenant.admin),
            "the cookie holds the key: {set}"
        );
        let secret = a.tenant.admin.rsplit('_').next().unwrap_or_default();
        assert!(!set.contains(secret), "the cookie holds the key's secret");

        // The overview shows the run's figures.
        let overview = admin
            .get("/dashboard/overview")
            .await
            .expect(200, "overview");
        assert!(overview.text.contains("id=\"customers-total\""));
        assert!(
            overview.text.contains("chart-segments"),
            "{}",
            overview.text
        );

        // Tenant scoping: A's session reaches A's customer, not B's.
        let own = admin
            .get(&format!("/dashboard/customers/{}", a.customer))
            .await
            .expect(200, "own customer");
        assert!(own.text.contains(&a.voucher), "the voucher is listed");
        let other = admin
            .get(&format!("/dashboard/customers/{}", b.customer))
            .await
            .expect(404, "another brand's customer");
        assert!(!other.text.contains(&b.name));
        assert!(other.text.contains("<html"), "{}", other.text);
        admin
            .get("/dashboard/customers/not-an-id")
            .await
            .expect(404, "not an id");
        let search = admin
            .get(&format!(
                "/dashboard/customers?q={}",
                b.phone.replace('+', "%2B")
            ))
            .await
            .expect(200, "search for B's phone");
        assert!(
            !search.text.contains(&b.customer),
            "B's customer found by A"
        );
        let search = admin
            .get("/dashboard/customers?q=Brand+B")
            .await
            .expect(200, "search for B's name");
        assert!(!search.text.contains(&b.customer));
        let search = admin
            .get("/dashboard/customers?q=nguy%E1%BB%85n")
            .await
            .expect(200, "search by name");
        assert!(search.text.contains(&a.customer), "{}", search.text);

        // CSRF: a POST without the session's token is refused, with it accepted.
        let segments = admin
            .get("/dashboard/segments")
            .await
            .expect(200, "segments");
        let csrf = segments.csrf();
        let form = |token: &'static str| {
            vec![
                ("csrf", token),
                ("name", "Loyal fans"),
                ("rule", "frequency >= 2"),
            ]
        };
        admin
            .post("/dashboard/segments", &form(""))
            .await
            .expect(403, "no token");
        let leaked: &'static str = Box::leak(csrf.clone().into_boxed_str());
        let mut other_session = Visitor::new(&server);
        other_session
            .sign_in(&b.tenant.admin)
            .await
            .expect(303, "B signs in");
        other_session
            .post("/dashboard/segments", &form(leaked))
            .await
            .expect(403, "A's token in B's session");
        let bad = admin
            .post(
                "/dashboard/segments",
                &[("csrf", &csrf), ("name", "Typo"), ("rule", "recency > 3")],
            )
            .await
            .expect(422, "bad rule");
        assert!(bad.text.contains("rule-error"), "{}", bad.text);
        assert!(bad.text.contains("column 1"), "{}", bad.text);
        assert!(bad.text.contains("did you mean"), "{}", bad.text);
        admin
            .post("/dashboard/segments", &form(leaked))
            .await
            .expect(200, "create segment");

        // A viewer sees no edit forms and gets 403 on a POST with a valid token.
        let mut viewer = Visitor::new(&server);
        viewer
            .sign_in(&a.viewer)
            .await
            .expect(303, "viewer signs in");
        let programme = viewer
            .get("/dashboard/programme")
            .await
            .expect(200, "programme");
        assert!(!programme.text.contains("rules-form"));
        let segments = viewer
            .get("/dashboard/segments")
            .await
            .expect(200, "segments");
        assert!(!segments.text.contains("segment-form"));
        assert!(
            segments.text.contains("Loyal fans"),
            "the admin's new segment is listed"
        );
        assert!(!programme.text.contains(&format!("reward-{}", a.reward)));
        let viewer_csrf = programme.csrf();
        viewer
            .post(
                &format!("/dashboard/programme/rewards/{}", a.reward),
                &[
                    ("csrf", &viewer_csrf),
                    ("name", "Hacked"),
                    ("cost", "1"),
                    ("validity_days", "30"),
                ],
            )
            .await
            .expect(403, "viewer edits a reward");

        // Revoking the key ends its session.
        server
            .call(
                reqwest::Method::DELETE,
                &format!("/v1/keys/{}", a.viewer_id),
                Some(&a.tenant.admin),
                crate::server::Body::None,
            )
            .await
            .expect(204, "revoke");
        let after = viewer
            .get("/dashboard/overview")
            .await
            .expect(303, "revoked");
        assert_eq!(after.location.as_deref(), Some("/dashboard/login"));

        // Sign-out forgets the cookie.
        let out = admin
            .post("/dashboard/logout", &[("csrf", &csrf)])
            .await
            .expect(303, "sign out");
        assert!(
            out.set_cookies
                .iter()
                .any(|c| c.starts_with("regulars_session=;") && c.contains("Max-Age=0"))
        );

        // An altered cookie is no session.
        let mut forged = Visitor::new(&server);
        forged.cookie = admin
            .cookie
            .as_ref()
            .map(|c| c.replace(&a.tenant.brand.to_string(), &b.tenant.brand.to_string()));
        forged
            .get("/dashboard/overview")
            .await
            .expect(303, "forged cookie");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_speak_vietnamese_or_english() {
    let server = spawn(dbs()[0]).await;
    let a = shop(&server, "Brand A", 401).await;
    let mut visitor = Visitor::new(&server);
    visitor
        .sign_in(&a.tenant.admin)
        .await
        .expect(303, "sign in");
    let english = visitor.get("/dashboard/overview").await.expect(200, "en");
    assert!(english.text.contains("Overview"));
    let vietnamese = visitor
        .get("/dashboard/overview?lang=vi")
        .await
        .expect(200, "vi");
    assert!(vietnamese.text.contains("Tổng quan"), "{}", vietnamese.text);
    assert!(
        vietnamese
            .set_cookies
            .iter()
            .any(|c| c.starts_with("lang=vi"))
    );
    let by_header = visitor
        .send(
            visitor
                .client
                .get(format!("{}/dashboard/login", server.base))
                .header("accept-language", "vi-VN,vi;q=0.9,en;q=0.5"),
            "accept-language",
        )
        .await
        .expect(200, "login in vi");
    assert!(by_header.text.contains("Đăng nhập"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_links_are_signed_and_scoped() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = shop(&server, "Brand A", 501).await;
        let b = shop(&server, "Brand B", 502).await;
        let link = server
            .post(
                &format!("/v1/customers/{}/qr-link", a.customer),
                &a.pos,
                &json!({}),
            )
            .await
            .expect(201, "link");
        let url = link.str("/url");
        assert!(link.str("/qr_svg").contains("<svg"));
        let path = url
            .strip_prefix(&server.base)
            .unwrap_or_else(|| panic!("{url} is not on {}", server.base))
            .to_owned();
        assert!(path.starts_with("/c/"));

        let visitor = Visitor::new(&server);
        let card = visitor.get(&path).await.expect(200, "card");
        assert!(
            card.text.contains(&format!("{} ", a.balance)),
            "{}",
            card.text
        );
        assert!(card.text.contains(&a.voucher));
        assert!(card.text.contains("<svg"), "the voucher's QR code");
        let csp = card.csp.clone().unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'"),
            "nothing loads from elsewhere: {csp}"
        );
        assert!(!card.text.contains("<script"), "no JavaScript");

        // Any change to the token is a 404 page, never a 500 or another customer.
        let token = path.trim_start_matches("/c/").to_owned();
        for i in [0, token.len() / 2, token.len() - 1] {
            let mut altered = token.clone().into_bytes();
            altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(altered).unwrap_or_default();
            let page = visitor.get(&format!("/c/{altered}")).await;
            assert_eq!(page.status, 404, "altered at {i}: {}", page.text);
        }
        let garbage = visitor.get("/c/%00%ff").await.expect(404, "garbage");
        assert!(
            garbage.text.contains("<html"),
            "a page for people: {}",
            garbage.text
        );

        // Keys: a viewer may not make links; B's customer is unknown to A's keys.
        server
            .post(
                &format!("/v1/customers/{}/qr-link", a.customer),
                &a.viewer,
                &json!({}),
            )
            .await
            .expect_error(403, "forbidden", "viewer");
        server
            .post(
                &format!("/v1/customers/{}/qr-link", b.customer),
                &a.tenant.admin,
                &json!({}),
            )
            .await
            .expect_error(404, "not_found", "B's customer");
        server
            .call(
                reqwest::Method::POST,
                &format!("/v1/customers/{}/qr-link", a.customer),
                None,
                crate::server::Body::None,
            )
            .await
            .expect_error(401, "unauthorized", "no key");
    }
}
