//! The screens behind a card session: download everything as JSON or CSV, correct
//! name, email and birthday, withdraw consent per purpose, erase. Each goes through
//! the customer's own use cases, which log the request with its outcome.

use super::words::{Words, purpose, state as consent_state, words};
use super::{Card, CardSession, ended, lang_of, message, to_sign_in};
use crate::WebState;
use crate::i18n::Lang;
use crate::render::Fail;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::{Customer, Purpose};
use regulars_service::{ConsentPatch, ManageError, OwnCorrection, OwnRequestError, export_csv};
use serde::Deserialize;
use time::Date;
use time::macros::format_description;

/// A note above the screens: its status and text.
pub(crate) type Note<'a> = Option<(StatusCode, &'a str)>;

fn screens(
    w: &Words,
    lang: Lang,
    card: &Card,
    session: &CardSession,
    customer: &Customer,
) -> Markup {
    let birthday = customer.birthday.map(|d| d.to_string()).unwrap_or_default();
    html! {
        section #download {
            h2 { (w.download) }
            p.muted { (w.download_intro) }
            p {
                a #download-json href=(card.path("/export.json")) { (w.download_json) }
                " · "
                a #download-csv href=(card.path("/export.csv")) { (w.download_csv) }
            }
        }
        section #profile {
            h2 { (w.profile) }
            p { (w.phone) ": " span #phone { (customer.phone.as_str()) } }
            form method="post" action=(card.path("/correct")) {
                input type="hidden" name="csrf" value=(session.csrf);
                label for="name" { (w.name) }
                input #name type="text" name="name" maxlength="200" value=(customer.name.as_deref().unwrap_or_default());
                label for="email" { (w.email) }
                input #email type="email" name="email" maxlength="254" value=(customer.email.as_deref().unwrap_or_default());
                label for="birthday" { (w.birthday) " (" (w.birthday_hint) ")" }
                input #birthday type="text" name="birthday" placeholder="1990-05-31" value=(birthday);
                button #correct type="submit" { (w.correct) }
            }
        }
        (super::phone::section(w, card, session))
        section #consents {
            h2 { (w.consents) }
            p.muted { (w.withdraw_intro) }
            form method="post" action=(card.path("/withdraw")) {
                input type="hidden" name="csrf" value=(session.csrf);
                @for p in Purpose::ALL {
                    @let (field, label) = purpose(lang, p);
                    @let state = customer.consent.state(p);
                    div data-purpose=(field) data-state=(state.as_str()) {
                        @if state.granted() {
                            input id={ "withdraw-" (field) } type="checkbox" name=(field) value="on";
                            " "
                        }
                        label for={ "withdraw-" (field) } { (label) } " — " (consent_state(w, state))
                    }
                }
                button #withdraw type="submit" { (w.withdraw) }
            }
        }
        section #erase {
            h2 { (w.erase) }
            p.muted { (w.erase_intro) }
            form method="post" action=(card.path("/erase")) {
                input type="hidden" name="csrf" value=(session.csrf);
                button #erase-start type="submit" { (w.erase) }
            }
        }
        form method="post" action=(card.path("/sign-out")) {
            input type="hidden" name="csrf" value=(session.csrf);
            button #sign-out type="submit" { (w.sign_out) }
        }
    }
}

