//! The sign-up in a real headless Chromium at phone size (390×844): a customer opens the
//! poster's URL, gets the code from the SMS stand-in, joins with Zalo and SMS consent
//! and sees the welcome voucher on their card page; then opens the opt-out link of that
//! message and stops SMS. The next promotional campaign skips their SMS (`opted_out`)
//! while a transactional receipt still goes. With `REGULARS_SCREENSHOTS=1` the pages are
//! saved under `docs/img/signup-*.png`.

use crate::browser::{
    Driver, Step, check, chromedriver, click, context, fill, scenario, text_of, wait_for_url,
};
use crate::server::{Db, TestServer, spawn_configured};
use crate::signup::{PosterShop, SmsStandIn, national, poster_shop};
use fantoccini::Client;
use regulars_campaigns::Policy;
use regulars_campaigns::plan::SkipReason;
use regulars_service::CampaignAction;
use regulars_tests::phone;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The public address the server is told it is reached at (the opt-out link's host).
const PUBLIC: &str = "https://loyalty.example.vn";
/// The customer: `regulars_tests::phone(CUSTOMER)`, so fixture orders find them.
const CUSTOMER: u64 = 8301;

async fn snap(browser: &Client, name: &str) -> Step<()> {
    if std::env::var("REGULARS_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let png = context(browser.screenshot().await, "screenshot")?;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/img");
        context(std::fs::create_dir_all(&dir), "docs/img")?;
        context(
            std::fs::write(dir.join(format!("signup-{name}.png")), png),
            name,
        )?;
    }
    Ok(())
}

async fn launch(server: &TestServer, shop: &PosterShop, doc: Value) -> regulars_domain::CampaignId {
    let c = server
        .services
        .create_campaign(shop.brand, &doc)
        .await
        .unwrap_or_else(|e| panic!("campaign {doc}: {e}"));
    server
        .services
        .set_campaign_status(shop.brand, c.id, CampaignAction::Launch)
        .await
        .unwrap_or_else(|e| panic!("launch: {e}"));
    c.id
}

async fn customer_joins(
    browser: &Client,
    server: &TestServer,
    shop: &PosterShop,
    sms: &Arc<SmsStandIn>,
) -> Step<()> {
    let base = &server.base;
    let e164 = phone(CUSTOMER).as_str().to_owned();
    context(browser.delete_all_cookies().await, "cookies")?;
    context(
        browser.goto(&format!("{base}/j/{}", shop.token)).await,
        "poster",
    )?;
    let brand = text_of(browser, "#signup-brand").await?;
    check(brand.contains("Trà Sữa Mây"), || {
        format!("brand {brand:?}")
    })?;
    fill(browser, "#otp-phone", &national(&e164)).await?;
    snap(browser, "poster").await?;
    click(browser, "#otp-send").await?;
    wait_for_url(browser, |u| u.ends_with("/code")).await?;
    let code = sms.code(server, &e164).await;
    fill(browser, "#otp-code", &code).await?;
    snap(browser, "code").await?;
    click(browser, "#otp-confirm").await?;
    wait_for_url(browser, |u| u.ends_with("/details")).await?;
    fill(browser, "#signup-name", "Phạm Thu").await?;
    click(browser, "#consent-zalo").await?;
    click(browser, "#consent-sms").await?;
    click(browser, "#consent-programme").await?;
    snap(browser, "details").await?;
    click(browser, "#signup-join").await?;
    wait_for_url(browser, |u| u.contains("/c/")).await?;
    let voucher = text_of(browser, ".voucher .code").await?;
    check(!voucher.trim().is_empty(), || {
        "no welcome voucher".to_owned()
    })?;
    snap(browser, "card").await?;
    // Nothing wider than the screen.
    let width = context(
        browser
            .execute("return document.documentElement.scrollWidth;", vec![])
            .await,
        "width",
    )?;
    let (screen, _) = context(browser.get_window_size().await, "size")?;
    check(width.as_f64().is_some_and(|w| w <= screen as f64), || {
        format!("page is {width} px wide on a {screen} px screen")
    })
}

