//! Brand reports: the overview of a period, retention by monthly cohort, and revenue by
//! segment or location.
//!
//! The figures are computed by the pure folds of `regulars-reports`; this module streams
//! their facts from storage a page at a time, each page in its own short read
//! transaction (a brand may have millions of orders, and SQLite has one connection), so
//! a report made while orders arrive reflects each page as it was read.

use crate::Services;
use crate::account::load_brand;
use crate::error::{ErrorClass, UseCaseError, common_variants, store_class};
use crate::scope::Scope;
use regulars_domain::{BrandId, CustomerId, OrderId, local_date};
use regulars_ports::{Brand, StoreError};
use regulars_reports::{
    Breakdown, CohortBuilder, Cohorts, Interval, LocationBuilder, LocationReport, OrderFact,
    Overview, OverviewBuilder, Period, PointsTotals, ReportError, RevenueBuilder, RevenueReport,
    VoucherCounts, YearMonth,
};
use thiserror::Error;
use time::{Date, Duration, OffsetDateTime};

/// Rows read per page (and per transaction).
pub const REPORT_PAGE: u64 = 10_000;
/// Days a report period spans when its start is not given.
pub const DEFAULT_DAYS: i64 = 30;

/// A report's period as the brand's local days `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalDays {
    /// The first day.
    pub from: Date,
    /// The day after the last.
    pub to: Date,
}

