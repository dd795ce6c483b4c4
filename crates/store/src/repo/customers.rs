//! [`CustomerRepo`]: customers and their running facts. Erased customers (rows kept
//! under their id, contact details destroyed) are never found, listed or updated.

use crate::contact::{ContactKeys, Place, open, open_opt, seal, seal_opt};
use crate::convert::{
    DATE_FORMAT, from_micros, from_micros_opt, money, to_i64, to_micros, to_micros_opt, to_minor,
    to_u64,
};
use crate::entity::{customer, customer_change, customer_stats};
use crate::error::{corrupt, in_ctx, unstorable};
use crate::repo::tier_reviews;
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{
    BrandId, ChangeSource, ChannelConsent, ConsentEvent, ConsentState, Customer, CustomerChange,
    CustomerId, Phone,
};
use regulars_ports::{
    CountedTimes, CustomerListQuery, CustomerListRow, CustomerRepo, CustomerStats, PhoneChange,
    StoreError, TierReview, TierState,
};
use sea_orm::sea_query::{Expr, OnConflict, UnionType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};
use time::Date;

#[async_trait]
impl CustomerRepo for StoreTransaction {
    async fn customer_by_phone(
        &mut self,
        brand: BrandId,
        phone: &Phone,
    ) -> Result<Option<Customer>, StoreError> {
        // Sealed, a customer is found by the blind index under every key (rows not yet
        // re-indexed after a rotation carry a previous key's): one indexed query. Only
        // when that finds nothing is the phone itself looked for, on rows written before
        // sealing (or by a server given no key) — the index is asked first, as a row
        // of each kind for one phone would have it found. (An `OR` of the two is planned
        // by SQLite, without statistics, as a scan of the brand's customers; a `UNION`
        // of them costs every look-up a second probe and a longer statement.)
        let by_phone = customer::Entity::find()
            .filter(customer::Column::BrandId.eq(brand.as_uuid()))
            .filter(customer::Column::Phone.eq(phone.as_str()))
            .filter(customer::Column::ErasedAt.is_null());
        let row = match self.keys() {
            None => by_phone.one(&self.tx).await,
            Some(keys) => {
                let by_index = customer::Entity::find()
                    .filter(customer::Column::BrandId.eq(brand.as_uuid()))
                    .filter(customer::Column::ErasedAt.is_null())
                    .filter(
                        customer::Column::PhoneIndex
                            .is_in(keys.phone_indexes(brand.as_uuid(), phone.as_str())),
                    );
                match by_index.one(&self.tx).await {
                    Ok(None) => by_phone.one(&self.tx).await,
                    found => found,
                }
            }
        };
        row.map_err(in_ctx("select from customers"))?
            .map(|row| customer_from_row(self.keys(), row))
            .transpose()
    }

    async fn customers_by_zalo_user(
        &mut self,
        brand: BrandId,
        zalo_user_id: &str,
    ) -> Result<Vec<Customer>, StoreError> {
        // As by phone: the blind index under every key, then the id itself on rows
        // written before sealing.
        let plain = customer::Entity::find()
            .filter(customer::Column::BrandId.eq(brand.as_uuid()))
            .filter(customer::Column::ZaloUserId.eq(zalo_user_id))
            .filter(customer::Column::ErasedAt.is_null());
        let rows = match self.keys() {
            None => plain.all(&self.tx).await,
            Some(keys) => {
                let mut both = customer::Entity::find()
                    .filter(customer::Column::BrandId.eq(brand.as_uuid()))
                    .filter(customer::Column::ErasedAt.is_null())
                    .filter(
                        customer::Column::ZaloIndex
                            .is_in(keys.zalo_indexes(brand.as_uuid(), zalo_user_id)),
                    )
                    .into_query();
                both.union(UnionType::All, plain.into_query());
                let statement = self.tx.get_database_backend().build(&both);
                customer::Entity::find()
                    .from_raw_sql(statement)
                    .all(&self.tx)
                    .await
            }
        };
        rows.map_err(in_ctx("select from customers by zalo id"))?
            .into_iter()
            .map(|row| customer_from_row(self.keys(), row))
            .collect()
    }