/// The screens for `customer`, with a note above them.
pub(crate) fn page(
    req: &HttpRequest,
    card: &Card,
    session: &CardSession,
    customer: &Customer,
    lang: Lang,
    note: Note<'_>,
) -> HttpResponse {
    let w = words(lang);
    let status = note.map_or(StatusCode::OK, |(status, _)| status);
    let content = html! {
        @if let Some((status, text)) = note {
            @if status.is_success() { p #done { (text) } } @else { p.error #form-error { (text) } }
        }
        (screens(w, lang, card, session, customer))
    };
    message(req, lang, status, w.title, content)
}

/// The screens as first shown.
pub(crate) fn show(
    req: &HttpRequest,
    card: &Card,
    session: &CardSession,
    lang: Lang,
) -> HttpResponse {
    page(req, card, session, &card.customer, lang, None)
}

/// The card and its live session, or the way back to the code offer.
pub(super) async fn signed_in(
    req: &HttpRequest,
    state: &WebState,
    link: &str,
    lang: Lang,
) -> Result<(Card, CardSession), Fail> {
    let card = Card::of(state, link, lang).await?;
    match CardSession::of(req, state, &card, lang).await? {
        Some(session) => Ok((card, session)),
        None => Err(to_sign_in(&card)),
    }
}

/// A refused or failed request as a page or the sign-in offer.
pub(super) fn refused(
    req: &HttpRequest,
    card: &Card,
    session: &CardSession,
    lang: Lang,
    error: &OwnRequestError,
) -> Result<HttpResponse, Fail> {
    let w = words(lang);
    match error {
        OwnRequestError::NoSession => Err(to_sign_in(card)),
        OwnRequestError::NotACustomer => Err(Fail::page(
            lang,
            StatusCode::NOT_FOUND,
            w.title,
            w.link_gone,
        )),
        OwnRequestError::Empty(what) => {
            let text = if what.starts_with("consent") {
                w.nothing_withdrawn
            } else {
                w.nothing_changed
            };
            let note = Some((StatusCode::UNPROCESSABLE_ENTITY, text));
            Ok(page(req, card, session, &card.customer, lang, note))
        }
        OwnRequestError::Manage(
            ManageError::Invalid { field, message } | ManageError::Taken { field, message },
        ) => {
            let text = format!("{field}: {message}");
            let note = Some((StatusCode::UNPROCESSABLE_ENTITY, text.as_str()));
            Ok(page(req, card, session, &card.customer, lang, note))
        }
        other => Err(Fail::internal(lang, other)),
    }
}

/// `GET /c/{token}/data/export.json`.
pub(crate) async fn download_json(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    download(&req, &state, &path, false).await
}

/// `GET /c/{token}/data/export.csv`.
pub(crate) async fn download_csv(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    download(&req, &state, &path, true).await
}

/// Everything held about the customer, as the API's export document or its CSV.
async fn download(
    req: &HttpRequest,
    state: &WebState,
    link: &str,
    csv: bool,
) -> Result<HttpResponse, Fail> {
    let lang = lang_of(req);
    let (card, session) = signed_in(req, state, link, lang).await?;
    let Some(document) = state.export_document else {
        let w = words(lang);
        return Err(Fail::page(
            lang,
            StatusCode::NOT_FOUND,
            w.title,
            w.no_download,
        ));
    };
    let export = match state
        .services
        .own_export(card.claims.brand, &session.token)
        .await
    {
        Ok(export) => export,
        Err(error) => return refused(req, &card, &session, lang, &error),
    };
    let doc = document(&export);
    let file = format!("my-data-{}", session.customer);
    let mut reply = HttpResponse::Ok();
    reply.insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"));
    if csv {
        Ok(reply
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "Content-Disposition",
                format!("attachment; filename=\"{file}.csv\""),
            ))
            .body(export_csv(&doc)))
    } else {
        Ok(reply
            .insert_header((
                "Content-Disposition",
                format!("attachment; filename=\"{file}.json\""),
            ))
            .json(doc))
    }
}

/// The correction form: every field as shown; an empty one clears it.
#[derive(Debug, Deserialize)]
pub(crate) struct CorrectionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    birthday: String,
}

/// What changed between the form and the stored profile (`Err` for a birthday that is
/// not a date).
fn correction(form: &CorrectionForm, now: &Customer) -> Result<OwnCorrection, ()> {
    let text = |given: &str, stored: &Option<String>| {
        let given = given.trim();
        let given = (!given.is_empty()).then(|| given.to_owned());
        (given != *stored).then_some(given)
    };
    let birthday = match form.birthday.trim() {
        "" => None,
        given => {
            Some(Date::parse(given, format_description!("[year]-[month]-[day]")).map_err(|_| ())?)
        }
    };
    Ok(OwnCorrection {
        name: text(&form.name, &now.name),
        email: text(&form.email, &now.email),
        birthday: (birthday != now.birthday).then_some(birthday),
    })
}

/// `POST /c/{token}/data/correct`.
pub(crate) async fn correct(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<CorrectionForm>,
) -> Result<HttpResponse, Fail> {
    let lang = lang_of(&req);
    let w = words(lang);
    let (card, session) = signed_in(&req, &state, &path, lang).await?;
    session.check(&state, &form.csrf, lang)?;
    let Ok(change) = correction(&form, &card.customer) else {
        let note = Some((StatusCode::UNPROCESSABLE_ENTITY, w.bad_birthday));
        return Ok(page(&req, &card, &session, &card.customer, lang, note));
    };
    match state
        .services
        .own_correction(card.claims.brand, &session.token, change)
        .await
    {
        Ok(customer) => {
            let note = Some((StatusCode::OK, w.corrected));
            Ok(page(&req, &card, &session, &customer, lang, note))
        }
        Err(error) => refused(&req, &card, &session, lang, &error),
    }
}

