//! Senders over a brand's own channel accounts ([`ChannelSenderFactory`]): the account
//! gives the credentials and the sender identity; the deployment's `[senders]` gives the
//! provider endpoints, the request timeout and, for eSMS, the delivery-report
//! `callback_url` (vendor defaults where the deployment configures no such provider).

use crate::SmtpTls;
use crate::config::SendersConfig;
use crate::email::{SmtpSender, SmtpSettings};
use crate::esms::{Esms, EsmsSettings};
use crate::twilio::{TwilioSettings, TwilioSms};
use crate::zalo::{ZaloCredentials, ZaloSettings, ZaloZns};
use regulars_domain::BrandId;
use regulars_ports::{ChannelAccount, ChannelSenderFactory, MessageSender, TokenStore};
use std::sync::Arc;
use std::time::Duration;

/// Builds senders over brands' own accounts, with the deployment's endpoints and
/// timeout, and Zalo tokens kept in `tokens` (per brand and app id) when given.
#[derive(Clone)]
pub struct BrandSenderFactory {
    config: SendersConfig,
    tokens: Option<Arc<dyn TokenStore>>,
}

impl std::fmt::Debug for BrandSenderFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrandSenderFactory").finish_non_exhaustive()
    }
}

impl BrandSenderFactory {
    /// Over the deployment's `[senders]` configuration.
    #[must_use]
    pub fn new(config: SendersConfig, tokens: Option<Arc<dyn TokenStore>>) -> Self {
        BrandSenderFactory { config, tokens }
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.config.timeout_secs.max(1))
    }
}

/// `"Name" <address>`, the name's quotes and backslashes dropped.
fn mailbox(address: &str, name: Option<&str>) -> String {
    match name.map(|n| n.replace(['"', '\\'], "")) {
        Some(n) if !n.trim().is_empty() => format!("\"{n}\" <{address}>"),
        _ => address.to_owned(),
    }
}

impl ChannelSenderFactory for BrandSenderFactory {
    fn sender(
        &self,
        brand: BrandId,
        account: &ChannelAccount,
    ) -> Result<Arc<dyn MessageSender>, String> {
        let timeout = self.timeout();
        match account {
            ChannelAccount::Zalo(z) => {
                let mut settings = ZaloSettings {
                    timeout,
                    ..ZaloSettings::default()
                };
                if let Some(deployment) = &self.config.zalo {
                    settings.api_base.clone_from(&deployment.api_base);
                    settings.oauth_base.clone_from(&deployment.oauth_base);
                    settings.templates.clone_from(&deployment.templates);
                }
                if !z.templates.is_empty() {
                    settings.templates.clone_from(&z.templates);
                }
                let sender = ZaloZns::new(
                    settings,
                    ZaloCredentials {
                        access_token: z.access_token.clone(),
                        refresh_token: Some(z.refresh_token.clone()),
                        app_id: Some(z.app_id.clone()),
                        secret_key: Some(z.secret_key.clone()),
                    },
                )
                .map_err(|e| format!("the brand's Zalo account cannot be used: {e}"))?;
                let sender = match &self.tokens {
                    Some(store) => sender.with_token_store(store.clone(), Some(brand)),
                    None => sender,
                };
                Ok(Arc::new(sender))
            }
            ChannelAccount::Esms(e) => {
                let mut settings = EsmsSettings::new(e.brandname.clone());
                settings.sms_type.clone_from(&e.sms_type);
                settings.timeout = timeout;
                if let Some(deployment) = &self.config.sms {
                    settings.base_url.clone_from(&deployment.base_url);
                    settings.callback_url.clone_from(&deployment.callback_url);
                }
                let sender = Esms::new(settings, e.api_key.clone(), e.secret_key.clone())
                    .map_err(|e| format!("the brand's eSMS account cannot be used: {e}"))?;
                Ok(Arc::new(sender))
            }
            ChannelAccount::Twilio(t) => {
                let base_url = self.config.twilio.as_ref().map_or_else(
                    || "https://api.twilio.com".to_owned(),
                    |d| d.base_url.clone(),
                );
                let sender = TwilioSms::new(
                    TwilioSettings {
                        base_url,
                        account_sid: t.account_sid.clone(),
                        from: t.from.clone(),
                        status_callback: None,
                        timeout,
                    },
                    t.auth_token.clone(),
                )
                .map_err(|e| format!("the brand's Twilio account cannot be used: {e}"))?;
                Ok(Arc::new(sender))
            }
            ChannelAccount::Smtp(m) => {
                let tls = match m.tls.as_str() {
                    "none" => SmtpTls::None,
                    "implicit" => SmtpTls::Implicit,
                    _ => SmtpTls::Starttls,
                };
                let sender = SmtpSender::new(SmtpSettings {
                    host: m.host.clone(),
                    port: m.port,
                    tls,
                    from: mailbox(&m.from_address, m.from_name.as_deref()),
                    username: m.username.clone(),
                    password: m.password.clone(),
                    timeout,
                })
                .map_err(|e| format!("the brand's SMTP account cannot be used: {e}"))?;
                Ok(Arc::new(sender))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use regulars_domain::Channel;
    use regulars_ports::{EsmsAccount, SmtpAccount};

    #[test]
    fn a_brand_account_builds_a_sender_of_its_channel() {
        let factory = BrandSenderFactory::new(SendersConfig::default(), None);
        let brand = BrandId::from_bytes([7; 16]);
        let sms = factory
            .sender(
                brand,
                &ChannelAccount::Esms(EsmsAccount {
                    api_key: "k".into(),
                    secret_key: "s".into(),
                    brandname: "CAPHE".into(),
                    sms_type: "2".into(),
                }),
            )
            .unwrap();
        assert_eq!(sms.channel(), Channel::Sms);
        let email = factory
            .sender(
                brand,
                &ChannelAccount::Smtp(SmtpAccount {
                    host: "smtp.example.com".into(),
                    port: None,
                    tls: "starttls".into(),
                    username: Some("u".into()),
                    password: Some("p".into()),
                    from_address: "shop@example.com".into(),
                    from_name: Some("Cà Phê \"Sữa\"".into()),
                }),
            )
            .unwrap();
        assert_eq!(email.channel(), Channel::Email);
    }
}
