//! Brands and their loyalty programmes kept in memory between orders.
//!
//! Every order needs its brand and programme; reading them costs two statements an
//! order, yet they change a few times a year. A copy is kept per brand with the config
//! version it was read at (storage moves the version in the transaction of every change
//! to either). The order path reads the stored version in the very statement that locks
//! the customer's account, before any rule is applied: a different version means the
//! copy is stale, and it is read again inside the order's transaction. So a change is
//! honoured by the next order that locks an account after it commits, whichever process
//! or connection pool made it.

use crate::Services;
use crate::account::Account;
use crate::error::UnknownBrand;
use regulars_domain::BrandId;
use regulars_ports::{BrandConfig, StoreError, Transaction};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The brands' configurations read so far, by brand.
#[derive(Default)]
pub(crate) struct ConfigCache {
    brands: RwLock<HashMap<BrandId, Arc<BrandConfig>>>,
    /// The config version at which a brand was found to have no active campaign that an
    /// order fires (storage moves the version with every campaign's creation, status
    /// or definition), by brand: its orders skip that read while the version holds.
    quiet: RwLock<HashMap<BrandId, i64>>,
}

impl ConfigCache {
    /// Whether the brand had no campaign an order fires at `version`.
    pub(crate) fn quiet_at(&self, brand: BrandId, version: Option<i64>) -> bool {
        version.is_some_and(|version| {
            self.quiet
                .read()
                .is_ok_and(|quiet| quiet.get(&brand) == Some(&version))
        })
    }

    /// Notes that the brand had no campaign an order fires at `version`.
    pub(crate) fn note_quiet(&self, brand: BrandId, version: Option<i64>) {
        if let (Some(version), Ok(mut quiet)) = (version, self.quiet.write()) {
            let newer = quiet.get(&brand).is_none_or(|kept| *kept <= version);
            if newer {
                quiet.insert(brand, version);
            }
        }
    }

    fn get(&self, brand: BrandId) -> Option<Arc<BrandConfig>> {
        self.brands.read().ok()?.get(&brand).cloned()
    }

    /// Keeps `config` unless storage gave it no version, or a later version is kept.
    fn put(&self, config: &Arc<BrandConfig>) {
        let Some(version) = config.version else {
            return;
        };
        if let Ok(mut brands) = self.brands.write() {
            let newer = brands
                .get(&config.brand.id)
                .and_then(|kept| kept.version)
                .is_none_or(|kept| kept <= version);
            if newer {
                brands.insert(config.brand.id, config.clone());
            }
        }
    }
}

/// A brand's configuration for one order, and whether it was read in this transaction.
pub(crate) struct OrderConfig {
    pub config: Arc<BrandConfig>,
    read_here: bool,
}

impl Services {
    /// The brand's configuration: the kept copy, or read (and kept) now.
    pub(crate) async fn order_config<E>(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
    ) -> Result<OrderConfig, E>
    where
        E: From<StoreError> + From<UnknownBrand>,
    {
        if let Some(config) = self.config.get(brand) {
            return Ok(OrderConfig {
                config,
                read_here: false,
            });
        }
        Ok(OrderConfig {
            config: self.read_config::<E>(tx, brand).await?,
            read_here: true,
        })
    }

    /// Makes sure `config` is the one committed when `account` was locked: a kept copy
    /// whose version differs from the one the lock read (or a store without versions)
    /// is read again in the transaction.
    pub(crate) async fn current_config<E>(
        &self,
        tx: &mut dyn Transaction,
        config: OrderConfig,
        account: &Account,
    ) -> Result<Arc<BrandConfig>, E>
    where
        E: From<StoreError> + From<UnknownBrand>,
    {
        let current = config.read_here
            || (config.config.version.is_some() && config.config.version == account.config_version);
        if current {
            return Ok(config.config);
        }
        self.read_config::<E>(tx, config.config.brand.id).await
    }

    async fn read_config<E>(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
    ) -> Result<Arc<BrandConfig>, E>
    where
        E: From<StoreError> + From<UnknownBrand>,
    {
        let config = tx
            .brands()
            .brand_config(brand)
            .await?
            .ok_or(UnknownBrand(brand))?;
        let config = Arc::new(config);
        self.config.put(&config);
        Ok(config)
    }
}