async fn customer_stops_sms(
    browser: &Client,
    server: &TestServer,
    sms: &Arc<SmsStandIn>,
) -> Step<()> {
    let e164 = phone(CUSTOMER).as_str().to_owned();
    sms.deliver(server).await;
    let bodies = sms.bodies(&e164);
    let welcome = bodies
        .iter()
        .find(|b| b.contains("Quà chào mừng") || b.contains("Qua chao mung"))
        .ok_or_else(|| format!("no welcome SMS in {bodies:?}"))?;
    let (_, link) = welcome
        .rsplit_once(&format!("{PUBLIC}/u/"))
        .ok_or_else(|| format!("no opt-out link in {welcome:?}"))?;
    let token = link.split_whitespace().next().unwrap_or_default();
    context(
        browser
            .goto(&format!("{}/u/{token}?lang=vi", server.base))
            .await,
        "opt-out page",
    )?;
    click(browser, "#stop-one").await?;
    text_of(browser, "#done").await?;
    snap(browser, "opted-out").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_joins_from_the_poster_on_a_phone_and_opts_out_of_sms() {
    let Some(binary) = chromedriver() else {
        let required = std::env::var("REGULARS_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(!required, "REGULARS_REQUIRE_BROWSER=1 but no chromedriver");
        eprintln!("skipped: no chromedriver on PATH (install chromium and chromium-driver)");
        return;
    };
    let server = spawn_configured(
        Db::Sqlite,
        |settings| settings.public_url = Some(PUBLIC.to_owned()),
        Arc::new(regulars::system::SystemClock),
    )
    .await;
    let shop = poster_shop(&server, 8300).await;
    server
        .services
        .set_messaging_policy(
            shop.brand,
            Policy {
                opt_out_instruction: regulars_domain::DEFAULT_OPT_OUT_INSTRUCTION.to_owned(),
                ..Policy::unrestricted()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("policy: {e}"));
    let sms = Arc::new(SmsStandIn::default());
    let driver = Driver::start(&binary).await;
    let browser = driver.browser().await;
    browser
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            None,
            None,
            Some(Duration::from_secs(5)),
        ))
        .await
        .unwrap_or_else(|e| panic!("timeouts: {e}"));
    browser
        .set_window_size(390, 844)
        .await
        .unwrap_or_else(|e| panic!("window size: {e}"));
    scenario(
        &browser,
        "signup-join",
        customer_joins(&browser, &server, &shop, &sms),
    )
    .await;
    scenario(
        &browser,
        "signup-opt-out",
        customer_stops_sms(&browser, &server, &sms),
    )
    .await;
    let _ = browser.close().await;

    // The next promotional campaign skips their SMS; a receipt still goes.
    let promo = launch(
        &server,
        &shop,
        json!({"name": "Tuần lễ vàng", "trigger": {"type": "broadcast"}, "channels": ["sms"],
               "holdout": 0.0, "frequency_cap": null, "template": "Chao {{name}}, uu dai tuan nay!"}),
    )
    .await;
    let receipt = launch(
        &server,
        &shop,
        json!({"name": "Hoá đơn", "trigger": {"type": "after_purchase"}, "channels": ["sms"],
               "holdout": 0.0, "frequency_cap": null, "template": "Cam on {{name}}!"}),
    )
    .await;
    server
        .services
        .ingest_order(
            shop.brand,
            regulars_tests::order(
                shop.brand,
                "SB-1",
                CUSTOMER,
                time::OffsetDateTime::now_utc(),
                1,
            ),
        )
        .await
        .unwrap_or_else(|e| panic!("order: {e}"));
    let runs = server
        .services
        .run_campaigns(shop.brand)
        .await
        .unwrap_or_else(|e| panic!("run: {e}"));
    let run_of = |id| {
        runs.iter()
            .find(|r| r.campaign_id == id)
            .unwrap_or_else(|| panic!("{runs:?}"))
    };
    assert_eq!(
        run_of(promo).skipped.get(&SkipReason::OptedOut),
        Some(&1),
        "{runs:?}"
    );
    let e164 = phone(CUSTOMER).as_str().to_owned();
    let before = sms.bodies(&e164).len();
    sms.deliver(&server).await;
    let new: Vec<String> = sms.bodies(&e164).into_iter().skip(before).collect();
    // Only the receipt, with no opt-out instruction: it is transactional.
    assert_eq!(new.len(), 1, "{new:?}");
    assert!(new[0].starts_with("Cam on P"), "{new:?}");
    assert!(!new[0].contains("/u/"), "{new:?}");
    assert_eq!(
        run_of(receipt).skipped.get(&SkipReason::AlreadySent),
        Some(&1),
        "{runs:?}"
    );
    server.stop().await;
}
