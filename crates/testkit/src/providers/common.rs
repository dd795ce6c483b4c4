//! What the HTTP provider stubs share: deliveries, faults, the seeded failure draw.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

/// One message a stub accepted for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The idempotency key it came with (Zalo `tracking_id`, eSMS `RequestId`); empty
    /// when the request had none.
    pub dedupe_key: String,
    /// The recipient as sent (digits).
    pub recipient: String,
    /// What would reach the phone: the SMS text, or the ZNS template id and data as JSON.
    pub text: String,
    /// The provider's id for it (ZNS `msg_id`, eSMS `SMSID`).
    pub provider_message_id: String,
    /// How many requests carried this key (the first one and every replay); it was
    /// delivered once however large this is.
    pub requests: u32,
}

/// A request a stub received, for assertions on exactly what a sender sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Path without query.
    pub path: String,
    /// Header names in lower case, values as sent.
    pub headers: BTreeMap<String, String>,
    /// The body, as text (lossy).
    pub body: String,
}

/// A failure to inject into the next request(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer HTTP 200 with this provider error code (ZNS `error`, eSMS `CodeResult`).
    ProviderCode(i64),
    /// Answer this HTTP status with a short JSON body.
    Http(u16),
    /// Close the connection without answering; nothing is delivered.
    Drop,
    /// Deliver the message, then close the connection without answering (a lost
    /// acknowledgement: the client cannot know the message went out).
    DropAfterAccept,
    /// Handle the request normally (a valid one is delivered) but answer only after
    /// this pause: a client with a shorter timeout gives up on a message that went out.
    Delay(Duration),
}

/// Delivery bookkeeping and fault injection behind each stub's lock.
#[derive(Debug)]
pub(crate) struct Ledger {
    pub deliveries: Vec<Delivery>,
    /// dedupe key → index in `deliveries` and the first answer.
    pub by_key: HashMap<String, (usize, String)>,
    pub forced: VecDeque<Fault>,
    pub failure_ratio: f64,
    pub rng: u64,
    pub requests: u64,
    pub log: Vec<RecordedRequest>,
    pub sequence: u64,
}

/// Requests kept for [`RecordedRequest`] assertions; older ones are forgotten so a
/// benchmark does not grow without bound.
const LOG_LIMIT: usize = 1024;

impl Ledger {
    pub fn new() -> Self {
        Self {
            deliveries: Vec::new(),
            by_key: HashMap::new(),
            forced: VecDeque::new(),
            failure_ratio: 0.0,
            rng: 0,
            requests: 0,
            log: Vec::new(),
            sequence: 0,
        }
    }

    pub fn record(&mut self, request: &super::server::Request) {
        self.requests += 1;
        if self.log.len() >= LOG_LIMIT {
            self.log.remove(0);
        }
        self.log.push(RecordedRequest {
            path: request.path.clone(),
            headers: request.headers.clone(),
            body: String::from_utf8_lossy(&request.body).into_owned(),
        });
    }

    /// The fault for this request: a forced one first, else a seeded draw among
    /// `transient` with probability `failure_ratio`.
    pub fn next_fault(&mut self, transient: &[Fault]) -> Option<Fault> {
        if let Some(fault) = self.forced.pop_front() {
            return Some(fault);
        }
        if self.failure_ratio <= 0.0 || transient.is_empty() {
            return None;
        }
        let draw = self.next_random();
        // 53 bits → [0, 1).
        #[allow(clippy::cast_precision_loss)]
        let unit = (draw >> 11) as f64 / (1u64 << 53) as f64;
        if unit < self.failure_ratio {
            let pick = usize::try_from(self.next_random() % transient.len() as u64).unwrap_or(0);
            transient.get(pick).cloned()
        } else {
            None
        }
    }

    /// SplitMix64: small, fast and reproducible from the seed.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn set_failure_ratio(&mut self, ratio: f64, seed: u64) {
        self.failure_ratio = ratio.clamp(0.0, 1.0);
        self.rng = seed;
    }

    /// The first answer for a key already delivered, counting the replay.
    pub fn replay(&mut self, key: &str) -> Option<String> {
        if key.is_empty() {
            return None;
        }
        let (index, answer) = self.by_key.get(key)?;
        if let Some(delivery) = self.deliveries.get_mut(*index) {
            delivery.requests += 1;
        }
        Some(answer.clone())
    }

    /// Records a delivery and the answer that replays of its key get.
    pub fn deliver(&mut self, delivery: Delivery, answer: String) {
        let key = delivery.dedupe_key.clone();
        self.deliveries.push(delivery);
        if !key.is_empty() {
            self.by_key.insert(key, (self.deliveries.len() - 1, answer));
        }
    }

    pub fn next_id(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }
}

/// Decodes an `application/x-www-form-urlencoded` body or query.
pub(crate) fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
