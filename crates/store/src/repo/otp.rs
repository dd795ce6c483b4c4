//! [`OtpRepo`]: one-time codes (hashes only) and customer sessions (token hashed, phone
//! sealed like every contact field).

use crate::contact::{Place, open, seal};
use crate::convert::{from_micros, to_micros};
use crate::entity::{customer_session, otp_code};
use crate::error::{corrupt, in_ctx};
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, CustomerId, Phone};
use regulars_ports::{CustomerSession, OtpRecord, OtpRepo, StoreError};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use time::OffsetDateTime;

/// The sealed phone's place: its brand and session.
fn phone_place(brand: BrandId, token_hash: &str) -> Place {
    Place::new(
        "customer_sessions.phone",
        brand.as_uuid(),
        &[token_hash.as_bytes()],
    )
}

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn uncount(what: &'static str, n: i32) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|e| corrupt(what, e))
}

fn otp_to_row(record: &OtpRecord) -> otp_code::Model {
    otp_code::Model {
        brand_id: record.brand_id.as_uuid(),
        purpose: record.purpose.clone(),
        phone_key: record.phone_key.clone(),
        code_hash: record.code_hash.clone(),
        attempts: count(record.attempts),
        sends: count(record.sends),
        window_started_at: to_micros(record.window_started_at),
        expires_at: to_micros(record.expires_at),
        created_at: to_micros(record.created_at),
    }
}

fn otp_from_row(row: otp_code::Model) -> Result<OtpRecord, StoreError> {
    Ok(OtpRecord {
        brand_id: BrandId::from_uuid(row.brand_id),
        purpose: row.purpose,
        phone_key: row.phone_key,
        code_hash: row.code_hash,
        attempts: uncount("otp_codes.attempts", row.attempts)?,
        sends: uncount("otp_codes.sends", row.sends)?,
        window_started_at: from_micros(row.window_started_at)?,
        expires_at: from_micros(row.expires_at)?,
        created_at: from_micros(row.created_at)?,
    })
}

#[async_trait]
impl OtpRepo for StoreTransaction {
    async fn otp(
        &mut self,
        brand: BrandId,
        purpose: &str,
        phone_key: &str,
    ) -> Result<Option<OtpRecord>, StoreError> {
        otp_code::Entity::find_by_id((brand.as_uuid(), purpose.to_owned(), phone_key.to_owned()))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from otp_codes"))?
            .map(otp_from_row)
            .transpose()
    }

    async fn save_otp(
        &mut self,
        record: &OtpRecord,
        previous: Option<OtpRecord>,
    ) -> Result<bool, StoreError> {
        use otp_code::Column as C;
        let row = otp_to_row(record);
        let Some(previous) = previous else {
            otp_code::Entity::insert(row.into_active_model())
                .exec_without_returning(&self.tx)
                .await
                .map_err(in_ctx(
                    "insert into otp_codes (brand_id, purpose, phone_key)",
                ))?;
            return Ok(true);
        };
        let done = otp_code::Entity::update_many()
            .col_expr(C::CodeHash, Expr::value(row.code_hash))
            .col_expr(C::Attempts, Expr::value(row.attempts))
            .col_expr(C::Sends, Expr::value(row.sends))
            .col_expr(C::WindowStartedAt, Expr::value(row.window_started_at))
            .col_expr(C::ExpiresAt, Expr::value(row.expires_at))
            .col_expr(C::CreatedAt, Expr::value(row.created_at))
            .filter(C::BrandId.eq(row.brand_id))
            .filter(C::Purpose.eq(row.purpose))
            .filter(C::PhoneKey.eq(row.phone_key))
            .filter(C::Sends.eq(count(previous.sends)))
            .filter(C::CreatedAt.eq(to_micros(previous.created_at)))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update otp_codes"))?;
        Ok(done.rows_affected == 1)
    }

