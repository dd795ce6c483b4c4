//! Campaign runs and previews: page by page over the brand's customers, planning each
//! page and writing its decisions in the page's transaction.

use super::facts::{facts_of, next_expiry};
use super::{
    CAMPAIGN_PAGE, CampaignError, CampaignRunReport, definition_json, find, find_locked,
    history_window, parse_definition,
};
use crate::Services;
use crate::account::load_brand;
use crate::brand_policy::{policy_of, under_brand};
use regulars_campaigns::Campaign;
use regulars_campaigns::plan::{
    CustomerFacts, Outcome, PlannedMessage, SentMessage, SkipReason, plan,
};
use regulars_domain::{BrandId, CampaignId, Channel, CustomerId, Money, Phone};
use regulars_ports::{
    CampaignMember, CampaignRecord, CampaignStatus, CustomerScores, MemberGroup, StoreError,
    Transaction,
};
use std::collections::{BTreeMap, HashMap};
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

    #[allow(clippy::too_many_arguments)]
    async fn plan_page(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        id: CampaignId,
        after: Option<CustomerId>,
        now: OffsetDateTime,
        write: bool,
        draft: Option<&Campaign>,
    ) -> Result<Option<PageResult>, CampaignError> {
        let b = load_brand::<CampaignError>(tx, brand).await?;
        let mut record = match draft {
            // A draft of a campaign not saved yet has spent nothing.
            Some(c) => match tx.campaigns().campaign(brand, id).await? {
                Some(record) => record,
                None => draft_record(brand, c, now)?,
            },
            None if write => find_locked(tx, brand, id).await?,
            None => find(tx, brand, id).await?,
        };
        if write {
            if record.status != CampaignStatus::Active {
                return Ok(None);
            }
            record.last_run_at = Some(now);
            tx.campaigns().update_campaign(&record).await?;
        }
        let mut campaign = match draft {
            Some(c) => c.clone(),
            None => parse_definition(&record)?,
        };
        let policy = policy_of(tx, brand).await?;
        under_brand(&mut campaign, &b, policy);
        crate::realtime::with_catalogue(tx, brand, &mut campaign).await?;
        let histories = tx
            .intelligence()
            .histories(brand, after, CAMPAIGN_PAGE)
            .await?;
        if histories.is_empty() {
            return Ok(None);
        }
        let ids: Vec<CustomerId> = histories.iter().map(|h| h.customer.id).collect();
        let scores: HashMap<CustomerId, CustomerScores> = tx
            .intelligence()
            .scores_of(brand, &ids)
            .await?
            .into_iter()
            .map(|s| (s.customer_id, s))
            .collect();
        let mut facts = Vec::with_capacity(histories.len());
        for h in &histories {
            let mut f = facts_of(h, scores.get(&h.customer.id), now);
            if matches!(
                campaign.trigger,
                regulars_campaigns::Trigger::PointsExpiring { .. }
            ) {
                f.expiring_points = next_expiry(tx, brand, h.customer.id, now).await?;
            }
            if matches!(
                campaign.trigger,
                regulars_campaigns::Trigger::VoucherExpiring { .. }
            ) {
                f.expiring_voucher =
                    crate::realtime::next_voucher_expiry(tx, brand, h.customer.id, now).await?;
            }
            facts.push(f);
        }
        let sms_promotion = crate::do_not_call::sends_promotional_sms(&campaign);
        crate::do_not_call::mark_listed(tx, &mut facts, sms_promotion).await?;
        let lookback = history_window(&campaign);
        let history: Vec<SentMessage> = tx
            .outbox()
            .history(
                brand,
                &ids,
                Some(id),
                regulars_campaigns::plan::shift_back(now, lookback),
            )
            .await?
            .into_iter()
            .filter_map(|r| {
                let phone = r
                    .phone
                    .as_deref()
                    .and_then(|p| Phone::parse(p, b.calling_code).ok())?;
                Some(SentMessage {
                    campaign_id: r.campaign_id.unwrap_or(id),
                    customer_id: r.customer_id,
                    phone,
                    send_at: r.at,
                    promotional: r.promotional,
                    dedupe_key: r.dedupe_key,
                })
            })
            .collect();
        let budget_used = Money::from_minor_units(record.budget_used_minor, b.currency);
        // Planning a page is CPU work: off the async executor, onto a blocking thread.
        let planned = tokio::task::spawn_blocking(move || {
            let planned = plan(&campaign, &facts, now, &history, budget_used);
            (campaign, facts, planned)
        })
        .await;
        let (campaign, facts, planned) = planned.map_err(|e| CampaignError::CorruptDefinition {
            campaign: id,
            message: format!("planning stopped: {e}"),
        })?;
        let plan = planned.map_err(|e| CampaignError::CorruptDefinition {
            campaign: id,
            message: e.to_string(),
        })?;
        let mut result = PageResult {
            customers: histories.len() as u64,
            last: histories.last().map(|h| h.customer.id),
            messages: 0,
            vouchers: 0,
            held_out: 0,
            skipped: BTreeMap::new(),
            budget_used_minor: plan
                .budget_used
                .to_minor_units()
                .unwrap_or(record.budget_used_minor),
            sms_segments: BTreeMap::new(),
            sms_over_cap: 0,
            sample: None,
        };
        let by_id: HashMap<CustomerId, &CustomerFacts> =
            facts.iter().map(|f| (f.customer_id, f)).collect();
        let mut members = Vec::new();
        let mut outbox = Vec::new();
        for outcome in &plan.outcomes {
            match outcome {
                Outcome::Skip {
                    customer_id,
                    reason,
                } => {
                    *result.skipped.entry(*reason).or_default() += 1;
                    if *reason == SkipReason::HoldOut {
                        members.push(CampaignMember {
                            campaign_id: id,
                            customer_id: *customer_id,
                            group: MemberGroup::Holdout,
                            at: now,
                            variant: None,
                        });
                    }
                }
                Outcome::Send(m) => {
                    result.messages += 1;
                    let sms = result.count_sms(&campaign, m);
                    if result.sample.is_none() {
                        result.sample = Some(sms);
                    }
                    let Some(f) = by_id.get(&m.customer_id) else {
                        continue;
                    };
                    members.push(CampaignMember {
                        campaign_id: id,
                        customer_id: m.customer_id,
                        group: MemberGroup::Treatment,
                        at: m.send_at,
                        variant: m.variant,
                    });
                    if m.offer.as_ref().is_some_and(|o| o.reward_id.is_some()) {
                        // A preview counts the vouchers a run would issue.
                        result.vouchers += 1;
                    }
                    if write {
                        let voucher = match m.offer.as_ref().and_then(|o| o.reward_id) {
                            Some(reward) => Some(self.campaign_voucher(&campaign, m, reward, now)?),
                            None => None,
                        };
                        outbox.push(self.outbox_message(
                            &b,
                            &campaign,
                            f,
                            m,
                            voucher.as_ref(),
                            now,
                        ));
                        if let Some(v) = voucher {
                            // A thank-you voucher is paid for by the order that triggered
                            // it: its full refund voids the voucher if still unused.
                            let issued_by = match campaign.trigger {
                                regulars_campaigns::Trigger::AfterPurchase { .. } => {
                                    f.last_order.map(|o| o.id)
                                }
                                _ => None,
                            };
                            tx.vouchers().insert_voucher(brand, &v, issued_by).await?;
                        }
                    }
                }
            }
        }
        if write {
            // Treatment and hold-out members are added apart: the report counts the
            // customers newly held out, not every new member.
            let (held, treated): (Vec<CampaignMember>, Vec<CampaignMember>) = members
                .into_iter()
                .partition(|m| m.group == MemberGroup::Holdout);
            tx.campaigns().add_members(brand, &treated).await?;
            result.held_out = tx.campaigns().add_members(brand, &held).await?;
            let written = tx.outbox().enqueue(&outbox).await?;
            if written != outbox.len() as u64 {
                // A message with the same key appeared since the history was read: the
                // transaction is redone from scratch rather than leaving a voucher whose
                // message was never written.
                return Err(CampaignError::Store(StoreError::Conflict(
                    "outbox (brand_id, dedupe_key): planned concurrently".into(),
                )));
            }
            record.budget_used_minor = result.budget_used_minor;
            record.updated_at = now;
            tx.campaigns().update_campaign(&record).await?;
        } else {
            result.held_out = members
                .iter()
                .filter(|m| m.group == MemberGroup::Holdout)
                .count() as u64;
        }
        Ok(Some(result))
    }
}

struct PageResult {
    customers: u64,
    last: Option<CustomerId>,
    messages: u64,
    vouchers: u64,
    held_out: u64,
    skipped: BTreeMap<SkipReason, u64>,
    budget_used_minor: i64,
    sms_segments: BTreeMap<u32, u64>,
    sms_over_cap: u64,
    /// The first message planned, as an SMS would carry it (before folding).
    sample: Option<String>,
}

impl PageResult {
    /// Counts what `m` would take as SMS, when the campaign sends SMS at all; returns
    /// its text as an SMS carries it (sample code and links, opt-out line), before any
    /// folding.
    fn count_sms(&mut self, campaign: &Campaign, m: &PlannedMessage) -> String {
        let text = sms_text(campaign, m);
        if !campaign.channels.contains(&Channel::Sms) {
            return text;
        }
        let length = match campaign.sms.prepare(&text) {
            Ok((_, length)) => length,
            Err(over) => {
                self.sms_over_cap += 1;
                over.length
            }
        };
        *self.sms_segments.entry(length.segments).or_default() += 1;
        text
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
