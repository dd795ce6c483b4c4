//! eSMS.vn stand-in: `POST /MainService.svc/json/SendMultipleMessage_V4_post_json/`.

use std::sync::{Mutex, MutexGuard};

use serde_json::{Value, json};

use super::common::{Delivery, Fault, Ledger, RecordedRequest};
use super::server::{Reply, Request, Stub};
use crate::TestkitError;

/// The send path, as eSMS documents it (the stub also accepts it without the final `/`).
pub const ESMS_SEND_PATH: &str = "/MainService.svc/json/SendMultipleMessage_V4_post_json/";

/// The longest `RequestId` eSMS accepts ("Độ dài tối đa 50 ký tự", `tin-nhan-sms-otp-cskh.md`
/// in eSMS's developer GitBook, `devesms/gitbook_esms_for_develop_v2`).
pub const REQUEST_ID_MAX_CHARS: usize = 50;

/// A local eSMS server. See the [module docs](crate::providers).
///
/// Validation, as eSMS documents it: wrong `ApiKey`/`SecretKey` → 101, missing `SmsType`
/// → 300, a type other than 2 (customer care) → 118, an unregistered `Brandname` → 104,
/// a phone that is not `84…` or `0…` digits → 108, a `RequestId` over 50 characters →
/// `{"error": "Invalid request"}`, a repeated `RequestId` → 124
/// ("Request exist") without a second delivery. eSMS documents no transient answer
/// code, so random failures are HTTP 503 or a dropped connection.
#[derive(Clone)]
pub struct EsmsStub {
    stub: Stub<State>,
}

struct State {
    ledger: Ledger,
    api_key: String,
    secret_key: String,
    brandname: String,
    /// Further accounts on the same endpoint: `(ApiKey, SecretKey, Brandname)`.
    accounts: Vec<(String, String, String)>,
    /// Sends with one of these `ApiKey`s are answered only after the pause.
    hanging: Vec<(String, std::time::Duration)>,
}

