//! The customer's own sign-up from a location's poster (`/j/{token}`), made for a phone,
//! Vietnamese unless switched, with no JavaScript.
//!
//! 1. `GET /j/{token}`: the brand's offers and processing notice, and the phone form. A
//!    random nonce goes into the `regulars_join` cookie; every form of the flow carries
//!    a CSRF token bound to it.
//! 2. `POST /j/{token}/code`: sends a sign-up code to the phone (kept in the
//!    `regulars_join_phone` cookie, never shown back) and redirects to the code form.
//! 3. `POST /j/{token}/verify`: the right code opens a customer session whose token goes
//!    into the `regulars_signup` cookie, and redirects to the details form.
//! 4. `POST /j/{token}/join`: name, birthday and consent per channel (every box starts
//!    unticked); the customer is registered or, when the phone is one already, their
//!    answers are recorded on them; then the customer's card page `/c/…`.
//!
//! Every answer before the details form is the same for a member's phone and a
//! stranger's: the service's use cases never tell, and these pages never show the phone.

mod invite;
pub(crate) mod posters;
mod text;

use crate::WebState;
use crate::cookies;
use crate::i18n::{LANG_COOKIE, Lang, query_lang};
use crate::otp_form::{OtpLabels, Refusal, code_form, phone_form};
use crate::render::{Fail, document, ok};
use crate::sign::LinkClaims;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::Phone;
use regulars_service::{ManageError, OtpPurpose, SignupDetails, SignupPage};
use serde::Deserialize;
pub(crate) use text::text;

/// The nonce the flow's forms are bound to.
pub const JOIN_COOKIE: &str = "regulars_join";
/// The phone a code was sent to.
pub const PHONE_COOKIE: &str = "regulars_join_phone";
/// The customer session a right code opened.
pub const SESSION_COOKIE: &str = "regulars_signup";
/// How long the flow's cookies are kept: an hour is plenty for a code and a form.
pub(crate) const FLOW_AGE: i64 = 3600;

/// The page's language: `?lang=`, then the language cookie, then Vietnamese.
pub(crate) fn signup_lang(req: &HttpRequest) -> Lang {
    query_lang(req)
        .or_else(|| cookies::get(req, LANG_COOKIE).and_then(|v| Lang::parse(&v)))
        .unwrap_or(Lang::Vi)
}

fn labels(lang: Lang) -> OtpLabels {
    let t = text(lang);
    OtpLabels {
        phone: t.phone,
        send_code: t.send_code,
        code_sent: t.code_sent,
        code: t.code,
        confirm: t.confirm,
        resend: t.resend,
    }
}

pub(crate) fn set_cookie(reply: &mut HttpResponse, value: &str) {
    if let Ok(value) = header::HeaderValue::from_str(value) {
        reply.headers_mut().append(header::SET_COOKIE, value);
    }
}

pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The poster's page data, or the "this QR code no longer works" page.
async fn poster(state: &WebState, lang: Lang, token: &str) -> Result<SignupPage, Fail> {
    match state.services.signup_page(token).await {
        Ok(page) => Ok(page),
        Err(ManageError::Store(e)) => Err(Fail::internal(lang, &e)),
        Err(_) => Err(gone(lang)),
    }
}

pub(crate) fn gone(lang: Lang) -> Fail {
    let t = text(lang);
    Fail::page(lang, StatusCode::NOT_FOUND, t.title, t.gone)
}

/// A page of the flow: the brand's name, `content`, the language switch.
fn page(lang: Lang, page: &SignupPage, content: Markup) -> Markup {
    let t = text(lang);
    document(
        lang,
        t.title,
        html! {
            main.phone #signup {
                h1 #signup-brand { (page.brand.name) }
                p.muted { (t.title) " · " (page.location.name) }
                (content)
                p.lang.muted {
                    a href="?lang=vi" { "Tiếng Việt" }
                    a href="?lang=en" { "English" }
                }
            }
        },
    )
}

/// The processing notice in the page's language (Vietnamese when it has no other).
fn notice(lang: Lang, page: &SignupPage, open: bool) -> Markup {
    let t = text(lang);
    let body = page.notice.as_ref().and_then(|n| {
        n.texts
            .get(lang.code())
            .or_else(|| n.texts.get("vi"))
            .map(|text| (n.version, text))
    });
    html! {
        details #signup-notice open[open] {
            summary { (t.notice) }
            @match body {
                Some((version, text)) => {
                    @for para in text.split("\n\n") { p { (para) } }
                    p.muted { "v" (version) }
                }
                None => p.muted { (t.no_notice) },
            }
        }
    }
}

fn reply(req: &HttpRequest, status: StatusCode, markup: Markup) -> HttpResponse {
    let mut reply = ok(req, markup);
    *reply.status_mut() = status;
    reply
}

