//! Customers' profiles: registering, replacing and patching them. Every change records
//! who made it, when, from where, which fields it touched and the consent it left; every
//! change of consent is also appended to the customer's consent history, per purpose,
//! with the notice version shown.

use crate::Services;
use crate::account::load_brand;
use crate::manage::{ManageError, check_text, invalid, not_found};
use regulars_domain::{
    BrandId, ChangeSource, ChannelConsent, ConsentEvent, ConsentState, Customer, CustomerChange,
    CustomerId, Phone,
};
use regulars_ports::Transaction;
use time::Date;

/// A customer's editable profile, whole. The phone is read with the brand's calling code.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomerInput {
    /// Name, up to 200 bytes.
    pub name: Option<String>,
    /// Birthday.
    pub birthday: Option<Date>,
    /// Email address.
    pub email: Option<String>,
    /// Zalo follower id.
    pub zalo_user_id: Option<String>,
    /// Consent answers per purpose; a purpose left `None` keeps its state (at
    /// registration: never asked).
    pub consent: ConsentPatch,
    /// The version of the brand's processing notice the customer was shown.
    pub notice_version: Option<u32>,
    /// Where the consent answers came from when not from the caller itself (a sign-up
    /// form relayed by an integrator, say); the caller's own source otherwise.
    pub consent_source: Option<ChangeSource>,
}

impl CustomerInput {
    pub(crate) fn check(&self) -> Result<(), ManageError> {
        if let Some(name) = &self.name {
            check_text("name", name, 200)?;
        }
        if let Some(email) = &self.email {
            let shaped = email.len() <= 254
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                && email
                    .split_once('@')
                    .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
            if !shaped {
                return Err(invalid("email", "is not an email address"));
            }
        }
        if let Some(zalo) = &self.zalo_user_id {
            check_text("zalo_user_id", zalo, 64)?;
        }
        Ok(())
    }

    /// The fields given, for the record of a registration.
    pub(crate) fn given(&self) -> Vec<String> {
        let mut fields = Vec::new();
        let named = [
            ("name", self.name.is_some()),
            ("birthday", self.birthday.is_some()),
            ("email", self.email.is_some()),
            ("zalo_user_id", self.zalo_user_id.is_some()),
            ("consent", self.consent != ConsentPatch::default()),
        ];
        for (field, given) in named {
            if given {
                fields.push(field.to_owned());
            }
        }
        fields
    }
}

/// A partial change of a profile with JSON merge patch meaning (RFC 7396): `None` keeps
/// the stored value, `Some(None)` clears it, `Some(Some(v))` sets it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomerPatch {
    /// Name.
    pub name: Option<Option<String>>,
    /// Birthday.
    pub birthday: Option<Option<Date>>,
    /// Email address.
    pub email: Option<Option<String>>,
    /// Zalo follower id.
    pub zalo_user_id: Option<Option<String>>,
    /// Consent per purpose; a purpose left `None` keeps its consent.
    pub consent: ConsentPatch,
    /// The version of the brand's processing notice the customer was shown.
    pub notice_version: Option<u32>,
    /// Where the consent answers came from, when not from the caller itself.
    pub consent_source: Option<ChangeSource>,
}

/// Yes/no answers per purpose: `None` keeps a purpose's state; `true` grants; `false`
/// withdraws consent that was granted (see [`ConsentState::answered`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConsentPatch {
    /// Promotional Zalo messages.
    pub zalo: Option<bool>,
    /// Promotional SMS.
    pub sms: Option<bool>,
    /// Promotional email.
    pub email: Option<bool>,
    /// Personalised offers and segment targeting.
    pub profiling: Option<bool>,
    /// The loyalty programme itself.
    pub programme: Option<bool>,
}

impl ConsentPatch {
    /// The consent after these answers.
    pub fn apply(&self, current: ChannelConsent) -> ChannelConsent {
        let answer = |state: ConsentState, yes: Option<bool>| match yes {
            Some(yes) => state.answered(yes),
            None => state,
        };
        ChannelConsent {
            zalo: answer(current.zalo, self.zalo),
            sms: answer(current.sms, self.sms),
            email: answer(current.email, self.email),
            profiling: answer(current.profiling, self.profiling),
            programme: answer(current.programme, self.programme),
        }
    }
}

impl CustomerPatch {
    /// The whole profile after the patch is applied to `current`.
    pub fn apply(&self, current: &Customer) -> CustomerInput {
        let pick = |patch: &Option<Option<String>>, now: &Option<String>| match patch {
            Some(value) => value.clone(),
            None => now.clone(),
        };
        CustomerInput {
            name: pick(&self.name, &current.name),
            birthday: self.birthday.unwrap_or(current.birthday),
            email: pick(&self.email, &current.email),
            zalo_user_id: pick(&self.zalo_user_id, &current.zalo_user_id),
            consent: self.consent,
            notice_version: self.notice_version,
            consent_source: self.consent_source,
        }
    }

