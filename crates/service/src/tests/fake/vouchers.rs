//! The fake's vouchers: issued, redeemed and voided once each.

use super::{Handle, conflict};
use regulars_loyalty::vouchers::VoucherStatus;
use regulars_ports::RedeemOutcome;
use regulars_ports::mocks::MockTransaction;

pub(super) fn vouchers(tx: &mut MockTransaction, h: &Handle) {
    let r = h.clone();
    tx.vouchers
        .expect_insert_voucher()
        .returning(move |brand, voucher, issued_by| {
            let voucher = voucher.clone();
            r.write("insert_voucher", move |w| {
                if w.vouchers
                    .iter()
                    .any(|(b, v, _)| *b == brand && v.code() == voucher.code())
                {
                    return Err(conflict("vouchers (brand_id, code)"));
                }
                w.vouchers.push((brand, voucher, issued_by));
                Ok(())
            })
        });
    let r = h.clone();
    tx.vouchers
        .expect_voucher_by_code()
        .returning(move |brand, code| {
            r.read("voucher_by_code", |w| {
                w.vouchers
                    .iter()
                    .find(|(b, v, _)| *b == brand && v.code() == code)
                    .map(|(_, v, _)| v.clone())
            })
        });
    let r = h.clone();
    tx.vouchers
        .expect_vouchers_of()
        .returning(move |brand, customer| {
            r.read("vouchers_of", |w| {
                w.vouchers
                    .iter()
                    .rev()
                    .filter(|(b, v, _)| *b == brand && v.customer() == customer)
                    .map(|(_, v, _)| v.clone())
                    .collect()
            })
        });
    let r = h.clone();
    tx.vouchers
        .expect_redeem_voucher()
        .returning(move |brand, code, now, order, _location| {
            let code = code.clone();
            r.write("redeem_voucher", move |w| {
                let Some((_, voucher, _)) = w
                    .vouchers
                    .iter_mut()
                    .find(|(b, v, _)| *b == brand && *v.code() == code)
                else {
                    return Ok(RedeemOutcome::NotFound);
                };
                Ok(match voucher.redeem(now, order) {
                    Ok(()) => RedeemOutcome::Redeemed(voucher.clone()),
                    Err(_) => RedeemOutcome::Refused(voucher.clone()),
                })
            })
        });
    let r = h.clone();
    tx.vouchers
        .expect_void_issued_by()
        .returning(move |brand, order, now, reason| {
            let reason = reason.to_owned();
            r.write("void_issued_by", move |w| {
                let mut voided = 0;
                for (b, voucher, issued_by) in &mut w.vouchers {
                    if *b == brand
                        && *issued_by == Some(order)
                        && *voucher.status() == VoucherStatus::Issued
                        && voucher.void(now, reason.clone()).is_ok()
                    {
                        voided += 1;
                    }
                }
                Ok(voided)
            })
        });
    let r = h.clone();
    tx.vouchers
        .expect_void_voucher()
        .returning(move |brand, id, now, reason| {
            let reason = reason.to_owned();
            r.write("void_voucher", move |w| {
                Ok(w.vouchers.iter_mut().any(|(b, voucher, _)| {
                    *b == brand
                        && voucher.id() == id
                        && *voucher.status() == VoucherStatus::Issued
                        && voucher.void(now, reason.clone()).is_ok()
                }))
            })
        });
}