/// The nonce of the request's flow, and whether it is new (to be set).
fn nonce(req: &HttpRequest, state: &WebState) -> (String, bool) {
    match cookies::get(req, JOIN_COOKIE).filter(|n| n.len() == 32) {
        Some(nonce) => (nonce, false),
        None => {
            let mut bytes = [0u8; 16];
            state.ids.fill_bytes(&mut bytes);
            (bytes.iter().map(|b| format!("{b:02x}")).collect(), true)
        }
    }
}

/// The flow's nonce when `csrf` was made for it, else the "form expired" answer.
fn checked(req: &HttpRequest, state: &WebState, lang: Lang, csrf: &str) -> Result<String, Fail> {
    cookies::get(req, JOIN_COOKIE)
        .filter(|nonce| state.keys().csrf_ok(nonce, csrf))
        .ok_or_else(|| Fail::forbidden(lang, text(lang).bad_form))
}

/// The first page: offers, notice and the phone form, answered with `status` and the
/// phone form's `error`; `banner` above it (who invited).
fn first_page(
    req: &HttpRequest,
    state: &WebState,
    lang: Lang,
    (data, token): (&SignupPage, &str),
    (status, error): (StatusCode, Option<&str>),
    banner: Option<Markup>,
) -> HttpResponse {
    let t = text(lang);
    let (nonce, fresh) = nonce(req, state);
    let csrf = state.keys().csrf_token(&nonce);
    let body = html! {
        @if let Some(banner) = banner { (banner) }
        section #signup-offers {
            h2 { (t.offers) }
            @if data.offers.is_empty() { p.muted { (t.no_offers) } }
            ul {
                @for offer in &data.offers {
                    li { (offer.name) " · " (offer.cost.value()) " " (t.points) }
                }
            }
        }
        (notice(lang, data, false))
        (phone_form(&labels(lang), &format!("/j/{token}/code"), &csrf, error))
    };
    let mut reply = reply(req, status, page(lang, data, body));
    if fresh {
        set_cookie(
            &mut reply,
            &cookies::set(JOIN_COOKIE, &nonce, FLOW_AGE, state.secure_cookies),
        );
    }
    reply
}

/// `GET /j/{token}`.
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    let lang = signup_lang(&req);
    let data = poster(&state, lang, &path).await?;
    let banner = invite::banner(&req, &state, lang, data.brand.id).await;
    Ok(first_page(
        &req,
        &state,
        lang,
        (&data, &path),
        (StatusCode::OK, None),
        banner,
    ))
}

/// The phone form (or the resend button).
#[derive(Debug, Deserialize)]
pub(crate) struct PhoneForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    resend: String,
}

/// `POST /j/{token}/code`: sends a code and shows the code form.
pub(crate) async fn send_code(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<PhoneForm>,
) -> Result<HttpResponse, Fail> {
    let lang = signup_lang(&req);
    let t = text(lang);
    let data = poster(&state, lang, &path).await?;
    checked(&req, &state, lang, &form.csrf)?;
    let typed = if form.resend.is_empty() {
        form.phone.clone()
    } else {
        cookies::get(&req, PHONE_COOKIE).unwrap_or_default()
    };
    let Ok(phone) = Phone::parse(typed.trim(), data.brand.calling_code) else {
        return Ok(first_page(
            &req,
            &state,
            lang,
            (&data, &path),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(t.bad_phone)),
            None,
        ));
    };
    let client = crate::client_address(&req);
    let sent = state
        .services
        .issue_otp(data.brand.id, &phone, OtpPurpose::SignUp, &client)
        .await;
    if let Err(error) = sent {
        return match Refusal::of(&error) {
            Some(Refusal::TooMany(seconds)) => {
                let message = format!("{} {seconds} s.", t.too_many);
                let mut reply = first_page(
                    &req,
                    &state,
                    lang,
                    (&data, &path),
                    (StatusCode::TOO_MANY_REQUESTS, Some(&message)),
                    None,
                );
                if let Ok(value) = header::HeaderValue::from_str(&seconds.to_string()) {
                    reply.headers_mut().insert(header::RETRY_AFTER, value);
                }
                Ok(reply)
            }
            _ => Err(Fail::internal(lang, &error)),
        };
    }
    let mut reply = see_other(&format!("/j/{}/code", path.as_str()));
    set_cookie(
        &mut reply,
        &cookies::set(PHONE_COOKIE, phone.as_str(), FLOW_AGE, state.secure_cookies),
    );
    Ok(reply)
}

