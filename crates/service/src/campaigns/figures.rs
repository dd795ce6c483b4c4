//! A campaign report's figures from what storage counted: revenue per group, the offer
//! cost of the redemptions, the attribution and the variants. Pure, so the same rows
//! read for the whole brand or for one location give figures that add up.

use super::offer_costs;
use crate::campaign_variants::{VariantReport, variant_reports};
use regulars_campaigns::Campaign;
use regulars_campaigns::attribution::{Attribution, AttributionError, attribute};
use regulars_campaigns::compare::Verdict;
use regulars_domain::{Money, Points};
use regulars_ports::{CampaignVoucherCount, MemberGroup, MemberRevenue, VariantVoucherCount};

/// The campaign's bonus points, credited when a message is sent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bonus {
    /// Messages that credited them.
    pub credits: u64,
    /// The points credited.
    pub points: Points,
    /// What a point is worth to the shop.
    pub point_value: Option<Money>,
    /// Whether their cost is part of the offer cost: for the whole brand only, since a
    /// credit is made at no location.
    pub charged: bool,
}

/// The figures of a report.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Figures {
    pub vouchers_issued: u64,
    pub vouchers_redeemed: u64,
    pub treated_revenue_minor: i64,
    pub holdout_revenue_minor: i64,
    pub offer_cost_minor: i64,
    pub bonus_cost_minor: i64,
    pub attribution: Result<Attribution, AttributionError>,
    pub variants: Vec<VariantReport>,
    pub verdict: Option<Verdict>,
}

