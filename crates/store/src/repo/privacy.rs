//! [`PrivacyRepo`]: erasure by de-identification, the request log, retention sweeps.

use crate::convert::{from_micros, from_micros_opt, to_micros, to_micros_opt};
use crate::entity::{brand_retention, customer, order, outbox, privacy_request};
use crate::error::{corrupt, in_ctx};
use crate::repo::outbox::{empty_payload, message_from_row};
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, ConsentState, CustomerId, Phone};
use regulars_ports::{
    ErasureCounts, OutboxMessage, OutboxStatus, PrivacyRepo, PrivacyRequest, PrivacyRequestKind,
    RetentionPolicy, StoreError,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    Statement, Value,
};
use time::OffsetDateTime;
use uuid::Uuid;

/// What an erased customer's phone column holds: unique per customer, not a phone, and
/// nothing in it can be turned back into the number.
fn erased_phone(customer: CustomerId) -> String {
    format!("erased:{customer}")
}

/// Why an erased customer's unredeemed vouchers were voided: a code is a bearer token,
/// and one left valid would still hand out the erased customer's rewards.
const ERASED_VOUCHER_REASON: &str = "the customer's data was erased";

/// The customer's messages: tied to them by id, or sent to their phone number.
fn messages_of(brand: BrandId, customer: CustomerId, phone: &Phone) -> Condition {
    use outbox::Column as C;
    Condition::all().add(C::BrandId.eq(brand.as_uuid())).add(
        Condition::any()
            .add(C::CustomerId.eq(customer.as_uuid()))
            .add(C::Phone.eq(phone.as_str()))
            .add(C::Recipient.eq(phone.as_str())),
    )
}

/// Statuses a message can still leave from.
const NOT_YET_SENT: [OutboxStatus; 2] = [OutboxStatus::Pending, OutboxStatus::Sending];

/// Statuses after which a message's body is no longer needed.
const FINISHED: [OutboxStatus; 5] = [
    OutboxStatus::Sent,
    OutboxStatus::Delivered,
    OutboxStatus::Failed,
    OutboxStatus::Dead,
    OutboxStatus::Cancelled,
];

impl StoreTransaction {
    /// Destroys the bodies of the messages matching `which`, and with `recipients` their
    /// phone and addresses too.
    pub(crate) async fn scrub_messages(
        &mut self,
        which: Condition,
        recipients: bool,
    ) -> Result<u64, StoreError> {
        use outbox::Column as C;
        let mut update = outbox::Entity::update_many()
            .col_expr(C::Payload, Expr::value(empty_payload()?))
            .col_expr(C::LastError, Expr::value(Option::<String>::None));
        if recipients {
            update = update
                .col_expr(C::Phone, Expr::value(Option::<String>::None))
                .col_expr(C::Recipient, Expr::value(String::new()))
                .col_expr(C::Fallbacks, Expr::value("[]".to_owned()));
        }
        let scrubbed = update
            .filter(which)
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update outbox (erase bodies)"))?;
        Ok(scrubbed.rows_affected)
    }
}

