//! Send time: the local hour and weekday a customer is most likely to respond.
//!
//! A customer's [`SendTimeProfile`] is a weighted histogram over the 24 local hours and
//! the 7 weekdays of the brand: each visit adds 1 at its local hour and weekday, and a
//! channel reporting that a message was opened or clicked at local hour `h` adds the
//! engagement's weight `w` there ([`SendTimeProfile::record_engagement`]).
//!
//! Few customers have enough history to stand alone, so the choice is Bayesian: the
//! hour probabilities get a Dirichlet prior equal to the brand's (or the segment's)
//! normalised histogram times a `strength` (the prior counts as that many visits). The
//! posterior mean of hour `h` is `(strength · prior_h + weight_h) / (strength + total)`;
//! the chosen hour is the one with the largest posterior mean (the earliest on a tie,
//! so the choice is deterministic), and likewise for the weekday.
//!
//! The confidence is the posterior probability that the chosen hour really is more
//! likely than the runner-up, `P(p_best > p_second)`, from the exact mean and variance of
//! their difference under the Dirichlet posterior and a normal approximation: 0.5 when
//! the data cannot tell them apart, towards 1 as evidence accumulates.
//!
//! A segment's profile is the sum of its members' ([`SendTimeProfile::aggregate`]); its
//! golden hour is chosen the same way, with the brand as its prior.

use super::HabitsError;
use regulars_domain::local_datetime;
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset, Weekday};

/// Weighted counts of a customer's (or a group's) activity by local hour and weekday.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SendTimeProfile {
    hours: [f64; 24],
    weekdays: [f64; 7],
}

/// Weekday index, Monday = 0.
fn weekday_index(day: Weekday) -> usize {
    usize::from(day.number_days_from_monday())
}

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

fn check_weight(weight: f64) -> Result<f64, HabitsError> {
    if weight.is_finite() && weight >= 0.0 {
        Ok(weight)
    } else {
        Err(HabitsError::InvalidWeight { value: weight })
    }
}

impl SendTimeProfile {
    /// An empty profile.
    pub fn new() -> SendTimeProfile {
        SendTimeProfile::default()
    }

    /// The profile of visits at the instants `visits`, in local time at `offset`.
    ///
    /// ```
    /// use regulars_models::habits::send_time::{SendTimePrior, SendTimeProfile};
    /// use time::macros::{datetime, offset};
    /// // Three 08:xx visits in Ho Chi Minh City (01:xx UTC) and one at 19:00.
    /// let visits = [
    ///     datetime!(2026-03-02 01:10 UTC),
    ///     datetime!(2026-03-03 01:40 UTC),
    ///     datetime!(2026-03-05 01:05 UTC),
    ///     datetime!(2026-03-06 12:00 UTC),
    /// ];
    /// let profile = SendTimeProfile::from_visits(&visits, offset!(+7));
    /// let choice = profile.preferred(&SendTimePrior::uniform(4.0)?).ok_or("no data")?;
    /// assert_eq!(choice.hour, 8);
    /// assert!(choice.hour_confidence > 0.5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_visits(visits: &[OffsetDateTime], offset: UtcOffset) -> SendTimeProfile {
        let mut profile = SendTimeProfile::new();
        for v in visits {
            profile.add_visit(*v, offset);
        }
        profile
    }

    /// Adds one visit at `at`, in local time at `offset` (ignored only at the edges of
    /// the representable range, where there is no local time).
    pub fn add_visit(&mut self, at: OffsetDateTime, offset: UtcOffset) {
        self.add(at, offset, 1.0);
    }

    fn add(&mut self, at: OffsetDateTime, offset: UtcOffset, weight: f64) {
        if let Some(local) = local_datetime(at, offset) {
            if let Some(h) = self.hours.get_mut(usize::from(local.hour())) {
                *h += weight;
            }
            if let Some(d) = self.weekdays.get_mut(weekday_index(local.weekday())) {
                *d += weight;
            }
        }
    }

    /// Records that a message was opened or clicked at `at` (local time at `offset`):
    /// adds `weight` at that local hour and weekday. A click is usually worth more than
    /// an open; the caller decides.
    pub fn record_engagement(
        &mut self,
        at: OffsetDateTime,
        offset: UtcOffset,
        weight: f64,
    ) -> Result<(), HabitsError> {
        let weight = check_weight(weight)?;
        self.add(at, offset, weight);
        Ok(())
    }

    /// Adds `weight` at local hour `hour` only, for engagement reported by hour.
    pub fn record_engagement_at_hour(&mut self, hour: u8, weight: f64) -> Result<(), HabitsError> {
        let weight = check_weight(weight)?;
        let slot = self
            .hours
            .get_mut(usize::from(hour))
            .ok_or(HabitsError::InvalidHour { hour })?;
        *slot += weight;
        Ok(())
    }

    /// Weight at each local hour, 0–23.
    pub fn hour_weights(&self) -> &[f64; 24] {
        &self.hours
    }

    /// Weight at each weekday, Monday first.
    pub fn weekday_weights(&self) -> &[f64; 7] {
        &self.weekdays
    }

    /// Total weight over the hours.
    pub fn total_hour_weight(&self) -> f64 {
        self.hours.iter().sum()
    }

    /// Adds `other`'s weights to this profile.
    pub fn merge(&mut self, other: &SendTimeProfile) {
        for (a, b) in self.hours.iter_mut().zip(other.hours) {
            *a += b;
        }
        for (a, b) in self.weekdays.iter_mut().zip(other.weekdays) {
            *a += b;
        }
    }

    /// The sum of `profiles`: a segment's or a brand's profile from its customers'.
    pub fn aggregate<'a>(
        profiles: impl IntoIterator<Item = &'a SendTimeProfile>,
    ) -> SendTimeProfile {
        let mut sum = SendTimeProfile::new();
        for p in profiles {
            sum.merge(p);
        }
        sum
    }

    /// The preferred local hour and weekday under `prior` (see the module docs);
    /// `None` when neither the profile nor the prior has any hour weight.
    pub fn preferred(&self, prior: &SendTimePrior) -> Option<SendTimeChoice> {
        let hours = posterior(&self.hours, &prior.hours, prior.strength)?;
        // Engagement reported by hour alone carries no weekday: with no prior either,
        // there is an hour but no weekday to choose.
        let weekday = posterior(&self.weekdays, &prior.weekdays, prior.strength).and_then(|d| {
            Some(WeekdayChoice {
                weekday: WEEKDAYS.get(d.best).copied()?,
                share: d.share,
                confidence: d.confidence,
            })
        });
        Some(SendTimeChoice {
            hour: u8::try_from(hours.best).ok()?,
            hour_share: hours.share,
            hour_confidence: hours.confidence,
            weekday,
            evidence: self.total_hour_weight(),
        })
    }
}

