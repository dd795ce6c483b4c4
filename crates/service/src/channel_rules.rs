//! What a channel account must hold: merging an admin's patch into the stored account
//! and checking every field (422 naming it). Pure.

use crate::channel_accounts::{ChannelAccountError, ChannelAccountPatch, invalid};
use regulars_domain::Channel;
use regulars_ports::{ChannelAccount, EsmsAccount, SmtpAccount, TwilioAccount, ZaloAccount};
use std::collections::BTreeMap;

/// The longest secret or token taken.
const MAX_SECRET: usize = 4096;
/// The longest setting taken (host names, addresses, ids).
const MAX_SETTING: usize = 254;
/// Most ZNS template mappings per account.
const MAX_TEMPLATES: usize = 200;
/// The longest template name or id.
const MAX_TEMPLATE: usize = 64;

type Result<T> = std::result::Result<T, ChannelAccountError>;

/// A required text: given (or kept), not blank, at most `max` characters, no control
/// characters (a value ends up in headers and protocol lines).
fn required(
    field: &'static str,
    given: Option<String>,
    kept: Option<&str>,
    max: usize,
) -> Result<String> {
    let value = given
        .or_else(|| kept.map(str::to_owned))
        .unwrap_or_default();
    if value.trim().is_empty() {
        return Err(invalid(field, "is required"));
    }
    checked(field, value, max)
}

/// An optional text: `None` when left out and not stored, or sent empty (cleared).
fn optional(
    field: &'static str,
    given: Option<String>,
    kept: Option<&str>,
    max: usize,
) -> Result<Option<String>> {
    match given {
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => checked(field, v, max).map(Some),
        None => Ok(kept.map(str::to_owned)),
    }
}

fn checked(field: &'static str, value: String, max: usize) -> Result<String> {
    if value.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(
            field,
            "must not contain control characters or line breaks",
        ));
    }
    if value.trim() != value {
        return Err(invalid(field, "must not start or end with spaces"));
    }
    Ok(value)
}

fn digits(field: &'static str, value: String) -> Result<String> {
    if value.len() > 32 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            field,
            "must be the numeric id Zalo shows (digits only)",
        ));
    }
    Ok(value)
}

/// Fields that belong to no provider of the patch, by name.
fn foreign(patch: &ChannelAccountPatch, provider: &str) -> Option<&'static str> {
    let given: [(&'static str, bool, &[&str]); 19] = [
        ("app_id", patch.app_id.is_some(), &["zalo"]),
        ("secret_key", patch.secret_key.is_some(), &["zalo", "esms"]),
        ("oa_id", patch.oa_id.is_some(), &["zalo"]),
        ("access_token", patch.access_token.is_some(), &["zalo"]),
        ("refresh_token", patch.refresh_token.is_some(), &["zalo"]),
        ("templates", patch.templates.is_some(), &["zalo"]),
        ("api_key", patch.api_key.is_some(), &["esms"]),
        ("brandname", patch.brandname.is_some(), &["esms"]),
        ("sms_type", patch.sms_type.is_some(), &["esms"]),
        ("account_sid", patch.account_sid.is_some(), &["twilio"]),
        ("auth_token", patch.auth_token.is_some(), &["twilio"]),
        ("from", patch.from.is_some(), &["twilio"]),
        ("host", patch.host.is_some(), &["smtp"]),
        ("port", patch.port.is_some(), &["smtp"]),
        ("tls", patch.tls.is_some(), &["smtp"]),
        ("username", patch.username.is_some(), &["smtp"]),
        ("password", patch.password.is_some(), &["smtp"]),
        ("from_address", patch.from_address.is_some(), &["smtp"]),
        ("from_name", patch.from_name.is_some(), &["smtp"]),
    ];
    given
        .iter()
        .find(|(_, set, providers)| *set && !providers.contains(&provider))
        .map(|(name, _, _)| *name)
}

