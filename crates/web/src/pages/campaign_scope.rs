//! Campaigns by location on the dashboard: the location picker of the campaign list and
//! of a campaign's page, the chosen location carried along their links, and the note
//! that says which figures are the locations' and which the whole campaign's.

use crate::WebState;
use crate::i18n::Lang;
use crate::pages::by_location;
use crate::render::Fail;
use crate::session::Session;
use maud::{Markup, html};
use regulars_service::Scope;

/// The location picker of `action`, listing the session's locations.
pub(crate) async fn picker(
    state: &WebState,
    session: &Session,
    action: &str,
    scope: &Scope,
) -> Result<Markup, Fail> {
    let known = state
        .services
        .locations(session.brand())
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    Ok(by_location::filter(session, action, &known, scope, &[]))
}

/// The chosen location as a link's query: `first` to start one, `then` to add to one.
pub(crate) struct Carry {
    pub first: String,
    pub then: String,
}

/// The `location=` a link keeps when one location is chosen; nothing otherwise.
pub(crate) fn carry(scope: &Scope) -> Carry {
    match by_location::chosen(scope) {
        Some(id) => Carry {
            first: format!("?location={id}"),
            then: format!("&location={id}"),
        },
        None => Carry {
            first: String::new(),
            then: String::new(),
        },
    }
}

/// What a report limited to locations counts; nothing for the whole brand.
pub(crate) fn note(lang: Lang, scope: &Scope) -> Markup {
    if scope.is_brand() {
        return html! {};
    }
    let text = match lang {
        Lang::En => {
            "At these locations: revenue counts only the members' orders placed here, \
             vouchers redeemed only those redeemed on an order here, and the offer cost \
             follows them. Members, messages and vouchers issued are the whole campaign's."
        }
        Lang::Vi => {
            "Tại các cửa hàng này: doanh thu chỉ tính các đơn của thành viên đặt tại đây, \
             voucher đã dùng chỉ tính những voucher dùng cho đơn tại đây, và chi phí ưu đãi \
             theo đó. Số thành viên, tin nhắn và voucher đã phát là của cả chiến dịch."
        }
    };
    html! { p.muted #campaign-scope { (text) } }
}
