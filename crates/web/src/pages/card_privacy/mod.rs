//! `/c/{token}/data`: the customer's own requests from their card page. The card link
//! alone opens nothing personal: the page first sends a one-time code (purpose `card`)
//! to the phone on file, and the right code opens a short customer session held in a
//! signed, HttpOnly, SameSite=Strict cookie (`Secure` over HTTPS). Only that session,
//! and only for the customer the link names, shows the screens ([`screens`]): download,
//! correct, change the phone number ([`phone`]: a code to the new number), withdraw
//! consent, erase. Every form carries a CSRF token: bound to a nonce
//! cookie before the session, to the session's cookie after.
//!
//! Nothing answered before the session says more than the card page itself: the phone
//! is never shown, and a wrong code reads the same for everyone.

mod phone;
mod screens;
mod words;

pub(crate) use screens::{correct, download_csv, download_json, erase, withdraw};

use crate::WebState;
use crate::cookies;
use crate::i18n::{LANG_COOKIE, Lang, query_lang};
use crate::render::{Fail, document, ok};
use crate::sign::LinkClaims;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use maud::{Markup, html};
use regulars_domain::{Customer, CustomerId};
use regulars_ports::{AccessChannel, PersonalData};
use regulars_service::{CUSTOMER_SESSION_TTL, LookupError, OtpError, OtpPurpose, Reader};
use serde::Deserialize;
use words::{Words, words};

/// The customer session's cookie.
pub const CARD_COOKIE: &str = "regulars_card";
/// The cookie binding the sign-in forms to the browser that was shown them.
pub const CARD_FORM_COOKIE: &str = "regulars_card_form";
/// How long the sign-in forms stay good, in seconds.
const FORM_TTL: i64 = 1800;

/// Registers the card's data pages.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/c/{token}/data", web::get().to(show))
        .route("/c/{token}/data/code", web::post().to(send_code))
        .route("/c/{token}/data/verify", web::post().to(verify))
        .route("/c/{token}/data/sign-out", web::post().to(sign_out))
        .route("/c/{token}/data/export.json", web::get().to(download_json))
        .route("/c/{token}/data/export.csv", web::get().to(download_csv))
        .route("/c/{token}/data/correct", web::post().to(correct))
        .route("/c/{token}/data/withdraw", web::post().to(withdraw))
        .route("/c/{token}/data/erase", web::post().to(erase))
        .route("/c/{token}/data/phone", web::post().to(phone::send_code))
        .route(
            "/c/{token}/data/phone/verify",
            web::post().to(phone::verify),
        );
}

/// The page's language: `?lang=`, then the language cookie, else Vietnamese.
pub(crate) fn lang_of(req: &HttpRequest) -> Lang {
    query_lang(req)
        .or_else(|| cookies::get(req, LANG_COOKIE).and_then(|v| Lang::parse(&v)))
        .unwrap_or(Lang::Vi)
}

/// What the link names, and the phone on file; a link that is altered, expired or
/// names nobody (or an erased customer) is a 404 page.
pub(crate) struct Card {
    pub link: String,
    pub claims: LinkClaims,
    /// The customer as stored: shown only behind their session.
    pub customer: Customer,
}

impl Card {
    pub(crate) async fn of(state: &WebState, link: &str, lang: Lang) -> Result<Card, Fail> {
        let w = words(lang);
        let gone = || Fail::page(lang, StatusCode::NOT_FOUND, w.title, w.link_gone);
        let claims = state.keys().open_link(link, state.now()).ok_or_else(gone)?;
        let customer = match state
            .services
            .customer_view(claims.brand, claims.customer)
            .await
        {
            Ok(view) => view.customer,
            Err(LookupError::UnknownCustomer(_) | LookupError::UnknownBrand(_)) => {
                return Err(gone());
            }
            Err(other) => return Err(Fail::internal(lang, &other)),
        };
        Ok(Card {
            link: link.to_owned(),
            claims,
            customer,
        })
    }

    /// A path under this card's data pages.
    pub(crate) fn path(&self, tail: &str) -> String {
        format!("/c/{}/data{tail}", self.link)
    }
}

/// A live customer session for the card's customer.
pub(crate) struct CardSession {
    /// The session's secret token.
    pub token: String,
    /// The customer it proves.
    pub customer: CustomerId,
    /// The CSRF token its forms carry.
    pub csrf: String,
    cookie: String,
}

