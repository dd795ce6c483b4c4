//! A member's invite link `/r/{token}`: keeps the invite in the `regulars_invite`
//! cookie and opens the brand's sign-up page, which then says who invited ("Join, Lan
//! invited you") and, on joining, records the referral (see `docs/referrals.md`).

use super::{FLOW_AGE, gone, see_other, set_cookie, signup_lang};
use crate::WebState;
use crate::cookies;
use crate::i18n::Lang;
use crate::render::Fail;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::BrandId;
use regulars_loyalty::referrals::ReferralState;
use regulars_service::ManageError;

/// The invite a visitor came with.
pub const INVITE_COOKIE: &str = "regulars_invite";

/// `GET /r/{token}`: an invite that names nobody (or whose brand's programme is off) is
/// the "this link no longer works" page.
pub(crate) async fn open(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    let lang = signup_lang(&req);
    let page = match state.services.invite_page(&path).await {
        Ok(page) => page,
        Err(ManageError::Store(e)) => return Err(Fail::internal(lang, &e)),
        Err(_) => return Err(gone(lang)),
    };
    let mut reply = see_other(&format!("/j/{}", page.signup_token));
    set_cookie(
        &mut reply,
        &cookies::set(INVITE_COOKIE, &path, FLOW_AGE, state.secure_cookies),
    );
    Ok(reply)
}

/// The invite of the request, when it is one of `brand`'s.
pub(crate) fn invite_of(req: &HttpRequest, brand: BrandId) -> Option<String> {
    cookies::get(req, INVITE_COOKIE)
        .filter(|token| token.starts_with(&brand.as_uuid().simple().to_string()))
}

/// "Lan invited you", above the sign-up page, when the request came through an invite
/// of `brand` that still works.
pub(crate) async fn banner(
    req: &HttpRequest,
    state: &WebState,
    lang: Lang,
    brand: BrandId,
) -> Option<Markup> {
    let token = invite_of(req, brand)?;
    let page = state.services.invite_page(&token).await.ok()?;
    (page.brand.id == brand).then(|| {
        html! { p.notice #signup-invited { (invited(lang, page.referrer_name.as_deref())) } }
    })
}

fn invited(lang: Lang, name: Option<&str>) -> String {
    match (lang, name) {
        (Lang::Vi, Some(name)) => format!("Tham gia nhé — {name} đã mời bạn."),
        (Lang::Vi, None) => "Tham gia nhé — một người bạn đã mời bạn.".to_owned(),
        (Lang::En, Some(name)) => format!("Join — {name} invited you."),
        (Lang::En, None) => "Join — a friend invited you.".to_owned(),
    }
}

/// The outcome of a sign-up through an invite, as the card page's `referral` query
/// names it.
pub(crate) fn outcome(state: Option<&ReferralState>) -> Option<&'static str> {
    match state? {
        ReferralState::Refused { reason } => Some(reason.as_str()),
        other => Some(other.status()),
    }
}
