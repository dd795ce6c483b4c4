//! The Regulars web front end: the owner's dashboard and the customer's QR page,
//! server-rendered HTML (`maud`) with inline SVG charts and QR codes drawn on the
//! server. Nothing is fetched from elsewhere at run time and no JavaScript runs.
//!
//! * `/dashboard/...` — sign in with a viewer or admin API key; a signed, expiring,
//!   HttpOnly, SameSite=Strict session cookie holds the key's id (never the key), and
//!   every request checks that the key is still active. State-changing forms carry a
//!   CSRF token bound to the session. Viewer sessions see no edit forms and get 403 on
//!   every POST but sign-out.
//! * `/c/{token}` — a customer's own page: balance, tier progress and each active
//!   voucher with its QR code. The token is signed over brand, customer and expiry.
//! * `POST /v1/customers/{id}/qr-link` — for admin and till keys: the URL of a
//!   customer's page and its QR code.
//!
//! Every read goes through [`Services`], the same calls the JSON API makes, scoped to
//! the session's brand. Register [`configure`] *before* the JSON API's, so that the
//! link route is matched ahead of the API's `/v1` scope.
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use regulars_web::{WebState, configure};
//!
//! async fn serve(state: WebState) -> std::io::Result<()> {
//!     let state = web::Data::new(state);
//!     HttpServer::new(move || App::new().configure(|cfg| configure(cfg, state.clone())))
//!         .bind(("127.0.0.1", 8080))?
//!         .run()
//!         .await
//! }
//! ```

mod chart;
pub mod cookies;
pub mod i18n;
mod link;
mod otp_form;
mod pages;
mod poster;
mod qr;
mod reading;
mod render;
mod session;
pub mod sign;
pub mod signup;
pub mod till;

use actix_web::{Scope, web};
use regulars_domain::BrandId;
use regulars_ports::{Clock, IdGen};
use regulars_service::{RateLimiter, SecretKey, SecretKeys, Services};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

pub use i18n::Lang;
pub use sign::{Keys, LinkClaims, SessionClaims};

/// How long a dashboard session lasts by default.
pub const DEFAULT_SESSION_TTL: Duration = Duration::hours(12);
/// How long a customer link works by default.
pub const DEFAULT_LINK_TTL: Duration = Duration::days(90);

/// What the pages share.
#[derive(Clone)]
pub struct WebState {
    /// The use cases.
    pub services: Arc<Services>,
    /// The clock sessions and links expire by.
    pub clock: Arc<dyn Clock>,
    /// Random bytes (sign-in form nonces).
    pub ids: Arc<dyn IdGen>,
    keys: Keys,
    persistent_keys: bool,
    /// Whether cookies are marked `Secure` (the server is reached over HTTPS).
    pub secure_cookies: bool,
    /// How long a session lasts.
    pub session_ttl: Duration,
    /// How long a customer link works.
    pub link_ttl: Duration,
    /// The public base URL of customer links (`https://loyalty.example.com`); without
    /// one, the request's own scheme and host are used.
    pub public_url: Option<String>,
    /// The API's per-key rate limiter, shared so a key's dashboard session and its API
    /// calls draw on one bucket; `None`: no limit.
    pub limiter: Option<Arc<RateLimiter>>,
    /// How a customer's export is written as a JSON document (the API's own, given by
    /// the server so both answer the same); without one the card page offers no
    /// download.
    pub export_document: Option<ExportDocument>,
    /// The brand whose customers and campaign results are simulated (the one
    /// `regulars demo` serves): its dashboard pages say so in a banner.
    pub simulated_brand: Option<BrandId>,
}

/// Writes a customer's export as its JSON document.
pub type ExportDocument = fn(&regulars_service::CustomerExport) -> serde_json::Value;

