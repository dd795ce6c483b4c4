//! A campaign's text as SMS: what it comes to for a sample customer, checked against the
//! campaign's segment cap before the campaign is saved.
//!
//! The planner renders each customer's own text; the delivery worker measures it again
//! when it goes out and refuses it (falling back to the next channel) when it is over
//! the cap. This check catches the templates that are over the cap for a typical
//! customer, when the author can still shorten them.

use crate::campaign::{Campaign, CampaignError, Offer, PricedReward};
use crate::render::Values;
use regulars_domain::Channel;
use regulars_domain::sms::{SmsLength, SmsOptions};
use std::borrow::Cow;

/// The name a sample message greets: 20 characters, a common full Vietnamese name.
pub const SAMPLE_NAME: &str = "Nguyễn Thị Minh Khai";

/// The opt-out link a sample message carries: as long as a real one on a short public
/// address (`https://` and 16 characters, `/u/`, a 60-character token).
pub const SAMPLE_OPT_OUT_LINK: &str =
    "https://loyalty.example.vn/u/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// The voucher code a sample message carries, as long as a real one (`XXXX-XXXX-XXXXX`).
pub const SAMPLE_CODE: &str = "7K2M-9QXD-4HRTV";

/// A rating link as long as a real one on a short public address (`https://` and 16
/// characters, `/f/`, an 87-character token),
/// for counting the SMS a `{{rating_link}}` costs.
pub const SAMPLE_RATING_LINK: &str = "https://loyalty.example.vn/f/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// A tracked link as long as a real one on a short public address (`https://` and 16
/// characters, `/l/`, a 36-character token): what each link a template writes becomes
/// when the brand tracks clicks (the default).
pub const SAMPLE_CLICK_LINK: &str =
    "https://loyalty.example.vn/l/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// `body` with each link as long as it may go out: the tracked link where that is
/// longer than the link as written (tracking may be on or off, so the longer counts).
fn with_longest_links(body: &str) -> String {
    let tracked = SAMPLE_CLICK_LINK.chars().count();
    regulars_domain::rewrite_links(body, |_, link| {
        (link.chars().count() < tracked).then(|| SAMPLE_CLICK_LINK.to_owned())
    })
}

impl Campaign {
    /// The campaign's text for a sample customer ([`SAMPLE_NAME`], [`SAMPLE_CODE`], a
    /// four-digit points figure, a date), one per reward the offer may give, with the
    /// promotional prefix and the brand's opt-out instruction (with [`SAMPLE_OPT_OUT_LINK`])
    /// when the messages are promotional; before any SMS folding.
    ///
    /// ```
    /// use regulars_campaigns::Campaign;
    /// let c = Campaign::from_json(r#"{"id": "00000000-0000-0000-0000-000000000001",
    ///     "name": "Hi", "shop": "Mây", "currency": "VND", "trigger": {"type": "broadcast"},
    ///     "template": "Chào {{name}}, {{shop}} nhớ bạn!"}"#).unwrap();
    /// assert_eq!(c.sample_texts(), vec![format!(
    ///     "[QC] Chào Nguyễn Thị Minh Khai, Mây nhớ bạn!\nTu choi QC: {}",
    ///     regulars_campaigns::sms::SAMPLE_OPT_OUT_LINK
    /// )]);
    /// ```
    pub fn sample_texts(&self) -> Vec<String> {
        let Ok(template) = self.template() else {
            return Vec::new();
        };
        let rewards = self.possible_rewards();
        let policy = self.policy_in_force();
        let promotional = self.is_promotional();
        rewards
            .into_iter()
            .map(|reward| {
                let body = with_longest_links(&template.render(&self.sample_values(reward)));
                if promotional {
                    regulars_domain::with_opt_out(
                        &format!("{}{body}", policy.promotional_prefix),
                        &policy.opt_out_instruction,
                        Some(SAMPLE_OPT_OUT_LINK),
                    )
                } else {
                    body
                }
            })
            .collect()
    }

    /// The rewards the offer may give (`[None]` without an offer).
    pub(crate) fn possible_rewards(&self) -> Vec<Option<&PricedReward>> {
        match &self.offer {
            None => vec![None],
            Some(Offer::Fixed { reward }) => vec![Some(reward)],
            Some(Offer::Personalised { candidates, .. }) => candidates.iter().map(Some).collect(),
            Some(Offer::BonusPoints { .. }) => vec![None],
        }
    }

    /// The variables' values for a sample customer given `reward`.
    pub(crate) fn sample_values<'a>(&'a self, reward: Option<&'a PricedReward>) -> Values<'a> {
        let bonus = self.offer.as_ref().and_then(Offer::bonus_points);
        Values {
            name: Some(Cow::Borrowed(SAMPLE_NAME)),
            reward: reward
                .map(|r| Cow::Borrowed(r.reward.name.as_str()))
                .or(bonus.map(|p| Cow::Owned(crate::render::bonus_reward_name(p, '.')))),
            bonus_points: bonus.map(|p| Cow::Owned(p.value().to_string())),
            reward_value: reward.and_then(crate::plan::reward_value).map(Cow::Owned),
            points: Some(Cow::Borrowed("1.250")),
            balance: Some(Cow::Borrowed("12.500")),
            expiry_date: Some(Cow::Borrowed("31/12/2026")),
            shop: Some(Cow::Borrowed(self.shop.as_str())),
            tier: Some(Cow::Borrowed("Vàng")),
            code: reward.map(|_| Cow::Borrowed(SAMPLE_CODE)),
            rating_link: Some(Cow::Borrowed(SAMPLE_RATING_LINK)),
        }
    }

    /// What the longest sample text comes to as SMS, after the campaign's folding;
    /// `None` when the campaign does not send SMS.
    pub fn sample_sms_length(&self) -> Option<SmsLength> {
        if !self.channels.contains(&Channel::Sms) {
            return None;
        }
        let unbounded = SmsOptions {
            max_segments: None,
            ..self.sms
        };
        self.sample_texts()
            .iter()
            .filter_map(|t| unbounded.prepare(t).ok())
            .map(|(_, length)| length)
            .max_by_key(|l| (l.segments, l.units))
    }

    /// Refuses a campaign that sends SMS whose sample text is over `sms.max_segments`,
    /// naming `template`.
    pub fn check_sms(&self) -> Result<(), CampaignError> {
        if !self.channels.contains(&Channel::Sms) || self.sms.max_segments.is_none() {
            return Ok(());
        }
        // With variants, each variant's text is what goes out.
        for (i, arm) in self.arms().iter().enumerate() {
            arm.check_sms().map_err(|e| match e {
                CampaignError::Invalid { path, message } => CampaignError::Invalid {
                    path: format!("variants[{i}].{path}"),
                    message,
                },
                other => other,
            })?;
        }
        if !self.variants.is_empty() {
            return Ok(());
        }
        for text in self.sample_texts() {
            if let Err(over) = self.sms.prepare(&text) {
                return Err(CampaignError::Invalid {
                    path: "template".into(),
                    message: format!(
                        "{over} (`sms.max_segments`) for a sample customer; shorten the text{}",
                        if self.sms.fold_accents {
                            ""
                        } else {
                            " or set `sms.fold_accents` to send it unaccented (160 characters a segment instead of 70)"
                        }
                    ),
                });
            }
        }
        Ok(())
    }
}
