//! The programme's cost beside the revenue: every voucher redeemed in a report's period
//! (at a report's locations, where each redemption counts), valued by its reward's cost
//! to the shop (`Reward::cost_to_shop`) from the menu price of the item it gives and the
//! total of the order it was redeemed on.

use crate::Services;
use crate::reports::{Codes, REPORT_PAGE, ReportsError};
use regulars_domain::{BrandId, Currency, Money, RewardId};
use regulars_loyalty::rewards::{Reward, RewardKind};
use regulars_reports::{Period, ReportError};
use std::collections::HashMap;

impl Services {
    /// Hands what each voucher redeemed in `period` at `codes` cost the shop (`None`
    /// when it cannot be valued) to `visit`, a page at a time.
    pub(crate) async fn each_redeemed_voucher_cost(
        &self,
        brand: BrandId,
        currency: Currency,
        period: Period,
        codes: &Codes,
        mut visit: impl FnMut(Option<Money>) -> Result<(), ReportError>,
    ) -> Result<(), ReportsError> {
        let (rewards, prices) = self
            .transact("programme_cost_catalogue", |mut tx| async move {
                let result: Result<_, ReportsError> = async {
                    let rewards = tx.brands().rewards(brand).await?;
                    let menu = tx.menu().menu_items(brand).await?;
                    Ok((rewards, menu))
                }
                .await;
                (tx, result)
            })
            .await?;
        let rewards: HashMap<RewardId, Reward> = rewards.into_iter().map(|r| (r.id, r)).collect();
        let prices: HashMap<String, Money> = prices
            .into_iter()
            .map(|item| (item.sku, item.price))
            .collect();
        let mut after = None;
        loop {
            let page = self
                .transact("report_redeemed_vouchers", |mut tx| async move {
                    let result: Result<_, ReportsError> = tx
                        .reports()
                        .redeemed_vouchers(brand, period, after, REPORT_PAGE)
                        .await
                        .map_err(Into::into);
                    (tx, result)
                })
                .await?;
            for voucher in page
                .iter()
                .filter(|v| codes.includes(v.location.as_deref()))
            {
                let cost = rewards.get(&voucher.reward).and_then(|reward| {
                    let item_price = match &reward.kind {
                        RewardKind::FreeItem { sku } | RewardKind::FreeModifier { sku } => {
                            prices.get(sku).copied()
                        }
                        RewardKind::FixedDiscount { .. } | RewardKind::PercentDiscount { .. } => {
                            None
                        }
                    };
                    reward.cost_to_shop(currency, item_price, voucher.order_total)
                });
                visit(cost).map_err(ReportsError::Data)?;
            }
            match page.last() {
                Some(last) if page.len() as u64 == REPORT_PAGE => after = Some(last.id),
                _ => return Ok(()),
            }
        }
    }
}
