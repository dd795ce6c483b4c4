//! Zalo ZNS stand-in: `POST /message/template` and the OAuth v4 refresh
//! `POST /v4/oa/access_token`, on one port.

use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::common::{Delivery, Fault, Ledger, RecordedRequest, form_pairs};
use super::server::{Reply, Request, Stub};
use crate::TestkitError;

/// ZNS: unknown error, "try again later" — Zalo's documented transient answer.
const ZNS_UNKNOWN_ERROR: i64 = -100;
/// ZNS: access token invalid.
const ZNS_INVALID_TOKEN: i64 = -124;
/// The OAuth error this stub answers for a wrong refresh token, app id or secret key.
const OAUTH_INVALID: i64 = -14014;

/// A local Zalo ZNS + OAuth server. See the [module docs](crate::providers).
///
/// Validation, as Zalo does: a missing or stale `access_token` header gets -124, a phone
/// that is not `84…` or `0…` digits gets -108, an empty or non-numeric template id
/// -109, empty `template_data` -111, a body that is not JSON -122. A repeated
/// `tracking_id` gets the first answer again and is not delivered again (Zalo documents
/// `tracking_id` for reconciliation; this stub models the best case of it being honoured
/// as an idempotency key). Random failures are -100, HTTP 503 or a dropped connection.
///
/// OAuth v4 refresh as Zalo documents it: header `secret_key`, form `refresh_token`,
/// `app_id`, `grant_type=refresh_token`; the answer is a new access token, a new
/// refresh token and `expires_in` as a string of seconds. A refresh token works once:
/// presented again it is refused (error -14014), and the old access token stops working.
#[derive(Clone)]
pub struct ZaloZnsStub {
    stub: Stub<State>,
}

struct State {
    ledger: Ledger,
    access_token: String,
    refresh_token: String,
    app_id: String,
    secret_key: String,
    refreshes: u32,
    generation: u64,
    /// Every refresh token presented to the refresh endpoint, in order.
    presented: Vec<String>,
    /// Refresh tokens already spent: Zalo accepts each one once.
    spent: Vec<String>,
    expires_in: u64,
    /// What a stale access token gets: -124 (ZNS) by default.
    stale_code: i64,
    /// Access tokens of further OAs sending through the same endpoint.
    other_tokens: Vec<String>,
}

impl ZaloZnsStub {
    /// Starts a stub on a free loopback port, with fresh credentials.
    ///
    /// # Errors
    ///
    /// When no port can be bound or no thread started.
    pub fn start() -> Result<Self, TestkitError> {
        let state = State {
            ledger: Ledger::new(),
            access_token: "zns-access-1".to_owned(),
            refresh_token: "zns-refresh-1".to_owned(),
            app_id: "4301234567890123456".to_owned(),
            secret_key: "zalo-app-secret".to_owned(),
            refreshes: 0,
            generation: 1,
            presented: Vec::new(),
            spent: Vec::new(),
            expires_in: 90_000,
            stale_code: ZNS_INVALID_TOKEN,
            other_tokens: Vec::new(),
        };
        Ok(Self {
            stub: Stub::start(state, handle)?,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.stub.lock()
    }

    /// `http://127.0.0.1:PORT`: both the ZNS API base and the OAuth base.
    #[must_use]
    pub fn base_url(&self) -> String {
        self.stub.base_url()
    }

    /// The access token the stub accepts now.
    #[must_use]
    pub fn access_token(&self) -> String {
        self.lock().access_token.clone()
    }

    /// The refresh token the stub accepts now (single use, like Zalo's).
    #[must_use]
    pub fn refresh_token(&self) -> String {
        self.lock().refresh_token.clone()
    }

    /// The app id the refresh must name.
    #[must_use]
    pub fn app_id(&self) -> String {
        self.lock().app_id.clone()
    }

    /// The app secret key the refresh must carry.
    #[must_use]
    pub fn secret_key(&self) -> String {
        self.lock().secret_key.clone()
    }

    /// Expires the current access token, as a day passing would: the next send with it
    /// gets -124, and only a refresh gets a working one.
    pub fn expire_access_token(&self) {
        let mut state = self.lock();
        state.generation += 1;
        state.access_token = format!("zns-expired-{}", state.generation);
    }

    /// Every refresh token presented to the refresh endpoint (accepted or not), oldest
    /// first: a token listed twice was spent twice.
    #[must_use]
    pub fn presented_refresh_tokens(&self) -> Vec<String> {
        self.lock().presented.clone()
    }

    /// The `expires_in` (seconds) the next refreshes answer; Zalo's is 90000 (25 h).
    pub fn set_expires_in(&self, seconds: u64) {
        self.lock().expires_in = seconds;
    }

    /// The error code a stale access token gets from now on (-124 by default; the OA
    /// API's -216 and -220 also mean an invalid or expired token).
    pub fn set_stale_token_code(&self, code: i64) {
        self.lock().stale_code = code;
    }

    /// A new authorisation of the app by the OA's admin: a new access and refresh
    /// token pair, and the old pair no longer works.
    pub fn grant_again(&self) {
        let mut state = self.lock();
        state.generation += 1;
        let fresh = format!("zns-granted-refresh-{}", state.generation);
        let old = std::mem::replace(&mut state.refresh_token, fresh);
        state.spent.push(old);
        state.access_token = format!("zns-granted-access-{}", state.generation);
    }

    /// How many refreshes succeeded.
    #[must_use]
    pub fn refresh_count(&self) -> u32 {
        self.lock().refreshes
    }

    /// Every accepted delivery, in order.
    #[must_use]
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.lock().ledger.deliveries.clone()
    }

    /// How many distinct messages were delivered.
    #[must_use]
    pub fn accepted_count(&self) -> usize {
        self.lock().ledger.deliveries.len()
    }

    /// How many requests arrived (sends and refreshes, answered or not).
    #[must_use]
    pub fn request_count(&self) -> u64 {
        self.lock().ledger.requests
    }

    /// The most recent requests (up to 1024), oldest first.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().ledger.log.clone()
    }

