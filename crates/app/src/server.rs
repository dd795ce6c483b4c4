//! `regulars serve`: the store, the use cases and the HTTP API wired into one server.
//!
//! [`Application::build`] binds the listener first (port 0 picks a free one) and
//! returns a handle with the port, so the binary and every end-to-end test start the
//! server the same way.

use crate::settings::Settings;
use crate::system::{OsIdGen, SystemClock};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use regulars_http::{AppState, Metrics, RateLimiter};
use regulars_ports::Clock;
use regulars_pos::PosDecoder;
use regulars_service::{ScoringOptions, Services};
use regulars_store::{Store, StoreOptions, redact};
use std::net::TcpListener;
use std::sync::Arc;
use thiserror::Error;

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum StartError {
    /// The database cannot be opened or migrated.
    #[error("cannot open the database {url}: {error}")]
    Database {
        /// The URL, password hidden.
        url: String,
        /// Why.
        error: regulars_ports::StoreError,
    },
    /// The listen address cannot be bound.
    #[error("cannot listen on {address}: {error}")]
    Listen {
        /// The address.
        address: String,
        /// Why.
        error: std::io::Error,
    },
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    services: Arc<Services>,
    metrics: Arc<Metrics>,
    store: Arc<Store>,
}

impl Application {
    /// Opens the database (running migrations) and binds the listener.
    pub async fn build(settings: &Settings) -> Result<Application, StartError> {
        let options = StoreOptions::default()
            .acquire_timeout(settings.database_timeout)
            .connect_timeout(settings.database_timeout);
        let store = Store::connect(&settings.database_url, options)
            .await
            .map_err(|error| StartError::Database {
                url: redact(&settings.database_url),
                error,
            })?;
        let store = crate::sealing::keyed(&store, settings);
        crate::sealing::seal_plain_rows(&store, settings)
            .await
            .map_err(|error| StartError::Database {
                url: redact(&settings.database_url),
                error,
            })?;
        Self::with_store(settings, Arc::new(store))
    }

    /// Binds the listener over an open store.
    pub fn with_store(settings: &Settings, store: Arc<Store>) -> Result<Application, StartError> {
        Self::with_store_and_clock(settings, store, Arc::new(SystemClock))
    }

