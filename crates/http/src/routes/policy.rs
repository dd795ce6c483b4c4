//! The brand's legal policy for promotional messages: read by any key, set by an admin.
//! Campaigns may only tighten it (see `docs/campaigns.md`).

use crate::AppState;
use crate::auth::Caller;
use crate::body::Json;
use crate::error::{ApiError, ErrorBody};
use actix_web::{HttpResponse, web};
use regulars_campaigns::{AllowedHours, Policy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The legal rules for promotional messages (Vietnam's Decree 91/2020 by default: `[QC] `
/// prefix, 3 per phone number in 24 hours, 07:00 to 22:00 local time). Transactional
/// messages are exempt; a campaign with an offer is promotional whatever its trigger.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyDto {
    /// Put before every promotional message, at most 32 bytes.
    #[schema(example = "[QC] ")]
    promotional_prefix: String,
    /// Most promotional messages per phone number in any `cap_window_hours`; `null` for
    /// no cap.
    #[schema(required = true, minimum = 1)]
    max_per_phone: Option<u32>,
    /// The cap's rolling window in hours, 1 to 8760.
    #[schema(minimum = 1, maximum = 8760)]
    cap_window_hours: u32,
    /// Local hours promotional messages may go out in; `null` for any time.
    #[schema(required = true)]
    allowed_hours: Option<HoursDto>,
    /// The line every promotional message ends with, telling how to refuse further
    /// ones (Decree 91/2020); `{link}` is the customer's own opt-out link (`/u/…`).
    /// Empty for none; at most 160 bytes on one line. Left out: the default.
    #[serde(default = "default_opt_out")]
    #[schema(example = "Tu choi QC: {link}", max_length = 160)]
    opt_out_instruction: String,
    /// Whether a customer never asked about profiling may be profiled (segment-targeted
    /// campaigns, personalised offers): what the brand's counsel says the law allows.
    /// Left out: `false` (silence is not consent). A withdrawal always wins.
    #[serde(default)]
    profiling_default: bool,
    /// Words a customer may text the brand's Zalo Official Account to refuse its
    /// promotional Zalo messages, besides the ones every brand takes (`HUY`, `TU CHOI`,
    /// `HUY DANG KY`, `STOP`, `TC`); compared without Vietnamese marks, case,
    /// punctuation or extra spaces. At most 20, each at most 40 bytes. Left out (and
    /// not shown when the brand added none): none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(example = json!(["Ngừng nhận tin"]))]
    opt_out_keywords: Vec<String>,
}

fn default_opt_out() -> String {
    regulars_domain::DEFAULT_OPT_OUT_INSTRUCTION.to_owned()
}

/// A daily window of local time, `[start_hour:00, end_hour:00)`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HoursDto {
    /// First allowed hour, 0 to 23.
    #[schema(maximum = 23)]
    start_hour: u8,
    /// First hour no longer allowed, after `start_hour`, at most 24.
    #[schema(minimum = 1, maximum = 24)]
    end_hour: u8,
}

impl From<&Policy> for PolicyDto {
    fn from(p: &Policy) -> Self {
        PolicyDto {
            promotional_prefix: p.promotional_prefix.clone(),
            max_per_phone: p.max_per_phone,
            cap_window_hours: p.cap_window_hours,
            allowed_hours: p.allowed_hours.map(|h| HoursDto {
                start_hour: h.start_hour,
                end_hour: h.end_hour,
            }),
            opt_out_instruction: p.opt_out_instruction.clone(),
            profiling_default: p.profiling_default,
            opt_out_keywords: p.opt_out_keywords.clone(),
        }
    }
}

impl From<PolicyDto> for Policy {
    fn from(p: PolicyDto) -> Self {
        Policy {
            promotional_prefix: p.promotional_prefix,
            max_per_phone: p.max_per_phone,
            cap_window_hours: p.cap_window_hours,
            allowed_hours: p.allowed_hours.map(|h| AllowedHours {
                start_hour: h.start_hour,
                end_hour: h.end_hour,
            }),
            opt_out_instruction: p.opt_out_instruction,
            profiling_default: p.profiling_default,
            opt_out_keywords: p.opt_out_keywords,
        }
    }
}

/// The brand's legal policy for promotional messages.
#[utoipa::path(get, path = "/v1/brand/policy", tag = "brand", security(("api_key" = [])),
    responses((status = 200, body = PolicyDto)))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let policy = state.services.messaging_policy(caller.reader()?).await?;
    Ok(HttpResponse::Ok().json(PolicyDto::from(&policy)))
}

/// Sets the brand's legal policy for promotional messages (admin). Every campaign is
/// planned under it from its next run; a campaign may only tighten it.
#[utoipa::path(put, path = "/v1/brand/policy", tag = "brand", security(("api_key" = [])), request_body = PolicyDto,
    responses((status = 200, body = PolicyDto), (status = 422, body = ErrorBody)))]
pub(crate) async fn put(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<PolicyDto>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let policy = state
        .services
        .set_messaging_policy(brand, Policy::from(body.0))
        .await
        .map_err(super::campaigns::document_error)?;
    Ok(HttpResponse::Ok().json(PolicyDto::from(&policy)))
}