    /// The contact, consent and birthday fields the patch names (only an admin may
    /// change those of an existing customer), in a fixed order.
    pub fn guarded_fields(&self) -> Vec<&'static str> {
        let named = [
            ("birthday", self.birthday.is_some()),
            ("email", self.email.is_some()),
            ("zalo_user_id", self.zalo_user_id.is_some()),
            ("consent", self.consent != ConsentPatch::default()),
        ];
        named
            .into_iter()
            .filter_map(|(field, named)| named.then_some(field))
            .collect()
    }
}

/// Who makes a change to a profile, kept with the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeAuthor {
    /// Who, like `api-key:<id>`.
    pub actor: String,
    /// From where.
    pub source: ChangeSource,
}

impl Services {
    /// Registers a customer by phone (any common form, read with the brand's calling
    /// code), recording the consent given and who recorded it. A phone already
    /// registered is [`ManageError::Taken`].
    pub async fn create_customer(
        &self,
        brand: BrandId,
        phone: &str,
        input: CustomerInput,
        by: &ChangeAuthor,
    ) -> Result<Customer, ManageError> {
        input.check()?;
        let input = &input;
        self.manage("create_customer", async |tx| {
            let found = load_brand::<ManageError>(tx, brand).await?;
            let phone = Phone::parse(phone, found.calling_code)
                .map_err(|e| invalid("phone", e.to_string()))?;
            published(tx, brand, input.notice_version).await?;
            if tx
                .customers()
                .customer_by_phone(brand, &phone)
                .await?
                .is_some()
            {
                return Err(ManageError::Taken {
                    field: "phone",
                    message: format!("{phone} is registered already"),
                });
            }
            let customer = Customer {
                id: CustomerId::from_uuid(self.ids.new_id()),
                brand_id: brand,
                phone,
                name: input.name.as_deref().map(str::trim).map(str::to_owned),
                birthday: input.birthday,
                email: input.email.clone(),
                zalo_user_id: input.zalo_user_id.clone(),
                consent: input.consent.apply(ChannelConsent::default()),
                created_at: self.clock.now(),
            };
            tx.customers().insert_customer(&customer).await?;
            self.record_change(tx, &customer, input.given(), by).await?;
            self.record_consent(tx, &ChannelConsent::default(), &customer, input, by)
                .await?;
            self.after_registration_in(tx, &found, &customer, customer.created_at)
                .await?;
            Ok(customer)
        })
        .await
    }

    /// Replaces a customer's profile fields; the phone and id stay.
    pub async fn update_customer(
        &self,
        brand: BrandId,
        id: CustomerId,
        input: CustomerInput,
        by: &ChangeAuthor,
    ) -> Result<Customer, ManageError> {
        input.check()?;
        let input = &input;
        self.change_profile(brand, id, by, &|_| input.clone()).await
    }

    /// Changes the profile fields `patch` names and keeps the others.
    pub async fn patch_customer(
        &self,
        brand: BrandId,
        id: CustomerId,
        patch: CustomerPatch,
        by: &ChangeAuthor,
    ) -> Result<Customer, ManageError> {
        let patch = &patch;
        self.change_profile(brand, id, by, &|current| patch.apply(current))
            .await
    }

    /// The recorded changes of a customer's profile and consent, oldest first.
    pub async fn customer_changes(
        &self,
        brand: BrandId,
        id: CustomerId,
    ) -> Result<Vec<CustomerChange>, ManageError> {
        self.manage("customer_changes", async |tx| {
            if tx.customers().customer(brand, id).await?.is_none() {
                return Err(not_found("customer", id));
            }
            Ok(tx.customers().changes(brand, id).await?)
        })
        .await
    }

    async fn change_profile(
        &self,
        brand: BrandId,
        id: CustomerId,
        by: &ChangeAuthor,
        change: &(dyn Fn(&Customer) -> CustomerInput + Sync),
    ) -> Result<Customer, ManageError> {
        self.manage("update_customer", async |tx| {
            let Some(before) = tx.customers().customer(brand, id).await? else {
                return Err(not_found("customer", id));
            };
            let input = change(&before);
            input.check()?;
            published(tx, brand, input.notice_version).await?;
            let mut customer = before.clone();
            customer.name = input.name.as_deref().map(str::trim).map(str::to_owned);
            customer.birthday = input.birthday;
            customer.email = input.email.clone();
            customer.zalo_user_id = input.zalo_user_id.clone();
            customer.consent = input.consent.apply(before.consent);
            let fields: Vec<String> = before
                .changed_fields(&customer)
                .into_iter()
                .map(str::to_owned)
                .collect();
            if !fields.is_empty() {
                tx.customers().update_customer(&customer).await?;
                self.record_change(tx, &customer, fields, by).await?;
                self.record_consent(tx, &before.consent, &customer, &input, by)
                    .await?;
            }
            Ok(customer)
        })
        .await
    }

