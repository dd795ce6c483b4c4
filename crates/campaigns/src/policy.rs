//! The legal rules for promotional messages, by default Vietnam's Decree 91/2020/ND-CP.
//!
//! Decree 91 on spam messages: at most 3 advertising messages to one phone number in
//! 24 hours, sent only between 07:00 and 22:00 local time, marked `[QC]` (quảng cáo),
//! and never to a subscriber who refused them. Transactional messages (receipts, balance
//! notices) are exempt. Other countries set other numbers, or none.

use serde::{Deserialize, Serialize};

/// Limits on promotional messages. Opt-outs are always honoured and cannot be configured
/// away; transactional messages are exempt from everything here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Text put before every promotional message (`"[QC] "` in Vietnam).
    #[serde(default)]
    pub promotional_prefix: String,
    /// Most promotional messages per phone number in any `cap_window_hours`; no cap when
    /// absent.
    #[serde(default)]
    pub max_per_phone: Option<u32>,
    /// Length of the rolling window of `max_per_phone`, in hours.
    #[serde(default = "default_window")]
    pub cap_window_hours: u32,
    /// Local hours in which promotional messages may be sent; any time when absent.
    #[serde(default)]
    pub allowed_hours: Option<AllowedHours>,
}

fn default_window() -> u32 {
    24
}

/// A daily window of local time, `[start_hour:00, end_hour:00)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowedHours {
    /// First allowed hour, 0–23.
    pub start_hour: u8,
    /// First hour no longer allowed, `start_hour + 1` to 24.
    pub end_hour: u8,
}

impl AllowedHours {
    /// Whether a local hour is inside the window.
    pub fn contains(&self, hour: u8) -> bool {
        (self.start_hour..self.end_hour).contains(&hour)
    }
}

impl Policy {
    /// Vietnam, Decree 91/2020: `[QC] ` prefix, 3 per phone in 24 h, 07:00–22:00.
    ///
    /// ```
    /// use regulars_campaigns::Policy;
    /// let p = Policy::vietnam_decree_91();
    /// assert_eq!(p.max_per_phone, Some(3));
    /// assert!(p.allowed_hours.is_some_and(|h| h.contains(7) && h.contains(21) && !h.contains(22)));
    /// ```
    pub fn vietnam_decree_91() -> Policy {
        Policy {
            promotional_prefix: "[QC] ".into(),
            max_per_phone: Some(3),
            cap_window_hours: 24,
            allowed_hours: Some(AllowedHours {
                start_hour: 7,
                end_hour: 22,
            }),
        }
    }

    /// No legal limits beyond opt-outs (for countries without such rules).
    pub fn unrestricted() -> Policy {
        Policy {
            promotional_prefix: String::new(),
            max_per_phone: None,
            cap_window_hours: 24,
            allowed_hours: None,
        }
    }

    /// Checks ranges; the error names the field and the problem.
    pub(crate) fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if !(1..=crate::campaign::MAX_SPAN_HOURS).contains(&self.cap_window_hours) {
            return Err(("cap_window_hours", "must be 1 to 744 (31 days)"));
        }
        if self.max_per_phone == Some(0) {
            return Err(("max_per_phone", "must be at least 1 (absent means no cap)"));
        }
        if let Some(h) = self.allowed_hours
            && !(h.start_hour < h.end_hour && h.end_hour <= 24)
        {
            return Err((
                "allowed_hours",
                "start_hour must be before end_hour, end_hour at most 24",
            ));
        }
        Ok(())
    }
}

impl Default for Policy {
    /// [`Policy::vietnam_decree_91`].
    fn default() -> Policy {
        Policy::vietnam_decree_91()
    }
}
