//! Signing in and out, and the session every dashboard page is shown for.
//!
//! The key is checked exactly as the API checks it ([`Services::authenticate`]); the
//! cookie then holds the brand and key ids, the key's session epoch and an expiry,
//! signed. Every request looks the key up again, so revoking it ends its sessions at
//! once; signing out bumps the key's session epoch on the server, so the cookie (and
//! any copy of it) stops working even before it expires.
//!
//! [`Services::authenticate`]: regulars_service::Services::authenticate

use crate::WebState;
use crate::cookies;
use crate::i18n::Lang;
use crate::render::{Fail, document, ok};
use crate::sign::SessionClaims;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use maud::{Markup, html};
use regulars_domain::BrandId;
use regulars_ports::Role;
use regulars_service::{AccessError, AuthError, Scope};
use serde::Deserialize;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "regulars_session";
/// The cookie binding the sign-in form to the browser that was shown it.
pub const LOGIN_COOKIE: &str = "regulars_login";
/// How long a sign-in form stays good, in seconds.
const LOGIN_FORM_TTL: i64 = 3600;

/// A signed-in dashboard user.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// What the cookie says.
    pub claims: SessionClaims,
    /// The key's role, as stored now.
    pub role: Role,
    /// The locations the session's pages may show (a manager's; the brand otherwise).
    pub scope: Scope,
    /// The interface language.
    pub lang: Lang,
    /// The CSRF token forms of this session carry.
    pub csrf: String,
    /// The brand's campaign results are simulated (the demo's brand): every page says so.
    pub simulated: bool,
    cookie: String,
}

impl Session {
    /// The session of a page that shows the whole brand, or a redirect to the sign-in
    /// page. A manager's session, limited to its locations, is refused (403): pages that
    /// limit what they show to the session's [`scope`](Session::scope) take
    /// [`Session::scoped`] instead.
    pub(crate) async fn of(req: &HttpRequest, state: &WebState) -> Result<Session, Fail> {
        let session = Session::scoped(req, state).await?;
        if !session.scope.is_brand() {
            return Err(Fail::forbidden(
                session.lang,
                session.lang.text().forbidden_body,
            ));
        }
        Ok(session)
    }

    /// The session of a request (every dashboard role), or a redirect to the sign-in
    /// page; for pages that show only what [`scope`](Session::scope) covers.
    pub(crate) async fn scoped(req: &HttpRequest, state: &WebState) -> Result<Session, Fail> {
        let lang = Lang::of(req);
        let to_login = || Fail::redirect("/dashboard/login");
        let cookie = cookies::get(req, SESSION_COOKIE).ok_or_else(to_login)?;
        let claims = state
            .keys()
            .open_session(&cookie, state.now())
            .ok_or_else(to_login)?;
        // A session spends its key's requests, like the API does.
        state
            .limit_key(claims.key)
            .map_err(|seconds| Fail::too_many(lang, seconds))?;
        let keys = match state.services.api_keys(claims.brand).await {
            Ok(keys) => keys,
            Err(AccessError::UnknownBrand(_)) => return Err(to_login()),
            Err(other) => return Err(Fail::internal(lang, &other)),
        };
        let key = keys
            .iter()
            .find(|k| k.id == claims.key && k.revoked_at.is_none())
            .ok_or_else(to_login)?;
        if key.role == Role::Pos {
            return Err(to_login());
        }
        match state.services.session_epoch(claims.brand, claims.key).await {
            Ok(Some(epoch)) if epoch == claims.epoch => {}
            Ok(_) | Err(AccessError::UnknownBrand(_)) => return Err(to_login()),
            Err(other) => return Err(Fail::internal(lang, &other)),
        }
        Ok(Session {
            claims,
            role: key.role,
            scope: Scope::of(key.role, &key.locations),
            lang,
            csrf: state.keys().csrf_token(&cookie),
            simulated: state.simulated_brand == Some(claims.brand),
            cookie,
        })
    }

    /// The brand every read and write is scoped to.
    pub(crate) fn brand(&self) -> BrandId {
        self.claims.brand
    }

