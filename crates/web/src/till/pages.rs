//! The till's customer pages and actions: find a customer, see their account, record an
//! order by amount, redeem a voucher, buy a reward, register a new customer. Each goes
//! through the same use case as the API and is recorded in the access log with the
//! staff member and location.

use super::{TillSession, text, till_page};
use crate::WebState;
use crate::render::{Fail, ok};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::{CustomerId, MenuItem, RewardId};
use regulars_ports::{Notice, PersonalData};
use regulars_service::till::{TillRegistration, new_form_key};
use regulars_service::{CustomerView, LookupError, ManageError, Reader, RequestKey, UseCaseError};
use serde::Deserialize;

async fn audit(
    state: &WebState,
    session: &TillSession,
    route: &str,
    fields: &[PersonalData],
    customer: CustomerId,
) -> Result<(), Fail> {
    state
        .services
        .record_access(
            session.at.brand,
            Reader::till(session.at.staff, session.at.location.id),
            route,
            fields,
            &[customer],
        )
        .await
        .map_err(|e| Fail::internal(session.lang, &e))
}

pub(super) fn form_key(state: &WebState) -> String {
    let mut random = [0u8; 8];
    state.ids.fill_bytes(&mut random);
    new_form_key(state.now(), random)
}

/// The customer's account and the forms to act on it.
fn account(
    state: &WebState,
    session: &TillSession,
    view: &CustomerView,
    menu: &[MenuItem],
) -> Markup {
    let t = text(session.lang);
    let id = view.customer.id;
    html! {
        section.customer #till-customer {
            h2 #customer-name { (view.customer.name.as_deref().unwrap_or("—")) " · " (view.customer.phone.readable()) }
            p #till-balance { strong { (t.balance) ": " } (view.balance.value()) " " (t.points) }
            @for card in &view.stamps {
                p.till-stamps { strong { (card.name) ": " } (card.stamps) " / " (card.needed) " ☕" }
            }
            p #till-tier {
                strong { (t.tier) ": " } (view.tier.as_ref().map_or(t.no_tier, |s| s.code.as_str()))
                @if let Some(next) = view.tier_progress.as_ref().and_then(|p| p.next.as_ref()) {
                    " · " (next.tier) ": " (next.remaining) " " (t.to_next)
                }
            }
            (super::order::order_form(state, session, id, menu))
            form #voucher-form method="post" action="/till/vouchers" {
                input type="hidden" name="csrf" value=(session.csrf);
                input type="hidden" name="customer" value=(id);
                label for="code" { (t.voucher_code) }
                input #code type="text" name="code" autocomplete="off" autocapitalize="characters" required;
                button #redeem type="submit" { (t.redeem) }
            }
            p { a #claim-link href={ "/till/customers/" (id) "/claims" } { (t.claim_link) } }
            h3 { (t.vouchers) }
            @if view.vouchers.is_empty() { p.muted { (t.no_vouchers) } }
            ul #till-vouchers {
                @for voucher in &view.vouchers {
                    li { code { (voucher.code()) } }
                }
            }
            h3 { (t.rewards) }
            @if view.redeemable_rewards.is_empty() { p.muted { (t.no_rewards) } }
            @for reward in &view.redeemable_rewards {
                form.reward method="post" action="/till/rewards" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    input type="hidden" name="customer" value=(id);
                    input type="hidden" name="reward" value=(reward.id);
                    input type="hidden" name="key" value=(form_key(state));
                    span { (reward.name) " · " (reward.cost.value()) " " (t.points) " " }
                    button type="submit" { (t.buy) }
                }
            }
        }
    }
}

/// Shows a customer's account with `message`, recording the read.
pub(super) async fn show(
    req: &HttpRequest,
    state: &WebState,
    session: &TillSession,
    customer: CustomerId,
    route: &str,
    message: Option<&str>,
) -> Result<HttpResponse, Fail> {
    show_with(req, state, session, customer, route, message, None).await
}

/// Shows a customer's account with `message` and `receipt` above it, recording the read.
pub(super) async fn show_with(
    req: &HttpRequest,
    state: &WebState,
    session: &TillSession,
    customer: CustomerId,
    route: &str,
    message: Option<&str>,
    receipt: Option<Markup>,
) -> Result<HttpResponse, Fail> {
    let view = match state
        .services
        .customer_view(session.at.brand, customer)
        .await
    {
        Ok(view) => view,
        Err(LookupError::UnknownCustomer(_)) => return Err(Fail::not_found(session.lang)),
        Err(e) => return Err(Fail::internal(session.lang, &e)),
    };
    audit(
        state,
        session,
        route,
        &[
            PersonalData::Profile,
            PersonalData::Contact,
            PersonalData::Vouchers,
        ],
        customer,
    )
    .await?;
    let menu = state
        .services
        .active_menu(session.at.brand)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let body = html! {
        @if let Some(receipt) = receipt { (receipt) }
        (account(state, session, &view, &menu))
    };
    Ok(ok(req, till_page(session, message, "", true, body)))
}

