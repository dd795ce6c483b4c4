//! Customers: register, look up, profile, history, adjustments and redemptions.

use crate::AppState;
use crate::auth::Caller;
use crate::body::{Json, parse_json};
use crate::dto::{
    AdjustmentDto, AdjustmentIn, ConsentDto, ConsentHistoryDto, CustomerDto, CustomerIn,
    CustomerUpdate, ProfileDto, RedemptionIn, VoucherDto,
};
use crate::error::{ApiError, ErrorBody};
use crate::exposure;
use crate::paging::{Page, PageQuery};
use crate::routes::{audit, id, request_key};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use regulars_domain::{ChangeSource, CustomerId, Points, RewardId};
use regulars_ports::Role;
use regulars_ports::{CustomerSort, PersonalData};
use regulars_service::{
    ChangeAuthor, ConsentPatch, CustomerInput, CustomerListRequest, CustomerPatch,
};
use serde::Deserialize;
use serde_json::Value;
use time::Date;
use time::macros::format_description;
use utoipa::IntoParams;
use utoipa::ToSchema;

/// A JSON merge patch (RFC 7396) of a customer's profile: a field left out is kept,
/// `null` clears it, a value sets it. Within `consent`, a channel left out is kept and
/// `null` withdraws it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomerPatchIn {
    /// Name.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    name: Option<Option<String>>,
    /// Birthday, `YYYY-MM-DD`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    birthday: Option<Option<String>>,
    /// Email.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    email: Option<Option<String>>,
    /// Zalo follower id.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    zalo_user_id: Option<Option<String>>,
    /// Consent per channel; `null` withdraws all of it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<ConsentPatchIn>)]
    consent: Option<Option<ConsentPatchIn>>,
}

/// Consent changes per purpose: left out is kept, `null` or `false` withdraws.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsentPatchIn {
    /// Zalo.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>)]
    zalo: Option<Option<bool>>,
    /// SMS.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>)]
    sms: Option<Option<bool>>,
    /// Email.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>)]
    email: Option<Option<bool>>,
    /// Personalised offers and segment targeting.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>)]
    profiling: Option<Option<bool>>,
    /// The loyalty programme itself.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>)]
    programme: Option<Option<bool>>,
    /// The version of the brand's processing notice the customer was shown.
    #[serde(default)]
    #[schema(minimum = 1)]
    notice_version: Option<u32>,
    /// Where the answers were given when not through this key itself (`till`,
    /// `signup`, `import`, `api`, `pos`, `admin`, `dashboard`).
    #[serde(default)]
    source: Option<String>,
}

/// A field that is present, `null` or not: `Some(None)` for `null`; an absent field is
/// `None` through `#[serde(default)]`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

fn birthday(raw: Option<&str>) -> Result<Option<Date>, ApiError> {
    raw.map(|text| {
        Date::parse(text, format_description!("[year]-[month]-[day]"))
            .map_err(|_| ApiError::invalid("birthday", "must be a date, YYYY-MM-DD"))
    })
    .transpose()
}

/// The sources a caller may name for consent it relays; the others are recorded by the
/// system itself (an unsubscribe link, a provider keyword, the carried-over consent).
fn consent_source(raw: Option<&str>) -> Result<Option<ChangeSource>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    match ChangeSource::parse(raw) {
        Some(
            source @ (ChangeSource::Till
            | ChangeSource::Signup
            | ChangeSource::Import
            | ChangeSource::Api
            | ChangeSource::Pos
            | ChangeSource::Admin
            | ChangeSource::Dashboard),
        ) => Ok(Some(source)),
        _ => Err(ApiError::invalid(
            "consent.source",
            "must be one of till, signup, import, api, pos, admin, dashboard",
        )),
    }
}

fn notice_version(v: Option<u32>) -> Result<Option<u32>, ApiError> {
    match v {
        Some(0) => Err(ApiError::invalid(
            "consent.notice_version",
            "must be 1 or more",
        )),
        other => Ok(other),
    }
}

fn profile_input(input: CustomerUpdate) -> Result<CustomerInput, ApiError> {
    let c: ConsentDto = input.consent;
    Ok(CustomerInput {
        name: input.name,
        birthday: birthday(input.birthday.as_deref())?,
        email: input.email,
        zalo_user_id: input.zalo_user_id,
        consent: ConsentPatch {
            zalo: Some(c.zalo),
            sms: Some(c.sms),
            email: Some(c.email),
            profiling: c.profiling,
            programme: c.programme,
        },
        notice_version: notice_version(c.notice_version)?,
        consent_source: consent_source(c.source.as_deref())?,
    })
}

