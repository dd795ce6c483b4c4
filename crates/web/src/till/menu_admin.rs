//! `/dashboard/menu`: an admin's form for the brand's menu, which the till sells from:
//! add an item, change one, take it off sale (or back on).

use crate::WebState;
use crate::i18n::Lang;
use crate::render::{Fail, Nav, dashboard, ok};
use crate::session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::MenuItem;
use regulars_service::MenuUseCaseError;
use regulars_service::till::parse_amount;
use serde::Deserialize;

struct MenuText {
    title: &'static str,
    intro: &'static str,
    sku: &'static str,
    name: &'static str,
    category: &'static str,
    price: &'static str,
    order: &'static str,
    on_sale: &'static str,
    save: &'static str,
    add: &'static str,
}

fn menu_text(lang: Lang) -> &'static MenuText {
    match lang {
        Lang::Vi => &MenuText {
            title: "Thực đơn",
            intro: "Các món quầy thu ngân bán. Giá lấy từ đây, không lấy từ quầy; món tạm ngưng không hiện ở quầy.",
            sku: "Mã món (SKU)",
            name: "Tên món",
            category: "Nhóm",
            price: "Giá",
            order: "Thứ tự",
            on_sale: "Đang bán",
            save: "Lưu",
            add: "Thêm món",
        },
        Lang::En => &MenuText {
            title: "Menu",
            intro: "The items the till sells. Prices come from here, never from the till; an item off sale is not offered at the till.",
            sku: "SKU",
            name: "Name",
            category: "Category",
            price: "Price",
            order: "Order",
            on_sale: "On sale",
            save: "Save",
            add: "Add item",
        },
    }
}

fn item_fields(t: &MenuText, item: Option<&MenuItem>) -> Markup {
    html! {
        label { (t.name) " " input type="text" name="name" value=[item.map(|i| &i.name)] required; }
        label { (t.category) " " input type="text" name="category" value=[item.and_then(|i| i.category.as_ref())]; }
        label { (t.price) " " input type="text" name="price" inputmode="numeric" value=[item.map(|i| i.price.amount())] required; }
        label { (t.order) " " input type="number" name="sort_order" value=[item.and_then(|i| i.sort_order)]; }
        label { input type="checkbox" name="active" value="yes" checked[item.is_none_or(|i| i.active)]; " " (t.on_sale) }
    }
}

async fn render(
    req: &HttpRequest,
    state: &WebState,
    session: &Session,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, Fail> {
    let t = menu_text(session.lang);
    let items = state
        .services
        .menu(session.brand())
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let body = html! {
        p.muted { (t.intro) }
        @if let Some(error) = &error { p.error #menu-error { (error) } }
        section #menu-list {
            @for item in &items {
                form.menu-row method="post" action="/dashboard/menu" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    input type="hidden" name="sku" value=(item.sku);
                    h3 { code { (item.sku) } }
                    (item_fields(t, Some(item)))
                    button type="submit" { (t.save) }
                }
            }
        }
        section {
            h2 { (t.add) }
            form #add-item method="post" action="/dashboard/menu" {
                input type="hidden" name="csrf" value=(session.csrf);
                label { (t.sku) " " input #item-sku type="text" name="sku" required; }
                (item_fields(t, None))
                button #add-item-button type="submit" { (t.add) }
            }
        }
    };
    let mut reply = ok(req, dashboard(session, Nav::Staff, t.title, body));
    *reply.status_mut() = status;
    Ok(reply)
}

/// `GET /dashboard/menu` (admins only).
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
) -> Result<HttpResponse, Fail> {
    let session = Session::admin(&req, &state).await?;
    render(&req, &state, &session, StatusCode::OK, None).await
}

/// An item's form.
#[derive(Debug, Deserialize)]
pub(crate) struct ItemForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    sku: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    sort_order: String,
    #[serde(default)]
    active: Option<String>,
}

/// `POST /dashboard/menu`: adds or changes the item of the form's SKU.
pub(crate) async fn save(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<ItemForm>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    session.authorise_change(&state, &form.csrf)?;
    let refuse = |message: String| {
        render(
            &req,
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
        )
    };
    let brand = state
        .services
        .brand(session.brand())
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let price = match parse_amount(&form.price, brand.currency) {
        Ok(price) => price,
        Err(message) => return refuse(format!("price: {message}")).await,
    };
    let sort_order = match form.sort_order.trim() {
        "" => None,
        typed => match typed.parse::<i32>() {
            Ok(n) => Some(n),
            Err(_) => return refuse("sort_order: a whole number".to_owned()).await,
        },
    };
    let category = Some(form.category.trim().to_owned()).filter(|c| !c.is_empty());
    let item = MenuItem {
        sku: form.sku.trim().to_owned(),
        name: form.name.trim().to_owned(),
        category,
        price,
        active: form.active.is_some(),
        sort_order,
    };
    match state.services.put_menu_item(session.brand(), &item).await {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/dashboard/menu"))
            .finish()),
        Err(e @ (MenuUseCaseError::Invalid(_) | MenuUseCaseError::UnknownItem(_))) => {
            refuse(e.to_string()).await
        }
        Err(e) => Err(Fail::internal(session.lang, &e)),
    }
}
