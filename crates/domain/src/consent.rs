//! Consent as data: per purpose (the loyalty programme, marketing on each channel,
//! profiling), a state that tells "never asked" apart from "withdrawn", and the events
//! that record every change with its time, source and the notice version shown.
//!
//! Silence is not consent: a purpose never asked about is not granted. Transactional
//! messages (receipts, balances) need no marketing consent; promotional ones do, and a
//! withdrawal always wins.

use crate::{BrandId, ChangeSource, Channel, CustomerId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Where a customer stands on one purpose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    /// Never asked, or asked and not answered: not consent.
    #[default]
    NeverAsked,
    /// Given.
    Granted,
    /// Given once and taken back (or refused outright): an opt-out.
    Withdrawn,
}

impl ConsentState {
    /// Every state.
    pub const ALL: [ConsentState; 3] = [
        ConsentState::NeverAsked,
        ConsentState::Granted,
        ConsentState::Withdrawn,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentState::NeverAsked => "never_asked",
            ConsentState::Granted => "granted",
            ConsentState::Withdrawn => "withdrawn",
        }
    }

    /// The state of a stored name.
    pub fn parse(s: &str) -> Option<ConsentState> {
        ConsentState::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether consent is given.
    pub fn granted(self) -> bool {
        self == ConsentState::Granted
    }

    /// The state after a yes/no answer (a tick box, an API boolean): yes grants; no
    /// withdraws what was granted and otherwise leaves the state as it is, so a box left
    /// unticked is not read as an opt-out nor an opt-out as "never asked".
    ///
    /// ```
    /// use regulars_domain::ConsentState::*;
    /// assert_eq!(NeverAsked.answered(true), Granted);
    /// assert_eq!(NeverAsked.answered(false), NeverAsked);
    /// assert_eq!(Granted.answered(false), Withdrawn);
    /// assert_eq!(Withdrawn.answered(false), Withdrawn);
    /// assert_eq!(Withdrawn.answered(true), Granted);
    /// ```
    pub fn answered(self, yes: bool) -> ConsentState {
        match (self, yes) {
            (_, true) => ConsentState::Granted,
            (ConsentState::Granted, false) => ConsentState::Withdrawn,
            (other, false) => other,
        }
    }
}

/// What a customer's data may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// The loyalty programme itself: points, tiers, vouchers.
    Programme,
    /// Promotional messages on one channel.
    Marketing(Channel),
    /// Personalised offers and segment-targeted campaigns (scores and segments used to
    /// choose whom to contact and with what).
    Profiling,
}

impl Purpose {
    /// Every purpose, in a fixed order.
    pub const ALL: [Purpose; 5] = [
        Purpose::Programme,
        Purpose::Marketing(Channel::Zalo),
        Purpose::Marketing(Channel::Sms),
        Purpose::Marketing(Channel::Email),
        Purpose::Profiling,
    ];

    /// The stored name: `programme`, `marketing_zalo`, `marketing_sms`,
    /// `marketing_email`, `profiling`.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Programme => "programme",
            Purpose::Marketing(Channel::Zalo) => "marketing_zalo",
            Purpose::Marketing(Channel::Sms) => "marketing_sms",
            Purpose::Marketing(Channel::Email) => "marketing_email",
            Purpose::Profiling => "profiling",
        }
    }

    /// The purpose of a stored name.
    pub fn parse(s: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A customer's consent per purpose: the programme, promotional messages per channel
/// (`zalo`, `sms`, `email`) and profiling. The customer's current standing; how it came
/// to be is in the [`ConsentEvent`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConsent {
    /// Promotional Zalo messages.
    #[serde(default)]
    pub zalo: ConsentState,
    /// Promotional SMS.
    #[serde(default)]
    pub sms: ConsentState,
    /// Promotional email.
    #[serde(default)]
    pub email: ConsentState,
    /// Personalised offers and segment targeting.
    #[serde(default)]
    pub profiling: ConsentState,
    /// The loyalty programme itself.
    #[serde(default)]
    pub programme: ConsentState,
}