impl WebState {
    /// The pages' state. Keys are derived from the server's current secret (and the
    /// previous ones still open what they signed); without one a random key is drawn
    /// from `ids`, and sessions and customer links then stop working when the process
    /// restarts.
    pub fn new(
        services: Arc<Services>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
        secret: Option<&SecretKeys>,
    ) -> WebState {
        let (keys, persistent_keys) = match secret {
            Some(secret) => (Keys::from_secrets(secret), true),
            None => {
                let mut bytes = [0u8; 32];
                ids.fill_bytes(&mut bytes);
                (Keys::from_secret(&SecretKey::from_bytes(bytes)), false)
            }
        };
        WebState {
            services,
            clock,
            ids,
            keys,
            persistent_keys,
            secure_cookies: false,
            session_ttl: DEFAULT_SESSION_TTL,
            link_ttl: DEFAULT_LINK_TTL,
            public_url: None,
            limiter: None,
            export_document: None,
            simulated_brand: None,
        }
    }

    /// Shares the API's per-key rate limiter (the bucket of key `k` is `key:<k>`).
    pub fn with_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Takes a request from the key's bucket; `Err(seconds)` when it is empty.
    pub(crate) fn limit_key(&self, key: regulars_domain::ApiKeyId) -> Result<(), u64> {
        match &self.limiter {
            Some(limiter) => limiter.check(&format!("key:{key}"), self.now()),
            None => Ok(()),
        }
    }

    /// Sets how a customer's export is written as JSON.
    pub fn with_export_document(mut self, document: ExportDocument) -> Self {
        self.export_document = Some(document);
        self
    }

    /// Marks cookies `Secure`.
    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }

    /// Marks `brand` as the one whose data is simulated (the demo's).
    pub fn with_simulated_brand(mut self, brand: Option<BrandId>) -> Self {
        self.simulated_brand = brand;
        self
    }

    /// Sets the public base URL of customer links.
    pub fn with_public_url(mut self, url: Option<String>) -> Self {
        self.public_url = url.map(|u| u.trim_end_matches('/').to_owned());
        self
    }

    /// Whether sessions and links survive a restart (the keys come from the server's
    /// secret rather than from a random per-process key).
    pub fn persistent_keys(&self) -> bool {
        self.persistent_keys
    }

    /// The signing keys.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The time now.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
}

/// The network address of a request's peer, which failure budgets are kept by
/// (forwarding headers are not believed: anyone can write them).
pub(crate) fn client_address(req: &actix_web::HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}

impl std::fmt::Debug for WebState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebState")
            .field("persistent_keys", &self.persistent_keys)
            .field("secure_cookies", &self.secure_cookies)
            .finish_non_exhaustive()
    }
}

/// Registers the dashboard, the customer pages and the link endpoint on `cfg`.
pub fn configure(cfg: &mut web::ServiceConfig, state: web::Data<WebState>) {
    cfg.app_data(state)
        .app_data(web::FormConfig::default().limit(256 * 1024))
        .route(
            "/v1/customers/{id}/qr-link",
            web::post().to(link::create_link),
        )
        .route("/c/{token}", web::get().to(pages::card::show))
        .configure(pages::card_privacy::routes)
        .route("/u/{token}", web::get().to(pages::unsubscribe::show))
        .route("/u/{token}", web::post().to(pages::unsubscribe::stop))
        .route("/f/{token}", web::get().to(pages::feedback::show))
        .route("/f/{token}", web::post().to(pages::feedback::rate))
        .route("/l/{token}", web::get().to(pages::links::follow))
        .route("/o/{token}.gif", web::get().to(pages::links::open))
        .configure(till::routes)
        .configure(signup::routes)
        .service(dashboard());
}

/// The owner's dashboard under `/dashboard`, one function per area; an unknown page is
/// the dashboard's 404.
fn dashboard() -> Scope {
    let scope = web::scope("/dashboard");
    let scope = session_routes(scope);
    let scope = insight_routes(scope);
    let scope = programme_routes(scope);
    let scope = shop_routes(scope);
    let scope = campaign_routes(scope);
    scope.default_service(web::to(pages::not_found))
}

