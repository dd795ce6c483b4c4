//! The background worker (`regulars work`, or inside `serve` with `worker = true`): runs
//! every active campaign on a schedule and delivers the outbox.
//!
//! Two tasks that share no fate: one plans every brand's active campaigns each campaign
//! interval (each brand in a task of its own, so one brand's failure is logged and
//! counted and the others' runs go on); the other delivers rounds of due messages until
//! a round finds fewer than a batch, then sleeps for the poll interval or until the
//! process's outbox bell rings (a use case wrote a message due now, such as the thank-you
//! written with an order), whichever comes first.
//! Several workers may run on one PostgreSQL database: claims skip each other's rows.
//! On SQLite run one.

use regulars_domain::BrandId;
use regulars_http::metrics::prometheus_client::metrics::counter::Counter;
use regulars_http::metrics::prometheus_client::metrics::family::Family;
use regulars_http::metrics::{Labels, Metrics};
use regulars_service::{ChannelSenders, DeliveryOptions, DeliveryRound, Services};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Delivery behaviour.
    pub delivery: DeliveryOptions,
    /// How often active campaigns are planned; `None`: never (delivery only).
    pub campaign_interval: Option<Duration>,
    /// Sleep between passes when nothing is due.
    pub poll: Duration,
    /// How long the access log is kept; `None`: for good.
    pub access_log_retention: Option<time::Duration>,
    /// How often the brands' tier programmes are checked for a period end to review.
    pub tier_review_interval: Duration,
    /// How often POS invoice lists (KiotViet FnB) are polled; `None`: never.
    pub pos_poll_interval: Option<Duration>,
    /// How each poll runs (lease, overlap, back-off).
    pub pos_poll: regulars_service::PollOptions,
    /// The POS APIs to poll through; `None`: no polling.
    pub pos_api: Option<PosPoller>,
}

/// The POS API client the worker polls invoice lists through.
#[derive(Clone)]
pub struct PosPoller(pub Arc<dyn regulars_ports::PosApi>);

impl std::fmt::Debug for PosPoller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PosPoller")
    }
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
            access_log_retention: settings
                .access_log_retention
                .and_then(|d| time::Duration::try_from(d).ok()),
            pos_poll_interval: settings.pos_poll_interval,
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
            access_log_retention: Some(regulars_service::ACCESS_LOG_RETENTION),
            tier_review_interval: TIER_REVIEW_INTERVAL,
            pos_poll_interval: Some(Duration::from_secs(5 * 60)),
            pos_poll: regulars_service::PollOptions::default(),
            pos_api: None,
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
    /// Brands whose campaign run failed (an error or a panic), counted per pass.
    pub campaign_failures: u64,
    /// Delivery rounds.
    pub rounds: u64,
    /// Delivery rounds that failed (an error or a panic).
    pub delivery_failures: u64,
    /// Sum of the rounds.
    pub delivery: DeliveryRound,
}

/// How often expired idempotency records (`Idempotency-Key` responses, webhook event
/// ids) and access log records past their retention are pruned.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// How often the worker looks for a tier period end to review (a review is due at most
/// this long after the period ends).
pub const TIER_REVIEW_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// The worker's series on the process's `/metrics`:
/// `regulars_worker_failures_total{task, kind}`, `task` being `campaigns` or `delivery`
/// and `kind` `error` or `panic`.
#[derive(Debug, Clone, Default)]
pub struct WorkerMetrics {
    failures: Family<Labels, Counter>,
    retention: Family<Labels, Counter>,
    tier_reviews: Family<Labels, Counter>,
}

impl WorkerMetrics {
    /// The worker's series, registered on `metrics`.
    pub fn register(metrics: &Metrics) -> WorkerMetrics {
        let m = WorkerMetrics::default();
        metrics.register(
            "regulars_worker_failures",
            "Background worker failures, by task (campaigns: one brand's run; delivery: one round) and kind (error or panic)",
            m.failures.clone(),
        );
        metrics.register(
            "regulars_retention",
            "Records the retention periods removed, by what (customers_erased: customers de-identified; message_bodies_purged; otp_codes_dropped; customer_sessions_dropped)",
            m.retention.clone(),
        );
        metrics.register(
            "regulars_tier_reviews",
            "Customers reviewed at a tier period end, by outcome (kept or moved_down)",
            m.tier_reviews.clone(),
        );
        m
    }