impl ChannelConsent {
    /// Marketing granted on the channels given as `true`, nothing else asked.
    pub fn marketing(zalo: bool, sms: bool, email: bool) -> ChannelConsent {
        let state = |yes: bool| {
            if yes {
                ConsentState::Granted
            } else {
                ConsentState::NeverAsked
            }
        };
        ChannelConsent {
            zalo: state(zalo),
            sms: state(sms),
            email: state(email),
            ..ChannelConsent::default()
        }
    }

    /// The state of one purpose.
    pub fn state(&self, purpose: Purpose) -> ConsentState {
        match purpose {
            Purpose::Programme => self.programme,
            Purpose::Marketing(Channel::Zalo) => self.zalo,
            Purpose::Marketing(Channel::Sms) => self.sms,
            Purpose::Marketing(Channel::Email) => self.email,
            Purpose::Profiling => self.profiling,
        }
    }

    /// Sets the state of one purpose.
    pub fn set(&mut self, purpose: Purpose, state: ConsentState) {
        let slot = match purpose {
            Purpose::Programme => &mut self.programme,
            Purpose::Marketing(Channel::Zalo) => &mut self.zalo,
            Purpose::Marketing(Channel::Sms) => &mut self.sms,
            Purpose::Marketing(Channel::Email) => &mut self.email,
            Purpose::Profiling => &mut self.profiling,
        };
        *slot = state;
    }

    /// Whether promotional messages may go out on `channel`: only with consent granted.
    pub fn allows(&self, channel: Channel) -> bool {
        self.state(Purpose::Marketing(channel)).granted()
    }

    /// Whether the customer opted out of promotional messages on `channel`.
    pub fn opted_out_of(&self, channel: Channel) -> bool {
        self.state(Purpose::Marketing(channel)) == ConsentState::Withdrawn
    }

    /// Whether the customer opted out of promotional messages on every channel.
    ///
    /// ```
    /// use regulars_domain::{Channel, ChannelConsent, ConsentState::*};
    /// let mut c = ChannelConsent::marketing(true, true, false);
    /// c.zalo = Withdrawn;
    /// assert!(c.opted_out_of(Channel::Zalo) && !c.opted_out());
    /// c.sms = Withdrawn;
    /// c.email = Withdrawn;
    /// assert!(c.opted_out() && !c.allows(Channel::Sms));
    /// ```
    pub fn opted_out(&self) -> bool {
        [Channel::Zalo, Channel::Sms, Channel::Email]
            .into_iter()
            .all(|ch| self.opted_out_of(ch))
    }

    /// Whether scores and segments may be used to choose offers or audiences for the
    /// customer: granted, or never asked where the brand's `default` (what the law allows
    /// it without asking) is `true`. Withdrawn never is.
    pub fn allows_profiling(&self, default: bool) -> bool {
        match self.profiling {
            ConsentState::Granted => true,
            ConsentState::Withdrawn => false,
            ConsentState::NeverAsked => default,
        }
    }

    /// The purposes whose state differs in `after`, with their new state, in
    /// [`Purpose::ALL`] order.
    pub fn changes(&self, after: &ChannelConsent) -> Vec<(Purpose, ConsentState)> {
        Purpose::ALL
            .into_iter()
            .filter(|p| self.state(*p) != after.state(*p))
            .map(|p| (p, after.state(p)))
            .collect()
    }
}

/// Where an opt-out instruction puts the customer's own opt-out link.
pub const OPT_OUT_LINK: &str = "{link}";

/// The opt-out instruction a brand's promotional messages end with until it sets its own
/// (Decree 91/2020/ND-CP: an advertising message tells how to refuse further ones).
/// Unaccented, so that an unaccented SMS stays in GSM-7.
pub const DEFAULT_OPT_OUT_INSTRUCTION: &str = "Tu choi QC: {link}";

