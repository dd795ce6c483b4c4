//! The grouping of an import's orders by customer.

use super::*;
use crate::group_by_phone;
use proptest::prelude::*;
use regulars_domain::Phone;

fn phone_of(n: u8) -> Phone {
    Phone::parse(&format!("0912345{n:03}"), Phone::VIETNAM).unwrap()
}

proptest! {
    /// Every order with a phone lands in exactly one group, the group of its phone; the
    /// groups come in the order of their first order and keep file order within, so a
    /// customer's orders are folded in the order they would be fed one by one.
    #[test]
    fn groups_partition_the_orders_in_file_order(
        customers in proptest::collection::vec(proptest::option::of(0u8..6), 0..40)
    ) {
        let orders: Vec<Order> = customers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut o = order(&format!("P-{i}"), 10_000);
                o.customer_phone = c.map(phone_of);
                o
            })
            .collect();
        let groups = group_by_phone(orders.iter().enumerate());
        let mut seen = Vec::new();
        let mut firsts = Vec::new();
        for (phone, positions) in &groups {
            prop_assert!(!positions.is_empty());
            prop_assert!(positions.windows(2).all(|w| w[0] < w[1]));
            for &i in positions {
                prop_assert_eq!(orders[i].customer_phone.as_ref(), Some(*phone));
            }
            firsts.push(positions[0]);
            seen.extend(positions.iter().copied());
        }
        prop_assert!(firsts.windows(2).all(|w| w[0] < w[1]));
        seen.sort_unstable();
        let with_phone: Vec<usize> = customers
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_some())
            .map(|(i, _)| i)
            .collect();
        prop_assert_eq!(seen, with_phone);
        let distinct: std::collections::BTreeSet<_> = customers.iter().flatten().collect();
        prop_assert_eq!(groups.len(), distinct.len());
    }
}
