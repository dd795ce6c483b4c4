//! The dashboard and the customer's page in a real headless Chromium, driven over
//! WebDriver: sign in, read the overview, find a customer, make a segment (after a
//! refused rule), edit a reward, create and launch a campaign (after a refused
//! document), open a customer's page on a phone-sized screen, and write a happy hour
//! with the earning rules form (no JSON), previewed, saved and earned at the till;
//! and build a two-variant win-back by the campaign form, launch, run and read it per
//! variant (`variant_browser`).
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without a chromedriver the test says
//! so and passes, unless `REGULARS_REQUIRE_BROWSER=1` (set by CI), which makes it fail.
//! On failure a screenshot is written under `target/browser-screenshots/`.

use crate::dashboard::{Shop, shop};
use crate::server::{Db, TestServer, spawn};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Where chromedriver is: `REGULARS_CHROMEDRIVER`, else the first on `PATH`.
pub(crate) fn chromedriver() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("REGULARS_CHROMEDRIVER") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromedriver"))
        .find(|p| p.is_file())
}

/// The browser binary chromedriver should start, when one is found where Debian puts it.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("REGULARS_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("free port: {e}"))
}

/// A running chromedriver and the browser profile directory; both go away on drop.
pub(crate) struct Driver {
    child: Child,
    url: String,
    profile: PathBuf,
}

impl Driver {
    pub(crate) async fn start(binary: &Path) -> Driver {
        let port = free_port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let profile =
            std::env::temp_dir().join(format!("regulars-chromium-{}", uuid::Uuid::now_v7()));
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            profile,
        };
        // Readiness, not timing: wait until it accepts connections (bounded).
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("chromedriver did not start listening on port {port}");
    }

    pub(crate) async fn browser(&self) -> Client {
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1280,900".to_owned(),
            format!("--user-data-dir={}", self.profile.display()),
        ];
        args.push("--lang=en-US".to_owned());
        let mut options = json!({ "args": args });
        if let Some(binary) = chromium() {
            options["binary"] = json!(binary.display().to_string());
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".to_owned(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".to_owned(), options);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("WebDriver session: {e}"))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A step's failure, with what was being done.
pub(crate) type Step<T> = Result<T, String>;

pub(crate) fn context<T, E: std::fmt::Display>(result: Result<T, E>, what: &str) -> Step<T> {
    result.map_err(|e| format!("{what}: {e}"))
}

pub(crate) async fn text_of(browser: &Client, css: &str) -> Step<String> {
    let element = context(browser.find(Locator::Css(css)).await, css)?;
    context(element.text().await, css)
}

