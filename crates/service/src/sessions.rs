//! Dashboard sessions on the server's side: the epoch a key's session cookies are
//! signed at, and signing out, which bumps it so that every cookie of the key (a copy
//! included) stops working at once.

use crate::Services;
use crate::access::AccessError;
use regulars_domain::{ApiKeyId, BrandId};

impl Services {
    /// The session epoch of an active key of the brand, or `None` when the brand has
    /// no such active key.
    pub async fn session_epoch(
        &self,
        brand: BrandId,
        key: ApiKeyId,
    ) -> Result<Option<i64>, AccessError> {
        self.transact("session_epoch", |mut tx| async move {
            let result = tx
                .access()
                .session_epoch(brand, key)
                .await
                .map_err(AccessError::from);
            (tx, result)
        })
        .await
    }

    /// Ends every dashboard session of a key of the brand.
    pub async fn end_sessions(&self, brand: BrandId, key: ApiKeyId) -> Result<(), AccessError> {
        self.transact("end_sessions", |mut tx| async move {
            let result = match tx.access().end_sessions(brand, key).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(AccessError::UnknownKey(key)),
                Err(error) => Err(AccessError::from(error)),
            };
            (tx, result)
        })
        .await
    }
}
