//! Delivery reports from the message providers, checked with the keys the operator gave:
//! Zalo's OA webhook events (`X-ZEvent-Signature` over app id, body, timestamp and the OA
//! secret) and eSMS's callback (unsigned by eSMS, so the callback URL carries a secret
//! `token` the server compares in constant time).
//!
//! The decoding of each provider's format is [`crate::callbacks`]; this is the
//! [`DeliveryReportDecoder`] port over it that the server is wired with.

use crate::callbacks::{CallbackError, esms_callback, zalo_event, zalo_provider_event};
use regulars_ports::{DeliveryReportDecoder, DeliveryUpdate, ProviderEvent, ReportRejection};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

/// The keys delivery reports are checked with; from the environment only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ReportKeys {
    /// Zalo app id and OA secret key (`REGULARS_ZALO_APP_ID`, `REGULARS_ZALO_OA_SECRET_KEY`).
    pub zalo: Option<(String, String)>,
    /// The token eSMS's callback URL carries (`REGULARS_ESMS_CALLBACK_TOKEN`).
    pub esms_token: Option<String>,
}

impl std::fmt::Debug for ReportKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportKeys")
            .field("zalo", &self.zalo.is_some())
            .field("esms", &self.esms_token.is_some())
            .finish()
    }
}

impl ReportKeys {
    /// Reads the keys through `env`; a provider whose keys are missing takes no reports.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> ReportKeys {
        let get = |name: &str| {
            env(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        ReportKeys {
            zalo: get("REGULARS_ZALO_APP_ID").zip(get("REGULARS_ZALO_OA_SECRET_KEY")),
            esms_token: get("REGULARS_ESMS_CALLBACK_TOKEN"),
        }
    }

    /// Whether any provider's reports are taken.
    pub fn any(&self) -> bool {
        self.zalo.is_some() || self.esms_token.is_some()
    }
}

/// [`DeliveryReportDecoder`] over the providers' documented formats.
#[derive(Debug, Clone)]
pub struct ProviderReports {
    keys: ReportKeys,
}

impl ProviderReports {
    /// Reports checked with `keys`.
    pub fn new(keys: ReportKeys) -> ProviderReports {
        ProviderReports { keys }
    }
}

fn rejection(error: CallbackError) -> ReportRejection {
    match error {
        CallbackError::MissingSignature(_)
        | CallbackError::BadSignature
        | CallbackError::Stale(_) => ReportRejection::Unauthenticated(error.to_string()),
        CallbackError::Malformed(_) => ReportRejection::Malformed(error.to_string()),
        CallbackError::NotADeliveryReport(_) | CallbackError::NotFinal(_) => {
            ReportRejection::Ignored(error.to_string())
        }
    }
}

impl DeliveryReportDecoder for ProviderReports {
    fn decode(
        &self,
        provider: &str,
        headers: &[(String, String)],
        query: &str,
        body: &[u8],
        received_at: OffsetDateTime,
    ) -> Result<DeliveryUpdate, ReportRejection> {
        match provider {
            "zalo" => {
                let Some((app_id, secret)) = &self.keys.zalo else {
                    return Err(ReportRejection::UnknownProvider(provider.to_owned()));
                };
                let headers: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                zalo_event(&headers, body, app_id, secret, received_at).map_err(rejection)
            }
            "esms" => {
                let Some(token) = &self.keys.esms_token else {
                    return Err(ReportRejection::UnknownProvider(provider.to_owned()));
                };
                let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
                    .map_err(|e| ReportRejection::Malformed(format!("query: {e}")))?;
                let given = pairs
                    .iter()
                    .find(|(k, _)| k == "token")
                    .map(|(_, v)| v.as_str())
                    .unwrap_or("");
                if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
                    return Err(ReportRejection::Unauthenticated(
                        "the callback token does not match".to_owned(),
                    ));
                }
                // eSMS may also POST its fields as a form body.
                let fields = if body.is_empty() {
                    query.to_owned()
                } else {
                    format!("{query}&{}", String::from_utf8_lossy(body))
                };
                esms_callback(&fields, received_at).map_err(rejection)
            }
            other => Err(ReportRejection::UnknownProvider(other.to_owned())),
        }
    }

    /// Zalo's events also bring followers' texts to the OA; eSMS's only reports.
    fn decode_event(
        &self,
        provider: &str,
        headers: &[(String, String)],
        query: &str,
        body: &[u8],
        received_at: OffsetDateTime,
    ) -> Result<ProviderEvent, ReportRejection> {
        match (provider, &self.keys.zalo) {
            ("zalo", Some((app_id, secret))) => {
                let headers: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                zalo_provider_event(&headers, body, app_id, secret, received_at).map_err(rejection)
            }
            _ => self
                .decode(provider, headers, query, body, received_at)
                .map(ProviderEvent::Report),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esms_only() -> ProviderReports {
        ProviderReports::new(ReportKeys {
            zalo: None,
            esms_token: Some("s3cret".into()),
        })
    }

    #[test]
    fn the_esms_token_must_match_and_unconfigured_providers_are_unknown() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let reports = esms_only();
        let query = "token=s3cret&SMSID=abc&SendStatus=5&SendSuccess=1&SendFailed=0";
        let update = reports.decode("esms", &[], query, b"", now);
        assert!(update.is_ok(), "{update:?}");
        let wrong = reports.decode("esms", &[], "token=guess&SMSID=abc&SendStatus=5", b"", now);
        assert!(matches!(wrong, Err(ReportRejection::Unauthenticated(_))));
        let zalo = reports.decode("zalo", &[], "", b"{}", now);
        assert!(matches!(zalo, Err(ReportRejection::UnknownProvider(_))));
        let keys = ReportKeys::from_env(|name| {
            (name == "REGULARS_ESMS_CALLBACK_TOKEN").then(|| " s3cret ".to_owned())
        });
        assert_eq!(keys.esms_token.as_deref(), Some("s3cret"));
        assert!(keys.any());
    }
}