    /// From now on, answers a `ratio` (0–1) of sends with a transient failure (ZNS -100,
    /// HTTP 503 or a dropped connection), drawn from a generator seeded with `seed`.
    pub fn set_failure_ratio(&self, ratio: f64, seed: u64) {
        self.lock().ledger.set_failure_ratio(ratio, seed);
    }

    /// Queues a fault for the next send that arrives (faults queue up in order).
    pub fn push_fault(&self, fault: Fault) {
        self.lock().ledger.forced.push_back(fault);
    }

    /// Also accepts this access token (another OA's, sending through the same endpoint;
    /// it is never refreshed).
    pub fn add_access_token(&self, token: &str) {
        self.lock().other_tokens.push(token.to_owned());
    }

    /// Makes the next send answer with this ZNS error code.
    pub fn force_error(&self, code: i64) {
        self.push_fault(Fault::ProviderCode(code));
    }
}

fn handle(state: &Mutex<State>, request: &Request) -> Reply {
    let mut state = state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    state.ledger.record(request);
    match (request.method.as_str(), request.path.trim_end_matches('/')) {
        ("POST", "/message/template") => send(&mut state, request),
        ("POST", "/v4/oa/access_token") => refresh(&mut state, request),
        _ => Reply::Json(
            404,
            json!({"error": 404, "message": "not found"}).to_string(),
        ),
    }
}

fn zns_error(code: i64, message: &str) -> Reply {
    Reply::Json(200, json!({"error": code, "message": message}).to_string())
}

fn send(state: &mut State, request: &Request) -> Reply {
    let fault = state.ledger.next_fault(&[
        Fault::ProviderCode(ZNS_UNKNOWN_ERROR),
        Fault::Http(503),
        Fault::Drop,
    ]);
    let mut drop_after = false;
    match fault {
        Some(Fault::ProviderCode(code)) => return zns_error(code, message_for(code)),
        Some(Fault::Http(status)) => {
            return Reply::Json(
                status,
                json!({"error": status, "message": "stub fault"}).to_string(),
            );
        }
        Some(Fault::Drop) => return Reply::Drop,
        Some(Fault::Delay(pause)) => {
            // Answer late, but as Zalo would have: handled now, sent after the pause.
            let reply = deliver(state, request);
            return Reply::Delayed(pause, Box::new(reply));
        }
        Some(Fault::DropAfterAccept) => drop_after = true,
        None => {}
    }
    let reply = deliver(state, request);
    if drop_after { Reply::Drop } else { reply }
}

