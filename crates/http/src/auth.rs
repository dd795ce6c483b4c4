//! API-key authentication: `Authorization: Bearer rgk_…`. Every handler that takes
//! [`Caller`] acts for the key's brand only; role checks are explicit per route.

use crate::AppState;
use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use regulars_domain::{BrandId, LocationId};
use regulars_ports::Role;
use regulars_service::{AuthError, Principal, Scope};
use std::future::Future;
use std::pin::Pin;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// The brand every read and write of the request is scoped to.
    pub fn brand(&self) -> BrandId {
        self.0.brand
    }

    /// Refuses (403) unless the key has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<BrandId, ApiError> {
        if roles.contains(&self.0.role) {
            Ok(self.0.brand)
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::forbidden(format!(
                "this needs a key with role {}; this key is {}",
                names.join(" or "),
                self.0.role.as_str()
            )))
        }
    }

    /// Reads of the whole brand: any role but a manager, whose key covers some
    /// locations only (see [`scoped`](Self::scoped) for the reads it may make).
    pub fn reader(&self) -> Result<BrandId, ApiError> {
        self.require(&[Role::Admin, Role::Pos, Role::Viewer])
    }

    /// A read limited to the caller's locations, narrowed to `requested` (a
    /// `?location=` filter) when given: any role may make it, and a location outside a
    /// manager's key is refused (403), never read.
    pub fn scoped(&self, requested: Option<LocationId>) -> Result<(BrandId, Scope), ApiError> {
        let scope = self.0.scope.narrow(requested).map_err(|e| {
            ApiError::new(
                actix_web::http::StatusCode::FORBIDDEN,
                "forbidden",
                e.to_string(),
                Some("location".to_owned()),
            )
        })?;
        Ok((self.0.brand, scope))
    }

    /// Admin only.
    pub fn admin(&self) -> Result<BrandId, ApiError> {
        self.require(&[Role::Admin])
    }

    /// A till or an admin.
    pub fn till(&self) -> Result<BrandId, ApiError> {
        self.require(&[Role::Admin, Role::Pos])
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_owned());
        let req = req.clone();
        Box::pin(async move {
            let Some(state) = state else {
                return Err(ApiError::unauthorized("the server is not configured"));
            };
            let Some(token) = token else {
                return Err(ApiError::unauthorized(
                    "send an API key: Authorization: Bearer rgk_…",
                ));
            };
            match state
                .services
                .authenticate(&token, &client_address(&req))
                .await
            {
                Ok(principal) => {
                    req.extensions_mut().insert(principal.clone());
                    state.limit(&format!("key:{}", principal.key))?;
                    Ok(Caller(principal))
                }
                Err(AuthError::Malformed | AuthError::Rejected) => {
                    Err(ApiError::unauthorized("unknown or revoked API key"))
                }
                Err(AuthError::Throttled(seconds)) => {
                    state.metrics.record_rate_limited();
                    Err(ApiError::rate_limited(seconds))
                }
                Err(other) => Err(ApiError::from_use_case(&other)),
            }
        })
    }
}

/// The network address of the request's peer (its IP), which failure budgets are kept
/// by. Forwarding headers are not believed: anyone can write them. Behind a proxy every
/// client shares the proxy's address, which is why keys that worked recently pass an
/// address's spent budget.
pub fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}
