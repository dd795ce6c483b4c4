//! When a message goes: the campaign's send time, moved into the allowed hours for a
//! promotional message, with instants that saturate at the supported dates.

use super::CustomerFacts;
use crate::campaign::{Campaign, SendTime};
use crate::policy::Policy;
use time::{Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// When `c`'s message goes: the campaign's send time, moved into the policy's allowed
/// hours for a promotional message.
pub(super) fn send_time(
    campaign: &Campaign,
    policy: &Policy,
    promotional: bool,
    c: &CustomerFacts,
    now: OffsetDateTime,
) -> OffsetDateTime {
    let offset = campaign.utc_offset;
    let send_at = match campaign.send_time {
        SendTime::Now => now,
        SendTime::FixedHour { hour } => at_local_hour(now, offset, hour),
        SendTime::PreferredHour { fallback_hour } => {
            match c.preferred_hour.filter(|h| *h < 24).or(fallback_hour) {
                Some(hour) => at_local_hour(now, offset, hour),
                None => now,
            }
        }
    };
    match policy.allowed_hours {
        Some(window) if promotional && !window.contains(send_at.to_offset(offset).hour()) => {
            at_local_hour(send_at, offset, window.start_hour)
        }
        _ => send_at,
    }
}

/// `t + span`, or the last supported instant when that is beyond it.
pub fn shift(t: OffsetDateTime, span: Duration) -> OffsetDateTime {
    t.checked_add(span)
        .unwrap_or_else(|| PrimitiveDateTime::MAX.assume_offset(t.offset()))
}

/// `t - span`, or the first supported instant when that is before it.
pub fn shift_back(t: OffsetDateTime, span: Duration) -> OffsetDateTime {
    t.checked_sub(span)
        .unwrap_or_else(|| PrimitiveDateTime::MIN.assume_offset(t.offset()))
}

/// The next `hour` o'clock on the wall clock of `offset` at or after `t`.
fn at_local_hour(t: OffsetDateTime, offset: UtcOffset, hour: u8) -> OffsetDateTime {
    let local = t.to_offset(offset);
    let time = Time::from_hms(hour.min(23), 0, 0).unwrap_or(Time::MIDNIGHT);
    let at = local.replace_time(time);
    if at < local {
        shift(at, Duration::DAY)
    } else {
        at
    }
}
