//! A day of POS traffic for a chain, replayed against a running server.
//!
//! [`plan`] draws the day (pure and seeded): every location's orders spread over opening
//! hours with a lunch peak (11:30–13:30) and an evening peak (17:30–20:00), about 2 % of
//! orders refunded twenty minutes later, about 1 % delivered twice (the same event
//! again, as a POS retrying a webhook whose answer it lost) and a few customers buying
//! a voucher with their points and using it at the till. [`replay`] sends that day in a
//! configurable wall time, open loop: each request leaves at its planned moment whether
//! or not the server kept up, and its latency is counted from that moment, so a server
//! that falls behind shows it in the percentiles instead of slowing the load down. Two
//! exceptions keep the day causal: a refund leaves only once its order was answered, and
//! a voucher is bought and redeemed right after the order that gave the points.

use crate::webhook::order_paid_body;
use regulars_domain::BrandId;
use regulars_pos::generic;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

mod day;
mod replay;

pub use day::{CLOSE_MINUTE, DayPlan, Kind, OPEN_MINUTE, Planned, intensity, plan};
pub use replay::replay;

/// The server and the brand to send the day to.
#[derive(Debug, Clone)]
pub struct Target {
    /// `http://host:port`.
    pub base: String,
    /// An admin key of the brand (to set up the integration, the POS key and a reward).
    pub admin_key: String,
}

/// What [`prepare`] set up through the API.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The integration's webhook path.
    pub webhook_path: String,
    /// Its signing secret.
    pub secret: String,
    /// A POS key (vouchers at the till).
    pub pos_key: String,
    /// The reward customers buy.
    pub reward_id: String,
}

/// Errors of the load generator, as text.
pub type LoadResult<T> = Result<T, String>;

async fn post(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    body: &Value,
) -> LoadResult<(u16, Value)> {
    let response = client
        .post(url)
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    let status = response.status().as_u16();
    let json = response.json().await.unwrap_or(Value::Null);
    Ok((status, json))
}

/// Creates a generic POS integration, a POS key and a cheap reward for the brand.
pub async fn prepare(client: &reqwest::Client, target: &Target) -> LoadResult<Setup> {
    let url = |path: &str| format!("{}{path}", target.base);
    let text = |v: &Value, pointer: &str| {
        v.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("no {pointer} in {v}"))
    };
    let (status, made) = post(
        client,
        &url("/v1/integrations"),
        &target.admin_key,
        &json!({"kind": "generic", "label": "load generator"}),
    )
    .await?;
    if status != 201 {
        return Err(format!("create integration: {status} {made}"));
    }
    let (status, key) = post(
        client,
        &url("/v1/keys"),
        &target.admin_key,
        &json!({"role": "pos", "label": "load generator tills"}),
    )
    .await?;
    if status != 201 {
        return Err(format!("create POS key: {status} {key}"));
    }
    let (status, reward) = post(
        client,
        &url("/v1/rewards"),
        &target.admin_key,
        &json!({"name": "Free topping", "cost": 10,
                "kind": {"type": "free_modifier", "sku": "TOP-CHEESE"}, "validity_days": 30}),
    )
    .await?;
    if status != 201 {
        return Err(format!("create reward: {status} {reward}"));
    }
    Ok(Setup {
        webhook_path: text(&made, "/integration/webhook_path")?,
        secret: text(&made, "/secret")?,
        pos_key: text(&key, "/token")?,
        reward_id: text(&reward, "/id")?,
    })
}