    async fn customer(
        &mut self,
        brand: BrandId,
        id: CustomerId,
    ) -> Result<Option<Customer>, StoreError> {
        customer::Entity::find_by_id((brand.as_uuid(), id.as_uuid()))
            .filter(customer::Column::ErasedAt.is_null())
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from customers"))?
            .map(|row| customer_from_row(self.keys(), row))
            .transpose()
    }

    async fn customers(
        &mut self,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<Customer>, StoreError> {
        let mut query = customer::Entity::find()
            .filter(customer::Column::BrandId.eq(brand.as_uuid()))
            .filter(customer::Column::ErasedAt.is_null())
            .order_by_asc(customer::Column::Id)
            .limit(limit);
        if let Some(after) = after {
            query = query.filter(customer::Column::Id.gt(after.as_uuid()));
        }
        query
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from customers"))?
            .into_iter()
            .map(|row| customer_from_row(self.keys(), row))
            .collect()
    }

    async fn customer_list(
        &mut self,
        brand: BrandId,
        query: &CustomerListQuery,
    ) -> Result<Vec<CustomerListRow>, StoreError> {
        super::customer_list::customer_list(self, brand, query).await
    }

    async fn ordered_at(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        codes: &[String],
    ) -> Result<bool, StoreError> {
        super::customer_list::ordered_at(self, brand, customer, codes).await
    }

    async fn customers_by_ids(
        &mut self,
        brand: BrandId,
        ids: &[CustomerId],
    ) -> Result<Vec<Customer>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        customer::Entity::find()
            .filter(customer::Column::BrandId.eq(brand.as_uuid()))
            .filter(customer::Column::Id.is_in(ids.iter().map(|id| id.as_uuid())))
            .filter(customer::Column::ErasedAt.is_null())
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from customers"))?
            .into_iter()
            .map(|row| customer_from_row(self.keys(), row))
            .collect()
    }

    async fn insert_customer(&mut self, customer: &Customer) -> Result<(), StoreError> {
        let row = customer_to_row(self.keys(), customer)?;
        customer::Entity::insert(row.into_active_model().reset_all())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into customers (brand_id, phone unique)"))?;
        Ok(())
    }

    async fn record_change(&mut self, change: &CustomerChange) -> Result<(), StoreError> {
        let row = customer_change::Model {
            brand_id: change.brand_id.as_uuid(),
            customer_id: change.customer_id.as_uuid(),
            id: change.id,
            at: to_micros(change.at),
            actor: change.actor.clone(),
            source: change.source.as_str().to_owned(),
            fields: change.fields.join(","),
            consent_zalo: change.consent.zalo.granted(),
            consent_sms: change.consent.sms.granted(),
            consent_email: change.consent.email.granted(),
        };
        customer_change::Entity::insert(row.into_active_model().reset_all())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into customer_changes"))?;
        Ok(())
    }

    async fn changes(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<CustomerChange>, StoreError> {
        use customer_change::Column as C;
        let rows = customer_change::Entity::find()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::CustomerId.eq(customer.as_uuid()))
            .order_by_asc(C::At)
            .order_by_asc(C::Id)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from customer_changes"))?;
        rows.into_iter().map(change_from_row).collect()
    }

    async fn record_consent(&mut self, events: &[ConsentEvent]) -> Result<(), StoreError> {
        super::consents::record(self, events).await
    }

    async fn consent_history(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        super::consents::history(self, brand, customer).await
    }

