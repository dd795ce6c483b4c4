//! Each RFM segment's golden hour as the last scoring run learned it: read for the
//! dashboard and the API, and lent to a golden-hour campaign's customers who have no
//! preferred hour of their own.

use crate::Services;
use crate::account::load_brand;
use crate::segments::SegmentError;
use regulars_campaigns::plan::CustomerFacts;
use regulars_domain::BrandId;
use regulars_ports::{SegmentSendTime, StoreError, Transaction};
use std::collections::HashMap;

/// What the last scoring run learned of the brand's golden hours.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SegmentSendTimes {
    /// The brand's golden hour (what a customer of a segment too small to speak for
    /// itself, with no history, is given); `None` before the first run.
    pub brand_golden_hour: Option<u8>,
    /// Each RFM segment's, by segment name; empty before the first run.
    pub segments: Vec<SegmentSendTime>,
}

impl Services {
    /// The brand's and each RFM segment's golden hour as the last scoring run learned
    /// them.
    pub async fn segment_send_times(
        &self,
        brand: BrandId,
    ) -> Result<SegmentSendTimes, SegmentError> {
        self.transact("segment_send_times", |mut tx| async move {
            let result: Result<_, SegmentError> = async {
                load_brand::<SegmentError>(tx.as_mut(), brand).await?;
                let last = tx.intelligence().runs(brand, 1).await?.into_iter().next();
                let brand_golden_hour = last
                    .and_then(|r| r.summary.get("golden_hour").and_then(|h| h.as_u64()))
                    .and_then(|h| u8::try_from(h).ok())
                    .filter(|h| *h < 24);
                let segments = tx.intelligence().segment_send_times(brand).await?;
                Ok(SegmentSendTimes {
                    brand_golden_hour,
                    segments,
                })
            }
            .await;
            (tx, result)
        })
        .await
    }
}

/// Gives each customer without a preferred hour their segment's golden hour (the first
/// of their segments that has one: the RFM segment comes first). A customer who was
/// never scored has no segment and keeps none.
pub(crate) async fn lend_segment_hours(
    tx: &mut dyn Transaction,
    brand: BrandId,
    facts: &mut [CustomerFacts],
) -> Result<(), StoreError> {
    if facts
        .iter()
        .all(|f| f.preferred_hour.is_some() || f.segments.is_empty())
    {
        return Ok(());
    }
    let hours: HashMap<String, u8> = tx
        .intelligence()
        .segment_send_times(brand)
        .await?
        .into_iter()
        .filter_map(|s| Some((s.segment, s.golden_hour?)))
        .collect();
    for f in facts.iter_mut().filter(|f| f.preferred_hour.is_none()) {
        f.preferred_hour = f.segments.iter().find_map(|s| hours.get(s).copied());
    }
    Ok(())
}
