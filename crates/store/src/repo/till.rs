//! [`TillRepo`]: staff members and till devices.

use crate::convert::{from_micros, from_micros_opt, to_micros, to_micros_opt};
use crate::entity::{staff_member, till_action, till_device};
use crate::error::{corrupt, in_ctx};
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, DeviceId, LocationId, OrderId, StaffId};
use regulars_ports::{StaffMember, StoreError, TillAction, TillActionKind, TillDevice, TillRepo};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use time::OffsetDateTime;

fn failures(what: &str, value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt(what, value))
}

fn device_from_row(row: till_device::Model) -> Result<TillDevice, StoreError> {
    Ok(TillDevice {
        id: DeviceId::from_uuid(row.id),
        brand_id: BrandId::from_uuid(row.brand_id),
        location_id: LocationId::from_uuid(row.location_id),
        label: row.label,
        secret_hash: row.secret_hash,
        failed_pins: failures("till_devices.failed_pins", row.failed_pins)?,
        created_at: from_micros(row.created_at)?,
        revoked_at: from_micros_opt(row.revoked_at)?,
    })
}

fn staff_from_row(row: staff_member::Model) -> Result<StaffMember, StoreError> {
    Ok(StaffMember {
        id: StaffId::from_uuid(row.id),
        brand_id: BrandId::from_uuid(row.brand_id),
        location_id: LocationId::from_uuid(row.location_id),
        name: row.name,
        pin_hash: row.pin_hash,
        failed_pins: failures("staff_members.failed_pins", row.failed_pins)?,
        created_at: from_micros(row.created_at)?,
        revoked_at: from_micros_opt(row.revoked_at)?,
    })
}

fn action_from_row(row: till_action::Model) -> Result<TillAction, StoreError> {
    Ok(TillAction {
        id: row.id,
        brand_id: BrandId::from_uuid(row.brand_id),
        at: from_micros(row.at)?,
        staff_id: StaffId::from_uuid(row.staff_id),
        location_id: LocationId::from_uuid(row.location_id),
        kind: TillActionKind::parse(&row.kind)
            .ok_or_else(|| corrupt("till_actions.kind", &row.kind))?,
        order_id: row.order_id.map(OrderId::from_uuid),
    })
}

#[async_trait]
impl TillRepo for StoreTransaction {
    async fn insert_device(&mut self, device: &TillDevice) -> Result<(), StoreError> {
        let row = till_device::Model {
            brand_id: device.brand_id.as_uuid(),
            id: device.id.as_uuid(),
            location_id: device.location_id.as_uuid(),
            label: device.label.clone(),
            secret_hash: device.secret_hash.clone(),
            failed_pins: i64::from(device.failed_pins),
            created_at: to_micros(device.created_at),
            revoked_at: to_micros_opt(device.revoked_at),
        };
        till_device::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into till_devices (brand_id, id unique)"))?;
        Ok(())
    }

    async fn device(
        &mut self,
        brand: BrandId,
        id: DeviceId,
    ) -> Result<Option<TillDevice>, StoreError> {
        till_device::Entity::find()
            .filter(till_device::Column::BrandId.eq(brand.as_uuid()))
            .filter(till_device::Column::Id.eq(id.as_uuid()))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from till_devices"))?
            .map(device_from_row)
            .transpose()
    }

    async fn devices(&mut self, brand: BrandId) -> Result<Vec<TillDevice>, StoreError> {
        till_device::Entity::find()
            .filter(till_device::Column::BrandId.eq(brand.as_uuid()))
            .order_by_asc(till_device::Column::CreatedAt)
            .order_by_asc(till_device::Column::Id)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from till_devices"))?
            .into_iter()
            .map(device_from_row)
            .collect()
    }

    async fn revoke_device(
        &mut self,
        brand: BrandId,
        id: DeviceId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = till_device::Entity::update_many()
            .col_expr(till_device::Column::RevokedAt, Expr::value(to_micros(now)))
            .filter(till_device::Column::BrandId.eq(brand.as_uuid()))
            .filter(till_device::Column::Id.eq(id.as_uuid()))
            .filter(till_device::Column::RevokedAt.is_null())
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update till_devices"))?;
        Ok(done.rows_affected == 1)
    }

    async fn insert_staff(&mut self, staff: &StaffMember) -> Result<(), StoreError> {
        let row = staff_member::Model {
            brand_id: staff.brand_id.as_uuid(),
            id: staff.id.as_uuid(),
            location_id: staff.location_id.as_uuid(),
            name: staff.name.clone(),
            pin_hash: staff.pin_hash.clone(),
            failed_pins: i64::from(staff.failed_pins),
            created_at: to_micros(staff.created_at),
            revoked_at: to_micros_opt(staff.revoked_at),
        };
        staff_member::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into staff_members (brand_id, id unique)"))?;
        Ok(())
    }

    async fn staff_member(
        &mut self,
        brand: BrandId,
        id: StaffId,
    ) -> Result<Option<StaffMember>, StoreError> {
        staff_member::Entity::find()
            .filter(staff_member::Column::BrandId.eq(brand.as_uuid()))
            .filter(staff_member::Column::Id.eq(id.as_uuid()))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from staff_members"))?
            .map(staff_from_row)
            .transpose()
    }