    /// The customer's consent history, oldest first.
    pub async fn consent_history(
        &self,
        brand: BrandId,
        id: CustomerId,
    ) -> Result<(Customer, Vec<ConsentEvent>), ManageError> {
        self.manage("consent_history", async |tx| {
            let Some(customer) = tx.customers().customer(brand, id).await? else {
                return Err(not_found("customer", id));
            };
            let history = tx.customers().consent_history(brand, id).await?;
            Ok((customer, history))
        })
        .await
    }

    /// Appends one event per purpose whose state differs between `before` and the
    /// customer's consent now.
    pub(crate) async fn record_consent(
        &self,
        tx: &mut dyn Transaction,
        before: &ChannelConsent,
        customer: &Customer,
        input: &CustomerInput,
        by: &ChangeAuthor,
    ) -> Result<(), ManageError> {
        let at = self.clock.now();
        let events: Vec<ConsentEvent> = before
            .changes(&customer.consent)
            .into_iter()
            .map(|(purpose, state)| ConsentEvent {
                brand_id: customer.brand_id,
                customer_id: customer.id,
                purpose,
                state,
                at,
                source: input.consent_source.unwrap_or(by.source),
                actor: by.actor.clone(),
                notice_version: input.notice_version,
            })
            .collect();
        tx.customers().record_consent(&events).await?;
        Ok(())
    }

    pub(crate) async fn record_change(
        &self,
        tx: &mut dyn Transaction,
        customer: &Customer,
        fields: Vec<String>,
        by: &ChangeAuthor,
    ) -> Result<(), ManageError> {
        let change = CustomerChange {
            id: self.ids.new_id(),
            brand_id: customer.brand_id,
            customer_id: customer.id,
            at: self.clock.now(),
            actor: by.actor.clone(),
            source: by.source,
            fields,
            consent: customer.consent,
        };
        tx.customers().record_change(&change).await?;
        Ok(())
    }
}

/// Refuses a consent that names a notice version the brand never published: the
/// version is the proof of what the customer was told.
async fn published(
    tx: &mut dyn Transaction,
    brand: BrandId,
    version: Option<u32>,
) -> Result<(), ManageError> {
    let Some(version) = version else {
        return Ok(());
    };
    if tx.notices().notice(brand, Some(version)).await?.is_none() {
        return Err(invalid(
            "consent.notice_version",
            format!("notice version {version} was never published for this brand"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use regulars_domain::CallingCode;
    use time::macros::{date, datetime};

    fn lan() -> Customer {
        Customer {
            id: CustomerId::from_uuid(uuid::Uuid::nil()),
            brand_id: BrandId::from_uuid(uuid::Uuid::nil()),
            phone: Phone::parse("0912345678", CallingCode(84)).unwrap_or_else(|e| panic!("{e}")),
            name: Some("Lan".into()),
            birthday: Some(date!(1990 - 05 - 04)),
            email: Some("lan@example.com".into()),
            zalo_user_id: Some("z".into()),
            consent: ChannelConsent::marketing(true, true, false),
            created_at: datetime!(2026-01-01 0:00 UTC),
        }
    }

    #[test]
    fn a_patch_keeps_what_it_does_not_name_and_clears_what_it_nulls() {
        let patch = CustomerPatch {
            name: Some(Some("Lan Anh".into())),
            zalo_user_id: Some(None),
            consent: ConsentPatch {
                email: Some(true),
                ..ConsentPatch::default()
            },
            ..CustomerPatch::default()
        };
        let after = patch.apply(&lan());
        assert_eq!(after.name.as_deref(), Some("Lan Anh"));
        assert_eq!(after.birthday, Some(date!(1990 - 05 - 04)));
        assert_eq!(after.email.as_deref(), Some("lan@example.com"));
        assert_eq!(after.zalo_user_id, None);
        assert_eq!(
            after.consent.apply(lan().consent),
            ChannelConsent::marketing(true, true, true)
        );
        assert_eq!(patch.guarded_fields(), ["zalo_user_id", "consent"]);
        assert!(CustomerPatch::default().guarded_fields().is_empty());
        assert_eq!(CustomerPatch::default().apply(&lan()).email, lan().email);
    }
}