    /// Updates the profile fields; the phone, id and creation time stay as stored.
    async fn update_customer(&mut self, customer: &Customer) -> Result<(), StoreError> {
        let row = customer_to_row(self.keys(), customer)?;
        let updated = customer::Entity::update_many()
            .col_expr(customer::Column::Name, Expr::value(row.name))
            .col_expr(customer::Column::Birthday, Expr::value(row.birthday))
            .col_expr(customer::Column::Email, Expr::value(row.email))
            .col_expr(customer::Column::ZaloUserId, Expr::value(row.zalo_user_id))
            .col_expr(customer::Column::ZaloIndex, Expr::value(row.zalo_index))
            .col_expr(customer::Column::ConsentZalo, Expr::value(row.consent_zalo))
            .col_expr(customer::Column::ConsentSms, Expr::value(row.consent_sms))
            .col_expr(
                customer::Column::ConsentEmail,
                Expr::value(row.consent_email),
            )
            .col_expr(
                customer::Column::ConsentStateZalo,
                Expr::value(row.consent_state_zalo),
            )
            .col_expr(
                customer::Column::ConsentStateSms,
                Expr::value(row.consent_state_sms),
            )
            .col_expr(
                customer::Column::ConsentStateEmail,
                Expr::value(row.consent_state_email),
            )
            .col_expr(
                customer::Column::ConsentStateProfiling,
                Expr::value(row.consent_state_profiling),
            )
            .col_expr(
                customer::Column::ConsentStateProgramme,
                Expr::value(row.consent_state_programme),
            )
            .filter(customer::Column::BrandId.eq(row.brand_id))
            .filter(customer::Column::Id.eq(row.id))
            .filter(customer::Column::ErasedAt.is_null())
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update customers"))?;
        if updated.rows_affected == 0 {
            return Err(StoreError::NotFound(format!("customer {}", customer.id)));
        }
        Ok(())
    }

    async fn change_phone(
        &mut self,
        brand: BrandId,
        id: CustomerId,
        phone: &Phone,
    ) -> Result<PhoneChange, StoreError> {
        super::phone_change::change_phone(self, brand, id, phone).await
    }

    /// `None` until facts are first saved for the customer.
    async fn stats(
        &mut self,
        brand: BrandId,
        id: CustomerId,
    ) -> Result<Option<CustomerStats>, StoreError> {
        customer_stats::Entity::find_by_id((brand.as_uuid(), id.as_uuid()))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from customer_stats"))?
            .map(stats_from_row)
            .transpose()
    }

    async fn save_stats(
        &mut self,
        brand: BrandId,
        stats: &CustomerStats,
    ) -> Result<(), StoreError> {
        let row = stats_to_row(brand, stats)?;
        customer_stats::Entity::insert(row.into_active_model().reset_all())
            .on_conflict(stats_upsert())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("upsert into customer_stats"))?;
        Ok(())
    }

    async fn tiered_customers(
        &mut self,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<CustomerId>, StoreError> {
        tier_reviews::tiered_customers(self, brand, after, limit).await
    }

    async fn tier_review(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        period_end: time::OffsetDateTime,
    ) -> Result<Option<TierReview>, StoreError> {
        tier_reviews::tier_review(self, brand, customer, period_end).await
    }

    async fn record_tier_review(
        &mut self,
        brand: BrandId,
        review: &TierReview,
    ) -> Result<(), StoreError> {
        tier_reviews::record_tier_review(self, brand, review).await
    }

    /// Only the consent columns are read: no contact value is opened.
    async fn consents(
        &mut self,
        brand: BrandId,
        ids: &[CustomerId],
    ) -> Result<Vec<(CustomerId, ChannelConsent)>, StoreError> {
        use customer::Column as C;
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CONSENT_CHUNK) {
            let rows: Vec<(uuid::Uuid, String, String, String, String, String)> =
                customer::Entity::find()
                    .select_only()
                    .columns([
                        C::Id,
                        C::ConsentStateZalo,
                        C::ConsentStateSms,
                        C::ConsentStateEmail,
                        C::ConsentStateProfiling,
                        C::ConsentStateProgramme,
                    ])
                    .filter(C::BrandId.eq(brand.as_uuid()))
                    .filter(C::Id.is_in(chunk.iter().map(|id| id.as_uuid())))
                    .filter(C::ErasedAt.is_null())
                    .into_tuple()
                    .all(&self.tx)
                    .await
                    .map_err(in_ctx("select consent from customers"))?;
            for (id, zalo, sms, email, profiling, programme) in rows {
                let consent = ChannelConsent {
                    zalo: state("zalo", &zalo)?,
                    sms: state("sms", &sms)?,
                    email: state("email", &email)?,
                    profiling: state("profiling", &profiling)?,
                    programme: state("programme", &programme)?,
                };
                out.push((CustomerId::from_uuid(id), consent));
            }
        }
        Ok(out)
    }
}

