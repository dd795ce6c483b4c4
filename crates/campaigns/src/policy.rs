//! The legal rules for promotional messages, by default Vietnam's Decree 91/2020/ND-CP.
//!
//! The [`Policy`] is a brand setting; a campaign may only tighten it with
//! [`PolicyLimits`] (narrower hours, a lower cap over a longer window, a longer prefix),
//! never relax it.
//!
//! Decree 91 on spam messages: at most 3 advertising messages to one phone number in
//! 24 hours, sent only between 07:00 and 22:00 local time, marked `[QC]` (quảng cáo),
//! and never to a subscriber who refused them. Transactional messages (receipts, balance
//! notices) are exempt. Every advertising message also tells how to refuse further ones:
//! the brand's opt-out instruction ends it. Other countries set other numbers, or none.

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
    /// The line every promotional message ends with, telling how to refuse further ones
    /// (`{link}` is the customer's own opt-out link); none when empty. A campaign cannot
    /// change it.
    #[serde(default = "default_opt_out")]
    pub opt_out_instruction: String,
    /// Whether a customer never asked about profiling may be profiled (segment
    /// targeting, personalised offers): what the brand's counsel says the law allows
    /// without asking. `false` (silence is not consent) unless the brand sets it; a
    /// withdrawal always wins. A campaign cannot change it.
    #[serde(default)]
    pub profiling_default: bool,
    /// Words a customer may text the brand's channel (its Zalo Official Account) to
    /// refuse promotional messages there, taken besides
    /// [`regulars_domain::DEFAULT_OPT_OUT_KEYWORDS`], which cannot be configured away.
    /// Compared without Vietnamese marks, case, punctuation or extra spaces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opt_out_keywords: Vec<String>,
}

/// Most opt-out keywords a brand may add.
pub const MAX_OPT_OUT_KEYWORDS: usize = 20;
/// Longest opt-out keyword, in bytes.
pub const MAX_OPT_OUT_KEYWORD_BYTES: usize = 40;

/// Longest opt-out instruction, in bytes.
pub const MAX_OPT_OUT_BYTES: usize = 160;

fn default_opt_out() -> String {
    regulars_domain::DEFAULT_OPT_OUT_INSTRUCTION.to_owned()
}

/// The longest window of a cap: 31 days, the bound of every span a campaign states.
/// Longer windows only make the planner read more history.
pub const MAX_CAP_WINDOW_HOURS: u32 = crate::campaign::MAX_SPAN_HOURS;

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
            opt_out_instruction: default_opt_out(),
            profiling_default: false,
            opt_out_keywords: Vec::new(),
        }
    }

    /// No legal limits beyond opt-outs (for countries without such rules).
    pub fn unrestricted() -> Policy {
        Policy {
            promotional_prefix: String::new(),
            max_per_phone: None,
            cap_window_hours: 24,
            allowed_hours: None,
            opt_out_instruction: String::new(),
            profiling_default: false,
            opt_out_keywords: Vec::new(),
        }
    }

    /// Checks ranges; the error names the field and the problem.
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if !(1..=MAX_CAP_WINDOW_HOURS).contains(&self.cap_window_hours) {
            return Err(("cap_window_hours", "must be 1 to 744 (31 days)"));
        }
        if self.promotional_prefix.len() > 32 {
            return Err(("promotional_prefix", "must be at most 32 bytes"));
        }
        if self.opt_out_instruction.len() > MAX_OPT_OUT_BYTES
            || self.opt_out_instruction.chars().any(char::is_control)
        {
            return Err((
                "opt_out_instruction",
                "must be at most 160 bytes on one line",
            ));
        }
        if self.opt_out_keywords.len() > MAX_OPT_OUT_KEYWORDS
            || self.opt_out_keywords.iter().any(|k| {
                k.len() > MAX_OPT_OUT_KEYWORD_BYTES
                    || regulars_domain::normalize_keyword(k).is_empty()
            })
        {
            return Err((
                "opt_out_keywords",
                "at most 20 words, each 1 to 40 bytes with a letter or digit",
            ));
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

/// A campaign's tightenings of its brand's [`Policy`]. A field left out keeps the brand's
/// value; a field that would relax the brand's is refused by [`PolicyLimits::relaxes`],
/// and never applied by [`PolicyLimits::in_force`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyLimits {
    /// A prefix that begins with the brand's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotional_prefix: Option<String>,
    /// At most the brand's cap per phone number. `null` (no cap) is refused when the
    /// brand has one.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_per_phone: Option<Option<u32>>,
    /// At least the brand's window for the cap, in hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_window_hours: Option<u32>,
    /// Hours within the brand's. `null` (any time) is refused when the brand has hours.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub allowed_hours: Option<Option<AllowedHours>>,
}

