//! The till in a real headless Chromium at tablet (768×1024) and phone (390×844) sizes:
//! a cashier enrols the device, signs in with a PIN, looks a customer up by phone,
//! records an order by amount, redeems a voucher by its code and registers a new
//! customer with SMS consent; the same PIN is refused on the dashboard and on another
//! location's till. With `REGULARS_SCREENSHOTS=1` the pages are saved under
//! `docs/img/till-*.png`.

use crate::browser::{
    Driver, Step, check, chromedriver, click, context, fill, scenario, text_of, wait_for_text,
    wait_for_url,
};
use crate::server::{Db, TestServer, spawn};
use crate::till::{Shop, shop};
use fantoccini::{Client, Locator};
use regulars_tests::phone;
use serde_json::json;
use std::path::Path;
use std::time::Duration;

async fn snap(browser: &Client, name: &str) -> Step<()> {
    if std::env::var("REGULARS_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let png = context(browser.screenshot().await, "screenshot")?;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/img");
        context(std::fs::create_dir_all(&dir), "docs/img")?;
        context(
            std::fs::write(dir.join(format!("till-{name}.png")), png),
            name,
        )?;
    }
    Ok(())
}

async fn cashier(
    browser: &Client,
    server: &TestServer,
    shop: &Shop,
    size: &str,
    newcomer: &str,
) -> Step<()> {
    let base = &server.base;
    context(browser.delete_all_cookies().await, "cookies")?;
    context(browser.goto(&format!("{base}/till/?lang=vi")).await, "till")?;
    fill(browser, "#device-token", &shop.device_q1).await?;
    click(browser, "#enrol").await?;
    fill(browser, "#pin", "2468").await?;
    snap(browser, &format!("{size}-sign-in")).await?;
    click(browser, "#till-sign-in").await?;
    text_of(browser, "#till-where").await?;

    // Look the customer up by phone, as typed at the counter.
    let national = format!("0{}", &shop.phone[3..]);
    fill(browser, "#q", &national).await?;
    click(browser, "#find-button").await?;
    let name = text_of(browser, "#customer-name").await?;
    check(name.contains("Nguyễn Lan"), || format!("found {name:?}"))?;
    snap(browser, &format!("{size}-customer")).await?;

    // Record an order by amount.
    fill(browser, "#amount", "45000").await?;
    click(browser, "#record-order").await?;
    let message = wait_for_text(browser, "#till-message", |m| m.contains('+')).await?;
    check(message.contains('+'), || {
        format!("after the order: {message:?}")
    })?;

    // Redeem the voucher by its code.
    fill(browser, "#code", &shop.voucher).await?;
    click(browser, "#redeem").await?;
    let message =
        wait_for_text(browser, "#till-message", |m| m.contains("Đã dùng voucher")).await?;
    check(message.contains("Đã dùng voucher"), || {
        format!("after the voucher: {message:?}")
    })?;
    snap(browser, &format!("{size}-redeemed")).await?;

    // Register a new customer who chose SMS.
    context(
        browser
            .goto(&format!("{base}/till/register?phone={newcomer}"))
            .await,
        "register",
    )?;
    fill(browser, "#name", "Trần Minh").await?;
    click(browser, "#consent-sms").await?;
    snap(browser, &format!("{size}-register")).await?;
    click(browser, "#register").await?;
    let message = wait_for_text(browser, "#till-message", |m| m.contains("Đã đăng ký")).await?;
    check(message.contains("Đã đăng ký"), || {
        format!("after registering: {message:?}")
    })?;
    let found = server
        .get(
            &format!("/v1/customers/lookup?phone={newcomer}"),
            &shop.admin,
        )
        .await
        .expect(200, "newcomer");
    let consents = server
        .get(
            &format!("/v1/customers/{}/consents", found.str("/customer/id")),
            &shop.admin,
        )
        .await
        .expect(200, "consents");
    check(
        consents.json["current"]["marketing_sms"] == "granted",
        || format!("consent: {}", consents.text),
    )?;
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

/// The same PIN on the dashboard and on the other location's till: refused.
async fn refused_elsewhere(
    browser: &Client,
    server: &TestServer,
    shop: &Shop,
    size: &str,
) -> Step<()> {
    let base = &server.base;
    context(
        browser
            .goto(&format!("{base}/dashboard/login?lang=vi"))
            .await,
        "dashboard",
    )?;
    fill(browser, "#key", "2468").await?;
    click(browser, "#sign-in").await?;
    text_of(browser, "#key-error").await?;
    wait_for_url(browser, |u| u.contains("/dashboard/login")).await?;

    context(browser.delete_all_cookies().await, "cookies")?;
    context(browser.goto(&format!("{base}/till/?lang=vi")).await, "till")?;
    fill(browser, "#device-token", &shop.device_q3).await?;
    click(browser, "#enrol").await?;
    // The click returns before the sign-in page is there: wait for its list first.
    context(browser.find(Locator::Css("#staff")).await, "#staff")?;
    // The Q1 member is not on Q3's list; choose them anyway, as a forged form would.
    context(
        browser
            .execute(
                "var o = document.createElement('option'); o.value = arguments[0]; \
                 o.text = 'Lan'; document.getElementById('staff').appendChild(o); \
                 o.selected = true;",
                vec![json!(shop.lan_q1)],
            )
            .await,
        "choose the Q1 member",
    )?;
    fill(browser, "#pin", "2468").await?;
    click(browser, "#till-sign-in").await?;
    let error = text_of(browser, "#till-error").await?;
    check(error.contains("PIN"), || format!("at Q3: {error:?}"))?;
    snap(browser, &format!("{size}-refused")).await?;
    check(
        context(browser.find_all(Locator::Css("#till-where")).await, "where")?.is_empty(),
        || "signed in at Q3".to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cashier_works_the_till_on_a_tablet_and_a_phone() {
    let Some(binary) = chromedriver() else {
        let required = std::env::var("REGULARS_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(!required, "REGULARS_REQUIRE_BROWSER=1 but no chromedriver");
        eprintln!("skipped: no chromedriver on PATH (install chromium and chromium-driver)");
        return;
    };
    let server = spawn(Db::Sqlite).await;
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
    for (n, (size, width, height)) in [("tablet", 768, 1024), ("phone", 390, 844)]
        .into_iter()
        .enumerate()
    {
        let n = n as u64;
        let shop = shop(&server, 7400 + n).await;
        let newcomer = phone(7490 + n).as_str().replace('+', "%2B");
        browser
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| panic!("window size: {e}"));
        scenario(
            &browser,
            &format!("till-{size}"),
            cashier(&browser, &server, &shop, size, &newcomer),
        )
        .await;
        scenario(
            &browser,
            &format!("till-refused-{size}"),
            refused_elsewhere(&browser, &server, &shop, size),
        )
        .await;
    }
    let _ = browser.close().await;
}
