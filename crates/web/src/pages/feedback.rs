//! `/f/{token}`: the customer's rating page, opened from the link of a thank-you
//! message without signing in. One to five stars and an optional comment for the order
//! the link names; the token in the address is the form's only credential (it is
//! secret, signed and bound to the order, so a page elsewhere cannot post for someone
//! else). One rating per order: a second submit shows the first and changes nothing.
//! The use cases (`Services::rating_page`, `Services::submit_rating`) decide
//! everything; this module only renders.

use crate::WebState;
use crate::i18n::Lang;
use crate::render::{Fail, document, ok};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::{MAX_COMMENT_CHARS, Rating};
use regulars_service::{RatingError, RatingPage};
use serde::Deserialize;

/// The page's words.
struct Words {
    title: &'static str,
    visit: &'static str,
    stars: &'static str,
    comment: &'static str,
    send: &'static str,
    thanks: &'static str,
    given: &'static str,
    invalid: &'static str,
    expired: &'static str,
    pick_stars: &'static str,
    too_long: &'static str,
}

const VI: Words = Words {
    title: "Đánh giá lần ghé",
    visit: "Lần ghé của bạn",
    stars: "Bạn chấm mấy sao?",
    comment: "Góp ý (không bắt buộc)",
    send: "Gửi đánh giá",
    thanks: "Cảm ơn bạn đã đánh giá!",
    given: "Bạn đã đánh giá lần ghé này",
    invalid: "Liên kết đánh giá không hợp lệ.",
    expired: "Liên kết đánh giá đã hết hạn.",
    pick_stars: "Hãy chọn từ 1 đến 5 sao.",
    too_long: "Góp ý dài quá 500 ký tự.",
};

const EN: Words = Words {
    title: "Rate your visit",
    visit: "Your visit",
    stars: "How many stars?",
    comment: "Comment (optional)",
    send: "Send rating",
    thanks: "Thank you for your rating!",
    given: "You rated this visit",
    invalid: "This rating link is not valid.",
    expired: "This rating link has expired.",
    pick_stars: "Choose 1 to 5 stars.",
    too_long: "The comment is longer than 500 characters.",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

/// The form as posted; every field optional so a bad post gets the page, not a 400
/// from the extractor.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RatingForm {
    #[serde(default)]
    stars: String,
    #[serde(default)]
    comment: String,
}

fn star_line(stars: u8) -> String {
    let full = usize::from(stars.min(5));
    format!("{}{}", "★".repeat(full), "☆".repeat(5 - full))
}

fn given(w: &Words, rating: &Rating) -> Markup {
    html! {
        section #given data-stars=(rating.stars.value()) {
            p { (w.given) ": " span.stars { (star_line(rating.stars.value())) } }
            @if let Some(comment) = &rating.comment { blockquote #given-comment { (comment) } }
        }
    }
}

fn page(lang: Lang, token: &str, view: &RatingPage, notice: Option<&str>) -> Markup {
    let w = words(lang);
    let when = view.placed_at;
    html! {
        main.phone {
            h1 { (w.title) }
            p #brand { strong { (view.brand_name) } @if let Some(l) = &view.location_name { " · " (l) } }
            p.muted { (w.visit) ": " (format!("{:02}/{:02}/{}", when.day(), u8::from(when.month()), when.year())) }
            @if let Some(notice) = notice { p #notice { (notice) } }
            @match &view.given {
                Some(rating) => { (given(w, rating)) }
                None => {
                    form #rate method="post" action={ "/f/" (token) } {
                        fieldset.stars {
                            legend { (w.stars) }
                            @for n in 1..=5u8 {
                                label {
                                    input type="radio" name="stars" value=(n) required;
                                    " " (star_line(n))
                                }
                            }
                        }
                        label {
                            (w.comment)
                            textarea name="comment" maxlength=(MAX_COMMENT_CHARS) rows="4" {}
                        }
                        button #send type="submit" { (w.send) }
                    }
                }
            }
            p.lang.muted {
                a href="?lang=vi" { "Tiếng Việt" }
                a href="?lang=en" { "English" }
            }
        }
    }
}

fn failed(lang: Lang, error: &RatingError) -> Fail {
    let w = words(lang);
    match error {
        RatingError::Expired => Fail::page(lang, StatusCode::GONE, w.title, w.expired),
        RatingError::Store(e) => Fail::internal(lang, e),
        RatingError::Invalid {
            field: "comment", ..
        } => Fail::page(lang, StatusCode::BAD_REQUEST, w.title, w.too_long),
        RatingError::Invalid { .. } => {
            Fail::page(lang, StatusCode::BAD_REQUEST, w.title, w.pick_stars)
        }
        RatingError::UnknownLink | RatingError::UnknownBrand(_) | RatingError::AlreadyRated(_) => {
            Fail::page(lang, StatusCode::NOT_FOUND, w.title, w.invalid)
        }
    }
}

/// `GET /f/{token}`: the order's page, with the form or the rating given. Changes
/// nothing (mail scanners open links).
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    let lang = Lang::of(&req);
    let view = state
        .services
        .rating_page(&path)
        .await
        .map_err(|e| failed(lang, &e))?;
    Ok(ok(
        &req,
        document(lang, words(lang).title, page(lang, &path, &view, None)),
    ))
}

/// `POST /f/{token}`: stores the rating and thanks; a second rating of the order is
/// refused (409) with the first shown.
pub(crate) async fn rate(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<RatingForm>,
) -> Result<HttpResponse, Fail> {
    let lang = Lang::of(&req);
    let w = words(lang);
    // Checked before any database work: a bad token is refused at no cost.
    state
        .services
        .open_rating_token(&path)
        .map_err(|e| failed(lang, &e))?;
    let stars = form.stars.trim().parse::<u8>().unwrap_or(0);
    let comment = Some(form.comment.as_str());
    let (status, notice) = match state.services.submit_rating(&path, stars, comment).await {
        Ok(_) => (StatusCode::OK, w.thanks),
        Err(RatingError::AlreadyRated(_)) => (StatusCode::CONFLICT, w.given),
        Err(e) => return Err(failed(lang, &e)),
    };
    let view = state
        .services
        .rating_page(&path)
        .await
        .map_err(|e| failed(lang, &e))?;
    let mut reply = ok(
        &req,
        document(lang, w.title, page(lang, &path, &view, Some(notice))),
    );
    *reply.status_mut() = status;
    Ok(reply)
}
