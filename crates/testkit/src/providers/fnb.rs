//! A stand-in for KiotViet FnB's Public API, speaking the documented formats: the
//! identity endpoint (`POST /identity/connect/token`, OAuth client credentials with
//! `scope=PublicApi.Access.FNB`, as an FnB SDK sends it), the invoice list (`GET
//! /invoices` with `lastModifiedFrom`, `pageSize`, `currentItem`, `orderBy`,
//! `orderDirection`, answering `{total, pageSize, data}` as KiotViet's guide §2.12.1
//! documents it) and customers by code (`GET /customers/code/{code}`, answering
//! `{"data": customer}` as the FnB SDK reads it). Every API call wants the `Retailer`
//! header and `Authorization: Bearer <token>`.

use std::sync::{Mutex, MutexGuard};

use serde_json::{Value, json};

use super::common::{RecordedRequest, form_pairs};
use super::server::{Reply, Request, Stub};
use crate::TestkitError;

/// A recorded call to the invoice list, with its query decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceListCall {
    /// `lastModifiedFrom` as sent (the retailer's local time).
    pub last_modified_from: String,
    /// `currentItem`.
    pub current_item: u64,
    /// `pageSize`.
    pub page_size: u64,
    /// `orderBy`.
    pub order_by: String,
}

/// The KiotViet FnB stand-in.
#[derive(Clone)]
pub struct KiotVietFnbStub {
    stub: Stub<FnbState>,
}

struct FnbState {
    retailer: String,
    client_id: String,
    client_secret: String,
    refuse_credentials: bool,
    valid_tokens: Vec<String>,
    issued: u64,
    /// Invoices by id, camelCase.
    invoices: Vec<Value>,
    customers: Vec<Value>,
    page_size_cap: u64,
    fail_next: Vec<u16>,
    requests: Vec<RecordedRequest>,
    listed: Vec<InvoiceListCall>,
}

impl KiotVietFnbStub {
    /// Starts a stub on a free loopback port.
    ///
    /// # Errors
    ///
    /// When no port can be bound or no thread started.
    pub fn start() -> Result<Self, TestkitError> {
        let state = FnbState {
            retailer: "caphesua".to_owned(),
            client_id: "6f1d2f0e-9c1b-4d0a-8a55-2f3f7c1b9e10".to_owned(),
            client_secret: "F2B4C6D8E0A1B3C5D7E9F1A3B5C7D9E1F3A5B7C9".to_owned(),
            refuse_credentials: false,
            valid_tokens: Vec::new(),
            issued: 0,
            invoices: Vec::new(),
            customers: Vec::new(),
            page_size_cap: 100,
            fail_next: Vec::new(),
            requests: Vec::new(),
            listed: Vec::new(),
        };
        Ok(Self {
            stub: Stub::start(state, fnb_handle)?,
        })
    }

    fn lock(&self) -> MutexGuard<'_, FnbState> {
        self.stub.lock()
    }

    /// `http://127.0.0.1:PORT`, the Public API base.
    #[must_use]
    pub fn base_url(&self) -> String {
        self.stub.base_url()
    }

    /// The identity (token) endpoint.
    #[must_use]
    pub fn token_url(&self) -> String {
        format!("{}/identity/connect/token", self.stub.base_url())
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

    /// Stores an invoice (camelCase), replacing the one with the same `id`.
    pub fn put_invoice(&self, invoice: Value) {
        let mut s = self.lock();
        s.invoices.retain(|i| i["id"] != invoice["id"]);
        s.invoices.push(invoice);
    }

    /// Stores a customer (camelCase; its `code` is the key).
    pub fn put_customer(&self, customer: Value) {
        self.lock().customers.push(customer);
    }

    /// Answers at most this many invoices per page, whatever `pageSize` asks.
    pub fn cap_page_size(&self, n: u64) {
        self.lock().page_size_cap = n.max(1);
    }

    /// Answers the next invoice-list calls with these HTTP statuses.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.lock().fail_next.extend_from_slice(statuses);
    }

    /// Refuses the client credentials from now on (and every token issued so far).
    pub fn refuse_credentials(&self) {
        let mut s = self.lock();
        s.refuse_credentials = true;
        s.valid_tokens.clear();
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

    /// Every invoice-list call answered 200, in order.
    #[must_use]
    pub fn list_calls(&self) -> Vec<InvoiceListCall> {
        self.lock().listed.clone()
    }
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    let body = json!({"responseStatus": {"errorCode": code, "message": message}});
    Reply::Json(status, body.to_string())
}

