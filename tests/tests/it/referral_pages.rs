//! Referrals over HTTP and on the pages, on both databases: the programme set through
//! the API (bad numbers refused naming the field), the member's invite link on their
//! card page, `/r/{token}` opening the sign-up page with "… invited you", the friend
//! joining with a code and seeing their referral pending, the figures, and the roles.

use crate::server::{Body, TestServer, dbs, spawn};
use crate::signup::{SmsStandIn, national, poster_shop};
use crate::visitor::Visitor;
use regulars_tests::phone;
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;

/// The friend joins through `invite` with the whole flow; returns the card's path.
pub(crate) async fn join_through(
    server: &TestServer,
    sms: &Arc<SmsStandIn>,
    invite: &str,
    who: &str,
) -> String {
    let mut visitor = Visitor::new(server);
    let opened = visitor
        .get(&format!("/r/{invite}"))
        .await
        .expect(303, "invite");
    let poster = opened
        .header("location")
        .and_then(|l| l.strip_prefix("/j/"))
        .unwrap_or_else(|| panic!("no sign-up page: {opened:?}"))
        .to_owned();
    let page = visitor
        .get(&format!("/j/{poster}?lang=en"))
        .await
        .expect(200, "poster");
    assert!(page.text.contains("id=\"signup-invited\""), "{}", page.text);
    assert!(page.text.contains("Lan invited you"), "{}", page.text);
    visitor
        .ask_code(&poster, &national(who))
        .await
        .expect(303, "code sent");
    let code = sms.code(server, who).await;
    let (_, opened) = visitor.give_code(&poster, &code).await;
    opened.expect(303, "code accepted");
    let form = visitor
        .get(&format!("/j/{poster}/details"))
        .await
        .expect(200, "details");
    let csrf = form.field("csrf");
    let joined = visitor
        .post(
            &format!("/j/{poster}/join"),
            &[("csrf", &csrf), ("name", "An"), ("programme", "yes")],
        )
        .await
        .expect(303, "joined");
    joined
        .header("location")
        .unwrap_or_else(|| panic!("no card"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_opens_the_sign_up_and_the_friend_joins_pending() {
    for db in dbs() {
        let server = spawn(db).await;
        let sms = Arc::new(SmsStandIn::default());
        let shop = poster_shop(&server, 6001).await;
        let admin = shop.admin.as_str();
        let member = shop.pos_customer.as_str();
        // Off until set: no invite.
        server
            .post(&format!("/v1/customers/{member}/invite"), admin, &json!({}))
            .await
            .expect_error(409, "referrals_off", &format!("{db:?}: off"));
        server
            .put(
                "/v1/referrals/settings",
                admin,
                &json!({"enabled": true, "referrer_points": 50, "friend_points": -1,
                        "min_purchase": 0, "monthly_cap": 0}),
            )
            .await
            .expect_error(422, "invalid", &format!("{db:?}: negative points"));
        let set = server
            .put(
                "/v1/referrals/settings",
                admin,
                &json!({"enabled": true, "referrer_points": 50, "friend_points": 30,
                        "min_purchase": 40000, "monthly_cap": 3}),
            )
            .await
            .expect(200, "settings");
        assert_eq!(set.json["friend_points"], 30, "{db:?}");
        server
            .call(
                Method::PATCH,
                &format!("/v1/customers/{member}"),
                Some(admin),
                Body::Json(&json!({"name": "Lan Nguyễn"})),
            )
            .await
            .expect(200, "name");
        let invite = server
            .post(&format!("/v1/customers/{member}/invite"), admin, &json!({}))
            .await
            .expect(200, "invite");
        let token = invite.str("/token");
        assert_eq!(invite.str("/path"), format!("/r/{token}"), "{db:?}");
        assert!(!token.contains(&member.replace('-', "")), "{db:?}: {token}");
        let viewer = server
            .post("/v1/keys", admin, &json!({"role": "viewer"}))
            .await
            .expect(201, "viewer")
            .str("/token");
        server
            .post(
                &format!("/v1/customers/{member}/invite"),
                &viewer,
                &json!({}),
            )
            .await
            .expect_error(403, "forbidden", &format!("{db:?}: viewer"));

        // The member's card page shows the link.
        let link = server
            .post(
                &format!("/v1/customers/{member}/qr-link"),
                admin,
                &json!({}),
            )
            .await
            .expect(201, "qr link")
            .str("/url");
        let card_path = link
            .find("/c/")
            .map(|at| link[at..].to_owned())
            .unwrap_or_else(|| panic!("{link}"));
        let mut reader = Visitor::new(&server);
        let card = reader.get(&card_path).await.expect(200, "card");
        assert!(
            card.text.contains("id=\"card-invite\""),
            "{db:?}: {}",
            card.text
        );
        assert!(card.text.contains(&format!("/r/{token}")), "{db:?}");

        // A friend joins through it: pending, said on their card.
        let friend = phone(6101).as_str().to_owned();
        let card = join_through(&server, &sms, &token, &friend).await;
        assert!(card.contains("referral=pending"), "{db:?}: {card}");
        let page = reader.get(&card).await.expect(200, "friend card");
        assert!(page.text.contains("id=\"card-referral\""), "{db:?}");
        // An altered link is the "no longer works" page.
        let mut altered = token.clone();
        altered.pop();
        altered.push(if token.ends_with('0') { '1' } else { '0' });
        reader
            .get(&format!("/r/{altered}"))
            .await
            .expect(404, "altered");

        let counts = server
            .get("/v1/reports/referrals", admin)
            .await
            .expect(200, "report");
        // The member, and the friend whose card page now offers them a link too.
        assert_eq!(counts.json["invited"], 2, "{db:?}: {}", counts.json);
        assert_eq!(counts.json["pending"], 1, "{db:?}: {}", counts.json);
        let list = server.get("/v1/referrals", admin).await.expect(200, "list");
        assert_eq!(list.json["items"][0]["status"], "pending", "{db:?}");
        assert_eq!(list.json["items"][0]["referrer_id"], member, "{db:?}");
        server
            .get("/v1/referrals?limit=0", admin)
            .await
            .expect_error(422, "invalid", &format!("{db:?}: limit"));
    }
}
