//! What each staff member does at the till, kept for the report by staff member: an
//! order rung up, a customer signed up, a voucher redeemed.
//!
//! The action is recorded after the use case it follows has committed, in a transaction
//! of its own: the order, the customer or the redemption stands whatever happens to the
//! record, and a record that could not be written is logged and left out of the report
//! (it must not make a cashier repeat an action that succeeded).

use super::TillStaff;
use crate::{RedeemVoucherError, Services};
use regulars_domain::OrderId;
use regulars_loyalty::vouchers::Voucher;
use regulars_ports::{TillAction, TillActionKind};

impl Services {
    /// Records that `at`'s staff member did `kind` (on `order`) now.
    pub(crate) async fn record_till_action(
        &self,
        at: &TillStaff,
        kind: TillActionKind,
        order: Option<OrderId>,
    ) {
        let action = TillAction {
            id: self.ids.new_id(),
            brand_id: at.brand,
            at: self.clock.now(),
            staff_id: at.staff,
            location_id: at.location.id,
            kind,
            order_id: order,
        };
        let action = &action;
        let written: Result<(), crate::ReportsError> = self
            .transact("record_till_action", |mut tx| async move {
                let result = tx
                    .till()
                    .record_till_action(action)
                    .await
                    .map_err(Into::into);
                (tx, result)
            })
            .await;
        if let Err(error) = written {
            tracing::warn!(brand = %at.brand, staff = %at.staff, kind = kind.as_str(), %error,
                "a till action was not recorded for the report by staff member");
        }
    }

    /// Redeems a voucher at the till, recorded at its location and as this staff
    /// member's.
    pub async fn till_redeem_voucher(
        &self,
        at: &TillStaff,
        code: &str,
    ) -> Result<Voucher, RedeemVoucherError> {
        let voucher = self
            .redeem_voucher_keyed(at.brand, code, None, Some(at.location.id), None)
            .await?;
        self.record_till_action(at, TillActionKind::Voucher, None)
            .await;
        Ok(voucher)
    }
}
