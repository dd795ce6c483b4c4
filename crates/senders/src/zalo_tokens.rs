//! The Zalo OA token pair a [`ZaloZns`](crate::ZaloZns) sends with: in this process's
//! memory, or shared through a [`TokenStore`] by every process of the deployment.
//!
//! Zalo's refresh tokens are single-use and come back rotated with each refresh. Shared
//! tokens are therefore refreshed only by the process that first moves the stored row's
//! version forward ([`TokenStore::claim_refresh`]); the others wait for the new pair
//! instead of spending the same refresh token, and a restart reads the stored pair.

use regulars_domain::BrandId;
use regulars_ports::{SendError, StoredTokens, TokenAccount, TokenPair, TokenStore};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Mutex;

/// Refresh this long before the stored expiry, so no send meets an expired token.
pub(crate) const REFRESH_AHEAD: time::Duration = time::Duration::minutes(10);
/// How long a claimed refresh keeps others waiting (longer than a refresh call).
const LEASE: time::Duration = time::Duration::seconds(30);
/// How often a waiting process looks at the stored row again.
const POLL: Duration = Duration::from_millis(100);
/// Looks at the row before giving up with a retryable error (more than one lease).
const MAX_LOOKS: u32 = 400;

/// A provider call that trades a refresh token for a new pair.
pub(crate) trait Refresher {
    async fn call_refresh(&self, refresh_token: &str) -> Result<TokenPair, SendError>;
}

/// The tokens and how they are kept.
pub(crate) enum Tokens {
    /// This process only (no database): lost on restart.
    Memory(Mutex<TokenPair>),
    /// Shared through the database.
    Shared(Box<Shared>),
}

/// Tokens kept in a [`TokenStore`].
pub(crate) struct Shared {
    store: Arc<dyn TokenStore>,
    account: TokenAccount,
    /// The configured pair, stored on first use (see [`TokenStore::seed`]).
    configured: TokenPair,
    seed: String,
    seeded: Mutex<bool>,
    /// One refresh at a time in this process.
    local: Mutex<()>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tokens::Memory(_) => f.write_str("Tokens::Memory"),
            Tokens::Shared(shared) => write!(f, "Tokens::Shared({:?})", shared.account),
        }
    }
}

fn store_error(err: &regulars_ports::StoreError) -> SendError {
    SendError::Retryable {
        reason: format!("Zalo OAuth: the stored tokens cannot be read or written: {err}"),
        retry_after: None,
    }
}

