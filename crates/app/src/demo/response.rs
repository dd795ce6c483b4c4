//! The demo's stated response model: how a customer answers a campaign message.
//!
//! Pure and seeded; `docs/demo.md` states it with its parameters. Every customer keeps
//! their own habits (visit rate and dropout) whether a campaign reaches them or holds
//! them out. A customer who got a message may, on top of that, come back because of it:
//!
//! * P(comes back within [`RESPONSE_DAYS`] days) = [`base_rate`] of where they stood
//!   × [`lift`] of what the message carried (its voucher's reward, or nothing);
//! * the day is uniform over those days;
//! * if the message carried a voucher, they hand it over with P = [`redeem_rate`];
//! * what they buy is their own usual order, drawn as any of their visits.
//!
//! Customers held out get no such draw, so the difference between the groups is the
//! offer's effect and nothing else.

use regulars_loyalty::rewards::RewardKind;
use regulars_models::simulate::Rng;

/// Days within which a customer who answers comes back.
pub(super) const RESPONSE_DAYS: f64 = 14.0;

/// What a message carried, as the model tells offers apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OfferKind {
    /// A free item (a drink).
    FreeItem,
    /// A free modifier (a topping).
    FreeModifier,
    /// A percentage off the order.
    PercentOff,
    /// A fixed amount off the order.
    FixedOff,
    /// No voucher: the message alone (or bonus points already credited).
    Nothing,
}

impl OfferKind {
    /// The kind of a voucher's reward.
    pub(super) fn of(reward: &RewardKind) -> OfferKind {
        match reward {
            RewardKind::FreeItem { .. } => OfferKind::FreeItem,
            RewardKind::FreeModifier { .. } => OfferKind::FreeModifier,
            RewardKind::PercentDiscount { .. } => OfferKind::PercentOff,
            RewardKind::FixedDiscount { .. } => OfferKind::FixedOff,
        }
    }
}

/// Where a customer stood when the message reached them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Standing {
    /// Still coming: their next visit is planned.
    Drifting,
    /// Gone: by their own habits they would not come back.
    Lapsed,
}

/// The chance that a plain message brings a customer back within [`RESPONSE_DAYS`].
pub(super) fn base_rate(standing: Standing) -> f64 {
    match standing {
        Standing::Drifting => 0.15,
        Standing::Lapsed => 0.08,
    }
}

/// How much an offer multiplies the base rate.
pub(super) fn lift(offer: OfferKind) -> f64 {
    match offer {
        OfferKind::FreeItem => 3.5,
        OfferKind::FreeModifier => 1.5,
        OfferKind::FixedOff => 1.5,
        OfferKind::PercentOff => 1.2,
        OfferKind::Nothing => 1.0,
    }
}

/// The chance that a customer who came back hands over the voucher they carry.
pub(super) fn redeem_rate(offer: OfferKind) -> f64 {
    match offer {
        OfferKind::FreeItem => 0.95,
        OfferKind::FreeModifier | OfferKind::FixedOff => 0.9,
        OfferKind::PercentOff => 0.85,
        OfferKind::Nothing => 0.0,
    }
}

/// The chance of coming back because of the message.
pub(super) fn return_probability(standing: Standing, offer: OfferKind) -> f64 {
    (base_rate(standing) * lift(offer)).clamp(0.0, 1.0)
}

/// What a customer does about one message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Answer {
    /// Days after the message they come back, if they do.
    pub(super) after_days: Option<f64>,
    /// Whether they hand the voucher over when they come.
    pub(super) redeems: bool,
}

/// Draws a customer's answer to a message.
pub(super) fn respond(rng: &mut Rng, standing: Standing, offer: OfferKind) -> Answer {
    let comes = rng.uniform() < return_probability(standing, offer);
    let day = rng.uniform() * RESPONSE_DAYS;
    let redeems = rng.uniform() < redeem_rate(offer);
    Answer {
        after_days: comes.then_some(day.max(0.5)),
        redeems: comes && redeems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [OfferKind; 5] = [
        OfferKind::FreeItem,
        OfferKind::FreeModifier,
        OfferKind::PercentOff,
        OfferKind::FixedOff,
        OfferKind::Nothing,
    ];

    #[test]
    fn the_same_seed_gives_the_same_answers() {
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            (0..500)
                .map(|i| {
                    let standing = if i % 3 == 0 {
                        Standing::Lapsed
                    } else {
                        Standing::Drifting
                    };
                    respond(&mut rng, standing, ALL[i % ALL.len()])
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
    }

    #[test]
    fn the_free_drink_lifts_more_than_twenty_percent_off() {
        for standing in [Standing::Drifting, Standing::Lapsed] {
            let free = return_probability(standing, OfferKind::FreeItem);
            let percent = return_probability(standing, OfferKind::PercentOff);
            assert!(free > percent, "{standing:?}: {free} vs {percent}");
            assert!(
                percent > base_rate(standing),
                "{standing:?}: an offer helps"
            );
        }
        // Counted, not only stated: 20 000 customers per arm.
        let rate = |offer| {
            let mut rng = Rng::new(9);
            let n = 20_000;
            let back = (0..n)
                .filter(|_| {
                    respond(&mut rng, Standing::Drifting, offer)
                        .after_days
                        .is_some()
                })
                .count();
            back as f64 / f64::from(n)
        };
        let (free, percent) = (rate(OfferKind::FreeItem), rate(OfferKind::PercentOff));
        assert!((free - 0.525).abs() < 0.015, "{free}");
        assert!((percent - 0.18).abs() < 0.015, "{percent}");
    }

    #[test]
    fn answers_stay_within_the_model() {
        let mut rng = Rng::new(3);
        for i in 0..5_000 {
            let offer = ALL[i % ALL.len()];
            let p = return_probability(Standing::Drifting, offer);
            assert!((0.0..=1.0).contains(&p));
            let a = respond(&mut rng, Standing::Lapsed, offer);
            if let Some(days) = a.after_days {
                assert!((0.5..RESPONSE_DAYS).contains(&days), "{days}");
            } else {
                assert!(!a.redeems, "no redemption without a visit");
            }
            if offer == OfferKind::Nothing {
                assert!(!a.redeems, "nothing to redeem");
            }
        }
    }
}
