//! The POS APIs this adapter calls (the [`PosApi`] port): Square's Orders and Customers
//! APIs, and KiotViet's Public API (customers) with its OAuth client-credentials token.

use crate::square::{self, order::SquareOrder};
use crate::{BrandContext, PosEvent, VerifiedEvent};
use async_trait::async_trait;
use regulars_domain::Phone;
use regulars_ports::{
    Ignored, IgnoredReason, IntegrationKind, Pending, PosApi, PosApiAccess, PosApiError,
    WebhookDelivery,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where the POS APIs are, and how long a call may take (`[pos_api]` in the server's
/// configuration file; every field is optional).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PosApiConfig {
    /// Square's API (`https://connect.squareup.com`; the sandbox is
    /// `https://connect.squareupsandbox.com`).
    pub square_url: String,
    /// The `Square-Version` sent with every call (the API version the mapping was
    /// written against).
    pub square_version: String,
    /// KiotViet's Public API (`https://public.kiotapi.com`).
    pub kiotviet_url: String,
    /// KiotViet's token endpoint (`https://id.kiotviet.vn/connect/token`).
    pub kiotviet_token_url: String,
    /// KiotViet FnB's Public API (`https://publicfnb.kiotapi.com`).
    pub kiotviet_fnb_url: String,
    /// KiotViet FnB's token endpoint
    /// (`https://api.fnb.kiotviet.vn/identity/connect/token`).
    pub kiotviet_fnb_token_url: String,
    /// How many invoices one page of KiotViet's invoice list asks for (KiotViet allows
    /// at most 100).
    pub kiotviet_page_size: u32,
    /// The longest one call may take, in seconds. KiotViet wants its webhooks answered
    /// within 5 seconds, so keep this well under that.
    pub timeout_seconds: u64,
}

impl Default for PosApiConfig {
    fn default() -> Self {
        PosApiConfig {
            square_url: "https://connect.squareup.com".to_owned(),
            square_version: "2025-01-23".to_owned(),
            kiotviet_url: "https://public.kiotapi.com".to_owned(),
            kiotviet_token_url: "https://id.kiotviet.vn/connect/token".to_owned(),
            kiotviet_fnb_url: "https://publicfnb.kiotapi.com".to_owned(),
            kiotviet_fnb_token_url: "https://api.fnb.kiotviet.vn/identity/connect/token".to_owned(),
            kiotviet_page_size: 100,
            timeout_seconds: 3,
        }
    }
}

/// A KiotViet token is renewed this long before KiotViet says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// Calls the POS APIs; one per process (it pools connections and caches tokens).
pub struct PosClient {
    pub(crate) http: reqwest::Client,
    pub(crate) config: PosApiConfig,
    /// KiotViet access tokens per (token endpoint, retailer, client id), with when to
    /// stop using them.
    tokens: Mutex<HashMap<TokenKey, (String, Instant)>>,
}

/// Which token: its endpoint, the retailer and the client id.
type TokenKey = (String, String, String);

/// Which of KiotViet's Public APIs an integration calls: Retail's or FnB's. They take
/// the same client credentials at different token endpoints, with different scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KiotVietApi {
    Retail,
    Fnb,
}

impl KiotVietApi {
    pub(crate) fn of(kind: IntegrationKind) -> Option<KiotVietApi> {
        match kind {
            IntegrationKind::Kiotviet => Some(KiotVietApi::Retail),
            IntegrationKind::KiotvietFnb => Some(KiotVietApi::Fnb),
            _ => None,
        }
    }

    pub(crate) fn base(self, config: &PosApiConfig) -> &str {
        match self {
            KiotVietApi::Retail => &config.kiotviet_url,
            KiotVietApi::Fnb => &config.kiotviet_fnb_url,
        }
    }

    fn token_url(self, config: &PosApiConfig) -> &str {
        match self {
            KiotVietApi::Retail => &config.kiotviet_token_url,
            KiotVietApi::Fnb => &config.kiotviet_fnb_token_url,
        }
    }