    async fn count_attempt(
        &mut self,
        brand: BrandId,
        purpose: &str,
        phone_key: &str,
        max: u32,
    ) -> Result<Option<u32>, StoreError> {
        use otp_code::Column as C;
        let done = otp_code::Entity::update_many()
            .col_expr(C::Attempts, Expr::col(C::Attempts).add(1))
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::Purpose.eq(purpose))
            .filter(C::PhoneKey.eq(phone_key))
            .filter(C::Attempts.lt(count(max)))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update otp_codes"))?;
        if done.rows_affected == 0 {
            return Ok(None);
        }
        Ok(self
            .otp(brand, purpose, phone_key)
            .await?
            .map(|record| record.attempts))
    }

    async fn delete_otp(
        &mut self,
        brand: BrandId,
        purpose: &str,
        phone_key: &str,
    ) -> Result<(), StoreError> {
        use otp_code::Column as C;
        otp_code::Entity::delete_many()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::Purpose.eq(purpose))
            .filter(C::PhoneKey.eq(phone_key))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("delete from otp_codes"))?;
        Ok(())
    }

    async fn insert_session(&mut self, session: &CustomerSession) -> Result<(), StoreError> {
        let place = phone_place(session.brand_id, &session.token_hash);
        let row = customer_session::Model {
            brand_id: session.brand_id.as_uuid(),
            token_hash: session.token_hash.clone(),
            purpose: session.purpose.clone(),
            phone: seal(self.keys(), &place, session.phone.as_str()),
            customer_id: session.customer_id.map(|c| c.as_uuid()),
            created_at: to_micros(session.created_at),
            expires_at: to_micros(session.expires_at),
        };
        customer_session::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx(
                "insert into customer_sessions (brand_id, token_hash)",
            ))?;
        Ok(())
    }

    async fn session(
        &mut self,
        brand: BrandId,
        token_hash: &str,
    ) -> Result<Option<CustomerSession>, StoreError> {
        let Some(row) =
            customer_session::Entity::find_by_id((brand.as_uuid(), token_hash.to_owned()))
                .one(&self.tx)
                .await
                .map_err(in_ctx("select from customer_sessions"))?
        else {
            return Ok(None);
        };
        let place = phone_place(brand, &row.token_hash);
        let phone = open(self.keys(), &place, &row.phone)?;
        Ok(Some(CustomerSession {
            brand_id: brand,
            token_hash: row.token_hash,
            purpose: row.purpose,
            phone: Phone::parse_e164(&phone).map_err(|e| corrupt("customer_sessions.phone", e))?,
            customer_id: row.customer_id.map(CustomerId::from_uuid),
            created_at: from_micros(row.created_at)?,
            expires_at: from_micros(row.expires_at)?,
        }))
    }

    async fn bind_session(
        &mut self,
        brand: BrandId,
        token_hash: &str,
        customer: CustomerId,
    ) -> Result<bool, StoreError> {
        use customer_session::Column as C;
        let done = customer_session::Entity::update_many()
            .col_expr(C::CustomerId, Expr::value(customer.as_uuid()))
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::TokenHash.eq(token_hash))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update customer_sessions"))?;
        Ok(done.rows_affected == 1)
    }

    async fn delete_session(&mut self, brand: BrandId, token_hash: &str) -> Result<(), StoreError> {
        use customer_session::Column as C;
        customer_session::Entity::delete_many()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::TokenHash.eq(token_hash))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("delete from customer_sessions"))?;
        Ok(())
    }

    async fn drop_expired(
        &mut self,
        brand: BrandId,
        now: OffsetDateTime,
        window_before: OffsetDateTime,
    ) -> Result<(u64, u64), StoreError> {
        let codes = otp_code::Entity::delete_many()
            .filter(otp_code::Column::BrandId.eq(brand.as_uuid()))
            .filter(otp_code::Column::ExpiresAt.lt(to_micros(now)))
            .filter(otp_code::Column::WindowStartedAt.lt(to_micros(window_before)))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("delete from otp_codes"))?;
        let sessions = customer_session::Entity::delete_many()
            .filter(customer_session::Column::BrandId.eq(brand.as_uuid()))
            .filter(customer_session::Column::ExpiresAt.lt(to_micros(now)))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("delete from customer_sessions"))?;
        Ok((codes.rows_affected, sessions.rows_affected))
    }
}
