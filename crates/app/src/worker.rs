//! The background worker (`regulars work`, or inside `serve` with `worker = true`): runs
//! every active campaign on a schedule and delivers the outbox.
//!
//! Each pass plans campaigns when their interval has passed, then delivers rounds of due
//! messages until a round finds fewer than a batch, then sleeps for the poll interval.
//! Several workers may run on one PostgreSQL database: claims skip each other's rows.
//! On SQLite run one.

use regulars_service::{ChannelSenders, DeliveryOptions, DeliveryRound, Services};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Delivery behaviour.
    pub delivery: DeliveryOptions,
    /// How often active campaigns are planned; `None`: never (delivery only).
    pub campaign_interval: Option<Duration>,
    /// Sleep between passes when nothing is due.
    pub poll: Duration,
}

impl WorkerOptions {
    /// The options the configuration asks for.
    pub fn from_settings(settings: &crate::settings::WorkerSettings) -> WorkerOptions {
        let delivery = DeliveryOptions {
            concurrency: settings.concurrency,
            lease: time::Duration::try_from(settings.lease).unwrap_or(time::Duration::minutes(2)),
            max_attempts: settings.max_attempts,
            base_backoff: time::Duration::try_from(settings.backoff)
                .unwrap_or(time::Duration::seconds(30)),
            max_backoff: time::Duration::try_from(settings.max_backoff)
                .unwrap_or(time::Duration::hours(1)),
            ..DeliveryOptions::default()
        };
        WorkerOptions {
            delivery,
            campaign_interval: settings.campaign_interval,
            ..WorkerOptions::default()
        }
    }
}

impl Default for WorkerOptions {
    fn default() -> WorkerOptions {
        WorkerOptions {
            delivery: DeliveryOptions::default(),
            campaign_interval: Some(Duration::from_secs(15 * 60)),
            poll: Duration::from_secs(1),
        }
    }
}

/// Totals of a worker's life, for its last log line and for tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerTotals {
    /// Campaign runs.
    pub campaign_runs: u64,
    /// Messages written by those runs.
    pub planned: u64,
    /// Delivery rounds.
    pub rounds: u64,
    /// Sum of the rounds.
    pub delivery: DeliveryRound,
}

/// How often expired idempotency records (`Idempotency-Key` responses, webhook event
/// ids) are pruned.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Runs until `stop` resolves; the pass in progress finishes first.
pub async fn run_worker(
    services: Arc<Services>,
    senders: ChannelSenders,
    options: WorkerOptions,
    stop: impl Future<Output = ()>,
) -> WorkerTotals {
    let mut totals = WorkerTotals::default();
    let mut next_campaigns = tokio::time::Instant::now();
    let mut next_prune = tokio::time::Instant::now();
    tokio::pin!(stop);
    loop {
        if tokio::time::Instant::now() >= next_prune {
            next_prune = tokio::time::Instant::now() + PRUNE_INTERVAL;
            match services.prune_idempotency().await {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "idempotency records pruned"),
                Err(error) => tracing::warn!(%error, "pruning idempotency records failed"),
            }
        }
        if let Some(interval) = options.campaign_interval
            && tokio::time::Instant::now() >= next_campaigns
        {
            next_campaigns = tokio::time::Instant::now() + interval;
            match services.run_all_campaigns().await {
                Ok(reports) => {
                    totals.campaign_runs += reports.len() as u64;
                    for r in &reports {
                        totals.planned += r.messages;
                        if r.messages > 0 {
                            tracing::info!(campaign = %r.campaign_id, messages = r.messages,
                                vouchers = r.vouchers, held_out = r.held_out, "campaign run");
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "campaign runs failed"),
            }
        }
        loop {
            match services.deliver_due(&senders, &options.delivery).await {
                Ok(round) => {
                    totals.rounds += 1;
                    totals.delivery += round;
                    if round.claimed > 0 {
                        tracing::info!(
                            claimed = round.claimed,
                            sent = round.sent,
                            retried = round.retried,
                            fell_back = round.fell_back,
                            dead = round.dead,
                            deferred = round.deferred,
                            lost = round.lost,
                            "delivery round"
                        );
                    }
                    if round.claimed < options.delivery.batch {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "delivery round failed");
                    break;
                }
            }
        }
        tokio::select! {
            () = &mut stop => return totals,
            () = tokio::time::sleep(options.poll) => {}
        }
    }
}
