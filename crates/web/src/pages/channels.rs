//! `/dashboard/channels`: an admin's forms for the brand's own channel accounts (Zalo OA,
//! SMS brandname account, SMTP sender). Secrets are write-only: the page shows whether
//! each is set and its fingerprint, and a secret field left empty keeps the stored value.

use crate::WebState;
use crate::i18n::Lang;
use crate::render::{Fail, Nav, dashboard, ok};
use crate::session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::Channel;
use regulars_service::{
    ChannelAccountError, ChannelAccountPatch, ChannelAccountView, channel_key, parse_channel,
};
use serde::Deserialize;

/// The page's words.
struct Words {
    title: &'static str,
    intro: &'static str,
    default_account: &'static str,
    own_account: &'static str,
    set: &'static str,
    not_set: &'static str,
    keep_secret: &'static str,
    save: &'static str,
    remove: &'static str,
    provider: &'static str,
}

const EN: Words = Words {
    title: "Channel accounts",
    intro: "Messages go through the brand's own account for a channel when it has one, else through the server's default account. Secrets are never shown again once saved; leave a secret empty to keep it.",
    default_account: "The server's default account",
    own_account: "The brand's own account",
    set: "set",
    not_set: "not set",
    keep_secret: "unchanged if left empty",
    save: "Save",
    remove: "Remove (use the default)",
    provider: "Provider",
};

const VI: Words = Words {
    title: "Tài khoản kênh gửi",
    intro: "Tin nhắn đi qua tài khoản riêng của thương hiệu cho kênh đó nếu có, nếu không thì qua tài khoản mặc định của máy chủ. Khoá bí mật không bao giờ được hiển thị lại sau khi lưu; để trống để giữ nguyên.",
    default_account: "Tài khoản mặc định của máy chủ",
    own_account: "Tài khoản riêng của thương hiệu",
    set: "đã đặt",
    not_set: "chưa đặt",
    keep_secret: "để trống để giữ nguyên",
    save: "Lưu",
    remove: "Xoá (dùng mặc định)",
    provider: "Nhà cung cấp",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

/// The fields of each provider, secrets marked.
fn fields(provider: &str) -> &'static [(&'static str, bool)] {
    match provider {
        "zalo" => &[
            ("app_id", false),
            ("oa_id", false),
            ("secret_key", true),
            ("access_token", true),
            ("refresh_token", true),
        ],
        "esms" => &[
            ("brandname", false),
            ("api_key", true),
            ("secret_key", true),
        ],
        "twilio" => &[
            ("account_sid", false),
            ("from", false),
            ("auth_token", true),
        ],
        _ => &[
            ("host", false),
            ("port", false),
            ("tls", false),
            ("username", false),
            ("from_address", false),
            ("from_name", false),
            ("password", true),
        ],
    }
}

fn providers(channel: Channel) -> &'static [&'static str] {
    match channel {
        Channel::Zalo => &["zalo"],
        Channel::Sms => &["esms", "twilio"],
        Channel::Email => &["smtp"],
    }
}

fn setting(view: Option<&ChannelAccountView>, provider: &str, field: &str) -> String {
    view.filter(|v| v.provider == provider)
        .and_then(|v| v.settings.get(field))
        .map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        })
        .unwrap_or_default()
}

fn channel_section(
    session: &Session,
    channel: Channel,
    view: Option<&ChannelAccountView>,
) -> Markup {
    let w = words(session.lang);
    let key = channel_key(channel);
    html! {
        section #(format!("channel-{key}")) {
            h2 { (key) }
            @match view {
                Some(v) => {
                    p.own { (w.own_account) ": " strong { (v.provider) } }
                    ul.secrets {
                        @for (name, state) in &v.secrets {
                            li {
                                (name) ": "
                                @if state.set { (w.set) " " code { (state.fingerprint.as_deref().unwrap_or("")) } }
                                @else { (w.not_set) }
                            }
                        }
                    }
                    form method="post" action=(format!("/dashboard/channels/{key}/delete")) {
                        input type="hidden" name="csrf" value=(session.csrf);
                        button type="submit" #(format!("remove-{key}")) { (w.remove) }
                    }
                }
                None => { p.muted { (w.default_account) } }
            }
            @for provider in providers(channel) {
                form method="post" action=(format!("/dashboard/channels/{key}")) #(format!("set-{provider}")) {
                    input type="hidden" name="csrf" value=(session.csrf);
                    input type="hidden" name="provider" value=(provider);
                    p { (w.provider) ": " strong { (provider) } }
                    @for (field, secret) in fields(provider) {
                        label {
                            (field) " "
                            @if *secret {
                                input type="password" name=(field) autocomplete="off" placeholder=(w.keep_secret);
                            } @else {
                                input type="text" name=(field) value=(setting(view, provider, field));
                            }
                        }
                    }
                    button type="submit" { (w.save) }
                }
            }
        }
    }
}

