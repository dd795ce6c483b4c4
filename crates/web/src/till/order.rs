//! The till's order form: the brand's active menu grouped by category, a quantity for
//! each item (a number field: steppers on a touch screen, no script), or else the
//! amount paid; and the receipt shown once it is recorded, with its lines and which
//! rule gave which points. Prices are never taken from the form: the service prices
//! the items from the menu.

use super::pages::{form_key, show_with};
use super::{TillSession, text};
use crate::WebState;
use crate::render::Fail;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::{CustomerId, MenuItem, MenuPick};
use regulars_service::till::{TillOrder, TillOrderError, TillReceipt};
use regulars_service::{ErrorClass, UseCaseError};

/// The prefix of a quantity field's name: `item:<sku>`.
const ITEM_FIELD: &str = "item:";

/// The order form of a customer's account.
pub(super) fn order_form(
    state: &WebState,
    session: &TillSession,
    customer: CustomerId,
    menu: &[MenuItem],
) -> Markup {
    let t = text(session.lang);
    let mut groups: Vec<(Option<&str>, Vec<&MenuItem>)> = Vec::new();
    for item in menu {
        let category = item.category.as_deref();
        match groups.iter_mut().find(|(c, _)| *c == category) {
            Some((_, items)) => items.push(item),
            None => groups.push((category, vec![item])),
        }
    }
    html! {
        form #order-form method="post" action="/till/orders" {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="hidden" name="customer" value=(customer);
            input type="hidden" name="key" value=(form_key(state));
            @if !menu.is_empty() {
                h3 { (t.menu) }
                div.menu-items #till-menu {
                    @for (category, items) in &groups {
                        fieldset.menu-group {
                            legend { (category.unwrap_or(t.other_items)) }
                            @for item in items {
                                label.menu-item {
                                    span { (item.name) br; small.muted { (item.price.amount()) " " (item.price.currency().code()) } }
                                    input type="number" name={ (ITEM_FIELD) (item.sku) } min="0" max="999"
                                        step="1" value="0" inputmode="numeric";
                                }
                            }
                        }
                    }
                }
                label for="amount" { (t.or_amount) }
                input #amount type="text" name="amount" inputmode="numeric" autocomplete="off";
            } @else {
                label for="amount" { (t.amount) }
                input #amount type="text" name="amount" inputmode="numeric" autocomplete="off" required;
            }
            button #record-order type="submit" { (t.record_order) }
        }
    }
}

/// The receipt of a recorded order: its lines, total and the points' explanation.
fn receipt(session: &TillSession, done: &TillReceipt) -> Markup {
    let t = text(session.lang);
    html! {
        section #till-receipt {
            h3 { (t.receipt) }
            table {
                @for line in &done.lines {
                    tr.receipt-line {
                        td { (line.quantity) " × " (line.name) }
                        td { (line.unit_price.amount()) }
                    }
                }
                tr { th { (t.total) } th #receipt-total { (done.total.amount()) " " (done.total.currency().code()) } }
            }
            h3 { (t.how_earned) }
            ul #receipt-explanation {
                @for line in &done.receipt.explanation {
                    li { (line.label) ": " (line.points.value()) }
                }
            }
        }
    }
}

/// `POST /till/orders`: an order by menu items or by amount, keyed by the form's key.
/// Fields besides `csrf`, `customer`, `key`, `amount` and `item:<sku>` are ignored (a
/// price sent with the form has no effect).
pub(crate) async fn record_order(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, Fail> {
    let session = TillSession::of(&req, &state).await?;
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    session.check(&state, &field("csrf"))?;
    let t = text(session.lang);
    let customer: CustomerId = field("customer")
        .parse()
        .map_err(|_| Fail::not_found(session.lang))?;
    let mut items = Vec::new();
    let mut bad_quantity = false;
    for (name, value) in form.iter() {
        let Some(sku) = name.strip_prefix(ITEM_FIELD) else {
            continue;
        };
        let value = value.trim();
        match value.parse::<u32>() {
            Ok(quantity) => items.push(MenuPick {
                sku: sku.to_owned(),
                quantity,
            }),
            Err(_) if value.is_empty() => {}
            Err(_) => bad_quantity = true,
        }
    }
    let order = TillOrder {
        customer,
        amount: field("amount"),
        items,
        key: field("key"),
    };
    let (message, shown) = if bad_quantity {
        ("quantity: 0 to 999".to_owned(), None)
    } else {
        match state.services.till_order(&session.at, &order).await {
            Ok(done) if done.receipt.duplicate => {
                (t.order_duplicate.to_owned(), Some(receipt(&session, &done)))
            }
            Ok(done) => (
                format!(
                    "{} +{}",
                    t.order_recorded,
                    done.receipt.points_earned.value()
                ),
                Some(receipt(&session, &done)),
            ),
            Err(TillOrderError::UnknownCustomer(_)) => return Err(Fail::not_found(session.lang)),
            Err(TillOrderError::Ingest(e)) if e.class() == ErrorClass::Unavailable => {
                return Err(Fail::internal(session.lang, &e));
            }
            Err(TillOrderError::MenuRead(e)) if e.class() == ErrorClass::Unavailable => {
                return Err(Fail::internal(session.lang, &e));
            }
            Err(e) => (e.to_string(), None),
        }
    };
    show_with(
        &req,
        &state,
        &session,
        customer,
        "POST /till/orders",
        Some(&message),
        shown,
    )
    .await
}