fn fnb_handle(state: &Mutex<FnbState>, request: &Request) -> Reply {
    let mut state = state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    state.requests.push(RecordedRequest {
        path: request.path.clone(),
        headers: request.headers.clone(),
        body: String::from_utf8_lossy(&request.body).into_owned(),
    });
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    if let ("POST", ["identity", "connect", "token"]) = (request.method.as_str(), &segments[..]) {
        return token(&mut state, request);
    }
    let authorised = request
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| state.valid_tokens.iter().any(|v| v == t));
    if !authorised || request.header("retailer") != Some(state.retailer.as_str()) {
        return error(401, "Unauthorized", "Unauthorized");
    }
    match (request.method.as_str(), &segments[..]) {
        ("GET", ["invoices"]) => {
            if !state.fail_next.is_empty() {
                let status = state.fail_next.remove(0);
                return error(status, "TooManyRequests", "injected");
            }
            list(&mut state, request)
        }
        ("GET", ["customers", "code", code]) => {
            match state.customers.iter().find(|c| c["code"] == *code) {
                Some(customer) => Reply::Json(200, json!({"data": customer}).to_string()),
                None => error(404, "NotFound", "Khách hàng không tồn tại"),
            }
        }
        _ => error(404, "NotFound", "no such endpoint"),
    }
}

fn token(state: &mut FnbState, request: &Request) -> Reply {
    let form = form_pairs(&String::from_utf8_lossy(&request.body));
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let ok = !state.refuse_credentials
        && get("scope") == Some("PublicApi.Access.FNB")
        && get("grant_type") == Some("client_credentials")
        && get("client_id") == Some(state.client_id.as_str())
        && get("client_secret") == Some(state.client_secret.as_str());
    if !ok {
        return Reply::Json(400, json!({"error": "invalid_client"}).to_string());
    }
    state.issued += 1;
    let token = format!("fnb-token-{}", state.issued);
    state.valid_tokens.push(token.clone());
    let body = json!({"access_token": token, "expires_in": 86400, "token_type": "Bearer",
                      "scope": "PublicApi.Access.FNB"});
    Reply::Json(200, body.to_string())
}

fn list(state: &mut FnbState, request: &Request) -> Reply {
    let query = form_pairs(&request.query);
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let call = InvoiceListCall {
        last_modified_from: get("lastModifiedFrom"),
        current_item: get("currentItem").parse().unwrap_or(0),
        page_size: get("pageSize").parse().unwrap_or(20),
        order_by: get("orderBy"),
    };
    // Local times in one format compare as text: the first 19 characters are
    // `YYYY-MM-DDTHH:MM:SS`.
    let since = call.last_modified_from.clone();
    let changed = |i: &Value| -> String {
        i["modifiedDate"]
            .as_str()
            .or_else(|| i["createdDate"].as_str())
            .unwrap_or_default()
            .chars()
            .take(19)
            .collect()
    };
    let mut matching: Vec<&Value> = state
        .invoices
        .iter()
        .filter(|i| since.is_empty() || changed(i) >= since)
        .collect();
    matching.sort_by_key(|i| (changed(i), i["id"].as_i64()));
    let size = call.page_size.min(state.page_size_cap).max(1);
    let start = usize::try_from(call.current_item).unwrap_or(usize::MAX);
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(usize::try_from(size).unwrap_or(usize::MAX))
        .map(|v| (*v).clone())
        .collect();
    let body = json!({"total": matching.len(), "pageSize": size, "data": page});
    state.listed.push(call);
    Reply::Json(200, body.to_string())
}