async fn render(
    req: &HttpRequest,
    state: &WebState,
    session: &Session,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, Fail> {
    let w = words(session.lang);
    let accounts = state
        .services
        .channel_accounts(session.brand())
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let of = |channel: Channel| accounts.iter().find(|a| a.channel == channel_key(channel));
    let body = html! {
        p.muted { (w.intro) }
        @if let Some(error) = &error { p.error #channels-error { (error) } }
        @for channel in [Channel::Zalo, Channel::Sms, Channel::Email] {
            (channel_section(session, channel, of(channel)))
        }
    };
    let mut reply = ok(req, dashboard(session, Nav::Channels, w.title, body));
    *reply.status_mut() = status;
    Ok(reply)
}

/// `GET /dashboard/channels` (admins only).
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
) -> Result<HttpResponse, Fail> {
    let session = Session::admin(&req, &state).await?;
    render(&req, &state, &session, StatusCode::OK, None).await
}

/// A channel account form: every field as typed; an empty field is left out (a secret
/// keeps its stored value).
#[derive(Default, Deserialize)]
pub(crate) struct AccountForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    app_id: String,
    #[serde(default)]
    oa_id: String,
    #[serde(default)]
    secret_key: String,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    refresh_token: String,
    #[serde(default)]
    brandname: String,
    #[serde(default)]
    api_key: String,
    #[serde(default)]
    account_sid: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    auth_token: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    tls: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    from_address: String,
    #[serde(default)]
    from_name: String,
    #[serde(default)]
    password: String,
}

fn given(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

impl AccountForm {
    fn patch(&self) -> Result<ChannelAccountPatch, String> {
        let port = match self.port.trim() {
            "" => None,
            p => Some(
                p.parse::<u16>()
                    .map_err(|_| "port: must be 1 to 65535".to_owned())?,
            ),
        };
        Ok(ChannelAccountPatch {
            provider: given(&self.provider),
            app_id: given(&self.app_id),
            secret_key: given(&self.secret_key),
            oa_id: given(&self.oa_id),
            access_token: given(&self.access_token),
            refresh_token: given(&self.refresh_token),
            templates: None,
            api_key: given(&self.api_key),
            brandname: given(&self.brandname),
            sms_type: None,
            account_sid: given(&self.account_sid),
            auth_token: given(&self.auth_token),
            from: given(&self.from),
            host: given(&self.host),
            port,
            tls: given(&self.tls),
            username: given(&self.username),
            password: given(&self.password),
            from_address: given(&self.from_address),
            from_name: given(&self.from_name),
        })
    }
}

fn back() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/dashboard/channels"))
        .finish()
}

async fn refused(
    req: &HttpRequest,
    state: &WebState,
    session: &Session,
    error: ChannelAccountError,
) -> Result<HttpResponse, Fail> {
    match error {
        ChannelAccountError::Invalid { .. } | ChannelAccountError::NotFound(_) => {
            let status = if matches!(error, ChannelAccountError::NotFound(_)) {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            render(req, state, session, status, Some(error.to_string())).await
        }
        other => Err(Fail::internal(session.lang, &other)),
    }
}

/// `POST /dashboard/channels/{channel}`: sets the brand's own account for the channel.
pub(crate) async fn set(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    session.authorise_change(&state, &form.csrf)?;
    let channel = match parse_channel(&path) {
        Ok(channel) => channel,
        Err(e) => return refused(&req, &state, &session, e).await,
    };
    let patch = match form.patch() {
        Ok(patch) => patch,
        Err(message) => {
            return render(
                &req,
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(message),
            )
            .await;
        }
    };
    match state
        .services
        .set_channel_account(session.brand(), channel, patch)
        .await
    {
        Ok(_) => Ok(back()),
        Err(e) => refused(&req, &state, &session, e).await,
    }
}

/// The remove form.
#[derive(Debug, Deserialize)]
pub(crate) struct RemoveForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /dashboard/channels/{channel}/delete`: removes the brand's own account.
pub(crate) async fn remove(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<RemoveForm>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    session.authorise_change(&state, &form.csrf)?;
    let result = match parse_channel(&path) {
        Ok(channel) => {
            state
                .services
                .delete_channel_account(session.brand(), channel)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(back()),
        Err(e) => refused(&req, &state, &session, e).await,
    }
}

impl std::fmt::Debug for AccountForm {
    /// Never the values: they hold secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountForm").finish_non_exhaustive()
    }
}