    /// Whether edit forms are shown.
    pub(crate) fn can_edit(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether customers' phone numbers and voucher codes are shown in full: to admins
    /// only; a viewer sees them partly hidden.
    pub(crate) fn sees_contact(&self) -> bool {
        self.role == Role::Admin
    }

    /// The session of an admin, for pages only admins may open; a viewer is refused.
    pub(crate) async fn admin(req: &HttpRequest, state: &WebState) -> Result<Session, Fail> {
        let session = Session::of(req, state).await?;
        if !session.can_edit() {
            return Err(Fail::forbidden(
                session.lang,
                session.lang.text().forbidden_body,
            ));
        }
        Ok(session)
    }

    /// Checks a state-changing request: an admin session and the session's CSRF token.
    pub(crate) fn authorise_change(&self, state: &WebState, token: &str) -> Result<(), Fail> {
        let t = self.lang.text();
        if !state.keys().csrf_ok(&self.cookie, token) {
            return Err(Fail::forbidden(self.lang, t.bad_form));
        }
        if !self.can_edit() {
            return Err(Fail::forbidden(self.lang, t.forbidden_body));
        }
        Ok(())
    }
}

fn login_form(lang: Lang, token: &str, error: Option<&str>) -> Markup {
    let t = lang.text();
    document(
        lang,
        t.sign_in,
        html! {
            main.login {
                section {
                    h1 { (t.sign_in) }
                    p.muted { (t.sign_in_intro) }
                    p.lang {
                        a href="?lang=vi" { "Tiếng Việt" }
                        a href="?lang=en" { "English" }
                    }
                    form method="post" action="/dashboard/login" {
                        input type="hidden" name="csrf" value=(token);
                        label for="key" { (t.api_key) }
                        input #key type="password" name="key" autocomplete="off" required;
                        @if let Some(error) = error {
                            p.error #key-error { (error) }
                        }
                        button #sign-in type="submit" { (t.sign_in) }
                    }
                }
            }
        },
    )
}

/// The sign-in form with a fresh nonce cookie and the token that goes with it.
fn fresh_login_form(
    req: &HttpRequest,
    state: &WebState,
    status: StatusCode,
    error: Option<&str>,
) -> HttpResponse {
    let mut bytes = [0u8; 16];
    state.ids.fill_bytes(&mut bytes);
    let nonce = URL_SAFE_NO_PAD.encode(bytes);
    let token = state.keys().login_token(&nonce);
    let mut reply = ok(req, login_form(Lang::of(req), &token, error));
    *reply.status_mut() = status;
    if let Ok(value) = header::HeaderValue::from_str(&cookies::set(
        LOGIN_COOKIE,
        &nonce,
        LOGIN_FORM_TTL,
        state.secure_cookies,
    )) {
        reply.headers_mut().append(header::SET_COOKIE, value);
    }
    reply
}

/// `GET /dashboard/login`.
pub(crate) async fn login_page(req: HttpRequest, state: web::Data<WebState>) -> HttpResponse {
    fresh_login_form(&req, &state, StatusCode::OK, None)
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    csrf: String,
    key: String,
}

/// `POST /dashboard/login`: checks the key, then sets the session cookie.
pub(crate) async fn login(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, Fail> {
    let lang = Lang::of(&req);
    let t = lang.text();
    let nonce = cookies::get(&req, LOGIN_COOKIE).unwrap_or_default();
    if !state.keys().login_ok(&nonce, &form.csrf) {
        return Ok(fresh_login_form(
            &req,
            &state,
            StatusCode::FORBIDDEN,
            Some(t.bad_form),
        ));
    }
    let refuse =
        |message: &str| fresh_login_form(&req, &state, StatusCode::UNAUTHORIZED, Some(message));
    let principal = match state
        .services
        .authenticate(form.key.trim(), &crate::client_address(&req))
        .await
    {
        Ok(principal) => principal,
        Err(AuthError::Throttled(seconds)) => return Err(Fail::too_many(lang, seconds)),
        Err(AuthError::Malformed | AuthError::Rejected) => return Ok(refuse(t.bad_key)),
        Err(other) => return Err(Fail::internal(lang, &other)),
    };
    if principal.role == Role::Pos {
        return Ok(refuse(t.pos_not_allowed));
    }
    let epoch = match state
        .services
        .session_epoch(principal.brand, principal.key)
        .await
    {
        Ok(Some(epoch)) => epoch,
        Ok(None) => return Ok(refuse(t.bad_key)),
        Err(other) => return Err(Fail::internal(lang, &other)),
    };
    let claims = SessionClaims {
        brand: principal.brand,
        key: principal.key,
        epoch,
        expires_at: state.now() + state.session_ttl,
    };
    let cookie = state.keys().session_cookie(&claims);
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/dashboard/overview"))
        .append_header((
            header::SET_COOKIE,
            cookies::set(
                SESSION_COOKIE,
                &cookie,
                state.session_ttl.whole_seconds(),
                state.secure_cookies,
            ),
        ))
        .append_header((
            header::SET_COOKIE,
            cookies::set(LOGIN_COOKIE, "", 0, state.secure_cookies),
        ))
        .finish())
}

/// A form that only carries its CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: String,
}

impl CsrfOnly {
    /// The form's CSRF token.
    pub(crate) fn token(&self) -> &str {
        &self.csrf
    }
}

/// `POST /dashboard/logout`: ends the key's sessions on the server and forgets the
/// cookie (viewers may sign out too).
pub(crate) async fn logout(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, Fail> {
    let session = Session::scoped(&req, &state).await?;
    if !state.keys().csrf_ok(&session.cookie, &form.csrf) {
        return Err(Fail::forbidden(session.lang, session.lang.text().bad_form));
    }
    match state
        .services
        .end_sessions(session.brand(), session.claims.key)
        .await
    {
        Ok(()) | Err(AccessError::UnknownKey(_) | AccessError::UnknownBrand(_)) => {}
        Err(other) => return Err(Fail::internal(session.lang, &other)),
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/dashboard/login"))
        .append_header((
            header::SET_COOKIE,
            cookies::set(SESSION_COOKIE, "", 0, state.secure_cookies),
        ))
        .finish())
}
