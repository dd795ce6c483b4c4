//! Campaigns: the list with each one's results, a campaign's page (status, document,
//! life-cycle buttons, a preview by skip reason and the report against the hold-out
//! group), and a form that creates a draft from a campaign document. The list and a
//! campaign's page take the location picker and are open to managers, read only.
//!
//! Every figure comes from the same service calls as `GET /v1/campaigns*`, and carries
//! its exact value in a `<data value="…">` element next to the text people read.

use crate::WebState;
use crate::i18n::{Lang, Text};
use crate::pages::{by_location, campaign_engagement, campaign_result, campaign_scope};
use crate::render::{Fail, Nav, dashboard, money_text, ok, percent, when};
use crate::session::{CsrfOnly, Session};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_campaigns::plan::SkipReason;

use regulars_domain::{CampaignId, Currency, Money};
use regulars_loyalty::rewards::{Reward, RewardKind};
use regulars_ports::{CampaignRecord, CampaignStatus, OutboxStatus};
use regulars_service::{CampaignAction, CampaignError, CampaignReport, CampaignRunReport, Scope};
use serde::Deserialize;
use serde_json::{Value, json};

/// Campaigns per page of the list.
const PAGE: u64 = 25;

fn status_name(t: &Text, status: CampaignStatus) -> &'static str {
    match status {
        CampaignStatus::Draft => t.status_draft,
        CampaignStatus::Active => t.status_active,
        CampaignStatus::Paused => t.status_paused,
        CampaignStatus::Ended => t.status_ended,
    }
}

pub(crate) fn skip_name(t: &Text, reason: SkipReason) -> &'static str {
    match reason {
        SkipReason::NotTriggered => t.skip_not_triggered,
        SkipReason::NotInAudience => t.skip_not_in_audience,
        SkipReason::AlreadySent => t.skip_already_sent,
        SkipReason::OptedOut => t.skip_opted_out,
        SkipReason::DoNotCall => t.skip_do_not_call,
        SkipReason::NoProfilingConsent => t.skip_no_profiling_consent,
        SkipReason::NoChannel => t.skip_no_channel,
        SkipReason::HoldOut => t.skip_hold_out,
        SkipReason::FrequencyCap => t.skip_frequency_cap,
        SkipReason::LegalCap => t.skip_legal_cap,
        SkipReason::OfferTooExpensive => t.skip_offer_too_expensive,
        SkipReason::BudgetExhausted => t.skip_budget_exhausted,
    }
}

fn message_status_name(t: &Text, status: OutboxStatus) -> &'static str {
    match status {
        OutboxStatus::Pending => t.message_pending,
        OutboxStatus::Sending => t.message_sending,
        OutboxStatus::Sent => t.message_sent,
        OutboxStatus::Delivered => t.message_delivered,
        OutboxStatus::Failed => t.message_failed,
        OutboxStatus::Dead => t.message_dead,
        OutboxStatus::Cancelled => t.message_cancelled,
    }
}

/// The API's name of a skip reason (`not_triggered`, …).
pub(crate) fn skip_code(reason: SkipReason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Messages a provider accepted (sent, delivered, or reported failed afterwards), as
/// the API's `sent` counts them.
fn messages_sent(report: &CampaignReport) -> u64 {
    let count = |s: OutboxStatus| report.messages.get(&s).copied().unwrap_or(0);
    count(OutboxStatus::Sent) + count(OutboxStatus::Delivered) + count(OutboxStatus::Failed)
}

/// Minor units of the brand currency, as people read them.
fn minor(units: f64, currency: Currency) -> String {
    if !units.is_finite() {
        return "—".to_owned();
    }
    money_text(&Money::from_minor_units(units.round() as i64, currency))
}

fn roi_text(roi: Option<f64>) -> String {
    roi.map_or("—".to_owned(), percent)
}

fn not_found_or_internal(session: &Session, error: CampaignError) -> Fail {
    match error {
        CampaignError::UnknownCampaign(_) | CampaignError::UnknownBrand(_) => {
            Fail::not_found(session.lang)
        }
        other => Fail::internal(session.lang, &other),
    }
}

/// The page's query.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    after: Option<String>,
    location: Option<String>,
}

