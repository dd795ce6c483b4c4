//! A customer's profile (orders, points ledger, tier and progress, vouchers, scores);
//! the list of customers is [`customer_list`](super::customer_list).

use crate::WebState;
use crate::i18n::Text;
use crate::pages::names::phone_shown;
use crate::pages::{audit, cursor, names};
use crate::render::{Fail, Nav, dashboard, money_text, ok, percent, when};
use crate::session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::{Currency, CustomerId, Money};
use regulars_loyalty::ledger::{EntryKind, LedgerEntry};
use regulars_loyalty::tiers::{QualifyingValue, TierProgress};
use regulars_loyalty::vouchers::{Voucher, VoucherCode, masked_code};
use regulars_ports::{CustomerScores, PersonalData, StoredOrder};
use regulars_service::{CustomerView, LookupError, ManageError, SegmentError};
use serde::Deserialize;
use std::collections::HashMap;

/// Orders and ledger entries per page of a profile.
const HISTORY_PAGE: u64 = 20;

/// A voucher code as the session may see it: masked to a viewer.
fn code_shown(session: &Session, code: &VoucherCode) -> String {
    if session.sees_contact() {
        code.to_string()
    } else {
        masked_code(code.as_str())
    }
}

/// A qualifying value as people read it.
pub(crate) fn qualifying(t: &Text, value: &QualifyingValue) -> String {
    match value {
        QualifyingValue::Points(p) => format!("{} {}", p.value(), t.points),
        QualifyingValue::Spend(m) => money_text(m),
    }
}

fn magnitude(value: &QualifyingValue) -> f64 {
    match value {
        QualifyingValue::Points(p) => p.value() as f64,
        QualifyingValue::Spend(m) => m.to_minor_units().unwrap_or(0) as f64,
    }
}

/// The tier held and the bar to the next one.
pub(crate) fn tier_block(t: &Text, tier: Option<&str>, progress: Option<&TierProgress>) -> Markup {
    html! {
        p #tier { strong { (t.tier) ": " } (tier.unwrap_or(t.no_tier)) }
        @if let Some(progress) = progress {
            @match &progress.next {
                Some(next) => {
                    @let share = (magnitude(&progress.value) / magnitude(&next.threshold).max(1.0)).clamp(0.0, 1.0);
                    div.bar { span style=(format!("width:{:.0}%", share * 100.0)) {} }
                    p.muted #tier-progress { (qualifying(t, &next.remaining)) " " (t.to_next_tier) " " (next.tier) }
                }
                None => { p.muted #tier-progress { (t.top_tier) } }
            }
        }
    }
}

fn entry_kind(t: &Text, kind: &EntryKind) -> &'static str {
    match kind {
        EntryKind::Earn { .. } => t.entry_earn,
        EntryKind::Redeem { .. } => t.entry_redeem,
        EntryKind::Restore { .. } => t.entry_restore,
        EntryKind::Expire { .. } => t.entry_expire,
        EntryKind::Reverse { .. } => t.entry_reverse,
        EntryKind::Adjust { .. } => t.entry_adjust,
        EntryKind::CampaignBonus { .. } => t.entry_bonus,
    }
}

/// What a manager's view of a customer covers, said on the page.
fn scope_note(lang: crate::i18n::Lang) -> &'static str {
    match lang {
        crate::i18n::Lang::Vi => {
            "Lượt ghé, chi tiêu và đơn hàng chỉ tính ở các cửa hàng của bạn; điểm, hạng và voucher là của khách trên toàn thương hiệu."
        }
        crate::i18n::Lang::En => {
            "Visits, spend and orders are those at your locations only; points, tier and vouchers are the customer's across the whole brand."
        }
    }
}

/// The profile's query: where its two lists start.
#[derive(Debug, Deserialize)]
pub(crate) struct ProfileQuery {
    orders_after: Option<String>,
    ledger_after: Option<String>,
}

