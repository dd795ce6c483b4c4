//! Stand-ins for the POS APIs the POS adapter calls: Square's Orders and Customers APIs
//! and KiotViet's Public API (token endpoint and customers), speaking their documented
//! request and answer formats.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use serde_json::{Value, json};

use super::common::{RecordedRequest, form_pairs};
use super::server::{Reply, Request, Stub};
use crate::TestkitError;

fn record(request: &Request) -> RecordedRequest {
    RecordedRequest {
        path: request.path.clone(),
        headers: request.headers.clone(),
        body: String::from_utf8_lossy(&request.body).into_owned(),
    }
}

/// Square's error answer: `{"errors": [{category, code, detail}]}`.
fn square_error(status: u16, category: &str, code: &str, detail: &str) -> Reply {
    let body = json!({"errors": [{"category": category, "code": code, "detail": detail}]});
    Reply::Json(status, body.to_string())
}

/// A local Square API: `GET /v2/orders/{order_id}` (RetrieveOrder, answering
/// `{"order": …}`), `POST /v2/orders/batch-retrieve` (BatchRetrieveOrders,
/// `{"orders": […]}`) and `GET /v2/customers/{customer_id}` (RetrieveCustomer,
/// `{"customer": …}`). A missing or wrong `Authorization: Bearer` is 401
/// `AUTHENTICATION_ERROR`/`UNAUTHORIZED`; an unknown id is 404 `NOT_FOUND`.
#[derive(Clone)]
pub struct SquareStub {
    stub: Stub<SquareState>,
}

struct SquareState {
    access_token: String,
    orders: BTreeMap<String, Value>,
    customers: BTreeMap<String, Value>,
    requests: Vec<RecordedRequest>,
    fail_next: Vec<u16>,
}

impl SquareStub {
    /// Starts a stub on a free loopback port.
    ///
    /// # Errors
    ///
    /// When no port can be bound or no thread started.
    pub fn start() -> Result<Self, TestkitError> {
        let state = SquareState {
            access_token: "EAAAl-square-access-token".to_owned(),
            orders: BTreeMap::new(),
            customers: BTreeMap::new(),
            requests: Vec::new(),
            fail_next: Vec::new(),
        };
        Ok(Self {
            stub: Stub::start(state, square_handle)?,
        })
    }

    fn lock(&self) -> MutexGuard<'_, SquareState> {
        self.stub.lock()
    }

    /// `http://127.0.0.1:PORT`, the API base.
    #[must_use]
    pub fn base_url(&self) -> String {
        self.stub.base_url()
    }

    /// The access token the stub accepts.
    #[must_use]
    pub fn access_token(&self) -> String {
        self.lock().access_token.clone()
    }

    /// Stores an `Order` object (its `id` is the key).
    pub fn put_order(&self, order: Value) {
        let id = order["id"].as_str().unwrap_or_default().to_owned();
        self.lock().orders.insert(id, order);
    }

    /// Stores a `Customer` object (its `id` is the key).
    pub fn put_customer(&self, customer: Value) {
        let id = customer["id"].as_str().unwrap_or_default().to_owned();
        self.lock().customers.insert(id, customer);
    }

    /// Answers the next requests with these HTTP statuses (Square's error body).
    pub fn fail_next(&self, statuses: &[u16]) {
        self.lock().fail_next.extend_from_slice(statuses);
    }

    /// Every request received, in order.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }
}

fn square_handle(state: &Mutex<SquareState>, request: &Request) -> Reply {
    let mut state = state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    state.requests.push(record(request));
    if !state.fail_next.is_empty() {
        let status = state.fail_next.remove(0);
        return square_error(status, "API_ERROR", "INTERNAL_SERVER_ERROR", "injected");
    }
    let bearer = format!("Bearer {}", state.access_token);
    if request.header("authorization") != Some(bearer.as_str()) {
        return square_error(
            401,
            "AUTHENTICATION_ERROR",
            "UNAUTHORIZED",
            "This request could not be authorized.",
        );
    }
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["v2", "orders", id]) => match state.orders.get(*id) {
            Some(order) => Reply::Json(200, json!({"order": order}).to_string()),
            None => square_error(404, "INVALID_REQUEST_ERROR", "NOT_FOUND", "Order not found"),
        },
        ("POST", ["v2", "orders", "batch-retrieve"]) => {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let orders: Vec<&Value> = body["order_ids"]
                .as_array()
                .map(|ids| {
                    ids.iter()
                        .filter_map(|id| state.orders.get(id.as_str().unwrap_or_default()))
                        .collect()
                })
                .unwrap_or_default();
            Reply::Json(200, json!({"orders": orders}).to_string())
        }
        ("GET", ["v2", "customers", id]) => match state.customers.get(*id) {
            Some(customer) => Reply::Json(200, json!({"customer": customer}).to_string()),
            None => square_error(
                404,
                "INVALID_REQUEST_ERROR",
                "NOT_FOUND",
                "Customer not found",
            ),
        },
        _ => square_error(
            404,
            "INVALID_REQUEST_ERROR",
            "NOT_FOUND",
            "no such endpoint",
        ),
    }
}