/// `GET /dashboard/campaigns`: the brand's campaigns, newest first, with their results
/// at the chosen locations (a manager's: its own, and read only).
pub(crate) async fn list(
    req: HttpRequest,
    state: web::Data<WebState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Fail> {
    let session = Session::scoped(&req, &state).await?;
    let scope = by_location::page_scope(&session, query.location.as_deref())?;
    let t = session.lang.text();
    let brand = session.brand();
    let after = crate::pages::cursor(query.after.as_ref());
    let picker = campaign_scope::picker(&state, &session, "/dashboard/campaigns", &scope).await?;
    let carry = campaign_scope::carry(&scope);
    let records = state
        .services
        .campaigns(brand, after, PAGE)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let mut rows = Vec::with_capacity(records.len());
    for record in &records {
        // A campaign whose report cannot be made is still listed, without figures.
        let report = state
            .services
            .campaign_report_in(brand, record.id, &scope)
            .await
            .ok();
        rows.push((record, report));
    }
    let next = (records.len() as u64 == PAGE)
        .then(|| records.last().map(|r| r.id))
        .flatten();
    let body = html! {
        (picker)
        @if session.can_edit() {
            p { a #new-campaign href="/dashboard/campaigns/new" { (t.new_campaign) } }
        }
        (campaign_scope::note(session.lang, &scope))
        section {
            @if rows.is_empty() { p.muted { (t.no_campaigns) } }
            @else {
                table #campaigns {
                    tr {
                        th { (t.name) } th { (t.status) } th { (t.messages_sent) }
                        th { (t.vouchers_redeemed) } th { (t.roi) }
                    }
                    @for (record, report) in &rows {
                        @let attribution = report.as_ref().and_then(|r| r.attribution.as_ref().ok());
                        @let margin = report.as_ref().map_or(0.0, |r| r.gross_margin);
                        tr data-id=(record.id) data-status=(record.status.as_str()) {
                            td { a href=(format!("/dashboard/campaigns/{}{}", record.id, carry.first)) { (record.name) } }
                            td.status { (status_name(t, record.status)) }
                            td.sent { (report.as_ref().map_or("—".to_owned(), |r| messages_sent(r).to_string())) }
                            td.redeemed { (report.as_ref().map_or("—".to_owned(), |r| r.vouchers_redeemed.to_string())) }
                            td.roi { (campaign_result::roi(session.lang, attribution, margin)) }
                        }
                    }
                }
                (campaign_result::explained(session.lang))
                @if let Some(next) = next {
                    p { a href=(format!("/dashboard/campaigns?after={next}{}", carry.then)) { (t.next_page) } }
                }
            }
        }
    };
    Ok(ok(
        &req,
        dashboard(&session, Nav::Campaigns, t.campaigns_title, body),
    ))
}

/// A sensible first document: win back customers who are overdue, with the brand's
/// first reward as the offer when it has one.
pub(crate) fn example_document(rewards: &[Reward], currency: Currency) -> Value {
    let mut doc = json!({
        "name": "Win back",
        "trigger": {"type": "overdue", "factor": 1.5},
        "channels": ["zalo", "sms", "email"],
        "holdout": 0.1,
        "attribution_days": 14
    });
    match rewards.iter().find(|r| r.active).or(rewards.first()) {
        Some(reward) => {
            // What one redemption costs the shop: the discount when it is a fixed one;
            // otherwise the owner fills it in.
            let cost = match &reward.kind {
                RewardKind::FixedDiscount { amount } => amount.amount().to_string(),
                _ => "0".to_owned(),
            };
            doc["offer"] = json!({
                "type": "fixed",
                "reward": {
                    "reward_id": reward.id.to_string(),
                    "cost": {"amount": cost, "currency": currency.code()}
                }
            });
            doc["template"] = json!(
                "{{name}} ơi, {{shop}} nhớ bạn! Tặng bạn {{reward}}, dùng đến {{expiry_date}}."
            );
        }
        None => {
            doc["template"] = json!("{{name}} ơi, {{shop}} nhớ bạn! Ghé lại nhé.");
        }
    }
    doc
}

pub(crate) fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// The campaign page's query: `?preview=1` adds what a run would do now; `location`
/// limits the report to one location.
#[derive(Debug, Deserialize)]
pub(crate) struct ShowQuery {
    preview: Option<String>,
    location: Option<String>,
}

fn preview_section(t: &Text, preview: &CampaignRunReport) -> Markup {
    html! {
        section #preview {
            h2 { (t.preview) }
            p.muted { (t.preview_help) }
            table {
                tr #preview-customers { th { (t.customers_looked_at) } td { data value=(preview.customers) { (preview.customers) } } }
                tr #preview-messages { th { (t.would_message) } td { data value=(preview.messages) { (preview.messages) } } }
                tr #preview-vouchers { th { (t.would_issue) } td { data value=(preview.vouchers) { (preview.vouchers) } } }
            }
            @if !preview.sms_segments.is_empty() {
                h3 { (t.sms_segments) }
                table #preview-sms-segments {
                    @for (segments, n) in &preview.sms_segments {
                        tr data-segments=(segments) {
                            th { (t.sms_segments_n.replace("{n}", &segments.to_string())) }
                            td { data value=(n) { (n) } }
                        }
                    }
                    tr #preview-sms-over-cap {
                        th { (t.sms_over_cap) }
                        td { data value=(preview.sms_over_cap) { (preview.sms_over_cap) } }
                    }
                }
            }
            h3 { (t.skipped_by_reason) }
            @if preview.skipped.is_empty() { p.muted { (t.none) } }
            @else {
                table #preview-skipped {
                    @for (reason, n) in &preview.skipped {
                        tr data-reason=(skip_code(*reason)) {
                            th { (skip_name(t, *reason)) }
                            td { data value=(n) { (n) } }
                        }
                    }
                }
            }
        }
    }
}

