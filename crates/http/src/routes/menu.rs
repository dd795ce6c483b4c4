//! The brand's menu: the items its till sells. Every role reads it; admins change it
//! item by item or replace it whole.

use crate::AppState;
use crate::auth::Caller;
use crate::body::Json;
use crate::dto::MoneyDto;
use crate::error::{ApiError, ErrorBody};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use regulars_domain::{Currency, MenuItem, Money};
use regulars_service::MenuUseCaseError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use utoipa::ToSchema;

/// One item of the menu.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct MenuItemDto {
    /// The product code, unique in the menu; what product bonuses match.
    #[schema(example = "TS-OOLONG")]
    sku: String,
    /// Display name.
    #[schema(example = "Trà sữa ô long")]
    name: String,
    /// Menu category; what category bonuses match.
    #[schema(example = "milk-tea")]
    category: Option<String>,
    /// Price of one unit, in the brand's currency.
    price: MoneyDto,
    /// Whether the till offers it.
    active: bool,
    /// Where it is shown: lower first, items without one last.
    sort_order: Option<i32>,
}

impl From<&MenuItem> for MenuItemDto {
    fn from(i: &MenuItem) -> Self {
        MenuItemDto {
            sku: i.sku.clone(),
            name: i.name.clone(),
            category: i.category.clone(),
            price: MoneyDto::from(&i.price),
            active: i.active,
            sort_order: i.sort_order,
        }
    }
}

/// The whole menu, in the order it is shown: by `sort_order` (items without one last),
/// then category, name and SKU.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct MenuDto {
    /// Every item, active or not.
    items: Vec<MenuItemDto>,
}

impl MenuDto {
    fn of(items: &[MenuItem]) -> Self {
        MenuDto {
            items: items.iter().map(MenuItemDto::from).collect(),
        }
    }
}

/// An item to store. `sku`: 1 to 64 bytes, no surrounding spaces; `name`: 1 to 200
/// bytes; `category`: as `sku`; `price`: not negative, in the brand's currency.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MenuItemIn {
    /// The product code. Required in a whole menu; in `PUT /v1/menu/{sku}` it may be
    /// left out, and must equal the path's when given.
    #[serde(default)]
    #[schema(example = "TS-OOLONG")]
    sku: Option<String>,
    /// Display name.
    #[schema(example = "Trà sữa ô long")]
    name: String,
    /// Menu category.
    #[serde(default)]
    #[schema(example = "milk-tea")]
    category: Option<String>,
    /// Price of one unit.
    price: MoneyDto,
    /// Whether the till offers it (default true).
    #[serde(default = "yes")]
    active: bool,
    /// Where it is shown.
    #[serde(default)]
    sort_order: Option<i32>,
}

fn yes() -> bool {
    true
}

/// A whole menu, replacing the stored one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MenuIn {
    /// Every item (at most 1000, SKUs unique); an empty list empties the menu.
    items: Vec<MenuItemIn>,
}

fn unprocessable(field: String, message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        message,
        Some(field),
    )
}

/// The item `input` describes, `prefix` naming its place in the body (`items[3].`).
fn item_from(input: MenuItemIn, sku: String, prefix: &str) -> Result<MenuItem, ApiError> {
    let price_field = || format!("{prefix}price");
    let amount = Decimal::from_str(input.price.amount.trim())
        .map_err(|_| unprocessable(price_field(), "price.amount must be a decimal number"))?;
    let currency = Currency::from_str(&input.price.currency)
        .map_err(|e| unprocessable(price_field(), e.to_string()))?;
    let price =
        Money::new(amount, currency).map_err(|e| unprocessable(price_field(), e.to_string()))?;
    Ok(MenuItem {
        sku,
        name: input.name,
        category: input.category,
        price,
        active: input.active,
        sort_order: input.sort_order,
    })
}

/// A menu use case's error, its field named by its place in the body.
fn menu_error(error: MenuUseCaseError, whole: bool) -> ApiError {
    match &error {
        MenuUseCaseError::Invalid(e) => {
            let field = match e.index {
                Some(i) if whole => format!("items[{i}].{}", e.field),
                _ => e.field.to_owned(),
            };
            let message = match e.index {
                Some(_) if whole => e.to_string(),
                _ => format!("{}: {}", e.field, e.reason),
            };
            unprocessable(field, message)
        }
        _ => ApiError::from(error),
    }
}

/// The brand's menu.
#[utoipa::path(get, path = "/v1/menu", tag = "menu", security(("api_key" = [])),
    responses((status = 200, body = MenuDto)))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let items = state.services.menu(caller.reader()?).await?;
    Ok(HttpResponse::Ok().json(MenuDto::of(&items)))
}

/// Replaces the whole menu (admin only). The list is checked as a whole: on any error,
/// nothing is written and the answer names the item (`items[3].price`).
#[utoipa::path(put, path = "/v1/menu", tag = "menu", security(("api_key" = [])), request_body = MenuIn,
    responses((status = 200, body = MenuDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "An item is invalid or a SKU repeats; `field` names it, e.g. `items[3].price`.", body = ErrorBody)))]
pub(crate) async fn put(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<MenuIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let mut items = Vec::with_capacity(body.0.items.len());
    for (index, input) in body.0.items.into_iter().enumerate() {
        let prefix = format!("items[{index}].");
        let Some(sku) = input.sku.clone() else {
            return Err(unprocessable(format!("{prefix}sku"), "sku is required"));
        };
        items.push(item_from(input, sku, &prefix)?);
    }
    let items = state
        .services
        .replace_menu(brand, items)
        .await
        .map_err(|e| menu_error(e, true))?;
    Ok(HttpResponse::Ok().json(MenuDto::of(&items)))
}

/// Adds the item with this SKU, or replaces it (admin only).
#[utoipa::path(put, path = "/v1/menu/{sku}", tag = "menu", security(("api_key" = [])), request_body = MenuItemIn,
    params(("sku" = String, Path)),
    responses((status = 200, description = "The item was replaced.", body = MenuItemDto),
        (status = 201, description = "The item was added.", body = MenuItemDto),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "A field is invalid; `field` names it.", body = ErrorBody)))]
pub(crate) async fn put_item(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Json<MenuItemIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let sku = path.into_inner();
    if body.0.sku.as_ref().is_some_and(|s| *s != sku) {
        return Err(unprocessable(
            "sku".to_owned(),
            "sku must be the path's SKU (or left out)",
        ));
    }
    let item = item_from(body.0, sku, "")?;
    let created = state
        .services
        .put_menu_item(brand, &item)
        .await
        .map_err(|e| menu_error(e, false))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(MenuItemDto::from(&item)))
}

/// Removes the item with this SKU (admin only). Orders that sold it keep their lines.
#[utoipa::path(delete, path = "/v1/menu/{sku}", tag = "menu", security(("api_key" = [])),
    params(("sku" = String, Path)),
    responses((status = 204, description = "Removed."), (status = 403, body = ErrorBody),
        (status = 404, description = "The menu has no such item.", body = ErrorBody)))]
pub(crate) async fn delete_item(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    state
        .services
        .delete_menu_item(brand, &path.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
