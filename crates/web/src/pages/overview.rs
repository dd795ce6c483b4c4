//! The overview: the brand's customers, its latest scoring run and trends over runs.
//!
//! Revenue, orders, repeat rate and redemption rate come from the brand reports; their
//! cards are in place and say so until those figures are connected.

use crate::WebState;
use crate::chart::{Series, line_chart};
use crate::render::{Fail, Nav, dashboard, day, ok, when};
use crate::session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;
use regulars_ports::ScoringRun;
use std::collections::BTreeSet;

/// Runs shown in the trends.
const TREND_RUNS: u64 = 30;

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

/// `GET /dashboard/overview`.
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    let t = session.lang.text();
    let mut runs = state
        .services
        .scoring_runs(session.brand(), TREND_RUNS)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    runs.reverse();
    let latest = runs.last();
    let pending = [
        (t.active_customers, "active-customers"),
        (t.revenue, "revenue"),
        (t.orders, "orders"),
        (t.repeat_rate, "repeat-rate"),
        (t.redemption_rate, "redemption-rate"),
    ];
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
    let (segment_labels, segments) = segment_series(&runs);
    let body = html! {
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
            @for (label, id) in pending {
                div.card.pending id=(id) {
                    div.label { (label) }
                    div.value { (t.pending_report) }
                }
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
    };
    Ok(ok(
        &req,
        dashboard(&session, Nav::Overview, t.overview_title, body),
    ))
}
