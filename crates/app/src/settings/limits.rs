//! The limits on requests: the rate per key or integration and the largest body.

use super::Settings;

impl Settings {
    /// Applies a rate given as requests a second (0: off) and a burst (0: the default
    /// burst, or the rate when that is larger); either may be left as it was.
    pub(super) fn set_rate_limit(&mut self, per_second: Option<u32>, burst: Option<u32>) {
        if per_second.is_none() && burst.is_none() {
            return;
        }
        let current = self.rate_limit;
        let per_second = match per_second {
            Some(n) => n,
            None => current.map_or(regulars_http::RateLimit::DEFAULT.per_second, |l| {
                l.per_second
            }),
        };
        if per_second == 0 {
            self.rate_limit = None;
            return;
        }
        let burst = match burst {
            Some(n) if n > 0 => n,
            _ => current
                .map_or(regulars_http::RateLimit::DEFAULT.burst, |l| l.burst)
                .max(per_second),
        };
        self.rate_limit = Some(regulars_http::RateLimit { per_second, burst });
    }
}

pub(super) fn check_body_limit(n: usize) -> Result<usize, String> {
    if (1024..=64 * 1024 * 1024).contains(&n) {
        Ok(n)
    } else {
        Err("body_limit_bytes must be between 1024 and 67108864".to_owned())
    }
}
