//! The fake's orders open to a claim, and the claims made.

use super::{Handle, conflict};
use regulars_ports::mocks::MockTransaction;
use regulars_ports::{ClaimableOrder, StoreError};

pub(super) fn claims(tx: &mut MockTransaction, h: &Handle) {
    let r = h.clone();
    tx.claims.expect_open_claim().returning(move |brand, open| {
        let open = open.clone();
        r.write("open_claim", move |w| {
            if w.claims
                .iter()
                .any(|(b, c, _)| *b == brand && c.code == open.code)
            {
                return Err(conflict("order_claims (brand_id, code)"));
            }
            w.claims.push((brand, open, None));
            Ok(())
        })
    });
    let r = h.clone();
    tx.claims
        .expect_order_by_claim_code()
        .returning(move |brand, code| {
            r.read("order_by_claim_code", |w| {
                w.claims
                    .iter()
                    .find(|(b, c, _)| *b == brand && c.code.as_deref() == Some(code))
                    .map(|(_, c, _)| c.order)
            })
        });
    let r = h.clone();
    tx.claims
        .expect_claim_code()
        .returning(move |brand, order| {
            r.read("claim_code", |w| {
                w.claims
                    .iter()
                    .find(|(b, c, _)| *b == brand && c.order == order)
                    .and_then(|(_, c, _)| c.code.clone())
            })
        });
    let r = h.clone();
    tx.claims
        .expect_unclaimed_at()
        .returning(move |brand, location, since, limit| {
            r.read("unclaimed_at", |w| {
                let mut open: Vec<ClaimableOrder> = w
                    .claims
                    .iter()
                    .filter(|(b, c, claim)| {
                        *b == brand
                            && claim.is_none()
                            && c.location.as_deref() == Some(location)
                            && c.placed_at >= since
                            && w.orders
                                .iter()
                                .any(|o| o.id == c.order && o.refunded.is_zero())
                    })
                    .map(|(_, c, _)| c.clone())
                    .collect();
                open.sort_by_key(|c| std::cmp::Reverse(c.placed_at));
                open.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                open
            })
        });
    let r = h.clone();
    tx.claims
        .expect_claim_order()
        .returning(move |brand, open, claim| {
            let (open, claim) = (open.clone(), claim.clone());
            r.write("claim_order", move |w| {
                let Some(order) = w.orders.iter_mut().find(|o| {
                    o.order.brand_id == brand
                        && o.id == claim.order
                        && o.customer_id.is_none()
                        && o.refunded.is_zero()
                }) else {
                    return Ok(false);
                };
                order.customer_id = Some(claim.customer);
                match w
                    .claims
                    .iter_mut()
                    .find(|(b, c, _)| *b == brand && c.order == claim.order)
                {
                    Some(row) => row.2 = Some(claim),
                    None => w.claims.push((brand, open, Some(claim))),
                }
                Ok(true)
            })
        });
    let r = h.clone();
    tx.claims
        .expect_set_claimed_points()
        .returning(move |brand, order, points| {
            r.write("set_claimed_points", move |w| {
                let order = w
                    .orders
                    .iter_mut()
                    .find(|o| o.order.brand_id == brand && o.id == order)
                    .ok_or_else(|| StoreError::NotFound("order".into()))?;
                order.points_earned = points;
                Ok(())
            })
        });
    let r = h.clone();
    tx.claims.expect_claim_of().returning(move |brand, order| {
        r.read("claim_of", |w| {
            w.claims
                .iter()
                .find(|(b, c, _)| *b == brand && c.order == order)
                .and_then(|(_, _, claim)| claim.clone())
        })
    });
    let r = h.clone();
    tx.claims
        .expect_claim_days()
        .returning(move |brand| r.read("claim_days", |w| w.claim_days.get(&brand).copied()));
    let r = h.clone();
    tx.claims
        .expect_set_claim_days()
        .returning(move |brand, days| {
            r.write("set_claim_days", move |w| {
                w.claim_days.insert(brand, days);
                Ok(())
            })
        });
}
