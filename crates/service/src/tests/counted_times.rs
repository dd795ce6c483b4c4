//! The times of the customer's counted orders (`CustomerStats::counted`: the earliest and
//! the latest two), kept as orders arrive in any order and refunds land, always equal
//! those of the stored orders that count in reports: what the brand-wide overview counts
//! new, prior, active and repeat customers by.

use super::*;
use proptest::prelude::*;
use regulars_domain::{Refund, RefundScope};
use regulars_reports::order_counts;

#[derive(Debug, Clone)]
enum Step {
    /// An order of this total placed this many minutes after `t0`.
    Order { minutes: i64, total: i64 },
    /// A refund of the `pick`-th stored order (modulo their number): in full, or of a
    /// share in thousandths of what is left.
    Refund { pick: usize, share: Option<i64> },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0i64..10 * 24 * 60, 1_000i64..200_000)
            .prop_map(|(minutes, total)| Step::Order { minutes, total }),
        2 => (0usize..64, proptest::option::of(1i64..=1_000))
            .prop_map(|(pick, share)| Step::Refund { pick, share }),
    ]
}

/// The times of the customer's stored orders that count, as the reports count: the
/// earliest, the latest and the latest but one.
fn expected(
    h: &Harness,
) -> (
    Option<OffsetDateTime>,
    Option<OffsetDateTime>,
    Option<OffsetDateTime>,
) {
    let customer = h.customer_id();
    let mut times: Vec<OffsetDateTime> = h
        .fake
        .world()
        .orders
        .iter()
        .filter(|o| o.customer_id == Some(customer))
        .filter(|o| order_counts(&o.order.total, &o.refunded))
        .map(|o| o.order.placed_at)
        .collect();
    times.sort();
    let mut latest = times.iter().rev().copied();
    (times.first().copied(), latest.next(), latest.next())
}

fn kept(
    h: &Harness,
) -> (
    Option<OffsetDateTime>,
    Option<OffsetDateTime>,
    Option<OffsetDateTime>,
) {
    let stats = h.fake.world().stats;
    let counted = stats
        .get(&(BRAND, h.customer_id()))
        .map(|s| s.counted)
        .unwrap_or_default();
    (counted.first, counted.last, counted.second_last)
}

async fn apply(h: &Harness, n: usize, step: &Step) {
    match step {
        Step::Order { minutes, total } => {
            let at = t0() + Duration::minutes(*minutes);
            h.given_order(order_at(&format!("O-{n}"), *total, at)).await;
        }
        Step::Refund { pick, share } => {
            let orders = h.fake.world().orders;
            let Some(stored) = orders.get(pick % orders.len().max(1)) else {
                return;
            };
            let left = stored.order.total.amount() - stored.refunded.amount();
            let scope = match share {
                None => RefundScope::Full,
                Some(thousandths) => {
                    let amount = (left * rust_decimal::Decimal::from(*thousandths)
                        / rust_decimal::Decimal::from(1_000))
                    .round();
                    RefundScope::Amount {
                        amount: Money::new(amount, stored.order.total.currency()).unwrap(),
                    }
                }
            };
            let refund = Refund {
                brand_id: BRAND,
                key: EventKey::new("pos:generic", format!("R-{n}")).unwrap(),
                order: stored.order.key.clone(),
                refunded_at: t0() + days(20),
                scope,
            };
            // Refused refunds (nothing left, a zero amount) change nothing.
            let _ = h.services.refund_order(BRAND, refund).await;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_counted_times_are_kept_through_orders_and_refunds(
        steps in proptest::collection::vec(step(), 1..24),
    ) {
        rt().block_on(async {
            let h = Harness::standard();
            h.set_now(t0() + days(20));
            let mut ordered = false;
            for (n, step) in steps.iter().enumerate() {
                if !ordered && matches!(step, Step::Refund { .. }) {
                    continue;
                }
                ordered = true;
                apply(&h, n, step).await;
                prop_assert_eq!(kept(&h), expected(&h), "after step {}: {:?}", n, step);
            }
            Ok(())
        })?;
    }
}