#[async_trait]
impl PrivacyRepo for StoreTransaction {
    async fn erase_customer(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        phone: &Phone,
        at: OffsetDateTime,
    ) -> Result<Option<ErasureCounts>, StoreError> {
        let b = brand.as_uuid();
        use customer::Column as Cu;
        let update = customer::Entity::update_many()
            .col_expr(Cu::Phone, Expr::value(erased_phone(customer)))
            .col_expr(Cu::PhoneIndex, Expr::value(Option::<String>::None))
            .col_expr(Cu::ZaloIndex, Expr::value(Option::<String>::None))
            .col_expr(Cu::Name, Expr::value(Option::<String>::None))
            .col_expr(Cu::Birthday, Expr::value(Option::<String>::None))
            .col_expr(Cu::Email, Expr::value(Option::<String>::None))
            .col_expr(Cu::ZaloUserId, Expr::value(Option::<String>::None))
            .col_expr(Cu::ConsentZalo, Expr::value(false))
            .col_expr(Cu::ConsentSms, Expr::value(false))
            .col_expr(Cu::ConsentEmail, Expr::value(false));
        // Nothing may be done with an erased customer's data any more.
        let withdrawn = ConsentState::Withdrawn.as_str().to_owned();
        let erased = [
            Cu::ConsentStateZalo,
            Cu::ConsentStateSms,
            Cu::ConsentStateEmail,
            Cu::ConsentStateProfiling,
            Cu::ConsentStateProgramme,
        ]
        .into_iter()
        .fold(update, |update, column| {
            update.col_expr(column, Expr::value(withdrawn.clone()))
        })
        .col_expr(Cu::ErasedAt, Expr::value(Some(to_micros(at))))
        .filter(Cu::BrandId.eq(b))
        .filter(Cu::Id.eq(customer.as_uuid()))
        .filter(Cu::ErasedAt.is_null())
        .exec(&self.tx)
        .await
        .map_err(in_ctx("update customers (erase)"))?;
        if erased.rows_affected == 0 {
            return Ok(None);
        }
        let orders = order::Entity::update_many()
            .col_expr(
                order::Column::CustomerPhone,
                Expr::value(Option::<String>::None),
            )
            .filter(order::Column::BrandId.eq(b))
            .filter(
                Condition::any()
                    .add(order::Column::CustomerId.eq(customer.as_uuid()))
                    .add(order::Column::CustomerPhone.eq(phone.as_str())),
            )
            .filter(order::Column::CustomerPhone.is_not_null())
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update orders (erase phone)"))?;
        let cancelled = outbox::Entity::update_many()
            .col_expr(
                outbox::Column::Status,
                Expr::value(OutboxStatus::Cancelled.as_str()),
            )
            .filter(messages_of(brand, customer, phone))
            .filter(outbox::Column::Status.is_in(NOT_YET_SENT.map(OutboxStatus::as_str)))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update outbox (cancel)"))?;
        let messages = self
            .scrub_messages(messages_of(brand, customer, phone), true)
            .await?;
        let (links, waiting) = crate::repo::pos_customers::unlink_phone(self, brand, phone).await?;
        let vouchers = self
            .void_where(
                brand,
                crate::entity::voucher::Column::CustomerId.eq(customer.as_uuid()),
                at,
                ERASED_VOUCHER_REASON,
                "update vouchers (void on erasure)",
            )
            .await?;
        Ok(Some(ErasureCounts {
            orders: orders.rows_affected,
            messages,
            messages_cancelled: cancelled.rows_affected,
            pos_links: links,
            pos_waiting_orders: waiting,
            vouchers_voided: vouchers,
        }))
    }

    async fn record_request(&mut self, request: &PrivacyRequest) -> Result<(), StoreError> {
        let row = privacy_request::Model {
            brand_id: request.brand_id.as_uuid(),
            id: request.id,
            customer_id: request.customer_id.as_uuid(),
            kind: request.kind.as_str().to_owned(),
            actor: request.actor.clone(),
            received_at: to_micros(request.received_at),
            deadline_at: to_micros(request.deadline_at),
            completed_at: to_micros_opt(request.completed_at),
            outcome: request.outcome.clone(),
        };
        privacy_request::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into privacy_requests"))?;
        Ok(())
    }

    async fn requests(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<PrivacyRequest>, StoreError> {
        use privacy_request::Column as C;
        let rows = privacy_request::Entity::find()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::CustomerId.eq(customer.as_uuid()))
            .order_by_asc(C::ReceivedAt)
            .order_by_asc(C::Id)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from privacy_requests"))?;
        rows.into_iter()
            .map(|row| {
                let kind = [
                    PrivacyRequestKind::Export,
                    PrivacyRequestKind::Erasure,
                    PrivacyRequestKind::Retention,
                    PrivacyRequestKind::Correction,
                    PrivacyRequestKind::ConsentWithdrawal,
                    PrivacyRequestKind::CorrectPhone,
                ]
                .into_iter()
                .find(|k| k.as_str() == row.kind)
                .ok_or_else(|| corrupt("privacy_requests.kind", &row.kind))?;
                Ok(PrivacyRequest {
                    id: row.id,
                    brand_id: BrandId::from_uuid(row.brand_id),
                    customer_id: CustomerId::from_uuid(row.customer_id),
                    kind,
                    actor: row.actor,
                    received_at: from_micros(row.received_at)?,
                    deadline_at: from_micros(row.deadline_at)?,
                    completed_at: from_micros_opt(row.completed_at)?,
                    outcome: row.outcome,
                })
            })
            .collect()
    }

