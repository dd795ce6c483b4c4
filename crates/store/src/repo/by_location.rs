//! The reads of campaigns and referrals limited to some locations: a condition on an
//! order's location code, and the two counts that need more than the order's own row
//! for it (a campaign's redemptions, at the location recorded with each or else its
//! order's; a brand's referrals by the friend's first purchase).

use crate::convert::to_u64;
use crate::error::{corrupt, in_ctx};
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, CampaignId, RewardId};
use regulars_ports::{CampaignVoucherCount, ReferralCounts, StoreError};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use uuid::Uuid;

/// `AND <column> IN (…)` with its values, parameters numbered from `from`; nothing
/// without `codes`. An empty list matches nothing (SQL has no empty `IN ()`).
pub(super) fn at_codes(
    backend: DbBackend,
    column: &str,
    from: usize,
    codes: Option<&[String]>,
) -> (String, Vec<Value>) {
    match codes {
        None => (String::new(), Vec::new()),
        Some([]) => (" AND 1 = 0".to_owned(), Vec::new()),
        Some(codes) => {
            let list = super::account_lots::placeholders(backend, from, codes.len());
            let values = codes.iter().map(|c| Value::from(c.clone())).collect();
            (format!(" AND {column} IN ({list})"), values)
        }
    }
}

fn p(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// Where a redemption counts, in a statement that joins the voucher `v` to the order it
/// names as `o`: the location recorded at redemption (the till's, or the order's when it
/// had arrived), else the order's location when it arrived afterwards.
pub(super) const REDEEMED_AT: &str = "COALESCE(v.redeemed_location, o.location)";

/// One statement: the campaign's vouchers per reward, issued all, redeemed only where
/// each was redeemed ([`REDEEMED_AT`]) is one of `codes`.
pub(super) async fn campaign_vouchers_at(
    tx: &StoreTransaction,
    brand: BrandId,
    campaign: CampaignId,
    codes: &[String],
) -> Result<Vec<CampaignVoucherCount>, StoreError> {
    let backend = tx.tx.get_database_backend();
    // SQLite binds `?` in the order of the text: the codes come first.
    let (at, values) = at_codes(backend, REDEEMED_AT, 1, Some(codes));
    let k = values.len();
    let sql = format!(
        "SELECT v.reward_id AS reward_id, CAST(COUNT(v.id) AS BIGINT) AS issued, \
         CAST(SUM(CASE WHEN v.status = 'redeemed'{at} THEN 1 ELSE 0 END) AS BIGINT) AS redeemed \
         FROM vouchers v \
         LEFT JOIN orders o ON o.brand_id = v.brand_id \
         AND o.source = v.redeemed_order_source AND o.external_id = v.redeemed_order_external_id \
         WHERE v.brand_id = {} AND v.campaign_id = {} \
         GROUP BY v.reward_id ORDER BY v.reward_id",
        p(backend, k + 1),
        p(backend, k + 2),
    );
    let mut all = values;
    all.extend([
        Value::from(brand.as_uuid()),
        Value::from(campaign.as_uuid()),
    ]);
    let rows = tx
        .tx
        .query_all_raw(Statement::from_sql_and_values(backend, sql, all))
        .await
        .map_err(in_ctx("count vouchers of a campaign redeemed at locations"))?;
    let read = in_ctx("read vouchers of a campaign redeemed at locations");
    rows.into_iter()
        .map(|row| {
            let reward: Uuid = row.try_get("", "reward_id").map_err(&read)?;
            let issued: i64 = row.try_get("", "issued").map_err(&read)?;
            let redeemed: Option<i64> = row.try_get("", "redeemed").map_err(&read)?;
            Ok(CampaignVoucherCount {
                reward: RewardId::from_uuid(reward),
                issued: to_u64("voucher count", issued)?,
                redeemed: to_u64("voucher count", redeemed.unwrap_or(0))?,
            })
        })
        .collect()
}

/// One statement: the accepted referrals (pending, rewarded, reversed) whose friend's
/// first order — the earliest placed, the lowest id among equals — was placed at
/// `codes`, by status. Invites and refusals belong to no location and are left out.
pub(super) async fn referral_counts_at(
    tx: &StoreTransaction,
    brand: BrandId,
    codes: &[String],
) -> Result<ReferralCounts, StoreError> {
    let backend = tx.tx.get_database_backend();
    let (at, values) = at_codes(backend, "f.first_location", 2, Some(codes));
    let sql = format!(
        "SELECT f.status AS status, CAST(COUNT(f.id) AS BIGINT) AS n FROM (\
         SELECT r.id AS id, r.status AS status, \
         (SELECT o.location FROM orders o WHERE o.brand_id = r.brand_id \
         AND o.customer_id = r.friend_id ORDER BY o.placed_at, o.id LIMIT 1) AS first_location \
         FROM referrals r WHERE r.brand_id = {} \
         AND r.status IN ('pending', 'rewarded', 'reversed')) f \
         WHERE 1 = 1{at} GROUP BY f.status",
        p(backend, 1),
    );
    let mut all = vec![Value::from(brand.as_uuid())];
    all.extend(values);
    let rows = tx
        .tx
        .query_all_raw(Statement::from_sql_and_values(backend, sql, all))
        .await
        .map_err(in_ctx("count referrals by the friend's first location"))?;
    let read = in_ctx("read referrals by the friend's first location");
    let mut counts = ReferralCounts::default();
    for row in rows {
        let status: String = row.try_get("", "status").map_err(&read)?;
        let n: i64 = row.try_get("", "n").map_err(&read)?;
        let n = to_u64("referrals count", n)?;
        match status.as_str() {
            "pending" => counts.pending += n,
            "rewarded" => counts.rewarded += n,
            "reversed" => counts.reversed += n,
            other => return Err(corrupt("referrals.status", other)),
        }
    }
    counts.signed_up = counts.pending + counts.rewarded + counts.reversed;
    Ok(counts)
}
