//! The till (`/till/`): what a cashier uses in a shop without an integrated POS.
//!
//! A device an admin enrolled for a location holds its device token in the
//! `regulars_device` cookie; a staff member of that location signs in on it with their
//! PIN, and the `regulars_till` cookie then holds the brand, device and member, signed
//! with the till's own key. Every request checks again that the device and the member
//! are active, not locked and of the same location, so revoking either ends the session
//! at once. A PIN opens nothing else: it is not an API key, and the till's cookie is no
//! dashboard session. Forms carry a CSRF token bound to the till cookie (to the device
//! cookie on the sign-in form). The search field is focused on every page, so a barcode
//! scanner that types and presses Enter works; no JavaScript runs.

pub(crate) mod admin;
mod claims;
pub(crate) mod menu_admin;
mod order;
mod pages;
mod text;

use crate::WebState;
use crate::cookies;
use crate::i18n::Lang;
use crate::render::{Fail, document, ok};
use crate::sign::TillClaims;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_service::{TillError, TillStaff};
use serde::Deserialize;
pub(crate) use text::{text, till_lang};

/// The cookie holding the device token of an enrolled till.
pub const DEVICE_COOKIE: &str = "regulars_device";
/// The cookie of a staff member's till session.
pub const TILL_COOKIE: &str = "regulars_till";
/// How long the device cookie is kept (the device stays enrolled until revoked).
const DEVICE_COOKIE_AGE: i64 = 5 * 365 * 24 * 3600;

/// A signed-in staff member at a till.
pub(crate) struct TillSession {
    pub at: TillStaff,
    pub lang: Lang,
    pub csrf: String,
    cookie: String,
}

impl TillSession {
    /// The till session of a request, or a redirect to `/till/`.
    pub(crate) async fn of(req: &HttpRequest, state: &WebState) -> Result<TillSession, Fail> {
        let lang = till_lang(req);
        let to_till = || Fail::redirect("/till/");
        let cookie = cookies::get(req, TILL_COOKIE).ok_or_else(to_till)?;
        let claims = state
            .keys()
            .open_till(&cookie, state.now())
            .ok_or_else(to_till)?;
        let at = match state
            .services
            .till_staff(claims.brand, claims.device, claims.staff)
            .await
        {
            Ok(at) => at,
            Err(TillError::Store(e)) => return Err(Fail::internal(lang, &e)),
            Err(_) => return Err(to_till()),
        };
        let csrf = state.keys().csrf_token(&cookie);
        Ok(TillSession {
            at,
            lang,
            csrf,
            cookie,
        })
    }

    /// Checks a form's CSRF token.
    pub(crate) fn check(&self, state: &WebState, token: &str) -> Result<(), Fail> {
        if state.keys().csrf_ok(&self.cookie, token) {
            Ok(())
        } else {
            Err(Fail::forbidden(self.lang, text(self.lang).bad_form))
        }
    }
}

/// A till page: the header (location, member, language, sign-out), the search field
/// (focused), a message if any, then `content`.
pub(crate) fn till_page(
    session: &TillSession,
    message: Option<&str>,
    query: &str,
    autofocus_search: bool,
    content: Markup,
) -> Markup {
    let t = text(session.lang);
    document(
        session.lang,
        t.title,
        html! {
            header.top {
                span.brand #till-where { (session.at.location.name) " · " (session.at.staff_name) }
                div.who {
                    span.lang { a href="?lang=vi" { "VI" } a href="?lang=en" { "EN" } }
                    form method="post" action="/till/logout" {
                        input type="hidden" name="csrf" value=(session.csrf);
                        button.link type="submit" #till-sign-out { (t.sign_out) }
                    }
                }
            }
            main.till {
                form #find method="get" action="/till/find" {
                    label for="q" { (t.find_label) }
                    input #q type="search" name="q" value=(query) inputmode="tel"
                        autocomplete="off" autofocus[autofocus_search] required;
                    button #find-button type="submit" { (t.find) }
                }
                @if let Some(message) = message { p.note #till-message { (message) } }
                (content)
            }
        },
    )
}