/// Ids per `IN (...)` list of a consent read: well under both databases' parameter
/// limits.
const CONSENT_CHUNK: usize = 1_000;

/// Where each sealed column of a customer's row lives.
pub(crate) fn places(brand: uuid::Uuid, id: &uuid::Uuid) -> [Place; 3] {
    let row: &[&[u8]] = &[id.as_bytes()];
    [
        Place::new("customers.phone", brand, row),
        Place::new("customers.email", brand, row),
        Place::new("customers.zalo_user_id", brand, row),
    ]
}

pub(crate) fn customer_to_row(
    keys: Option<&ContactKeys>,
    customer: &Customer,
) -> Result<customer::Model, StoreError> {
    let (brand, id) = (customer.brand_id.as_uuid(), customer.id.as_uuid());
    let [phone, email, zalo] = places(brand, &id);
    Ok(customer::Model {
        brand_id: brand,
        id,
        phone: seal(keys, &phone, customer.phone.as_str()),
        phone_index: keys.map(|keys| keys.phone_index(brand, customer.phone.as_str())),
        zalo_index: keys.and_then(|keys| {
            customer
                .zalo_user_id
                .as_deref()
                .map(|zalo| keys.zalo_index(brand, zalo))
        }),
        name: customer.name.clone(),
        birthday: customer
            .birthday
            .map(|date| date.format(DATE_FORMAT))
            .transpose()
            .map_err(|e| unstorable("birthday", e))?,
        email: seal_opt(keys, &email, customer.email.as_deref()),
        zalo_user_id: seal_opt(keys, &zalo, customer.zalo_user_id.as_deref()),
        consent_zalo: customer.consent.zalo.granted(),
        consent_sms: customer.consent.sms.granted(),
        consent_email: customer.consent.email.granted(),
        consent_state_zalo: customer.consent.zalo.as_str().to_owned(),
        consent_state_sms: customer.consent.sms.as_str().to_owned(),
        consent_state_email: customer.consent.email.as_str().to_owned(),
        consent_state_profiling: customer.consent.profiling.as_str().to_owned(),
        consent_state_programme: customer.consent.programme.as_str().to_owned(),
        created_at: to_micros(customer.created_at),
        erased_at: None,
    })
}

pub(crate) fn customer_from_row(
    keys: Option<&ContactKeys>,
    row: customer::Model,
) -> Result<Customer, StoreError> {
    let [phone, email, zalo] = places(row.brand_id, &row.id);
    Ok(Customer {
        id: CustomerId::from_uuid(row.id),
        brand_id: BrandId::from_uuid(row.brand_id),
        phone: Phone::parse_e164(&open(keys, &phone, &row.phone)?)
            .map_err(|e| corrupt("customers.phone", e))?,
        name: row.name,
        birthday: row
            .birthday
            .as_deref()
            .map(|text| Date::parse(text, DATE_FORMAT))
            .transpose()
            .map_err(|e| corrupt("customers.birthday", e))?,
        email: open_opt(keys, &email, row.email.as_deref())?,
        zalo_user_id: open_opt(keys, &zalo, row.zalo_user_id.as_deref())?,
        consent: ChannelConsent {
            zalo: state("zalo", &row.consent_state_zalo)?,
            sms: state("sms", &row.consent_state_sms)?,
            email: state("email", &row.consent_state_email)?,
            profiling: state("profiling", &row.consent_state_profiling)?,
            programme: state("programme", &row.consent_state_programme)?,
        },
        created_at: from_micros(row.created_at)?,
    })
}