fn patch_input(input: CustomerPatchIn) -> Result<CustomerPatch, ApiError> {
    let birthday = match input.birthday {
        None => None,
        Some(raw) => Some(birthday(raw.as_deref())?),
    };
    let (consent, notice, source) = match input.consent {
        None => (ConsentPatch::default(), None, None),
        // `"consent": null` withdraws every channel.
        Some(None) => (
            ConsentPatch {
                zalo: Some(false),
                sms: Some(false),
                email: Some(false),
                ..ConsentPatch::default()
            },
            None,
            None,
        ),
        Some(Some(c)) => (
            ConsentPatch {
                zalo: c.zalo.map(|v| v.unwrap_or(false)),
                sms: c.sms.map(|v| v.unwrap_or(false)),
                email: c.email.map(|v| v.unwrap_or(false)),
                profiling: c.profiling.map(|v| v.unwrap_or(false)),
                programme: c.programme.map(|v| v.unwrap_or(false)),
            },
            notice_version(c.notice_version)?,
            consent_source(c.source.as_deref())?,
        ),
    };
    Ok(CustomerPatch {
        name: input.name,
        birthday,
        email: input.email,
        zalo_user_id: input.zalo_user_id,
        consent,
        notice_version: notice,
        consent_source: source,
    })
}

/// Who the caller is, for the record kept with a profile change: a `pos` key is the
/// till, any other key the API.
fn author(caller: &Caller) -> ChangeAuthor {
    ChangeAuthor {
        actor: format!("api-key:{}", caller.0.key),
        source: if caller.0.role == Role::Pos {
            ChangeSource::Till
        } else {
            ChangeSource::Api
        },
    }
}

/// What a customer list shows of each customer.
const CONTACT: &[PersonalData] = &[
    PersonalData::Profile,
    PersonalData::Contact,
    PersonalData::Consent,
];

/// What a profile answer shows, for the access log.
fn profile_parts(profile: &ProfileDto) -> Vec<PersonalData> {
    let mut parts = CONTACT.to_vec();
    parts.push(PersonalData::Vouchers);
    if profile.scores.is_some() {
        parts.push(PersonalData::Scores);
    }
    parts
}

/// The profile of `view` with the customer's scores from the last run, if any.
async fn with_scores(
    state: &AppState,
    view: &regulars_service::CustomerView,
) -> Result<ProfileDto, ApiError> {
    let mut profile = ProfileDto::from(view);
    let brand = view.customer.brand_id;
    match state
        .services
        .customer_scores(brand, view.customer.id)
        .await
    {
        Ok(scores) => {
            let currency = view.stats.spend.currency();
            profile.scores = Some(crate::dto::ScoresDto::new(&scores, currency));
        }
        Err(regulars_service::SegmentError::UnknownCustomer(_)) => {}
        Err(other) => return Err(other.into()),
    }
    Ok(profile)
}

/// The query of the customer list: a page, and the customers of one location or of one
/// segment.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct CustomersQuery {
    /// Items per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u64>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// Customers with at least one order at this location (its id). A manager's key
    /// lists the customers of its locations, and is refused (403) another location.
    location: Option<String>,
    /// Customers the last scoring run put in this segment (named or custom).
    segment: Option<String>,
}

