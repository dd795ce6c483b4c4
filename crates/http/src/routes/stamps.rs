//! The brand's stamp cards (the digital punch card). Every role reads them; admins
//! replace them as a whole.

use crate::AppState;
use crate::auth::Caller;
use crate::body::Json;
use crate::dto::MoneyDto;
use crate::error::{ApiError, ErrorBody};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use regulars_domain::{Currency, Money, RewardId};
use regulars_loyalty::stamps::{StampCard, StampEarning};
use regulars_service::StampCardsError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use utoipa::ToSchema;
use uuid::Uuid;

/// What earns a stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum EarnPer {
    /// One stamp per unit of each line whose SKU or category is listed.
    Item,
    /// One stamp per order reaching `min_total` (if given).
    Visit,
}

/// A stamp card: "buy 9, the 10th is free".
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StampCardDto {
    /// Unique in the brand: 1 to 32 of `a-z`, `0-9`, `-`, `_`.
    #[schema(example = "coffee")]
    code: String,
    /// What customers see (1 to 100 characters).
    #[schema(example = "Coffee card")]
    name: String,
    /// Stamps that fill the card, 2 to 50.
    #[schema(example = 10, minimum = 2, maximum = 50)]
    stamps_needed: u32,
    /// What earns a stamp.
    earn_per: EarnPer,
    /// With `earn_per: item`, the SKUs whose units earn.
    #[serde(default)]
    skus: Vec<String>,
    /// With `earn_per: item`, the menu categories whose units earn.
    #[serde(default)]
    categories: Vec<String>,
    /// With `earn_per: visit`, the smallest order total that earns.
    #[serde(default)]
    min_total: Option<MoneyDto>,
    /// Most stamps one order earns (1 to 100); 100 when absent.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    max_per_order: Option<u32>,
    /// The catalogue reward a full card gives as a voucher.
    reward_id: Uuid,
    /// Stamps expire this many days (1 to 3650) after the first stamp of the current
    /// card; never when absent.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    expiry_days: Option<u32>,
    /// Whether orders earn stamps now (default true).
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

impl From<&StampCard> for StampCardDto {
    fn from(c: &StampCard) -> Self {
        let (earn_per, skus, categories, min_total) = match &c.earn {
            StampEarning::Item { skus, categories } => {
                (EarnPer::Item, skus.clone(), categories.clone(), None)
            }
            StampEarning::Visit { min_total } => (
                EarnPer::Visit,
                vec![],
                vec![],
                min_total.as_ref().map(MoneyDto::from),
            ),
        };
        StampCardDto {
            code: c.code.clone(),
            name: c.name.clone(),
            stamps_needed: c.stamps_needed,
            earn_per,
            skus,
            categories,
            min_total,
            max_per_order: c.max_per_order,
            reward_id: c.reward.as_uuid(),
            expiry_days: c.expiry_days,
            active: c.active,
        }
    }
}

/// The brand's stamp cards, in the order given.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StampCardsDto {
    /// Every card (at most 10, codes unique); an empty list ends every card. Stamps
    /// customers earned stay stored and return with their card's code.
    cards: Vec<StampCardDto>,
}

fn unprocessable(field: String, message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        message,
        Some(field),
    )
}

/// The card `input` describes, `prefix` naming its place in the body (`cards[1].`).
fn card_from(input: StampCardDto, prefix: &str) -> Result<StampCard, ApiError> {
    let earn = match input.earn_per {
        EarnPer::Item => {
            if input.min_total.is_some() {
                return Err(unprocessable(
                    format!("{prefix}min_total"),
                    "min_total applies to earn_per: visit only",
                ));
            }
            StampEarning::Item {
                skus: input.skus,
                categories: input.categories,
            }
        }
        EarnPer::Visit => {
            if !input.skus.is_empty() || !input.categories.is_empty() {
                return Err(unprocessable(
                    format!("{prefix}skus"),
                    "skus and categories apply to earn_per: item only",
                ));
            }
            let min_total = match input.min_total {
                None => None,
                Some(m) => {
                    let field = || format!("{prefix}min_total");
                    let amount = Decimal::from_str(m.amount.trim()).map_err(|_| {
                        unprocessable(field(), "min_total.amount must be a decimal number")
                    })?;
                    let currency = Currency::from_str(&m.currency)
                        .map_err(|e| unprocessable(field(), e.to_string()))?;
                    Some(
                        Money::new(amount, currency)
                            .map_err(|e| unprocessable(field(), e.to_string()))?,
                    )
                }
            };
            StampEarning::Visit { min_total }
        }
    };
    Ok(StampCard {
        code: input.code,
        name: input.name,
        stamps_needed: input.stamps_needed,
        earn,
        max_per_order: input.max_per_order,
        reward: RewardId::from_uuid(input.reward_id),
        expiry_days: input.expiry_days,
        active: input.active,
    })
}

/// A stamp card use case's error, its field named by its place in the body.
fn cards_error(error: StampCardsError) -> ApiError {
    match &error {
        StampCardsError::Invalid(e) => {
            let field = match e.field {
                "reward" => "reward_id",
                other => other,
            };
            let field = match e.index {
                Some(i) => format!("cards[{i}].{field}"),
                None => field.to_owned(),
            };
            unprocessable(field.clone(), format!("{field}: {}", e.reason))
        }
        StampCardsError::UnknownReward { index, .. } => {
            unprocessable(format!("cards[{index}].reward_id"), error.to_string())
        }
        _ => ApiError::from(error),
    }
}

/// The brand's stamp cards.
#[utoipa::path(get, path = "/v1/stamp-cards", tag = "stamps", security(("api_key" = [])),
    responses((status = 200, body = StampCardsDto)))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let cards = state.services.stamp_cards(caller.reader()?).await?;
    Ok(HttpResponse::Ok().json(StampCardsDto {
        cards: cards.iter().map(StampCardDto::from).collect(),
    }))
}

/// Replaces the brand's stamp cards (admin only). The list is checked as a whole: on
/// any error nothing is written and the answer names the card and field
/// (`cards[1].stamps_needed`).
#[utoipa::path(put, path = "/v1/stamp-cards", tag = "stamps", security(("api_key" = [])), request_body = StampCardsDto,
    responses((status = 200, body = StampCardsDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "A card is invalid, a code repeats or a reward is not in the catalogue; `field` names it, e.g. `cards[1].stamps_needed`.", body = ErrorBody)))]
pub(crate) async fn put(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<StampCardsDto>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let mut cards = Vec::with_capacity(body.0.cards.len());
    for (index, input) in body.0.cards.into_iter().enumerate() {
        cards.push(card_from(input, &format!("cards[{index}]."))?);
    }
    let cards = state
        .services
        .put_stamp_cards(brand, cards)
        .await
        .map_err(cards_error)?;
    Ok(HttpResponse::Ok().json(StampCardsDto {
        cards: cards.iter().map(StampCardDto::from).collect(),
    }))
}