    fn tier_reviewed(&self, outcome: &str, n: u64) {
        self.tier_reviews
            .get_or_create(&vec![("outcome".to_owned(), outcome.to_owned())])
            .inc_by(n);
    }

    fn retained(&self, what: &str, n: u64) {
        self.retention
            .get_or_create(&vec![("what".to_owned(), what.to_owned())])
            .inc_by(n);
    }

    fn failed(&self, task: &str, kind: Failure) {
        let kind = match kind {
            Failure::Error => "error",
            Failure::Panic => "panic",
        };
        self.failures
            .get_or_create(&vec![
                ("task".to_owned(), task.to_owned()),
                ("kind".to_owned(), kind.to_owned()),
            ])
            .inc();
    }
}

#[derive(Debug, Clone, Copy)]
enum Failure {
    Error,
    Panic,
}

/// Runs until `stop` resolves; the passes in progress finish first.
///
/// Planning, delivery and the hourly pruning of expired idempotency records (with the
/// brands' retention periods) are tasks
/// that share no fate: a campaign run that fails or panics never holds up delivery. Each brand's campaign run and each delivery round is
/// a task of its own, so a failure (an error or a panic) is logged, counted in
/// `metrics`, and the other brands' runs and the next rounds go on.
pub async fn run_worker(
    services: Arc<Services>,
    senders: ChannelSenders,
    options: WorkerOptions,
    metrics: WorkerMetrics,
    stop: impl Future<Output = ()>,
) -> WorkerTotals {
    let (stopping, stopped) = watch::channel(false);
    let planner = options.campaign_interval.map(|interval| {
        tokio::spawn(plan_loop(
            services.clone(),
            interval,
            metrics.clone(),
            stopped.clone(),
        ))
    });
    let pruner = tokio::spawn(prune_loop(
        services.clone(),
        options.access_log_retention,
        metrics.clone(),
        stopped.clone(),
    ));
    let reviewer = tokio::spawn(review_loop(
        services.clone(),
        options.tier_review_interval,
        metrics.clone(),
        stopped.clone(),
    ));
    let poller = match (options.pos_poll_interval, options.pos_api.clone()) {
        (Some(interval), Some(api)) => Some(tokio::spawn(poll_loop(
            services.clone(),
            api,
            interval,
            options.pos_poll,
            metrics.clone(),
            stopped.clone(),
        ))),
        _ => None,
    };
    let deliverer = tokio::spawn(deliver_loop(services, senders, options, metrics, stopped));
    stop.await;
    let _ = stopping.send(true);
    if let Some(poller) = poller
        && let Err(error) = poller.await
    {
        tracing::error!(%error, "the POS invoice polling stopped abnormally");
    }
    if let Err(error) = pruner.await {
        tracing::error!(%error, "the idempotency pruning stopped abnormally");
    }
    if let Err(error) = reviewer.await {
        tracing::error!(%error, "the tier review stopped abnormally");
    }
    let mut totals = WorkerTotals::default();
    if let Some(planner) = planner {
        match planner.await {
            Ok(t) => {
                totals.campaign_runs = t.campaign_runs;
                totals.planned = t.planned;
                totals.campaign_failures = t.campaign_failures;
            }
            Err(error) => tracing::error!(%error, "the campaign planner stopped abnormally"),
        }
    }
    match deliverer.await {
        Ok(t) => {
            totals.rounds = t.rounds;
            totals.delivery_failures = t.delivery_failures;
            totals.delivery = t.delivery;
        }
        Err(error) => tracing::error!(%error, "the delivery loop stopped abnormally"),
    }
    totals
}

