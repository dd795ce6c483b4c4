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
use regulars_pos::{Secret, generic};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

mod day;

pub use day::{CLOSE_MINUTE, DayPlan, Kind, OPEN_MINUTE, Planned, intensity, plan};

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

/// Replays `day` (drawn by [`plan`]) against the server within `wall` of real time, with
/// at most `concurrency` requests in flight. Orders are placed on the local day before
/// today (UTC+07:00) at their planned time of day.
pub async fn replay(
    client: &reqwest::Client,
    target: &Target,
    setup: &Setup,
    day: &[Planned],
    wall: Duration,
    concurrency: usize,
) -> LoadResult<LoadReport> {
    let offset = UtcOffset::from_hms(7, 0, 0).map_err(|e| e.to_string())?;
    let now = OffsetDateTime::now_utc().to_offset(offset);
    let opening = (now - time::Duration::days(1)).replace_time(time::Time::MIDNIGHT)
        + time::Duration::minutes(i64::from(OPEN_MINUTE));
    let day_seconds = f64::from((CLOSE_MINUTE - OPEN_MINUTE) * 60);
    let scale = wall.as_secs_f64() / day_seconds;
    let shared = Arc::new(Mutex::new(Shared::default()));
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let webhook = Arc::new(format!("{}{}", target.base, setup.webhook_path));
    let setup = Arc::new(setup.clone());
    let base = Arc::new(target.base.clone());
    // Bodies of sent orders by event id, so a duplicate is byte for byte its original.
    let mut bodies: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let resent: BTreeSet<&String> = day
        .iter()
        .filter_map(|p| match &p.kind {
            Kind::Duplicate { of_event } => Some(of_event),
            _ => None,
        })
        .collect();
    let refunded: BTreeSet<&String> = day
        .iter()
        .filter_map(|p| match &p.kind {
            Kind::Refund { order_id } => Some(order_id),
            _ => None,
        })
        .collect();
    let mut answered: BTreeMap<String, Arc<tokio::sync::Notify>> = BTreeMap::new();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(day.len());
    for p in day {
        let due = started + Duration::from_secs_f64(f64::from(p.at_second) * scale);
        tokio::time::sleep_until(due.into()).await;
        let body = match &p.kind {
            // Sorted by time, the original always leaves first.
            Kind::Duplicate { of_event } => bodies
                .get(of_event)
                .cloned()
                .ok_or_else(|| format!("{of_event} duplicated before it was sent"))?,
            _ => {
                let body = event_body(p, opening, OffsetDateTime::now_utc())?;
                if resent.contains(&p.event_id) {
                    bodies.insert(p.event_id.clone(), body.clone());
                }
                body
            }
        };
        // A refund leaves only once its order was answered, as a till refunds only a
        // sale it has made: on a compressed day the two are milliseconds apart.
        let order_done = match &p.kind {
            Kind::Refund { order_id } => answered.get(order_id).cloned(),
            _ => None,
        };
        let done = match &p.kind {
            Kind::Order { order_id, .. } if refunded.contains(order_id) => {
                let done = Arc::new(tokio::sync::Notify::new());
                answered.insert(order_id.clone(), done.clone());
                Some(done)
            }
            _ => None,
        };
        let permit = limit
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let (client, shared, webhook, setup, base) = (
            client.clone(),
            shared.clone(),
            webhook.clone(),
            setup.clone(),
            base.clone(),
        );
        let planned = p.clone();
        tasks.push(tokio::spawn(async move {
            if let Some(order_done) = order_done {
                order_done.notified().await;
            }
            let signature = generic::signature_header(
                OffsetDateTime::now_utc().unix_timestamp(),
                &body,
                &[Secret::new(setup.secret.as_bytes())],
            );
            let answer = client
                .post(webhook.as_str())
                .header("content-type", "application/json")
                .header(generic::SIGNATURE_HEADER, signature)
                .body(body)
                .send()
                .await;
            let (status, json) = match answer {
                Ok(response) => {
                    let status = response.status().as_u16();
                    (
                        status,
                        response.json::<Value>().await.unwrap_or(Value::Null),
                    )
                }
                Err(_) => (0, Value::Null),
            };
            let outcome = json
                .pointer("/events/0/outcome")
                .and_then(Value::as_str)
                .unwrap_or("");
            // An event and its resend may race: whichever the server takes first is
            // counted, the other replayed.
            let result = match (status, outcome) {
                (200, "counted") => Outcome::Acknowledged,
                (200, "replayed" | "duplicate") => Outcome::Replayed,
                _ => Outcome::Error,
            };
            let customer = json
                .pointer("/events/0/order/customer_id")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let balance = json
                .pointer("/events/0/order/balance")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if let Ok(mut s) = shared.lock() {
                s.record(status, result, due.elapsed());
            }
            if let Some(done) = done {
                // Stores a permit when the refund is not waiting yet.
                done.notify_one();
            }
            drop(permit);
            if let (Kind::Order { voucher: true, .. }, Some(customer), true) =
                (&planned.kind, customer, balance >= 10)
            {
                voucher_at_the_till(&client, &base, &setup, &customer, &shared).await;
            }
        }));
    }
    for task in tasks {
        task.await.map_err(|e| e.to_string())?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut report = Arc::try_unwrap(shared)
        .map_err(|_| "requests still running".to_owned())?
        .into_inner()
        .map_err(|_| "poisoned".to_owned())?
        .report;
    report.elapsed_seconds = elapsed;
    report.latencies_ms.sort_by(f64::total_cmp);
    Ok(report)
}

/// A customer buys the reward with points and the till redeems the voucher at once.
async fn voucher_at_the_till(
    client: &reqwest::Client,
    base: &str,
    setup: &Setup,
    customer: &str,
    shared: &Mutex<Shared>,
) {
    let record = |status: u16, outcome: Outcome, latency: Duration| {
        if let Ok(mut s) = shared.lock() {
            s.record(status, outcome, latency);
        }
    };
    let started = Instant::now();
    let bought = post(
        client,
        &format!("{base}/v1/customers/{customer}/redemptions"),
        &setup.pos_key,
        &json!({"reward_id": setup.reward_id}),
    )
    .await;
    let code = match bought {
        Ok((201, voucher)) => {
            record(201, Outcome::Acknowledged, started.elapsed());
            voucher
                .get("code")
                .and_then(Value::as_str)
                .map(str::to_owned)
        }
        Ok((409, _)) => {
            record(409, Outcome::Refused, started.elapsed());
            None
        }
        Ok((status, _)) => {
            record(status, Outcome::Error, started.elapsed());
            None
        }
        Err(_) => {
            record(0, Outcome::Error, started.elapsed());
            None
        }
    };
    let Some(code) = code else { return };
    let started = Instant::now();
    match post(
        client,
        &format!("{base}/v1/vouchers/{code}/redeem"),
        &setup.pos_key,
        &json!({}),
    )
    .await
    {
        Ok((200, _)) => {
            record(200, Outcome::Acknowledged, started.elapsed());
            if let Ok(mut s) = shared.lock() {
                s.report.vouchers_redeemed += 1;
            }
        }
        Ok((status, _)) => record(status, Outcome::Error, started.elapsed()),
        Err(_) => record(0, Outcome::Error, started.elapsed()),
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
