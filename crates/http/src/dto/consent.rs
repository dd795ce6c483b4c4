//! A customer's consent per purpose and its history.

use super::rfc3339;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Consent per purpose: promotional messages per channel, and optionally profiling and
/// the programme itself. In a request, `true` grants and `false` withdraws consent that
/// was given (a purpose never asked stays so); `profiling` and `programme` left out keep
/// their state. In a response each says whether consent is granted now.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentDto {
    /// Promotional Zalo messages.
    #[serde(default)]
    pub zalo: bool,
    /// Promotional SMS.
    #[serde(default)]
    pub sms: bool,
    /// Promotional email.
    #[serde(default)]
    pub email: bool,
    /// Personalised offers and segment-targeted campaigns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiling: Option<bool>,
    /// The loyalty programme itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub programme: Option<bool>,
    /// Request only: the version of the brand's processing notice the customer was shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub notice_version: Option<u32>,
    /// Request only: where the answers were given when not through this key itself
    /// (`till`, `signup`, `import`, `api`, `pos`, `admin`, `dashboard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "signup")]
    pub source: Option<String>,
}

impl From<&regulars_domain::ChannelConsent> for ConsentDto {
    fn from(c: &regulars_domain::ChannelConsent) -> Self {
        ConsentDto {
            zalo: c.zalo.granted(),
            sms: c.sms.granted(),
            email: c.email.granted(),
            profiling: Some(c.profiling.granted()),
            programme: Some(c.programme.granted()),
            notice_version: None,
            source: None,
        }
    }
}

/// The state of each purpose: `never_asked`, `granted` or `withdrawn`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentStatesDto {
    /// The loyalty programme itself.
    pub programme: String,
    /// Promotional Zalo messages.
    pub marketing_zalo: String,
    /// Promotional SMS.
    pub marketing_sms: String,
    /// Promotional email.
    pub marketing_email: String,
    /// Personalised offers and segment targeting.
    pub profiling: String,
}

/// One change of consent to one purpose.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentEventDto {
    /// `programme`, `marketing_zalo`, `marketing_sms`, `marketing_email` or `profiling`.
    pub purpose: String,
    /// The state it left: `never_asked`, `granted` or `withdrawn`.
    pub state: String,
    /// When.
    pub at: String,
    /// Where it came from: `till`, `signup`, `import`, `api`, `pos`, `admin`,
    /// `dashboard`, `unsubscribe_link`, `provider_keyword` or `legacy`.
    pub source: String,
    /// Who recorded it.
    pub actor: String,
    /// The notice version shown, if known.
    pub notice_version: Option<u32>,
}

/// A customer's consent now and how it came to be.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentHistoryDto {
    /// The state of each purpose now.
    pub current: ConsentStatesDto,
    /// Every change, oldest first.
    pub history: Vec<ConsentEventDto>,
}

impl ConsentHistoryDto {
    /// The customer's consent and its history.
    pub fn new(
        c: &regulars_domain::ChannelConsent,
        history: &[regulars_domain::ConsentEvent],
    ) -> ConsentHistoryDto {
        let state = |s: regulars_domain::ConsentState| s.as_str().to_owned();
        ConsentHistoryDto {
            current: ConsentStatesDto {
                programme: state(c.programme),
                marketing_zalo: state(c.zalo),
                marketing_sms: state(c.sms),
                marketing_email: state(c.email),
                profiling: state(c.profiling),
            },
            history: history
                .iter()
                .map(|e| ConsentEventDto {
                    purpose: e.purpose.as_str().to_owned(),
                    state: e.state.as_str().to_owned(),
                    at: rfc3339(e.at),
                    source: e.source.as_str().to_owned(),
                    actor: e.actor.clone(),
                    notice_version: e.notice_version,
                })
                .collect(),
        }
    }
}