/// Prunes expired idempotency records and the access log's records older than its
/// retention, and applies every brand's retention periods, every [`PRUNE_INTERVAL`],
/// starting at once.
async fn prune_loop(
    services: Arc<Services>,
    access_log_retention: Option<time::Duration>,
    metrics: WorkerMetrics,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        match services.prune_idempotency().await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "idempotency records pruned"),
            Err(error) => tracing::warn!(%error, "pruning idempotency records failed"),
        }
        if let Some(retention) = access_log_retention {
            match services.prune_access_log(retention).await {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "access log records pruned"),
                Err(error) => tracing::warn!(%error, "pruning the access log failed"),
            }
        }
        match services.apply_retention_everywhere().await {
            Ok(reports) => {
                for r in reports {
                    tracing::info!(
                        brand = %r.brand,
                        customers_erased = r.customers_erased,
                        message_bodies_purged = r.message_bodies_purged,
                        otp_codes_dropped = r.otp_codes_dropped,
                        customer_sessions_dropped = r.customer_sessions_dropped,
                        "retention applied"
                    );
                    metrics.retained("customers_erased", r.customers_erased);
                    metrics.retained("message_bodies_purged", r.message_bodies_purged);
                    metrics.retained("otp_codes_dropped", r.otp_codes_dropped);
                    metrics.retained("customer_sessions_dropped", r.customer_sessions_dropped);
                }
            }
            Err(error) => tracing::warn!(%error, "applying retention periods failed"),
        }
        if pause_or_stop(PRUNE_INTERVAL, &mut stopped).await {
            return;
        }
    }
}

/// Reviews every brand's tiers at its programme's period ends: looks every `interval`,
/// starting at once, and visits a brand's customers once a period (the per-customer
/// records make a second visit, after a restart or by another worker, harmless).
async fn review_loop(
    services: Arc<Services>,
    interval: Duration,
    metrics: WorkerMetrics,
    mut stopped: watch::Receiver<bool>,
) {
    let mut done = std::collections::HashMap::new();
    loop {
        match services.review_tiers_everywhere(&mut done).await {
            Ok(reports) => {
                for r in reports.iter().filter(|r| r.reviewed > 0) {
                    tracing::info!(
                        brand = %r.brand,
                        period_end = ?r.period_end,
                        reviewed = r.reviewed,
                        moved_down = r.moved_down,
                        "tier review"
                    );
                    metrics.tier_reviewed("kept", r.reviewed - r.moved_down);
                    metrics.tier_reviewed("moved_down", r.moved_down);
                }
            }
            Err(error) => {
                metrics.failed("tier_review", Failure::Error);
                tracing::warn!(%error, "the tier review could not list the brands");
            }
        }
        if pause_or_stop(interval, &mut stopped).await {
            return;
        }
    }
}

/// Polls every KiotViet FnB integration's invoices every `interval`, starting at once.
/// Each integration's lease on its cursor keeps two workers from polling it at once;
/// its own errors back it off (logged by the use case) without holding up the others.
async fn poll_loop(
    services: Arc<Services>,
    api: PosPoller,
    interval: Duration,
    options: regulars_service::PollOptions,
    metrics: WorkerMetrics,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let started = tokio::time::Instant::now();
        let pass = tokio::spawn({
            let (services, api) = (services.clone(), api.clone());
            async move { services.poll_pos_invoices(api.0.as_ref(), &options).await }
        })
        .await;
        match pass {
            Ok(Ok(reports)) => {
                for r in reports.iter().filter(|r| r.pages > 0) {
                    tracing::info!(brand = %r.brand, integration = %r.integration, pages = r.pages,
                        counted = r.counted, ignored = r.ignored, outcome = ?r.outcome, "POS invoices polled");
                }
            }
            Ok(Err(error)) => {
                metrics.failed("pos_poll", Failure::Error);
                tracing::warn!(%error, "POS invoice polling could not list the integrations");
            }
            Err(error) => {
                metrics.failed("pos_poll", Failure::Panic);
                tracing::error!(%error, "POS invoice polling panicked");
            }
        }
        let rest = interval.saturating_sub(started.elapsed());
        if pause_or_stop(rest, &mut stopped).await {
            return;
        }
    }
}

/// Waits `pause`; `true` when the worker is asked to stop meanwhile.
async fn pause_or_stop(pause: Duration, stopped: &mut watch::Receiver<bool>) -> bool {
    if *stopped.borrow() {
        return true;
    }
    tokio::select! {
        changed = stopped.changed() => changed.is_err() || *stopped.borrow(),
        () = tokio::time::sleep(pause) => false,
    }
}