/// The figures of `campaign` from each member's revenue in their window, its vouchers
/// by reward and by variant, and its bonus points.
pub(crate) fn figures(
    campaign: &Campaign,
    revenue: &[MemberRevenue],
    vouchers: &[CampaignVoucherCount],
    by_variant: &[VariantVoucherCount],
    bonus: &Bonus,
) -> Figures {
    let costs = offer_costs(campaign);
    let mut treated = Vec::new();
    let mut held = Vec::new();
    let (mut treated_minor, mut held_minor) = (0_i64, 0_i64);
    for r in revenue {
        match r.group {
            MemberGroup::Treatment => {
                treated.push(r.net_minor as f64);
                treated_minor = treated_minor.saturating_add(r.net_minor);
            }
            MemberGroup::Holdout => {
                held.push(r.net_minor as f64);
                held_minor = held_minor.saturating_add(r.net_minor);
            }
        }
    }
    let voucher_cost_minor: i64 = vouchers
        .iter()
        .map(|v| {
            let each = costs.get(&v.reward).copied().unwrap_or(0);
            each.saturating_mul(i64::try_from(v.redeemed).unwrap_or(i64::MAX))
        })
        .fold(0_i64, i64::saturating_add);
    let point_value = bonus.point_value.as_ref().filter(|_| bonus.charged);
    let bonus_cost_minor = point_value
        .and_then(|v| v.to_minor_units().ok())
        .map_or(0, |each| each.saturating_mul(bonus.points.value()));
    let offer_cost_minor = voucher_cost_minor.saturating_add(bonus_cost_minor);
    let attribution = attribute(
        &treated,
        &held,
        campaign.gross_margin,
        offer_cost_minor as f64,
    );
    let (variants, verdict) = variant_reports(campaign, revenue, by_variant, point_value);
    Figures {
        vouchers_issued: vouchers.iter().map(|v| v.issued).sum(),
        vouchers_redeemed: vouchers.iter().map(|v| v.redeemed).sum(),
        treated_revenue_minor: treated_minor,
        holdout_revenue_minor: held_minor,
        offer_cost_minor,
        bonus_cost_minor,
        attribution,
        variants,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::campaign_variants::tests::campaign;
    use proptest::prelude::*;
    use regulars_domain::{Currency, CustomerId, RewardId};

    const SHOPS: u8 = 3;

    fn reward() -> RewardId {
        RewardId::from_bytes([1; 16])
    }

    /// Where a voucher was redeemed, as storage keeps it: the location recorded with the
    /// redemption, and the location of the order it names (once that order arrived).
    #[derive(Debug, Clone, Copy)]
    struct Redeemed {
        recorded: Option<u8>,
        order: Option<u8>,
    }

    impl Redeemed {
        /// Where it counts: where it was recorded, else where its order was placed.
        fn shop(self) -> Option<u8> {
            self.recorded.or(self.order)
        }
    }

    /// A redemption at a till (recorded, no order), on an order that had arrived
    /// (recorded at the order's shop), or on an order that arrived afterwards.
    fn redeemed() -> impl Strategy<Value = Redeemed> {
        (0..SHOPS, 0..3_u8).prop_map(|(shop, how)| match how {
            0 => Redeemed {
                recorded: Some(shop),
                order: None,
            },
            1 => Redeemed {
                recorded: Some(shop),
                order: Some(shop),
            },
            _ => Redeemed {
                recorded: None,
                order: Some(shop),
            },
        })
    }

    /// A member: treated (with a variant) or held out, their orders in the window as
    /// (shop, net minor units), and their voucher: none, issued, or redeemed.
    #[derive(Debug, Clone)]
    struct Member {
        variant: Option<u8>,
        orders: Vec<(u8, i64)>,
        voucher: Option<Option<Redeemed>>,
    }

    fn member() -> impl Strategy<Value = Member> {
        (
            prop_oneof![Just(None), Just(Some(0u8)), Just(Some(1u8))],
            proptest::collection::vec((0..SHOPS, 0_i64..200_000), 0..4),
            proptest::option::of(proptest::option::of(redeemed())),
        )
            .prop_map(|(variant, orders, voucher)| Member {
                variant,
                orders,
                voucher,
            })
    }

    /// What storage returns for `shop` (every shop when `None`): the members' revenue
    /// at it, and the vouchers with only the redemptions made there.
    fn read(
        members: &[Member],
        shop: Option<u8>,
    ) -> (
        Vec<MemberRevenue>,
        Vec<CampaignVoucherCount>,
        Vec<VariantVoucherCount>,
    ) {
        let at = |s: u8| shop.is_none_or(|x| x == s);
        let revenue = members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mine: Vec<i64> = m
                    .orders
                    .iter()
                    .filter(|(s, _)| at(*s))
                    .map(|(_, n)| *n)
                    .collect();
                MemberRevenue {
                    customer_id: CustomerId::from_bytes([u8::try_from(i).unwrap(); 16]),
                    group: if m.variant.is_some() {
                        MemberGroup::Treatment
                    } else {
                        MemberGroup::Holdout
                    },
                    variant: m.variant,
                    net_minor: mine.iter().sum(),
                    orders: mine.len() as u64,
                }
            })
            .collect();
        let (mut issued, mut redeemed) = ([0_u64; 2], [0_u64; 2]);
        for m in members {
            if let (Some(v), Some(voucher)) = (m.variant, m.voucher) {
                issued[usize::from(v)] += 1;
                if voucher.and_then(Redeemed::shop).is_some_and(at) {
                    redeemed[usize::from(v)] += 1;
                }
            }
        }
        let vouchers = vec![CampaignVoucherCount {
            reward: reward(),
            issued: issued.iter().sum(),
            redeemed: redeemed.iter().sum(),
        }];
        let by_variant = (0..2_u8)
            .map(|v| VariantVoucherCount {
                variant: Some(v),
                reward: reward(),
                issued: issued[usize::from(v)],
                redeemed: redeemed[usize::from(v)],
            })
            .collect();
        (revenue, vouchers, by_variant)
    }

    fn at(members: &[Member], shop: Option<u8>) -> Figures {
        let (revenue, vouchers, by_variant) = read(members, shop);
        let bonus = Bonus {
            credits: 0,
            points: Points::ZERO,
            point_value: Some(Money::from_minor_units(100, Currency::VND)),
            charged: shop.is_none(),
        };
        figures(&campaign(), &revenue, &vouchers, &by_variant, &bonus)
    }

    proptest! {
        /// Every order and redemption is at one shop (a till's redemption at the till's,
        /// one on an order at the order's, whenever the order arrived), so each shop's
        /// revenue, per group and per variant, its redemptions and their cost add up to
        /// the whole, and a shop counts the redemptions made there; issued
        /// vouchers are the campaign's everywhere; the incremental revenue (a difference
        /// of means over the same members) adds up too.
        #[test]
        fn figures_by_shop_add_up_to_the_whole(
            members in proptest::collection::vec(member(), 0..24),
        ) {
            let whole = at(&members, None);
            let shops: Vec<Figures> = (0..SHOPS).map(|s| at(&members, Some(s))).collect();
            let sum = |f: fn(&Figures) -> i64| shops.iter().map(f).sum::<i64>();
            prop_assert_eq!(sum(|f| f.treated_revenue_minor), whole.treated_revenue_minor);
            prop_assert_eq!(sum(|f| f.holdout_revenue_minor), whole.holdout_revenue_minor);
            // Variant 1 gives bonus points: charged to the whole brand, to no shop.
            let variant_cost = |f: &Figures| f.variants.first().map_or(0, |v| v.offer_cost_minor);
            prop_assert_eq!(shops.iter().map(variant_cost).sum::<i64>(), variant_cost(&whole));
            prop_assert_eq!(sum(|f| f.offer_cost_minor), whole.offer_cost_minor);
            let redeemed: u64 = shops.iter().map(|f| f.vouchers_redeemed).sum();
            prop_assert_eq!(redeemed, whole.vouchers_redeemed);
            for (s, shop) in (0..SHOPS).zip(&shops) {
                let there = members
                    .iter()
                    .filter(|m| m.variant.is_some())
                    .filter_map(|m| m.voucher.flatten())
                    .filter(|r| r.shop() == Some(s))
                    .count() as u64;
                prop_assert_eq!(shop.vouchers_redeemed, there);
            }
            for shop in &shops {
                prop_assert_eq!(shop.vouchers_issued, whole.vouchers_issued);
                prop_assert_eq!(shop.bonus_cost_minor, 0);
                prop_assert_eq!(shop.variants.len(), whole.variants.len());
            }
            for (i, v) in whole.variants.iter().enumerate() {
                let parts: i64 = shops.iter().map(|f| f.variants[i].revenue_minor).sum();
                prop_assert_eq!(parts, v.revenue_minor);
                let treated: Vec<u64> = shops.iter().map(|f| f.variants[i].treated).collect();
                prop_assert!(treated.iter().all(|t| *t == v.treated));
            }
            if let Ok(all) = &whole.attribution {
                let parts: f64 = shops
                    .iter()
                    .map(|f| f.attribution.as_ref().map_or(f64::NAN, |a| a.incremental_revenue))
                    .sum();
                prop_assert!((parts - all.incremental_revenue).abs() <= 1e-6 * (1.0 + all.incremental_revenue.abs()));
            }
        }
    }

    #[test]
    fn a_shop_is_not_charged_the_bonus_points() {
        let members = [Member {
            variant: Some(1),
            orders: vec![(0, 30_000)],
            voucher: None,
        }];
        let (revenue, vouchers, by_variant) = read(&members, None);
        let mut bonus = Bonus {
            credits: 1,
            points: Points::new(20),
            point_value: Some(Money::from_minor_units(100, Currency::VND)),
            charged: true,
        };
        let whole = figures(&campaign(), &revenue, &vouchers, &by_variant, &bonus);
        assert_eq!(
            (whole.bonus_cost_minor, whole.offer_cost_minor),
            (2_000, 2_000)
        );
        assert_eq!(whole.variants[1].offer_cost_minor, 2_000);
        bonus.charged = false;
        let shop = figures(&campaign(), &revenue, &vouchers, &by_variant, &bonus);
        assert_eq!((shop.bonus_cost_minor, shop.offer_cost_minor), (0, 0));
        assert_eq!(shop.variants[1].offer_cost_minor, 0);
        assert_eq!(shop.treated_revenue_minor, 30_000);
    }
}
