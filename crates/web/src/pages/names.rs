//! What pages call customers and menu items: a customer by name (else by the phone as
//! the session may see it), linked to their page, never by id; an item by its menu
//! name, its SKU only when no menu item has it.

use crate::WebState;
use crate::reading::reading;
use crate::render::Fail;
use crate::session::Session;
use maud::{Markup, html};
use regulars_domain::{Customer, CustomerId, Phone};
use std::collections::HashMap;

/// A phone number as the session may see it: in the form people read, partly hidden
/// to a role that does not see contact details.
pub(crate) fn phone_shown(session: &Session, phone: &Phone) -> String {
    if session.sees_contact() {
        phone.readable()
    } else {
        phone.partly_hidden()
    }
}

/// A customer's name, else their phone as the session may see it.
pub(crate) fn customer_label(session: &Session, customer: &Customer) -> String {
    match customer.name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => phone_shown(session, &customer.phone),
    }
}

/// A link to the customer's page, by name or phone; a customer no longer found (erased)
/// is still linked, by a neutral word.
pub(crate) fn customer_link(
    session: &Session,
    id: CustomerId,
    customers: &HashMap<CustomerId, Customer>,
) -> Markup {
    let label = customers.get(&id).map_or_else(
        || reading(session.lang).unnamed.to_owned(),
        |c| customer_label(session, c),
    );
    html! { a.customer href=(format!("/dashboard/customers/{id}")) { (label) } }
}

/// The brand's customers among `ids`, by id, in one read.
pub(crate) async fn customers(
    state: &WebState,
    session: &Session,
    ids: &[CustomerId],
) -> Result<HashMap<CustomerId, Customer>, Fail> {
    let found = state
        .services
        .customers_by_ids(session.brand(), ids)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    Ok(found.into_iter().map(|c| (c.id, c)).collect())
}

/// The names of the brand's menu items by SKU.
pub(crate) async fn menu_names(
    state: &WebState,
    session: &Session,
) -> Result<HashMap<String, String>, Fail> {
    let menu = state
        .services
        .menu(session.brand())
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    Ok(menu.into_iter().map(|item| (item.sku, item.name)).collect())
}

/// An item as people know it: its menu name, else its SKU; a dash for none.
pub(crate) fn item_name(names: &HashMap<String, String>, sku: Option<&str>) -> String {
    match sku {
        Some(sku) => names.get(sku).cloned().unwrap_or_else(|| sku.to_owned()),
        None => "—".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_go_by_their_menu_name_and_by_sku_only_off_the_menu() {
        let names: HashMap<String, String> =
            [("TS-JASMINE".to_owned(), "Trà sữa nhài".to_owned())].into();
        assert_eq!(item_name(&names, Some("TS-JASMINE")), "Trà sữa nhài");
        assert_eq!(item_name(&names, Some("OLD-SKU")), "OLD-SKU");
        assert_eq!(item_name(&names, None), "—");
    }
}
