//! Who the campaign is for: the occasion its trigger fires for, profiling consent and
//! the audience, decided per customer in input order.

use super::hashing::priority;
use super::{CustomerFacts, Outcome, SkipReason};
use crate::campaign::{Audience, Campaign, Offer, Trigger};
use crate::policy::Policy;
use regulars_domain::{CustomerId, Points};
use time::{Date, Duration, Month, OffsetDateTime, UtcOffset};

/// An eligible customer: (priority, id, index in the input, occasion).
pub(super) type Eligible = (u64, CustomerId, usize, String);

/// Trigger, profiling consent and audience, in input order: the skipped outcomes, and
/// the eligible customers sorted by their priority (a hash of campaign and customer).
pub(super) fn eligible(
    campaign: &Campaign,
    policy: &Policy,
    customers: &[CustomerFacts],
    now: OffsetDateTime,
) -> (Vec<Outcome>, Vec<Eligible>) {
    // Choosing whom to contact by segment, or what to offer by taste, is profiling.
    let targeted =
        campaign.audience.is_some() || matches!(campaign.offer, Some(Offer::Personalised { .. }));
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(customers.len());
    let mut order: Vec<Eligible> = Vec::new();
    for (i, c) in customers.iter().enumerate() {
        let skip = |reason| Outcome::Skip {
            customer_id: c.customer_id,
            reason,
        };
        let Some(occasion) = occasion(
            &campaign.trigger,
            &campaign.reward_costs,
            c,
            now,
            campaign.utc_offset,
        ) else {
            outcomes.push(skip(SkipReason::NotTriggered));
            continue;
        };
        // Profiling granted, or never asked where the brand's counsel allows it.
        if targeted && !(c.profiling || c.consent.allows_profiling(policy.profiling_default)) {
            outcomes.push(skip(SkipReason::NoProfilingConsent));
            continue;
        }
        let in_audience = match &campaign.audience {
            None => true,
            Some(Audience::Segment(name)) => c.segments.iter().any(|s| s == name),
            Some(Audience::Rule(rule)) => rule.matches(&c.features),
        };
        if !in_audience {
            outcomes.push(skip(SkipReason::NotInAudience));
            continue;
        }
        order.push((
            priority(campaign.id, c.customer_id),
            c.customer_id,
            i,
            occasion,
        ));
    }
    order.sort_unstable();
    (outcomes, order)
}

/// The occasion the trigger fires for, or `None` when it does not fire now.
fn occasion(
    trigger: &Trigger,
    reward_costs: &[Points],
    c: &CustomerFacts,
    now: OffsetDateTime,
    offset: UtcOffset,
) -> Option<String> {
    match *trigger {
        Trigger::AfterPurchase { within_hours } => c
            .last_order
            .filter(|o| o.at <= now && now - o.at <= Duration::hours(i64::from(within_hours)))
            .map(|o| format!("order-{}", o.id)),
        Trigger::Birthday { days_before } => {
            let birthday = c.birthday?;
            let today = now.to_offset(offset).date();
            // A birthday comes once a year: looking further ahead finds nothing more.
            (0..=i64::from(days_before.min(366)))
                .filter_map(|d| today.checked_add(Duration::days(d)))
                .find(|day| same_day(birthday, *day))
                .map(|day| format!("birthday-{}", day.year()))
        }
        Trigger::Overdue { factor } => {
            let (last, next) = (c.last_visit_at?, c.next_visit_at?);
            let gap = (next - last).as_seconds_f64();
            (gap > 0.0 && (now - last).as_seconds_f64() >= factor * gap)
                .then(|| format!("overdue-{}", last.unix_timestamp()))
        }
        Trigger::PAliveBelow { threshold } => {
            let p = c.p_alive?;
            (p < threshold).then(|| match c.last_visit_at {
                Some(last) => format!("lapsing-{}", last.unix_timestamp()),
                None => "lapsing".to_owned(),
            })
        }
        Trigger::TierUpgrade { within_days } => c
            .tier_upgrade
            .as_ref()
            .filter(|u| u.at <= now && now - u.at <= Duration::days(i64::from(within_days)))
            .map(|u| format!("tier-{}", u.tier)),
        Trigger::PointsExpiring { within_days } => c
            .expiring_points
            .filter(|e| {
                e.points > Points::ZERO
                    && e.at > now
                    && e.at - now <= Duration::days(i64::from(within_days))
            })
            .map(|e| format!("points-expiring-{}", e.at.unix_timestamp())),
        Trigger::Broadcast => Some("broadcast".to_owned()),
        Trigger::Welcome { within_days } => c
            .joined_at
            .filter(|j| *j <= now && now - *j <= Duration::days(i64::from(within_days)))
            .map(|_| "welcome".to_owned()),
        Trigger::RewardAffordable => {
            let cost = cheapest(reward_costs)?;
            let multiple = c.points_balance.value() / cost;
            (multiple >= 1).then(|| format!("affordable-{cost}-{multiple}"))
        }
        Trigger::RewardNearly { points_away } => {
            let cost = cheapest(reward_costs)?;
            let balance = c.points_balance.value().max(0);
            let next = balance / cost + 1;
            let short = next.checked_mul(cost)? - balance;
            (short <= i64::from(points_away)).then(|| format!("nearly-{cost}-{next}"))
        }
        Trigger::VoucherExpiring { days_before } => c
            .expiring_voucher
            .filter(|v| v.at > now && v.at - now <= Duration::days(i64::from(days_before)))
            .map(|v| format!("voucher-{}", v.voucher_id)),
        Trigger::TierDown { within_days } => c
            .tier_down
            .as_ref()
            .filter(|d| d.at <= now && now - d.at <= Duration::days(i64::from(within_days)))
            .map(|d| format!("tier-down-{}", d.at.unix_timestamp())),
    }
}

/// Whether `day` is the birthday `birthday` (28 February for 29 February outside leap
/// years).
fn same_day(birthday: Date, day: Date) -> bool {
    if birthday.month() == day.month() && birthday.day() == day.day() {
        return true;
    }
    birthday.month() == Month::February
        && birthday.day() == 29
        && day.month() == Month::February
        && day.day() == 28
        && !time::util::is_leap_year(day.year())
}

/// The cost of the cheapest reward that costs anything.
fn cheapest(reward_costs: &[Points]) -> Option<i64> {
    reward_costs
        .iter()
        .map(|p| p.value())
        .filter(|v| *v > 0)
        .min()
}