/// What a replay saw.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Requests sent (webhooks and till requests).
    pub sent: usize,
    /// Webhook events answered `counted`, and till requests that succeeded.
    pub acknowledged: usize,
    /// Webhook events answered `replayed` or `duplicate` (a resend recognised).
    pub replayed: usize,
    /// Vouchers bought and redeemed.
    pub vouchers_redeemed: usize,
    /// Till requests refused as the rules say (409: not enough points).
    pub refused: usize,
    /// Failures: no answer, 5xx, or an answer the request should not get.
    pub errors: usize,
    /// Answers by status (0: no answer).
    pub statuses: BTreeMap<u16, usize>,
    /// Wall time of the replay, in seconds.
    pub elapsed_seconds: f64,
    /// Latencies of every answered request from its planned moment, in milliseconds,
    /// sorted.
    pub latencies_ms: Vec<f64>,
}

impl LoadReport {
    /// The latency at quantile `q` (0..=1), in milliseconds (NaN without requests).
    pub fn percentile(&self, q: f64) -> f64 {
        let n = self.latencies_ms.len();
        if n == 0 {
            return f64::NAN;
        }
        let index = ((n as f64 - 1.0) * q.clamp(0.0, 1.0)).round() as usize;
        self.latencies_ms.get(index).copied().unwrap_or(f64::NAN)
    }

    /// Acknowledged or replayed requests per second of wall time.
    pub fn throughput(&self) -> f64 {
        if self.elapsed_seconds > 0.0 {
            (self.acknowledged + self.replayed) as f64 / self.elapsed_seconds
        } else {
            f64::NAN
        }
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        format!(
            "{} sent, {} acknowledged, {} replayed, {} vouchers redeemed, {} refused, {} errors \
             in {:.1} s ({:.0}/s); latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
             statuses {:?}",
            self.sent,
            self.acknowledged,
            self.replayed,
            self.vouchers_redeemed,
            self.refused,
            self.errors,
            self.elapsed_seconds,
            self.throughput(),
            self.percentile(0.5),
            self.percentile(0.9),
            self.percentile(0.99),
            self.percentile(1.0),
            self.statuses,
        )
    }
}

/// The outcome of one request.
enum Outcome {
    Acknowledged,
    Replayed,
    Refused,
    Error,
}

#[derive(Default)]
struct Shared {
    report: LoadReport,
}

impl Shared {
    fn record(&mut self, status: u16, outcome: Outcome, latency: Duration) {
        let report = &mut self.report;
        report.sent += 1;
        *report.statuses.entry(status).or_default() += 1;
        match outcome {
            Outcome::Acknowledged => report.acknowledged += 1,
            Outcome::Replayed => report.replayed += 1,
            Outcome::Refused => report.refused += 1,
            Outcome::Error => report.errors += 1,
        }
        if status != 0 {
            report.latencies_ms.push(latency.as_secs_f64() * 1e3);
        }
    }
}

/// The JSON body of an order or refund event (a duplicate resends its original's).
fn event_body(
    p: &Planned,
    opening: OffsetDateTime,
    sent_at: OffsetDateTime,
) -> LoadResult<Vec<u8>> {
    let placed = opening + time::Duration::seconds(i64::from(p.at_second));
    match &p.kind {
        Kind::Order {
            order_id,
            customer,
            lines,
            ..
        } => {
            let mut order = crate::order(
                BrandId::from_bytes([0; 16]),
                order_id,
                *customer,
                placed,
                *lines,
            );
            order.location = Some(format!("store-{:03}", p.location));
            order_paid_body(&order, &p.event_id, sent_at)
        }
        Kind::Refund { order_id } => {
            let format = |t: OffsetDateTime| t.format(&Rfc3339).map_err(|e| format!("{t}: {e}"));
            serde_json::to_vec(&json!({
                "id": p.event_id,
                "type": generic::ORDER_REFUNDED,
                "created_at": format(sent_at)?,
                "data": {"refund_id": format!("R-{order_id}"), "order_id": order_id,
                         "refunded_at": format(placed)?, "full": true},
            }))
            .map_err(|e| e.to_string())
        }
        Kind::Duplicate { of_event } => Err(format!("{of_event} is resent, not built")),
    }
}