/// The withdrawal form: a ticked box per purpose withdrawn.
#[derive(Debug, Deserialize)]
pub(crate) struct WithdrawalForm {
    #[serde(default)]
    csrf: String,
    programme: Option<String>,
    zalo: Option<String>,
    sms: Option<String>,
    email: Option<String>,
    profiling: Option<String>,
}

/// `POST /c/{token}/data/withdraw`.
pub(crate) async fn withdraw(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<WithdrawalForm>,
) -> Result<HttpResponse, Fail> {
    let lang = lang_of(&req);
    let (card, session) = signed_in(&req, &state, &path, lang).await?;
    session.check(&state, &form.csrf, lang)?;
    let no = |ticked: &Option<String>| ticked.as_ref().map(|_| false);
    let patch = ConsentPatch {
        zalo: no(&form.zalo),
        sms: no(&form.sms),
        email: no(&form.email),
        profiling: no(&form.profiling),
        programme: no(&form.programme),
    };
    match state
        .services
        .own_consent_withdrawal(card.claims.brand, &session.token, patch)
        .await
    {
        Ok(customer) => {
            let note = Some((StatusCode::OK, words(lang).withdrawn_done));
            Ok(page(&req, &card, &session, &customer, lang, note))
        }
        Err(error) => refused(&req, &card, &session, lang, &error),
    }
}

/// The erasure form: without `confirm=yes` it asks for the confirmation.
#[derive(Debug, Deserialize)]
pub(crate) struct ErasureForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /c/{token}/data/erase`: first the confirmation step, then the erasure; the
/// session ends and the card link answers 404 from then on.
pub(crate) async fn erase(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<ErasureForm>,
) -> Result<HttpResponse, Fail> {
    let lang = lang_of(&req);
    let w = words(lang);
    let (card, session) = signed_in(&req, &state, &path, lang).await?;
    session.check(&state, &form.csrf, lang)?;
    if form.confirm != "yes" {
        let content = html! {
            p #erase-warning { (w.erase_confirm) }
            form method="post" action=(card.path("/erase")) {
                input type="hidden" name="csrf" value=(session.csrf);
                input type="hidden" name="confirm" value="yes";
                button #erase-confirm type="submit" { (w.erase_yes) }
            }
            p { a #erase-cancel href=(card.path("")) { (w.erase_cancel) } }
        };
        return Ok(message(
            &req,
            lang,
            StatusCode::OK,
            w.erase_confirm_title,
            content,
        ));
    }
    if let Err(error) = state
        .services
        .own_erasure(card.claims.brand, &session.token, true)
        .await
    {
        return refused(&req, &card, &session, lang, &error);
    }
    let mut reply = message(
        &req,
        lang,
        StatusCode::OK,
        w.erased_title,
        html! { p #erased { (w.erased) } },
    );
    let forget = ended(&state, "/");
    for cookie in forget
        .headers()
        .get_all(actix_web::http::header::SET_COOKIE)
    {
        reply
            .headers_mut()
            .append(actix_web::http::header::SET_COOKIE, cookie.clone());
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use regulars_domain::{BrandId, ChannelConsent, CustomerId, Phone};
    use time::OffsetDateTime;
    use time::macros::date;

    fn stored() -> Customer {
        Customer {
            id: CustomerId::from_bytes([1; 16]),
            brand_id: BrandId::from_bytes([2; 16]),
            phone: Phone::parse("0912345678", Phone::VIETNAM).unwrap(),
            name: Some("Lan".into()),
            birthday: Some(date!(1990 - 05 - 31)),
            email: None,
            zalo_user_id: None,
            consent: ChannelConsent::default(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn form(name: &str, email: &str, birthday: &str) -> CorrectionForm {
        CorrectionForm {
            csrf: String::new(),
            name: name.into(),
            email: email.into(),
            birthday: birthday.into(),
        }
    }

    #[test]
    fn a_correction_names_only_what_changed_and_empty_clears() {
        let now = stored();
        assert_eq!(
            correction(&form("Lan", "", "1990-05-31"), &now),
            Ok(OwnCorrection::default())
        );
        assert_eq!(
            correction(&form(" Lan ", "lan@example.com", ""), &now),
            Ok(OwnCorrection {
                name: None,
                email: Some(Some("lan@example.com".into())),
                birthday: Some(None),
            })
        );
        assert_eq!(
            correction(&form("", "", "1991-01-02"), &now),
            Ok(OwnCorrection {
                name: Some(None),
                email: None,
                birthday: Some(Some(date!(1991 - 01 - 02))),
            })
        );
        assert_eq!(correction(&form("Lan", "", "31/05/1990"), &now), Err(()));
    }
}