    /// Binds the listener over an open store, with `clock` as the time of the use
    /// cases, webhook windows and rate limits (tests move it by hand).
    pub fn with_store_and_clock(
        settings: &Settings,
        store: Arc<Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Application, StartError> {
        Self::assemble(settings, store, clock, None)
    }

    /// Binds the listener over an open store for `regulars demo`: the dashboard pages of
    /// `simulated` say that its customers and campaign results are simulated.
    pub fn with_store_simulating(
        settings: &Settings,
        store: Arc<Store>,
        simulated: regulars_domain::BrandId,
    ) -> Result<Application, StartError> {
        Self::assemble(settings, store, Arc::new(SystemClock), Some(simulated))
    }

    fn assemble(
        settings: &Settings,
        store: Arc<Store>,
        clock: Arc<dyn Clock>,
        simulated: Option<regulars_domain::BrandId>,
    ) -> Result<Application, StartError> {
        let store = Arc::new(crate::sealing::keyed(&store, settings));
        let mut services = Services::new(store.clone(), clock.clone(), Arc::new(OsIdGen))
            .with_channel_accounts(store.clone())
            .with_auth_failure_limit(
                settings
                    .rate_limit
                    .map(|_| regulars_service::guard::AUTH_FAILURES),
            );
        if let Some(keys) = settings.secret_keys() {
            services = services.with_secret_keys(keys);
        }
        let postgres = store.backend() == regulars_store::Backend::Postgres;
        if let Some(group) = settings.ingest.group_commit(postgres) {
            services = services.with_group_commit(group);
        }
        // eSMS is sent over its customer-care API, never fit for promotional messages.
        services = services.with_customer_care_sms(settings.senders.sms.is_some());
        let services = Arc::new(services.with_public_url(settings.public_url.clone()));
        let metrics = Arc::new(Metrics::new());
        let tolerance = time::Duration::try_from(settings.webhook_tolerance)
            .unwrap_or(time::Duration::minutes(5));
        let limiter = Arc::new(RateLimiter::new(settings.rate_limit));
        let state = web::Data::new(AppState {
            services: services.clone(),
            decoder: Arc::new(PosDecoder::new(tolerance)),
            pos_api: pos_api(settings),
            clock,
            body_limit: settings.body_limit,
            limiter: limiter.clone(),
            failures: Arc::new(RateLimiter::new(
                settings.rate_limit.map(|_| regulars_http::FAILURE_LIMIT),
            )),
            metrics: metrics.clone(),
            metrics_token: settings.metrics_token.clone(),
            delivery_reports: settings.report_keys.any().then(|| {
                Arc::new(regulars_senders::ProviderReports::new(
                    settings.report_keys.clone(),
                )) as Arc<dyn regulars_ports::DeliveryReportDecoder>
            }),
        });
        let web_state = web::Data::new(
            regulars_web::WebState::new(
                services.clone(),
                Arc::new(SystemClock),
                Arc::new(OsIdGen),
                settings.secret_keys().as_ref(),
            )
            .with_limiter(limiter)
            .with_export_document(regulars_http::export_document)
            .with_secure_cookies(settings.secure_cookies)
            .with_public_url(settings.public_url.clone())
            .with_simulated_brand(simulated),
        );
        if !web_state.persistent_keys() {
            tracing::warn!(
                "no REGULARS_SECRET_KEY: dashboard sessions and customer links end when the server restarts"
            );
        }
        let listen_error = |error| StartError::Listen {
            address: settings.listen.clone(),
            error,
        };
        let listener = TcpListener::bind(&settings.listen).map_err(listen_error)?;
        let port = listener.local_addr().map_err(listen_error)?.port();
        let hsts = settings.secure_cookies;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(transport_headers(hsts))
                .wrap(regulars_http::error_fallback())
                .wrap(from_fn(regulars_http::track_metrics))
                .wrap(from_fn(regulars_http::request_log))
                // First: its link route must be matched ahead of the API's `/v1` scope.
                .configure(|cfg| regulars_web::configure(cfg, web_state.clone()))
                .configure(|cfg| regulars_http::configure(cfg, state.clone()))
        })
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        .listen(listener)
        .map_err(listen_error)?
        .run();
        Ok(Application {
            port,
            server,
            services,
            metrics,
            store,
        })
    }

    /// Where the message channels keep their shared OAuth tokens (the server's store,
    /// with its keys).
    pub fn token_store(&self) -> Arc<dyn regulars_ports::TokenStore> {
        self.store.clone()
    }

    /// Where brands' own channel accounts are kept (the server's store, with its keys).
    pub fn channel_account_store(&self) -> Arc<dyn regulars_ports::ChannelAccountStore> {
        self.store.clone()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The use cases the server runs, for callers that set data up before serving.
    pub fn services(&self) -> Arc<Services> {
        self.services.clone()
    }

    /// The process's metrics registry, served at `/metrics`: background workers
    /// register their own series on it ([`Metrics::register`]).
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// A handle that stops the server (gracefully: in-flight requests finish).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped by the handle or by SIGINT/SIGTERM (graceful). Meanwhile
    /// the access records of reads are written every
    /// [`ACCESS_FLUSH_INTERVAL`](regulars_service::ACCESS_FLUSH_INTERVAL), and once more
    /// after the last request has finished.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let services = self.services.clone();
        // The writer stops between writes, never inside one: a write cut off mid-query
        // would hand its connection back to the pool in an unknown state.
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let writer = tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(regulars_service::ACCESS_FLUSH_INTERVAL) => {}
                    _ = stopped.changed() => return,
                }
                if let Err(error) = services.flush_access_log().await {
                    tracing::warn!(%error, "writing the access log failed; kept for the next try");
                }
            }
        });
        let served = self.server.await;
        let _ = stop.send(true);
        if let Err(error) = writer.await {
            tracing::error!(%error, "the access log writer stopped abnormally");
        }
        if let Err(error) = self.services.flush_access_log().await {
            tracing::error!(%error, "the last access records could not be written");
        }
        served
    }

    /// Exports the outbox at `/metrics` as `regulars_outbox_messages{status}` (every
    /// brand's messages by status: pending and sending are the queue's depth, sent,
    /// delivered, failed and dead what became of deliveries), read from the database
    /// every `every`; and the do-not-call list's size as `regulars_do_not_call_numbers`
    /// (`regulars_do_not_call_numbers_previous_key`: those waiting for a re-import after
    /// a key rotation).
    pub fn track_outbox(&self, every: std::time::Duration) {
        use regulars_http::metrics::prometheus_client::metrics::family::Family;
        use regulars_http::metrics::prometheus_client::metrics::gauge::Gauge;
        let family: Family<Vec<(String, String)>, Gauge> = Family::default();
        self.metrics.register(
            "regulars_outbox_messages",
            "Outbox messages by status, over every brand",
            family.clone(),
        );
        let listed: Gauge = Gauge::default();
        let previous: Gauge = Gauge::default();
        self.metrics.register(
            "regulars_do_not_call_numbers",
            "Numbers on the deployment's do-not-call list",
            listed.clone(),
        );
        self.metrics.register(
            "regulars_do_not_call_numbers_previous_key",
            "Do-not-call numbers hashed under a previous server key (import the list again)",
            previous.clone(),
        );
        let services = self.services.clone();
        tokio::spawn(async move {
            loop {
                match services.do_not_call_status().await {
                    Ok(status) => {
                        listed.set(i64::try_from(status.numbers).unwrap_or(i64::MAX));
                        previous.set(i64::try_from(status.under_previous_keys).unwrap_or(i64::MAX));
                    }
                    Err(error) => tracing::debug!(%error, "do-not-call list size unavailable"),
                }
                match services.outbox_depth().await {
                    Ok(depth) => {
                        for status in regulars_ports::OutboxStatus::ALL {
                            let n = depth.get(&status).copied().unwrap_or(0);
                            family
                                .get_or_create(&vec![(
                                    "status".to_owned(),
                                    status.as_str().to_owned(),
                                )])
                                .set(i64::try_from(n).unwrap_or(i64::MAX));
                        }
                    }
                    Err(error) => tracing::debug!(%error, "outbox depth unavailable"),
                }
                tokio::time::sleep(every).await;
            }
        });
    }

    /// Runs the scoring job for every brand every `interval` (first run one minute
    /// after start) until the process ends. With several servers on one database, turn
    /// it on for one of them only.
    pub fn schedule_scoring(&self, interval: std::time::Duration) {
        let services = self.services.clone();
        let metrics = self.metrics.clone();
        tokio::spawn(async move {
            let mut next = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
            loop {
                tokio::time::sleep_until(next).await;
                next += interval;
                match services.score_all_brands(&ScoringOptions::default()).await {
                    Ok(runs) => {
                        for (brand, run) in runs {
                            match run {
                                Ok(run) => {
                                    metrics.record_scoring_run(true);
                                    tracing::info!(%brand, customers = run.customers, "scored")
                                }
                                Err(error) => {
                                    metrics.record_scoring_run(false);
                                    tracing::warn!(%brand, %error, "scoring failed")
                                }
                            }
                        }
                    }
                    Err(error) => tracing::warn!(%error, "scoring could not list brands"),
                }
            }
        });
    }
}

/// How long browsers keep to HTTPS once told (one year, in seconds).
const HSTS_MAX_AGE: u64 = 365 * 24 * 60 * 60;

/// `Strict-Transport-Security` on every answer when `hsts`: sent when cookies are
/// `Secure`, that is when the server is reached over HTTPS, so that a browser never
/// again sends the session cookie or a customer link over plain HTTP to this host.
fn transport_headers(hsts: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new();
    if !hsts {
        return headers;
    }
    headers.add((
        actix_web::http::header::STRICT_TRANSPORT_SECURITY,
        format!("max-age={HSTS_MAX_AGE}"),
    ))
}

/// The client of the POS APIs; `None` (logged) when it cannot be built, so webhooks
/// still verify and count what they carry themselves.
pub fn pos_api(settings: &Settings) -> Option<Arc<dyn regulars_ports::PosApi>> {
    match regulars_pos::client::PosClient::new(settings.pos_api.clone()) {
        Ok(client) => Some(Arc::new(client)),
        Err(error) => {
            tracing::error!(%error, "cannot build the POS API client; Square orders and KiotViet customer look-ups are off");
            None
        }
    }
}
