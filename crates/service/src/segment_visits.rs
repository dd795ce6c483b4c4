//! The segments report of a scope: per segment, the members who came to the scope's
//! locations during a period (see [`SegmentVisits`]).

use crate::Services;
use crate::reports::{LocalDays, ReportsError};
use crate::scope::Scope;
use regulars_domain::BrandId;
use regulars_reports::{SegmentVisits, SegmentVisitsBuilder};
use time::Date;

impl Services {
    /// Per segment of the latest scoring run, the customers with a counted order at
    /// `scope`'s locations in the brand's local days `[from, to)`, their orders and
    /// revenue; the period defaults as in [`report_overview`](Self::report_overview).
    /// The segments are the customers' own, brand-wide; only the visits are the scope's.
    pub async fn report_segment_visits(
        &self,
        brand: BrandId,
        scope: &Scope,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<(LocalDays, SegmentVisits), ReportsError> {
        let (found, _, _) = self.report_setup(brand, None).await?;
        let (days, period) = self.local_period(&found, from, to)?;
        let mut builder = SegmentVisitsBuilder::new(period, found.currency);
        self.each_order_in(brand, scope, period, |fact| builder.add_order(fact))
            .await?;
        self.each_segment(brand, |c, s| builder.add_segment(c, s))
            .await?;
        Ok((days, builder.finish().map_err(ReportsError::Data)?))
    }
}
