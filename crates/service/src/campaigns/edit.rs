//! Creating and editing a campaign's definition: the API document checked against the
//! brand, its policy and its reward catalogue.

use super::{CampaignError, definition_json, find_locked, invalid};
use crate::Services;
use crate::account::load_brand;
use crate::brand_policy::{policy_of, under_brand};
use regulars_campaigns::{Campaign, CampaignError as DefinitionError};
use regulars_domain::{BrandId, CampaignId, Channel, RewardId};
use regulars_ports::{Brand, CampaignRecord, CampaignStatus, Transaction};
use serde_json::{Map, Value};

impl Services {
    /// Creates a draft campaign from a campaign document (see `docs/campaigns.md`). The
    /// server sets `id`; `shop`, `currency` and `utc_offset` default to the brand's (a
    /// different currency is refused); an offer's reward is named by `reward_id` and
    /// copied from the catalogue, so vouchers it issues are redeemable like any other.
    pub async fn create_campaign(
        &self,
        brand: BrandId,
        document: &Value,
    ) -> Result<CampaignRecord, CampaignError> {
        let id = CampaignId::from_uuid(self.ids.new_id());
        self.transact("create_campaign", |mut tx| async move {
            let result = async {
                let b = load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                let mut campaign = resolve(tx.as_mut(), &b, id, document).await?;
                self.fit_sms_product(&mut campaign, document)?;
                let now = self.clock.now();
                let record = CampaignRecord {
                    id,
                    brand_id: brand,
                    name: campaign.name.clone(),
                    definition: definition_json(&campaign)?,
                    status: CampaignStatus::Draft,
                    budget_used_minor: 0,
                    created_at: now,
                    updated_at: now,
                    last_run_at: None,
                };
                tx.campaigns().insert_campaign(&record).await?;
                Ok(record)
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Replaces the definition of a draft or paused campaign; a paused one was launched,
    /// so its variants and hold-out stay as they were.
    pub async fn update_campaign(
        &self,
        brand: BrandId,
        id: CampaignId,
        document: &Value,
    ) -> Result<CampaignRecord, CampaignError> {
        self.transact("update_campaign", |mut tx| async move {
            let result = async {
                let b = load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                let mut record = find_locked(tx.as_mut(), brand, id).await?;
                if !matches!(
                    record.status,
                    CampaignStatus::Draft | CampaignStatus::Paused
                ) {
                    return Err(CampaignError::WrongStatus {
                        campaign: id,
                        status: record.status,
                        action: "only draft or paused campaigns can be edited",
                    });
                }
                let mut campaign = resolve(tx.as_mut(), &b, id, document).await?;
                self.fit_sms_product(&mut campaign, document)?;
                crate::campaign_variants::check_launched_edit(&record, &campaign)?;
                record.name = campaign.name.clone();
                record.definition = definition_json(&campaign)?;
                record.updated_at = self.clock.now();
                tx.campaigns().update_campaign(&record).await?;
                tx.campaigns().campaign_changed(record.brand_id).await?;
                Ok(record)
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Fits a promotional campaign to an SMS channel that is a customer-care product (see
    /// [`Services::with_customer_care_sms`]): a document that left the default channel
    /// list gets the list without SMS; one that names SMS is refused, naming its place in
    /// `channels`.
    fn fit_sms_product(
        &self,
        campaign: &mut Campaign,
        document: &Value,
    ) -> Result<(), CampaignError> {
        if !self.customer_care_sms || !campaign.is_promotional() {
            return Ok(());
        }
        let Some(i) = campaign.channels.iter().position(|c| *c == Channel::Sms) else {
            return Ok(());
        };
        if document.get("channels").is_none() && campaign.channels.len() > 1 {
            campaign.channels.retain(|c| *c != Channel::Sms);
            return Ok(());
        }
        let path = if document.get("channels").is_some() {
            format!("channels[{i}]")
        } else {
            "channels".to_owned()
        };
        Err(invalid(
            path,
            "SMS goes out as eSMS customer-care messages (SmsType 2), which may not carry \
             promotional content; list the campaign's channels without \"sms\" (Zalo, email)",
        ))
    }
}

/// Turns an API campaign document into a checked [`Campaign`] of this brand.
pub(crate) async fn resolve(
    tx: &mut dyn Transaction,
    brand: &Brand,
    id: CampaignId,
    document: &Value,
) -> Result<Campaign, CampaignError> {
    let Value::Object(fields) = document else {
        return Err(invalid("", "a campaign document must be a JSON object"));
    };
    let mut doc = fields.clone();
    match doc.get("id") {
        None => {}
        Some(Value::String(s)) if s == &id.to_string() => {}
        Some(_) => return Err(invalid("id", "is set by the server; leave it out")),
    }
    doc.insert("id".into(), Value::String(id.to_string()));
    doc.entry("shop")
        .or_insert_with(|| Value::String(brand.name.clone()));
    let currency = brand.currency.code().to_owned();
    match doc.get("currency") {
        None => {
            doc.insert("currency".into(), Value::String(currency));
        }
        Some(Value::String(c)) if *c == currency => {}
        Some(_) => {
            return Err(invalid(
                "currency",
                format!("must be the brand currency {currency}"),
            ));
        }
    }
    if !doc.contains_key("utc_offset") {
        doc.insert(
            "utc_offset".into(),
            Value::String(format_offset(brand.utc_offset)),
        );
    }
    if let Some(offer) = doc.get_mut("offer") {
        resolve_offer(tx, brand.id, offer, "offer").await?;
    }
    if let Some(Value::Array(variants)) = doc.get_mut("variants") {
        for (i, v) in variants.iter_mut().enumerate() {
            if let Some(offer) = v.get_mut("offer") {
                resolve_offer(tx, brand.id, offer, &format!("variants[{i}].offer")).await?;
            }
        }
    }
    let text =
        serde_json::to_string(&Value::Object(doc)).map_err(|e| invalid("", e.to_string()))?;
    let definition_error = |e: DefinitionError| match e {
        DefinitionError::Invalid { path, message } => invalid(path, message),
        other => invalid("", other.to_string()),
    };
    let mut campaign = Campaign::from_json(&text).map_err(definition_error)?;
    if campaign.utc_offset != brand.utc_offset {
        return Err(invalid(
            "utc_offset",
            format!(
                "is the brand's setting ({}); leave it out",
                format_offset(brand.utc_offset)
            ),
        ));
    }
    let policy = policy_of(tx, brand.id).await?;
    campaign.check_policy(&policy).map_err(definition_error)?;
    under_brand(&mut campaign, brand, policy);
    // Again under the brand's own promotional prefix.
    campaign.check_sms().map_err(definition_error)?;
    Ok(campaign)
}

/// An offer's rewards named by `reward_id`, each copied from the catalogue.
async fn resolve_offer(
    tx: &mut dyn Transaction,
    brand: BrandId,
    offer: &mut Value,
    path: &str,
) -> Result<(), CampaignError> {
    let Value::Object(offer) = offer else {
        return Ok(());
    };
    if let Some(reward) = offer.get_mut("reward") {
        resolve_reward(tx, brand, reward, &format!("{path}.reward")).await?;
    }
    if let Some(Value::Array(candidates)) = offer.get_mut("candidates") {
        for (i, c) in candidates.iter_mut().enumerate() {
            resolve_reward(tx, brand, c, &format!("{path}.candidates[{i}]")).await?;
        }
    }
    Ok(())
}

/// `{"reward_id": "…", "cost": …}` → `{"reward": <catalogue reward>, "cost": …}`.
async fn resolve_reward(
    tx: &mut dyn Transaction,
    brand: BrandId,
    priced: &mut Value,
    path: &str,
) -> Result<(), CampaignError> {
    let Value::Object(fields) = priced else {
        return Err(invalid(path, "must be an object with reward_id and cost"));
    };
    if fields.contains_key("reward") {
        return Err(invalid(
            format!("{path}.reward"),
            "name a reward of the catalogue with reward_id",
        ));
    }
    let Some(Value::String(raw)) = fields.remove("reward_id") else {
        return Err(invalid(
            format!("{path}.reward_id"),
            "is required: the id of a reward in the catalogue",
        ));
    };
    let reward_id: RewardId = raw
        .parse()
        .map_err(|_| invalid(format!("{path}.reward_id"), "is not a valid id"))?;
    let reward = tx.brands().reward(brand, reward_id).await?.ok_or_else(|| {
        invalid(
            format!("{path}.reward_id"),
            "no such reward in the catalogue",
        )
    })?;
    let json = serde_json::to_value(&reward).map_err(|e| invalid(path, e.to_string()))?;
    let mut out = Map::new();
    out.insert("reward".into(), json);
    for (k, v) in std::mem::take(fields) {
        out.insert(k, v);
    }
    *fields = out;
    Ok(())
}

fn format_offset(offset: time::UtcOffset) -> String {
    let (h, m, _) = offset.as_hms();
    let sign = if offset.is_negative() { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
}
