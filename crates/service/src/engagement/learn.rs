//! What the scoring run learns from clicks and opens: each counted response adds its
//! kind's weight ([`EngagementKind::weight`]) at its local hour and weekday of the
//! customer's send-time profile, beside their visits (1 each). A segment's and the
//! brand's profiles are sums of their customers', so they learn from responses too.

use regulars_domain::{CustomerId, Engagement, EngagementKind};
use regulars_models::habits::send_time::SendTimeProfile;
use std::collections::HashMap;
use time::{OffsetDateTime, UtcOffset};

/// A counted response: when, and what it weighs.
pub(crate) type Response = (OffsetDateTime, f64);

/// The counted responses of `engagements` by customer.
pub(crate) fn responses_by_customer(
    engagements: Vec<Engagement>,
) -> HashMap<CustomerId, Vec<Response>> {
    let mut out: HashMap<CustomerId, Vec<Response>> = HashMap::new();
    for e in engagements.into_iter().filter(|e| e.counted) {
        if let Some(customer) = e.customer_id {
            out.entry(customer)
                .or_default()
                .push((e.at, EngagementKind::weight(e.kind)));
        }
    }
    out
}

/// A customer's send-time profile from their visits and their counted responses.
pub(crate) fn send_time_profile(
    visits: &[OffsetDateTime],
    responses: &[Response],
    offset: UtcOffset,
) -> SendTimeProfile {
    let mut profile = SendTimeProfile::from_visits(visits, offset);
    for (at, weight) in responses {
        // Weights are the finite positive constants of `EngagementKind::weight`.
        let _ = profile.record_engagement(*at, offset, *weight);
    }
    profile
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regulars_models::habits::send_time::SendTimePrior;
    use time::macros::{datetime, offset};

    const VN: UtcOffset = offset!(+7);

    /// A customer who comes in at 08:00 but clicks messages at 20:00 is learned to
    /// prefer 20:00 once the clicks outweigh the visits.
    #[test]
    fn clicks_move_the_golden_hour() {
        // 01:00 UTC is 08:00 in Vietnam; 13:00 UTC is 20:00.
        let visits = [
            datetime!(2026-11-02 01:00 UTC),
            datetime!(2026-11-09 01:10 UTC),
        ];
        let clicks: Vec<Response> = (0..3)
            .map(|d| {
                (
                    datetime!(2026-11-03 13:05 UTC) + time::Duration::days(d),
                    2.0,
                )
            })
            .collect();
        let prior = SendTimePrior::uniform(5.0).unwrap();
        let before = send_time_profile(&visits, &[], VN)
            .preferred(&prior)
            .unwrap();
        assert_eq!(before.hour, 8);
        let after = send_time_profile(&visits, &clicks, VN)
            .preferred(&prior)
            .unwrap();
        assert_eq!(after.hour, 20);
    }

    #[test]
    fn uncounted_responses_and_responses_of_no_customer_teach_nothing() {
        let base = Engagement {
            brand_id: regulars_domain::BrandId::from_bytes([1; 16]),
            id: uuid::Uuid::from_bytes([2; 16]),
            message_id: uuid::Uuid::from_bytes([3; 16]),
            customer_id: Some(CustomerId::from_bytes([4; 16])),
            campaign_id: None,
            channel: regulars_domain::Channel::Sms,
            kind: EngagementKind::Click,
            link: Some(0),
            at: datetime!(2026-11-03 13:05 UTC),
            counted: true,
        };
        let uncounted = Engagement {
            counted: false,
            ..base.clone()
        };
        let anonymous = Engagement {
            customer_id: None,
            ..base.clone()
        };
        let open = Engagement {
            kind: EngagementKind::Open,
            ..base.clone()
        };
        let by = responses_by_customer(vec![base, uncounted, anonymous, open]);
        assert_eq!(by.len(), 1);
        let weights: Vec<f64> = by.values().flatten().map(|r| r.1).collect();
        assert_eq!(weights, vec![2.0, 0.5]);
    }

    proptest! {
        /// Whatever the visits, enough clicks at one hour make it the preferred hour,
        /// and a click never lowers that hour's share.
        #[test]
        fn enough_clicks_at_an_hour_make_it_preferred(
            visit_hours in proptest::collection::vec(0u8..24, 0..20),
            hour in 0u8..24,
        ) {
            let day = datetime!(2026-11-02 00:00 +7);
            let visits: Vec<OffsetDateTime> = visit_hours
                .iter()
                .enumerate()
                .map(|(i, h)| day + time::Duration::days(i as i64) + time::Duration::hours(i64::from(*h)))
                .collect();
            let prior = SendTimePrior::uniform(5.0).unwrap();
            let mut clicks: Vec<Response> = Vec::new();
            let mut share = send_time_profile(&visits, &clicks, VN)
                .preferred(&prior)
                .map(|c| if c.hour == hour { c.hour_share } else { 0.0 })
                .unwrap_or(0.0);
            for i in 0..(visit_hours.len() / 2 + 2) {
                let at = day + time::Duration::days(i as i64) + time::Duration::hours(i64::from(hour));
                clicks.push((at, EngagementKind::Click.weight()));
                let profile = send_time_profile(&visits, &clicks, VN);
                let weights = profile.hour_weights();
                let total: f64 = weights.iter().sum();
                let now = (weights[usize::from(hour)] + 5.0 / 24.0) / (total + 5.0);
                prop_assert!(now + 1e-12 >= share);
                share = now;
            }
            let chosen = send_time_profile(&visits, &clicks, VN).preferred(&prior).unwrap();
            prop_assert_eq!(chosen.hour, hour);
        }
    }
}