fn set_cookie(reply: &mut HttpResponse, value: String) {
    if let Ok(value) = header::HeaderValue::from_str(&value) {
        reply.headers_mut().append(header::SET_COOKIE, value);
    }
}

fn device_page(req: &HttpRequest, status: StatusCode, error: Option<&str>) -> HttpResponse {
    let lang = till_lang(req);
    let t = text(lang);
    let mut reply = ok(
        req,
        document(
            lang,
            t.title,
            html! {
                main.login {
                    section {
                        h1 { (t.not_enrolled) }
                        p.muted { (t.enrol_intro) }
                        form method="post" action="/till/enrol" {
                            label for="device-token" { (t.device_token) }
                            input #device-token type="password" name="token" autocomplete="off" required;
                            @if let Some(error) = error { p.error #till-error { (error) } }
                            button #enrol type="submit" { (t.enrol) }
                        }
                    }
                }
            },
        ),
    );
    *reply.status_mut() = status;
    reply
}

fn sign_in_page(
    req: &HttpRequest,
    state: &WebState,
    token: &str,
    view: &regulars_service::TillDeviceView,
    status: StatusCode,
    error: Option<&str>,
) -> HttpResponse {
    let lang = till_lang(req);
    let t = text(lang);
    let csrf = state.keys().csrf_token(token);
    let mut reply = ok(
        req,
        document(
            lang,
            t.title,
            html! {
                main.login {
                    section {
                        h1 #till-location { (t.title) " · " (view.location.name) }
                        p.lang { a href="?lang=vi" { "Tiếng Việt" } a href="?lang=en" { "English" } }
                        form method="post" action="/till/login" {
                            input type="hidden" name="csrf" value=(csrf);
                            label for="staff" { (t.staff) }
                            select #staff name="staff" required {
                                @for (id, name) in &view.staff { option value=(id) { (name) } }
                            }
                            label for="pin" { (t.pin) }
                            input #pin type="password" name="pin" inputmode="numeric"
                                pattern="[0-9]{4,6}" autocomplete="off" autofocus required;
                            @if let Some(error) = error { p.error #till-error { (error) } }
                            button #till-sign-in type="submit" { (t.sign_in) }
                        }
                    }
                }
            },
        ),
    );
    *reply.status_mut() = status;
    reply
}

/// `GET /till/`: the search page when signed in, else the sign-in form of an enrolled
/// device, else the enrolment form.
pub(crate) async fn home(
    req: HttpRequest,
    state: web::Data<WebState>,
) -> Result<HttpResponse, Fail> {
    if let Ok(session) = TillSession::of(&req, &state).await {
        return Ok(ok(&req, till_page(&session, None, "", true, html! {})));
    }
    let lang = till_lang(&req);
    let Some(token) = cookies::get(&req, DEVICE_COOKIE) else {
        return Ok(device_page(&req, StatusCode::OK, None));
    };
    match state.services.till_device(&token).await {
        Ok(view) => Ok(sign_in_page(
            &req,
            &state,
            &token,
            &view,
            StatusCode::OK,
            None,
        )),
        Err(TillError::Store(e)) => Err(Fail::internal(lang, &e)),
        Err(_) => Ok(device_page(&req, StatusCode::OK, None)),
    }
}

/// The enrolment form.
#[derive(Debug, Deserialize)]
pub(crate) struct EnrolForm {
    token: String,
}

/// `POST /till/enrol`: keeps a device token in this browser's device cookie when it is
/// a live one.
pub(crate) async fn enrol(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<EnrolForm>,
) -> Result<HttpResponse, Fail> {
    let lang = till_lang(&req);
    let token = form.token.trim();
    match state.services.till_device(token).await {
        Ok(_) => {
            let mut reply = HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/till/"))
                .finish();
            set_device_cookie(&mut reply, &state, token);
            Ok(reply)
        }
        Err(TillError::Store(e)) => Err(Fail::internal(lang, &e)),
        Err(_) => Ok(device_page(
            &req,
            StatusCode::UNAUTHORIZED,
            Some(text(lang).bad_device),
        )),
    }
}

/// Sets the device cookie on `reply`.
pub(crate) fn set_device_cookie(reply: &mut HttpResponse, state: &WebState, token: &str) {
    set_cookie(
        reply,
        cookies::set(
            DEVICE_COOKIE,
            token,
            DEVICE_COOKIE_AGE,
            state.secure_cookies,
        ),
    );
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    staff: String,
    #[serde(default)]
    pin: String,
}

/// `POST /till/login`: a staff member's PIN on this device.
pub(crate) async fn login(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, Fail> {
    let lang = till_lang(&req);
    let t = text(lang);
    let Some(token) = cookies::get(&req, DEVICE_COOKIE) else {
        return Ok(device_page(&req, StatusCode::UNAUTHORIZED, None));
    };
    let view = match state.services.till_device(&token).await {
        Ok(view) => view,
        Err(TillError::Store(e)) => return Err(Fail::internal(lang, &e)),
        Err(_) => {
            return Ok(device_page(
                &req,
                StatusCode::UNAUTHORIZED,
                Some(t.bad_device),
            ));
        }
    };
    let refuse = |status, message| sign_in_page(&req, &state, &token, &view, status, Some(message));
    if !state.keys().csrf_ok(&token, &form.csrf) {
        return Ok(refuse(StatusCode::FORBIDDEN, t.bad_form));
    }
    let Ok(staff) = form.staff.parse() else {
        return Ok(refuse(StatusCode::UNAUTHORIZED, t.wrong_pin));
    };
    let at = match state
        .services
        .till_sign_in(&token, staff, form.pin.trim())
        .await
    {
        Ok(at) => at,
        Err(TillError::WrongPin | TillError::UnknownStaff(_) | TillError::InvalidPin) => {
            return Ok(refuse(StatusCode::UNAUTHORIZED, t.wrong_pin));
        }
        Err(TillError::StaffLocked) => return Ok(refuse(StatusCode::LOCKED, t.staff_locked)),
        Err(TillError::DeviceLocked) => return Ok(refuse(StatusCode::LOCKED, t.device_locked)),
        Err(TillError::Store(e)) => return Err(Fail::internal(lang, &e)),
        Err(_) => {
            return Ok(device_page(
                &req,
                StatusCode::UNAUTHORIZED,
                Some(t.bad_device),
            ));
        }
    };
    let claims = TillClaims {
        brand: at.brand,
        device: at.device,
        staff: at.staff,
        expires_at: state.now() + state.session_ttl,
    };
    let cookie = state.keys().till_cookie(&claims);
    let mut reply = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/till/"))
        .finish();
    set_cookie(
        &mut reply,
        cookies::set(
            TILL_COOKIE,
            &cookie,
            state.session_ttl.whole_seconds(),
            state.secure_cookies,
        ),
    );
    Ok(reply)
}

/// A form that carries only its CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /till/logout`: forgets the till session (the device stays enrolled).
pub(crate) async fn logout(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, Fail> {
    let session = TillSession::of(&req, &state).await?;
    session.check(&state, &form.csrf)?;
    let mut reply = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/till/"))
        .finish();
    set_cookie(
        &mut reply,
        cookies::set(TILL_COOKIE, "", 0, state.secure_cookies),
    );
    Ok(reply)
}

/// Registers the till's routes on `cfg`.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/till")
            .route("", web::get().to(home))
            .route("/", web::get().to(home))
            .route("/enrol", web::post().to(enrol))
            .route("/login", web::post().to(login))
            .route("/logout", web::post().to(logout))
            .route("/find", web::get().to(pages::find))
            .route("/customers/{id}", web::get().to(pages::customer))
            .route("/orders", web::post().to(order::record_order))
            .route("/vouchers", web::post().to(pages::redeem_voucher))
            .route("/rewards", web::post().to(pages::buy_reward))
            .route("/register", web::get().to(pages::register_form))
            .route("/customers", web::post().to(pages::register))
            .route("/customers/{id}/claims", web::get().to(claims::list))
            .route("/claims", web::post().to(claims::claim))
            .default_service(web::to(crate::pages::not_found)),
    );
}
