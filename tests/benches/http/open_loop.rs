//! Open-loop load: orders leave at a fixed rate whether or not earlier ones were
//! answered, and each latency counts from the moment its order was planned to leave —
//! so a server that falls behind shows it in the latency instead of slowing the load
//! (no coordinated omission).

use super::{BenchResult, Served, Till};
use regulars_tests::bench::{Throughput, summarise};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The p99 latency an order may take at half the server's top rate.
pub(super) const P99_BOUND_MS: f64 = 10.0;

/// What an open-loop run found.
pub(super) struct OpenLoop {
    /// The rate the orders were planned at, per second.
    pub rate: f64,
    /// The answered orders' latencies from their planned moments.
    pub answered: Throughput,
    /// Orders refused or not answered.
    pub failures: usize,
    /// The first failure, to say why.
    pub first_failure: Option<String>,
}

impl OpenLoop {
    /// The report row: the p99 against its bound.
    pub(super) fn row(&self, db: &str, top: f64) -> Value {
        regulars_tests::bench::row(
            &format!("http/{db}/open_loop_half_max"),
            self.answered.p99_ms,
            "ms p99",
            Some((
                "the p99 bound",
                P99_BOUND_MS,
                "ms",
                "latency at half the top rate, from each order's planned moment",
            )),
            &format!(
                "{} orders planned at {:.0}/s (half of {top:.0}/s, the 16-client closed-loop \
                 rate of this run) for the same time; p50 {:.2} ms, p99 {:.2} ms from the \
                 planned moment; {} failed{}",
                self.answered.operations + self.failures,
                self.rate,
                self.answered.p50_ms,
                self.answered.p99_ms,
                self.failures,
                self.first_failure
                    .as_ref()
                    .map(|why| format!(" (first: {why})"))
                    .unwrap_or_default()
            ),
        )
    }
}

impl Served {
    /// Plans orders at `rate` a second for `secs` seconds. Each leaves on a till that is
    /// free at its moment (a new till, with its own connection, when none is), so any
    /// number may be in flight.
    pub(super) async fn open_loop(&self, rate: f64, secs: u64) -> BenchResult<OpenLoop> {
        let free: Arc<Mutex<Vec<Till>>> = Arc::new(Mutex::new(Vec::new()));
        // Warm tills: their connections open before the clock starts.
        for n in 0..16 {
            let mut till = self.till(format!("open-{n}"), 1_000 + n)?;
            if let Err(why) = till.post(0).await? {
                return Err(format!("first open-loop request refused: {why}"));
            }
            push(&free, till);
        }
        let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
        let start = Instant::now();
        let end = start + Duration::from_secs(secs);
        let mut tasks = Vec::new();
        let mut made = 16;
        let mut n: u64 = 0;
        loop {
            let planned = start + interval.mul_f64(n as f64);
            if planned >= end {
                break;
            }
            tokio::time::sleep_until(planned.into()).await;
            n += 1;
            let till = match pop(&free) {
                Some(till) => till,
                None => {
                    made += 1;
                    self.till(format!("open-{made}"), 1_000 + made)?
                }
            };
            let free = free.clone();
            tasks.push(tokio::spawn(async move {
                let mut till = till;
                let answer = till.post_planned(n, Some(planned)).await;
                push(&free, till);
                answer
            }));
        }
        let mut latencies = Vec::new();
        let (mut failures, mut first_failure) = (0, None);
        for task in tasks {
            match task.await.map_err(|e| e.to_string())?? {
                Ok(latency) => latencies.push(latency),
                Err(why) => {
                    failures += 1;
                    first_failure.get_or_insert(why);
                }
            }
        }
        let elapsed = start.elapsed().as_secs_f64();
        Ok(OpenLoop {
            rate,
            answered: summarise(latencies, elapsed),
            failures,
            first_failure,
        })
    }
}

fn push(free: &Mutex<Vec<Till>>, till: Till) {
    if let Ok(mut free) = free.lock() {
        free.push(till);
    }
}

fn pop(free: &Mutex<Vec<Till>>) -> Option<Till> {
    free.lock().ok()?.pop()
}