    async fn messages_of(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        phone: &Phone,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        outbox::Entity::find()
            .filter(messages_of(brand, customer, phone))
            .order_by_asc(outbox::Column::CreatedAt)
            .order_by_asc(outbox::Column::Id)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from outbox (customer)"))?
            .into_iter()
            .map(|row| message_from_row(self.keys(), row))
            .collect()
    }

    async fn inactive_customers(
        &mut self,
        brand: BrandId,
        before: OffsetDateTime,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<CustomerId>, StoreError> {
        let backend = self.tx.get_database_backend();
        let postgres = self.is_postgres();
        let p = |n: usize| {
            if postgres {
                format!("${n}")
            } else {
                "?".to_owned()
            }
        };
        let sql = format!(
            "SELECT c.id AS id FROM customers c \
             LEFT JOIN customer_stats s ON s.brand_id = c.brand_id AND s.customer_id = c.id \
             WHERE c.brand_id = {} AND c.erased_at IS NULL \
             AND COALESCE(s.last_visit_at, c.created_at) < {} AND c.id > {} \
             ORDER BY c.id LIMIT {}",
            p(1),
            p(2),
            p(3),
            p(4)
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let statement = Statement::from_sql_and_values(
            backend,
            sql,
            [
                Value::from(brand.as_uuid()),
                Value::from(to_micros(before)),
                Value::from(after.map_or(Uuid::nil(), |a| a.as_uuid())),
                Value::from(limit),
            ],
        );
        let rows = self
            .tx
            .query_all_raw(statement)
            .await
            .map_err(in_ctx("select inactive customers"))?;
        rows.into_iter()
            .map(|row| {
                row.try_get::<Uuid>("", "id")
                    .map(CustomerId::from_uuid)
                    .map_err(|e| corrupt("customers.id", e))
            })
            .collect()
    }

    async fn retention_policy(
        &mut self,
        brand: BrandId,
    ) -> Result<Option<RetentionPolicy>, StoreError> {
        let period = |what: &str, v: Option<i64>| {
            v.map(|n| u32::try_from(n).map_err(|e| corrupt(what, e)))
                .transpose()
        };
        brand_retention::Entity::find_by_id(brand.as_uuid())
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from brand_retention"))?
            .map(|row| {
                Ok(RetentionPolicy {
                    inactive_customer_months: period(
                        "brand_retention.inactive_customer_months",
                        row.inactive_customer_months,
                    )?,
                    message_body_days: period(
                        "brand_retention.message_body_days",
                        row.message_body_days,
                    )?,
                })
            })
            .transpose()
    }

    async fn save_retention_policy(
        &mut self,
        brand: BrandId,
        policy: &RetentionPolicy,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        use brand_retention::Column as C;
        let row = brand_retention::Model {
            brand_id: brand.as_uuid(),
            inactive_customer_months: policy.inactive_customer_months.map(i64::from),
            message_body_days: policy.message_body_days.map(i64::from),
            updated_at: to_micros(at),
        };
        brand_retention::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::column(C::BrandId)
                    .update_columns([C::InactiveCustomerMonths, C::MessageBodyDays, C::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("upsert into brand_retention"))?;
        Ok(())
    }

    async fn purge_message_bodies(
        &mut self,
        brand: BrandId,
        before: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        use outbox::Column as C;
        let which = Condition::all()
            .add(C::BrandId.eq(brand.as_uuid()))
            .add(C::Status.is_in(FINISHED.map(OutboxStatus::as_str)))
            .add(C::CreatedAt.lt(to_micros(before)))
            .add(C::Payload.ne(empty_payload()?));
        // The phone stays until the customer is erased: the legal cap per phone number
        // counts past messages.
        self.scrub_messages(which, false).await
    }
}