/// A local KiotViet Public API: `POST /connect/token` (OAuth client credentials as the
/// guide §2.2 shows them: form `scopes=PublicApi.Access&grant_type=client_credentials&
/// client_id=…&client_secret=…`, answering `{access_token, expires_in, token_type}`)
/// and `GET /customers/code/{code}` (§2.6.2, camelCase customer) which wants the
/// `Retailer` header and `Authorization: Bearer <token>`.
#[derive(Clone)]
pub struct KiotVietApiStub {
    stub: Stub<KiotVietState>,
}

struct KiotVietState {
    retailer: String,
    client_id: String,
    client_secret: String,
    valid_tokens: Vec<String>,
    issued: u64,
    customers: BTreeMap<String, Value>,
    requests: Vec<RecordedRequest>,
}

impl KiotVietApiStub {
    /// Starts a stub on a free loopback port.
    ///
    /// # Errors
    ///
    /// When no port can be bound or no thread started.
    pub fn start() -> Result<Self, TestkitError> {
        let state = KiotVietState {
            retailer: "teashop".to_owned(),
            client_id: "83a5bcbe-3c39-458c-bdd9-128112cef3f7".to_owned(),
            client_secret: "3B52F3A9DDE194966DAE2CE0A478B2DEC15254D6".to_owned(),
            valid_tokens: Vec::new(),
            issued: 0,
            customers: BTreeMap::new(),
            requests: Vec::new(),
        };
        Ok(Self {
            stub: Stub::start(state, kiotviet_handle)?,
        })
    }

    fn lock(&self) -> MutexGuard<'_, KiotVietState> {
        self.stub.lock()
    }

    /// `http://127.0.0.1:PORT`, the Public API base.
    #[must_use]
    pub fn base_url(&self) -> String {
        self.stub.base_url()
    }

    /// The token endpoint.
    #[must_use]
    pub fn token_url(&self) -> String {
        format!("{}/connect/token", self.stub.base_url())
    }

    /// The retailer name, client id and client secret the stub accepts.
    #[must_use]
    pub fn credentials(&self) -> (String, String, String) {
        let s = self.lock();
        (
            s.retailer.clone(),
            s.client_id.clone(),
            s.client_secret.clone(),
        )
    }

    /// Stores a customer (camelCase, its `code` is the key).
    pub fn put_customer(&self, customer: Value) {
        let code = customer["code"].as_str().unwrap_or_default().to_owned();
        self.lock().customers.insert(code, customer);
    }

    /// Revokes every token issued so far (the next call with one gets 401).
    pub fn revoke_tokens(&self) {
        self.lock().valid_tokens.clear();
    }

    /// How many tokens were issued.
    #[must_use]
    pub fn tokens_issued(&self) -> u64 {
        self.lock().issued
    }

    /// Every request received, in order.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }
}

fn kiotviet_handle(state: &Mutex<KiotVietState>, request: &Request) -> Reply {
    let mut state = state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    state.requests.push(record(request));
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("POST", ["connect", "token"]) => {
            let form = form_pairs(&String::from_utf8_lossy(&request.body));
            let get = |name: &str| {
                form.iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
            };
            let ok = get("scopes") == Some("PublicApi.Access")
                && get("grant_type") == Some("client_credentials")
                && get("client_id") == Some(state.client_id.as_str())
                && get("client_secret") == Some(state.client_secret.as_str());
            if !ok {
                return Reply::Json(400, json!({"error": "invalid_client"}).to_string());
            }
            state.issued += 1;
            let token = format!("kv-token-{}", state.issued);
            state.valid_tokens.push(token.clone());
            let body = json!({"access_token": token, "expires_in": 86400, "token_type": "Bearer"});
            Reply::Json(200, body.to_string())
        }
        ("GET", ["customers", "code", code]) => {
            let authorised = request
                .header("authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|t| state.valid_tokens.iter().any(|v| v == t));
            if !authorised || request.header("retailer") != Some(state.retailer.as_str()) {
                let body = json!({"responseStatus": {"errorCode": "Unauthorized", "message": "Unauthorized"}});
                return Reply::Json(401, body.to_string());
            }
            match state.customers.get(*code) {
                Some(customer) => Reply::Json(200, customer.to_string()),
                None => {
                    let body = json!({"responseStatus": {"errorCode": "NotFound", "message": "Khách hàng không tồn tại"}});
                    Reply::Json(404, body.to_string())
                }
            }
        }
        _ => Reply::Json(
            404,
            json!({"responseStatus": {"errorCode": "NotFound"}}).to_string(),
        ),
    }
}
