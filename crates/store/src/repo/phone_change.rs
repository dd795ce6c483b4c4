//! A customer's phone number changed: the new number sealed with its blind index in the
//! customer's row, and their messages not yet sent re-addressed from the old number.

use crate::contact::{open, open_opt, seal, seal_opt};
use crate::convert::{from_json, to_json};
use crate::entity::{customer, outbox};
use crate::error::in_ctx;
use crate::repo::{customers, outbox as outbox_repo};
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, CustomerId, Phone};
use regulars_ports::{CustomerRepo, OutboxStatus, PhoneChange, Route, StoreError};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// Statuses a message can still leave from: a claimed message (`sending`) that fails
/// goes again from its row, so it is re-addressed too.
const NOT_YET_SENT: [OutboxStatus; 2] = [OutboxStatus::Pending, OutboxStatus::Sending];

/// See [`CustomerRepo::change_phone`].
pub(crate) async fn change_phone(
    tx: &mut StoreTransaction,
    brand: BrandId,
    id: CustomerId,
    phone: &Phone,
) -> Result<PhoneChange, StoreError> {
    let Some(current) = tx.customer(brand, id).await? else {
        return Err(StoreError::NotFound(format!("customer {id}")));
    };
    if current.phone == *phone {
        return Ok(PhoneChange::Unchanged);
    }
    // Asked first, so that a taken number writes nothing (on PostgreSQL a unique
    // violation would also end the caller's transaction); two changes racing to the
    // same number still meet the unique index and one gets a conflict.
    if tx.customer_by_phone(brand, phone).await?.is_some() {
        return Ok(PhoneChange::Taken);
    }
    let b = brand.as_uuid();
    let [place, _, _] = customers::places(b, &id.as_uuid());
    let keys = tx.keys();
    use customer::Column as C;
    let updated = customer::Entity::update_many()
        .col_expr(C::Phone, Expr::value(seal(keys, &place, phone.as_str())))
        .col_expr(
            C::PhoneIndex,
            Expr::value(keys.map(|keys| keys.phone_index(b, phone.as_str()))),
        )
        .filter(C::BrandId.eq(b))
        .filter(C::Id.eq(id.as_uuid()))
        .filter(C::ErasedAt.is_null())
        .exec(&tx.tx)
        .await
        .map_err(in_ctx("update customers (phone; brand_id + phone unique)"))?;
    if updated.rows_affected == 0 {
        return Err(StoreError::NotFound(format!("customer {id}")));
    }
    let readdressed = readdress(tx, brand, id, &current.phone, phone).await?;
    Ok(PhoneChange::Changed {
        previous: current.phone,
        readdressed,
    })
}

/// Moves the customer's messages not yet sent from `old` to `new`: their phone, their
/// recipient and their fallback routes, re-sealed under the current key. Emails stay.
async fn readdress(
    tx: &StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
    old: &Phone,
    new: &Phone,
) -> Result<u64, StoreError> {
    use outbox::Column as C;
    let rows = outbox::Entity::find()
        .filter(C::BrandId.eq(brand.as_uuid()))
        .filter(C::CustomerId.eq(customer.as_uuid()))
        .filter(C::Status.is_in(NOT_YET_SENT.map(OutboxStatus::as_str)))
        .all(&tx.tx)
        .await
        .map_err(in_ctx(
            "select from outbox (customer's messages not yet sent)",
        ))?;
    let keys = tx.keys();
    let swap = |value: String| {
        if value == old.as_str() {
            new.as_str().to_owned()
        } else {
            value
        }
    };
    let mut moved = 0;
    for row in rows {
        let [phone_place, recipient_place, fallbacks_place] =
            outbox_repo::places(row.brand_id, row.id);
        let phone = open_opt(keys, &phone_place, row.phone.as_deref())?;
        let recipient = open(keys, &recipient_place, &row.recipient)?;
        let fallbacks: Vec<Route> = from_json(
            "outbox fallbacks",
            &open(keys, &fallbacks_place, &row.fallbacks)?,
        )?;
        let touches = phone.as_deref() == Some(old.as_str())
            || recipient == old.as_str()
            || fallbacks.iter().any(|r| r.recipient == old.as_str());
        if !touches {
            continue;
        }
        let fallbacks: Vec<Route> = fallbacks
            .into_iter()
            .map(|r| Route {
                channel: r.channel,
                recipient: swap(r.recipient),
            })
            .collect();
        let done = outbox::Entity::update_many()
            .col_expr(
                C::Phone,
                Expr::value(seal_opt(keys, &phone_place, phone.map(swap).as_deref())),
            )
            .col_expr(
                C::Recipient,
                Expr::value(seal(keys, &recipient_place, &swap(recipient))),
            )
            .col_expr(
                C::Fallbacks,
                Expr::value(seal(
                    keys,
                    &fallbacks_place,
                    &to_json("outbox fallbacks", &fallbacks)?,
                )),
            )
            .filter(C::BrandId.eq(row.brand_id))
            .filter(C::Id.eq(row.id))
            .filter(C::Status.is_in(NOT_YET_SENT.map(OutboxStatus::as_str)))
            .exec(&tx.tx)
            .await
            .map_err(in_ctx("update outbox (re-address to the new phone)"))?;
        moved += done.rows_affected;
    }
    Ok(moved)
}