/// Waits (bounded) until the element's text is one `wanted` accepts, and gives the last
/// text read: after a click that posts a form, the old page's element may still be
/// there, or go stale while it is read.
pub(crate) async fn wait_for_text(
    browser: &Client,
    css: &str,
    wanted: impl Fn(&str) -> bool,
) -> Step<String> {
    let mut last = Err(format!("{css}: never read"));
    for _ in 0..200 {
        last = text_of(browser, css).await;
        if last.as_deref().is_ok_and(&wanted) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    last
}

pub(crate) async fn fill(browser: &Client, css: &str, value: &str) -> Step<()> {
    let element = context(browser.find(Locator::Css(css)).await, css)?;
    context(element.clear().await, css)?;
    context(element.send_keys(value).await, css)
}

pub(crate) async fn click(browser: &Client, css: &str) -> Step<()> {
    let element = context(browser.find(Locator::Css(css)).await, css)?;
    context(element.click().await, css)
}

/// Waits (bounded) until the browser is at a URL `wanted` accepts: a click that submits
/// a form returns before the next page is there.
pub(crate) async fn wait_for_url(browser: &Client, wanted: impl Fn(&str) -> bool) -> Step<()> {
    let mut last = String::new();
    for _ in 0..200 {
        last = context(browser.current_url().await, "url")?.to_string();
        if wanted(&last) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err(format!("still at {last}"))
}

pub(crate) fn check(ok: bool, what: impl FnOnce() -> String) -> Step<()> {
    if ok { Ok(()) } else { Err(what()) }
}

async fn dashboard(browser: &Client, server: &TestServer, shop: &Shop) -> Step<()> {
    let base = &server.base;

    // Sign in.
    context(
        browser
            .goto(&format!("{base}/dashboard/login?lang=en"))
            .await,
        "login page",
    )?;
    fill(browser, "#key", &shop.tenant.admin).await?;
    click(browser, "#sign-in").await?;
    wait_for_url(browser, |url| url.contains("/dashboard/overview"))
        .await
        .map_err(|at| format!("after sign-in: {at}"))?;

    // The overview's figures: one customer, scored.
    let customers = text_of(browser, "#customers-total .value").await?;
    check(customers.trim() == "1", || {
        format!("customers card shows {customers:?}")
    })?;
    context(
        browser.find(Locator::Css("#chart-segments polyline")).await,
        "segment chart",
    )?;

    // Search and open a customer.
    click(browser, "nav a[href='/dashboard/customers']").await?;
    fill(browser, "#q", "lan").await?;
    click(browser, "#search").await?;
    wait_for_url(browser, |url| url.contains("q=lan")).await?;
    let link = context(
        browser.find(Locator::LinkText(&shop.name)).await,
        "the customer in the results",
    )?;
    context(link.click().await, "open the customer")?;
    let balance = text_of(browser, "#balance .value").await?;
    check(balance.starts_with(&shop.balance.to_string()), || {
        format!("balance shows {balance:?}, expected {}", shop.balance)
    })?;
    let vouchers = text_of(browser, "#vouchers").await?;
    check(vouchers.contains(&shop.voucher), || {
        format!("vouchers: {vouchers}")
    })?;

    // A segment: a refused rule first, its error next to the field, then a good one.
    click(browser, "nav a[href='/dashboard/segments']").await?;
    fill(browser, "#segment-name", "Regulars").await?;
    fill(browser, "#segment-rule", "recency > 3").await?;
    click(browser, "#create-segment").await?;
    let error = text_of(browser, "#rule-error").await?;
    check(
        error.contains("column 1") && error.contains("did you mean `recency_days`"),
        || format!("rule error: {error:?}"),
    )?;
    fill(browser, "#segment-rule", "frequency >= 2").await?;
    click(browser, "#create-segment").await?;
    text_of(browser, "#segment-saved").await?;
    let table = text_of(browser, "#custom-segments").await?;
    check(
        table.contains("Regulars") && table.contains("frequency >= 2"),
        || format!("segments: {table}"),
    )?;

    // Edit a reward: a refused cost first, then a good edit.
    click(browser, "nav a[href='/dashboard/programme']").await?;
    let form = format!("#reward-{}", shop.reward);
    fill(
        browser,
        &format!("{form} input[name=name]"),
        "Free cheese foam",
    )
    .await?;
    fill(browser, &format!("{form} input[name=cost]"), "0").await?;
    click(browser, &format!("{form} button")).await?;
    let error = text_of(browser, &format!("{form} .reward-error")).await?;
    check(error.contains("cost") || error.contains("reward"), || {
        format!("reward error: {error:?}")
    })?;
    fill(browser, &format!("{form} input[name=cost]"), "15").await?;
    click(browser, &format!("{form} button")).await?;
    text_of(browser, "#saved").await?;
    let saved = server
        .get(&format!("/v1/rewards/{}", shop.reward), &shop.tenant.admin)
        .await
        .expect(200, "reward");
    check(
        saved.json["name"] == "Free cheese foam" && saved.json["cost"] == 15,
        || format!("reward after the edit: {}", saved.text),
    )
}

/// A campaign made through the form's JSON view: an invalid document first (its error
/// next to the text area), then the prefilled example; launched, and listed as active.
async fn campaign(browser: &Client, shop: &Shop) -> Step<()> {
    click(browser, "nav a[href='/dashboard/campaigns']").await?;
    click(browser, "#new-campaign").await?;
    // The document is under the form's "Advanced (JSON)".
    click(browser, "#campaign-advanced summary").await?;
    let area = context(
        browser.find(Locator::Css("#campaign-document")).await,
        "document",
    )?;
    let example = context(area.prop("value").await, "prefilled document")?.unwrap_or_default();
    check(example.contains(&shop.reward), || {
        format!("the example does not offer the brand's reward: {example}")
    })?;
    let example: Value = context(serde_json::from_str(&example), "the example is JSON")?;
    let mut invalid = example.clone();
    invalid["holdout"] = json!(0.9);
    fill(browser, "#campaign-document", &invalid.to_string()).await?;
    click(browser, "#create-campaign").await?;
    let error = text_of(browser, "#document-error").await?;
    check(error.starts_with("holdout: "), || {
        format!("document error: {error:?}")
    })?;
    fill(browser, "#campaign-document", &example.to_string()).await?;
    click(browser, "#create-campaign").await?;
    let status = text_of(browser, "#status").await?;
    check(status == "draft", || format!("new campaign is {status:?}"))?;
    let url = context(browser.current_url().await, "url")?;
    let page = url.path().to_owned();
    click(browser, "#campaign-launch").await?;
    wait_for_url(browser, |u| u.ends_with(&page)).await?;
    let status = context(
        browser
            .find(Locator::Css("#status[data-status=active]"))
            .await,
        "launched",
    )?;
    check(context(status.text().await, "status")? == "active", || {
        "status text".to_owned()
    })?;
    click(browser, "nav a[href='/dashboard/campaigns']").await?;
    let id = page.trim_start_matches("/dashboard/campaigns/");
    let row = text_of(
        browser,
        &format!("#campaigns tr[data-id='{id}'][data-status=active]"),
    )
    .await?;
    check(row.contains("Win back") && row.contains("active"), || {
        format!("listed as {row:?}")
    })
}

async fn phone_card(browser: &Client, server: &TestServer, shop: &Shop) -> Step<()> {
    let link = server
        .post(
            &format!("/v1/customers/{}/qr-link", shop.customer),
            &shop.pos,
            &json!({}),
        )
        .await
        .expect(201, "link");
    context(browser.set_window_size(390, 844).await, "phone size")?;
    context(browser.goto(&link.str("/url")).await, "customer page")?;
    let balance = text_of(browser, "#card-balance").await?;
    check(balance.starts_with(&shop.balance.to_string()), || {
        format!("card balance {balance:?}, expected {}", shop.balance)
    })?;
    let progress = text_of(browser, "#tier-progress").await?;
    check(progress.contains("to reach silver"), || {
        format!("tier progress {progress:?}")
    })?;
    let code = text_of(browser, ".voucher .code").await?;
    check(code.trim() == shop.voucher, || {
        format!("voucher code {code:?}")
    })?;
    let qr = context(
        browser.find(Locator::Css(".voucher .qr svg")).await,
        "voucher QR",
    )?;
    let (_, _, width, height) = context(qr.rectangle().await, "QR size")?;
    check(width >= 150.0 && height >= 150.0 && width <= 390.0, || {
        format!("QR code is {width}x{height}")
    })?;
    // Mobile-first: nothing wider than the screen.
    let overflow: Value = context(
        browser
            .execute("return document.documentElement.scrollWidth;", vec![])
            .await,
        "page width",
    )?;
    check(overflow.as_f64().is_some_and(|w| w <= 390.0), || {
        format!("page is {overflow} px wide on a 390 px screen")
    })
}

pub(crate) async fn pick(browser: &Client, css: &str, value: &str) -> Step<()> {
    let element = context(browser.find(Locator::Css(css)).await, css)?;
    context(element.select_by_value(value).await, css)
}

/// An owner who never sees JSON adds "double points 14:00–16:00 on weekdays at Shop 2"
/// to a plain points-on-spend programme, previews a Wednesday 15:00 order (the number
/// the rules' own evaluation gives), saves, and the till's orders at Shop 2 earn double
/// at 15:00 on a weekday and not at 17:00.
async fn happy_hour_form(browser: &Client, server: &TestServer, shop: &Shop) -> Step<()> {
    use crate::programme_form::{
        DOUBLE_AT_SHOP_2, expected_points, last_weekday_at, order, saved_rules,
    };
    let admin = shop.tenant.admin.as_str();
    let plain = json!({"currency": "VND",
        "base": {"per_amount": "10000", "points": 1, "rounding": "floor"}});
    server
        .put("/v1/program/earning-rules", admin, &plain)
        .await
        .expect(200, "plain rules");
    context(browser.set_window_size(1280, 900).await, "desktop size")?;
    context(
        browser
            .goto(&format!("{}/dashboard/programme", server.base))
            .await,
        "programme",
    )?;
    let row = |field: &str| format!("[name='multipliers[0].{field}']");
    fill(browser, &row("factor"), "2").await?;
    fill(browser, &row("label"), "Double points").await?;
    fill(browser, &row("when.hours.from"), "14:00").await?;
    fill(browser, &row("when.hours.to"), "16:00").await?;
    for day in ["mon", "tue", "wed", "thu", "fri"] {
        click(browser, &format!("{}[value={day}]", row("when.weekdays"))).await?;
    }
    pick(
        browser,
        &format!("select{}", row("when.locations")),
        "shop-2",
    )
    .await?;
    pick(browser, "select[name='sample.weekday']", "wed").await?;
    fill(browser, "[name='sample.time']", "15:00").await?;
    pick(browser, "select[name='sample.location']", "shop-2").await?;
    pick(browser, "select[name='sample.lines[0].sku']", "TS-OOLONG").await?;
    fill(browser, "[name='sample.lines[0].quantity']", "2").await?;
    click(browser, "#preview-rules").await?;
    let wanted = expected_points("shop-2", time::macros::datetime!(2026-01-07 15:00 +7), 2);
    let total = wait_for_text(browser, "#preview-total", |t| !t.is_empty()).await?;
    check(total.trim() == wanted.to_string(), || {
        format!("preview total {total:?}, evaluate gives {wanted}")
    })?;
    let lines = text_of(browser, "#preview").await?;
    check(lines.contains("Double points"), || {
        format!("preview: {lines}")
    })?;
    click(browser, "#save-rules").await?;
    text_of(browser, "#saved").await?;
    let saved = saved_rules(server, admin).await;
    let wanted_rules = regulars_loyalty::rules::EarningRules::from_json(DOUBLE_AT_SHOP_2);
    let read = regulars_loyalty::rules::EarningRules::from_json(&saved.to_string());
    check(read.is_ok() && read == wanted_rules, || {
        format!("saved rules: {saved}")
    })?;
    let at_three = last_weekday_at(15);
    let earned = server
        .post("/v1/orders", admin, &order("B-1500", &shop.phone, at_three))
        .await
        .expect(200, "order at 15:00");
    check(earned.int("/points_earned") == wanted, || {
        format!("15:00 at Shop 2 earned {}", earned.text)
    })?;
    let at_five = last_weekday_at(17);
    let later = server
        .post("/v1/orders", admin, &order("B-1700", &shop.phone, at_five))
        .await
        .expect(200, "order at 17:00");
    check(later.int("/points_earned") == wanted / 2, || {
        format!("17:00 at Shop 2 earned {}", later.text)
    })
}

/// An owner sets up "3 milk teas, one free" by the stamp cards form (category and reward
/// picked from lists), and the next order's two milk teas show as two stamps of three.
async fn stamp_card_form(browser: &Client, server: &TestServer, shop: &Shop) -> Step<()> {
    let admin = shop.tenant.admin.as_str();
    let reward = server
        .post(
            "/v1/rewards",
            admin,
            &json!({"name": "Ly trà sữa miễn phí", "cost": 1000,
                "kind": {"type": "free_item", "sku": "TS-OOLONG"}, "validity_days": 30}),
        )
        .await
        .expect(201, "reward")
        .str("/id");
    context(
        browser
            .goto(&format!("{}/dashboard/programme", server.base))
            .await,
        "programme",
    )?;
    let row = |field: &str| format!("[name='cards[0].{field}']");
    fill(browser, &row("name"), "Thẻ trà sữa").await?;
    fill(browser, &row("code"), "milk-tea").await?;
    fill(browser, &row("stamps_needed"), "3").await?;
    pick(browser, &format!("select{}", row("earn.per")), "item").await?;
    pick(
        browser,
        &format!("select{}", row("earn.categories")),
        "milk-tea",
    )
    .await?;
    pick(browser, &format!("select{}", row("reward")), &reward).await?;
    click(browser, "#save-stamps").await?;
    text_of(browser, "#saved").await?;
    let cards = server
        .get("/v1/stamp-cards", admin)
        .await
        .expect(200, "cards");
    let card = &cards.json["cards"][0];
    check(
        card["stamps_needed"] == 3
            && card["categories"] == json!(["milk-tea"])
            && card["reward_id"] == reward.as_str(),
        || format!("saved cards: {}", cards.text),
    )?;
    let at = crate::programme_form::last_weekday_at(10);
    let customer = server
        .post(
            "/v1/orders",
            admin,
            &crate::programme_form::order("B-STAMP", &shop.phone, at),
        )
        .await
        .expect(200, "order")
        .str("/customer_id");
    let profile = server
        .get(&format!("/v1/customers/{customer}"), admin)
        .await
        .expect(200, "profile");
    check(profile.json["stamps"][0]["stamps"] == 2, || {
        format!("stamps after two milk teas: {}", profile.json["stamps"])
    })
}

fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("browser-screenshots")
}

/// Runs a scenario; on failure saves a screenshot and panics with the step that failed.
pub(crate) async fn scenario<F: Future<Output = Step<()>>>(browser: &Client, name: &str, run: F) {
    if let Err(failure) = run.await {
        let dir = screenshot_dir();
        let saved = match browser.screenshot().await {
            Ok(png) => std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(dir.join(format!("{name}.png")), png))
                .map(|()| {
                    format!(
                        "screenshot in {}",
                        dir.join(format!("{name}.png")).display()
                    )
                })
                .unwrap_or_else(|e| format!("screenshot not written: {e}")),
            Err(e) => format!("no screenshot: {e}"),
        };
        let source = browser.source().await.unwrap_or_default();
        panic!("{name}: {failure}\n{saved}\npage source:\n{source}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_and_customer_pages_work_in_a_real_browser() {
    let Some(binary) = chromedriver() else {
        let required = std::env::var("REGULARS_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "REGULARS_REQUIRE_BROWSER=1 but no chromedriver: install Debian's chromium and chromium-driver"
        );
        eprintln!("skipped: no chromedriver on PATH (install chromium and chromium-driver)");
        return;
    };
    let server = spawn(Db::Sqlite).await;
    let shop = shop(&server, "Trà Sữa", 901).await;
    crate::programme_form::menu_and_shop_2(&server, &shop.tenant.admin).await;
    let driver = Driver::start(&binary).await;
    let browser = driver.browser().await;
    // Finding an element waits for it a while: pages load after the click that asks.
    browser
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            None,
            None,
            Some(Duration::from_secs(5)),
        ))
        .await
        .unwrap_or_else(|e| panic!("timeouts: {e}"));
    scenario(&browser, "dashboard", dashboard(&browser, &server, &shop)).await;
    scenario(&browser, "campaign", campaign(&browser, &shop)).await;
    scenario(&browser, "phone-card", phone_card(&browser, &server, &shop)).await;
    scenario(
        &browser,
        "happy-hour-form",
        happy_hour_form(&browser, &server, &shop),
    )
    .await;
    scenario(
        &browser,
        "stamp-card-form",
        stamp_card_form(&browser, &server, &shop),
    )
    .await;
    // A brand of its own, so the campaign scenario's win-back does not message the
    // same customers first.
    let cafe = crate::dashboard::shop(&server, "Quán Mây", 972).await;
    scenario(
        &browser,
        "variant-win-back",
        crate::variant_browser::variant_win_back(&browser, &server, &cafe),
    )
    .await;
    let _ = browser.close().await;
}
