//! A customer's response to a message: a click on one of its links (through the signed
//! redirect) or an open of an HTML email (its pixel). What the send-time model learns
//! the hours customers read their messages from, and what a campaign's click rate
//! counts.

use crate::{BrandId, CampaignId, Channel, CustomerId};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Most links of one message that are tracked (the index in a link token is a byte);
/// links past it go out as written.
pub const MAX_TRACKED_LINKS: usize = 16;

/// Clicks on the same message closer together than this count as one response (a
/// double tap, a preview fetching the link); every click is still logged.
pub const CLICK_COUNT_WINDOW: Duration = Duration::minutes(1);

/// What the customer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngagementKind {
    /// Followed a link of the message.
    Click,
    /// Opened the email (its pixel was fetched; unreliable, see `docs/engagement.md`).
    Open,
}

impl EngagementKind {
    /// Its stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EngagementKind::Click => "click",
            EngagementKind::Open => "open",
        }
    }

    /// The kind of a stored name.
    pub fn parse(name: &str) -> Option<EngagementKind> {
        match name {
            "click" => Some(EngagementKind::Click),
            "open" => Some(EngagementKind::Open),
            _ => None,
        }
    }

    /// What one counted response of this kind adds to the send-time histogram at its
    /// local hour and weekday, where a visit adds 1: a click is a deliberate act at
    /// that hour (2.0); an open is weak evidence, since mail clients and privacy
    /// proxies fetch pixels on their own schedule (0.5).
    ///
    /// ```
    /// use regulars_domain::EngagementKind;
    /// assert!(EngagementKind::Click.weight() > EngagementKind::Open.weight());
    /// ```
    pub fn weight(self) -> f64 {
        match self {
            EngagementKind::Click => 2.0,
            EngagementKind::Open => 0.5,
        }
    }
}

/// One logged click or open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engagement {
    /// The brand of the message.
    pub brand_id: BrandId,
    /// Its own id.
    pub id: Uuid,
    /// The outbox message responded to.
    pub message_id: Uuid,
    /// The customer the message went to, if it went to one.
    pub customer_id: Option<CustomerId>,
    /// The campaign that planned the message, if any.
    pub campaign_id: Option<CampaignId>,
    /// The channel the message went out on.
    pub channel: Channel,
    /// Click or open.
    pub kind: EngagementKind,
    /// For a click: the index of the link among the message's links.
    pub link: Option<u8>,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Whether it counts as a response: the first of its kind on the message within
    /// [`CLICK_COUNT_WINDOW`].
    pub counted: bool,
}

/// A brand's choice of what is tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementSettings {
    /// Links in messages go through the signed redirect (default on).
    pub track_links: bool,
    /// HTML email carries an open pixel, for customers who consented to marketing
    /// email (default off).
    pub track_opens: bool,
}

impl Default for EngagementSettings {
    fn default() -> Self {
        EngagementSettings {
            track_links: true,
            track_opens: false,
        }
    }
}

/// The byte ranges of the `http://` and `https://` links in `text`, in order: each runs
/// to the next whitespace, angle bracket or quote, without trailing punctuation that
/// usually ends a sentence (`.`, `,`, `;`, `:`, `!`, `?`, `)`).
///
/// ```
/// use regulars_domain::find_links;
/// let text = "Xem: https://may.vn/menu?x=1. Hoặc http://a.b/c)";
/// let links: Vec<&str> = find_links(text).into_iter().map(|r| &text[r]).collect();
/// assert_eq!(links, ["https://may.vn/menu?x=1", "http://a.b/c"]);
/// ```
pub fn find_links(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = next_scheme(text, from) {
        let rest = text.get(start..).unwrap_or("");
        let len = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\''))
            .unwrap_or(rest.len());
        let link = rest.get(..len).unwrap_or("");
        let trimmed = link.trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        let scheme_len = if trimmed.starts_with("https://") {
            8
        } else {
            7
        };
        if trimmed.len() > scheme_len {
            out.push(start..start + trimmed.len());
        }
        from = start + len.max(1);
    }
    out
}

fn next_scheme(text: &str, from: usize) -> Option<usize> {
    let rest = text.get(from..)?;
    let http = rest.find("http://");
    let https = rest.find("https://");
    let at = match (http, https) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    Some(from + at)
}

/// `text` with each of its first [`MAX_TRACKED_LINKS`] links replaced by what
/// `replace(index, link)` gives (`None` keeps the link as written).
///
/// ```
/// use regulars_domain::rewrite_links;
/// let out = rewrite_links("a https://x.vn/1 b https://x.vn/2", |i, _| Some(format!("L{i}")));
/// assert_eq!(out, "a L0 b L1");
/// ```
pub fn rewrite_links(text: &str, mut replace: impl FnMut(u8, &str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (index, range) in find_links(text)
        .into_iter()
        .take(MAX_TRACKED_LINKS)
        .enumerate()
    {
        let (Some(before), Some(link)) = (text.get(last..range.start), text.get(range.clone()))
        else {
            continue;
        };
        out.push_str(before);
        match u8::try_from(index).ok().and_then(|i| replace(i, link)) {
            Some(new) => out.push_str(&new),
            None => out.push_str(link),
        }
        last = range.end;
    }
    out.push_str(text.get(last..).unwrap_or(""));
    out
}

/// The link at `index` among the links of `text`, as [`rewrite_links`] numbers them.
pub fn link_at(text: &str, index: u8) -> Option<&str> {
    let range = find_links(text)
        .into_iter()
        .take(MAX_TRACKED_LINKS)
        .nth(usize::from(index))?;
    text.get(range)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn links_are_found_and_numbered() {
        let text = "Cam on! Danh gia: https://l.vn/f/abc\nThe: https://l.vn/c/xyz, http:// end";
        assert_eq!(link_at(text, 0), Some("https://l.vn/f/abc"));
        assert_eq!(link_at(text, 1), Some("https://l.vn/c/xyz"));
        assert_eq!(link_at(text, 2), None, "a bare scheme is no link");
        assert_eq!(find_links("no links here").len(), 0);
        assert_eq!(find_links("đồng https://ví.vn/ả").len(), 1);
    }

    #[test]
    fn links_past_the_limit_stay_as_written() {
        let text: String = (0..20).map(|i| format!("https://x.vn/{i} ")).collect();
        let out = rewrite_links(&text, |i, _| Some(format!("[{i}]")));
        assert!(out.starts_with("[0] [1] "));
        assert!(out.contains("https://x.vn/16 "));
        assert!(!out.contains("https://x.vn/15 "));
    }

    proptest! {
        /// Rewriting with "keep" gives the text back, and every numbered link is what
        /// `link_at` finds at its index.
        #[test]
        fn rewriting_keeps_the_rest_of_the_text(text in "(\\PC|https?://[a-z./?=]{0,12}| ){0,40}") {
            prop_assert_eq!(rewrite_links(&text, |_, _| None), text.clone());
            let mut seen = Vec::new();
            let _ = rewrite_links(&text, |i, link| { seen.push((i, link.to_owned())); None });
            for (i, link) in seen {
                prop_assert_eq!(link_at(&text, i), Some(link.as_str()));
            }
        }
    }
}