    async fn staff(&mut self, brand: BrandId) -> Result<Vec<StaffMember>, StoreError> {
        staff_member::Entity::find()
            .filter(staff_member::Column::BrandId.eq(brand.as_uuid()))
            .order_by_asc(staff_member::Column::CreatedAt)
            .order_by_asc(staff_member::Column::Id)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from staff_members"))?
            .into_iter()
            .map(staff_from_row)
            .collect()
    }

    async fn set_pin(
        &mut self,
        brand: BrandId,
        id: StaffId,
        pin_hash: &str,
    ) -> Result<bool, StoreError> {
        let done = staff_member::Entity::update_many()
            .col_expr(staff_member::Column::PinHash, Expr::value(pin_hash))
            .col_expr(staff_member::Column::FailedPins, Expr::value(0i64))
            .filter(staff_member::Column::BrandId.eq(brand.as_uuid()))
            .filter(staff_member::Column::Id.eq(id.as_uuid()))
            .filter(staff_member::Column::RevokedAt.is_null())
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update staff_members"))?;
        Ok(done.rows_affected == 1)
    }

    async fn revoke_staff(
        &mut self,
        brand: BrandId,
        id: StaffId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = staff_member::Entity::update_many()
            .col_expr(staff_member::Column::RevokedAt, Expr::value(to_micros(now)))
            .filter(staff_member::Column::BrandId.eq(brand.as_uuid()))
            .filter(staff_member::Column::Id.eq(id.as_uuid()))
            .filter(staff_member::Column::RevokedAt.is_null())
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update staff_members"))?;
        Ok(done.rows_affected == 1)
    }

    async fn count_pin_attempt(
        &mut self,
        brand: BrandId,
        device: DeviceId,
        staff: StaffId,
        device_limit: u32,
        staff_limit: u32,
    ) -> Result<(bool, bool), StoreError> {
        let on_device = till_device::Entity::update_many()
            .col_expr(
                till_device::Column::FailedPins,
                Expr::col(till_device::Column::FailedPins).add(Expr::value(1)),
            )
            .filter(till_device::Column::BrandId.eq(brand.as_uuid()))
            .filter(till_device::Column::Id.eq(device.as_uuid()))
            .filter(till_device::Column::FailedPins.lt(i64::from(device_limit)))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update till_devices"))?;
        let on_staff = staff_member::Entity::update_many()
            .col_expr(
                staff_member::Column::FailedPins,
                Expr::col(staff_member::Column::FailedPins).add(Expr::value(1)),
            )
            .filter(staff_member::Column::BrandId.eq(brand.as_uuid()))
            .filter(staff_member::Column::Id.eq(staff.as_uuid()))
            .filter(staff_member::Column::FailedPins.lt(i64::from(staff_limit)))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update staff_members"))?;
        Ok((on_device.rows_affected == 1, on_staff.rows_affected == 1))
    }

    async fn clear_pin_failures(
        &mut self,
        brand: BrandId,
        device: DeviceId,
        staff: StaffId,
    ) -> Result<(), StoreError> {
        till_device::Entity::update_many()
            .col_expr(till_device::Column::FailedPins, Expr::value(0i64))
            .filter(till_device::Column::BrandId.eq(brand.as_uuid()))
            .filter(till_device::Column::Id.eq(device.as_uuid()))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update till_devices"))?;
        staff_member::Entity::update_many()
            .col_expr(staff_member::Column::FailedPins, Expr::value(0i64))
            .filter(staff_member::Column::BrandId.eq(brand.as_uuid()))
            .filter(staff_member::Column::Id.eq(staff.as_uuid()))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update staff_members"))?;
        Ok(())
    }

    async fn record_till_action(&mut self, action: &TillAction) -> Result<(), StoreError> {
        let row = till_action::Model {
            brand_id: action.brand_id.as_uuid(),
            id: action.id,
            at: to_micros(action.at),
            staff_id: action.staff_id.as_uuid(),
            location_id: action.location_id.as_uuid(),
            kind: action.kind.as_str().to_owned(),
            order_id: action.order_id.map(|o| o.as_uuid()),
        };
        till_action::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into till_actions"))?;
        Ok(())
    }

    async fn till_actions(
        &mut self,
        brand: BrandId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        after: Option<(OffsetDateTime, uuid::Uuid)>,
        limit: u64,
    ) -> Result<Vec<TillAction>, StoreError> {
        use till_action::Column as C;
        let mut select = till_action::Entity::find()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::At.gte(to_micros(from)))
            .filter(C::At.lt(to_micros(to)));
        if let Some((at, id)) = after {
            let at = to_micros(at);
            select = select.filter(
                Condition::any()
                    .add(C::At.gt(at))
                    .add(Condition::all().add(C::At.eq(at)).add(C::Id.gt(id))),
            );
        }
        select
            .order_by_asc(C::At)
            .order_by_asc(C::Id)
            .limit(limit)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from till_actions"))?
            .into_iter()
            .map(action_from_row)
            .collect()
    }
}
