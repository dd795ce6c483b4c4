//! The overview: the brand report of a period (last 7, 30 or 90 days) with its trend
//! charts, revenue by segment and by location, retention by monthly cohort, and the
//! brand's customers at its latest scoring run with trends over runs.
//!
//! Every report figure comes from the same service calls, with the same defaults, as
//! `GET /v1/reports/*`: the 30-day view asks for the API's default period, the others
//! for the same local days ending today. Each figure is shown as people read it and
//! carries its exact value in a `<data value="…">` element, so the page can be checked
//! against the API.

use crate::WebState;
use crate::chart::{Axis, Series, line_chart, line_chart_of};
use crate::i18n::Text;
use crate::pages::by_location;
use crate::render::{Fail, Nav, dashboard, day, money_text, ok, percent, when};
use crate::session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};

use regulars_domain::{Money, local_date};
use regulars_ports::ScoringRun;
use regulars_reports::{Breakdown, Cohorts, Interval, LocationReport, Overview, RevenueReport};
use regulars_service::{DEFAULT_DAYS, LocalDays, ReportsError, Scope};
use serde::Deserialize;
use std::collections::BTreeSet;
use time::macros::format_description;
use time::{Date, Duration};

/// Runs shown in the trends.
const TREND_RUNS: u64 = 30;
/// The periods one can choose, in days.
pub(crate) const PERIODS: [i64; 3] = [7, 30, 90];
/// Monthly cohorts in the retention table (as `GET /v1/reports/cohorts` by default).
pub(crate) const COHORT_MONTHS: u32 = 12;

/// The x labels and the series "segment sizes" of runs, oldest first.
pub(crate) fn segment_series(runs: &[ScoringRun]) -> (Vec<String>, Vec<Series>) {
    let labels = runs.iter().map(|r| day(r.at)).collect();
    let names: BTreeSet<&String> = runs.iter().flat_map(|r| r.segment_sizes.keys()).collect();
    let series = names
        .into_iter()
        .map(|name| Series {
            name: name.clone(),
            values: runs
                .iter()
                .map(|r| r.segment_sizes.get(name).copied().unwrap_or(0) as f64)
                .collect(),
        })
        .collect();
    (labels, series)
}

fn with_visits(run: &ScoringRun) -> Option<u64> {
    run.summary.get("customers_with_visits")?.as_u64()
}

/// The page's query: `?days=7|30|90&location=<id>`.
#[derive(Debug, Deserialize)]
pub(crate) struct OverviewQuery {
    days: Option<String>,
    location: Option<String>,
}

/// The chosen period in days: one of [`PERIODS`], else the API's default.
pub(crate) fn chosen_days(raw: Option<&str>) -> i64 {
    raw.and_then(|d| d.trim().parse::<i64>().ok())
        .filter(|d| PERIODS.contains(d))
        .unwrap_or(DEFAULT_DAYS)
}

/// The series interval of a period: daily up to a month, weekly beyond.
pub(crate) fn interval_for(days: i64) -> Interval {
    if days > 31 {
        Interval::Week
    } else {
        Interval::Day
    }
}

fn format_date(date: Date) -> String {
    date.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_else(|_| date.to_string())
}

/// The exact amount of a sum of money, as the API writes it.
fn exact(money: &Money) -> String {
    money.amount().to_string()
}

fn money_value(money: &Money) -> f64 {
    money.amount().to_string().parse().unwrap_or(0.0)
}

/// A figure: `shown` for people, `value` for machines.
fn figure(id: &str, label: &str, value: &str, shown: &str) -> Markup {
    html! {
        div.card id=(id) {
            div.label { (label) }
            div.value { data value=(value) { (shown) } }
        }
    }
}