fn deliver(state: &mut State, request: &Request) -> Reply {
    let token = request.header("access_token").unwrap_or_default();
    if token != state.access_token && !state.other_tokens.iter().any(|t| t == token) {
        return zns_error(state.stale_code, "Access token invalid");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return zns_error(-122, "Body format invalid");
    };
    let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
    let phone = field("phone");
    if !valid_phone(phone) {
        return zns_error(-108, "Phone number invalid");
    }
    let template_id = field("template_id");
    if template_id.is_empty() || !template_id.bytes().all(|b| b.is_ascii_digit()) {
        return zns_error(-109, "Template ID invalid");
    }
    let data = body.get("template_data").and_then(Value::as_object);
    if data.is_none_or(serde_json::Map::is_empty) {
        return zns_error(-111, "Template data empty");
    }
    let tracking_id = field("tracking_id").to_owned();
    if let Some(answer) = state.ledger.replay(&tracking_id) {
        return Reply::Json(200, answer);
    }
    let id = state.ledger.next_id();
    let msg_id = format!("{:020x}", id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let sent_time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let answer = json!({
        "error": 0,
        "message": "Success",
        "data": {
            "msg_id": msg_id,
            "sent_time": sent_time.to_string(),
            "quota": {"dailyQuota": "500000", "remainingQuota": (500_000u64.saturating_sub(id)).to_string()},
        },
    })
    .to_string();
    let text = json!({"template_id": template_id, "template_data": data}).to_string();
    state.ledger.deliver(
        Delivery {
            dedupe_key: tracking_id,
            recipient: phone.to_owned(),
            text,
            provider_message_id: msg_id,
            requests: 1,
        },
        answer.clone(),
    );
    Reply::Json(200, answer)
}

/// Zalo accepts `84xxxxxxxxx` and `0xxxxxxxxx` (and the same without the leading 0).
fn valid_phone(phone: &str) -> bool {
    let digits = phone.bytes().all(|b| b.is_ascii_digit());
    let national = phone
        .strip_prefix("84")
        .or_else(|| phone.strip_prefix('0'))
        .unwrap_or(phone);
    digits && national.len() == 9 && !national.starts_with('0')
}

fn message_for(code: i64) -> &'static str {
    match code {
        -100 => "Unknown error",
        -108 => "Phone number invalid",
        -109 => "Template ID invalid",
        -114 => {
            "User is inactive, or reject the message, or using an outdated Zalo version, or other internal errors"
        }
        -115 => "Out of quota",
        -118 => "Zalo account not existed",
        -124 => "Access token invalid",
        -133 => "ZNS message cannot be sent at night",
        -144 => "OA has exceeded the daily quota",
        _ => "stub-forced error",
    }
}

fn refresh(state: &mut State, request: &Request) -> Reply {
    let form = form_pairs(&String::from_utf8_lossy(&request.body));
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let refused = |description: &str| {
        Reply::Json(
            200,
            json!({
                "error": OAUTH_INVALID,
                "error_name": "Invalid parameter",
                "error_reason": description,
                "error_description": description,
            })
            .to_string(),
        )
    };
    if request.header("secret_key") != Some(state.secret_key.as_str()) {
        return refused("invalid secret key");
    }
    if get("app_id") != state.app_id {
        return refused("invalid app id");
    }
    if get("grant_type") != "refresh_token" {
        return refused("unsupported grant type");
    }
    let presented = get("refresh_token").to_owned();
    state.presented.push(presented.clone());
    // A refresh token works once: Zalo answers a spent one as invalid.
    if state.spent.contains(&presented) || presented != state.refresh_token {
        return refused("invalid refresh token");
    }
    state.spent.push(presented);
    state.generation += 1;
    state.refreshes += 1;
    state.access_token = format!("zns-access-{}", state.generation);
    state.refresh_token = format!("zns-refresh-{}", state.generation);
    Reply::Json(
        200,
        json!({
            "access_token": state.access_token,
            "refresh_token": state.refresh_token,
            "expires_in": state.expires_in.to_string(),
        })
        .to_string(),
    )
}