/// One figure of the report: `shown` for people, `value` exactly.
fn row(id: &str, label: &str, value: impl std::fmt::Display, shown: &str) -> Markup {
    html! {
        tr id=(id) { th { (label) } td { data value=(value) { (shown) } } }
    }
}

fn report_section(lang: Lang, report: &CampaignReport, currency: Currency) -> Markup {
    let t = lang.text();
    let money = |units: i64| money_text(&Money::from_minor_units(units, currency));
    let redemption = (report.vouchers_issued > 0)
        .then(|| report.vouchers_redeemed as f64 / report.vouchers_issued as f64);
    html! {
        section #report {
            h2 { (t.campaign_report) }
            p.muted { (t.window_days.replace("{n}", &report.window_days.to_string())) }
            table #groups {
                tr { th {} th { (t.customers_total) } th { (t.revenue) } }
                tr #group-treated {
                    th { (t.treated) }
                    td.count { data value=(report.treated) { (report.treated) } }
                    td.revenue { data value=(report.treated_revenue_minor) { (money(report.treated_revenue_minor)) } }
                }
                tr #group-holdout {
                    th { (t.held_out) }
                    td.count { data value=(report.held_out) { (report.held_out) } }
                    td.revenue { data value=(report.holdout_revenue_minor) { (money(report.holdout_revenue_minor)) } }
                }
            }
            div.grid2 {
                div {
                    h3 { (t.messages_by_status) }
                    @if report.messages.is_empty() { p.muted { (t.none) } }
                    @else {
                        table #messages-by-status {
                            @for (status, n) in &report.messages {
                                tr data-status=(status.as_str()) { th { (message_status_name(t, *status)) } td { data value=(n) { (n) } } }
                            }
                        }
                    }
                }
                div {
                    h3 { (t.vouchers) }
                    table {
                        (row("vouchers-issued", t.vouchers_issued, report.vouchers_issued, &report.vouchers_issued.to_string()))
                        (row("vouchers-redeemed", t.vouchers_redeemed, report.vouchers_redeemed, &report.vouchers_redeemed.to_string()))
                        (row("redemption", t.redemption_rate, redemption.map_or(String::new(), |r| r.to_string()), &redemption.map_or("—".to_owned(), percent)))
                        (row("offer-cost", t.offer_cost, report.offer_cost_minor, &money(report.offer_cost_minor)))
                    }
                }
            }
            h3 { (t.attribution) }
            @match &report.attribution {
                Ok(a) => {
                    table #attribution {
                        (row("incremental-revenue", t.incremental_revenue, a.incremental_revenue, &minor(a.incremental_revenue, currency)))
                        tr #interval {
                            th { (t.interval_95) }
                            td {
                                data.low value=(a.ci_low) { (minor(a.ci_low, currency)) }
                                " – "
                                data.high value=(a.ci_high) { (minor(a.ci_high, currency)) }
                            }
                        }
                        (row("incremental-margin", t.incremental_margin, a.incremental_margin, &minor(a.incremental_margin, currency)))
                        (row("roi", t.roi, a.roi.map_or(String::new(), |r| r.to_string()), &roi_text(a.roi)))
                        tr #roi-judged { th {} td { (campaign_result::roi(lang, Some(a), report.gross_margin)) } }
                    }
                    (campaign_result::explained(lang))
                    p.muted { (t.gross_margin_used.replace("{m}", &percent(report.gross_margin))) }
                }
                Err(reason) => {
                    p.muted #attribution-unavailable { (t.attribution_unavailable) ": " (reason.to_string()) }
                }
            }
            (super::campaign_variants::section(lang, report, currency))
        }
    }
}