impl EsmsStub {
    /// Starts a stub on a free loopback port, with fresh keys and the brandname
    /// `REGULARS` registered.
    ///
    /// # Errors
    ///
    /// When no port can be bound or no thread started.
    pub fn start() -> Result<Self, TestkitError> {
        let state = State {
            ledger: Ledger::new(),
            api_key: "esms-api-key".to_owned(),
            secret_key: "esms-secret-key".to_owned(),
            brandname: "REGULARS".to_owned(),
            accounts: Vec::new(),
            hanging: Vec::new(),
        };
        Ok(Self {
            stub: Stub::start(state, handle)?,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.stub.lock()
    }

    /// `http://127.0.0.1:PORT`, the base the send path goes under.
    #[must_use]
    pub fn base_url(&self) -> String {
        self.stub.base_url()
    }

    /// The API key the stub accepts.
    #[must_use]
    pub fn api_key(&self) -> String {
        self.lock().api_key.clone()
    }

    /// The secret key the stub accepts.
    #[must_use]
    pub fn secret_key(&self) -> String {
        self.lock().secret_key.clone()
    }

    /// The registered brandname.
    #[must_use]
    pub fn brandname(&self) -> String {
        self.lock().brandname.clone()
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

    /// How many requests arrived (answered or not).
    #[must_use]
    pub fn request_count(&self) -> u64 {
        self.lock().ledger.requests
    }

    /// The most recent requests (up to 1024), oldest first.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().ledger.log.clone()
    }

    /// From now on, answers a `ratio` (0–1) of sends with a transient failure (HTTP 503
    /// or a dropped connection), drawn from a generator seeded with `seed`.
    pub fn set_failure_ratio(&self, ratio: f64, seed: u64) {
        self.lock().ledger.set_failure_ratio(ratio, seed);
    }

    /// Queues a fault for the next send that arrives (faults queue up in order).
    pub fn push_fault(&self, fault: Fault) {
        self.lock().ledger.forced.push_back(fault);
    }

    /// Also accepts this account (another brand's own eSMS account, sending through the
    /// same endpoint), with its own registered brandname.
    pub fn add_account(&self, api_key: &str, secret_key: &str, brandname: &str) {
        self.lock().accounts.push((
            api_key.to_owned(),
            secret_key.to_owned(),
            brandname.to_owned(),
        ));
    }

    /// Answers every send with this `ApiKey` only after `pause` (a provider that hangs
    /// for one account): the send is then refused as unauthorised.
    pub fn hang_for(&self, api_key: &str, pause: std::time::Duration) {
        self.lock().hanging.push((api_key.to_owned(), pause));
    }

    /// Makes the next send answer with this `CodeResult`.
    pub fn force_error(&self, code: i64) {
        self.push_fault(Fault::ProviderCode(code));
    }
}

fn handle(state: &Mutex<State>, request: &Request) -> Reply {
    let mut state = state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    state.ledger.record(request);
    if request.method != "POST"
        || request.path.trim_end_matches('/') != ESMS_SEND_PATH.trim_end_matches('/')
    {
        return Reply::Json(404, json!({"error": "Invalid request"}).to_string());
    }
    let api_key = serde_json::from_slice::<Value>(&request.body)
        .ok()
        .and_then(|b| b.get("ApiKey").and_then(Value::as_str).map(str::to_owned));
    if let Some(pause) = api_key
        .as_deref()
        .and_then(|k| state.hanging.iter().find(|(h, _)| h == k))
        .map(|(_, pause)| *pause)
    {
        return Reply::Delayed(pause, Box::new(code_result(101, message_for(101))));
    }
    let fault = state.ledger.next_fault(&[Fault::Http(503), Fault::Drop]);
    let mut drop_after = false;
    match fault {
        Some(Fault::ProviderCode(code)) => return code_result(code, message_for(code)),
        Some(Fault::Http(status)) => {
            return Reply::Json(status, json!({"error": "stub fault"}).to_string());
        }
        Some(Fault::Drop) => return Reply::Drop,
        Some(Fault::Delay(pause)) => {
            let reply = deliver(&mut state, request);
            return Reply::Delayed(pause, Box::new(reply));
        }
        Some(Fault::DropAfterAccept) => drop_after = true,
        None => {}
    }
    let reply = deliver(&mut state, request);
    if drop_after { Reply::Drop } else { reply }
}

fn code_result(code: i64, message: &str) -> Reply {
    Reply::Json(
        200,
        json!({"CodeResult": code.to_string(), "CountRegenerate": 0, "ErrorMessage": message})
            .to_string(),
    )
}

fn message_for(code: i64) -> &'static str {
    match code {
        99 => "The phone number is blocked",
        101 => "Authorize Failed",
        103 => "Not enough balance",
        104 => "Brand name code is not exist",
        108 => "Phone number is not in correct format",
        118 => "Unsupported message type",
        146 => "Sai template Brandname CSKH",
        300 => "Missing message type",
        _ => "stub-forced error",
    }
}

fn deliver(state: &mut State, request: &Request) -> Reply {
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return Reply::Json(200, json!({"error": "Invalid request"}).to_string());
    };
    // eSMS's samples send numbers both as strings and bare; accept either.
    let field = |name: &str| match body.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let own = (field("ApiKey") == state.api_key && field("SecretKey") == state.secret_key)
        .then(|| state.brandname.clone());
    let other = state
        .accounts
        .iter()
        .find(|(key, secret, _)| field("ApiKey") == *key && field("SecretKey") == *secret)
        .map(|(_, _, brandname)| brandname.clone());
    let Some(brandname) = own.or(other) else {
        return code_result(101, message_for(101));
    };
    let sms_type = field("SmsType");
    if sms_type.is_empty() {
        return code_result(300, message_for(300));
    }
    if sms_type != "2" {
        return code_result(118, message_for(118));
    }
    if field("Brandname") != brandname {
        return code_result(104, message_for(104));
    }
    let phone = field("Phone");
    if !valid_phone(&phone) {
        return code_result(108, message_for(108));
    }
    let request_id = field("RequestId");
    // eSMS documents `RequestId` as at most 50 characters but not its answer to a longer
    // one; the stub refuses it with eSMS's documented answer to a request it cannot read.
    if request_id.chars().count() > REQUEST_ID_MAX_CHARS {
        return Reply::Json(200, json!({"error": "Invalid request"}).to_string());
    }
    if state.ledger.replay(&request_id).is_some() {
        return Reply::Json(
            200,
            json!({"CodeResult": "124", "CountRegenerate": 0, "ErrorMessage": "Request exist 1", "SendStatus": "5"})
                .to_string(),
        );
    }
    let id = state.ledger.next_id();
    let smsid = format!(
        "{:032x}",
        u128::from(id).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
    );
    let answer = json!({"CodeResult": "100", "CountRegenerate": 0, "SMSID": smsid}).to_string();
    state.ledger.deliver(
        Delivery {
            dedupe_key: request_id,
            recipient: phone,
            text: field("Content"),
            provider_message_id: smsid,
            requests: 1,
        },
        answer.clone(),
    );
    Reply::Json(200, answer)
}

fn valid_phone(phone: &str) -> bool {
    let national = phone
        .strip_prefix("84")
        .or_else(|| phone.strip_prefix('0'))
        .unwrap_or(phone);
    phone.bytes().all(|b| b.is_ascii_digit()) && national.len() == 9 && !national.starts_with('0')
}