/// A page of customers, by id: the brand's, or (a manager's key, or `location`) those
/// with an order at the locations asked for; `segment` keeps those of a segment.
#[utoipa::path(get, path = "/v1/customers", tag = "customers", security(("api_key" = [])), params(CustomersQuery),
    responses((status = 200, body = Page<CustomerDto>), (status = 400, body = ErrorBody),
        (status = 403, description = "A location the key does not cover.", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<CustomersQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageQuery {
        limit: query.limit,
        after: query.after.clone(),
    };
    let after: Option<CustomerId> = page.after()?;
    let limit = page.limit();
    let (brand, scope) = caller.scoped(super::reports::location(&query.location)?)?;
    let customers = if scope.is_brand() && query.segment.is_none() {
        state.services.customers(brand, after, limit).await?
    } else {
        let request = CustomerListRequest {
            segment: query.segment.clone(),
            name: None,
            sort: CustomerSort::Id,
            descending: false,
            after,
            offset: 0,
            limit,
        };
        state
            .services
            .customer_list(brand, &scope, &request)
            .await?
            .into_iter()
            .map(|row| row.customer)
            .collect()
    };
    let ids: Vec<CustomerId> = customers.iter().map(|c| c.id).collect();
    audit::record(&state, &caller, "GET /v1/customers", CONTACT, &ids).await?;
    let items: Vec<CustomerDto> = customers
        .iter()
        .map(|c| exposure::customer(&caller, CustomerDto::from(c)))
        .collect();
    Ok(HttpResponse::Ok().json(Page::of(items, limit, |c| c.id.to_string())))
}

/// Registers a customer by phone.
#[utoipa::path(post, path = "/v1/customers", tag = "customers", security(("api_key" = [])), request_body = CustomerIn,
    responses((status = 201, body = CustomerDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CustomerIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.till()?;
    let input = body.0;
    let profile = profile_input(CustomerUpdate {
        name: input.name,
        birthday: input.birthday,
        email: input.email,
        zalo_user_id: input.zalo_user_id,
        consent: input.consent,
    })?;
    let customer = state
        .services
        .create_customer(brand, &input.phone, profile, &author(&caller))
        .await?;
    Ok(HttpResponse::Created().json(CustomerDto::from(&customer)))
}

/// The phone to look a customer up by.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct LookupQuery {
    /// The phone in any common form.
    phone: String,
}

/// Looks a customer up by phone, as the till does.
#[utoipa::path(get, path = "/v1/customers/lookup", tag = "customers", security(("api_key" = [])), params(LookupQuery),
    responses((status = 200, body = ProfileDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn lookup(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<LookupQuery>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .customer_lookup(caller.reader()?, &query.phone)
        .await?;
    let profile = with_scores(&state, &view).await?;
    let route = "GET /v1/customers/lookup";
    audit::record(
        &state,
        &caller,
        route,
        &profile_parts(&profile),
        &[view.customer.id],
    )
    .await?;
    Ok(HttpResponse::Ok().json(exposure::profile(&caller, profile)))
}

/// A customer's profile: balance, tier, vouchers, what they can redeem. A manager's
/// key is shown the visits and spend at its locations; points, tier and vouchers are
/// the customer's, whole.
#[utoipa::path(get, path = "/v1/customers/{id}", tag = "customers", security(("api_key" = [])),
    params(("id" = String, Path)), responses((status = 200, body = ProfileDto), (status = 404, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub(crate) async fn profile(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let customer: CustomerId = id(&path, "customer")?;
    // A manager's key reads the customers of its locations; any other is not found.
    let (brand, scope) = caller.scoped(None)?;
    state
        .services
        .customer_in_scope(brand, &scope, customer)
        .await?;
    let mut view = state.services.customer_view(brand, customer).await?;
    // Visits and spend are the shops': a manager's are counted at its locations only.
    view.stats = state
        .services
        .customer_stats_in(brand, &scope, view.stats)
        .await?;
    let profile = with_scores(&state, &view).await?;
    let route = "GET /v1/customers/{id}";
    audit::record(
        &state,
        &caller,
        route,
        &profile_parts(&profile),
        &[customer],
    )
    .await?;
    Ok(HttpResponse::Ok().json(exposure::profile(&caller, profile)))
}

/// Replaces a customer's whole profile (the phone stays): every field is required and
/// `null` clears one. Contact details, consent and birthday are the customer's own: only
/// an admin key may replace them.
#[utoipa::path(put, path = "/v1/customers/{id}", tag = "customers", security(("api_key" = [])), request_body = CustomerUpdate,
    params(("id" = String, Path)), responses((status = 200, body = CustomerDto), (status = 404, body = ErrorBody),
        (status = 403, description = "Not an admin key.", body = ErrorBody),
        (status = 422, description = "A field is missing or invalid.", body = ErrorBody)))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.require(&[Role::Admin]).map_err(|_| {
        ApiError::forbidden(
            "only an admin key may replace a customer's contact details, consent or birthday",
        )
    })?;
    let customer: CustomerId = id(&path, "customer")?;
    let document = whole_document(body.0)?;
    let profile = profile_input(document)?;
    let updated = state
        .services
        .update_customer(brand, customer, profile, &author(&caller))
        .await?;
    Ok(HttpResponse::Ok().json(CustomerDto::from(&updated)))
}

/// A `PUT` body as a whole profile: a missing field is 422 naming every missing one.
fn whole_document(body: Value) -> Result<CustomerUpdate, ApiError> {
    let Value::Object(fields) = &body else {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    };
    let missing: Vec<&str> = CustomerUpdate::FIELDS
        .into_iter()
        .filter(|f| !fields.contains_key(*f))
        .collect();
    if let Some(first) = missing.first() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!(
                "missing {}: PUT replaces the whole profile (send null to clear a field); \
                 PATCH changes only the fields it names",
                missing.join(", ")
            ),
            Some((*first).to_owned()),
        ));
    }
    let bytes = serde_json::to_vec(&body).map_err(|e| ApiError::invalid("body", e.to_string()))?;
    parse_json(&bytes)
}

