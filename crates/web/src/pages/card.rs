//! The customer's own page, opened from a signed link: balance, tier and progress, and
//! each active voucher with its QR code. Made for a phone held at the till.

use crate::WebState;
use crate::i18n::Lang;
use crate::pages::customers::tier_block;
use crate::qr;
use crate::render::{Fail, document, ok, when};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, PreEscaped, html};
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
    // The personal invite link, while the brand's referral programme is on.
    let invite = match state
        .services
        .invite_token(claims.brand, claims.customer)
        .await
    {
        Ok(token) => token.map(|t| format!("{}/r/{t}", crate::link::base_url(&req, &state))),
        Err(e) => return Err(Fail::internal(lang, &e)),
    };
    let referral = referral_note(lang, &req);
    let body = html! {
        main.phone {
            h1 { (t.card_title) }
            @if !name.is_empty() { p { (t.card_hello) " " (name) } }
            @if let Some(note) = referral { p.notice #card-referral { (note) } }
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
            @if let Some(link) = &invite { (invite_block(lang, link)) }
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

/// The member's invite link, with a share button (an `sms:` link: no script needed).
fn invite_block(lang: Lang, link: &str) -> Markup {
    let (title, intro, share, message) = match lang {
        Lang::Vi => (
            "Mời bạn bè",
            "Gửi đường dẫn này cho bạn bè: khi họ tham gia và mua lần đầu, cả hai cùng được thưởng.",
            "Chia sẻ",
            "Tham gia chương trình thành viên cùng mình:",
        ),
        Lang::En => (
            "Invite friends",
            "Send this link to friends: when they join and make their first purchase, you are both rewarded.",
            "Share",
            "Join the members' programme with me:",
        ),
    };
    let body = percent_encoded(&format!("{message} {link}"));
    html! {
        section #card-invite {
            h2 { (title) }
            p.muted { (intro) }
            input #card-invite-link type="text" readonly value=(link) aria-label=(title);
            p { a.button #card-invite-share href={ "sms:?&body=" (body) } { (share) } }
        }
    }
}

/// What became of the invite the customer signed up through, from `?referral=`.
fn referral_note(lang: Lang, req: &HttpRequest) -> Option<&'static str> {
    let outcome = req
        .query_string()
        .split('&')
        .find_map(|pair| pair.strip_prefix("referral="))?;
    let vi = lang == Lang::Vi;
    Some(match outcome {
        "pending" if vi => {
            "Bạn đã tham gia qua lời mời: cả hai sẽ được thưởng sau lần mua đầu tiên."
        }
        "pending" => {
            "You joined through an invite: you are both rewarded after your first purchase."
        }
        "self_referral" if vi => "Không thể tự mời chính mình.",
        "self_referral" => "You cannot invite yourself.",
        "existing_customer" if vi => "Lời mời chỉ dành cho khách mới: bạn đã là thành viên.",
        "existing_customer" => "Invites are for new customers: you were already a member.",
        "already_referred" if vi => "Số điện thoại này đã được mời trước đó.",
        "already_referred" => "This phone was invited before.",
        "too_many_from_address" if vi => {
            "Quá nhiều lượt tham gia qua lời mời từ cùng một nơi: lời mời này không được tính."
        }
        "too_many_from_address" => {
            "Too many invited sign-ups from one place: this invite does not count."
        }
        "disabled" if vi => "Chương trình giới thiệu hiện không áp dụng.",
        "disabled" => "The referral programme is not running.",
        _ => return None,
    })
}

/// `text` percent-encoded for a URL's query (unreserved characters kept).
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
