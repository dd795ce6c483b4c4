//! Campaign runs and previews: page by page over the brand's customers, planning each
//! page and writing its decisions in the page's transaction.

use super::{CAMPAIGN_PAGE, CampaignError, CampaignRunReport, definition_json};
use crate::Services;
use crate::account::load_brand;
use regulars_campaigns::Campaign;
use regulars_campaigns::plan::PlannedMessage;
use regulars_domain::{BrandId, CampaignId, CustomerId};
use regulars_ports::{CampaignRecord, CampaignStatus};
use std::collections::BTreeMap;
use time::OffsetDateTime;

impl Services {
    /// Plans a campaign now without writing anything: what a run would do.
    pub async fn preview_campaign(
        &self,
        brand: BrandId,
        id: CampaignId,
    ) -> Result<CampaignRunReport, CampaignError> {
        Ok(self.plan_pages(brand, id, false, None).await?.0)
    }

    /// Runs every active campaign of the brand once.
    pub async fn run_campaigns(
        &self,
        brand: BrandId,
    ) -> Result<Vec<CampaignRunReport>, CampaignError> {
        let active = self
            .transact("active_campaigns", |mut tx| async move {
                let result: Result<_, CampaignError> = async {
                    load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                    Ok(tx
                        .campaigns()
                        .campaigns_with_status(brand, CampaignStatus::Active)
                        .await?)
                }
                .await;
                (tx, result)
            })
            .await?;
        let mut reports = Vec::with_capacity(active.len());
        for record in active {
            reports.push(self.plan_pages(brand, record.id, true, None).await?.0);
        }
        Ok(reports)
    }

    /// Plans a campaign page by page; with `write`, each page's decisions are written in
    /// the page's transaction, after the campaign row is locked and re-read, so two runs
    /// at once plan each customer once and share one budget. A `draft` (never written)
    /// is planned in place of the stored definition, as campaign `id` (which need not
    /// exist yet). Also returns the first message planned, as an SMS would carry it.
    pub(crate) async fn plan_pages(
        &self,
        brand: BrandId,
        id: CampaignId,
        write: bool,
        draft: Option<&Campaign>,
    ) -> Result<(CampaignRunReport, Option<String>), CampaignError> {
        let write = write && draft.is_none();
        let mut sample: Option<String> = None;
        let mut report = CampaignRunReport {
            campaign_id: id,
            customers: 0,
            messages: 0,
            vouchers: 0,
            held_out: 0,
            skipped: BTreeMap::new(),
            budget_used_minor: 0,
            sms_segments: BTreeMap::new(),
            sms_over_cap: 0,
        };
        let mut cursor: Option<CustomerId> = None;
        loop {
            let now = self.clock.now();
            let page = self
                .transact("run_campaign_page", |mut tx| async move {
                    let result = self
                        .plan_page(tx.as_mut(), brand, id, cursor, now, write, draft)
                        .await;
                    (tx, result)
                })
                .await?;
            let Some(page) = page else {
                return Ok((report, sample));
            };
            if sample.is_none() {
                sample = page.sample.clone();
            }
            report.customers += page.customers;
            report.messages += page.messages;
            report.vouchers += page.vouchers;
            report.held_out += page.held_out;
            for (reason, n) in page.skipped {
                *report.skipped.entry(reason).or_default() += n;
            }
            report.budget_used_minor = page.budget_used_minor;
            for (segments, n) in page.sms_segments {
                *report.sms_segments.entry(segments).or_default() += n;
            }
            report.sms_over_cap += page.sms_over_cap;
            if page.customers < CAMPAIGN_PAGE {
                return Ok((report, sample));
            }
            cursor = page.last;
        }
    }
}

/// `m` as an SMS carries it: a voucher code and links as long as real ones, and the
/// opt-out line of a promotional message; before the campaign's folding.
pub(crate) fn sms_text(campaign: &Campaign, m: &PlannedMessage) -> String {
    let text = match m.offer {
        Some(_) => m.with_code(regulars_campaigns::sms::SAMPLE_CODE),
        None => m.text.clone(),
    }
    .replace(
        regulars_campaigns::render::RATING_LINK_MARKER,
        regulars_campaigns::sms::SAMPLE_RATING_LINK,
    );
    // A promotional SMS ends with the opt-out instruction: it is paid for too.
    if m.promotional {
        regulars_domain::with_opt_out(
            &text,
            &campaign.policy_in_force().opt_out_instruction,
            Some(regulars_campaigns::sms::SAMPLE_OPT_OUT_LINK),
        )
    } else {
        text
    }
}

/// The record a draft of a campaign not saved yet is planned under: nothing spent.
pub(super) fn draft_record(
    brand: BrandId,
    campaign: &Campaign,
    now: OffsetDateTime,
) -> Result<CampaignRecord, CampaignError> {
    Ok(CampaignRecord {
        id: campaign.id,
        brand_id: brand,
        name: campaign.name.clone(),
        definition: definition_json(campaign)?,
        status: CampaignStatus::Draft,
        budget_used_minor: 0,
        created_at: now,
        updated_at: now,
        last_run_at: None,
    })
}