/// Changes the profile fields named, as a JSON merge patch (RFC 7396): a field left out
/// is kept, `null` clears it. A `pos` key may change the name only: contact details,
/// consent and birthday need an admin key.
#[utoipa::path(patch, path = "/v1/customers/{id}", tag = "customers", security(("api_key" = [])),
    request_body(content((CustomerPatchIn = "application/merge-patch+json"), (CustomerPatchIn = "application/json"))),
    params(("id" = String, Path)), responses((status = 200, body = CustomerDto), (status = 404, body = ErrorBody),
        (status = 403, description = "A `pos` key naming contact details, consent or birthday, or a viewer key.", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn patch(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Json<CustomerPatchIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.till()?;
    let customer: CustomerId = id(&path, "customer")?;
    let patch = patch_input(body.0)?;
    let guarded = patch.guarded_fields();
    if caller.0.role != Role::Admin && !guarded.is_empty() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "only an admin key may change a customer's {}",
                guarded.join(", ")
            ),
            guarded.first().map(|f| (*f).to_owned()),
        ));
    }
    let updated = state
        .services
        .patch_customer(brand, customer, patch, &author(&caller))
        .await?;
    Ok(HttpResponse::Ok().json(CustomerDto::from(&updated)))
}

/// The customer's consent per purpose now, and every change of it with its time,
/// source and the notice version shown.
#[utoipa::path(get, path = "/v1/customers/{id}/consents", tag = "customers", security(("api_key" = [])),
    params(("id" = String, Path)), responses((status = 200, body = ConsentHistoryDto), (status = 404, body = ErrorBody)))]
pub(crate) async fn consents(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let customer: CustomerId = id(&path, "customer")?;
    let (found, history) = state
        .services
        .consent_history(caller.reader()?, customer)
        .await?;
    Ok(HttpResponse::Ok().json(ConsentHistoryDto::new(&found.consent, &history)))
}

/// An audited manual correction of the customer's points (admin).
#[utoipa::path(post, path = "/v1/customers/{id}/adjustments", tag = "customers", security(("api_key" = [])), request_body = AdjustmentIn,
    params(("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key with the same request answers the first response without adjusting again; with another request, 422. 1 to 255 visible ASCII characters, remembered for 48 hours per API key.")),
    responses((status = 201, body = AdjustmentDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 409, description = "A deduction larger than the points available.", body = ErrorBody)))]
pub(crate) async fn adjust(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    body: Json<AdjustmentIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let customer: CustomerId = id(&path, "customer")?;
    let points = body.0.points.to_string();
    let request = request_key(
        &req,
        &caller,
        &[
            b"adjustments",
            path.as_bytes(),
            points.as_bytes(),
            body.0.reason.as_bytes(),
        ],
    )?;
    let actor = format!("api-key:{}", caller.0.key);
    let receipt = state
        .services
        .adjust_points_keyed(
            brand,
            customer,
            Points::new(body.0.points),
            &body.0.reason,
            &actor,
            request.as_ref(),
        )
        .await?;
    Ok(HttpResponse::Created().json(AdjustmentDto::from(&receipt)))
}

/// Spends points on a catalogue reward; answers with the voucher issued.
#[utoipa::path(post, path = "/v1/customers/{id}/redemptions", tag = "customers", security(("api_key" = [])), request_body = RedemptionIn,
    params(("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key with the same request answers the first voucher without spending again; with another request, 422. 1 to 255 visible ASCII characters, remembered for 48 hours per API key.")),
    responses((status = 201, body = VoucherDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn redeem_reward(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    body: Json<RedemptionIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.till()?;
    let customer: CustomerId = id(&path, "customer")?;
    let reward = body.0.reward_id.to_string();
    let request = request_key(
        &req,
        &caller,
        &[b"redemptions", path.as_bytes(), reward.as_bytes()],
    )?;
    let voucher = state
        .services
        .redeem_reward_keyed(
            brand,
            customer,
            RewardId::from_uuid(body.0.reward_id),
            request.as_ref(),
        )
        .await?;
    Ok(HttpResponse::Created().json(VoucherDto::from(&voucher)))
}