/// `GET /dashboard/customers/{id}`: 404 for an id of another brand, exactly as for
/// one that does not exist.
pub(crate) async fn profile(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    query: web::Query<ProfileQuery>,
) -> Result<HttpResponse, Fail> {
    let session = Session::scoped(&req, &state).await?;
    let lang = session.lang;
    let t = lang.text();
    let brand = session.brand();
    let Ok(id) = path.parse::<CustomerId>() else {
        return Err(Fail::not_found(lang));
    };
    let view = visible_view(&state, &session, id).await?;
    let scores = match state.services.customer_scores(brand, id).await {
        Ok(scores) => Some(scores),
        Err(SegmentError::UnknownCustomer(_)) => None,
        Err(other) => return Err(Fail::internal(lang, &other)),
    };
    let fail = |e: ManageError| Fail::internal(lang, &e);
    let orders_after = cursor(query.orders_after.as_ref());
    // Orders and visits are the shops': a manager is shown those of its locations.
    let orders = state
        .services
        .customer_orders_in(brand, &session.scope, id, orders_after, HISTORY_PAGE)
        .await
        .map_err(fail)?;
    let stats = state
        .services
        .customer_stats_in(brand, &session.scope, view.stats.clone())
        .await
        .map_err(fail)?;
    let ledger_after: Option<u64> = cursor(query.ledger_after.as_ref());
    let ledger = state
        .services
        .customer_ledger(brand, id, ledger_after, HISTORY_PAGE)
        .await
        .map_err(fail)?;
    audit::record(
        &state,
        &session,
        "GET /dashboard/customers/{id}",
        &shown_parts(scores.is_some()),
        &[id],
    )
    .await?;
    let items = names::menu_names(&state, &session).await?;
    let currency = stats.spend.currency();
    let base = format!("/dashboard/customers/{id}");
    let next_orders = (orders.len() as u64 == HISTORY_PAGE)
        .then(|| {
            orders
                .last()
                .map(|o| format!("{base}?orders_after={}", o.id))
        })
        .flatten();
    let next_ledger = (ledger.len() as u64 == HISTORY_PAGE)
        .then(|| {
            ledger
                .last()
                .map(|e| format!("{base}?ledger_after={}", e.seq))
        })
        .flatten();
    let c = &view.customer;
    let title = c
        .name
        .clone()
        .unwrap_or_else(|| phone_shown(&session, &c.phone));
    let body = html! {
        div.cards {
            div.card #balance { div.label { (t.balance) } div.value { (view.balance.value()) " " (t.points) } }
            div.card { div.label { (t.visits) } div.value #visits { (stats.visits) } }
            div.card { div.label { (t.spend) } div.value #spend { (money_text(&stats.spend)) } }
        }
        @if !session.scope.is_brand() {
            p.muted.note #scope-note { (scope_note(session.lang)) }
        }
        div.grid2 {
            section #profile {
                h2 { (t.profile) }
                p { strong { (t.phone) ": " } (phone_shown(&session, &c.phone)) }
                p { strong { (t.joined) ": " } (when(c.created_at)) }
                (tier_block(t, view.tier.as_ref().map(|s| s.code.as_str()), view.tier_progress.as_ref()))
            }
            (scores_section(t, scores.as_ref(), &items, currency))
        }
        (vouchers_section(&session, &view.vouchers))
        (orders_section(t, &orders, next_orders.as_deref()))
        (ledger_section(t, &ledger, next_ledger.as_deref()))
    };
    Ok(ok(&req, dashboard(&session, Nav::Customers, &title, body)))
}

/// The customer as the session may see them: a manager's customers are those of its
/// locations, and any other (of another brand, or unknown) is not found.
async fn visible_view(
    state: &WebState,
    session: &Session,
    id: CustomerId,
) -> Result<CustomerView, Fail> {
    let lang = session.lang;
    let brand = session.brand();
    // A manager's customers are those of its locations; any other is not found.
    match state
        .services
        .customer_in_scope(brand, &session.scope, id)
        .await
    {
        Ok(()) => {}
        Err(ManageError::NotFound { .. }) => return Err(Fail::not_found(lang)),
        Err(other) => return Err(Fail::internal(lang, &other)),
    }
    match state.services.customer_view(brand, id).await {
        Ok(view) => Ok(view),
        Err(LookupError::UnknownCustomer(_) | LookupError::UnknownBrand(_)) => {
            Err(Fail::not_found(lang))
        }
        Err(other) => Err(Fail::internal(lang, &other)),
    }
}

/// The parts of the customer's personal data the profile shows, for the access log.
fn shown_parts(scored: bool) -> Vec<PersonalData> {
    let mut parts = vec![
        PersonalData::Profile,
        PersonalData::Contact,
        PersonalData::Orders,
        PersonalData::Ledger,
        PersonalData::Vouchers,
    ];
    if scored {
        parts.push(PersonalData::Scores);
    }
    parts
}

/// What the last scoring run concluded about the customer, or that it has not run.
fn scores_section(
    t: &Text,
    scores: Option<&CustomerScores>,
    items: &HashMap<String, String>,
    currency: Currency,
) -> Markup {
    html! {
        section #scores {
            @match scores {
                Some(s) => {
                    p { strong { (t.p_alive) ": " } span #p-alive { (s.p_alive.map_or("—".to_owned(), percent)) } }
                    p { strong { (t.clv) ": " } span #clv { (s.clv_minor.map_or("—".to_owned(), |m| money_text(&Money::from_minor_units(m, currency)))) } }
                    p { strong { (t.favourite) ": " } span #favourite { (names::item_name(items, s.favourite_item.as_deref())) } }
                    p { strong { (t.next_visit) ": " } (s.next_visit_at.map_or("—".to_owned(), when)) }
                    p { strong { (t.segments_of) ": " } (s.segments.join(", ")) }
                }
                None => { p.muted { (t.not_scored) } }
            }
        }
    }
}

/// The customer's vouchers, their codes masked to a viewer.
fn vouchers_section(session: &Session, vouchers: &[Voucher]) -> Markup {
    let t = session.lang.text();
    html! {
        section #vouchers {
            h2 { (t.vouchers) }
            @if vouchers.is_empty() { p.muted { (t.no_vouchers) } }
            @else {
                table {
                    tr { th { (t.code) } th { (t.expires) } }
                    @for v in vouchers {
                        tr { td { code { (code_shown(session, v.code())) } } td { (when(v.expires_at())) } }
                    }
                }
            }
        }
    }
}

/// A page of the customer's orders, with the link to the next one.
fn orders_section(t: &Text, orders: &[StoredOrder], next: Option<&str>) -> Markup {
    html! {
        section #orders {
            h2 { (t.order_history) }
            @if orders.is_empty() { p.muted { (t.none) } }
            @else {
                table {
                    tr { th { (t.placed_at) } th { (t.total) } th { (t.earned) } th { (t.refunded) } }
                    @for o in orders {
                        tr {
                            td { (when(o.order.placed_at)) }
                            td { (money_text(&o.order.total)) }
                            td { (o.points_earned.value()) }
                            td { (money_text(&o.refunded)) }
                        }
                    }
                }
                @if let Some(next) = next { p { a href=(next) { (t.next_page) } } }
            }
        }
    }
}

/// A page of the customer's points ledger, with the link to the next one.
fn ledger_section(t: &Text, ledger: &[LedgerEntry], next: Option<&str>) -> Markup {
    html! {
        section #ledger {
            h2 { (t.ledger) }
            @if ledger.is_empty() { p.muted { (t.none) } }
            @else {
                table {
                    tr { th { (t.when) } th { (t.kind) } th { (t.amount) } }
                    @for e in ledger {
                        tr { td { (when(e.at)) } td { (entry_kind(t, &e.kind)) } td { (e.amount.value()) } }
                    }
                }
                @if let Some(next) = next { p { a href=(next) { (t.next_page) } } }
            }
        }
    }
}
