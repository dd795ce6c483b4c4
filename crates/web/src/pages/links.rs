//! `/l/{token}`: the click redirect of a link in a message, and `/o/{token}.gif`: the
//! open pixel of an HTML email. Both are public, like `/f/{token}`: the signed token is
//! their only credential. A click is logged and answered `302` to the link the message
//! itself contained; a token that is not authentic answers a `404` page and sends no one
//! anywhere (never an open redirect). The pixel is served whatever the token, so a
//! mail client learns nothing from it. `Services::follow_link` and
//! `Services::record_open` decide everything.

use crate::WebState;
use crate::i18n::Lang;
use crate::render::Fail;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, REFERRER_POLICY};
use actix_web::{HttpRequest, HttpResponse, web};
use regulars_service::LinkError;

/// A transparent 1×1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

fn invalid(lang: Lang) -> Fail {
    let (title, message) = match lang {
        Lang::Vi => ("Liên kết không hợp lệ", "Liên kết này không dẫn đến đâu."),
        Lang::En => ("Link not valid", "This link leads nowhere."),
    };
    Fail::page(lang, StatusCode::NOT_FOUND, title, message)
}

/// `GET /l/{token}`: logs the click and redirects to the message's own link.
pub(crate) async fn follow(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    let lang = Lang::of(&req);
    match state.services.follow_link(&path).await {
        Ok(target) => Ok(HttpResponse::Found()
            .insert_header((LOCATION, target))
            .insert_header((CACHE_CONTROL, "no-store"))
            .insert_header((REFERRER_POLICY, "no-referrer"))
            .finish()),
        Err(LinkError::UnknownLink) => Err(invalid(lang)),
        Err(LinkError::Store(error)) => {
            tracing::warn!(%error, "a click could not be followed");
            Err(Fail::page(
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                "Regulars",
                match lang {
                    Lang::Vi => "Vui lòng thử lại sau ít phút.",
                    Lang::En => "Please try again in a few minutes.",
                },
            ))
        }
    }
}

/// `GET /o/{token}.gif`: logs the open when the token is authentic; the pixel always.
pub(crate) async fn open(state: web::Data<WebState>, path: web::Path<String>) -> HttpResponse {
    if let Err(LinkError::Store(error)) = state.services.record_open(&path).await {
        tracing::warn!(%error, "an open could not be logged");
    }
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "image/gif"))
        .insert_header((CACHE_CONTROL, "no-store, private"))
        .body(PIXEL)
}
