//! The must-show in a real browser: an owner builds a two-variant win-back by the
//! campaign form (no JSON), previews whom it reaches and the SMS they would get, saves,
//! launches it from its page, runs it, and reads each variant's messaged count in the
//! campaign page's variants table, the API report's figures.

use crate::browser::{
    Step, check, click, context, fill, pick, text_of, wait_for_text, wait_for_url,
};
use crate::campaign_form::{TEMPLATE, lapsed_customers};
use crate::dashboard::Shop;
use crate::server::TestServer;
use fantoccini::{Client, Locator};
use regulars_campaigns::sms::{SAMPLE_CODE, SAMPLE_OPT_OUT_LINK};
use regulars_domain::sms::measure;
use serde_json::json;

/// Lapsed customers who said yes to SMS; one more said nothing. Enough that the fifth
/// held out (drawn from the new campaign's id) leaves some messaged.
const CONSENTING: u64 = 10;

/// The whole number in the `<data>` at `css`.
async fn data_of(browser: &Client, css: &str) -> Step<i64> {
    let element = context(browser.find(Locator::Css(css)).await, css)?;
    let value = context(element.attr("value").await, css)?.unwrap_or_default();
    context(value.parse::<i64>(), css)
}

/// The count of a skip reason in the preview, 0 when the row is not there.
async fn skipped(browser: &Client, reason: &str) -> Step<i64> {
    let css = format!("#preview-skipped tr[data-reason='{reason}'] data");
    match browser.find_all(Locator::Css(&css)).await {
        Ok(found) if found.is_empty() => Ok(0),
        Ok(_) => data_of(browser, &css).await,
        Err(e) => Err(format!("{css}: {e}")),
    }
}

/// Fills the form: a win-back ("overdue": customers past 1.5 times their usual gap
/// between visits, which the test's customers are, so it reaches them at once) with
/// two variants, by SMS only, a fifth held out, no budget and no frequency cap.
async fn fill_win_back(browser: &Client, topping: &str, discount: &str) -> Step<()> {
    let field = |name: &str| format!("[name='{name}']");
    fill(browser, &field("name"), "Win back: which offer?").await?;
    pick(browser, &field("trigger.type"), "overdue").await?;
    fill(browser, &field("trigger.factor"), "1.5").await?;
    pick(browser, &field("audience.kind"), "").await?;
    // Each variant has its own offer: none for the campaign itself.
    pick(browser, &field("offer.type"), "").await?;
    pick(browser, &field("offer.reward.reward_id"), "").await?;
    fill(browser, &field("offer.reward.cost"), "").await?;
    let variants = [
        ("Free topping", topping, "8000"),
        ("20k off", discount, "20000"),
    ];
    for (i, (name, reward, cost)) in variants.iter().enumerate() {
        let at = |rest: &str| field(&format!("variants[{i}].{rest}"));
        fill(browser, &at("name"), name).await?;
        pick(browser, &at("offer.type"), "fixed").await?;
        pick(browser, &at("offer.reward.reward_id"), reward).await?;
        fill(browser, &at("offer.reward.cost"), cost).await?;
    }
    fill(browser, &field("template"), TEMPLATE).await?;
    pick(browser, &field("channels[0]"), "sms").await?;
    pick(browser, &field("channels[1]"), "").await?;
    pick(browser, &field("channels[2]"), "").await?;
    pick(browser, &field("send_time.type"), "now").await?;
    fill(browser, &field("holdout"), "0.2").await?;
    fill(browser, &field("budget"), "").await?;
    fill(browser, &field("frequency_cap.max"), "").await?;
    fill(browser, &field("frequency_cap.days"), "").await?;
    fill(browser, &field("attribution_days"), "14").await?;
    fill(browser, &field("gross_margin"), "0.65").await
}

/// The SMS each messaged customer gets, as the test writes it.
async fn expected_sms(server: &TestServer, admin: &str) -> String {
    let policy = server
        .get("/v1/brand/policy", admin)
        .await
        .expect(200, "policy");
    let text = |key: &str| policy.json[key].as_str().unwrap_or_default().to_owned();
    let body = format!("Chị Lan ơi, Quán Mây nhớ bạn! Mã quà: {SAMPLE_CODE}");
    regulars_domain::with_opt_out(
        &format!("{}{body}", text("promotional_prefix")),
        &text("opt_out_instruction"),
        Some(SAMPLE_OPT_OUT_LINK),
    )
}