/// The search field.
#[derive(Debug, Deserialize)]
pub(crate) struct FindQuery {
    #[serde(default)]
    q: String,
}

/// `GET /till/find?q=`: by phone, or by the customer's card link (`…/c/{token}`) or its
/// token, as a scanner types it.
pub(crate) async fn find(
    req: HttpRequest,
    state: web::Data<WebState>,
    query: web::Query<FindQuery>,
) -> Result<HttpResponse, Fail> {
    let session = TillSession::of(&req, &state).await?;
    let t = text(session.lang);
    let q = query.q.trim();
    let token = q.rsplit_once("/c/").map_or(q, |(_, token)| token);
    let token = token.split(['?', '#']).next().unwrap_or_default();
    if let Some(claims) = state.keys().open_link(token, state.now())
        && claims.brand == session.at.brand
    {
        return show(
            &req,
            &state,
            &session,
            claims.customer,
            "GET /till/find",
            None,
        )
        .await;
    }
    match state.services.customer_lookup(session.at.brand, q).await {
        Ok(view) => {
            show(
                &req,
                &state,
                &session,
                view.customer.id,
                "GET /till/find",
                None,
            )
            .await
        }
        Err(LookupError::Store(e)) => Err(Fail::internal(session.lang, &e)),
        Err(_) => {
            let body = html! {
                p #till-not-found { (t.not_found) }
                p { a #register-link href={ "/till/register?phone=" (urlencode(q)) } { (t.register_new) } }
            };
            Ok(ok(&req, till_page(&session, None, q, true, body)))
        }
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'-' | b'.' | b'_' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /till/customers/{id}`.
pub(crate) async fn customer(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    let session = TillSession::of(&req, &state).await?;
    let id: CustomerId = path.parse().map_err(|_| Fail::not_found(session.lang))?;
    show(&req, &state, &session, id, "GET /till/customers/{id}", None).await
}

/// The voucher form.
#[derive(Debug, Deserialize)]
pub(crate) struct VoucherForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    customer: String,
    #[serde(default)]
    code: String,
}

/// `POST /till/vouchers`: redeems a voucher by its typed or scanned code.
pub(crate) async fn redeem_voucher(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<VoucherForm>,
) -> Result<HttpResponse, Fail> {
    let session = TillSession::of(&req, &state).await?;
    session.check(&state, &form.csrf)?;
    let t = text(session.lang);
    let code = form.code.trim().to_ascii_uppercase();
    let outcome = state.services.till_redeem_voucher(&session.at, &code).await;
    let (message, customer) = match outcome {
        Ok(voucher) => (
            format!("{} {}", t.redeemed, voucher.code()),
            Some(voucher.customer()),
        ),
        Err(e) if e.class() == regulars_service::ErrorClass::Unavailable => {
            return Err(Fail::internal(session.lang, &e));
        }
        Err(e) => (e.to_string(), form.customer.parse().ok()),
    };
    match customer {
        Some(customer) => {
            show(
                &req,
                &state,
                &session,
                customer,
                "POST /till/vouchers",
                Some(&message),
            )
            .await
        }
        None => Ok(ok(
            &req,
            till_page(&session, Some(&message), "", true, html! {}),
        )),
    }
}

/// The reward form.
#[derive(Debug, Deserialize)]
pub(crate) struct RewardForm {
    #[serde(default)]
    csrf: String,
    customer: String,
    reward: String,
    #[serde(default)]
    key: String,
}

/// `POST /till/rewards`: buys a reward with the customer's points, once per form.
pub(crate) async fn buy_reward(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<RewardForm>,
) -> Result<HttpResponse, Fail> {
    let session = TillSession::of(&req, &state).await?;
    session.check(&state, &form.csrf)?;
    let t = text(session.lang);
    let not_found = || Fail::not_found(session.lang);
    let customer: CustomerId = form.customer.parse().map_err(|_| not_found())?;
    let reward: RewardId = form.reward.parse().map_err(|_| not_found())?;
    let parts: [&[u8]; 3] = [b"reward", form.customer.as_bytes(), form.reward.as_bytes()];
    let key = RequestKey::till(session.at.device, &form.key, &parts)
        .map_err(|_| Fail::forbidden(session.lang, t.bad_form))?;
    let message = match state
        .services
        .redeem_reward_keyed(session.at.brand, customer, reward, Some(&key))
        .await
    {
        Ok(voucher) => format!("{} {}", t.reward_bought, voucher.code()),
        Err(e) if e.class() == regulars_service::ErrorClass::Unavailable => {
            return Err(Fail::internal(session.lang, &e));
        }
        Err(e) => e.to_string(),
    };
    show(
        &req,
        &state,
        &session,
        customer,
        "POST /till/rewards",
        Some(&message),
    )
    .await
}

/// The registration form's query.
#[derive(Debug, Deserialize)]
pub(crate) struct RegisterQuery {
    #[serde(default)]
    phone: String,
}

/// The brand's current processing notice, if it published one.
async fn current_notice(state: &WebState, session: &TillSession) -> Result<Option<Notice>, Fail> {
    match state.services.notice(session.at.brand, None).await {
        Ok(notice) => Ok(Some(notice)),
        Err(ManageError::NotFound { .. }) => Ok(None),
        Err(other) => Err(Fail::internal(session.lang, &other)),
    }
}

fn register_body(
    session: &TillSession,
    notice: Option<&Notice>,
    phone: &str,
    error: Option<&str>,
) -> Markup {
    let t = text(session.lang);
    // The notice in the till's language, else in Vietnamese (always written).
    let notice_text = notice.and_then(|n| {
        n.texts
            .get(session.lang.code())
            .or_else(|| n.texts.get("vi"))
            .map(|text| (n.version, text))
    });
    html! {
        form #register-form method="post" action="/till/customers" {
            input type="hidden" name="csrf" value=(session.csrf);
            @if let Some((version, text)) = notice_text {
                section #notice data-version=(version) {
                    p.muted { (t.notice) }
                    p #notice-text style="white-space: pre-line" { (text) }
                }
                input type="hidden" name="notice_version" value=(version);
            }
            label for="phone" { (t.phone) }
            input #phone type="text" inputmode="tel" name="phone" value=(phone) autocomplete="off" required;
            label for="name" { (t.name) }
            input #name type="text" name="name" autocomplete="off" autofocus;
            fieldset {
                legend { (t.consent_intro) }
                label { input #consent-sms type="checkbox" name="sms" value="yes"; " " (t.consent_sms) }
                label { input #consent-zalo type="checkbox" name="zalo" value="yes"; " " (t.consent_zalo) }
                label { input #consent-email type="checkbox" name="email" value="yes"; " " (t.consent_email) }
            }
            @if let Some(error) = error { p.error #till-error { (error) } }
            button #register type="submit" { (t.register) }
        }
    }
}

/// `GET /till/register?phone=`: the registration form, every consent box unticked.
pub(crate) async fn register_form(
    req: HttpRequest,
    state: web::Data<WebState>,
    query: web::Query<RegisterQuery>,
) -> Result<HttpResponse, Fail> {
    let session = TillSession::of(&req, &state).await?;
    let notice = current_notice(&state, &session).await?;
    let body = register_body(&session, notice.as_ref(), query.phone.trim(), None);
    Ok(ok(&req, till_page(&session, None, "", false, body)))
}

/// The registration form.
#[derive(Debug, Deserialize)]
pub(crate) struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    name: String,
    sms: Option<String>,
    zalo: Option<String>,
    email: Option<String>,
    /// The notice version the form showed.
    notice_version: Option<u32>,
}

/// `POST /till/customers`: registers a customer with the consent they chose, recorded
/// as given at the till by this member.
pub(crate) async fn register(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<RegisterForm>,
) -> Result<HttpResponse, Fail> {
    let session = TillSession::of(&req, &state).await?;
    session.check(&state, &form.csrf)?;
    let t = text(session.lang);
    let registration = TillRegistration {
        phone: form.phone.clone(),
        name: Some(form.name.clone()),
        sms: form.sms.is_some(),
        zalo: form.zalo.is_some(),
        email: form.email.is_some(),
        notice_version: form.notice_version,
    };
    match state
        .services
        .till_register(&session.at, &registration)
        .await
    {
        Ok(customer) => {
            show(
                &req,
                &state,
                &session,
                customer.id,
                "POST /till/customers",
                Some(t.registered),
            )
            .await
        }
        Err(ManageError::Store(e)) => Err(Fail::internal(session.lang, &e)),
        Err(e) => {
            let notice = current_notice(&state, &session).await?;
            let body = register_body(
                &session,
                notice.as_ref(),
                form.phone.trim(),
                Some(&e.to_string()),
            );
            let mut reply = ok(&req, till_page(&session, None, "", false, body));
            *reply.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(reply)
        }
    }
}