    /// The scope form field and value: the Retail guide names the field `scopes`, the
    /// FnB identity server (an OAuth server) takes the standard `scope`.
    fn scope(self) -> (&'static str, &'static str) {
        match self {
            KiotVietApi::Retail => ("scopes", "PublicApi.Access"),
            KiotVietApi::Fnb => ("scope", "PublicApi.Access.FNB"),
        }
    }
}

/// KiotViet API credentials: retailer, client id, client secret.
pub(crate) type KiotVietAccess<'a> = (&'a str, &'a str, &'a str);

impl std::fmt::Debug for PosClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PosClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct OrderAnswer {
    order: SquareOrder,
}

#[derive(Deserialize)]
struct CustomerAnswer {
    customer: SquareCustomer,
}

#[derive(Deserialize)]
struct SquareCustomer {
    #[serde(default)]
    phone_number: Option<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KiotVietCustomer {
    #[serde(default)]
    contact_number: Option<String>,
    /// FnB wraps the customer in `{"data": …}` (as an FnB SDK reads it).
    #[serde(default)]
    data: Option<Box<KiotVietCustomer>>,
}

impl KiotVietCustomer {
    fn contact_number(&self) -> Option<&str> {
        self.contact_number
            .as_deref()
            .or_else(|| self.data.as_ref().and_then(|d| d.contact_number()))
    }
}

/// An answer to a GET: the body read as `T`, or `None` for 404.
pub(crate) enum Got<T> {
    Found(T),
    NotFound,
    Unauthorized,
}

pub(crate) fn context(d: &WebhookDelivery<'_>) -> BrandContext {
    BrandContext {
        brand_id: d.brand,
        currency: d.currency,
        calling_code: d.calling_code,
        utc_offset: d.utc_offset,
    }
}

pub(crate) fn url(base: &str, segments: &[&str]) -> Result<reqwest::Url, PosApiError> {
    let mut url = reqwest::Url::parse(base)
        .map_err(|e| PosApiError::Refused(format!("{base:?} is not a URL: {e}")))?;
    url.path_segments_mut()
        .map_err(|()| PosApiError::Refused(format!("{base:?} cannot take a path")))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

fn transport(what: &str, e: &reqwest::Error) -> PosApiError {
    PosApiError::Unavailable(format!("{what}: {e}"))
}

/// A usable phone number, or `None` (absent, empty or not a number).
fn phone(text: Option<&str>, brand: &BrandContext) -> Option<Phone> {
    let text = text?.trim();
    if text.is_empty() {
        return None;
    }
    Phone::parse(text, brand.calling_code).ok()
}

impl PosClient {
    /// A client for the APIs in `config`.
    pub fn new(config: PosApiConfig) -> Result<PosClient, reqwest::Error> {
        let timeout = Duration::from_secs(config.timeout_seconds.max(1));
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(PosClient {
            http,
            config,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        what: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Got<T>, PosApiError> {
        let answer = request.send().await.map_err(|e| transport(what, &e))?;
        let status = answer.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(Got::NotFound);
        }
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Ok(Got::Unauthorized);
        }
        let body = answer.bytes().await.map_err(|e| transport(what, &e))?;
        if status.is_server_error()
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
        {
            return Err(PosApiError::Unavailable(format!("{what}: HTTP {status}")));
        }
        if !status.is_success() {
            let snippet: String = String::from_utf8_lossy(&body).chars().take(200).collect();
            return Err(PosApiError::Refused(format!(
                "{what}: HTTP {status}: {snippet}"
            )));
        }
        serde_json::from_slice(&body)
            .map(Got::Found)
            .map_err(|e| PosApiError::Refused(format!("{what}: not the documented answer: {e}")))
    }

    fn square(&self, path: &[&str], token: &str) -> Result<reqwest::RequestBuilder, PosApiError> {
        Ok(self
            .http
            .get(url(&self.config.square_url, path)?)
            .bearer_auth(token)
            .header("Square-Version", &self.config.square_version)
            .header(reqwest::header::ACCEPT, "application/json"))
    }

    /// Square's `RetrieveOrder`, then (for its customer) `RetrieveCustomer`.
    async fn square_order(
        &self,
        delivery: &WebhookDelivery<'_>,
        token: &str,
        pending: &Pending,
    ) -> Result<Result<VerifiedEvent, Ignored>, PosApiError> {
        let brand = context(delivery);
        let order_id = pending.reference.as_str();
        let request = self.square(&["v2", "orders", order_id], token)?;
        let order = match self
            .get::<OrderAnswer>("Square RetrieveOrder", request)
            .await?
        {
            Got::Found(answer) => answer.order,
            Got::NotFound => {
                return Ok(Err(Ignored {
                    reason: IgnoredReason::Unusable,
                    path: pending.path.clone(),
                    detail: format!("Square has no order {order_id:?}"),
                }));
            }
            Got::Unauthorized => {
                return Err(PosApiError::Refused(
                    "Square RetrieveOrder: the access token was refused (401)".to_owned(),
                ));
            }
        };
        if !order.is_completed() {
            return Ok(Err(Ignored {
                reason: IgnoredReason::NotFinal,
                path: "order.state".to_owned(),
                detail: format!(
                    "order {order_id:?} is {}; it counts once it is {}",
                    order.state(),
                    square::COMPLETED
                ),
            }));
        }
        let customer_phone = match order.customer_id() {
            Some(customer) => {
                let request = self.square(&["v2", "customers", customer], token)?;
                match self
                    .get::<CustomerAnswer>("Square RetrieveCustomer", request)
                    .await?
                {
                    Got::Found(answer) => phone(answer.customer.phone_number.as_deref(), &brand),
                    // A deleted customer: the order still counts, anonymously.
                    Got::NotFound => None,
                    Got::Unauthorized => {
                        return Err(PosApiError::Refused(
                            "Square RetrieveCustomer: the access token was refused (401)"
                                .to_owned(),
                        ));
                    }
                }
            }
            None => None,
        };
        Ok(order
            .into_order(&brand, customer_phone, "order")
            .map(|order| VerifiedEvent {
                event_id: pending.event_id.clone(),
                occurred_at: pending.occurred_at,
                source: square::SOURCE,
                customer_ref: None,
                event: PosEvent::Order(order),
            }))
    }

    /// A KiotViet access token for these credentials: the cached one while it lasts,
    /// else a new one (OAuth client credentials, scope `PublicApi.Access`, or
    /// `PublicApi.Access.FNB` for FnB).
    pub(crate) async fn kiotviet_token(
        &self,
        api: KiotVietApi,
        access: KiotVietAccess<'_>,
    ) -> Result<String, PosApiError> {
        let (retailer, client_id, client_secret) = access;
        let token_url = api.token_url(&self.config);
        let key = (
            token_url.to_owned(),
            retailer.to_owned(),
            client_id.to_owned(),
        );
        if let Ok(tokens) = self.tokens.lock()
            && let Some((token, until)) = tokens.get(&key)
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let what = "KiotViet token";
        let form = [
            api.scope(),
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", client_secret),
        ];
        let body = serde_urlencoded::to_string(form)
            .map_err(|e| PosApiError::Refused(format!("{what}: {e}")))?;
        let request = self
            .http
            .post(token_url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        let answer = match self.get::<TokenAnswer>(what, request).await? {
            Got::Found(answer) => answer,
            Got::NotFound | Got::Unauthorized => {
                return Err(PosApiError::Refused(format!(
                    "{what}: the client credentials were refused"
                )));
            }
        };
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(0));
        if let Some(until) = Instant::now().checked_add(lifetime.saturating_sub(TOKEN_MARGIN))
            && let Ok(mut tokens) = self.tokens.lock()
        {
            tokens.insert(key, (answer.access_token.clone(), until));
        }
        Ok(answer.access_token)
    }

    pub(crate) fn forget_token(&self, api: KiotVietApi, retailer: &str, client_id: &str) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.remove(&(
                api.token_url(&self.config).to_owned(),
                retailer.to_owned(),
                client_id.to_owned(),
            ));
        }
    }

    /// `GET /customers/code/{code}`: the customer's `contactNumber`.
    async fn kiotviet_phone(
        &self,
        delivery: &WebhookDelivery<'_>,
        api: KiotVietApi,
        access: KiotVietAccess<'_>,
        code: &str,
    ) -> Result<Option<Phone>, PosApiError> {
        let (retailer, client_id, _) = access;
        let brand = context(delivery);
        // A token revoked before its time is renewed once.
        for _ in 0..2 {
            let token = self.kiotviet_token(api, access).await?;
            let request = self
                .http
                .get(url(api.base(&self.config), &["customers", "code", code])?)
                .bearer_auth(&token)
                .header("Retailer", retailer)
                .header(reqwest::header::ACCEPT, "application/json");
            match self
                .get::<KiotVietCustomer>("KiotViet customer", request)
                .await?
            {
                Got::Found(customer) => {
                    return Ok(phone(customer.contact_number(), &brand));
                }
                Got::NotFound => return Ok(None),
                Got::Unauthorized => self.forget_token(api, retailer, client_id),
            }
        }
        Err(PosApiError::Refused(
            "KiotViet customer: a fresh token was refused (401)".to_owned(),
        ))
    }
}

#[async_trait]
impl PosApi for PosClient {
    async fn complete(
        &self,
        delivery: &WebhookDelivery<'_>,
        pending: &Pending,
    ) -> Result<Result<VerifiedEvent, Ignored>, PosApiError> {
        match (delivery.kind, delivery.access) {
            (IntegrationKind::Square, Some(PosApiAccess::Square { access_token, .. })) => {
                self.square_order(delivery, access_token, pending).await
            }
            (kind, _) => Err(PosApiError::Refused(format!(
                "the {} integration has no API credentials to fetch {:?}",
                kind.as_str(),
                pending.reference
            ))),
        }
    }

