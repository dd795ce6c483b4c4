//! A brand's own channel accounts (admin): `GET /v1/brand/channels`,
//! `GET/PUT/DELETE /v1/brand/channels/{channel}`. Secrets are write-only: answers say
//! whether each is set and give a fingerprint, never the value.

use crate::AppState;
use crate::auth::Caller;
use crate::body::Json;
use crate::error::{ApiError, ErrorBody};
use actix_web::{HttpResponse, web};
use regulars_service::{ChannelAccountPatch, ChannelAccountView, parse_channel};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A channel account to set. Fields left out keep their stored values while the
/// provider stays the same (secrets need not be sent again); an optional field sent as
/// `""` is cleared. Which fields a provider takes: `zalo`: `app_id`, `secret_key`,
/// `oa_id`, `access_token`, `refresh_token`, `templates`; `esms`: `api_key`,
/// `secret_key`, `brandname`, `sms_type`; `twilio`: `account_sid`, `auth_token`, `from`;
/// `smtp`: `host`, `port`, `tls`, `username`, `password`, `from_address`, `from_name`.
#[derive(Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChannelAccountIn {
    /// `zalo` (channel `zalo`), `esms` or `twilio` (channel `sms`), `smtp` (channel
    /// `email`); left out: the stored one, else `zalo`, `esms`, `smtp`.
    #[schema(example = "esms")]
    provider: Option<String>,
    /// Zalo app id (digits).
    app_id: Option<String>,
    /// Zalo app secret key, or eSMS `SecretKey` (write-only).
    secret_key: Option<String>,
    /// Zalo Official Account id (digits).
    oa_id: Option<String>,
    /// Zalo access token of the OA admin's grant (write-only).
    access_token: Option<String>,
    /// Zalo refresh token of the grant (write-only; single use, rotated by refreshes).
    refresh_token: Option<String>,
    /// Our template name → this OA's ZNS template id.
    templates: Option<BTreeMap<String, String>>,
    /// eSMS `ApiKey` (write-only).
    api_key: Option<String>,
    /// eSMS registered brandname.
    brandname: Option<String>,
    /// eSMS `SmsType`: `"2"` (customer care) only.
    sms_type: Option<String>,
    /// Twilio account SID (`AC…`).
    account_sid: Option<String>,
    /// Twilio auth token (write-only).
    auth_token: Option<String>,
    /// Twilio sender: alphanumeric sender ID, `+number` or `MG…`.
    from: Option<String>,
    /// SMTP host.
    host: Option<String>,
    /// SMTP port; left out: by `tls` (25, 587, 465).
    #[schema(minimum = 1, maximum = 65535)]
    port: Option<u16>,
    /// SMTP security: `none`, `starttls` or `implicit`.
    tls: Option<String>,
    /// SMTP login.
    username: Option<String>,
    /// SMTP password (write-only).
    password: Option<String>,
    /// The `From` address.
    from_address: Option<String>,
    /// The `From` display name.
    from_name: Option<String>,
}

impl From<ChannelAccountIn> for ChannelAccountPatch {
    fn from(b: ChannelAccountIn) -> Self {
        ChannelAccountPatch {
            provider: b.provider,
            app_id: b.app_id,
            secret_key: b.secret_key,
            oa_id: b.oa_id,
            access_token: b.access_token,
            refresh_token: b.refresh_token,
            templates: b.templates,
            api_key: b.api_key,
            brandname: b.brandname,
            sms_type: b.sms_type,
            account_sid: b.account_sid,
            auth_token: b.auth_token,
            from: b.from,
            host: b.host,
            port: b.port,
            tls: b.tls,
            username: b.username,
            password: b.password,
            from_address: b.from_address,
            from_name: b.from_name,
        }
    }
}

/// Whether a secret is set, and its fingerprint.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct SecretStateOut {
    /// Whether a value is stored.
    set: bool,
    /// `sha256:` and the first 8 hexadecimal digits of the value's SHA-256; absent when
    /// not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "sha256:9f86d081")]
    fingerprint: Option<String>,
}

/// A brand's own channel account, secrets shown only as set or not.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ChannelAccountOut {
    /// `zalo`, `sms` or `email`.
    channel: String,
    /// `zalo`, `esms`, `twilio` or `smtp`.
    provider: String,
    /// Moves forward with every change.
    version: i64,
    /// When it was last set (RFC 3339).
    updated_at: String,
    /// The settings that are not secret, by field.
    #[schema(value_type = Object)]
    settings: BTreeMap<String, serde_json::Value>,
    /// The secrets, by field.
    secrets: BTreeMap<String, SecretStateOut>,
}

/// The brand's own channel accounts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ChannelAccountsOut {
    /// One per channel the brand has its own account for; the others send through the
    /// deployment's default.
    items: Vec<ChannelAccountOut>,
}

impl From<ChannelAccountView> for ChannelAccountOut {
    fn from(v: ChannelAccountView) -> Self {
        ChannelAccountOut {
            channel: v.channel.to_owned(),
            provider: v.provider.to_owned(),
            version: v.version,
            updated_at: v
                .updated_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            settings: v
                .settings
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            secrets: v
                .secrets
                .into_iter()
                .map(|(k, s)| {
                    (
                        k.to_owned(),
                        SecretStateOut {
                            set: s.set,
                            fingerprint: s.fingerprint,
                        },
                    )
                })
                .collect(),
        }
    }
}

/// The brand's own channel accounts (admin).
#[utoipa::path(get, path = "/v1/brand/channels", tag = "brand", security(("api_key" = [])),
    responses((status = 200, body = ChannelAccountsOut), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let items = state.services.channel_accounts(brand).await?;
    Ok(HttpResponse::Ok().json(ChannelAccountsOut {
        items: items.into_iter().map(ChannelAccountOut::from).collect(),
    }))
}

/// The brand's own account for a channel (admin); 404 when it sends through the
/// deployment's default.
#[utoipa::path(get, path = "/v1/brand/channels/{channel}", tag = "brand", security(("api_key" = [])),
    params(("channel" = String, Path, description = "zalo, sms or email")),
    responses((status = 200, body = ChannelAccountOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let channel = parse_channel(&path)?;
    let view = state.services.channel_account(brand, channel).await?;
    Ok(HttpResponse::Ok().json(ChannelAccountOut::from(view)))
}

/// Sets the brand's own account for a channel (admin): its messages on that channel go
/// through it from the next delivery round. Secrets are write-only.
#[utoipa::path(put, path = "/v1/brand/channels/{channel}", tag = "brand", security(("api_key" = [])),
    params(("channel" = String, Path, description = "zalo, sms or email")), request_body = ChannelAccountIn,
    responses((status = 200, body = ChannelAccountOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn put(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Json<ChannelAccountIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let channel = parse_channel(&path)?;
    let view = state
        .services
        .set_channel_account(brand, channel, body.0.into())
        .await?;
    Ok(HttpResponse::Ok().json(ChannelAccountOut::from(view)))
}

/// Removes the brand's own account for a channel (admin): its messages go through the
/// deployment's default again.
#[utoipa::path(delete, path = "/v1/brand/channels/{channel}", tag = "brand", security(("api_key" = [])),
    params(("channel" = String, Path, description = "zalo, sms or email")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let channel = parse_channel(&path)?;
    state
        .services
        .delete_channel_account(brand, channel)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

impl std::fmt::Debug for ChannelAccountIn {
    /// Never the values: they hold secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelAccountIn").finish_non_exhaustive()
    }
}
