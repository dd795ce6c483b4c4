//! Where polling a POS's invoice list stands, per integration (the
//! [`AccessRepo`](regulars_ports::AccessRepo) methods that `access.rs` delegates here).
//!
//! The lease is taken by one conditional `UPDATE` (free, expired, not in back-off, not
//! disabled): PostgreSQL re-checks the condition on the row a concurrent update just
//! committed, so of two workers only one gets it; SQLite has one writer at a time.

use crate::convert::{from_micros_opt, to_micros, to_micros_opt};
use crate::entity::pos_poll_cursor::{self, Column as C};
use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, IntegrationId};
use regulars_ports::{PollCursor, StoreError};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter};
use time::OffsetDateTime;

fn from_row(row: pos_poll_cursor::Model) -> Result<PollCursor, StoreError> {
    Ok(PollCursor {
        brand_id: BrandId::from_uuid(row.brand_id),
        integration_id: IntegrationId::from_uuid(row.integration_id),
        cursor: from_micros_opt(row.cursor_at)?,
        failures: u32::try_from(row.failures.max(0)).unwrap_or(u32::MAX),
        retry_at: from_micros_opt(row.retry_at)?,
        disabled: row.disabled,
        last_error: row.last_error,
        polled_at: from_micros_opt(row.polled_at)?,
    })
}

pub(crate) async fn cursor(
    tx: &mut StoreTransaction,
    brand: BrandId,
    integration: IntegrationId,
) -> Result<Option<PollCursor>, StoreError> {
    pos_poll_cursor::Entity::find_by_id((brand.as_uuid(), integration.as_uuid()))
        .one(&tx.tx)
        .await
        .map_err(in_ctx("select from pos_poll_cursors"))?
        .map(from_row)
        .transpose()
}

pub(crate) async fn lease(
    tx: &mut StoreTransaction,
    brand: BrandId,
    integration: IntegrationId,
    owner: &str,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<Option<PollCursor>, StoreError> {
    let fresh = pos_poll_cursor::Model {
        brand_id: brand.as_uuid(),
        integration_id: integration.as_uuid(),
        cursor_at: None,
        failures: 0,
        retry_at: None,
        disabled: None,
        last_error: None,
        polled_at: None,
        lease_owner: None,
        lease_until: None,
    };
    pos_poll_cursor::Entity::insert(fresh.into_active_model())
        .on_conflict(
            OnConflict::columns([C::BrandId, C::IntegrationId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&tx.tx)
        .await
        .map_err(in_ctx("insert into pos_poll_cursors"))?;
    let now = to_micros(now);
    let taken = pos_poll_cursor::Entity::update_many()
        .col_expr(C::LeaseOwner, Expr::value(owner))
        .col_expr(C::LeaseUntil, Expr::value(to_micros(until)))
        .filter(C::BrandId.eq(brand.as_uuid()))
        .filter(C::IntegrationId.eq(integration.as_uuid()))
        .filter(C::Disabled.is_null())
        .filter(
            Condition::any()
                .add(C::LeaseUntil.is_null())
                .add(C::LeaseUntil.lte(now)),
        )
        .filter(
            Condition::any()
                .add(C::RetryAt.is_null())
                .add(C::RetryAt.lte(now)),
        )
        .exec(&tx.tx)
        .await
        .map_err(in_ctx("update pos_poll_cursors (lease)"))?;
    if taken.rows_affected != 1 {
        return Ok(None);
    }
    cursor(tx, brand, integration).await
}

pub(crate) async fn finish(
    tx: &mut StoreTransaction,
    owner: &str,
    c: &PollCursor,
) -> Result<bool, StoreError> {
    let done = pos_poll_cursor::Entity::update_many()
        .col_expr(C::CursorAt, Expr::value(to_micros_opt(c.cursor)))
        .col_expr(C::Failures, Expr::value(i64::from(c.failures)))
        .col_expr(C::RetryAt, Expr::value(to_micros_opt(c.retry_at)))
        .col_expr(C::Disabled, Expr::value(c.disabled.clone()))
        .col_expr(C::LastError, Expr::value(c.last_error.clone()))
        .col_expr(C::PolledAt, Expr::value(to_micros_opt(c.polled_at)))
        .col_expr(C::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(C::LeaseUntil, Expr::value(Option::<i64>::None))
        .filter(C::BrandId.eq(c.brand_id.as_uuid()))
        .filter(C::IntegrationId.eq(c.integration_id.as_uuid()))
        .filter(C::LeaseOwner.eq(owner))
        .exec(&tx.tx)
        .await
        .map_err(in_ctx("update pos_poll_cursors (finish)"))?;
    Ok(done.rows_affected == 1)
}

pub(crate) async fn resume(
    tx: &mut StoreTransaction,
    brand: BrandId,
    integration: IntegrationId,
) -> Result<(), StoreError> {
    pos_poll_cursor::Entity::update_many()
        .col_expr(C::Disabled, Expr::value(Option::<String>::None))
        .col_expr(C::Failures, Expr::value(0i64))
        .col_expr(C::RetryAt, Expr::value(Option::<i64>::None))
        .filter(C::BrandId.eq(brand.as_uuid()))
        .filter(C::IntegrationId.eq(integration.as_uuid()))
        .exec(&tx.tx)
        .await
        .map_err(in_ctx("update pos_poll_cursors (resume)"))?;
    Ok(())
}