/// Signing in and out, and the dashboard's home.
fn session_routes(scope: Scope) -> Scope {
    scope
        .route("", web::get().to(pages::home))
        .route("/", web::get().to(pages::home))
        .route("/login", web::get().to(session::login_page))
        .route("/login", web::post().to(session::login))
        .route("/logout", web::post().to(session::logout))
}

/// What the owner reads: the overview and goals, segments, customers, the access audit
/// and ratings.
fn insight_routes(scope: Scope) -> Scope {
    scope
        .route("/overview", web::get().to(pages::overview::show))
        .route("/goals", web::post().to(pages::goals::create))
        .route("/goals/{id}/delete", web::post().to(pages::goals::remove))
        .route("/segments", web::get().to(pages::segments::show))
        .route("/segments", web::post().to(pages::segments::create))
        .route(
            "/segments/export.csv",
            web::get().to(pages::segment_export::csv),
        )
        .route("/customers", web::get().to(pages::customer_list::list))
        .route(
            "/customers.csv",
            web::get().to(pages::export::customers_csv),
        )
        .route("/customers/{id}", web::get().to(pages::customers::profile))
        .route("/audit", web::get().to(pages::audit::show))
        .route("/ratings", web::get().to(pages::ratings::show))
        .route(
            "/ratings/managers/{location}",
            web::post().to(pages::ratings::set_manager),
        )
}

/// The loyalty programme's settings, rewards and referrals.
fn programme_routes(scope: Scope) -> Scope {
    scope
        .route("/programme", web::get().to(pages::programme::show))
        .route(
            "/programme/earning-rules",
            web::post().to(pages::programme::save_rules),
        )
        .route(
            "/programme/tiers",
            web::post().to(pages::programme::save_tiers),
        )
        .route(
            "/programme/stamp-cards",
            web::post().to(pages::programme::save_stamp_cards),
        )
        .route(
            "/programme/profiling",
            web::post().to(pages::programme::save_profiling),
        )
        .route(
            "/programme/rewards",
            web::post().to(pages::programme::create_reward),
        )
        .route(
            "/programme/rewards/{id}",
            web::post().to(pages::programme::save_reward),
        )
        .route("/referrals", web::get().to(pages::referrals::show))
        .route("/referrals", web::post().to(pages::referrals::save))
}

/// The shop's staff, menu, message channels and sign-up posters.
fn shop_routes(scope: Scope) -> Scope {
    scope
        .route("/staff", web::get().to(till::admin::show))
        .route("/menu", web::get().to(till::menu_admin::show))
        .route("/channels", web::get().to(pages::channels::show))
        .route("/channels/{channel}", web::post().to(pages::channels::set))
        .route(
            "/channels/{channel}/delete",
            web::post().to(pages::channels::remove),
        )
        .route("/staff", web::post().to(till::admin::add))
        .route("/menu", web::post().to(till::menu_admin::save))
        .route("/staff/devices", web::post().to(till::admin::enrol))
        .route("/posters", web::get().to(signup::posters::show))
        .route(
            "/posters/{location}/poster.{ext}",
            web::get().to(signup::posters::download),
        )
        .route(
            "/posters/{location}/rotate",
            web::post().to(signup::posters::rotate),
        )
}

/// Campaigns: the list, the form and their life cycle.
fn campaign_routes(scope: Scope) -> Scope {
    scope
        .route("/campaigns", web::get().to(pages::campaigns::list))
        .route("/campaigns", web::post().to(pages::campaign_form::create))
        .route("/campaigns/new", web::get().to(pages::campaign_form::new))
        .route("/campaigns/{id}", web::get().to(pages::campaigns::show))
        .route(
            "/campaigns/{id}/edit",
            web::get().to(pages::campaign_form::edit),
        )
        .route(
            "/campaigns/{id}/edit",
            web::post().to(pages::campaign_form::update),
        )
        .route(
            "/campaigns/{id}/{action}",
            web::post().to(pages::campaigns::transition),
        )
}
