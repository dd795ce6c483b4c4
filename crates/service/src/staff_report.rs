//! The report by staff member: per staff member at the till and location, the orders
//! they rang up (net of refunds, as the other reports count them), the customers they
//! signed up and the vouchers they redeemed, from the till's records of what each did
//! (see `till::staff_actions`). Orders from a POS or the API have no staff member and
//! are in the other reports only.

use crate::Services;
use crate::reports::{LocalDays, REPORT_PAGE, ReportsError};
use crate::scope::Scope;
use regulars_domain::{BrandId, OrderId, StaffId};
use regulars_ports::{TillAction, TillActionKind};
use regulars_reports::{OrderFact, ReportError, StaffBuilder, StaffReport};
use std::collections::HashMap;
use time::{Date, OffsetDateTime};

/// The report by staff member, with the staff members' names.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffReportView {
    /// The period.
    pub days: LocalDays,
    /// The rows and their total.
    pub report: StaffReport,
    /// The names of the staff members in the rows (removed ones too).
    pub names: HashMap<StaffId, String>,
}

impl Services {
    /// The report by staff member of the brand's local days `[from, to)` at `scope`'s
    /// locations; the period defaults as in
    /// [`report_overview`](Self::report_overview).
    pub async fn report_staff(
        &self,
        brand: BrandId,
        scope: &Scope,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<StaffReportView, ReportsError> {
        let (found, _, _) = self.report_setup(brand, None).await?;
        let (days, period) = self.local_period(&found, from, to)?;
        let (locations, staff) = self
            .transact("report_staff_setup", |mut tx| async move {
                let result: Result<_, ReportsError> = async {
                    let locations = tx.locations().locations(brand).await?;
                    let staff = tx.till().staff(brand).await?;
                    Ok((locations, staff))
                }
                .await;
                (tx, result)
            })
            .await?;
        let codes: HashMap<_, _> = locations
            .iter()
            .filter(|l| scope.covers(l.id))
            .map(|l| (l.id, l.code.clone()))
            .collect();
        let mut builder = StaffBuilder::new(found.currency);
        let mut after: Option<(OffsetDateTime, uuid::Uuid)> = None;
        loop {
            let page = self
                .transact("report_staff", |mut tx| async move {
                    let result: Result<_, ReportsError> = async {
                        let actions = tx
                            .till()
                            .till_actions(brand, period.from, period.to, after, REPORT_PAGE)
                            .await?;
                        // The orders of the page, as the other reports see them now.
                        let mut facts: HashMap<OrderId, OrderFact> = HashMap::new();
                        for order in actions.iter().filter_map(|a| a.order_id) {
                            if let Some(stored) = tx.orders().order(brand, order).await? {
                                facts.insert(
                                    order,
                                    OrderFact {
                                        id: stored.id,
                                        customer: stored.customer_id,
                                        location: stored.order.location.clone(),
                                        placed_at: stored.order.placed_at,
                                        total: stored.order.total,
                                        refunded: stored.refunded,
                                    },
                                );
                            }
                        }
                        Ok((actions, facts))
                    }
                    .await;
                    (tx, result)
                })
                .await?;
            let (actions, facts) = page;
            for action in &actions {
                add(&mut builder, action, &codes, &facts).map_err(ReportsError::Data)?;
            }
            match actions.last() {
                Some(last) if actions.len() as u64 == REPORT_PAGE => {
                    after = Some((last.at, last.id));
                }
                _ => break,
            }
        }
        let report = builder.finish().map_err(ReportsError::Data)?;
        let names = staff.into_iter().map(|s| (s.id, s.name)).collect();
        Ok(StaffReportView {
            days,
            report,
            names,
        })
    }
}

/// Adds one till action at a location of the scope.
fn add(
    builder: &mut StaffBuilder,
    action: &TillAction,
    codes: &HashMap<regulars_domain::LocationId, String>,
    facts: &HashMap<OrderId, OrderFact>,
) -> Result<(), ReportError> {
    let Some(code) = codes.get(&action.location_id) else {
        return Ok(());
    };
    match action.kind {
        TillActionKind::Order => {
            if let Some(fact) = action.order_id.and_then(|o| facts.get(&o)) {
                builder.add_order(action.staff_id, code, fact)?;
            }
        }
        TillActionKind::SignUp => builder.add_sign_up(action.staff_id, code),
        TillActionKind::Voucher => builder.add_voucher(action.staff_id, code),
    }
    Ok(())
}