impl CardSession {
    /// The session of the request if it proves the card's own customer; `None` for no
    /// cookie, an altered or ended one, or one of another customer or brand.
    pub(crate) async fn of(
        req: &HttpRequest,
        state: &WebState,
        card: &Card,
        lang: Lang,
    ) -> Result<Option<CardSession>, Fail> {
        let Some(cookie) = cookies::get(req, CARD_COOKIE) else {
            return Ok(None);
        };
        let Some((brand, token)) = state.keys().open_customer_cookie(&cookie) else {
            return Ok(None);
        };
        if brand != card.claims.brand {
            return Ok(None);
        }
        let session = state
            .services
            .customer_session(brand, &token)
            .await
            .map_err(|e| Fail::internal(lang, &e))?;
        let proved = session
            .filter(|s| s.purpose == OtpPurpose::Card.as_str())
            .and_then(|s| s.customer_id);
        Ok(match proved {
            Some(customer) if customer == card.claims.customer => Some(CardSession {
                token,
                customer,
                csrf: state.keys().csrf_token(&cookie),
                cookie,
            }),
            _ => None,
        })
    }

    /// Checks a form's CSRF token against the session.
    pub(crate) fn check(&self, state: &WebState, token: &str, lang: Lang) -> Result<(), Fail> {
        if state.keys().csrf_ok(&self.cookie, token) {
            Ok(())
        } else {
            Err(Fail::forbidden(lang, words(lang).bad_form))
        }
    }
}

/// The page around a card's data screens.
pub(crate) fn frame(lang: Lang, title: &str, content: Markup) -> Markup {
    document(
        lang,
        title,
        html! {
            main.phone {
                h1 { (title) }
                (content)
                p.lang.muted {
                    a href="?lang=vi" { "Tiếng Việt" }
                    a href="?lang=en" { "English" }
                }
            }
        },
    )
}

fn nonce_form(
    req: &HttpRequest,
    state: &WebState,
    lang: Lang,
    status: StatusCode,
    content: impl FnOnce(&str) -> Markup,
) -> HttpResponse {
    // The nonce of the form just submitted is kept; a fresh one otherwise.
    let nonce = cookies::get(req, CARD_FORM_COOKIE)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            let mut bytes = [0u8; 16];
            state.ids.fill_bytes(&mut bytes);
            URL_SAFE_NO_PAD.encode(bytes)
        });
    let token = state.keys().card_form_token(&nonce);
    let mut reply = ok(req, frame(lang, words(lang).title, content(&token)));
    *reply.status_mut() = status;
    let cookie = cookies::set(CARD_FORM_COOKIE, &nonce, FORM_TTL, state.secure_cookies);
    if let Ok(value) = header::HeaderValue::from_str(&cookie) {
        reply.headers_mut().append(header::SET_COOKIE, value);
    }
    reply
}