/// The account `patch` makes of `current` (the brand's stored account for `channel`,
/// if any): fields left out keep their stored values while the provider stays the same.
///
/// # Errors
///
/// [`ChannelAccountError::Invalid`] naming the first field at fault.
pub(crate) fn merge(
    channel: Channel,
    current: Option<&ChannelAccount>,
    patch: ChannelAccountPatch,
) -> Result<ChannelAccount> {
    let kept_provider = current.map(ChannelAccount::provider);
    let provider: String = match (&patch.provider, channel) {
        (Some(p), _) => p.clone(),
        (None, _) if kept_provider.is_some() => kept_provider.unwrap_or_default().to_owned(),
        (None, Channel::Zalo) => "zalo".to_owned(),
        (None, Channel::Sms) => "esms".to_owned(),
        (None, Channel::Email) => "smtp".to_owned(),
    };
    let allowed: &[&str] = match channel {
        Channel::Zalo => &["zalo"],
        Channel::Sms => &["esms", "twilio"],
        Channel::Email => &["smtp"],
    };
    if !allowed.contains(&provider.as_str()) {
        return Err(invalid(
            "provider",
            format!("must be {} for this channel", allowed.join(" or ")),
        ));
    }
    if let Some(field) = foreign(&patch, &provider) {
        return Err(invalid(
            field,
            format!("is not a field of a {provider} account"),
        ));
    }
    // Only an account of the same provider lends its stored values.
    let same = current.filter(|c| c.provider() == provider);
    match provider.as_str() {
        "zalo" => zalo(patch, same),
        "esms" => esms(patch, same),
        "twilio" => twilio(patch, same),
        _ => smtp(patch, same),
    }
}

fn zalo(p: ChannelAccountPatch, current: Option<&ChannelAccount>) -> Result<ChannelAccount> {
    let c = match current {
        Some(ChannelAccount::Zalo(z)) => Some(z),
        _ => None,
    };
    let templates = p
        .templates
        .or_else(|| c.map(|c| c.templates.clone()))
        .unwrap_or_default();
    if templates.len() > MAX_TEMPLATES {
        return Err(invalid(
            "templates",
            format!("at most {MAX_TEMPLATES} entries"),
        ));
    }
    let mut checked_templates = BTreeMap::new();
    for (name, id) in templates {
        let name = checked("templates", name, MAX_TEMPLATE)?;
        let id = checked("templates", id, MAX_TEMPLATE)?;
        if name.is_empty() || id.is_empty() {
            return Err(invalid("templates", "names and ids must not be empty"));
        }
        checked_templates.insert(name, id);
    }
    Ok(ChannelAccount::Zalo(ZaloAccount {
        app_id: digits(
            "app_id",
            required("app_id", p.app_id, c.map(|c| c.app_id.as_str()), 32)?,
        )?,
        secret_key: required(
            "secret_key",
            p.secret_key,
            c.map(|c| c.secret_key.as_str()),
            MAX_SECRET,
        )?,
        oa_id: digits(
            "oa_id",
            required("oa_id", p.oa_id, c.map(|c| c.oa_id.as_str()), 32)?,
        )?,
        access_token: required(
            "access_token",
            p.access_token,
            c.map(|c| c.access_token.as_str()),
            MAX_SECRET,
        )?,
        refresh_token: required(
            "refresh_token",
            p.refresh_token,
            c.map(|c| c.refresh_token.as_str()),
            MAX_SECRET,
        )?,
        templates: checked_templates,
    }))
}

fn esms(p: ChannelAccountPatch, current: Option<&ChannelAccount>) -> Result<ChannelAccount> {
    let c = match current {
        Some(ChannelAccount::Esms(e)) => Some(e),
        _ => None,
    };
    let brandname = required(
        "brandname",
        p.brandname,
        c.map(|c| c.brandname.as_str()),
        32,
    )?;
    if brandname.contains(' ') {
        return Err(invalid(
            "brandname",
            "must be the registered brandname, without spaces",
        ));
    }
    let sms_type = p
        .sms_type
        .or_else(|| c.map(|c| c.sms_type.clone()))
        .unwrap_or_else(|| "2".to_owned());
    if sms_type != "2" {
        return Err(invalid(
            "sms_type",
            "must be \"2\" (customer care): eSMS's advertising type \"1\" has its own bulk endpoint, which this sender does not use",
        ));
    }
    Ok(ChannelAccount::Esms(EsmsAccount {
        api_key: required(
            "api_key",
            p.api_key,
            c.map(|c| c.api_key.as_str()),
            MAX_SECRET,
        )?,
        secret_key: required(
            "secret_key",
            p.secret_key,
            c.map(|c| c.secret_key.as_str()),
            MAX_SECRET,
        )?,
        brandname,
        sms_type,
    }))
}