/// A field given, `null` included: `Some(None)` for `null`, `None` (through
/// `#[serde(default)]`) when left out.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl PolicyLimits {
    /// Checks ranges, as [`Policy::validate`] does; the error names the field.
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        Policy {
            promotional_prefix: self.promotional_prefix.clone().unwrap_or_default(),
            max_per_phone: self.max_per_phone.flatten(),
            cap_window_hours: self.cap_window_hours.unwrap_or(24),
            allowed_hours: self.allowed_hours.flatten(),
            opt_out_instruction: String::new(),
            profiling_default: false,
            opt_out_keywords: Vec::new(),
        }
        .validate()
    }

    /// The first field that would relax `brand`, and why; `None` when every field keeps
    /// or tightens it.
    ///
    /// ```
    /// use regulars_campaigns::{AllowedHours, Policy, PolicyLimits};
    /// let brand = Policy::vietnam_decree_91();
    /// let late = PolicyLimits {
    ///     allowed_hours: Some(Some(AllowedHours { start_hour: 7, end_hour: 23 })),
    ///     ..PolicyLimits::default()
    /// };
    /// assert_eq!(late.relaxes(&brand).map(|(field, _)| field), Some("allowed_hours"));
    /// let narrower = PolicyLimits {
    ///     allowed_hours: Some(Some(AllowedHours { start_hour: 9, end_hour: 20 })),
    ///     ..PolicyLimits::default()
    /// };
    /// assert_eq!(narrower.relaxes(&brand), None);
    /// ```
    pub fn relaxes(&self, brand: &Policy) -> Option<(&'static str, String)> {
        if let Some(prefix) = &self.promotional_prefix
            && !prefix.starts_with(&brand.promotional_prefix)
        {
            return Some((
                "promotional_prefix",
                format!(
                    "must begin with the brand's prefix {:?}",
                    brand.promotional_prefix
                ),
            ));
        }
        if let (Some(mine), Some(max)) = (self.max_per_phone, brand.max_per_phone)
            && mine.is_none_or(|m| m > max)
        {
            return Some((
                "max_per_phone",
                format!("must be at most the brand's {max} (a campaign may only tighten it)"),
            ));
        }
        if let (Some(window), Some(_)) = (self.cap_window_hours, brand.max_per_phone)
            && window < brand.cap_window_hours
        {
            return Some((
                "cap_window_hours",
                format!(
                    "must be at least the brand's {} hours (a campaign may only tighten it)",
                    brand.cap_window_hours
                ),
            ));
        }
        if let (Some(mine), Some(hours)) = (self.allowed_hours, brand.allowed_hours)
            && mine.is_none_or(|h| h.start_hour < hours.start_hour || h.end_hour > hours.end_hour)
        {
            return Some((
                "allowed_hours",
                format!(
                    "must lie within the brand's {:02}:00 to {:02}:00 (a campaign may only \
                     tighten them)",
                    hours.start_hour, hours.end_hour
                ),
            ));
        }
        None
    }

    /// The policy in force: `brand` with every tightening applied and every relaxation
    /// ignored, so it is never looser than `brand` in any respect.
    pub fn in_force(&self, brand: &Policy) -> Policy {
        let promotional_prefix = match &self.promotional_prefix {
            Some(p) if p.starts_with(&brand.promotional_prefix) => p.clone(),
            _ => brand.promotional_prefix.clone(),
        };
        let max_per_phone = match (brand.max_per_phone, self.max_per_phone.flatten()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let cap_window_hours = brand
            .cap_window_hours
            .max(self.cap_window_hours.unwrap_or(0));
        let allowed_hours = match (brand.allowed_hours, self.allowed_hours.flatten()) {
            (Some(b), Some(c)) => {
                let start = b.start_hour.max(c.start_hour);
                let end = b.end_hour.min(c.end_hour);
                if start < end {
                    Some(AllowedHours {
                        start_hour: start,
                        end_hour: end,
                    })
                } else {
                    Some(b)
                }
            }
            (b, c) => b.or(c),
        };
        Policy {
            promotional_prefix,
            max_per_phone,
            cap_window_hours,
            allowed_hours,
            opt_out_instruction: brand.opt_out_instruction.clone(),
            profiling_default: brand.profiling_default,
            opt_out_keywords: brand.opt_out_keywords.clone(),
        }
    }
}

#[cfg(test)]
mod keyword_tests {
    use super::*;

    #[test]
    fn a_brand_adds_keywords_within_bounds_and_campaigns_keep_them() {
        let mut brand = Policy::vietnam_decree_91();
        brand.opt_out_keywords = vec!["Ngừng nhận tin".into()];
        assert_eq!(brand.validate(), Ok(()));
        assert_eq!(
            PolicyLimits::default().in_force(&brand).opt_out_keywords,
            brand.opt_out_keywords
        );
        for bad in [
            vec!["!!".to_owned()],
            vec!["x".repeat(41)],
            vec!["huy".to_owned(); 21],
        ] {
            let policy = Policy {
                opt_out_keywords: bad,
                ..Policy::unrestricted()
            };
            assert_eq!(policy.validate().map_err(|e| e.0), Err("opt_out_keywords"));
        }
        // A stored policy from before keeps reading, and writes as it did.
        let old: Policy =
            serde_json::from_str(r#"{"cap_window_hours": 24}"#).unwrap_or_else(|e| panic!("{e}"));
        assert!(old.opt_out_keywords.is_empty());
        let text = serde_json::to_string(&Policy::unrestricted()).unwrap_or_default();
        assert!(!text.contains("opt_out_keywords"), "{text}");
    }
}
