//! OAuth tokens of a provider account that every process shares (Zalo OA's single-use
//! refresh tokens): stored once, changed only under compare-and-swap.

use crate::StoreError;
use async_trait::async_trait;
use regulars_domain::BrandId;
use std::fmt;
use time::OffsetDateTime;

/// Which account a token pair belongs to: the brand that owns the account (`None`: the
/// deployment's own account, from `[senders]`), the provider and the provider's id of
/// the account (Zalo's app id).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenAccount {
    /// The owning brand; `None` for the deployment's default account.
    pub brand_id: Option<BrandId>,
    /// `zalo`.
    pub provider: String,
    /// The provider's id of the account (Zalo: the app id).
    pub account: String,
}

/// A token pair as the provider issued it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenPair {
    /// The access token.
    pub access_token: String,
    /// The refresh token (single use at Zalo).
    pub refresh_token: Option<String>,
    /// When the access token expires, when the provider said.
    pub expires_at: Option<OffsetDateTime>,
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("tokens", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A stored token pair and its row state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTokens {
    /// The tokens.
    pub tokens: TokenPair,
    /// Bumped by every change; a change names the version it read.
    pub version: i64,
    /// While a process refreshes (it claimed the refresh token), until when; others
    /// wait for it rather than spend the same refresh token.
    pub refreshing_until: Option<OffsetDateTime>,
    /// Fingerprint of the configured tokens the row was seeded from (see
    /// [`TokenStore::seed`]).
    pub seed: String,
}

/// Shared, persistent token pairs. Implementations seal the tokens at rest.
///
/// The protocol that keeps two processes from spending one refresh token: read the row
/// (version `v`); [`claim_refresh`](TokenStore::claim_refresh) `v` → `v + 1` with a
/// lease; only the winner calls the provider, then
/// [`finish_refresh`](TokenStore::finish_refresh) writes the new pair where the version
/// is still `v + 1` (or [`release`](TokenStore::release)s the claim when the call failed).
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// The stored pair, if any.
    async fn load(&self, account: &TokenAccount) -> Result<Option<StoredTokens>, StoreError>;

    /// Stores `tokens` as configured (fingerprint `seed`) unless a row with the same
    /// seed exists: a first start stores the configured tokens; a restart with the same
    /// configuration keeps the stored (possibly refreshed) ones; a new grant in the
    /// configuration (another seed) replaces them. Returns the row as it is afterwards.
    async fn seed(
        &self,
        account: &TokenAccount,
        tokens: &TokenPair,
        seed: &str,
        now: OffsetDateTime,
    ) -> Result<StoredTokens, StoreError>;

    /// Claims the refresh: the version goes from `version` to `version + 1` and the
    /// lease to `until`, only if the row is still at `version`. `true` when claimed.
    async fn claim_refresh(
        &self,
        account: &TokenAccount,
        version: i64,
        until: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Writes the refreshed pair (version `claimed + 1`, no lease) if the row is still
    /// at `claimed`. `true` when written.
    async fn finish_refresh(
        &self,
        account: &TokenAccount,
        claimed: i64,
        tokens: &TokenPair,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Gives a claim up (the refresh failed): no lease, version `claimed + 1`.
    async fn release(&self, account: &TokenAccount, claimed: i64) -> Result<bool, StoreError>;
}