/// `GET /dashboard/campaigns/{id}`.
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, Fail> {
    let session = Session::scoped(&req, &state).await?;
    let scope = by_location::page_scope(&session, query.location.as_deref())?;
    let Ok(id) = path.parse::<CampaignId>() else {
        return Err(Fail::not_found(session.lang));
    };
    let page = render(&state, &session, &scope, id, query.preview.is_some(), None).await?;
    Ok(ok(&req, page))
}

async fn render(
    state: &WebState,
    session: &Session,
    scope: &Scope,
    id: CampaignId,
    with_preview: bool,
    refusal: Option<String>,
) -> Result<Markup, Fail> {
    let t = session.lang.text();
    let brand = session.brand();
    let report = state
        .services
        .campaign_report_in(brand, id, scope)
        .await
        .map_err(|e| not_found_or_internal(session, e))?;
    let action = format!("/dashboard/campaigns/{id}");
    let picker = campaign_scope::picker(state, session, &action, scope).await?;
    let found = state
        .services
        .brand(brand)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    // A preview plans the whole customer base: admins only, one per brand at a time.
    let preview = if with_preview {
        if !session.can_edit() {
            return Err(Fail::forbidden(session.lang, t.forbidden_body));
        }
        let Some(_slot) = state.services.exclusive(brand, "campaign preview") else {
            return Err(Fail::too_many(session.lang, 1));
        };
        Some(
            state
                .services
                .preview_campaign(brand, id)
                .await
                .map_err(|e| not_found_or_internal(session, e))?,
        )
    } else {
        None
    };
    let engagement = state.services.campaign_engagement(brand, id).await.ok();
    let record: &CampaignRecord = &report.campaign;
    let document = serde_json::from_str::<Value>(&record.definition)
        .map(|v| pretty(&v))
        .unwrap_or_else(|_| record.definition.clone());
    let actions: Vec<(&str, &str)> = match record.status {
        CampaignStatus::Draft => vec![("launch", t.launch), ("end", t.end_campaign)],
        CampaignStatus::Active => vec![("pause", t.pause), ("end", t.end_campaign)],
        CampaignStatus::Paused => vec![("launch", t.resume), ("end", t.end_campaign)],
        CampaignStatus::Ended => vec![],
    };
    let body = html! {
        (picker)
        @if let Some(message) = &refusal { p.error #refused { (message) } }
        section #summary {
            p {
                (t.status) ": "
                strong #status data-status=(record.status.as_str()) { (status_name(t, record.status)) }
            }
            p.muted {
                (t.created) " " (when(record.created_at))
                " · " (t.last_campaign_run) " " (record.last_run_at.map_or(t.not_yet.to_owned(), when))
                " · " (t.budget_used) " " (money_text(&Money::from_minor_units(record.budget_used_minor, found.currency)))
            }
            @if session.can_edit() && !actions.is_empty() {
                div.actions {
                    @for (action, label) in &actions {
                        form method="post" action=(format!("/dashboard/campaigns/{}/{action}", record.id)) style="display:inline-block;margin-right:.5rem" {
                            input type="hidden" name="csrf" value=(session.csrf);
                            button id=(format!("campaign-{action}")) type="submit" { (label) }
                        }
                    }
                }
            }
            @if session.can_edit() && matches!(record.status, CampaignStatus::Draft | CampaignStatus::Paused) {
                p { a #edit-campaign href=(format!("/dashboard/campaigns/{}/edit", record.id)) { (crate::pages::campaign_form::edit_label(session.lang)) } }
            }
            @if preview.is_none() && session.can_edit() {
                p { a #show-preview href=(format!("/dashboard/campaigns/{}?preview=1", record.id)) { (t.preview) } }
            }
        }
        @if let Some(preview) = &preview { (preview_section(t, preview)) }
        (campaign_scope::note(session.lang, scope))
        (report_section(session.lang, &report, found.currency))
        @if let Some(e) = &engagement { (campaign_engagement::section(session.lang, e)) }
        section {
            h2 { (t.campaign_document) }
            pre #document { (document) }
        }
    };
    Ok(dashboard(session, Nav::Campaigns, &record.name, body))
}

/// `POST /dashboard/campaigns/{id}/{action}`: launch, pause or end; back to the page, or
/// the page again with why not (409).
pub(crate) async fn transition(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    session.authorise_change(&state, form.token())?;
    let (raw, action) = path.into_inner();
    let Ok(id) = raw.parse::<CampaignId>() else {
        return Err(Fail::not_found(session.lang));
    };
    let action = match action.as_str() {
        "launch" => CampaignAction::Launch,
        "pause" => CampaignAction::Pause,
        "end" => CampaignAction::End,
        _ => return Err(Fail::not_found(session.lang)),
    };
    match state
        .services
        .set_campaign_status(session.brand(), id, action)
        .await
    {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/dashboard/campaigns/{id}")))
            .finish()),
        Err(CampaignError::WrongStatus { action, .. }) => {
            let scope = Scope::Brand;
            let page = render(&state, &session, &scope, id, false, Some(action.to_owned())).await?;
            let mut reply = ok(&req, page);
            *reply.status_mut() = StatusCode::CONFLICT;
            Ok(reply)
        }
        Err(other) => Err(not_found_or_internal(&session, other)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use regulars_domain::{Points, RewardId};

    #[test]
    fn the_example_offers_the_first_active_reward_at_its_discount() {
        let vnd = Currency::VND;
        let reward = |name: &str, active: bool, kind: RewardKind| Reward {
            id: RewardId::from_uuid(uuid::Uuid::from_u128(name.len() as u128)),
            name: name.to_owned(),
            cost: Points::new(100),
            kind,
            active,
            validity_days: 14,
            min_order_total: None,
        };
        let amount = Money::from_minor_units(10_000, vnd);
        let rewards = [
            reward("old", false, RewardKind::FreeItem { sku: "X".into() }),
            reward("discount", true, RewardKind::FixedDiscount { amount }),
        ];
        let doc = example_document(&rewards, vnd);
        assert_eq!(
            doc["offer"]["reward"]["reward_id"],
            rewards[1].id.to_string()
        );
        assert_eq!(doc["offer"]["reward"]["cost"]["amount"], "10000");
        assert!(doc["template"].as_str().unwrap().contains("{{reward}}"));
        let none = example_document(&[], vnd);
        assert!(none.get("offer").is_none());
        assert!(!none["template"].as_str().unwrap().contains("{{reward}}"));
    }
}
