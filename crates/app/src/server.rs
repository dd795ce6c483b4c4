//! `regulars serve`: the store, the use cases and the HTTP API wired into one server.
//!
//! [`Application::build`] binds the listener first (port 0 picks a free one) and
//! returns a handle with the port, so the binary and every end-to-end test start the
//! server the same way.

use crate::decoder::PosDecoder;
use crate::settings::Settings;
use crate::system::{OsIdGen, SystemClock};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use regulars_http::AppState;
use regulars_service::{ScoringOptions, Services};
use regulars_store::{Store, StoreOptions};
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
}

impl Application {
    /// Opens the database (running migrations) and binds the listener.
    pub async fn build(settings: &Settings) -> Result<Application, StartError> {
        let store = Store::connect(&settings.database_url, StoreOptions::default())
            .await
            .map_err(|error| StartError::Database {
                url: redact(&settings.database_url),
                error,
            })?;
        Self::with_store(settings, Arc::new(store))
    }

    /// Binds the listener over an open store.
    pub fn with_store(settings: &Settings, store: Arc<Store>) -> Result<Application, StartError> {
        let mut services = Services::new(store, Arc::new(SystemClock), Arc::new(OsIdGen));
        if let Some(key) = &settings.secret_key {
            services = services.with_secret_key(key.clone());
        }
        let services = Arc::new(services);
        let tolerance = time::Duration::try_from(settings.webhook_tolerance)
            .unwrap_or(time::Duration::minutes(5));
        let state = web::Data::new(AppState {
            services: services.clone(),
            decoder: Arc::new(PosDecoder::new(tolerance)),
            clock: Arc::new(SystemClock),
            body_limit: settings.body_limit,
        });
        let web_state = web::Data::new(
            regulars_web::WebState::new(
                services.clone(),
                Arc::new(SystemClock),
                Arc::new(OsIdGen),
                settings.secret_key.as_ref(),
            )
            .with_secure_cookies(settings.secure_cookies)
            .with_public_url(settings.public_url.clone()),
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
        let server = HttpServer::new(move || {
            App::new()
                .wrap(regulars_http::error_fallback())
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
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The use cases the server runs, for callers that set data up before serving.
    pub fn services(&self) -> Arc<Services> {
        self.services.clone()
    }

    /// A handle that stops the server (gracefully: in-flight requests finish).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped by the handle or by SIGINT/SIGTERM (graceful).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// Runs the scoring job for every brand every `interval` (first run one minute
    /// after start) until the process ends. With several servers on one database, turn
    /// it on for one of them only.
    pub fn schedule_scoring(&self, interval: std::time::Duration) {
        let services = self.services.clone();
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
                                    tracing::info!(%brand, customers = run.customers, "scored")
                                }
                                Err(error) => tracing::warn!(%brand, %error, "scoring failed"),
                            }
                        }
                    }
                    Err(error) => tracing::warn!(%error, "scoring could not list brands"),
                }
            }
        });
    }
}

/// The URL with any password hidden, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
