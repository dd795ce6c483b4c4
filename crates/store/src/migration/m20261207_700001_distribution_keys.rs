//! Every unique key starts with `brand_id`, so the schema distributes by brand (Citus
//! cannot enforce a unique key that leaves out the distribution column).
//!
//! Two lookups happen before the brand is known and had a global unique index: an API
//! key by its prefix, and a POS integration (named in a webhook's URL) by its id. Both
//! values are random (64 and 122 bits), so global uniqueness was a safeguard, not a rule
//! the data needs: the unique keys become `(brand_id, prefix)` and the primary key
//! `(brand_id, id)`, and a plain index on the lone column keeps each lookup fast. The
//! look-ups themselves refuse an ambiguous match rather than pick one.

use sea_orm_migration::prelude::*;

/// Replaces the two global unique indexes.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_700001_distribution_keys"
    }
}

fn index(name: &str, table: &str, cols: &[&str], unique: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(Alias::new(table));
    for col in cols {
        index.col(Alias::new(*col));
    }
    if unique {
        index.unique();
    }
    index
}

fn drop(name: &str, table: &str) -> IndexDropStatement {
    Index::drop().name(name).table(Alias::new(table)).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(drop("ux_api_keys_prefix", "api_keys"))
            .await?;
        manager
            .create_index(index(
                "ux_api_keys_brand_prefix",
                "api_keys",
                &["brand_id", "prefix"],
                true,
            ))
            .await?;
        manager
            .create_index(index("ix_api_keys_prefix", "api_keys", &["prefix"], false))
            .await?;
        manager
            .drop_index(drop("ux_integrations_id", "integrations"))
            .await?;
        manager
            .create_index(index("ix_integrations_id", "integrations", &["id"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(drop("ix_integrations_id", "integrations"))
            .await?;
        manager
            .create_index(index("ux_integrations_id", "integrations", &["id"], true))
            .await?;
        manager
            .drop_index(drop("ix_api_keys_prefix", "api_keys"))
            .await?;
        manager
            .drop_index(drop("ux_api_keys_brand_prefix", "api_keys"))
            .await?;
        manager
            .create_index(index("ux_api_keys_prefix", "api_keys", &["prefix"], true))
            .await
    }
}
