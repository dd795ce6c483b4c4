//! One send: the message made ready for its channel (opt-out, SMS cap, ZNS parameter
//! types), sent, and the answer turned into what to record.

use crate::Services;
use crate::delivery::{Decision, DeliveryOptions};
use regulars_domain::Channel;
use regulars_ports::{MessageSender, OutboxMessage, OutgoingMessage, SendError};
use std::sync::Arc;
use time::Duration;

impl Services {
    /// Sends one claimed message through `sender` and decides what to record.
    pub(crate) async fn attempt_send(
        &self,
        sender: Arc<dyn MessageSender>,
        options: &DeliveryOptions,
        message: &OutboxMessage,
        open_pixel: Option<String>,
    ) -> Decision {
        let now = self.clock.now();
        if let Some(window) = message.send_window {
            let open = window.next_open(now);
            if open > now {
                return Decision::Defer(open);
            }
        }
        // A promotional message ends with the brand's opt-out instruction, its link the
        // customer's own for the channel it goes out on.
        let unsubscribe_url = match (message.promotional, message.customer_id) {
            (true, Some(customer)) => {
                self.opt_out_link(message.brand_id, customer, Some(message.route.channel))
            }
            _ => None,
        };
        let body = match (&message.opt_out, message.promotional) {
            (Some(instruction), true) => regulars_domain::with_opt_out(
                &message.body,
                instruction,
                unsubscribe_url.as_deref(),
            ),
            _ => message.body.clone(),
        };
        // An SMS goes out folded if its campaign asks, and never longer than its cap: a
        // text over the cap is a permanent failure on this channel, not a cut message.
        let body = if message.route.channel == Channel::Sms {
            match message.sms.prepare(&body) {
                Ok((text, _)) => text,
                Err(over) => return Decision::FallBack(over.to_string()),
            }
        } else {
            body
        };
        // A ZNS parameter the template types must have a value that fits its type: Zalo
        // refuses the message otherwise (-111/-112), so it moves on without the call.
        if message.route.channel == Channel::Zalo {
            for (name, kind) in &message.zns_params {
                let value = message.data.get(name).map(String::as_str).unwrap_or("");
                if let Err(problem) = kind.check(value) {
                    return Decision::FallBack(format!("ZNS parameter `{name}` {problem}"));
                }
            }
        }
        let outgoing = OutgoingMessage {
            brand_id: message.brand_id,
            channel: message.route.channel,
            recipient: message.route.recipient.clone(),
            template: message.template.clone(),
            subject: message.subject.clone(),
            body,
            data: message.data.clone(),
            dedupe_key: message.dedupe_key.clone(),
            promotional: message.promotional,
            unsubscribe_url,
            open_pixel,
        };
        match sender.send(&outgoing).await {
            Ok(receipt) => Decision::Sent(receipt.provider_message_id),
            Err(SendError::Permanent { reason }) => Decision::FallBack(reason),
            Err(SendError::Retryable {
                reason,
                retry_after,
            }) => {
                if message.attempts >= options.max_attempts {
                    return Decision::FallBack(format!(
                        "{reason} (gave up after {} attempts)",
                        message.attempts
                    ));
                }
                let mut delay = self.backoff(options, message.attempts);
                if let Some(after) = retry_after.and_then(|d| Duration::try_from(d).ok()) {
                    delay = delay.max(after);
                }
                // A provider's Retry-After may be any number: past the calendar, the
                // retry waits the longest back-off instead of panicking the worker.
                let at = now
                    .checked_add(delay)
                    .or_else(|| now.checked_add(options.max_backoff))
                    .unwrap_or(now);
                Decision::Retry(at, reason)
            }
        }
    }

    /// `base × 2^(attempt−1)`, capped, then a uniformly random share of it between a
    /// half and the whole ("equal jitter"), so retries of many messages spread out.
    pub(crate) fn backoff(&self, options: &DeliveryOptions, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let base = options.base_backoff.whole_milliseconds().max(1);
        let capped = base
            .saturating_mul(1_i128 << exp)
            .min(options.max_backoff.whole_milliseconds().max(base));
        let mut bytes = [0_u8; 8];
        self.ids.fill_bytes(&mut bytes);
        let unit = (u64::from_le_bytes(bytes) >> 11) as f64 / (1_u64 << 53) as f64;
        let ms = (capped as f64) * (0.5 + 0.5 * unit);
        Duration::milliseconds(ms as i64)
    }
}
