//! Properties of a redeemed voucher's cost as reports count it: the till's own discount
//! whenever the report knows what the till knew, never negative, never more than the
//! order it was redeemed on.

use proptest::prelude::*;
use regulars_domain::{Currency, LineItem, Money, Points, RewardId};
use regulars_loyalty::rewards::{Reward, RewardKind};
use rust_decimal::Decimal;

fn vnd(n: i64) -> Money {
    Money::from_minor_units(n, Currency::VND)
}

fn kind() -> impl Strategy<Value = RewardKind> {
    prop_oneof![
        Just(RewardKind::FreeItem {
            sku: "TS-OOLONG".into()
        }),
        (1_i64..200_000).prop_map(|a| RewardKind::FixedDiscount { amount: vnd(a) }),
        (1_i64..=100, proptest::option::of(1_i64..100_000)).prop_map(|(p, cap)| {
            RewardKind::PercentDiscount {
                percent: Decimal::from(p),
                cap: cap.map(vnd),
            }
        }),
    ]
}

fn reward(kind: RewardKind) -> Reward {
    Reward {
        id: RewardId::from_bytes([3; 16]),
        name: "Reward".into(),
        cost: Points::new(100),
        kind,
        active: true,
        validity_days: 30,
        min_order_total: None,
    }
}

proptest! {
    /// With the order's total and the item's price (the basket the till saw), the cost
    /// a report counts is the discount the till gave.
    #[test]
    fn cost_is_the_tills_discount_when_the_basket_is_known(
        kind in kind(),
        price in 1_i64..100_000,
        quantity in 1_u32..4,
        extra in 0_i64..300_000,
    ) {
        let reward = reward(kind);
        let lines = vec![LineItem {
            sku: "TS-OOLONG".into(),
            name: "Trà sữa ô long".into(),
            category: None,
            quantity,
            unit_price: vnd(price),
            modifiers: vec![],
        }];
        let total = vnd(price * i64::from(quantity) + extra);
        let till = reward.discount_for(&lines, total);
        prop_assume!(till.is_ok());
        let cost = reward.cost_to_shop(Currency::VND, Some(vnd(price)), Some(total));
        prop_assert_eq!(cost, till.ok());
    }

    /// Whatever is known, a cost is never negative and never more than the order total.
    #[test]
    fn cost_is_between_zero_and_the_order_total(
        kind in kind(),
        price in proptest::option::of(0_i64..100_000),
        total in proptest::option::of(0_i64..300_000),
    ) {
        let cost = reward(kind).cost_to_shop(Currency::VND, price.map(vnd), total.map(vnd));
        if let Some(cost) = cost {
            prop_assert!(!cost.is_negative());
            if let Some(total) = total {
                prop_assert!(cost.amount() <= vnd(total).amount());
            }
        }
    }
}

#[test]
fn what_cannot_be_valued_is_none() {
    let free = reward(RewardKind::FreeItem { sku: "GONE".into() });
    assert_eq!(
        free.cost_to_shop(Currency::VND, None, Some(vnd(50_000))),
        None
    );
    let percent = reward(RewardKind::PercentDiscount {
        percent: Decimal::TEN,
        cap: None,
    });
    assert_eq!(percent.cost_to_shop(Currency::VND, None, None), None);
    let capped = reward(RewardKind::PercentDiscount {
        percent: Decimal::TEN,
        cap: Some(vnd(20_000)),
    });
    assert_eq!(
        capped.cost_to_shop(Currency::VND, None, None),
        Some(vnd(20_000))
    );
    let dollars = reward(RewardKind::FixedDiscount {
        amount: Money::from_minor_units(500, Currency::USD),
    });
    assert_eq!(dollars.cost_to_shop(Currency::VND, None, None), None);
}
