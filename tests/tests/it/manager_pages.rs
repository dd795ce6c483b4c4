//! The customer list by shop: a manager of Shop 1 sees Shop 1's customers (those with
//! an order there) on the dashboard and the API, and not Shop 2's; asking for Shop 2 is
//! refused (403), not answered with an empty page; an owner sees every customer, sorted
//! by any column and filtered by shop and segment; another brand sees none of them.

use crate::dashboard::Visitor;
use crate::manager_kit::{location, sell};
use crate::server::{TestServer, dbs, spawn};
use regulars_tests::{RULES, phone};
use serde_json::{Value, json};

async fn customer(server: &TestServer, admin: &str, n: u64, name: &str) -> String {
    server
        .post(
            "/v1/customers",
            admin,
            &json!({"phone": phone(n).as_str(), "name": name}),
        )
        .await
        .expect(201, name)
        .str("/id")
}

/// The names of `people` in the order their rows appear in the list `html`.
fn listed<'a>(html: &str, people: &'a [(&'a str, String)]) -> Vec<&'a str> {
    let mut found: Vec<(usize, &str)> = people
        .iter()
        .filter_map(|(name, id)| {
            html.find(&format!("data-customer=\"{id}\""))
                .map(|at| (at, *name))
        })
        .collect();
    found.sort_unstable();
    found.into_iter().map(|(_, name)| name).collect()
}

/// The texts of the list's cells of `column`, in order.
fn cells(html: &str, column: &str) -> Vec<String> {
    let open = format!("<td class=\"{column}\">");
    html.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split("</td>").next().map(str::to_owned))
        .collect()
}

/// The ids of a page of `GET /v1/customers`.
fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|c| c["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_sees_the_customers_of_its_shops_and_an_owner_sorts_and_filters_all() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = server.tenant("Shops").await;
        let b = server.tenant("Elsewhere").await;
        let admin = a.admin.as_str();
        let rules: Value = serde_json::from_str(RULES).unwrap_or_else(|e| panic!("{e}"));
        server
            .put("/v1/program/earning-rules", admin, &rules)
            .await
            .expect(200, "rules");
        let q1 = location(&server, admin, "q1", "Shop 1").await;
        let q2 = location(&server, admin, "q2", "Shop 2").await;
        let theirs = location(&server, &b.admin, "q1", "Their shop").await;

        // Anh buys at Shop 1, Binh at Shop 2, Chi at both (three visits), Dung never.
        let people: Vec<(&str, String)> = vec![
            ("Anh", customer(&server, admin, 1, "Anh").await),
            ("Binh", customer(&server, admin, 2, "Binh").await),
            ("Chi", customer(&server, admin, 3, "Chi").await),
            ("Dung", customer(&server, admin, 4, "Dung").await),
        ];
        let id_of = |name: &str| {
            people
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, id)| id.clone())
                .unwrap_or_default()
        };
        sell(&server, admin, "A-1", "q1", 1, 50_000).await;
        sell(&server, admin, "B-1", "q2", 2, 70_000).await;
        sell(&server, admin, "C-1", "q1", 3, 20_000).await;
        sell(&server, admin, "C-2", "q1", 3, 30_000).await;
        sell(&server, admin, "C-3", "q2", 3, 40_000).await;
        customer(&server, &b.admin, 1, "Zed").await;
        sell(&server, &b.admin, "Z-1", "q1", 1, 99_000).await;
        server
            .post(
                "/v1/segments",
                admin,
                &json!({"name": "Regular", "rule": "frequency >= 2"}),
            )
            .await
            .expect(201, "segment");
        server.score(admin).await;

        // The owner: every customer, sorted by each column, filtered by shop and segment.
        let mut owner = Visitor::new(&server);
        owner.sign_in(admin).await.expect(303, "owner signs in");
        let order = |query: &str| {
            let url = format!("/dashboard/customers?lang=en&{query}");
            let owner = &owner;
            async move { owner.get(&url).await.expect(200, &url).text }
        };
        let page = order("sort=points&dir=desc").await;
        assert_eq!(
            listed(&page, &people),
            ["Chi", "Binh", "Anh", "Dung"],
            "{db:?}"
        );
        assert!(page.contains("id=\"location-filter\""), "{db:?}");
        assert!(page.contains("Shop 2"), "{db:?}: owner's pick-list");
        assert!(page.contains("value=\"Regular\""), "{db:?}: segments");
        let readable = regulars_domain::Phone::parse_e164(phone(1).as_str())
            .unwrap_or_else(|e| panic!("{e}"))
            .readable();
        assert!(page.contains(&readable), "{db:?}: national phone");
        assert!(!page.contains("Zed"), "{db:?}: another brand's customer");
        let page = order("sort=points&dir=asc").await;
        assert_eq!(
            listed(&page, &people),
            ["Dung", "Anh", "Binh", "Chi"],
            "{db:?}"
        );
        let page = order("sort=name&dir=asc").await;
        assert_eq!(
            listed(&page, &people),
            ["Anh", "Binh", "Chi", "Dung"],
            "{db:?}"
        );
        let page = order("sort=name&dir=desc").await;
        assert_eq!(
            listed(&page, &people),
            ["Dung", "Chi", "Binh", "Anh"],
            "{db:?}"
        );
        let page = order("sort=visits&dir=desc").await;
        let seen = listed(&page, &people);
        assert_eq!((seen[0], seen[3]), ("Chi", "Dung"), "{db:?}: {seen:?}");
        // Missing values come last, whichever the direction.
        for dir in ["asc", "desc"] {
            let page = order(&format!("sort=last_visit&dir={dir}")).await;
            assert_eq!(listed(&page, &people).last(), Some(&"Dung"), "{db:?}");
        }
        let page = order("sort=segment&dir=asc").await;
        let mut segments = cells(&page, "segment");
        assert_eq!(segments.len(), 4, "{db:?}");
        let shown = segments.clone();
        segments.sort_by_key(|s| (s == "—", s.to_lowercase()));
        assert_eq!(shown, segments, "{db:?}: by segment");
        let page = order(&format!("location={q1}&sort=name&dir=asc")).await;
        assert_eq!(listed(&page, &people), ["Anh", "Chi"], "{db:?}");
        let page = order(&format!("location={q2}&sort=name&dir=asc")).await;
        assert_eq!(listed(&page, &people), ["Binh", "Chi"], "{db:?}");
        let page = order("segment=Regular").await;
        assert_eq!(listed(&page, &people), ["Chi"], "{db:?}");
        let page = order(&format!("segment=Regular&location={q1}")).await;
        assert_eq!(listed(&page, &people), ["Chi"], "{db:?}");
        let page = order("q=bin").await;
        assert_eq!(listed(&page, &people), ["Binh"], "{db:?}: by name");
        owner
            .get(&format!("/dashboard/customers?location={theirs}"))
            .await
            .expect(404, "another brand's shop");

        // The manager of Shop 1: Anh and Chi, nowhere Binh or Dung.
        let manager = server
            .post(
                "/v1/keys",
                admin,
                &json!({"role": "manager", "locations": [q1]}),
            )
            .await
            .expect(201, "manager key")
            .str("/token");
        let mut lan = Visitor::new(&server);
        lan.sign_in(&manager).await.expect(303, "manager signs in");
        let overview = lan
            .get("/dashboard/overview?lang=en")
            .await
            .expect(200, "overview");
        assert!(
            overview.text.contains("/dashboard/customers"),
            "{db:?}: nav"
        );
        let mine = lan
            .get("/dashboard/customers?sort=name&dir=asc")
            .await
            .expect(200, "manager's customers")
            .text;
        assert_eq!(listed(&mine, &people), ["Anh", "Chi"], "{db:?}");
        assert!(!mine.contains("Shop 2"), "{db:?}: Shop 2 offered");
        assert!(
            !mine.contains(&readable),
            "{db:?}: a manager's phones are hidden"
        );
        let mine = lan
            .get(&format!("/dashboard/customers?location={q1}"))
            .await
            .expect(200, "Shop 1 asked for")
            .text;
        assert_eq!(listed(&mine, &people).len(), 2, "{db:?}");
        let refused = lan
            .get(&format!("/dashboard/customers?location={q2}&lang=en"))
            .await
            .expect(403, "Shop 2 asked for");
        assert!(
            refused.text.contains("not one of"),
            "{db:?}: {}",
            refused.text
        );
        for name in ["Binh", "Dung"] {
            let phone_query = phone(if name == "Binh" { 2 } else { 4 })
                .as_str()
                .replace('+', "%2B");
            let found = lan
                .get(&format!("/dashboard/customers?q={phone_query}"))
                .await
                .expect(200, "search by phone")
                .text;
            assert!(listed(&found, &people).is_empty(), "{db:?}: {name} found");
            lan.get(&format!("/dashboard/customers/{}", id_of(name)))
                .await
                .expect(404, &format!("{db:?}: {name}'s page"));
        }
        lan.get(&format!("/dashboard/customers/{}", id_of("Anh")))
            .await
            .expect(200, "Anh's page");
        lan.get("/dashboard/customers.csv")
            .await
            .expect(403, "the brand's export");

        // The same on the API.
        let listed_api = |key: &str, query: &str| {
            let url = format!("/v1/customers{query}");
            let server = &server;
            let key = key.to_owned();
            async move { server.get(&url, &key).await }
        };
        let got = listed_api(&manager, "").await.expect(200, "manager").json;
        let mut want = vec![id_of("Anh"), id_of("Chi")];
        want.sort();
        assert_eq!(ids(&got), want, "{db:?}: {got}");
        // Page by page, by id.
        let first = listed_api(&manager, "?limit=1").await.expect(200, "page 1");
        let next = first.json["next"].as_str().unwrap_or_default().to_owned();
        let second = listed_api(&manager, &format!("?limit=1&after={next}"))
            .await
            .expect(200, "page 2")
            .json;
        assert_eq!(
            [ids(&first.json), ids(&second)].concat(),
            want,
            "{db:?}: pages"
        );
        let forged = listed_api(&manager, &format!("?location={q2}")).await;
        let field = forged.expect_error(403, "forbidden", &format!("{db:?}: Shop 2"));
        assert_eq!(field.as_deref(), Some("location"), "{db:?}");
        server
            .get(&format!("/v1/customers/{}", id_of("Binh")), &manager)
            .await
            .expect_error(404, "not_found", &format!("{db:?}: Binh"));
        server
            .get(&format!("/v1/customers/{}", id_of("Anh")), &manager)
            .await
            .expect(200, "Anh");
        let shop2 = listed_api(admin, &format!("?location={q2}"))
            .await
            .expect(200, "owner, Shop 2")
            .json;
        let mut want2 = vec![id_of("Binh"), id_of("Chi")];
        want2.sort();
        assert_eq!(ids(&shop2), want2, "{db:?}");
        let regular = listed_api(admin, "?segment=Regular")
            .await
            .expect(200, "segment")
            .json;
        assert_eq!(ids(&regular), vec![id_of("Chi")], "{db:?}");
        let everyone = listed_api(admin, "").await.expect(200, "owner").json;
        assert_eq!(ids(&everyone).len(), 4, "{db:?}");
        listed_api(admin, &format!("?location={theirs}"))
            .await
            .expect_error(422, "invalid", &format!("{db:?}: their shop"));
        listed_api(admin, "?location=nowhere").await.expect_error(
            400,
            "invalid",
            &format!("{db:?}: not an id"),
        );

        // Another brand's manager: none of these customers, and not Shop 1 of this brand.
        let other = server
            .post(
                "/v1/keys",
                &b.admin,
                &json!({"role": "manager", "locations": [theirs]}),
            )
            .await
            .expect(201, "their manager")
            .str("/token");
        let seen = listed_api(&other, "").await.expect(200, "theirs").json;
        assert_eq!(ids(&seen).len(), 1, "{db:?}: {seen}");
        assert!(
            people.iter().all(|(_, id)| !seen.to_string().contains(id)),
            "{db:?}"
        );
        listed_api(&other, &format!("?location={q1}"))
            .await
            .expect_error(403, "forbidden", &format!("{db:?}: another brand's shop"));
        server
            .get(&format!("/v1/customers/{}", id_of("Anh")), &other)
            .await
            .expect_error(404, "not_found", &format!("{db:?}: across brands"));
        server.stop().await;
    }
}