/// Why a report could not be made.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ReportsError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// A parameter is out of range: an empty period, too many days, weeks or months.
    #[error("{message}")]
    Invalid {
        /// The parameter at fault (`from`, `to`, `months`).
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// Stored data the report cannot fold (an order in another currency, a sum out of
    /// range).
    #[error("stored data cannot be reported: {0}")]
    Data(ReportError),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(ReportsError, brand);

impl UseCaseError for ReportsError {
    fn class(&self) -> ErrorClass {
        match self {
            ReportsError::UnknownBrand(_) => ErrorClass::NotFound,
            ReportsError::Invalid { .. } => ErrorClass::Invalid,
            ReportsError::Data(_) => ErrorClass::Internal,
            ReportsError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ReportsError::UnknownBrand(_) => Some("brand"),
            ReportsError::Invalid { field, .. } => Some(field),
            ReportsError::Data(_) | ReportsError::Store(_) => None,
        }
    }
}

/// A fold error while setting a report up is the caller's parameter; while folding
/// stored facts it is the data's.
fn setup_error(error: ReportError) -> ReportsError {
    let field = match &error {
        ReportError::EmptyPeriod
        | ReportError::TooLong {
            what: "days" | "weeks",
            ..
        } => "to",
        ReportError::TooLong { .. } => "months",
        ReportError::OutOfRange => "from",
        ReportError::Currency { .. } | ReportError::Overflow(_) => {
            return ReportsError::Data(error);
        }
    };
    ReportsError::Invalid {
        field,
        message: error.to_string(),
    }
}

impl Services {
    /// The brand, and the totals storage adds up itself for `period`.
    pub(crate) async fn report_setup(
        &self,
        brand: BrandId,
        period: Option<Period>,
    ) -> Result<(Brand, VoucherCounts, PointsTotals), ReportsError> {
        self.transact("report_setup", |mut tx| async move {
            let result: Result<_, ReportsError> = async {
                let found = load_brand::<ReportsError>(tx.as_mut(), brand).await?;
                let Some(period) = period else {
                    return Ok((found, VoucherCounts::default(), PointsTotals::default()));
                };
                let vouchers = tx.reports().voucher_counts(brand, period).await?;
                let points = tx.reports().points_totals(brand, period).await?;
                Ok((found, vouchers, points))
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Hands every order placed in `period` to `visit`, a page at a time.
    async fn each_order(
        &self,
        brand: BrandId,
        period: Period,
        codes: &Codes,
        mut visit: impl FnMut(&OrderFact) -> Result<(), ReportError>,
    ) -> Result<(), ReportsError> {
        let mut after: Option<(OffsetDateTime, OrderId)> = None;
        loop {
            let page = self
                .transact("report_orders", |mut tx| async move {
                    let result: Result<_, ReportsError> = tx
                        .reports()
                        .order_facts(brand, period, after, REPORT_PAGE)
                        .await
                        .map_err(Into::into);
                    (tx, result)
                })
                .await?;
            for fact in page
                .iter()
                .filter(|f| codes.includes(f.location.as_deref()))
            {
                visit(fact).map_err(ReportsError::Data)?;
            }
            match page.last() {
                Some(last) if page.len() as u64 == REPORT_PAGE => {
                    after = Some((last.placed_at, last.id));
                }
                _ => return Ok(()),
            }
        }
    }

    /// Hands every customer with a counted order before `before` to `visit`.
    async fn each_prior_customer(
        &self,
        brand: BrandId,
        before: OffsetDateTime,
        codes: &Codes,
        mut visit: impl FnMut(CustomerId),
    ) -> Result<(), ReportsError> {
        let mut after = None;
        loop {
            let page = self
                .transact("report_customers", |mut tx| {
                    let locations = codes.to_vec();
                    async move {
                        let result: Result<_, ReportsError> = tx
                            .reports()
                            .customers_before(brand, before, locations, after, REPORT_PAGE)
                            .await
                            .map_err(Into::into);
                        (tx, result)
                    }
                })
                .await?;
            for &customer in &page {
                visit(customer);
            }
            match page.last() {
                Some(&last) if page.len() as u64 == REPORT_PAGE => after = Some(last),
                _ => return Ok(()),
            }
        }
    }

    /// Hands every scored customer's current segment to `visit`.
    pub(crate) async fn each_segment(
        &self,
        brand: BrandId,
        mut visit: impl FnMut(CustomerId, String),
    ) -> Result<(), ReportsError> {
        let mut after = None;
        loop {
            let page = self
                .transact("report_segments", |mut tx| async move {
                    let result: Result<_, ReportsError> = tx
                        .reports()
                        .current_segments(brand, after, REPORT_PAGE)
                        .await
                        .map_err(Into::into);
                    (tx, result)
                })
                .await?;
            let full = page.len() as u64 == REPORT_PAGE;
            let last = page.last().map(|(c, _)| *c);
            for (customer, segment) in page {
                visit(customer, segment);
            }
            match last {
                Some(last) if full => after = Some(last),
                _ => return Ok(()),
            }
        }
    }

    /// The local days `[from, to)`; `to` defaults to tomorrow (the period includes
    /// today) and `from` to [`DEFAULT_DAYS`] days before `to`.
    pub(crate) fn local_period(
        &self,
        brand: &Brand,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<(LocalDays, Period), ReportsError> {
        let today =
            local_date(self.clock.now(), brand.utc_offset).ok_or(ReportsError::Invalid {
                field: "to",
                message: "the clock is outside the calendar".to_owned(),
            })?;
        let out_of_range = |field| ReportsError::Invalid {
            field,
            message: format!("`{field}` is outside the calendar"),
        };
        let to = match to {
            Some(to) => to,
            None => today.next_day().ok_or_else(|| out_of_range("to"))?,
        };
        let from = match from {
            Some(from) => from,
            None => to
                .checked_sub(Duration::days(DEFAULT_DAYS))
                .ok_or_else(|| out_of_range("from"))?,
        };
        let period = Period::local_days(from, to, brand.utc_offset).map_err(setup_error)?;
        Ok((LocalDays { from, to }, period))
    }

    /// The overview of the brand's local days `[from, to)` with a series by `interval`
    /// (see [`Overview`] for what each figure means). Without `to` the period ends
    /// today, without `from` it is [`DEFAULT_DAYS`] days long.
    pub async fn report_overview(
        &self,
        brand: BrandId,
        from: Option<Date>,
        to: Option<Date>,
        interval: Interval,
    ) -> Result<(LocalDays, Overview), ReportsError> {
        self.report_overview_in(brand, &Scope::Brand, from, to, interval)
            .await
    }

    /// [`report_overview`](Self::report_overview) of the orders at `scope`'s locations.
    /// Customers are new or returning, and prior, by their orders at those locations.
    /// Vouchers issued and points belong to customers, not shops: a scope narrower than
    /// the brand leaves them out (zero); the programme's cost counts the vouchers
    /// redeemed at those locations.
    pub async fn report_overview_in(
        &self,
        brand: BrandId,
        scope: &Scope,
        from: Option<Date>,
        to: Option<Date>,
        interval: Interval,
    ) -> Result<(LocalDays, Overview), ReportsError> {
        let (found, _, _) = self.report_setup(brand, None).await?;
        let codes = self.scope_codes(brand, scope).await?;
        let (days, period) = self.local_period(&found, from, to)?;
        let mut builder = OverviewBuilder::new(period, found.utc_offset, interval, found.currency)
            .map_err(setup_error)?;
        if scope.is_brand() {
            let (_, vouchers, points) = self.report_setup(brand, Some(period)).await?;
            builder.add_vouchers(vouchers);
            builder.add_points(points).map_err(ReportsError::Data)?;
        }
        self.each_redeemed_voucher_cost(brand, found.currency, period, &codes, |cost| {
            builder.add_redeemed_voucher(cost)
        })
        .await?;
        // Added up by storage: one row per bucket and one of customer counts, so the
        // period's orders are never read into memory.
        let bucketing = builder.bucketing();
        let (buckets, customers, prior) = self
            .transact("report_overview_sums", |mut tx| {
                let locations = codes.to_vec();
                async move {
                    let result: Result<_, ReportsError> = async {
                        let reports = tx.reports();
                        let buckets = reports
                            .overview_buckets(brand, period, bucketing, locations.clone())
                            .await?;
                        let customers = reports
                            .overview_customers(brand, period, locations.clone())
                            .await?;
                        let prior = reports
                            .count_customers_before(brand, period.from, locations)
                            .await?;
                        Ok((buckets, customers, prior))
                    }
                    .await;
                    (tx, result)
                }
            })
            .await?;
        for row in &buckets {
            builder.add_bucket(row).map_err(ReportsError::Data)?;
        }
        builder.add_customer_totals(customers);
        builder.set_prior_count(prior);
        Ok((days, builder.finish().map_err(ReportsError::Data)?))
    }

    /// Retention of the `months` monthly cohorts from `first` (months in the brand's
    /// local time), as known now: months that have not begun are left out. Without
    /// `first`, the table ends with the current month.
    pub async fn report_cohorts(
        &self,
        brand: BrandId,
        first: Option<YearMonth>,
        months: u32,
    ) -> Result<Cohorts, ReportsError> {
        self.report_cohorts_in(brand, &Scope::Brand, first, months)
            .await
    }

    /// [`report_cohorts`](Self::report_cohorts) of the orders at `scope`'s locations.
    pub async fn report_cohorts_in(
        &self,
        brand: BrandId,
        scope: &Scope,
        first: Option<YearMonth>,
        months: u32,
    ) -> Result<Cohorts, ReportsError> {
        let (found, _, _) = self.report_setup(brand, None).await?;
        let codes = self.scope_codes(brand, scope).await?;
        let now = self.clock.now();
        let first = match first {
            Some(first) => first,
            None => {
                let today = local_date(now, found.utc_offset)
                    .ok_or(ReportError::OutOfRange)
                    .map_err(setup_error)?;
                let back = i64::from(months.max(1)) - 1;
                YearMonth::from_index(YearMonth::of(today).index() - back)
                    .ok_or(ReportError::OutOfRange)
                    .map_err(setup_error)?
            }
        };
        let mut builder = CohortBuilder::new(first, months, found.utc_offset, now, found.currency)
            .map_err(setup_error)?;
        let start = builder.window_start();
        self.each_prior_customer(brand, start, &codes, |c| builder.add_prior_customer(c))
            .await?;
        let window = Period::new(start, builder.window_end()).map_err(setup_error)?;
        self.each_order(brand, window, &codes, |fact| builder.add_order(fact))
            .await?;
        builder.finish().map_err(ReportsError::Data)
    }

    /// Revenue of the brand's local days `[from, to)` by customer segment (the latest
    /// scoring run's) or by location; the period defaults as in
    /// [`report_overview`](Self::report_overview).
    pub async fn report_revenue(
        &self,
        brand: BrandId,
        from: Option<Date>,
        to: Option<Date>,
        by: Breakdown,
    ) -> Result<(LocalDays, RevenueReport), ReportsError> {
        self.report_revenue_in(brand, &Scope::Brand, from, to, by)
            .await
    }

    /// [`report_revenue`](Self::report_revenue) of the orders at `scope`'s locations.
    pub async fn report_revenue_in(
        &self,
        brand: BrandId,
        scope: &Scope,
        from: Option<Date>,
        to: Option<Date>,
        by: Breakdown,
    ) -> Result<(LocalDays, RevenueReport), ReportsError> {
        let (found, _, _) = self.report_setup(brand, None).await?;
        let codes = self.scope_codes(brand, scope).await?;
        let (days, period) = self.local_period(&found, from, to)?;
        let mut builder = RevenueBuilder::new(period, by, found.currency);
        if by == Breakdown::Segment {
            self.each_segment(brand, |c, s| builder.add_segment(c, s))
                .await?;
        }
        self.each_order(brand, period, &codes, |fact| builder.add_order(fact))
            .await?;
        Ok((days, builder.finish().map_err(ReportsError::Data)?))
    }

    /// The figures of the brand's local days `[from, to)` by location (see
    /// [`LocationReport`]), limited to `scope`'s locations; the period defaults as in
    /// [`report_overview`](Self::report_overview).
    pub async fn report_locations(
        &self,
        brand: BrandId,
        scope: &Scope,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<(LocalDays, LocationReport), ReportsError> {
        let (found, _, _) = self.report_setup(brand, None).await?;
        let codes = self.scope_codes(brand, scope).await?;
        let (days, period) = self.local_period(&found, from, to)?;
        let mut builder = LocationBuilder::new(period, found.currency);
        let points = self
            .transact("report_points_by_location", |mut tx| async move {
                let result: Result<_, ReportsError> = tx
                    .reports()
                    .points_by_location(brand, period)
                    .await
                    .map_err(Into::into);
                (tx, result)
            })
            .await?;
        for (location, earned) in points {
            if codes.includes(location.as_deref()) {
                builder
                    .add_points(location, earned)
                    .map_err(ReportsError::Data)?;
            }
        }
        self.each_order(brand, period, &codes, |fact| builder.add_order(fact))
            .await?;
        Ok((days, builder.finish().map_err(ReportsError::Data)?))
    }

    /// Hands every order placed in `period` at `scope`'s locations to `visit`.
    pub(crate) async fn each_order_in(
        &self,
        brand: BrandId,
        scope: &Scope,
        period: Period,
        visit: impl FnMut(&OrderFact) -> Result<(), ReportError>,
    ) -> Result<(), ReportsError> {
        let codes = self.scope_codes(brand, scope).await?;
        self.each_order(brand, period, &codes, visit).await
    }

    /// The location codes of `scope`; a location the brand does not have is an invalid
    /// `location` (whoever's it is).
    pub(crate) async fn scope_codes(
        &self,
        brand: BrandId,
        scope: &Scope,
    ) -> Result<Codes, ReportsError> {
        let Scope::Locations(ids) = scope else {
            return Ok(Codes::All);
        };
        let ids = ids.clone();
        let known = self
            .transact("report_scope", |mut tx| async move {
                let result: Result<_, ReportsError> =
                    tx.locations().locations(brand).await.map_err(Into::into);
                (tx, result)
            })
            .await?;
        let mut codes = Vec::with_capacity(ids.len());
        for id in &ids {
            let location =
                known
                    .iter()
                    .find(|l| l.id == *id)
                    .ok_or_else(|| ReportsError::Invalid {
                        field: "location",
                        message: format!("no location {id} in this brand"),
                    })?;
            codes.push(location.code.clone());
        }
        Ok(Codes::Only(codes))
    }
}

/// The location codes a report reads: every order, or those placed at these codes.
#[derive(Debug, Clone)]
pub(crate) enum Codes {
    All,
    Only(Vec<String>),
}

impl Codes {
    pub(crate) fn includes(&self, location: Option<&str>) -> bool {
        match self {
            Codes::All => true,
            Codes::Only(codes) => location.is_some_and(|l| codes.iter().any(|c| c == l)),
        }
    }

    fn to_vec(&self) -> Option<Vec<String>> {
        match self {
            Codes::All => None,
            Codes::Only(codes) => Some(codes.clone()),
        }
    }
}
