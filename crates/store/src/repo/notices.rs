//! [`NoticeRepo`]: a brand's processing notices, every version kept.

use crate::convert::{from_micros, to_micros};
use crate::entity::brand_notice;
use crate::error::{corrupt, in_ctx};
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::BrandId;
use regulars_ports::{Notice, NoticeRepo, StoreError};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect};
use std::collections::BTreeMap;

#[async_trait]
impl NoticeRepo for StoreTransaction {
    async fn publish_notice(&mut self, notice: &Notice) -> Result<(), StoreError> {
        let version = i32::try_from(notice.version).map_err(|e| corrupt("notice version", e))?;
        let rows: Vec<_> = notice
            .texts
            .iter()
            .map(|(language, text)| {
                brand_notice::Model {
                    brand_id: notice.brand_id.as_uuid(),
                    version,
                    language: language.clone(),
                    text: text.clone(),
                    published_at: to_micros(notice.published_at),
                }
                .into_active_model()
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        brand_notice::Entity::insert_many(rows)
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx(
                "insert into brand_notices (brand_id, version, language)",
            ))?;
        Ok(())
    }

    async fn notice(
        &mut self,
        brand: BrandId,
        version: Option<u32>,
    ) -> Result<Option<Notice>, StoreError> {
        use brand_notice::Column as C;
        let version = match version {
            Some(v) => match i32::try_from(v) {
                Ok(v) => v,
                Err(_) => return Ok(None),
            },
            None => {
                let latest: Option<i32> = brand_notice::Entity::find()
                    .select_only()
                    .column(C::Version)
                    .filter(C::BrandId.eq(brand.as_uuid()))
                    .order_by_desc(C::Version)
                    .limit(1)
                    .into_tuple()
                    .one(&self.tx)
                    .await
                    .map_err(in_ctx("select from brand_notices"))?;
                match latest {
                    Some(v) => v,
                    None => return Ok(None),
                }
            }
        };
        let rows = brand_notice::Entity::find()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::Version.eq(version))
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from brand_notices"))?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let published_at = from_micros(first.published_at)?;
        let version = u32::try_from(version).map_err(|e| corrupt("brand_notices.version", e))?;
        let texts: BTreeMap<String, String> =
            rows.into_iter().map(|r| (r.language, r.text)).collect();
        Ok(Some(Notice {
            brand_id: brand,
            version,
            texts,
            published_at,
        }))
    }
}
