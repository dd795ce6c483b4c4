//! What a planned message becomes when written: its voucher and its outbox row.

use super::{CampaignError, priced_offers};
use crate::Services;
use regulars_campaigns::Campaign;
use regulars_campaigns::plan::{CustomerFacts, PlannedMessage};
use regulars_domain::{Channel, RewardId, VoucherId};
use regulars_loyalty::vouchers::{NewVoucher, Voucher, VoucherSource};
use regulars_ports::{Brand, OutboxMessage, OutboxStatus, Route, SendWindow};
use time::OffsetDateTime;

impl Services {
    pub(crate) fn campaign_voucher(
        &self,
        campaign: &Campaign,
        message: &PlannedMessage,
        reward: RewardId,
        now: OffsetDateTime,
    ) -> Result<Voucher, CampaignError> {
        let priced = priced_offers(campaign)
            .into_iter()
            .map(|p| &p.reward)
            .find(|r| r.id == reward)
            .ok_or_else(|| CampaignError::CorruptDefinition {
                campaign: campaign.id,
                message: format!("planned reward {reward} is not among the offers"),
            })?;
        let corrupt = |message: String| CampaignError::CorruptDefinition {
            campaign: campaign.id,
            message,
        };
        // Valid from now, for its validity counted from when the message goes out.
        let expires_at = priced
            .voucher_expires_at(message.send_at.max(now))
            .map_err(|e| corrupt(e.to_string()))?;
        Voucher::issue(NewVoucher {
            id: VoucherId::from_uuid(self.ids.new_id()),
            code: self.voucher_code(),
            customer: message.customer_id,
            reward,
            source: VoucherSource::Campaign {
                campaign: campaign.id,
            },
            issued_at: now,
            expires_at,
        })
        .map_err(|e| corrupt(e.to_string()))
    }

    pub(crate) fn outbox_message(
        &self,
        brand: &Brand,
        campaign: &Campaign,
        facts: &CustomerFacts,
        m: &PlannedMessage,
        voucher: Option<&Voucher>,
        now: OffsetDateTime,
    ) -> OutboxMessage {
        let code = voucher.map(|v| v.code().to_string());
        let body = match &code {
            Some(code) => m.with_code(code),
            None => m.text.clone(),
        };
        let body = self.with_rating_link(body, brand, facts, now);
        let route_of = |channel: Channel| -> Option<Route> {
            let recipient = match channel {
                Channel::Zalo | Channel::Sms => Some(facts.phone.as_str().to_owned()),
                Channel::Email => facts.email.clone(),
            }?;
            Some(Route { channel, recipient })
        };
        let fallbacks: Vec<Route> = campaign
            .channels
            .iter()
            .skip_while(|c| **c != m.channel)
            .skip(1)
            .filter(|c| !m.promotional || facts.consent.allows(**c))
            .filter(|c| {
                **c != Channel::Zalo
                    || facts.zalo_user_id.is_some()
                    || facts.phone.is_vietnamese_mobile()
            })
            .filter_map(|c| route_of(*c))
            .collect();
        let data = if campaign.zalo_params.is_empty() {
            crate::zns_data::fixed(brand, campaign, facts, m, code.as_deref(), voucher)
        } else {
            crate::zns_data::declared(brand, campaign, facts, m, code.as_deref(), voucher)
        };
        let send_window = match (m.promotional, campaign.policy_in_force().allowed_hours) {
            (true, Some(h)) => Some(SendWindow {
                utc_offset_seconds: campaign.utc_offset.whole_seconds(),
                start_hour: h.start_hour,
                end_hour: h.end_hour,
            }),
            _ => None,
        };
        OutboxMessage {
            id: self.ids.new_id(),
            brand_id: brand.id,
            campaign_id: Some(campaign.id),
            customer_id: Some(m.customer_id),
            phone: Some(facts.phone.as_str().to_owned()),
            dedupe_key: m.dedupe_key.clone(),
            route: route_of(m.channel).unwrap_or(Route {
                channel: m.channel,
                recipient: facts.phone.as_str().to_owned(),
            }),
            fallbacks,
            template: campaign.zalo_template.clone(),
            subject: Some(campaign.name.clone()),
            body,
            data,
            promotional: m.promotional,
            send_window,
            sms: campaign.sms,
            zns_params: campaign.zns_param_types(),
            bonus_points: m.offer.as_ref().and_then(|o| o.bonus_points),
            opt_out: m
                .promotional
                .then(|| campaign.policy_in_force().opt_out_instruction)
                .filter(|i| !i.trim().is_empty()),
            status: OutboxStatus::Pending,
            attempts: 0,
            due_at: m.send_at,
            last_error: None,
            sent_at: None,
            delivered_at: None,
            provider_message_id: None,
            created_at: now,
        }
    }
}
