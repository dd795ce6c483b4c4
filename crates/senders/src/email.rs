//! Email over SMTP.

use async_trait::async_trait;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use regulars_domain::Channel;
use regulars_ports::{MessageSender, OutgoingMessage, SendError, SendReceipt};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use std::time::Duration;

use crate::config::SmtpTls;

/// Where and how [`SmtpSender`] submits mail.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    /// The submission server's host name (also the name its TLS certificate must carry).
    pub host: String,
    /// Its port; `None` takes the usual one for the TLS mode (25, 587, 465).
    pub port: Option<u16>,
    /// How the connection is secured.
    pub tls: SmtpTls,
    /// The `From` mailbox, e.g. `Regulars <no-reply@example.com>`.
    pub from: String,
    /// Login, if the server wants one.
    pub username: Option<String>,
    /// Password for `username`.
    pub password: Option<String>,
    /// Timeout of one SMTP conversation step.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("from", &self.from)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Sends [`Channel::Email`] messages over SMTP: a `text/plain; charset=utf-8` body
/// (lettre picks quoted-printable or base64 for non-ASCII text), the subject encoded per
/// RFC 2047 when it is not ASCII, and a `Message-ID` derived from the dedupe key
/// ([`message_id_for`]) so a resent message carries the same id. A promotional message
/// with an opt-out address carries `List-Unsubscribe` and
/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 2369, RFC 8058), so mail
/// programs offer a one-click unsubscribe; a transactional one never does.
///
/// SMTP has no idempotency: a crash after the server accepted the message and before
/// the receipt was recorded sends it again on retry; only receiving systems that
/// collapse equal `Message-ID`s hide the duplicate.
///
/// Classification: SMTP 4xx replies, timeouts and connection failures are `Retryable`;
/// 5xx replies, malformed addresses and TLS failures are `Permanent`.
#[derive(Debug)]
pub struct SmtpSender {
    builder: AsyncSmtpTransportBuilder,
    /// Built on first use: the connection pool spawns a task, which needs the runtime
    /// that sends run on, not whichever thread built the sender.
    transport: OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl SmtpSender {
    /// A sender for the given server. Nothing is connected until the first send.
    ///
    /// # Errors
    ///
    /// When `from` is not a mailbox or the TLS parameters cannot be built for `host`.
    pub fn new(settings: SmtpSettings) -> Result<Self, String> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| format!("from address {:?}: {e}", settings.from))?;
        let builder = match settings.tls {
            SmtpTls::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
                    .port(settings.port.unwrap_or(25))
            }
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)
                    .map_err(|e| format!("STARTTLS to {}: {e}", settings.host))?
                    .port(settings.port.unwrap_or(587))
            }
            SmtpTls::Implicit => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host)
                .map_err(|e| format!("TLS to {}: {e}", settings.host))?
                .port(settings.port.unwrap_or(465)),
        };
        let builder = builder.timeout(Some(settings.timeout));
        let builder = match (settings.username, settings.password) {
            (Some(user), Some(password)) => builder.credentials(Credentials::new(user, password)),
            (Some(user), None) => {
                return Err(format!("SMTP user {user:?} has no password"));
            }
            _ => builder,
        };
        Ok(Self {
            builder,
            transport: OnceLock::new(),
            from,
        })
    }

    fn build_message(&self, message: &OutgoingMessage) -> Result<Message, SendError> {
        let to: Mailbox = message
            .recipient
            .trim()
            .parse()
            .map_err(|e| SendError::Permanent {
                reason: format!(
                    "recipient {:?} is not an email address: {e}",
                    message.recipient
                ),
            })?;
        let domain = self.from.email.domain().to_owned();
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .message_id(Some(message_id_for(&message.dedupe_key, &domain)));
        if let Some(subject) = subject_of(message) {
            builder = builder.subject(subject);
        }
        if let (true, Some(url)) = (message.promotional, &message.unsubscribe_url) {
            // The address goes between angle brackets as it is; one that could break the
            // header (spaces, brackets, line breaks) is not sent at all.
            let web = url.starts_with("https://") || url.starts_with("http://");
            if web
                && url
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
            {
                builder = builder
                    .header(ListUnsubscribe(format!("<{url}>")))
                    .header(ListUnsubscribePost);
            }
        }
        let built = match message.open_pixel.as_deref().filter(|url| safe_url(url)) {
            // The text stays the plain part; the HTML part is the same text with the
            // pixel, for clients that show HTML.
            Some(pixel) => builder.multipart(MultiPart::alternative_plain_html(
                message.body.clone(),
                html_with_pixel(&message.body, pixel),
            )),
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(message.body.clone()),
        };
        built.map_err(|e| SendError::Permanent {
            reason: format!("email could not be built: {e}"),
        })
    }
}