/// The preview: all the consenting lapsed customers messaged or held out, the one
/// without consent skipped for want of a channel, and the SMS as the test writes it,
/// with its segment count.
async fn preview(browser: &Client, server: &TestServer, admin: &str) -> Step<()> {
    click(browser, "#preview-campaign").await?;
    wait_for_text(browser, "#preview h2", |t| !t.is_empty()).await?;
    let messages = data_of(browser, "#preview-messages data").await?;
    let held = skipped(browser, "hold_out").await?;
    check(messages > 0 && messages + held == CONSENTING as i64, || {
        format!("preview: {messages} messaged and {held} held out of {CONSENTING}")
    })?;
    let no_channel = skipped(browser, "no_channel").await?;
    check(no_channel == 1, || {
        format!("preview: {no_channel} skipped without a channel, expected 1")
    })?;
    let sms = expected_sms(server, admin).await;
    let shown = text_of(browser, "#preview-sms").await?;
    check(shown.trim() == sms.trim(), || {
        format!("preview SMS {shown:?}, expected {sms:?}")
    })?;
    let segments = data_of(browser, "#preview-sms-segments data").await?;
    check(segments == i64::from(measure(&sms).segments), || {
        format!(
            "{segments} SMS segments, expected {}",
            measure(&sms).segments
        )
    })
}

/// The two-variant win-back built, previewed, saved and launched in the browser, run
/// over the API, and its per-variant table read on the campaign page.
pub(crate) async fn variant_win_back(browser: &Client, server: &TestServer, a: &Shop) -> Step<()> {
    let admin = a.tenant.admin.as_str();
    let discount = server
        .post(
            "/v1/rewards",
            admin,
            &json!({"name": "Giảm 20.000₫", "cost": 50, "validity_days": 14,
                    "kind": {"type": "fixed_discount", "amount": {"amount": "20000", "currency": "VND"}}}),
        )
        .await
        .expect(201, "discount")
        .str("/id");
    lapsed_customers(server, admin, CONSENTING).await;
    server.score(admin).await;

    context(browser.set_window_size(1280, 900).await, "desktop size")?;
    context(
        browser
            .goto(&format!("{}/dashboard/login?lang=en", server.base))
            .await,
        "login page",
    )?;
    fill(browser, "#key", admin).await?;
    click(browser, "#sign-in").await?;
    wait_for_url(browser, |url| url.contains("/dashboard/overview")).await?;
    context(
        browser
            .goto(&format!("{}/dashboard/campaigns/new", server.base))
            .await,
        "new campaign",
    )?;
    fill_win_back(browser, &a.reward, &discount).await?;
    preview(browser, server, admin).await?;
    let listed = server.get("/v1/campaigns", admin).await.expect(200, "list");
    check(listed.json["items"] == json!([]), || {
        format!("a preview saved: {}", listed.text)
    })?;

    // The preview page keeps the fields: save them, launch from the campaign's page.
    click(browser, "#save-campaign").await?;
    let status = wait_for_text(browser, "#status", |s| s == "draft").await?;
    check(status == "draft", || {
        format!("saved campaign is {status:?}")
    })?;
    let page = context(browser.current_url().await, "url")?
        .path()
        .to_owned();
    let id = page
        .strip_prefix("/dashboard/campaigns/")
        .unwrap_or_default()
        .to_owned();
    click(browser, "#campaign-launch").await?;
    context(
        browser
            .find(Locator::Css("#status[data-status=active]"))
            .await,
        "launched",
    )?;
    let stored = server
        .get(&format!("/v1/campaigns/{id}"), admin)
        .await
        .expect(200, "campaign");
    let names = &stored.json["definition"]["variants"];
    check(
        names[0]["name"] == "Free topping" && names[1]["name"] == "20k off",
        || format!("stored variants: {names}"),
    )?;

    let runs = server
        .post("/v1/campaigns/runs", admin, &json!({}))
        .await
        .expect(201, "run");
    let report = server
        .get(&format!("/v1/campaigns/{id}/report"), admin)
        .await
        .expect(200, "report");
    let variants = report.json["variants"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    check(variants.len() == 2, || format!("report: {}", report.text))?;
    let treated: Vec<i64> = variants
        .iter()
        .map(|v| v["treated"].as_i64().unwrap_or(-1))
        .collect();
    let messaged = runs.json[0]["messages"].as_i64().unwrap_or(-1);
    check(
        treated.iter().sum::<i64>() == messaged && messaged > 0,
        || format!("variants messaged {treated:?}, the run {}", runs.text),
    )?;

    context(
        browser.goto(&format!("{}{page}", server.base)).await,
        "campaign page",
    )?;
    for (i, v) in variants.iter().enumerate() {
        let row = format!("#variant-results tr.variant[data-variant='{i}']");
        let name = text_of(browser, &format!("{row} th")).await?;
        check(name == v["name"].as_str().unwrap_or_default(), || {
            format!(
                "variant {i} is named {name:?} on the page, {} by the API",
                v["name"]
            )
        })?;
        let shown = data_of(browser, &format!("{row} td.treated data")).await?;
        check(shown == treated[i], || {
            format!(
                "{name}: {shown} messaged on the page, {} by the API",
                treated[i]
            )
        })?;
    }
    Ok(())
}
