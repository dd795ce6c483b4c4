//! What POS integrations know about their customers: code → phone links and orders
//! waiting for one (the [`AccessRepo`](regulars_ports::AccessRepo) methods that
//! `access.rs` delegates here).

use crate::contact::{Place, open, seal};
use crate::convert::{from_json, to_json, to_micros};
use crate::entity::{pos_customer, pos_waiting_order};
use crate::error::{corrupt, in_ctx};
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, EventKey, IntegrationId, Order, Phone};
use regulars_ports::StoreError;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use time::OffsetDateTime;

/// Where a POS customer's sealed phone lives.
pub(crate) fn link_place(brand: uuid::Uuid, integration: uuid::Uuid, customer_ref: &str) -> Place {
    Place::new(
        "pos_customers.phone",
        brand,
        &[integration.as_bytes(), customer_ref.as_bytes()],
    )
}

/// Where a waiting order's sealed document lives.
pub(crate) fn waiting_place(brand: uuid::Uuid, integration: uuid::Uuid, key: &EventKey) -> Place {
    Place::new(
        "pos_waiting_orders.order_json",
        brand,
        &[
            integration.as_bytes(),
            key.source.as_bytes(),
            key.external_id.as_bytes(),
        ],
    )
}

pub(crate) async fn link(
    tx: &mut StoreTransaction,
    brand: BrandId,
    integration: IntegrationId,
    customer_ref: &str,
    phone: &Phone,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    use pos_customer::Column as C;
    let place = link_place(brand.as_uuid(), integration.as_uuid(), customer_ref);
    let row = pos_customer::Model {
        brand_id: brand.as_uuid(),
        integration_id: integration.as_uuid(),
        customer_ref: customer_ref.to_owned(),
        phone: seal(tx.keys(), &place, phone.as_str()),
        updated_at: to_micros(now),
    };
    pos_customer::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::columns([C::BrandId, C::IntegrationId, C::CustomerRef])
                .update_columns([C::Phone, C::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(&tx.tx)
        .await
        .map_err(in_ctx("upsert into pos_customers"))?;
    Ok(())
}

pub(crate) async fn phone(
    tx: &mut StoreTransaction,
    brand: BrandId,
    integration: IntegrationId,
    customer_ref: &str,
) -> Result<Option<Phone>, StoreError> {
    let row = pos_customer::Entity::find_by_id((
        brand.as_uuid(),
        integration.as_uuid(),
        customer_ref.to_owned(),
    ))
    .one(&tx.tx)
    .await
    .map_err(in_ctx("select from pos_customers"))?;
    let place = link_place(brand.as_uuid(), integration.as_uuid(), customer_ref);
    row.map(|r| {
        Phone::parse_e164(&open(tx.keys(), &place, &r.phone)?)
            .map_err(|e| corrupt("pos_customers.phone", e))
    })
    .transpose()
}

/// Deletes every POS link of the brand to `phone`, and the orders still waiting under
/// the customer codes it linked (a webhook that found no link yet may have parked one
/// while another linked the code); returns how many links and waiting orders went. The
/// phone is sealed under a fresh nonce, so the links are opened one by one: an erasure
/// is rare, a brand's POS links few.
pub(crate) async fn unlink_phone(
    tx: &mut StoreTransaction,
    brand: BrandId,
    phone: &Phone,
) -> Result<(u64, u64), StoreError> {
    let rows = pos_customer::Entity::find()
        .filter(pos_customer::Column::BrandId.eq(brand.as_uuid()))
        .all(&tx.tx)
        .await
        .map_err(in_ctx("select from pos_customers (erase)"))?;
    let (mut removed, mut waiting) = (0, 0);
    for row in rows {
        let place = link_place(row.brand_id, row.integration_id, &row.customer_ref);
        if open(tx.keys(), &place, &row.phone)? != phone.as_str() {
            continue;
        }
        let done = pos_customer::Entity::delete_by_id((
            row.brand_id,
            row.integration_id,
            row.customer_ref.clone(),
        ))
        .exec(&tx.tx)
        .await
        .map_err(in_ctx("delete from pos_customers (erase)"))?;
        removed += done.rows_affected;
        use pos_waiting_order::Column as W;
        let dropped = pos_waiting_order::Entity::delete_many()
            .filter(W::BrandId.eq(brand.as_uuid()))
            .filter(W::IntegrationId.eq(row.integration_id))
            .filter(W::CustomerRef.eq(row.customer_ref.as_str()))
            .exec(&tx.tx)
            .await
            .map_err(in_ctx("delete from pos_waiting_orders (erase)"))?;
        waiting += dropped.rows_affected;
    }
    Ok((removed, waiting))
}

pub(crate) async fn keep_waiting(
    tx: &mut StoreTransaction,
    brand: BrandId,
    integration: IntegrationId,
    customer_ref: &str,
    order: &Order,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    use pos_waiting_order::Column as C;
    let row = pos_waiting_order::Model {
        brand_id: brand.as_uuid(),
        integration_id: integration.as_uuid(),
        source: order.key.source.clone(),
        external_id: order.key.external_id.clone(),
        customer_ref: customer_ref.to_owned(),
        order_json: seal(
            tx.keys(),
            &waiting_place(brand.as_uuid(), integration.as_uuid(), &order.key),
            &to_json("waiting order", order)?,
        ),
        received_at: to_micros(now),
    };
    pos_waiting_order::Entity::insert(row.into_active_model())
        .on_conflict_do_nothing_on([C::BrandId, C::IntegrationId, C::Source, C::ExternalId])
        .exec_without_returning(&tx.tx)
        .await
        .map_err(in_ctx("insert into pos_waiting_orders"))?;
    Ok(())
}

pub(crate) async fn take_waiting(
    tx: &mut StoreTransaction,
    brand: BrandId,
    integration: IntegrationId,
    customer_ref: &str,
) -> Result<Vec<Order>, StoreError> {
    use pos_waiting_order::Column as C;
    let filter = || {
        sea_orm::Condition::all()
            .add(C::BrandId.eq(brand.as_uuid()))
            .add(C::IntegrationId.eq(integration.as_uuid()))
            .add(C::CustomerRef.eq(customer_ref))
    };
    let rows = pos_waiting_order::Entity::find()
        .filter(filter())
        .order_by_asc(C::ReceivedAt)
        .order_by_asc(C::ExternalId)
        .all(&tx.tx)
        .await
        .map_err(in_ctx("select from pos_waiting_orders"))?;
    pos_waiting_order::Entity::delete_many()
        .filter(filter())
        .exec(&tx.tx)
        .await
        .map_err(in_ctx("delete from pos_waiting_orders"))?;
    rows.iter()
        .map(|r| {
            let key = EventKey {
                source: r.source.clone(),
                external_id: r.external_id.clone(),
            };
            let place = waiting_place(r.brand_id, r.integration_id, &key);
            let json = open(tx.keys(), &place, &r.order_json)?;
            from_json("pos_waiting_orders.order_json", &json)
        })
        .collect()
}

pub(crate) async fn drop_waiting(
    tx: &mut StoreTransaction,
    brand: BrandId,
    integration: IntegrationId,
    order: &EventKey,
) -> Result<bool, StoreError> {
    use pos_waiting_order::Column as C;
    let result = pos_waiting_order::Entity::delete_many()
        .filter(C::BrandId.eq(brand.as_uuid()))
        .filter(C::IntegrationId.eq(integration.as_uuid()))
        .filter(C::Source.eq(order.source.as_str()))
        .filter(C::ExternalId.eq(order.external_id.as_str()))
        .exec(&tx.tx)
        .await
        .map_err(in_ctx("delete from pos_waiting_orders"))?;
    Ok(result.rows_affected > 0)
}
