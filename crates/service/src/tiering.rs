//! A customer's qualifying value for the brand's tier programme, from what storage keeps
//! (exact for a points metric, sometimes a lower bound for a spend metric: see the crate
//! documentation, "Tier qualification").

use regulars_domain::Money;
use regulars_loyalty::ledger::{EntryKind, LedgerEntry};
use regulars_loyalty::tiers::{
    QualificationMetric, QualifyingActivity, QualifyingValue, TierCode, TierError, TierProgram,
};
use regulars_ports::CustomerStats;
use time::OffsetDateTime;

/// A qualifying value and whether it is exact or only a lower bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Qualifying {
    pub value: QualifyingValue,
    pub exact: bool,
}

/// The customer's qualifying value over the window ending at `now`.
///
/// `order_total` is the order being ingested, if any: the lower bound of the spend metric
/// when the exact figure is unknown. `None` when nothing useful is known.
pub(crate) fn qualifying(
    program: &TierProgram,
    entries: &[LedgerEntry],
    stats: &CustomerStats,
    now: OffsetDateTime,
    order_total: Option<Money>,
) -> Result<Option<Qualifying>, TierError> {
    match program.metric() {
        QualificationMetric::Points => {
            let activities: Vec<QualifyingActivity> =
                entries.iter().filter_map(points_activity).collect();
            Ok(Some(Qualifying {
                value: program.qualifying_value(&activities, now)?,
                exact: true,
            }))
        }
        QualificationMetric::Spend { .. } => {
            let start = program.window_start(now);
            let all_in_window = match stats.first_visit_at {
                None => true,
                Some(first) => start.is_none_or(|s| first > s),
            };
            Ok(if all_in_window {
                Some(Qualifying {
                    value: QualifyingValue::Spend(stats.spend),
                    exact: true,
                })
            } else {
                order_total.map(|total| Qualifying {
                    value: QualifyingValue::Spend(total),
                    exact: false,
                })
            })
        }
    }
}

/// What a ledger entry counts towards a points tier.
fn points_activity(entry: &LedgerEntry) -> Option<QualifyingActivity> {
    let points = match &entry.kind {
        EntryKind::Earn { .. } => entry.amount,
        // `amount` is what was taken back (zero or negative); `unrecovered` was reversed
        // too, only not recovered from the balance.
        EntryKind::Reverse { unrecovered, .. } => entry.amount.checked_sub(*unrecovered)?,
        EntryKind::Redeem { .. }
        | EntryKind::Restore { .. }
        | EntryKind::Expire { .. }
        | EntryKind::Adjust { .. }
        | EntryKind::CampaignBonus { .. } => {
            return None;
        }
    };
    Some(QualifyingActivity {
        at: entry.at,
        value: QualifyingValue::Points(points),
    })
}

/// The customer's current tier as the programme knows it. A stored code the programme no
/// longer has (a tier was removed) counts as no tier, as [`TierError::UnknownTier`]
/// suggests.
pub(crate) fn held_tier(program: &TierProgram, stats: &CustomerStats) -> Option<TierCode> {
    let code = TierCode::new(stats.tier.as_ref()?.code.clone()).ok()?;
    program.tier(&code).map(|_| code)
}