/// The prior toward which customers with little history are pulled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendTimePrior {
    hours: [f64; 24],
    weekdays: [f64; 7],
    strength: f64,
}

impl SendTimePrior {
    /// Every hour and weekday equally likely, worth `strength` visits.
    pub fn uniform(strength: f64) -> Result<SendTimePrior, HabitsError> {
        SendTimePrior::from_profile(&SendTimeProfile::new(), strength)
    }

    /// The normalised distribution of `group` (the brand's or a segment's profile),
    /// worth `strength` visits. An empty group gives the uniform distribution.
    pub fn from_profile(
        group: &SendTimeProfile,
        strength: f64,
    ) -> Result<SendTimePrior, HabitsError> {
        if !(strength.is_finite() && strength >= 0.0) {
            return Err(HabitsError::InvalidStrength { value: strength });
        }
        Ok(SendTimePrior {
            hours: normalise(&group.hours),
            weekdays: normalise(&group.weekdays),
            strength,
        })
    }

    /// The prior probability of each local hour (sums to 1).
    pub fn hour_distribution(&self) -> &[f64; 24] {
        &self.hours
    }

    /// How many visits the prior is worth.
    pub fn strength(&self) -> f64 {
        self.strength
    }
}

fn normalise<const N: usize>(weights: &[f64; N]) -> [f64; N] {
    let total: f64 = weights.iter().sum();
    if total > 0.0 && total.is_finite() {
        weights.map(|w| w / total)
    } else {
        [1.0 / N as f64; N]
    }
}

/// The chosen send time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendTimeChoice {
    /// Local hour, 0–23.
    pub hour: u8,
    /// Posterior mean probability of that hour.
    pub hour_share: f64,
    /// Probability that `hour` beats the runner-up hour, in `[0.5, 1]`.
    pub hour_confidence: f64,
    /// The preferred weekday; `None` only when neither the profile nor the prior has
    /// any weekday weight.
    pub weekday: Option<WeekdayChoice>,
    /// The customer's own weight behind the choice (visits plus engagement).
    pub evidence: f64,
}

/// The chosen weekday.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeekdayChoice {
    /// Local weekday.
    pub weekday: Weekday,
    /// Posterior mean probability of that weekday.
    pub share: f64,
    /// Probability that `weekday` beats the runner-up weekday, in `[0.5, 1]`.
    pub confidence: f64,
}

struct Pick {
    best: usize,
    share: f64,
    confidence: f64,
}

/// The Dirichlet posterior pick over `counts` with prior `dist · strength`.
fn posterior<const N: usize>(counts: &[f64; N], dist: &[f64; N], strength: f64) -> Option<Pick> {
    let alpha: Vec<f64> = counts
        .iter()
        .zip(dist)
        .map(|(c, p)| c + strength * p)
        .collect();
    let total: f64 = alpha.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return None;
    }
    // Earliest index wins a tie: iterate forwards and replace only on strictly greater.
    let mut best = 0;
    for (i, a) in alpha.iter().enumerate() {
        if *a > alpha[best] {
            best = i;
        }
    }
    let mut second: Option<usize> = None;
    for (i, a) in alpha.iter().enumerate() {
        if i != best && second.is_none_or(|s| *a > alpha[s]) {
            second = Some(i);
        }
    }
    let a1 = alpha[best];
    let a2 = second.map_or(0.0, |s| alpha[s]);
    let mean = (a1 - a2) / total;
    let var = ((a1 + a2) * total - (a1 - a2).powi(2)) / (total * total * (total + 1.0));
    // Equal weights cannot be told apart: exactly a coin flip (the approximation of Φ
    // is off by 5e-10 at 0).
    let confidence = if mean <= 0.0 {
        0.5
    } else if var <= 0.0 {
        1.0
    } else {
        normal_cdf(mean / var.sqrt())
    };
    Some(Pick {
        best,
        share: a1 / total,
        confidence: confidence.clamp(0.5, 1.0),
    })
}

/// Φ(z), the standard normal distribution function (Abramowitz & Stegun 7.1.26, error
/// below 1.5e-7).
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}
