//! The till's staff members and devices (admin only). Staff sign in at `/till/` with a
//! PIN on a device enrolled for their location; see docs/till.md.

use crate::AppState;
use crate::auth::Caller;
use crate::body::Json;
use crate::dto::rfc3339;
use crate::error::{ApiError, ErrorBody};
use crate::paging::{Page, PageQuery};
use crate::routes::id;
use actix_web::{HttpResponse, web};
use regulars_domain::{DeviceId, LocationId, StaffId};
use regulars_service::{DeviceInfo, StaffInfo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A staff member (never their PIN).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffDto {
    /// Their id.
    pub id: Uuid,
    /// The one location whose tills they may use.
    pub location_id: Uuid,
    /// Their name.
    pub name: String,
    /// Whether wrong PINs locked them out (a new PIN unlocks).
    pub locked: bool,
    /// When they were added.
    pub created_at: String,
    /// When they were removed.
    pub revoked_at: Option<String>,
}

impl From<&StaffInfo> for StaffDto {
    fn from(s: &StaffInfo) -> Self {
        StaffDto {
            id: s.id.as_uuid(),
            location_id: s.location_id.as_uuid(),
            name: s.name.clone(),
            locked: s.locked,
            created_at: rfc3339(s.created_at),
            revoked_at: s.revoked_at.map(rfc3339),
        }
    }
}

/// A new staff member.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffIn {
    /// Their location.
    pub location_id: Uuid,
    /// Their name, as the till's sign-in list shows it.
    pub name: String,
    /// 4 to 6 digits.
    #[schema(example = "2468")]
    pub pin: String,
}

/// A new PIN (also lifts a lock-out).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinIn {
    /// 4 to 6 digits.
    #[schema(example = "1357")]
    pub pin: String,
}

/// A till device (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeviceDto {
    /// Its id.
    pub id: Uuid,
    /// The location it is the till of.
    pub location_id: Uuid,
    /// A note for people.
    pub label: Option<String>,
    /// Whether wrong PINs locked it out (enrol a new device to replace it).
    pub locked: bool,
    /// When it was enrolled.
    pub created_at: String,
    /// When it was revoked.
    pub revoked_at: Option<String>,
}

impl From<&DeviceInfo> for DeviceDto {
    fn from(d: &DeviceInfo) -> Self {
        DeviceDto {
            id: d.id.as_uuid(),
            location_id: d.location_id.as_uuid(),
            label: d.label.clone(),
            locked: d.locked,
            created_at: rfc3339(d.created_at),
            revoked_at: d.revoked_at.map(rfc3339),
        }
    }
}

/// A device to enrol.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceIn {
    /// The location it will be the till of.
    pub location_id: Uuid,
    /// A note for people ("counter tablet").
    #[serde(default)]
    pub label: Option<String>,
}

/// A device just enrolled: paste `token` into `/till/` on the device (shown this once).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnrolledDeviceDto {
    /// The device.
    pub device: DeviceDto,
    /// The device token.
    pub token: String,
}

/// The brand's staff members.
#[utoipa::path(get, path = "/v1/staff", tag = "till", security(("api_key" = [])), params(PageQuery),
    responses((status = 200, body = Page<StaffDto>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn list_staff(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let staff = state.services.staff(brand).await?;
    let items = staff.iter().map(StaffDto::from).collect();
    Ok(HttpResponse::Ok().json(query.page_loaded(items, |s| s.id.to_string())?))
}

/// Adds a staff member to one location, with a PIN.
#[utoipa::path(post, path = "/v1/staff", tag = "till", security(("api_key" = [])), request_body = StaffIn,
    responses((status = 201, body = StaffDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn add_staff(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<StaffIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let input = body.0;
    let created = state
        .services
        .add_staff(
            brand,
            LocationId::from_uuid(input.location_id),
            &input.name,
            &input.pin,
        )
        .await?;
    Ok(HttpResponse::Created().json(StaffDto::from(&created)))
}

/// Sets a staff member's PIN; unlocks them.
#[utoipa::path(put, path = "/v1/staff/{id}/pin", tag = "till", security(("api_key" = [])),
    params(("id" = String, Path, description = "Staff member id")), request_body = PinIn,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn set_pin(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Json<PinIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let staff: StaffId = id(&path, "staff")?;
    state
        .services
        .set_staff_pin(brand, staff, &body.0.pin)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes a staff member: their PIN opens nothing from now on.
#[utoipa::path(delete, path = "/v1/staff/{id}", tag = "till", security(("api_key" = [])),
    params(("id" = String, Path, description = "Staff member id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn remove_staff(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let staff: StaffId = id(&path, "staff")?;
    state.services.remove_staff(brand, staff).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The brand's till devices.
#[utoipa::path(get, path = "/v1/till-devices", tag = "till", security(("api_key" = [])), params(PageQuery),
    responses((status = 200, body = Page<DeviceDto>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn list_devices(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let devices = state.services.till_devices(brand).await?;
    let items = devices.iter().map(DeviceDto::from).collect();
    Ok(HttpResponse::Ok().json(query.page_loaded(items, |d| d.id.to_string())?))
}

/// Enrols a till device for a location; the token is shown this once.
#[utoipa::path(post, path = "/v1/till-devices", tag = "till", security(("api_key" = [])), request_body = DeviceIn,
    responses((status = 201, body = EnrolledDeviceDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn enrol_device(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<DeviceIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let input = body.0;
    let enrolled = state
        .services
        .enrol_till_device(brand, LocationId::from_uuid(input.location_id), input.label)
        .await?;
    Ok(HttpResponse::Created().json(EnrolledDeviceDto {
        device: DeviceDto::from(&enrolled.info),
        token: enrolled.token,
    }))
}

/// Revokes a till device.
#[utoipa::path(delete, path = "/v1/till-devices/{id}", tag = "till", security(("api_key" = [])),
    params(("id" = String, Path, description = "Device id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn revoke_device(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let device: DeviceId = id(&path, "device")?;
    state.services.revoke_till_device(brand, device).await?;
    Ok(HttpResponse::NoContent().finish())
}