/// Whether `url` is a web address that can go into a header or an attribute as it is.
fn safe_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\'' | b'&'))
}

/// `text` as HTML (escaped, line breaks kept) followed by a 1×1 image of `pixel`.
fn html_with_pixel(text: &str, pixel: &str) -> String {
    let mut html = String::with_capacity(text.len() + 200);
    html.push_str("<!doctype html><html><body><div style=\"white-space:pre-wrap\">");
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            c => html.push(c),
        }
    }
    html.push_str("</div><img src=\"");
    html.push_str(pixel);
    html.push_str("\" width=\"1\" height=\"1\" alt=\"\"></body></html>");
    html
}

/// `List-Unsubscribe: <https://…>` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): the address opts out
/// on a `POST` alone, without a page.
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// The subject: a promotional message's begins with `[QC]` (quảng cáo, advertising), as
/// Decree 91/2020 asks of advertising email, unless it does already.
fn subject_of(message: &OutgoingMessage) -> Option<String> {
    const MARK: &str = "[QC]";
    match (&message.subject, message.promotional) {
        (Some(s), true) if s.trim_start().starts_with(MARK) => Some(s.clone()),
        (Some(s), true) => Some(format!("{MARK} {s}")),
        (None, true) => Some(MARK.to_owned()),
        (subject, false) => subject.clone(),
    }
}

#[async_trait]
impl MessageSender for SmtpSender {
    fn channel(&self) -> Channel {
        Channel::Email
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        if message.channel != Channel::Email {
            return Err(SendError::Permanent {
                reason: format!("SMTP cannot send {:?} messages", message.channel),
            });
        }
        let email = self.build_message(message)?;
        let message_id = email
            .headers()
            .get_raw("Message-ID")
            .unwrap_or_default()
            .to_owned();
        let transport = self.transport.get_or_init(|| self.builder.clone().build());
        match transport.send(email).await {
            Ok(_) => Ok(SendReceipt {
                provider_message_id: message_id,
            }),
            Err(e) => Err(classify_smtp_error(&e)),
        }
    }
}

fn classify_smtp_error(err: &lettre::transport::smtp::Error) -> SendError {
    let reason = format!("SMTP: {err}");
    if err.is_permanent() || err.is_tls() || err.is_client() {
        SendError::Permanent { reason }
    } else {
        // 4xx replies, timeouts, refused or dropped connections, unreadable replies.
        SendError::Retryable {
            reason,
            retry_after: None,
        }
    }
}

/// The `Message-ID` for a dedupe key: `<key@domain>` when the key is made of characters
/// a message id may hold, `<sha256-hex-of-key@domain>` otherwise. Always the same for the
/// same key, so every attempt at one delivery carries one id.
///
/// ```
/// use regulars_senders::message_id_for;
/// assert_eq!(message_id_for("msg-42", "example.com"), "<msg-42@example.com>");
/// let odd = message_id_for("a b<c>", "example.com");
/// assert!(odd.starts_with('<') && odd.ends_with("@example.com>") && !odd.contains(' '));
/// ```
#[must_use]
pub fn message_id_for(dedupe_key: &str, domain: &str) -> String {
    let plain = !dedupe_key.is_empty()
        && dedupe_key.len() <= 128
        && !dedupe_key.starts_with('.')
        && !dedupe_key.ends_with('.')
        && !dedupe_key.contains("..")
        && dedupe_key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b));
    if plain {
        format!("<{dedupe_key}@{domain}>")
    } else {
        format!(
            "<{}@{domain}>",
            hex::encode(Sha256::digest(dedupe_key.as_bytes()))
        )
    }
}
