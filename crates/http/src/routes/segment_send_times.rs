//! Each RFM segment's golden hour: the local hour to message a member who has no
//! preferred hour of their own, as the last scoring run learned it.

use crate::AppState;
use crate::auth::Caller;
use crate::dto::rfc3339;
use crate::error::{ApiError, ErrorBody};
use actix_web::{HttpResponse, web};
use regulars_ports::SegmentSendTime;
use serde::Serialize;
use utoipa::ToSchema;

/// One RFM segment's golden hour.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SegmentSendTimeDto {
    /// The RFM segment, e.g. `Loyal`.
    segment: String,
    /// The best local hour (0–23, the brand's time zone) to message a member without a
    /// preferred hour of their own.
    golden_hour: Option<u8>,
    /// The best local weekday likewise, Monday = 0.
    golden_weekday: Option<u8>,
    /// Members with any visit, click or open counted in the pattern.
    members: u64,
    /// `true` when the hour is the segment's own pattern; `false` while the segment is
    /// too small to speak for its members and the brand's pattern stands in.
    own_pattern: bool,
    /// The share of each local hour 0–23 in the pattern its members are pulled towards
    /// (sums to 1).
    hours: Vec<f64>,
    /// When the scoring run learned it (RFC 3339).
    scored_at: String,
}

impl From<&SegmentSendTime> for SegmentSendTimeDto {
    fn from(s: &SegmentSendTime) -> Self {
        SegmentSendTimeDto {
            segment: s.segment.clone(),
            golden_hour: s.golden_hour,
            golden_weekday: s.golden_weekday,
            members: s.members,
            own_pattern: s.own_pattern,
            hours: s.hours.clone(),
            scored_at: rfc3339(s.scored_at),
        }
    }
}

/// The brand's golden hour and each RFM segment's.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SendTimesDto {
    /// The brand's golden hour (local, 0–23); `null` before the first scoring run.
    brand_golden_hour: Option<u8>,
    /// Each RFM segment's, by name; empty before the first scoring run.
    items: Vec<SegmentSendTimeDto>,
}

/// The best hour to message each RFM segment, learned by the last scoring run from its
/// members' visits, clicks and opens.
#[utoipa::path(get, path = "/v1/segments/send-times", tag = "segments", security(("api_key" = [])),
    responses((status = 200, body = SendTimesDto), (status = 404, body = ErrorBody)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let found = state.services.segment_send_times(caller.reader()?).await?;
    Ok(HttpResponse::Ok().json(SendTimesDto {
        brand_golden_hour: found.brand_golden_hour,
        items: found
            .segments
            .iter()
            .map(SegmentSendTimeDto::from)
            .collect(),
    }))
}
