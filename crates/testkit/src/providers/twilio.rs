//! Twilio-style stand-in: `POST /2010-04-01/Accounts/{sid}/Messages.json`.

use std::sync::{Mutex, MutexGuard};

use serde_json::json;

use super::common::{Delivery, Fault, Ledger, RecordedRequest, form_pairs};
use super::server::{Reply, Request, Stub};
use crate::TestkitError;

/// A local Twilio-compatible Messages API. See the [module docs](crate::providers).
///
/// Validation, with Twilio's error codes: wrong basic auth → 401 / 20003, a `To` that is
/// not E.164 → 400 / 21211, neither `From` nor `MessagingServiceSid` → 400 / 21603, no
/// `Body` → 400 / 21602. Success is 201 with the message's `sid`. A repeated
/// `I-Twilio-Idempotency-Token` gets the first answer and is not delivered again: this
/// models a provider that honours the header (Twilio itself documents it only on the
/// webhooks it sends). Random failures are HTTP 503, 429 or a dropped connection.
#[derive(Clone)]
pub struct TwilioStub {
    stub: Stub<State>,
}

struct State {
    ledger: Ledger,
    account_sid: String,
    auth_token: String,
}

impl TwilioStub {
    /// Starts a stub on a free loopback port, with a fresh account.
    ///
    /// # Errors
    ///
    /// When no port can be bound or no thread started.
    pub fn start() -> Result<Self, TestkitError> {
        let state = State {
            ledger: Ledger::new(),
            account_sid: "AC0123456789abcdef0123456789abcdef".to_owned(),
            auth_token: "twilio-auth-token".to_owned(),
        };
        Ok(Self {
            stub: Stub::start(state, handle)?,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.stub.lock()
    }

    /// `http://127.0.0.1:PORT`, the API base.
    #[must_use]
    pub fn base_url(&self) -> String {
        self.stub.base_url()
    }

    /// The account SID.
    #[must_use]
    pub fn account_sid(&self) -> String {
        self.lock().account_sid.clone()
    }

    /// The auth token.
    #[must_use]
    pub fn auth_token(&self) -> String {
        self.lock().auth_token.clone()
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

    /// From now on, answers a `ratio` (0–1) of sends with a transient failure (HTTP 503,
    /// 429 or a dropped connection), drawn from a generator seeded with `seed`.
    pub fn set_failure_ratio(&self, ratio: f64, seed: u64) {
        self.lock().ledger.set_failure_ratio(ratio, seed);
    }

    /// Queues a fault for the next send that arrives (faults queue up in order).
    /// [`Fault::ProviderCode`] answers HTTP 400 with that Twilio error code.
    pub fn push_fault(&self, fault: Fault) {
        self.lock().ledger.forced.push_back(fault);
    }
}

fn refusal(status: u16, code: i64, message: &str) -> Reply {
    Reply::Json(
        status,
        json!({"code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status})
            .to_string(),
    )
}

fn handle(state: &Mutex<State>, request: &Request) -> Reply {
    let mut state = state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    state.ledger.record(request);
    let path = format!("/2010-04-01/Accounts/{}/Messages.json", state.account_sid);
    if request.method != "POST" || request.path != path {
        return refusal(404, 20404, "The requested resource was not found");
    }
    let fault = state
        .ledger
        .next_fault(&[Fault::Http(503), Fault::Http(429), Fault::Drop]);
    let mut drop_after = false;
    match fault {
        Some(Fault::ProviderCode(code)) => return refusal(400, code, "stub-forced error"),
        Some(Fault::Http(status)) => {
            return refusal(status, i64::from(status) + 20000, "stub fault");
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

fn deliver(state: &mut State, request: &Request) -> Reply {
    let expected = format!(
        "Basic {}",
        base64(format!("{}:{}", state.account_sid, state.auth_token).as_bytes())
    );
    if request.header("authorization") != Some(expected.as_str()) {
        return refusal(401, 20003, "Authenticate");
    }
    let form = form_pairs(&String::from_utf8_lossy(&request.body));
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let to = get("To");
    let digits = to.strip_prefix('+').unwrap_or("");
    if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return refusal(
            400,
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        );
    }
    if get("From").is_empty() && get("MessagingServiceSid").is_empty() {
        return refusal(400, 21603, "The 'From' phone number is required.");
    }
    let body = get("Body");
    if body.is_empty() {
        return refusal(400, 21602, "Message body is required.");
    }
    let key = request
        .header("i-twilio-idempotency-token")
        .unwrap_or_default()
        .to_owned();
    if let Some(answer) = state.ledger.replay(&key) {
        return Reply::Json(201, answer);
    }
    let id = state.ledger.next_id();
    let sid = format!(
        "SM{:032x}",
        u128::from(id).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
    );
    let answer = json!({
        "sid": sid, "account_sid": state.account_sid, "to": to, "body": body,
        "status": "queued", "num_segments": "1", "direction": "outbound-api",
    })
    .to_string();
    state.ledger.deliver(
        Delivery {
            dedupe_key: key,
            recipient: to,
            text: body,
            provider_message_id: sid,
            requests: 1,
        },
        answer.clone(),
    );
    Reply::Json(201, answer)
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(plain.as_bytes()), encoded);
        }
    }
}
