//! A development channel: every message is appended as one JSON line to a file, like a
//! "file email backend". Nothing leaves the machine.

use async_trait::async_trait;
use regulars_domain::{BrandId, Channel};
use regulars_ports::{MessageSender, OutgoingMessage, SendError, SendReceipt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// One line of the file: the message as the worker handed it over, and when it was
/// written (wall-clock time of the process).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMessage {
    /// When the line was written.
    #[serde(with = "time::serde::rfc3339")]
    pub written_at: OffsetDateTime,
    /// The sending brand.
    pub brand_id: BrandId,
    /// The channel it would have gone out on.
    pub channel: Channel,
    /// Phone, Zalo user id or email address.
    pub recipient: String,
    /// Provider template, if any.
    pub template: Option<String>,
    /// Subject, for email.
    pub subject: Option<String>,
    /// The rendered text.
    pub body: String,
    /// Template variables.
    pub data: BTreeMap<String, String>,
    /// The message's dedupe key (a retry after a crash may write a message twice; readers
    /// that care drop repeated keys).
    pub dedupe_key: String,
    /// Promotional or transactional.
    pub promotional: bool,
}

/// Serialises writers of one file, shared by the senders of every channel it serves.
#[derive(Debug)]
struct Sink {
    path: PathBuf,
    lock: Mutex<()>,
}

/// A [`MessageSender`] for one channel that appends each message to a JSON-lines file.
/// Build the senders of several channels with [`FileSender::for_channels`] so they share
/// one writer.
///
/// ```
/// use regulars_senders::FileSender;
/// use regulars_domain::Channel;
/// use regulars_ports::MessageSender;
///
/// let senders = FileSender::for_channels("messages.jsonl", &[Channel::Sms, Channel::Email]);
/// assert_eq!(senders.len(), 2);
/// assert_eq!(senders[0].channel(), Channel::Sms);
/// assert_eq!(senders[1].path(), std::path::Path::new("messages.jsonl"));
/// ```
#[derive(Debug, Clone)]
pub struct FileSender {
    channel: Channel,
    sink: Arc<Sink>,
}

impl FileSender {
    /// One sender per channel, all appending to `path` (created on the first message).
    #[must_use]
    pub fn for_channels(path: impl Into<PathBuf>, channels: &[Channel]) -> Vec<FileSender> {
        let sink = Arc::new(Sink {
            path: path.into(),
            lock: Mutex::new(()),
        });
        channels
            .iter()
            .map(|&channel| FileSender {
                channel,
                sink: sink.clone(),
            })
            .collect()
    }

    /// The file the messages go to.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.sink.path
    }

    fn append(&self, line: &[u8]) -> std::io::Result<()> {
        // A poisoned lock only means another writer panicked mid-call; the file is
        // still there to append to.
        let _guard = self
            .sink
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.sink.path)?;
        // One write call per line, so a reader never sees half a message from us.
        file.write_all(line)?;
        file.flush()
    }
}

#[async_trait]
impl MessageSender for FileSender {
    fn channel(&self) -> Channel {
        self.channel
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        if message.channel != self.channel {
            return Err(SendError::Permanent {
                reason: format!(
                    "a {:?} message reached the {:?} file sender",
                    message.channel, self.channel
                ),
            });
        }
        let record = FileMessage {
            written_at: OffsetDateTime::now_utc(),
            brand_id: message.brand_id,
            channel: message.channel,
            recipient: message.recipient.clone(),
            template: message.template.clone(),
            subject: message.subject.clone(),
            body: message.body.clone(),
            data: message.data.clone(),
            dedupe_key: message.dedupe_key.clone(),
            promotional: message.promotional,
        };
        let mut line = serde_json::to_vec(&record).map_err(|e| SendError::Permanent {
            reason: format!("cannot encode the message: {e}"),
        })?;
        line.push(b'\n');
        // A full disk or a missing directory may be fixed by the operator: retry later.
        self.append(&line).map_err(|e| SendError::Retryable {
            reason: format!("cannot append to {}: {e}", self.sink.path.display()),
            retry_after: None,
        })?;
        Ok(SendReceipt {
            provider_message_id: format!("file:{}", message.dedupe_key),
        })
    }
}