fn state(purpose: &str, stored: &str) -> Result<ConsentState, StoreError> {
    ConsentState::parse(stored)
        .ok_or_else(|| corrupt(&format!("customers.consent_state_{purpose}"), stored))
}

/// The `customer_stats` row of `stats`.
pub(crate) fn stats_to_row(
    brand: BrandId,
    stats: &CustomerStats,
) -> Result<customer_stats::Model, StoreError> {
    Ok(customer_stats::Model {
        brand_id: brand.as_uuid(),
        customer_id: stats.customer_id.as_uuid(),
        visits: to_i64("visits", stats.visits)?,
        spend_minor: to_minor(&stats.spend)?,
        spend_currency: stats.spend.currency().code().to_owned(),
        first_visit_at: to_micros_opt(stats.first_visit_at),
        first_counted_at: to_micros_opt(stats.counted.first),
        last_counted_at: to_micros_opt(stats.counted.last),
        second_last_counted_at: to_micros_opt(stats.counted.second_last),
        last_visit_at: to_micros_opt(stats.last_visit_at),
        tier_code: stats.tier.as_ref().map(|tier| tier.code.clone()),
        tier_since: stats.tier.as_ref().map(|tier| to_micros(tier.since)),
    })
}

/// Stats rows replace the stored ones.
pub(crate) fn stats_upsert() -> OnConflict {
    OnConflict::columns(STATS_KEY)
        .update_columns(STATS_UPDATED)
        .to_owned()
}

/// The key of `customer_stats`.
pub(crate) const STATS_KEY: [customer_stats::Column; 2] = [
    customer_stats::Column::BrandId,
    customer_stats::Column::CustomerId,
];

/// What replacing a customer's statistics replaces.
pub(crate) const STATS_UPDATED: [customer_stats::Column; 10] = {
    use customer_stats::Column as C;
    [
        C::Visits,
        C::SpendMinor,
        C::SpendCurrency,
        C::FirstVisitAt,
        C::FirstCountedAt,
        C::LastCountedAt,
        C::SecondLastCountedAt,
        C::LastVisitAt,
        C::TierCode,
        C::TierSince,
    ]
};

pub(crate) fn stats_from_row(row: customer_stats::Model) -> Result<CustomerStats, StoreError> {
    let tier = match (row.tier_code, row.tier_since) {
        (Some(code), Some(since)) => Some(TierState {
            code,
            since: from_micros(since)?,
        }),
        (None, None) => None,
        _ => {
            return Err(corrupt(
                "customer_stats.tier_code/tier_since",
                "one is set without the other",
            ));
        }
    };
    Ok(CustomerStats {
        customer_id: CustomerId::from_uuid(row.customer_id),
        visits: to_u64("customer_stats.visits", row.visits)?,
        spend: money(row.spend_minor, &row.spend_currency)?,
        first_visit_at: from_micros_opt(row.first_visit_at)?,
        counted: CountedTimes {
            first: from_micros_opt(row.first_counted_at)?,
            last: from_micros_opt(row.last_counted_at)?,
            second_last: from_micros_opt(row.second_last_counted_at)?,
        },
        last_visit_at: from_micros_opt(row.last_visit_at)?,
        tier,
    })
}

fn change_from_row(row: customer_change::Model) -> Result<CustomerChange, StoreError> {
    Ok(CustomerChange {
        id: row.id,
        brand_id: BrandId::from_uuid(row.brand_id),
        customer_id: CustomerId::from_uuid(row.customer_id),
        at: from_micros(row.at)?,
        actor: row.actor,
        source: ChangeSource::parse(&row.source)
            .ok_or_else(|| corrupt("customer_changes.source", &row.source))?,
        fields: row
            .fields
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
        // The change log keeps marketing consent as "granted or not"; the consent
        // history (`consent_events`) has every state.
        consent: ChannelConsent::marketing(row.consent_zalo, row.consent_sms, row.consent_email),
    })
}