/// Plans every brand's active campaigns every `interval`, each brand in its own task.
async fn plan_loop(
    services: Arc<Services>,
    interval: Duration,
    metrics: WorkerMetrics,
    mut stopped: watch::Receiver<bool>,
) -> WorkerTotals {
    let mut totals = WorkerTotals::default();
    loop {
        let started = tokio::time::Instant::now();
        match services.campaign_brands().await {
            Ok(brands) => {
                for brand in brands {
                    plan_brand(&services, brand, &metrics, &mut totals).await;
                }
            }
            Err(error) => {
                metrics.failed("campaigns", Failure::Error);
                totals.campaign_failures += 1;
                tracing::warn!(%error, "campaign runs could not list the brands");
            }
        }
        let rest = interval.saturating_sub(started.elapsed());
        if pause_or_stop(rest, &mut stopped).await {
            return totals;
        }
    }
}

/// Runs one brand's campaigns in a task of its own and records how it went.
async fn plan_brand(
    services: &Arc<Services>,
    brand: BrandId,
    metrics: &WorkerMetrics,
    totals: &mut WorkerTotals,
) {
    let run = tokio::spawn({
        let services = services.clone();
        async move { services.run_campaigns(brand).await }
    })
    .await;
    match run {
        Ok(Ok(reports)) => {
            totals.campaign_runs += reports.len() as u64;
            for r in &reports {
                totals.planned += r.messages;
                if r.messages > 0 {
                    tracing::info!(%brand, campaign = %r.campaign_id, messages = r.messages,
                        vouchers = r.vouchers, held_out = r.held_out, "campaign run");
                }
            }
        }
        Ok(Err(error)) => {
            metrics.failed("campaigns", Failure::Error);
            totals.campaign_failures += 1;
            tracing::error!(%brand, %error, "campaign run failed for the brand");
        }
        Err(error) => {
            metrics.failed("campaigns", Failure::Panic);
            totals.campaign_failures += 1;
            tracing::error!(%brand, %error, "campaign run panicked for the brand");
        }
    }
}

/// Delivers rounds of due messages until a round finds fewer than a batch, then sleeps
/// for the poll interval; each round is a task of its own.
async fn deliver_loop(
    services: Arc<Services>,
    senders: ChannelSenders,
    options: WorkerOptions,
    metrics: WorkerMetrics,
    mut stopped: watch::Receiver<bool>,
) -> WorkerTotals {
    let mut totals = WorkerTotals::default();
    let senders = Arc::new(senders);
    let delivery = Arc::new(options.delivery);
    let bell = services.outbox_bell();
    loop {
        loop {
            let round = tokio::spawn({
                let (services, senders, delivery) =
                    (services.clone(), senders.clone(), delivery.clone());
                async move { services.deliver_due(&senders, &delivery).await }
            })
            .await;
            match round {
                Ok(Ok(round)) => {
                    totals.rounds += 1;
                    totals.delivery += round;
                    if round.claimed > 0 {
                        tracing::info!(
                            claimed = round.claimed,
                            sent = round.sent,
                            retried = round.retried,
                            fell_back = round.fell_back,
                            dead = round.dead,
                            cancelled = round.cancelled,
                            deferred = round.deferred,
                            lost = round.lost,
                            "delivery round"
                        );
                    }
                    if round.claimed < delivery.batch || *stopped.borrow() {
                        break;
                    }
                }
                Ok(Err(error)) => {
                    metrics.failed("delivery", Failure::Error);
                    totals.delivery_failures += 1;
                    tracing::warn!(%error, "delivery round failed");
                    break;
                }
                Err(error) => {
                    metrics.failed("delivery", Failure::Panic);
                    totals.delivery_failures += 1;
                    tracing::error!(%error, "delivery round panicked");
                    break;
                }
            }
        }
        // The poll finds what other processes wrote; the bell, what this one just did.
        if *stopped.borrow() {
            return totals;
        }
        tokio::select! {
            stop = pause_or_stop(options.poll, &mut stopped) => if stop {
                return totals;
            },
            () = bell.rung() => {}
        }
    }
}