/// The fingerprint of a configured pair: 32 hex digits of SHA-256 (not the tokens).
fn fingerprint(pair: &TokenPair) -> String {
    let mut hash = Sha256::new();
    hash.update(pair.access_token.as_bytes());
    hash.update([0]);
    hash.update(pair.refresh_token.as_deref().unwrap_or_default().as_bytes());
    hash.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn due(pair: &TokenPair, now: OffsetDateTime) -> bool {
    pair.expires_at.is_some_and(|at| at - REFRESH_AHEAD <= now)
}

impl Tokens {
    /// Shared tokens of `app_id`'s account, owned by `brand` (`None`: the deployment).
    pub(crate) fn shared(
        store: Arc<dyn TokenStore>,
        brand: Option<BrandId>,
        app_id: &str,
        configured: TokenPair,
    ) -> Tokens {
        let seed = fingerprint(&configured);
        Tokens::Shared(Box::new(Shared {
            store,
            account: TokenAccount {
                brand_id: brand,
                provider: "zalo".to_owned(),
                account: app_id.to_owned(),
            },
            configured,
            seed,
            seeded: Mutex::new(false),
            local: Mutex::new(()),
        }))
    }

    /// The pair to send with now; shared tokens close to expiry are refreshed first.
    pub(crate) async fn current(&self, zalo: &impl Refresher) -> Result<TokenPair, SendError> {
        match self {
            Tokens::Memory(pair) => Ok(pair.lock().await.clone()),
            Tokens::Shared(shared) => {
                let row = shared.row().await?;
                if due(&row.tokens, OffsetDateTime::now_utc()) {
                    shared.refresh(zalo, &row.tokens.access_token, false).await
                } else {
                    Ok(row.tokens)
                }
            }
        }
    }

    /// A new pair after Zalo rejected `used`: refreshed once, by whoever gets there
    /// first; if someone already replaced `used`, their pair.
    pub(crate) async fn after_rejection(
        &self,
        zalo: &impl Refresher,
        used: &str,
    ) -> Result<TokenPair, SendError> {
        match self {
            Tokens::Memory(pair) => {
                let mut pair = pair.lock().await;
                if pair.access_token == used {
                    let refresh = pair.refresh_token.clone().unwrap_or_default();
                    let fresh = zalo.call_refresh(&refresh).await?;
                    *pair = keep_refresh_token(fresh, pair.refresh_token.take());
                }
                Ok(pair.clone())
            }
            Tokens::Shared(shared) => shared.refresh(zalo, used, true).await,
        }
    }
}

/// Zalo rotates the refresh token; should an answer lack one, the old one is kept.
fn keep_refresh_token(mut fresh: TokenPair, old: Option<String>) -> TokenPair {
    if fresh.refresh_token.as_deref().is_none_or(str::is_empty) {
        fresh.refresh_token = old;
    }
    fresh
}

impl Shared {
    /// The stored row, storing the configured pair first if needed.
    async fn row(&self) -> Result<StoredTokens, SendError> {
        let mut seeded = self.seeded.lock().await;
        if !*seeded {
            let row = self
                .store
                .seed(
                    &self.account,
                    &self.configured,
                    &self.seed,
                    OffsetDateTime::now_utc(),
                )
                .await
                .map_err(|e| store_error(&e))?;
            *seeded = true;
            return Ok(row);
        }
        drop(seeded);
        match self.store.load(&self.account).await {
            Ok(Some(row)) => Ok(row),
            Ok(None) => {
                // Deleted meanwhile (the account was reset): store the configured pair.
                *self.seeded.lock().await = false;
                Box::pin(self.row()).await
            }
            Err(e) => Err(store_error(&e)),
        }
    }

    /// Refreshes `used` (rejected by Zalo, or due) unless another process did.
    async fn refresh(
        &self,
        zalo: &impl Refresher,
        used: &str,
        rejected: bool,
    ) -> Result<TokenPair, SendError> {
        let _one_here = self.local.lock().await;
        for _ in 0..MAX_LOOKS {
            let row = self.row().await?;
            let now = OffsetDateTime::now_utc();
            if row.tokens.access_token != used || !(rejected || due(&row.tokens, now)) {
                return Ok(row.tokens);
            }
            if row.refreshing_until.is_some_and(|until| until > now) {
                tokio::time::sleep(POLL).await;
                continue;
            }
            let claimed = self
                .store
                .claim_refresh(&self.account, row.version, now + LEASE)
                .await
                .map_err(|e| store_error(&e))?;
            if !claimed {
                continue;
            }
            let claim = row.version + 1;
            let refresh = row.tokens.refresh_token.clone().unwrap_or_default();
            return match zalo.call_refresh(&refresh).await {
                Ok(fresh) => {
                    let fresh = keep_refresh_token(fresh, row.tokens.refresh_token);
                    let now = OffsetDateTime::now_utc();
                    match self
                        .store
                        .finish_refresh(&self.account, claim, &fresh, now)
                        .await
                    {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(
                            app_id = %self.account.account,
                            "Zalo OAuth: the refreshed tokens could not be stored (the claim lapsed); a new grant may be needed"
                        ),
                        Err(e) => return Err(store_error(&e)),
                    }
                    Ok(fresh)
                }
                Err(err) => {
                    // Best effort: an unreleased claim lapses with its lease.
                    let _ = self.store.release(&self.account, claim).await;
                    Err(err)
                }
            };
        }
        Err(SendError::Retryable {
            reason: "Zalo OAuth: another process is still refreshing the tokens".to_owned(),
            retry_after: None,
        })
    }
}
