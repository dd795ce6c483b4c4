//! `POST /c/{token}/data/phone` and `/phone/verify`: a signed-in customer changes their
//! phone number. The code goes to the NEW number; only the right code changes it. Until
//! the code is right, every answer reads the same whether or not the new number is
//! another member's: only then does the page say that it is, and change nothing.

use super::screens::{page, refused, signed_in};
use super::words::{Words, words};
use super::{Card, CardSession, lang_of, message};
use crate::render::Fail;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_service::{OtpError, OwnRequestError, PhoneChangeError};
use serde::Deserialize;

use crate::WebState;

/// The section of the screens that starts a change.
pub(crate) fn section(w: &Words, card: &Card, session: &CardSession) -> Markup {
    html! {
        section #change-phone {
            h2 { (w.change_phone) }
            p.muted { (w.change_phone_intro) }
            form method="post" action=(card.path("/phone")) {
                input type="hidden" name="csrf" value=(session.csrf);
                label for="new-phone" { (w.new_phone) }
                input #new-phone type="tel" name="phone" inputmode="tel" autocomplete="tel" maxlength="20" required;
                button #send-phone-code type="submit" { (w.send_phone_code) }
            }
        }
    }
}

/// The form for the code sent to `phone` (the new number, as the customer typed it).
fn code_form(
    w: &Words,
    card: &Card,
    session: &CardSession,
    phone: &str,
    error: Option<&str>,
) -> Markup {
    html! {
        p #phone-code-sent { (w.phone_code_sent) }
        p { (w.new_phone) ": " span #new-phone-shown { (phone) } }
        form method="post" action=(card.path("/phone/verify")) {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="hidden" name="phone" value=(phone);
            label for="phone-code" { (w.code) }
            input #phone-code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6" required;
            @if let Some(error) = error { p.error #phone-code-error { (error) } }
            button #phone-verify type="submit" { (w.phone_verify) }
        }
        form method="post" action=(card.path("/phone")) {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="hidden" name="phone" value=(phone);
            button #phone-resend type="submit" { (w.resend) }
        }
        p { a #phone-cancel href=(card.path("")) { (w.phone_cancel) } }
    }
}

/// The phone forms: the new number, and the code once sent.
#[derive(Debug, Deserialize)]
pub(crate) struct PhoneForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
}

/// `POST /c/{token}/data/phone`: sends a code to the new number and shows its form.
pub(crate) async fn send_code(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<PhoneForm>,
) -> Result<HttpResponse, Fail> {
    let lang = lang_of(&req);
    let w = words(lang);
    let (card, session) = signed_in(&req, &state, &path, lang).await?;
    session.check(&state, &form.csrf, lang)?;
    let client = crate::client_address(&req);
    let note = |text: &str| {
        let note = Some((StatusCode::UNPROCESSABLE_ENTITY, text));
        Ok(page(&req, &card, &session, &card.customer, lang, note))
    };
    match state
        .services
        .own_phone_code(card.claims.brand, &session.token, &form.phone, &client)
        .await
    {
        Ok(_) => Ok(message(
            &req,
            lang,
            StatusCode::OK,
            w.change_phone,
            code_form(w, &card, &session, form.phone.trim(), None),
        )),
        Err(OwnRequestError::Phone(PhoneChangeError::Invalid(_))) => note(w.phone_invalid),
        Err(OwnRequestError::Empty(_)) => note(w.phone_same),
        Err(OwnRequestError::Otp(OtpError::TooManyCodes { retry_after })) => {
            let seconds = u64::try_from(retry_after.whole_seconds()).unwrap_or(1);
            Err(Fail::too_many(lang, seconds))
        }
        Err(error) => refused(&req, &card, &session, lang, &error),
    }
}

/// `POST /c/{token}/data/phone/verify`: the right code changes the number; a wrong one
/// shows the code form again; a number another member has is refused only now.
pub(crate) async fn verify(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<PhoneForm>,
) -> Result<HttpResponse, Fail> {
    let lang = lang_of(&req);
    let w = words(lang);
    let (card, session) = signed_in(&req, &state, &path, lang).await?;
    session.check(&state, &form.csrf, lang)?;
    let client = crate::client_address(&req);
    let again = |error: &str| {
        Ok(message(
            &req,
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            w.change_phone,
            code_form(w, &card, &session, form.phone.trim(), Some(error)),
        ))
    };
    let note = |status: StatusCode, text: &str| {
        Ok(page(
            &req,
            &card,
            &session,
            &card.customer,
            lang,
            Some((status, text)),
        ))
    };
    match state
        .services
        .own_phone_change(
            card.claims.brand,
            &session.token,
            &form.phone,
            &form.code,
            &client,
        )
        .await
    {
        Ok(changed) => {
            let done = Some((StatusCode::OK, w.phone_changed));
            Ok(page(&req, &card, &session, &changed.customer, lang, done))
        }
        Err(OwnRequestError::Otp(OtpError::MalformedCode)) => again(w.code_malformed),
        Err(OwnRequestError::Otp(OtpError::WrongCode { .. })) => again(w.code_wrong),
        Err(OwnRequestError::Otp(OtpError::Locked)) => again(w.code_locked),
        Err(OwnRequestError::Otp(OtpError::TooManyGuesses { retry_after })) => {
            let seconds = u64::try_from(retry_after.whole_seconds()).unwrap_or(1);
            Err(Fail::too_many(lang, seconds))
        }
        Err(OwnRequestError::Phone(PhoneChangeError::Taken)) => {
            note(StatusCode::CONFLICT, w.phone_taken)
        }
        Err(OwnRequestError::Phone(PhoneChangeError::Invalid(_))) => {
            note(StatusCode::UNPROCESSABLE_ENTITY, w.phone_invalid)
        }
        Err(OwnRequestError::Empty(_)) => note(StatusCode::UNPROCESSABLE_ENTITY, w.phone_same),
        Err(error) => refused(&req, &card, &session, lang, &error),
    }
}