/// What the programme gave away beside the revenue: the vouchers redeemed in the period
/// at their cost to the shop, its share of the revenue, and one line saying what it is.
fn programme_cost(session: &Session, o: &Overview) -> Markup {
    let cost = &o.programme_cost;
    let share = cost.share_of(o.revenue).map_or("—".to_owned(), percent);
    let (label, note, unpriced) = match session.lang {
        crate::i18n::Lang::En => (
            "Programme cost",
            format!(
                "{share} of revenue · {} vouchers redeemed, each at what it took off its order",
                cost.redeemed
            ),
            format!("{} could not be valued", cost.unpriced),
        ),
        crate::i18n::Lang::Vi => (
            "Chi phí chương trình",
            format!(
                "{share} doanh thu · {} voucher đã dùng, mỗi voucher tính theo số tiền đã giảm cho đơn",
                cost.redeemed
            ),
            format!("{} voucher không định giá được", cost.unpriced),
        ),
    };
    html! {
        div.card #programme-cost {
            div.label { (label) }
            div.value { data value=(exact(&cost.cost)) { (money_text(&cost.cost)) } }
            div.muted.note #programme-cost-note { (note) }
            @if cost.unpriced > 0 { div.muted.note #programme-cost-unpriced { (unpriced) } }
        }
    }
}

/// A rate as a figure; `None` (no denominator) shows a dash and an empty value.
fn rate_figure(id: &str, label: &str, rate: Option<f64>) -> Markup {
    figure(
        id,
        label,
        &rate.map_or(String::new(), |r| r.to_string()),
        &rate.map_or("—".to_owned(), percent),
    )
}

/// The reports of the page's period.
struct Reports {
    days: LocalDays,
    overview: Overview,
    by_segment: RevenueReport,
    by_location: RevenueReport,
    locations: LocationReport,
    cohorts: Cohorts,
}

async fn reports(
    state: &WebState,
    session: &Session,
    scope: &Scope,
    days: i64,
) -> Result<Reports, Fail> {
    let brand = session.brand();
    let fail = |e: ReportsError| Fail::internal(session.lang, &e);
    // The API's default period when it is the one chosen; otherwise the same local days
    // ending today that `?from=` asks for.
    let from = if days == DEFAULT_DAYS {
        None
    } else {
        let found = state
            .services
            .brand(brand)
            .await
            .map_err(|e| Fail::internal(session.lang, &e))?;
        local_date(state.now(), found.utc_offset)
            .and_then(|today| today.next_day())
            .and_then(|to| to.checked_sub(Duration::days(days)))
    };
    let services = &state.services;
    let (days, overview) = services
        .report_overview_in(brand, scope, from, None, interval_for(days))
        .await
        .map_err(fail)?;
    let (from, to) = (Some(days.from), Some(days.to));
    let (_, by_segment) = services
        .report_revenue_in(brand, scope, from, to, Breakdown::Segment)
        .await
        .map_err(fail)?;
    let (_, by_location) = services
        .report_revenue_in(brand, scope, from, to, Breakdown::Location)
        .await
        .map_err(fail)?;
    let (_, locations) = services
        .report_locations(brand, scope, from, to)
        .await
        .map_err(fail)?;
    let cohorts = services
        .report_cohorts_in(brand, scope, None, COHORT_MONTHS)
        .await
        .map_err(fail)?;
    Ok(Reports {
        days,
        overview,
        by_segment,
        by_location,
        locations,
        cohorts,
    })
}

fn revenue_table(id: &str, report: &RevenueReport, t: &Text) -> Markup {
    html! {
        @if report.rows.is_empty() { p.muted { (t.no_orders) } }
        @else {
            table id=(id) {
                tr { th { (t.group) } th { (t.revenue) } th { (t.orders) } th { (t.share) } }
                @for row in &report.rows {
                    tr {
                        td.key { (row.label(report.by)) }
                        td.revenue { data value=(exact(&row.revenue)) { (money_text(&row.revenue)) } }
                        td.orders { (row.orders) }
                        td.share {
                            (row.share.map_or("—".to_owned(), percent))
                            div.bar { span style=(format!("width:{:.1}%", row.share.unwrap_or(0.0) * 100.0)) {} }
                        }
                    }
                }
            }
        }
    }
}