/// `regulars check-ledger` on `database_url` with the binary at `binary`: `Ok` with its
/// output when every balance equals its ledger.
pub fn check_ledger(binary: &std::path::Path, database_url: &str) -> LoadResult<String> {
    let output = std::process::Command::new(binary)
        .arg("check-ledger")
        .env("DATABASE_URL", database_url)
        .env_remove("RUST_LOG")
        .output()
        .map_err(|e| format!("run {}: {e}", binary.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        Ok(text.trim().to_owned())
    } else {
        Err(format!("check-ledger failed: {text}"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn small() -> DayPlan {
        DayPlan {
            locations: 100,
            orders_per_location: 40,
            ..DayPlan::default()
        }
    }

    #[test]
    fn the_day_is_the_same_for_the_same_seed_and_sorted() {
        let a = plan(&small());
        assert_eq!(a, plan(&small()));
        assert!(a.windows(2).all(|w| w[0].at_second <= w[1].at_second));
        let other = plan(&DayPlan { seed: 7, ..small() });
        assert_ne!(a, other);
    }

    #[test]
    fn shares_of_refunds_duplicates_and_locations_are_as_asked() {
        let day = plan(&small());
        let orders = day
            .iter()
            .filter(|p| matches!(p.kind, Kind::Order { .. }))
            .count();
        assert_eq!(orders, 4_000);
        let share =
            |f: fn(&Kind) -> bool| day.iter().filter(|p| f(&p.kind)).count() as f64 / orders as f64;
        let refunds = share(|k| matches!(k, Kind::Refund { .. }));
        let duplicates = share(|k| matches!(k, Kind::Duplicate { .. }));
        assert!((0.01..0.03).contains(&refunds), "{refunds}");
        assert!((0.004..0.02).contains(&duplicates), "{duplicates}");
        let locations: BTreeSet<u32> = day.iter().map(|p| p.location).collect();
        assert_eq!(locations.len(), 100);
        // Every duplicate repeats an order's event id; every refund follows its order.
        for p in &day {
            match &p.kind {
                Kind::Duplicate { of_event } => {
                    assert!(day.iter().any(|o| &o.event_id == of_event
                        && matches!(o.kind, Kind::Order { .. })
                        && o.at_second <= p.at_second))
                }
                Kind::Refund { order_id } => assert!(day.iter().any(|o| matches!(
                    &o.kind, Kind::Order { order_id: id, .. } if id == order_id)
                    && o.at_second < p.at_second)),
                Kind::Order { .. } => {}
            }
        }
    }

    #[test]
    fn lunch_and_evening_are_the_busiest_hours() {
        let day = plan(&small());
        let per_hour = |from_minute: u32| {
            let from = (from_minute - OPEN_MINUTE) * 60;
            day.iter()
                .filter(|p| (from..from + 3600).contains(&p.at_second))
                .count()
        };
        let lunch = per_hour(12 * 60);
        let evening = per_hour(18 * 60);
        let morning = per_hour(10 * 60);
        let night = per_hour(21 * 60);
        assert!(lunch > 3 * morning, "lunch {lunch} vs morning {morning}");
        assert!(evening > 2 * night, "evening {evening} vs night {night}");
        assert!(
            day.iter()
                .all(|p| p.at_second <= (CLOSE_MINUTE - OPEN_MINUTE) * 60)
        );
    }

    #[test]
    fn a_report_reads_its_percentiles() {
        let report = LoadReport {
            latencies_ms: (1..=100).map(f64::from).collect(),
            acknowledged: 90,
            replayed: 10,
            elapsed_seconds: 10.0,
            ..LoadReport::default()
        };
        assert_eq!(report.percentile(0.5), 51.0);
        assert_eq!(report.percentile(0.99), 99.0);
        assert_eq!(report.percentile(1.0), 100.0);
        assert_eq!(report.throughput(), 10.0);
        assert!(LoadReport::default().percentile(0.5).is_nan());
    }
}