fn ask_form(w: &Words, card: &Card, csrf: &str, error: Option<&str>) -> Markup {
    html! {
        p #sign-in-intro { (w.sign_in_intro) }
        @if let Some(error) = error { p.error #code-error { (error) } }
        form method="post" action=(card.path("/code")) {
            input type="hidden" name="csrf" value=(csrf);
            button #send-code type="submit" { (w.send_code) }
        }
        p { a href={ "/c/" (card.link) } { (w.back_to_card) } }
    }
}

fn code_form(w: &Words, card: &Card, csrf: &str, error: Option<&str>) -> Markup {
    html! {
        p #code-sent { (w.code_sent) }
        form method="post" action=(card.path("/verify")) {
            input type="hidden" name="csrf" value=(csrf);
            label for="code" { (w.code) }
            input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6" required;
            @if let Some(error) = error { p.error #code-error { (error) } }
            button #verify type="submit" { (w.verify) }
        }
        form method="post" action=(card.path("/code")) {
            input type="hidden" name="csrf" value=(csrf);
            button #resend type="submit" { (w.resend) }
        }
    }
}

/// `GET /c/{token}/data`: the screens for a live session of this card's customer, else
/// the offer to send a code.
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    let lang = lang_of(&req);
    let card = Card::of(&state, &path, lang).await?;
    if let Some(session) = CardSession::of(&req, &state, &card, lang).await? {
        // The screens show the profile, contact details and consent: an access.
        let reader = Reader {
            key: None,
            channel: AccessChannel::Customer,
            till: None,
        };
        let shown = [
            PersonalData::Profile,
            PersonalData::Contact,
            PersonalData::Consent,
        ];
        state
            .services
            .record_access(
                card.claims.brand,
                reader,
                "GET /c/{token}/data",
                &shown,
                &[session.customer],
            )
            .await
            .map_err(|e| Fail::internal(lang, &e))?;
        return Ok(screens::show(&req, &card, &session, lang));
    }
    let w = words(lang);
    Ok(nonce_form(&req, &state, lang, StatusCode::OK, |csrf| {
        ask_form(w, &card, csrf, None)
    }))
}

/// A form that carries its CSRF token and, for the code form, the code.
#[derive(Debug, Deserialize)]
pub(crate) struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

fn form_ok(req: &HttpRequest, state: &WebState, csrf: &str, lang: Lang) -> Result<(), Fail> {
    let nonce = cookies::get(req, CARD_FORM_COOKIE).unwrap_or_default();
    if state.keys().card_form_ok(&nonce, csrf) {
        Ok(())
    } else {
        Err(Fail::forbidden(lang, words(lang).bad_form))
    }
}

/// `POST /c/{token}/data/code`: sends a code to the phone on file, then shows the code
/// form. The answer is the same whatever the phone.
pub(crate) async fn send_code(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, Fail> {
    let lang = lang_of(&req);
    let w = words(lang);
    form_ok(&req, &state, &form.csrf, lang)?;
    let card = Card::of(&state, &path, lang).await?;
    let client = crate::client_address(&req);
    match state
        .services
        .issue_otp(
            card.claims.brand,
            &card.customer.phone,
            OtpPurpose::Card,
            &client,
        )
        .await
    {
        Ok(_) => {}
        Err(OtpError::TooManyCodes { retry_after }) => {
            let seconds = u64::try_from(retry_after.whole_seconds()).unwrap_or(1);
            return Err(Fail::too_many(lang, seconds));
        }
        Err(OtpError::UnknownBrand(_)) => return Err(Fail::not_found(lang)),
        Err(other) => return Err(Fail::internal(lang, &other)),
    }
    Ok(nonce_form(&req, &state, lang, StatusCode::OK, |csrf| {
        code_form(w, &card, csrf, None)
    }))
}

/// `POST /c/{token}/data/verify`: the right code opens the session (a cookie) and goes
/// to the screens; a wrong one shows the code form again.
pub(crate) async fn verify(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, Fail> {
    let lang = lang_of(&req);
    let w = words(lang);
    form_ok(&req, &state, &form.csrf, lang)?;
    let card = Card::of(&state, &path, lang).await?;
    let brand = card.claims.brand;
    let client = crate::client_address(&req);
    let refused = |status, message: &str| {
        Ok(nonce_form(&req, &state, lang, status, |csrf| {
            code_form(w, &card, csrf, Some(message))
        }))
    };
    let opened = match state
        .services
        .verify_otp(
            brand,
            &card.customer.phone,
            OtpPurpose::Card,
            &form.code,
            &client,
        )
        .await
    {
        Ok(opened) => opened,
        Err(OtpError::MalformedCode) => {
            return refused(StatusCode::UNPROCESSABLE_ENTITY, w.code_malformed);
        }
        Err(OtpError::WrongCode { .. }) => {
            return refused(StatusCode::UNPROCESSABLE_ENTITY, w.code_wrong);
        }
        Err(OtpError::Locked) => return refused(StatusCode::UNPROCESSABLE_ENTITY, w.code_locked),
        Err(OtpError::TooManyGuesses { retry_after }) => {
            let seconds = u64::try_from(retry_after.whole_seconds()).unwrap_or(1);
            return Err(Fail::too_many(lang, seconds));
        }
        Err(OtpError::UnknownBrand(_)) => return Err(Fail::not_found(lang)),
        Err(other) => return Err(Fail::internal(lang, &other)),
    };
    let cookie = state.keys().customer_cookie(brand, &opened.token);
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, card.path("")))
        .append_header((
            header::SET_COOKIE,
            cookies::set(
                CARD_COOKIE,
                &cookie,
                CUSTOMER_SESSION_TTL.whole_seconds(),
                state.secure_cookies,
            ),
        ))
        .append_header((
            header::SET_COOKIE,
            cookies::set(CARD_FORM_COOKIE, "", 0, state.secure_cookies),
        ))
        .finish())
}

/// A form that only carries its CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /c/{token}/data/sign-out`: ends the session on the server and forgets the
/// cookie.
pub(crate) async fn sign_out(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, Fail> {
    let lang = lang_of(&req);
    let card = Card::of(&state, &path, lang).await?;
    let Some(session) = CardSession::of(&req, &state, &card, lang).await? else {
        return Err(Fail::redirect(&card.path("")));
    };
    session.check(&state, &form.csrf, lang)?;
    state
        .services
        .end_customer_session(card.claims.brand, &session.token)
        .await
        .map_err(|e| Fail::internal(lang, &e))?;
    Ok(ended(&state, &format!("/c/{}", card.link)))
}

/// A redirect to `location` that forgets the session cookie.
pub(crate) fn ended(state: &WebState, location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .append_header((
            header::SET_COOKIE,
            cookies::set(CARD_COOKIE, "", 0, state.secure_cookies),
        ))
        .finish()
}

/// The answer to a request without a live session: back to the code offer.
pub(crate) fn to_sign_in(card: &Card) -> Fail {
    Fail::redirect(&card.path(""))
}

/// Shows `status` with the card's frame and `message`.
pub(crate) fn message(
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    title: &str,
    content: Markup,
) -> HttpResponse {
    let mut reply = ok(req, frame(lang, title, content));
    *reply.status_mut() = status;
    reply
}
