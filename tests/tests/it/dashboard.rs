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
    server.unrestricted(admin).await;
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
    server.score(admin).await;
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
pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    set_cookies: Vec<String>,
    csp: Option<String>,
    pub(crate) text: String,
}

impl Page {
    #[track_caller]
    pub(crate) fn expect(self, status: u16, what: &str) -> Page {
        assert_eq!(self.status, status, "{what}: {}", self.text);
        self
    }

    /// The CSRF token of the page's forms.
    #[track_caller]
    pub(crate) fn csrf(&self) -> String {
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
pub(crate) struct Visitor<'a> {
    server: &'a TestServer,
    client: reqwest::Client,
    cookie: Option<String>,
}

impl<'a> Visitor<'a> {
    pub(crate) fn new(server: &'a TestServer) -> Visitor<'a> {
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

    pub(crate) async fn get(&self, path: &str) -> Page {
        let url = format!("{}{path}", self.server.base);
        self.send(self.client.get(url), path).await
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
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
    pub(crate) async fn sign_in(&mut self, key: &str) -> Page {
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
        // Phone numbers in the national form people read, not E.164.
        let readable = regulars_domain::Phone::parse_e164(&a.phone)
            .unwrap_or_else(|e| panic!("{e}"))
            .readable();
        assert!(readable.starts_with('0'), "{readable}");
        for page in [
            "/dashboard/customers".to_owned(),
            format!("/dashboard/customers/{}", a.customer),
        ] {
            let seen = admin.get(&page).await.expect(200, "admin's customers");
            assert!(seen.text.contains(&readable), "{page}: {}", seen.text);
            assert!(!seen.text.contains(&a.phone), "{page}: {}", seen.text);
        }

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
        // A viewer sees phone numbers partly hidden and voucher codes masked.
        let hidden = regulars_domain::Phone::parse_e164(&a.phone)
            .unwrap_or_else(|e| panic!("{e}"))
            .partly_hidden();
        let masked = regulars_loyalty::vouchers::masked_code(&a.voucher);
        for page in [
            format!("/dashboard/customers/{}", a.customer),
            "/dashboard/customers".to_owned(),
        ] {
            let seen = viewer.get(&page).await.expect(200, "viewer's customers");
            assert!(seen.text.contains(&hidden), "{page}: {}", seen.text);
            assert!(!seen.text.contains(&a.phone), "{page}: {}", seen.text);
        }
        let card = viewer
            .get(&format!("/dashboard/customers/{}", a.customer))
            .await
            .expect(200, "viewer's customer");
        let canonical: String = a.voucher.chars().filter(|c| *c != '-').collect();
        assert!(card.text.contains(&masked), "{}", card.text);
        assert!(!card.text.contains(&a.voucher), "{}", card.text);
        assert!(!card.text.contains(&canonical), "{}", card.text);
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
        // ... and ends the session on the server: a copy of the cookie kept from before
        // signing out opens nothing.
        let copied = admin
            .get("/dashboard/overview")
            .await
            .expect(303, "copied cookie after sign-out");
        assert_eq!(copied.location.as_deref(), Some("/dashboard/login"));
        let mut again = Visitor::new(&server);
        again
            .sign_in(&a.tenant.admin)
            .await
            .expect(303, "sign in after sign-out");
        again
            .get("/dashboard/overview")
            .await
            .expect(200, "new session after sign-out");

        // An altered cookie is no session.
        let mut forged = Visitor::new(&server);
        forged.cookie = again
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

/// Every `<data value="…">` of the element whose id is `id`, up to the end of the first
/// table (or section) after it, in order; HTML entities in values undone.
#[track_caller]
fn values_in(text: &str, id: &str) -> Vec<String> {
    let start = text
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {text}"));
    let rest = &text[start..];
    let end = ["</table>", "</section>"]
        .iter()
        .filter_map(|m| rest.find(m))
        .min()
        .unwrap_or(rest.len());
    let mut region = &rest[..end];
    let mut values = Vec::new();
    while let Some(at) = region.find("<data") {
        region = &region[at..];
        let tag_end = region.find('>').unwrap_or(region.len());
        let tag = &region[..tag_end];
        let marker = "value=\"";
        if let Some(v) = tag.find(marker) {
            let from = v + marker.len();
            let to = tag[from..].find('"').map_or(tag.len(), |e| e + from);
            values.push(
                tag[from..to]
                    .replace("&quot;", "\"")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&"),
            );
        }
        region = &region[tag_end.min(region.len())..];
    }
    values
}

/// The one exact value of the figure `id`.
#[track_caller]
fn figure(text: &str, id: &str) -> String {
    values_in(text, id)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("#{id} has no value"))
}

/// A page value against the API's: the same number, or both absent.
#[track_caller]
fn same_number(page: &str, api: &Value, what: &str) {
    match api {
        Value::Null => assert_eq!(page, "", "{what}: the API has none"),
        Value::String(s) => assert_eq!(page, s, "{what}"),
        Value::Number(n) => {
            let page: f64 = page
                .parse()
                .unwrap_or_else(|e| panic!("{what}: {page:?}: {e}"));
            assert_eq!(Some(page), n.as_f64(), "{what}");
        }
        other => panic!("{what}: unexpected {other}"),
    }
}

/// The texts of the cells with class `class` in the table `id`, in order.
#[track_caller]
fn cells(text: &str, id: &str, class: &str) -> Vec<String> {
    let start = text
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &text[start..];
    let rest = &rest[..rest.find("</table>").unwrap_or(rest.len())];
    let marker = format!("<td class=\"{class}\">");
    rest.match_indices(&marker)
        .map(|(at, _)| {
            let from = at + marker.len();
            let to = rest[from..].find("</td>").map_or(rest.len(), |e| e + from);
            rest[from..to].to_owned()
        })
        .collect()
}

/// Orders that make the reports say something: a second customer ordering twice this
/// week, an order without a customer, and an order two months ago.
async fn more_orders(server: &TestServer, shop: &Shop, tag: &str, n: u64) {
    let now = OffsetDateTime::now_utc();
    let regular = phone(n + 5_000).as_str().to_owned();
    let orders = [
        (
            format!("{tag}-r1"),
            Some(regular.as_str()),
            now - Duration::days(3),
        ),
        (
            format!("{tag}-r2"),
            Some(regular.as_str()),
            now - Duration::days(1),
        ),
        (format!("{tag}-anon"), None, now - Duration::hours(5)),
        (
            format!("{tag}-old"),
            Some(shop.phone.as_str()),
            now - Duration::days(60),
        ),
    ];
    for (id, phone, at) in orders {
        server
            .post(
                "/v1/orders",
                &shop.tenant.admin,
                &order_data(&id, phone, at, 3),
            )
            .await
            .expect(200, "order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_shows_the_figures_of_the_reports_api() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = shop(&server, "Brand A", 601).await;
        more_orders(&server, &a, "A", 601).await;
        let admin_key = a.tenant.admin.as_str();
        let mut admin = Visitor::new(&server);
        admin.sign_in(admin_key).await.expect(303, "sign in");

        // The API's default period is the page's default, and its `to` is the day
        // every other period ends on.
        let default = server
            .get("/v1/reports/overview", admin_key)
            .await
            .expect(200, "overview");
        let to = default.str("/to");
        let to_date = time::Date::parse(
            &to,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .unwrap_or_else(|e| panic!("{to}: {e}"));
        for (days, query) in [(30, ""), (7, "?days=7"), (90, "?days=90")] {
            let what = format!("{db:?}, {days} days");
            let page = admin
                .get(&format!("/dashboard/overview{query}"))
                .await
                .expect(200, &what);
            let from = (to_date - Duration::days(days)).to_string();
            let interval = if days > 31 { "week" } else { "day" };
            let api = if days == 30 {
                server.get("/v1/reports/overview", admin_key).await
            } else {
                server
                    .get(
                        &format!("/v1/reports/overview?from={from}&interval={interval}"),
                        admin_key,
                    )
                    .await
            }
            .expect(200, &what);
            assert_eq!(api.str("/from"), from, "{what}");
            assert_eq!(api.str("/to"), to, "{what}");
            assert!(
                page.text
                    .contains(&format!("data-from=\"{from}\" data-to=\"{to}\"")),
                "{what}: the page's period: {}",
                page.text
            );
            let j = &api.json;
            for (id, field) in [
                ("active-customers", &j["active_customers"]),
                ("revenue", &j["revenue"]["amount"]),
                ("orders", &j["orders"]),
                ("average-order-value", &j["average_order_value"]["amount"]),
                ("repeat-rate", &j["repeat_rate"]),
                ("redemption-rate", &j["voucher_redemption_rate"]),
                ("new-customers", &j["new_customers"]),
                ("comeback-rate", &j["comeback_rate"]),
            ] {
                same_number(&figure(&page.text, id), field, &format!("{what}: {id}"));
            }
            assert!(
                j["orders"].as_u64().is_some_and(|n| n >= 3),
                "{what}: the data says little: {}",
                api.text
            );
            // Money as people read it.
            let revenue = j["revenue"]["amount"].as_str().unwrap_or_default();
            let digits: String = revenue.chars().filter(char::is_ascii_digit).collect();
            let grouped = page.text[page.text.find("id=\"revenue\"").unwrap_or(0)..]
                .split("</data>")
                .next()
                .unwrap_or_default()
                .to_owned();
            assert!(
                grouped.contains("\u{a0}₫") && grouped.contains('.') || digits.len() < 4,
                "{what}: revenue shown as {grouped}"
            );
            // One point per bucket of the API's series in both trend charts.
            let buckets = j["series"].as_array().map_or(0, Vec::len);
            for chart in ["chart-revenue", "chart-orders"] {
                let svg = &page.text[page.text.find(&format!("id=\"{chart}\"")).unwrap_or(0)..];
                let svg = &svg[..svg.find("</svg>").unwrap_or(svg.len())];
                let lines = svg.matches("<polyline").count();
                assert_eq!(
                    svg.matches("<circle").count(),
                    buckets * lines,
                    "{what}: {chart}"
                );
            }

            // Revenue by segment and by location: the same rows in the same order.
            for (by, id) in [
                ("segment", "revenue-by-segment"),
                ("location", "revenue-by-location"),
            ] {
                let api = server
                    .get(
                        &format!("/v1/reports/revenue?by={by}&from={from}&to={to}"),
                        admin_key,
                    )
                    .await
                    .expect(200, &what);
                let rows = api.json["rows"].as_array().cloned().unwrap_or_default();
                assert!(!rows.is_empty(), "{what}: no revenue by {by}");
                let amounts: Vec<Value> = rows
                    .iter()
                    .map(|r| r["revenue"]["amount"].clone())
                    .collect();
                let shown = values_in(&page.text, id);
                assert_eq!(shown.len(), amounts.len(), "{what}: rows by {by}");
                for (shown, api) in shown.iter().zip(&amounts) {
                    same_number(shown, api, &format!("{what}: revenue by {by}"));
                }
                let labels: Vec<String> = rows
                    .iter()
                    .map(|r| r["label"].as_str().unwrap_or_default().to_owned())
                    .collect();
                assert_eq!(cells(&page.text, id, "key"), labels, "{what}: {by} labels");
                let orders: Vec<String> = rows.iter().map(|r| r["orders"].to_string()).collect();
                assert_eq!(
                    cells(&page.text, id, "orders"),
                    orders,
                    "{what}: {by} orders"
                );
            }
        }

        // Retention: every cell of the API's triangle, in order.
        let page = admin
            .get("/dashboard/overview")
            .await
            .expect(200, "overview");
        let cohorts = server
            .get("/v1/reports/cohorts", admin_key)
            .await
            .expect(200, "cohorts");
        let shares: Vec<Value> = cohorts.json["cohorts"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["retention"].as_array().cloned().unwrap_or_default())
            .map(|cell| cell["share"].clone())
            .collect();
        let shown = values_in(&page.text, "cohorts");
        assert_eq!(shown.len(), shares.len(), "{db:?}: cohort cells");
        assert!(
            shares.iter().any(|s| s.as_f64().is_some_and(|s| s > 0.0)),
            "{db:?}: an empty triangle proves little: {}",
            cohorts.text
        );
        for (shown, api) in shown.iter().zip(&shares) {
            same_number(shown, api, &format!("{db:?}: retention"));
        }
        let sizes: Vec<String> = cohorts.json["cohorts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["size"].to_string())
            .collect();
        assert_eq!(
            cells(&page.text, "cohorts", "size"),
            sizes,
            "{db:?}: cohort sizes"
        );

        // Vietnamese money and labels.
        let vi = admin
            .get("/dashboard/overview?lang=vi")
            .await
            .expect(200, "vi");
        assert!(vi.text.contains("Doanh thu theo phân khúc"), "{}", vi.text);
    }
}

/// A broadcast campaign of `shop` offering its reward, as the API takes it.
fn broadcast(shop: &Shop, name: &str) -> Value {
    json!({
        "name": name,
        "trigger": {"type": "broadcast"},
        "offer": {"type": "fixed", "reward": {"reward_id": shop.reward,
                  "cost": {"amount": "10000", "currency": "VND"}}},
        "template": "{{name}} ơi, {{shop}} tặng bạn {{reward}}",
        "holdout": 0.5,
        "policy": {}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_pages_show_the_report_of_the_api_to_their_brand_only() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = shop(&server, "Brand A", 701).await;
        let b = shop(&server, "Brand B", 702).await;
        more_orders(&server, &a, "A", 701).await;
        let admin_key = a.tenant.admin.as_str();
        // Customers who accept promotional SMS: some get the message, some are held out.
        for i in 0..6 {
            server
                .post(
                    "/v1/customers",
                    admin_key,
                    &json!({"phone": phone(7_100 + i).as_str(), "name": format!("Khách {i}"),
                            "consent": {"sms": true}}),
                )
                .await
                .expect(201, "customer");
        }
        let mut admin = Visitor::new(&server);
        admin.sign_in(admin_key).await.expect(303, "sign in");

        // The form: prefilled with a win-back offering the brand's reward; an invalid
        // document comes back with its path and message next to the text area.
        let form = admin
            .get("/dashboard/campaigns/new")
            .await
            .expect(200, "new campaign form");
        assert!(form.text.contains("overdue"), "{}", form.text);
        assert!(
            form.text.contains(&a.reward),
            "the first reward: {}",
            form.text
        );
        let csrf = form.csrf();
        let mut bad = broadcast(&a, "Too many held out");
        bad["holdout"] = json!(0.9);
        let refused = admin
            .post(
                "/dashboard/campaigns",
                &[("csrf", &csrf), ("document", &bad.to_string())],
            )
            .await
            .expect(422, "invalid document");
        assert!(refused.text.contains("document-error"), "{}", refused.text);
        assert!(refused.text.contains("holdout: "), "{}", refused.text);
        let created = admin
            .post(
                "/dashboard/campaigns",
                &[
                    ("csrf", &csrf),
                    ("document", &broadcast(&a, "Everyone").to_string()),
                ],
            )
            .await
            .expect(303, "create");
        let location = created.location.clone().unwrap_or_default();
        let id = location
            .strip_prefix("/dashboard/campaigns/")
            .unwrap_or_else(|| panic!("created at {location}"))
            .to_owned();
        let api = server
            .get(&format!("/v1/campaigns/{id}"), admin_key)
            .await
            .expect(200, "the campaign in the API");
        assert_eq!(api.str("/status"), "draft");

        // Life cycle through the page's buttons.
        let page = admin.get(&location).await.expect(200, "campaign page");
        assert!(
            page.text.contains("id=\"campaign-launch\""),
            "{}",
            page.text
        );
        admin
            .post(&format!("{location}/launch"), &[("csrf", "")])
            .await
            .expect(403, "launch without a token");
        admin
            .post(&format!("{location}/launch"), &[("csrf", &csrf)])
            .await
            .expect(303, "launch");
        let again = admin
            .post(&format!("{location}/launch"), &[("csrf", &csrf)])
            .await
            .expect(409, "launch twice");
        assert!(again.text.contains("id=\"refused\""), "{}", again.text);
        assert_eq!(
            server
                .get(&format!("/v1/campaigns/{id}"), admin_key)
                .await
                .str("/status"),
            "active"
        );

        // The preview's counts by skip reason are the API's.
        let preview_api = server
            .post(
                &format!("/v1/campaigns/{id}/preview"),
                admin_key,
                &json!({}),
            )
            .await
            .expect(200, "preview");
        let preview = admin
            .get(&format!("{location}?preview=1"))
            .await
            .expect(200, "preview page");
        same_number(
            &figure(&preview.text, "preview-customers"),
            &preview_api.json["customers"],
            "preview customers",
        );
        same_number(
            &figure(&preview.text, "preview-messages"),
            &preview_api.json["messages"],
            "preview messages",
        );
        let skipped = preview_api.json["skipped"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (reason, n) in &skipped {
            let at = preview
                .text
                .find(&format!("data-reason=\"{reason}\""))
                .unwrap_or_else(|| panic!("{reason} not in the preview: {}", preview.text));
            let value = preview.text[at..]
                .split("value=\"")
                .nth(1)
                .and_then(|v| v.split('"').next())
                .unwrap_or_default();
            same_number(value, n, &format!("skipped {reason}"));
        }

        // Run it; the report page shows the API's report.
        server
            .post("/v1/campaigns/runs", admin_key, &json!({}))
            .await
            .expect(201, "run");
        let report = server
            .get(&format!("/v1/campaigns/{id}/report"), admin_key)
            .await
            .expect(200, "report");
        let page = admin.get(&location).await.expect(200, "report page");
        let r = &report.json;
        let groups = values_in(&page.text, "groups");
        assert_eq!(groups.len(), 4, "{}", page.text);
        same_number(&groups[0], &r["treated"], "treated");
        same_number(&groups[1], &r["treated_revenue_minor"], "treated revenue");
        same_number(&groups[2], &r["held_out"], "held out");
        same_number(&groups[3], &r["holdout_revenue_minor"], "held-out revenue");
        assert!(
            r["treated"].as_u64().unwrap_or(0) + r["held_out"].as_u64().unwrap_or(0) > 0,
            "nobody in the campaign: {}",
            report.text
        );
        for (id, field) in [
            ("vouchers-issued", &r["vouchers_issued"]),
            ("vouchers-redeemed", &r["vouchers_redeemed"]),
            ("redemption", &r["redemption_rate"]),
            ("offer-cost", &r["offer_cost_minor"]),
        ] {
            same_number(&figure(&page.text, id), field, id);
        }
        let by_status = r["messages"].as_object().cloned().unwrap_or_default();
        for (status, n) in &by_status {
            let at = page
                .text
                .find(&format!("<tr data-status=\"{status}\">"))
                .unwrap_or_else(|| panic!("{status} not on the page: {}", page.text));
            let value = page.text[at..]
                .split("value=\"")
                .nth(1)
                .and_then(|v| v.split('"').next())
                .unwrap_or_default();
            same_number(value, n, &format!("messages {status}"));
        }
        match &r["attribution"] {
            Value::Null => {
                let reason = r["attribution_unavailable"].as_str().unwrap_or_default();
                assert!(!reason.is_empty(), "{}", report.text);
                let shown = page.text[page
                    .text
                    .find("id=\"attribution-unavailable\"")
                    .unwrap_or_else(|| panic!("no reason shown: {}", page.text))..]
                    .split("</p>")
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                assert!(shown.contains(reason), "{shown} vs {reason}");
            }
            attribution => {
                for (id, field) in [
                    ("incremental-revenue", &attribution["incremental_revenue"]),
                    ("incremental-margin", &attribution["incremental_margin"]),
                    ("roi", &attribution["roi"]),
                ] {
                    same_number(&figure(&page.text, id), field, id);
                }
                let interval = values_in(&page.text, "interval");
                same_number(&interval[0], &attribution["ci_low"], "ci low");
                same_number(&interval[1], &attribution["ci_high"], "ci high");
            }
        }

        // The list shows it active, with its figures.
        let list = admin.get("/dashboard/campaigns").await.expect(200, "list");
        assert!(
            list.text
                .contains(&format!("data-id=\"{id}\" data-status=\"active\"")),
            "{}",
            list.text
        );
        assert!(list.text.contains("Everyone"));

        // Another brand's session: the campaign does not exist for it.
        let mut other = Visitor::new(&server);
        other
            .sign_in(&b.tenant.admin)
            .await
            .expect(303, "B signs in");
        let hidden = other
            .get(&location)
            .await
            .expect(404, "B opens A's campaign");
        assert!(!hidden.text.contains("Everyone"));
        assert!(hidden.text.contains("<html"));
        let b_csrf = other
            .get("/dashboard/campaigns")
            .await
            .expect(200, "B's list")
            .csrf();
        other
            .post(&format!("{location}/pause"), &[("csrf", &b_csrf)])
            .await
            .expect(404, "B pauses A's campaign");
        other
            .get("/dashboard/campaigns/not-an-id")
            .await
            .expect(404, "not an id");

        // A viewer reads everything, sees no buttons and may change nothing.
        let mut viewer = Visitor::new(&server);
        viewer
            .sign_in(&a.viewer)
            .await
            .expect(303, "viewer signs in");
        let seen = viewer.get(&location).await.expect(200, "viewer's page");
        assert!(seen.text.contains("id=\"report\""));
        assert!(!seen.text.contains("campaign-pause") && !seen.text.contains("campaign-end"));
        let list = viewer
            .get("/dashboard/campaigns")
            .await
            .expect(200, "viewer's list");
        assert!(!list.text.contains("new-campaign"));
        viewer
            .get("/dashboard/campaigns/new")
            .await
            .expect(403, "viewer's form");
        let viewer_csrf = seen.csrf();
        viewer
            .post(&format!("{location}/pause"), &[("csrf", &viewer_csrf)])
            .await
            .expect(403, "viewer pauses");
        viewer
            .post(
                "/dashboard/campaigns",
                &[
                    ("csrf", &viewer_csrf),
                    ("document", &broadcast(&a, "Viewer's").to_string()),
                ],
            )
            .await
            .expect(403, "viewer creates");
        assert_eq!(
            server
                .get(&format!("/v1/campaigns/{id}"), admin_key)
                .await
                .str("/status"),
            "active",
            "the viewer changed nothing"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_cookies_come_with_strict_transport_security() {
    let plain = spawn(dbs()[0]).await;
    let secure = crate::server::spawn_configured(
        dbs()[0],
        |settings| settings.secure_cookies = true,
        std::sync::Arc::new(regulars::system::SystemClock),
    )
    .await;
    let client = reqwest::Client::new();
    for (server, hsts) in [(&plain, false), (&secure, true)] {
        for path in ["/dashboard/login", "/healthz", "/c/nothing"] {
            let response = client
                .get(format!("{}{path}", server.base))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            let header = response
                .headers()
                .get("strict-transport-security")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            match hsts {
                true => assert_eq!(header.as_deref(), Some("max-age=31536000"), "{path}"),
                false => assert_eq!(header, None, "{path}"),
            }
        }
        let login = client
            .get(format!("{}/dashboard/login", server.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let cookie = login
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert_eq!(cookie.contains("Secure"), hsts, "{cookie}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_the_profiling_default_on_the_programme_page() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = shop(&server, "Brand P", 901).await;
        let admin_key = a.tenant.admin.clone();
        let policy = async |server: &TestServer| {
            server
                .get("/v1/brand/policy", &admin_key)
                .await
                .expect(200, "policy")
                .json["profiling_default"]
                .clone()
        };
        assert_eq!(
            policy(&server).await,
            json!(false),
            "{db:?}: the safe default"
        );
        let mut admin = Visitor::new(&server);
        admin.sign_in(&a.tenant.admin).await.expect(303, "sign in");
        let page = admin
            .get("/dashboard/programme")
            .await
            .expect(200, "programme");
        assert!(page.text.contains("profiling-form"), "{db:?}");
        let csrf = page.csrf();
        admin
            .post(
                "/dashboard/programme/profiling",
                &[("csrf", &csrf), ("profiling_default", "on")],
            )
            .await
            .expect(200, "allow");
        assert_eq!(policy(&server).await, json!(true), "{db:?}");
        admin
            .post("/dashboard/programme/profiling", &[("csrf", &csrf)])
            .await
            .expect(200, "back to the default");
        assert_eq!(policy(&server).await, json!(false), "{db:?}");
        let mut viewer = Visitor::new(&server);
        viewer.sign_in(&a.viewer).await.expect(303, "viewer");
        let seen = viewer
            .get("/dashboard/programme")
            .await
            .expect(200, "viewer's programme");
        assert!(!seen.text.contains("profiling-form"), "{db:?}");
        viewer
            .post(
                "/dashboard/programme/profiling",
                &[("csrf", &seen.csrf()), ("profiling_default", "on")],
            )
            .await
            .expect(403, "a viewer changes it");
        assert_eq!(policy(&server).await, json!(false), "{db:?}");
        server.stop().await;
    }
}