fn twilio(p: ChannelAccountPatch, current: Option<&ChannelAccount>) -> Result<ChannelAccount> {
    let c = match current {
        Some(ChannelAccount::Twilio(t)) => Some(t),
        _ => None,
    };
    let sid = required(
        "account_sid",
        p.account_sid,
        c.map(|c| c.account_sid.as_str()),
        64,
    )?;
    if !sid.starts_with("AC") || !sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(invalid(
            "account_sid",
            "must be the account SID (AC followed by letters and digits)",
        ));
    }
    let from = required("from", p.from, c.map(|c| c.from.as_str()), 64)?;
    if from.contains(' ') {
        return Err(invalid(
            "from",
            "must be a sender ID, a +number or a messaging service SID (MG…)",
        ));
    }
    Ok(ChannelAccount::Twilio(TwilioAccount {
        account_sid: sid,
        auth_token: required(
            "auth_token",
            p.auth_token,
            c.map(|c| c.auth_token.as_str()),
            MAX_SECRET,
        )?,
        from,
    }))
}

fn smtp(p: ChannelAccountPatch, current: Option<&ChannelAccount>) -> Result<ChannelAccount> {
    let c = match current {
        Some(ChannelAccount::Smtp(m)) => Some(m),
        _ => None,
    };
    let host = required("host", p.host, c.map(|c| c.host.as_str()), MAX_SETTING)?;
    if host.contains(' ') || host.contains('/') || host.contains('@') {
        return Err(invalid("host", "must be a host name or address"));
    }
    let port = match p.port.or_else(|| c.and_then(|c| c.port)) {
        Some(0) => return Err(invalid("port", "must be 1 to 65535")),
        port => port,
    };
    let tls = required("tls", p.tls, c.map(|c| c.tls.as_str()), 16)?;
    if !["none", "starttls", "implicit"].contains(&tls.as_str()) {
        return Err(invalid("tls", "must be none, starttls or implicit"));
    }
    let username = optional(
        "username",
        p.username,
        c.and_then(|c| c.username.as_deref()),
        MAX_SETTING,
    )?;
    let password = optional(
        "password",
        p.password,
        c.and_then(|c| c.password.as_deref()),
        MAX_SECRET,
    )?;
    if username.is_some() && password.is_none() {
        return Err(invalid("password", "is required with a username"));
    }
    if password.is_some() && username.is_none() {
        return Err(invalid("username", "is required with a password"));
    }
    if tls == "none" && username.is_some() && !is_loopback_host(&host) {
        return Err(invalid(
            "tls",
            "a login must not go over an unencrypted connection: use starttls or implicit \
             (only a relay on this machine, localhost or a loopback address, may take one)",
        ));
    }
    let from_address = required(
        "from_address",
        p.from_address,
        c.map(|c| c.from_address.as_str()),
        MAX_SETTING,
    )?;
    let well_formed = from_address.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.contains('@')
    }) && !from_address.contains(' ')
        && !from_address.contains(['<', '>', ',', ';', '"']);
    if !well_formed {
        return Err(invalid(
            "from_address",
            "must be an email address (name@example.com)",
        ));
    }
    let from_name = optional(
        "from_name",
        p.from_name,
        c.and_then(|c| c.from_name.as_deref()),
        100,
    )?;
    Ok(ChannelAccount::Smtp(SmtpAccount {
        host,
        port,
        tls,
        username,
        password,
        from_address,
        from_name,
    }))
}