fn code_page(
    req: &HttpRequest,
    state: &WebState,
    lang: Lang,
    data: &SignupPage,
    token: &str,
    status: StatusCode,
    error: Option<&str>,
) -> HttpResponse {
    let (nonce, _) = nonce(req, state);
    let csrf = state.keys().csrf_token(&nonce);
    let body = code_form(
        &labels(lang),
        &format!("/j/{token}/verify"),
        &format!("/j/{token}/code"),
        &csrf,
        error,
    );
    reply(req, status, page(lang, data, body))
}

/// `GET /j/{token}/code`: the code form (the first page when no code was asked for).
pub(crate) async fn code(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    let lang = signup_lang(&req);
    let data = poster(&state, lang, &path).await?;
    if cookies::get(&req, PHONE_COOKIE).is_none() || cookies::get(&req, JOIN_COOKIE).is_none() {
        return Ok(see_other(&format!("/j/{}", path.as_str())));
    }
    Ok(code_page(
        &req,
        &state,
        lang,
        &data,
        &path,
        StatusCode::OK,
        None,
    ))
}

/// The code form.
#[derive(Debug, Deserialize)]
pub(crate) struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

/// `POST /j/{token}/verify`: the right code opens the session and leads to the details.
pub(crate) async fn verify(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, Fail> {
    let lang = signup_lang(&req);
    let t = text(lang);
    let data = poster(&state, lang, &path).await?;
    checked(&req, &state, lang, &form.csrf)?;
    let phone = cookies::get(&req, PHONE_COOKIE)
        .and_then(|p| Phone::parse(&p, data.brand.calling_code).ok());
    let Some(phone) = phone else {
        return Ok(see_other(&format!("/j/{}", path.as_str())));
    };
    let client = crate::client_address(&req);
    let opened = state
        .services
        .verify_otp(
            data.brand.id,
            &phone,
            OtpPurpose::SignUp,
            &form.code,
            &client,
        )
        .await;
    let session = match opened {
        Ok(session) => session,
        Err(error) => {
            let Some(refusal) = Refusal::of(&error) else {
                return Err(Fail::internal(lang, &error));
            };
            let message = match refusal {
                Refusal::Malformed => t.bad_code.to_owned(),
                Refusal::Wrong => t.wrong_code.to_owned(),
                Refusal::Locked => t.code_locked.to_owned(),
                Refusal::TooMany(seconds) => format!("{} {seconds} s.", t.too_many),
            };
            let mut reply = code_page(
                &req,
                &state,
                lang,
                &data,
                &path,
                refusal.status(),
                Some(&message),
            );
            if let Refusal::TooMany(seconds) = refusal
                && let Ok(value) = header::HeaderValue::from_str(&seconds.to_string())
            {
                reply.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return Ok(reply);
        }
    };
    let age = (session.expires_at - state.now()).whole_seconds().max(1);
    let mut reply = see_other(&format!("/j/{}/details", path.as_str()));
    set_cookie(
        &mut reply,
        &cookies::set(SESSION_COOKIE, &session.token, age, state.secure_cookies),
    );
    Ok(reply)
}

fn expired(lang: Lang, token: &str) -> HttpResponse {
    let t = text(lang);
    let body = document(
        lang,
        t.title,
        html! {
            main.phone {
                h1 { (t.expired) }
                p { a #signup-again href={ "/j/" (token) } { (t.start_again) } }
            }
        },
    );
    let mut reply = HttpResponse::build(StatusCode::UNAUTHORIZED);
    reply.content_type("text/html; charset=utf-8");
    reply.insert_header((header::CACHE_CONTROL, "no-store"));
    reply.body(body.into_string())
}

fn details_page(
    req: &HttpRequest,
    state: &WebState,
    lang: Lang,
    data: &SignupPage,
    token: &str,
    status: StatusCode,
    error: Option<&str>,
) -> HttpResponse {
    let t = text(lang);
    let (nonce, _) = nonce(req, state);
    let csrf = state.keys().csrf_token(&nonce);
    let body = html! {
        h2 { (t.details) }
        form #signup-details method="post" action={ "/j/" (token) "/join" } {
            input type="hidden" name="csrf" value=(csrf);
            label for="signup-name" { (t.name) }
            input #signup-name type="text" name="name" autocomplete="name" maxlength="200" autofocus;
            label for="signup-birthday" { (t.birthday) }
            input #signup-birthday type="date" name="birthday" autocomplete="bday" style="font:inherit;padding:.4rem";
            fieldset {
                legend { (t.consent_intro) }
                label { input #consent-zalo type="checkbox" name="zalo" value="yes"; " " (t.consent_zalo) }
                label { input #consent-sms type="checkbox" name="sms" value="yes"; " " (t.consent_sms) }
                label { input #consent-email type="checkbox" name="email" value="yes"; " " (t.consent_email) }
            }
            label { input #consent-profiling type="checkbox" name="profiling" value="yes"; " " (t.consent_profiling) }
            (notice(lang, data, false))
            label { input #consent-programme type="checkbox" name="programme" value="yes" required; " " (t.consent_programme) }
            @if let Some(error) = error { p.error #signup-error { (error) } }
            button #signup-join type="submit" { (t.join) }
        }
    };
    reply(req, status, page(lang, data, body))
}

/// The live sign-up session of the request, if any.
async fn live_session(
    req: &HttpRequest,
    state: &WebState,
    lang: Lang,
    data: &SignupPage,
) -> Result<Option<String>, Fail> {
    let Some(token) = cookies::get(req, SESSION_COOKIE) else {
        return Ok(None);
    };
    match state.services.customer_session(data.brand.id, &token).await {
        Ok(Some(s)) if s.purpose == OtpPurpose::SignUp.as_str() => Ok(Some(token)),
        Ok(_) => Ok(None),
        Err(e) => Err(Fail::internal(lang, &e)),
    }
}

/// `GET /j/{token}/details`: the details form, for a live sign-up session.
pub(crate) async fn details(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    let lang = signup_lang(&req);
    let data = poster(&state, lang, &path).await?;
    if live_session(&req, &state, lang, &data).await?.is_none() {
        return Ok(expired(lang, &path));
    }
    Ok(details_page(
        &req,
        &state,
        lang,
        &data,
        &path,
        StatusCode::OK,
        None,
    ))
}

/// The details form.
#[derive(Debug, Deserialize)]
pub(crate) struct DetailsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    birthday: String,
    zalo: Option<String>,
    sms: Option<String>,
    email: Option<String>,
    profiling: Option<String>,
    programme: Option<String>,
}

/// `POST /j/{token}/join`: signs the customer up and opens their card page.
pub(crate) async fn join(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<DetailsForm>,
) -> Result<HttpResponse, Fail> {
    let lang = signup_lang(&req);
    let t = text(lang);
    let data = poster(&state, lang, &path).await?;
    checked(&req, &state, lang, &form.csrf)?;
    let Some(session) = live_session(&req, &state, lang, &data).await? else {
        return Ok(expired(lang, &path));
    };
    let details = SignupDetails {
        name: form.name.clone(),
        birthday: form.birthday.clone(),
        zalo: form.zalo.is_some(),
        sms: form.sms.is_some(),
        email: form.email.is_some(),
        profiling: form.profiling.is_some(),
        programme: form.programme.is_some(),
        // The version this flow showed: the current one, on this very form.
        notice_version: data.notice.as_ref().map(|n| n.version),
    };
    let joined = match invite::invite_of(&req, data.brand.id) {
        Some(invite) => {
            let client = crate::client_address(&req);
            state
                .services
                .sign_up_referred(&path, &session, &details, &invite, &client)
                .await
        }
        None => state
            .services
            .sign_up(&path, &session, &details)
            .await
            .map(|c| (c, None)),
    };
    let (customer, referral) = match joined {
        Ok(joined) => joined,
        Err(ManageError::Invalid { field, message }) => {
            let message = if field == "programme" {
                t.need_programme.to_owned()
            } else {
                format!("{field}: {message}")
            };
            return Ok(details_page(
                &req,
                &state,
                lang,
                &data,
                &path,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&message),
            ));
        }
        Err(ManageError::NotFound {
            what: "session", ..
        }) => return Ok(expired(lang, &path)),
        Err(ManageError::NotFound { .. }) => return Err(gone(lang)),
        Err(e) => return Err(Fail::internal(lang, &e)),
    };
    let link = state.keys().link_token(&LinkClaims {
        brand: data.brand.id,
        customer: customer.id,
        expires_at: state.now() + state.link_ttl,
    });
    // The card page speaks the language the customer signed up in.
    let referral = invite::outcome(referral.as_ref())
        .map(|o| format!("&referral={o}"))
        .unwrap_or_default();
    let mut reply = see_other(&format!("/c/{link}?lang={}{referral}", lang.code()));
    // The flow is over: its nonce, phone and invite go; the session stays for the card.
    for name in [JOIN_COOKIE, PHONE_COOKIE, invite::INVITE_COOKIE] {
        set_cookie(&mut reply, &cookies::set(name, "", 0, state.secure_cookies));
    }
    Ok(reply)
}

/// Registers the sign-up pages on `cfg`.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/r/{token}", web::get().to(invite::open))
        .route("/j/{token}", web::get().to(show))
        .route("/j/{token}/code", web::post().to(send_code))
        .route("/j/{token}/code", web::get().to(code))
        .route("/j/{token}/verify", web::post().to(verify))
        .route("/j/{token}/details", web::get().to(details))
        .route("/j/{token}/join", web::post().to(join));
}