    async fn customer_phone(
        &self,
        delivery: &WebhookDelivery<'_>,
        customer_ref: &str,
    ) -> Result<Option<Phone>, PosApiError> {
        match (delivery.access, KiotVietApi::of(delivery.kind)) {
            (
                Some(PosApiAccess::Kiotviet {
                    retailer,
                    client_id,
                    client_secret,
                }),
                Some(api),
            ) => {
                let access = (
                    retailer.as_str(),
                    client_id.as_str(),
                    client_secret.as_str(),
                );
                self.kiotviet_phone(delivery, api, access, customer_ref)
                    .await
            }
            _ => Err(PosApiError::Refused(format!(
                "the {} integration has no KiotViet API credentials",
                delivery.kind.as_str()
            ))),
        }
    }

    async fn invoices_since(
        &self,
        delivery: &WebhookDelivery<'_>,
        since: time::OffsetDateTime,
        current_item: u64,
    ) -> Result<regulars_ports::InvoicePage, PosApiError> {
        match (delivery.access, KiotVietApi::of(delivery.kind)) {
            (
                Some(PosApiAccess::Kiotviet {
                    retailer,
                    client_id,
                    client_secret,
                }),
                Some(api),
            ) => {
                let access = (
                    retailer.as_str(),
                    client_id.as_str(),
                    client_secret.as_str(),
                );
                self.kiotviet_invoices(delivery, api, access, since, current_item)
                    .await
            }
            _ => Err(PosApiError::Refused(format!(
                "the {} integration has no KiotViet API credentials to list invoices with",
                delivery.kind.as_str()
            ))),
        }
    }
}