fn cohort_table(cohorts: &Cohorts, t: &Text) -> Markup {
    let width = cohorts
        .cohorts
        .iter()
        .map(|c| c.retention.len())
        .max()
        .unwrap_or(0);
    html! {
        @if cohorts.cohorts.iter().all(|c| c.size == 0) { p.muted { (t.no_cohorts) } }
        @else {
            div.scroll {
                table.heat #cohorts {
                    tr {
                        th { (t.cohort) }
                        th { (t.cohort_size) }
                        @for offset in 0..width { th { "+" (offset) } }
                    }
                    @for cohort in &cohorts.cohorts {
                        tr data-month=(cohort.month.to_string()) {
                            th { (cohort.month.to_string()) }
                            td.size { (cohort.size) }
                            @for cell in &cohort.retention {
                                td style=(format!("background:rgba(11,107,203,{:.2})", cell.share.clamp(0.0, 1.0) * 0.85))
                                    class=[(cell.share > 0.5).then_some("dark")]
                                    title=(format!("{} / {}", cell.customers, cohort.size)) {
                                    data value=(cell.share) { (percent(cell.share)) }
                                }
                            }
                            @for _ in cohort.retention.len()..width { td {} }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /dashboard/overview`.
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
    query: web::Query<OverviewQuery>,
) -> Result<HttpResponse, Fail> {
    let session = Session::scoped(&req, &state).await?;
    let t = session.lang.text();
    let chosen = chosen_days(query.days.as_deref());
    let scope = by_location::page_scope(&session, query.location.as_deref())?;
    let report = reports(&state, &session, &scope, chosen).await?;
    let known = state
        .services
        .locations(session.brand())
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let runs = scoring_runs(&state, &session, &scope).await?;
    let goals = crate::pages::goals::section(&state, &session, &scope, &known).await?;
    let by_staff = state
        .services
        .report_staff(
            session.brand(),
            &scope,
            Some(report.days.from),
            Some(report.days.to),
        )
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let body = html! {
        (by_location::filter(&session, "/dashboard/overview", &known, &scope, &[("days", chosen.to_string())]))
        (period_nav(t, chosen, &scope, &report.days))
        (report_cards(&session, &report.overview))
        (goals)
        (period_charts(&session, &report.overview))
        div.grid2 {
            section {
                h2 { (t.revenue_by_segment) }
                (revenue_table("revenue-by-segment", &report.by_segment, t))
            }
            section {
                h2 { (t.revenue_by_location) }
                (revenue_table("revenue-by-location", &report.by_location, t))
            }
        }
        (by_location::table(session.lang, &report.locations, &known))
        (crate::pages::by_staff::table(session.lang, &by_staff))
        section {
            h2 { (t.retention) }
            p.muted { (t.retention_help) }
            (cohort_table(&report.cohorts, t))
        }
        @if scope.is_brand() { (scoring_section(t, &runs)) }
    };
    Ok(ok(
        &req,
        dashboard(&session, Nav::Overview, t.overview_title, body),
    ))
}

/// The brand's latest scoring runs, oldest first. Scoring runs are the whole brand's
/// customers: read for the whole brand only, none for a narrower scope.
async fn scoring_runs(
    state: &WebState,
    session: &Session,
    scope: &Scope,
) -> Result<Vec<ScoringRun>, Fail> {
    let mut runs = if scope.is_brand() {
        state
            .services
            .scoring_runs(session.brand(), TREND_RUNS)
            .await
            .map_err(|e| Fail::internal(session.lang, &e))?
    } else {
        Vec::new()
    };
    runs.reverse();
    Ok(runs)
}

/// The links to each period (keeping the chosen location) and the dates of the one shown.
fn period_nav(t: &Text, chosen: i64, scope: &Scope, days: &LocalDays) -> Markup {
    let location_param =
        by_location::chosen(scope).map_or_else(String::new, |l| format!("&location={l}"));
    html! {
        nav.periods #periods {
            @for period in PERIODS {
                a href=(format!("/dashboard/overview?days={period}{location_param}")) class=[(period == chosen).then_some("on")] {
                    (t.last_days.replace("{n}", &period.to_string()))
                }
            }
            span.muted #period data-from=(format_date(days.from)) data-to=(format_date(days.to)) {
                (format_date(days.from)) " – " (days.to.previous_day().map_or_else(|| format_date(days.to), format_date))
            }
        }
    }
}

/// The period's figures (the programme's cost too: at the page's locations).
fn report_cards(session: &Session, o: &Overview) -> Markup {
    let t = session.lang.text();
    let aov = o.average_order_value.as_ref();
    html! {
        div.cards #report {
            (figure("active-customers", t.active_customers, &o.active_customers.to_string(), &o.active_customers.to_string()))
            (figure("revenue", t.revenue, &exact(&o.revenue), &money_text(&o.revenue)))
            (programme_cost(session, o))
            (figure("orders", t.orders, &o.orders.to_string(), &o.orders.to_string()))
            (figure("average-order-value", t.average_order_value,
                &aov.map_or(String::new(), exact), &aov.map_or("—".to_owned(), money_text)))
            (rate_figure("repeat-rate", t.repeat_rate, o.repeat_rate))
            (rate_figure("redemption-rate", t.redemption_rate, o.voucher_redemption_rate))
            (figure("new-customers", t.new_customers, &o.new_customers.to_string(), &o.new_customers.to_string()))
            (rate_figure("comeback-rate", t.comeback_rate, o.comeback_rate))
        }
    }
}

/// The period's charts: revenue, then orders and active customers, per interval.
fn period_charts(session: &Session, o: &Overview) -> Markup {
    let t = session.lang.text();
    let labels: Vec<String> = o.series.iter().map(|p| format_date(p.start)).collect();
    let revenue = vec![Series {
        name: t.revenue.to_owned(),
        values: o.series.iter().map(|p| money_value(&p.revenue)).collect(),
    }];
    let activity = vec![
        Series {
            name: t.orders.to_owned(),
            values: o.series.iter().map(|p| p.orders as f64).collect(),
        },
        Series {
            name: t.active_customers.to_owned(),
            values: o.series.iter().map(|p| p.active_customers as f64).collect(),
        },
    ];
    html! {
        div.grid2 {
            section {
                h2 { (t.trend_revenue) }
                (line_chart_of("chart-revenue", &labels, &revenue, Axis::Money(session.lang, o.revenue.currency())))
            }
            section {
                h2 { (t.trend_orders) }
                (line_chart("chart-orders", &labels, &activity))
            }
        }
    }
}

/// The customers at the latest scoring run and their trends over the runs (oldest
/// first).
fn scoring_section(t: &Text, runs: &[ScoringRun]) -> Markup {
    let latest = runs.last();
    let labels: Vec<String> = runs.iter().map(|r| day(r.at)).collect();
    let customers = vec![
        Series {
            name: t.customers_total.to_owned(),
            values: runs.iter().map(|r| r.customers as f64).collect(),
        },
        Series {
            name: t.customers_with_visits.to_owned(),
            values: runs
                .iter()
                .map(|r| with_visits(r).unwrap_or(0) as f64)
                .collect(),
        },
    ];
    let (segment_labels, segments) = segment_series(runs);
    html! {
        h2 { (t.scoring_heading) }
        div.cards {
            div.card #customers-total {
                div.label { (t.customers_total) }
                div.value { (latest.map_or("—".to_owned(), |r| r.customers.to_string())) }
            }
            div.card #customers-with-visits {
                div.label { (t.customers_with_visits) }
                div.value { (latest.and_then(with_visits).map_or("—".to_owned(), |n| n.to_string())) }
            }
            div.card #at-risk {
                div.label { (t.at_risk_now) }
                div.value { (latest.map_or("—".to_owned(), |r| r.segment_sizes.get("At risk").copied().unwrap_or(0).to_string())) }
            }
            div.card #last-run {
                div.label { (t.last_run) }
                div.value style="font-size:1rem" { (latest.map_or(t.never_scored.to_owned(), |r| when(r.at))) }
            }
        }
        @if runs.is_empty() {
            section { p.muted { (t.no_history) } }
        } @else {
            div.grid2 {
                section {
                    h2 { (t.trend_customers) }
                    (line_chart("chart-customers", &labels, &customers))
                }
                section {
                    h2 { (t.trend_segments) }
                    (line_chart("chart-segments", &segment_labels, &segments))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_offered_periods_are_chosen() {
        assert_eq!(chosen_days(Some("7")), 7);
        assert_eq!(chosen_days(Some("90")), 90);
        assert_eq!(chosen_days(Some("31")), DEFAULT_DAYS);
        assert_eq!(chosen_days(Some("x")), DEFAULT_DAYS);
        assert_eq!(chosen_days(None), DEFAULT_DAYS);
        assert_eq!(interval_for(7), Interval::Day);
        assert_eq!(interval_for(30), Interval::Day);
        assert_eq!(interval_for(90), Interval::Week);
    }
}
