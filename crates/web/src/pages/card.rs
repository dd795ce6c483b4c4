//! The customer's own page, opened from a signed link: balance, tier and progress, and
//! each active voucher with its QR code. Made for a phone held at the till.

use crate::WebState;
use crate::i18n::Lang;
use crate::pages::customers::tier_block;
use crate::qr;
use crate::render::{Fail, document, ok, when};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{PreEscaped, html};
use regulars_service::LookupError;

/// `GET /c/{token}`: a token that is altered, expired or names nobody is a 404 page.
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    let lang = Lang::of(&req);
    let t = lang.text();
    let expired = || {
        Fail::page(
            lang,
            actix_web::http::StatusCode::NOT_FOUND,
            t.not_found_title,
            t.link_expired,
        )
    };
    let claims = state
        .keys()
        .open_link(&path, state.now())
        .ok_or_else(expired)?;
    let view = match state
        .services
        .customer_view(claims.brand, claims.customer)
        .await
    {
        Ok(view) => view,
        Err(LookupError::UnknownCustomer(_) | LookupError::UnknownBrand(_)) => {
            return Err(expired());
        }
        Err(other) => return Err(Fail::internal(lang, &other)),
    };
    let name = view.customer.name.clone().unwrap_or_default();
    let body = html! {
        main.phone {
            h1 { (t.card_title) }
            @if !name.is_empty() { p { (t.card_hello) " " (name) } }
            section {
                div.label.muted { (t.balance) }
                div.balance #card-balance { (view.balance.value()) " " (t.points) }
                (tier_block(t, view.tier.as_ref().map(|s| s.code.as_str()), view.tier_progress.as_ref()))
            }
            @for card in &view.stamps {
                section.stamps #card-stamps {
                    div.label.muted { (card.name) }
                    div.balance { (card.stamps) " / " (card.needed) " ☕" }
                    div.stamp-row aria-hidden="true" {
                        @for i in 0..card.needed {
                            span { @if i < card.stamps { "●" } @else { "○" } }
                        }
                    }
                }
            }
            h2 { (t.vouchers) }
            @if view.vouchers.is_empty() { p.muted { (t.no_vouchers) } }
            @for voucher in &view.vouchers {
                div.voucher {
                    @if let Some(svg) = qr::svg(voucher.code().as_str()) {
                        div.qr { (PreEscaped(svg)) }
                    }
                    div.code { (voucher.code()) }
                    p.muted { (t.card_show_code) " · " (t.expires) " " (when(voucher.expires_at())) }
                }
            }
            p { a #my-data href={ "/c/" (path.as_str()) "/data" } { (my_data(lang)) } }
            p.lang.muted {
                a href="?lang=vi" { "Tiếng Việt" }
                a href="?lang=en" { "English" }
            }
        }
    };
    Ok(ok(&req, document(lang, t.card_title, body)))
}

/// The link to the customer's own requests (signing in by a code first).
fn my_data(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "Dữ liệu của tôi",
        Lang::En => "My data",
    }
}