/// Whether `host` names this machine: `localhost` (any case) or a loopback address
/// (`127.0.0.0/8`, `::1`, bracketed or not, IPv4-mapped included). A login to such a
/// relay never crosses a network, so it may go without TLS. Anything else, including
/// names that merely start or end like one (`127.0.0.1.example.com`, `localhost.evil`),
/// is not loopback: a name is resolved by DNS, which can point it anywhere.
#[must_use]
fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::channel_accounts::ChannelAccountView;
    use proptest::prelude::*;
    use regulars_domain::BrandId;
    use regulars_ports::StoredChannelAccount;
    use time::OffsetDateTime;

    fn secret() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_-]{16,64}"
    }

    fn view(account: &ChannelAccount) -> String {
        let stored = StoredChannelAccount {
            brand_id: BrandId::from_bytes([1; 16]),
            account: account.clone(),
            version: 1,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        };
        serde_json::to_string(&ChannelAccountView::of(&stored)).unwrap()
    }

    proptest! {
        /// Whatever the secrets, a view never holds one, and a patch that leaves them
        /// out keeps every one of them.
        #[test]
        fn secrets_are_write_only_and_kept(
            api_key in secret(), esms_secret in secret(), brandname in "[A-Z]{3,11}",
            zalo_secret in secret(), access in secret(), refresh in secret(),
            password in secret(),
        ) {
            let accounts = [
                (Channel::Sms, ChannelAccountPatch {
                    api_key: Some(api_key.clone()), secret_key: Some(esms_secret.clone()),
                    brandname: Some(brandname.clone()), ..ChannelAccountPatch::default()
                }, vec![api_key.clone(), esms_secret.clone()]),
                (Channel::Zalo, ChannelAccountPatch {
                    app_id: Some("4301".into()), oa_id: Some("99".into()),
                    secret_key: Some(zalo_secret.clone()), access_token: Some(access.clone()),
                    refresh_token: Some(refresh.clone()), ..ChannelAccountPatch::default()
                }, vec![zalo_secret.clone(), access.clone(), refresh.clone()]),
                (Channel::Email, ChannelAccountPatch {
                    host: Some("smtp.example.vn".into()), tls: Some("starttls".into()),
                    username: Some("shop".into()), password: Some(password.clone()),
                    from_address: Some("hi@shop.example.vn".into()),
                    ..ChannelAccountPatch::default()
                }, vec![password.clone()]),
            ];
            for (channel, patch, secrets) in accounts {
                let account = merge(channel, None, patch).unwrap();
                let shown = view(&account);
                for s in &secrets {
                    prop_assert!(!shown.contains(s.as_str()), "{shown}");
                }
                // A patch naming no secret keeps them all.
                let kept = merge(channel, Some(&account), ChannelAccountPatch::default()).unwrap();
                prop_assert_eq!(&kept, &account);
                let given: Vec<&str> = kept.secrets().into_iter().filter_map(|(_, v)| v).collect();
                for s in &secrets {
                    prop_assert!(given.contains(&s.as_str()));
                }
            }
        }

        /// A value with a control character is refused, naming its field, whichever
        /// field it is in.
        #[test]
        fn control_characters_are_refused(prefix in "[a-z]{1,8}", c in prop::sample::select(vec!['\n', '\r', '\u{0}', '\t'])) {
            let bad = format!("{prefix}{c}x");
            let patch = ChannelAccountPatch {
                api_key: Some("k".repeat(16)), secret_key: Some("s".repeat(16)),
                brandname: Some(bad), ..ChannelAccountPatch::default()
            };
            match merge(Channel::Sms, None, patch) {
                Err(ChannelAccountError::Invalid { field, .. }) => prop_assert_eq!(field, "brandname"),
                other => prop_assert!(false, "{other:?}"),
            }
        }

        /// A login without TLS is taken only for a relay on this machine: every loopback
        /// form is taken, and any other name or address is refused naming `tls`.
        #[test]
        fn a_plain_login_goes_only_to_a_loopback_relay(
            loopback in prop_oneof![
                (0u8..=255, 0u8..=255, 0u8..=255).prop_map(|(a, b, c)| format!("127.{a}.{b}.{c}")),
                Just("localhost".to_owned()), Just("LocalHost".to_owned()),
                Just("::1".to_owned()), Just("[::1]".to_owned()),
                Just("0:0:0:0:0:0:0:1".to_owned()), Just("::ffff:127.0.0.1".to_owned()),
            ],
            other in prop_oneof![
                "[a-z]{1,12}\\.example\\.vn",
                (1u8..=255, 0u8..=255).prop_filter("not loopback", |(a, _)| *a != 127)
                    .prop_map(|(a, b)| format!("{a}.{b}.0.1")),
                Just("127.0.0.1.example.com".to_owned()), Just("localhost.evil".to_owned()),
                Just("localhost.".to_owned()), Just("evil-localhost".to_owned()),
                Just("127.1".to_owned()), Just("::2".to_owned()), Just("[::1".to_owned()),
                Just("0.0.0.0".to_owned()), Just("::".to_owned()),
            ],
        ) {
            let patch = |host: &str| ChannelAccountPatch {
                host: Some(host.to_owned()), port: Some(2525), tls: Some("none".into()),
                username: Some("shop".into()), password: Some("secret".into()),
                from_address: Some("hi@shop.example.vn".into()),
                ..ChannelAccountPatch::default()
            };
            prop_assert!(merge(Channel::Email, None, patch(&loopback)).is_ok(), "{loopback}");
            match merge(Channel::Email, None, patch(&other)) {
                Err(ChannelAccountError::Invalid { field, .. }) => prop_assert_eq!(field, "tls"),
                got => prop_assert!(false, "{other}: {got:?}"),
            }
            // Without a login, or with TLS, any host is fine.
            let mut no_login = patch(&other);
            no_login.username = None;
            no_login.password = None;
            prop_assert!(merge(Channel::Email, None, no_login).is_ok(), "{other}");
            let mut with_tls = patch(&other);
            with_tls.tls = Some("starttls".into());
            prop_assert!(merge(Channel::Email, None, with_tls).is_ok(), "{other}");
        }
    }
}