/// A promotional `text` with the opt-out `instruction` on a line of its own at its end,
/// [`OPT_OUT_LINK`] replaced by `link`. The text unchanged when the instruction is empty,
/// or names a link and none is given (a deployment without a public address).
///
/// ```
/// use regulars_domain::with_opt_out;
/// let text = with_opt_out("[QC] Giảm 20%", "Tu choi QC: {link}", Some("https://m.vn/u/x"));
/// assert_eq!(text, "[QC] Giảm 20%\nTu choi QC: https://m.vn/u/x");
/// assert_eq!(with_opt_out("Hi", "Tu choi QC soan TC gui 8079", None), "Hi\nTu choi QC soan TC gui 8079");
/// assert_eq!(with_opt_out("Hi", "Tu choi QC: {link}", None), "Hi");
/// assert_eq!(with_opt_out("Hi", "", Some("https://m.vn/u/x")), "Hi");
/// ```
#[must_use]
pub fn with_opt_out(text: &str, instruction: &str, link: Option<&str>) -> String {
    let instruction = instruction.trim();
    if instruction.is_empty() {
        return text.to_owned();
    }
    let footer = match (instruction.contains(OPT_OUT_LINK), link) {
        (false, _) => instruction.to_owned(),
        (true, Some(link)) => instruction.replace(OPT_OUT_LINK, link),
        (true, None) => return text.to_owned(),
    };
    format!("{text}\n{footer}")
}

/// One change of consent to one purpose, kept forever (the history is append-only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEvent {
    /// The brand.
    pub brand_id: BrandId,
    /// The customer.
    pub customer_id: CustomerId,
    /// The purpose.
    pub purpose: Purpose,
    /// The state it left.
    pub state: ConsentState,
    /// When.
    pub at: OffsetDateTime,
    /// Where it came from.
    pub source: ChangeSource,
    /// Who recorded it, like `api-key:<id>`.
    pub actor: String,
    /// The version of the brand's processing notice the customer was shown, if known.
    pub notice_version: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms::measure;
    use proptest::prelude::*;

    proptest! {
        /// The instruction is always the whole last line, and it is counted: the text
        /// with it never takes fewer SMS segments than the text alone.
        #[test]
        fn the_instruction_ends_the_text_and_is_counted(
            text in "\\PC{0,300}",
            instruction in "[A-Za-z :]{1,40}",
            link in "https://[a-z]{1,12}\\.vn/u/[A-Za-z0-9_-]{10,60}",
        ) {
            let instruction = format!("{} {OPT_OUT_LINK}", instruction.trim());
            let out = with_opt_out(&text, &instruction, Some(&link));
            let last_line = ["\n", instruction.replace(OPT_OUT_LINK, &link).trim()].concat();
            prop_assert!(out.starts_with(&text));
            prop_assert!(out.ends_with(&last_line));
            prop_assert!(measure(&out).segments >= measure(&text).segments);
            prop_assert!(measure(&out).units > measure(&text).units);
        }
    }

    #[test]
    fn names_round_trip() {
        for p in Purpose::ALL {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        for s in ConsentState::ALL {
            assert_eq!(ConsentState::parse(s.as_str()), Some(s));
        }
        for c in ChangeSource::ALL {
            assert_eq!(ChangeSource::parse(c.as_str()), Some(c));
        }
        assert_eq!(Purpose::parse("marketing"), None);
    }

    #[test]
    fn changes_name_each_purpose_that_moved() {
        let before = ChannelConsent::marketing(true, false, false);
        let mut after = before;
        after.zalo = ConsentState::Withdrawn;
        after.profiling = ConsentState::Granted;
        assert_eq!(
            before.changes(&after),
            [
                (Purpose::Marketing(Channel::Zalo), ConsentState::Withdrawn),
                (Purpose::Profiling, ConsentState::Granted),
            ]
        );
        assert!(before.changes(&before).is_empty());
    }

    #[test]
    fn profiling_needs_consent_unless_the_brand_may_assume_it() {
        let mut c = ChannelConsent::default();
        assert!(!c.allows_profiling(false));
        assert!(c.allows_profiling(true));
        c.profiling = ConsentState::Withdrawn;
        assert!(!c.allows_profiling(true));
    }
}
