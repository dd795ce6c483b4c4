//! Replaying a drawn day against the server: each request leaves at its planned moment
//! (open loop), duplicates resend their original's bytes, refunds wait for their order,
//! and an order that makes a voucher affordable buys and redeems it at the till.

use super::{
    CLOSE_MINUTE, Kind, LoadReport, LoadResult, OPEN_MINUTE, Outcome, Planned, Setup, Shared,
    Target, event_body, post,
};
use regulars_pos::{Secret, generic};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::{OffsetDateTime, UtcOffset};

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
    let replay = Arc::new(Replay {
        client: client.clone(),
        shared: Mutex::new(Shared::default()),
        webhook: format!("{}{}", target.base, setup.webhook_path),
        setup: setup.clone(),
        base: target.base.clone(),
    });
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut links = Links::of(day);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(day.len());
    for p in day {
        let due = started + Duration::from_secs_f64(f64::from(p.at_second) * scale);
        tokio::time::sleep_until(due.into()).await;
        let request = links.request(p, opening, due)?;
        let permit = limit
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        tasks.push(tokio::spawn(replay.clone().send(request, permit)));
    }
    for task in tasks {
        task.await.map_err(|e| e.to_string())?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut report = Arc::try_unwrap(replay)
        .map_err(|_| "requests still running".to_owned())?
        .shared
        .into_inner()
        .map_err(|_| "poisoned".to_owned())?
        .report;
    report.elapsed_seconds = elapsed;
    report.latencies_ms.sort_by(f64::total_cmp);
    Ok(report)
}

/// What every request of a replay shares.
struct Replay {
    client: reqwest::Client,
    shared: Mutex<Shared>,
    webhook: String,
    setup: Setup,
    base: String,
}

/// One request of a replay, ready to leave.
struct Request {
    planned: Planned,
    body: Vec<u8>,
    /// When it was due: its latency counts from then.
    due: Instant,
    /// Answered first: the order a refund refunds.
    after: Option<Arc<tokio::sync::Notify>>,
    /// Woken once this is answered: the refund of this order.
    wakes: Option<Arc<tokio::sync::Notify>>,
}

/// How the day's requests depend on each other: a duplicate is byte for byte its
/// original, and a refund leaves only once its order was answered.
struct Links<'d> {
    /// Bodies of sent events that are sent again, by event id.
    bodies: BTreeMap<String, Vec<u8>>,
    resent: BTreeSet<&'d String>,
    refunded: BTreeSet<&'d String>,
    /// The orders that will be refunded, woken once answered.
    answered: BTreeMap<String, Arc<tokio::sync::Notify>>,
}

impl<'d> Links<'d> {
    fn of(day: &'d [Planned]) -> Links<'d> {
        let mut links = Links {
            bodies: BTreeMap::new(),
            resent: BTreeSet::new(),
            refunded: BTreeSet::new(),
            answered: BTreeMap::new(),
        };
        for p in day {
            match &p.kind {
                Kind::Duplicate { of_event } => {
                    links.resent.insert(of_event);
                }
                Kind::Refund { order_id } => {
                    links.refunded.insert(order_id);
                }
                Kind::Order { .. } => {}
            }
        }
        links
    }

    /// The request for `p`, due at `due`.
    fn request(
        &mut self,
        p: &Planned,
        opening: OffsetDateTime,
        due: Instant,
    ) -> LoadResult<Request> {
        let body = match &p.kind {
            // Sorted by time, the original always leaves first.
            Kind::Duplicate { of_event } => self
                .bodies
                .get(of_event)
                .cloned()
                .ok_or_else(|| format!("{of_event} duplicated before it was sent"))?,
            _ => {
                let body = event_body(p, opening, OffsetDateTime::now_utc())?;
                if self.resent.contains(&p.event_id) {
                    self.bodies.insert(p.event_id.clone(), body.clone());
                }
                body
            }
        };
        // A refund leaves only once its order was answered, as a till refunds only a
        // sale it has made: on a compressed day the two are milliseconds apart.
        let after = match &p.kind {
            Kind::Refund { order_id } => self.answered.get(order_id).cloned(),
            _ => None,
        };
        let wakes = match &p.kind {
            Kind::Order { order_id, .. } if self.refunded.contains(order_id) => {
                let done = Arc::new(tokio::sync::Notify::new());
                self.answered.insert(order_id.clone(), done.clone());
                Some(done)
            }
            _ => None,
        };
        Ok(Request {
            planned: p.clone(),
            body,
            due,
            after,
            wakes,
        })
    }
}

impl Replay {
    /// Sends one request (after the one it waits for), records its answer and, for an
    /// order that makes a voucher affordable, buys and redeems it at the till.
    async fn send(self: Arc<Self>, request: Request, permit: tokio::sync::OwnedSemaphorePermit) {
        if let Some(after) = &request.after {
            after.notified().await;
        }
        let signature = generic::signature_header(
            OffsetDateTime::now_utc().unix_timestamp(),
            &request.body,
            &[Secret::new(self.setup.secret.as_bytes())],
        );
        let answer = self
            .client
            .post(self.webhook.as_str())
            .header("content-type", "application/json")
            .header(generic::SIGNATURE_HEADER, signature)
            .body(request.body)
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
        let (outcome, customer, balance) = read_answer(status, &json);
        if let Ok(mut s) = self.shared.lock() {
            s.record(status, outcome, request.due.elapsed());
        }
        if let Some(wakes) = request.wakes {
            // Stores a permit when the refund is not waiting yet.
            wakes.notify_one();
        }
        drop(permit);
        if let (Kind::Order { voucher: true, .. }, Some(customer), true) =
            (&request.planned.kind, customer, balance >= 10)
        {
            let (client, base, setup) = (&self.client, &self.base, &self.setup);
            voucher_at_the_till(client, base, setup, &customer, &self.shared).await;
        }
    }
}

/// What a webhook's answer says: its outcome, the order's customer and balance.
fn read_answer(status: u16, json: &Value) -> (Outcome, Option<String>, i64) {
    let outcome = json
        .pointer("/events/0/outcome")
        .and_then(Value::as_str)
        .unwrap_or("");
    // An event and its resend may race: whichever the server takes first is counted,
    // the other replayed.
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
    (result, customer, balance)
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
